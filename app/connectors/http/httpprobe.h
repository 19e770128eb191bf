#pragma once
// Lives on the thread that creates it (usually the GUI thread) and never
// blocks it: every call returns at once and answers later on that thread.

#include "app/connectors/http/httptypes.h"
#include "models/result.h"

#include <QHash>
#include <QObject>
#include <QPointer>

#include <functional>

class QNetworkAccessManager;
class QNetworkReply;

namespace Pilothouse {

// One HTTP(S) request measured the way an operator's curl would: status,
// latency, a body excerpt, optionally sent to a chosen address while the URL's
// name stays the Host header and the TLS name (curl --resolve). Any HTTP
// answer, 503 included, is a value; an Error means no answer came (refused,
// TLS failure, timeout) and says where and why.
class HttpProbe final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(HttpProbe)

public:
    using RequestId = quint64;
    using Callback = std::function<void(Result<HttpProbeResult>)>;

    explicit HttpProbe(QObject *parent = nullptr);
    ~HttpProbe() override;

    // The callback runs exactly once on this thread, unless `context` is
    // destroyed first or this probe is destroyed.
    RequestId get(const HttpProbeRequest &request, QObject *context, Callback done);
    // The callback of `id` runs at once with a "cancelled" Error.
    void cancel(RequestId id);
    void cancelAll();
    int pendingCount() const { return static_cast<int>(m_pending.size()); }

    // "GET https://app.pilothouse.lab/healthz via 10.213.0.11:443": how errors
    // name a request.
    static QString describe(const HttpProbeRequest &request);

private:
    struct Pending
    {
        QNetworkReply *reply = nullptr;
        HttpProbeRequest request;
        QPointer<QObject> context;
        bool hasContext = false;
        Callback done;
        qint64 startedNs = 0;
        qint64 firstByteNs = 0;
        QByteArray body;
        qint64 bodySize = 0;
        QStringList sslErrors;
        bool timedOut = false;
        bool cancelled = false;
    };

    void onReadyRead(RequestId id);
    void onFinished(RequestId id);
    QNetworkAccessManager *networkFor(const QList<QSslCertificate> &caCertificates);

    // One manager per set of trusted CAs: Qt keeps a connection to a host
    // with the TLS settings of the request that opened it, so requests with
    // other trust must never share one.
    QHash<QByteArray, QNetworkAccessManager *> m_networks;
    RequestId m_nextId = 1;
    QHash<RequestId, Pending> m_pending;
};

} // namespace Pilothouse
