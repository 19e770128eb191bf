#pragma once
// Lives on the thread of the EtcdClient it uses.

#include "models/result.h"

#include <QByteArray>
#include <QElapsedTimer>
#include <QObject>
#include <QPointer>
#include <QTimer>

namespace Pilothouse {

class EtcdClient;

// A lease-backed lock in etcd, the way operations take one before acting:
// grant a lease, then txn(create_revision(key) == 0 -> put key=owner with the
// lease), keep the lease alive every ttl/3 while held, revoke it to release.
// If this console dies, etcd deletes the key when the lease expires.
class EtcdLock final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(EtcdLock)

public:
    enum class State { Idle, Acquiring, Held, Releasing };

    // `owner` is stored as the key's value, so that a loser can say who holds it.
    EtcdLock(EtcdClient *client, const QByteArray &key, const QByteArray &owner,
             int ttlSeconds = 15, QObject *parent = nullptr);
    ~EtcdLock() override;

    State state() const { return m_state; }
    QByteArray key() const { return m_key; }
    qint64 lease() const { return m_lease; }

    // One attempt; acquired() or busy() or failed() follows.
    void acquire();
    // Revokes the lease (deleting the key); released() or failed() follows.
    void release();

Q_SIGNALS:
    void acquired(qint64 revision);
    // Someone else holds it: their value and lease. Our own lease is revoked.
    void busy(const QByteArray &holder, qint64 holderLease);
    // Held, but the lease could not be kept alive: another may take it now.
    void lost(const Pilothouse::Error &error);
    void released();
    void failed(const Pilothouse::Error &error);

private:
    void keepAlive();
    void setIdle();

    QPointer<EtcdClient> m_client;
    QByteArray m_key;
    QByteArray m_owner;
    int m_ttlSeconds;
    State m_state = State::Idle;
    qint64 m_lease = 0;
    QTimer m_keepAlive;
    QElapsedTimer m_sinceRenewed;
};

} // namespace Pilothouse
