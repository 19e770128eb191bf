#include "app/connectors/etcd/etcdlock.h"

#include "app/connectors/etcd/etcdclient.h"
#include "app/connectors/etcd/etcderror_p.h"
#include "app/connectors/etcd/etcdjson.h"

namespace Pilothouse {

EtcdLock::EtcdLock(EtcdClient *client, const QByteArray &key, const QByteArray &owner,
                   int ttlSeconds, QObject *parent)
    : QObject(parent)
    , m_client(client)
    , m_key(key)
    , m_owner(owner)
    , m_ttlSeconds(qMax(2, ttlSeconds))
{
    // A third of the TTL leaves two more tries before etcd lets the lease go.
    m_keepAlive.setInterval(m_ttlSeconds * 1000 / 3);
    connect(&m_keepAlive, &QTimer::timeout, this, &EtcdLock::keepAlive);
}

EtcdLock::~EtcdLock()
{
    // Best effort: a lock must not outlive its holder longer than needed.
    if (m_client && m_lease != 0)
        m_client->leaseRevoke(m_lease, m_client, [](Result<EtcdHeader>) {});
}

void EtcdLock::setIdle()
{
    m_keepAlive.stop();
    m_state = State::Idle;
    m_lease = 0;
}

void EtcdLock::acquire()
{
    if (m_state != State::Idle || !m_client)
        return;
    m_state = State::Acquiring;
    m_client->leaseGrant(m_ttlSeconds, this, [this](Result<EtcdLease> lease) {
        if (!lease) {
            setIdle();
            Q_EMIT failed(lease.error());
            return;
        }
        m_lease = lease.value().id;
        m_client->txn(EtcdJson::lockTxn(m_key, m_owner, m_lease), this,
                      [this](Result<EtcdTxnResult> r) {
                          if (!r) {
                              const qint64 lease = m_lease;
                              setIdle();
                              m_client->leaseRevoke(lease, m_client, [](Result<EtcdHeader>) {});
                              Q_EMIT failed(r.error());
                              return;
                          }
                          if (r.value().succeeded) {
                              m_state = State::Held;
                              m_sinceRenewed.start();
                              m_keepAlive.start();
                              Q_EMIT acquired(r.value().header.revision);
                              return;
                          }
                          QByteArray holder;
                          qint64 holderLease = 0;
                          const auto &responses = r.value().responses;
                          if (!responses.isEmpty() && !responses.at(0).kvs.isEmpty()) {
                              holder = responses.at(0).kvs.at(0).value;
                              holderLease = responses.at(0).kvs.at(0).lease;
                          }
                          const qint64 lease = m_lease;
                          setIdle();
                          m_client->leaseRevoke(lease, m_client, [](Result<EtcdHeader>) {});
                          Q_EMIT busy(holder, holderLease);
                      });
    });
}

void EtcdLock::keepAlive()
{
    if (m_state != State::Held || !m_client)
        return;
    m_client->leaseKeepAlive(m_lease, this, [this](Result<EtcdLease> r) {
        if (m_state != State::Held)
            return;
        if (r && r.value().ttl > 0) {
            m_sinceRenewed.restart();
            return;
        }
        if (r) {
            setIdle();
            Q_EMIT lost(makeError(QStringLiteral("%1: the lease of lock %2 expired; another "
                                                 "console may hold it now")
                                      .arg(m_client->describe(), QString::fromUtf8(m_key))));
            return;
        }
        // A missed renewal is not yet a loss: the lease lives until its TTL.
        if (m_sinceRenewed.elapsed() >= qint64(m_ttlSeconds) * 1000) {
            setIdle();
            Q_EMIT lost(r.error());
        }
    });
}

void EtcdLock::release()
{
    if (m_state != State::Held || !m_client)
        return;
    m_state = State::Releasing;
    m_keepAlive.stop();
    m_client->leaseRevoke(m_lease, this, [this](Result<EtcdHeader> r) {
        setIdle();
        if (r)
            Q_EMIT released();
        else
            Q_EMIT failed(r.error());
    });
}

} // namespace Pilothouse
