#pragma once
// Lives on the thread that creates it (usually the GUI thread) and never
// blocks it: every call returns at once and answers later on that thread.

#include "app/connectors/http/httptypes.h"
#include "models/result.h"

#include <QHash>
#include <QObject>
#include <QPointer>

#include <functional>

class QSslSocket;

namespace Pilothouse {

// A real TLS handshake (QSslSocket) with a server at an address, sending a
// chosen SNI name, to read the certificate chain it presents. An untrusted or
// mismatched chain is still read: trust is reported beside it, not as an error.
// Errors mean no handshake: refused, timeout, not TLS.
class TlsProbe final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TlsProbe)

public:
    using RequestId = quint64;
    using Callback = std::function<void(Result<TlsProbeResult>)>;

    explicit TlsProbe(QObject *parent = nullptr);
    ~TlsProbe() override;

    // The callback runs exactly once on this thread, unless `context` is
    // destroyed first or this probe is destroyed.
    RequestId probe(const TlsProbeRequest &request, QObject *context, Callback done);
    // The callback of `id` runs at once with a "cancelled" Error.
    void cancel(RequestId id);
    int pendingCount() const { return static_cast<int>(m_pending.size()); }

    // "app.pilothouse.lab via 10.213.0.11:443"
    static QString describe(const TlsProbeRequest &request);

private:
    struct Pending
    {
        QSslSocket *socket = nullptr;
        TlsProbeRequest request;
        QPointer<QObject> context;
        bool hasContext = false;
        Callback done;
        qint64 startedNs = 0;
        QStringList trustErrors;
    };

    void finish(RequestId id, Result<TlsProbeResult> result);

    RequestId m_nextId = 1;
    QHash<RequestId, Pending> m_pending;
};

} // namespace Pilothouse
