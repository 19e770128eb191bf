#pragma once
// OperationLock lives on the thread that creates it (usually the GUI thread)
// and never blocks it; OperationLockHolder is a value usable anywhere.

#include "app/connectors/etcd/etcdclusterprobe.h"
#include "app/operations/runbook.h"
#include "models/clustersnapshot.h"
#include "models/result.h"

#include <QByteArray>
#include <QDateTime>
#include <QElapsedTimer>
#include <QJsonObject>
#include <QObject>
#include <QPointer>
#include <QTimer>

#include <functional>
#include <optional>

namespace Pilothouse {

class EtcdClient;
class EtcdClusterProbe;

// Who holds (or asks for) the lock: the JSON value of the lock key.
struct OperationLockHolder
{
    QString operation; // "switchover", "drill kill-primary", ...
    QString user;
    QString host;
    qint64 pid = 0;
    QDateTime since; // UTC
    QString reason;
    qint64 lease = 0; // the holder's etcd lease; known when read from etcd

    // This process: $USER, the machine's host name, its pid, now.
    static OperationLockHolder current(const QString &operation, const QString &reason);

    // {"operation","user","host","pid","since","reason"}, compact.
    QByteArray toValue() const;
    QJsonObject toJson() const; // the value's fields plus "lease"
    // nullopt when `value` is not such an object (a lock taken by another tool).
    static std::optional<OperationLockHolder> fromValue(const QByteArray &value);
    // "switchover by alice@ws1 since 10:02:11 (pid 123), reason: planned kernel update"
    QString describe() const;
};

// The one lock of a cluster: an etcd key attached to a lease, taken with a
// conditional txn (create_revision == 0), renewed every ttl/3 while held and
// revoked on release; if the console dies, etcd deletes it when the lease
// expires. Calls go to the first member that answers, so losing one etcd
// member (as a drill does on purpose) does not lose the lock.
class OperationLock final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(OperationLock)

public:
    enum class State { Idle, CheckingQuorum, Acquiring, Held, Releasing };

    static constexpr int DefaultTtlSeconds = 15;

    // `key`: keyFor(stack) for a real cluster. `me`: what the value will say.
    OperationLock(const QList<EtcdClusterProbe::Member> &members, const QByteArray &key,
                  const OperationLockHolder &me, QObject *parent = nullptr);
    // Revokes the lease if held (best effort).
    ~OperationLock() override;

    // "/pilothouse/<stack>/lock"
    static QByteArray keyFor(const QString &stack);

    // Why a destructive operation must not start with this etcd state, or
    // nullopt when etcd has quorum.
    static std::optional<Error> quorumRefusal(const EtcdState &state, const QString &operation);

    void setTtl(int seconds);
    int ttl() const { return m_ttlSeconds; }
    // Per remote call (default 5 s).
    void setTimeout(int msec);
    // Default true: acquire() first probes every member and fails with
    // quorumRefusal() when etcd has no quorum.
    void setRequireQuorum(bool require) { m_requireQuorum = require; }

    State state() const { return m_state; }
    bool isHeld() const { return m_state == State::Held; }
    QByteArray key() const { return m_key; }
    qint64 lease() const { return m_lease; }
    const OperationLockHolder &me() const { return m_me; }

    // One attempt: acquired(), refused() or failed() follows.
    void acquire();
    // Gives up an acquire() in progress: no signal follows, and a lock its
    // txn may already have taken is revoked.
    void cancelAcquire();
    // released() or failed() follows; the lock is given up either way (at
    // worst it expires with its lease).
    void release();
    // Who holds it now; nullopt when nobody does.
    void readHolder(QObject *context,
                    std::function<void(Result<std::optional<OperationLockHolder>>)> done);

    // A runbook step "take the operation lock" (refused or failed → the step
    // fails with the holder or the reason), whose undo always releases it.
    RunbookNode acquireStep(int timeoutMs = 20000);

Q_SIGNALS:
    void acquired();
    // Someone holds it; `message` says who and since when.
    void refused(const Pilothouse::OperationLockHolder &holder, const QString &message);
    void failed(const Pilothouse::Error &error);
    // etcd says our lease is gone: someone else may hold the lock now. Stop acting.
    void lost(const Pilothouse::Error &error);
    // A renewal did not get through (member down, no quorum); the lock holds
    // until etcd says otherwise, but nobody could confirm it for `seconds`.
    void renewalFailing(const Pilothouse::Error &error, double seconds);
    void released();

private:
    EtcdClient *client() const;
    void nextMember();
    void grant(int attempt);
    void tryLock(int attempt);
    void keepAlive();
    void revoke(int attempt);
    void setIdle();
    void fail(const Error &error);

    QList<EtcdClusterProbe::Member> m_members;
    QList<EtcdClient *> m_clients;
    EtcdClusterProbe *m_probe = nullptr;
    QByteArray m_key;
    OperationLockHolder m_me;
    int m_ttlSeconds = DefaultTtlSeconds;
    bool m_requireQuorum = true;
    int m_member = 0;
    State m_state = State::Idle;
    qint64 m_lease = 0;
    QTimer m_keepAlive;
    QElapsedTimer m_sinceRenewed;
    bool m_renewing = false;
};

} // namespace Pilothouse

Q_DECLARE_METATYPE(Pilothouse::OperationLockHolder)
