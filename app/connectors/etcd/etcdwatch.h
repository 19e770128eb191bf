#pragma once
// Lives on the thread of the EtcdClient that created it.

#include "app/connectors/etcd/etcdtypes.h"
#include "models/result.h"

#include <QByteArray>
#include <QObject>
#include <QPointer>
#include <QTimer>

class QNetworkReply;

namespace Pilothouse {

// One open watch stream of the v3 JSON gateway (POST /v3/watch). The gateway
// answers with newline-delimited JSON messages, split across chunks
// arbitrarily; they are parsed as they arrive and each event is emitted on
// its own, in order. Made by EtcdClient::watch().
class EtcdWatch final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(EtcdWatch)

public:
    // Takes over `reply` (a streaming POST). `what` names member and call in
    // errors; `createTimeoutMs` bounds the wait for etcd to confirm the watch.
    EtcdWatch(QNetworkReply *reply, const QString &what, int createTimeoutMs,
              QObject *parent = nullptr);
    ~EtcdWatch() override;

    bool isActive() const { return m_active; }
    bool isCreated() const { return m_created; }
    qint64 watchId() const { return m_watchId; }
    // The newest revision seen (the header's); resume a watch from this + 1.
    qint64 revision() const { return m_revision; }

    // Closes the stream. No signal follows.
    void cancel();

Q_SIGNALS:
    // etcd registered the watch; `revision` is the store's revision then.
    void created(qint64 revision);
    // One change, in the order etcd reports them. `revision` is the header
    // revision of the message that carried it.
    void eventReceived(const Pilothouse::EtcdEvent &event, qint64 revision);
    // The stream ended without cancel(): member gone, watch cancelled by etcd
    // (e.g. start revision compacted), malformed data or no confirmation in time.
    void failed(const Pilothouse::Error &error);

private:
    void onReadyRead();
    void onFinished();
    void handleLine(const QByteArray &line);
    void fail(const QString &message);

    QPointer<QNetworkReply> m_reply;
    QString m_what;
    QByteArray m_buffer;
    QTimer m_createDeadline;
    qint64 m_watchId = 0;
    qint64 m_revision = 0;
    bool m_active = true;
    bool m_created = false;
};

} // namespace Pilothouse
