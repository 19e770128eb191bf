#include "app/operations/operationlock.h"

#include "app/connectors/etcd/etcdclient.h"
#include "app/connectors/etcd/etcdclusterprobe.h"
#include "app/connectors/etcd/etcdjson.h"
#include "app/operations/audittrail.h"

#include <QCoreApplication>
#include <QJsonDocument>
#include <QSysInfo>

#include <memory>

namespace Pilothouse {
namespace {

// An Error with only the parts that are known.
Error problem(const QString &message, const QString &file = {}, int line = 0)
{
    return Error{message, file, line, 0};
}

} // namespace

// --- OperationLockHolder ---

OperationLockHolder OperationLockHolder::current(const QString &operation, const QString &reason)
{
    OperationLockHolder h;
    h.operation = operation;
    h.reason = reason;
    h.user = AuditTrail::localUser();
    h.host = QSysInfo::machineHostName();
    h.pid = QCoreApplication::applicationPid();
    h.since = QDateTime::currentDateTimeUtc();
    return h;
}

QJsonObject OperationLockHolder::toJson() const
{
    QJsonObject o{
        {QStringLiteral("operation"), operation},
        {QStringLiteral("user"), user},
        {QStringLiteral("host"), host},
        {QStringLiteral("pid"), pid},
        {QStringLiteral("since"), since.toUTC().toString(Qt::ISODateWithMs)},
        {QStringLiteral("reason"), reason},
    };
    if (lease != 0)
        o.insert(QStringLiteral("lease"), QString::number(lease));
    return o;
}

QByteArray OperationLockHolder::toValue() const
{
    QJsonObject o = toJson();
    o.remove(QStringLiteral("lease"));
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

std::optional<OperationLockHolder> OperationLockHolder::fromValue(const QByteArray &value)
{
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(value, &error);
    if (error.error != QJsonParseError::NoError || !doc.isObject())
        return std::nullopt;
    const QJsonObject o = doc.object();
    if (!o.value(QStringLiteral("operation")).isString())
        return std::nullopt;
    OperationLockHolder h;
    h.operation = o.value(QStringLiteral("operation")).toString();
    h.user = o.value(QStringLiteral("user")).toString();
    h.host = o.value(QStringLiteral("host")).toString();
    h.pid = o.value(QStringLiteral("pid")).toInteger();
    h.since = QDateTime::fromString(o.value(QStringLiteral("since")).toString(), Qt::ISODateWithMs);
    h.reason = o.value(QStringLiteral("reason")).toString();
    return h;
}

QString OperationLockHolder::describe() const
{
    const QDateTime local = since.toLocalTime();
    const QString when = local.date() == QDate::currentDate()
                             ? local.toString(QStringLiteral("HH:mm:ss"))
                             : local.toString(QStringLiteral("yyyy-MM-dd HH:mm:ss"));
    QString text = QStringLiteral("%1 by %2@%3 since %4 (pid %5)")
                       .arg(operation, user, host, since.isValid() ? when : QStringLiteral("?"))
                       .arg(pid);
    if (!reason.isEmpty())
        text += QStringLiteral(", reason: ") + reason;
    return text;
}

// --- OperationLock ---

OperationLock::OperationLock(const QList<EtcdClusterProbe::Member> &members, const QByteArray &key,
                             const OperationLockHolder &me, QObject *parent)
    : QObject(parent)
    , m_members(members)
    , m_key(key)
    , m_me(me)
{
    for (const auto &m : members)
        m_clients.append(new EtcdClient(m.endpoint, m.name, this));
    setTtl(DefaultTtlSeconds);
    connect(&m_keepAlive, &QTimer::timeout, this, &OperationLock::keepAlive);
}

OperationLock::~OperationLock()
{
    // Best effort, through a client that outlives us briefly: the key must
    // not outlive its holder longer than needed.
    if (m_lease != 0 && !m_clients.isEmpty()) {
        EtcdClient *c = client();
        c->setParent(nullptr);
        c->leaseRevoke(m_lease, c, [c](Result<EtcdHeader>) { c->deleteLater(); });
        m_clients.removeAll(c);
    }
}

QByteArray OperationLock::keyFor(const QString &stack)
{
    return "/pilothouse/" + stack.toUtf8() + "/lock";
}

std::optional<Error> OperationLock::quorumRefusal(const EtcdState &state, const QString &operation)
{
    if (state.quorum)
        return std::nullopt;
    QStringList down;
    for (const EtcdMemberState &m : state.members) {
        if (!m.healthy)
            down.append(m.name + (m.freshness.error.isEmpty()
                                      ? QString()
                                      : QStringLiteral(" (%1)").arg(m.freshness.error)));
    }
    const int size = state.clusterSize > 0 ? state.clusterSize : int(state.members.size());
    return problem(
        QStringLiteral("refusing to start %1: etcd has no quorum (%2 of %3 members "
                       "healthy, %4 needed; down: %5). Without quorum the operation lock "
                       "cannot be taken or kept and the audit trail cannot be stored, so "
                       "another console could act at the same time. Bring the etcd "
                       "members back first.")
            .arg(operation)
            .arg(state.healthyMembers)
            .arg(size)
            .arg(size / 2 + 1)
            .arg(down.isEmpty() ? QStringLiteral("none answered") : down.join(u", ")));
}

void OperationLock::setTtl(int seconds)
{
    m_ttlSeconds = qMax(3, seconds);
    // A third of the TTL leaves two more tries before etcd lets the lease go.
    m_keepAlive.setInterval(m_ttlSeconds * 1000 / 3);
}

void OperationLock::setTimeout(int msec)
{
    for (EtcdClient *c : std::as_const(m_clients))
        c->setTimeout(msec);
}

EtcdClient *OperationLock::client() const
{
    return m_clients.at(m_member % m_clients.size());
}

void OperationLock::nextMember()
{
    m_member = (m_member + 1) % int(m_clients.size());
}

void OperationLock::setIdle()
{
    m_keepAlive.stop();
    m_state = State::Idle;
    m_lease = 0;
    m_renewing = false;
}

void OperationLock::fail(const Error &error)
{
    const qint64 lease = m_lease;
    setIdle();
    if (lease != 0)
        client()->leaseRevoke(lease, this, [](Result<EtcdHeader>) {});
    Q_EMIT failed(error);
}

void OperationLock::acquire()
{
    if (m_state != State::Idle)
        return;
    if (m_clients.isEmpty()) {
        QMetaObject::invokeMethod(
            this,
            [this] {
                Q_EMIT failed(problem(QStringLiteral(
                    "the inventory names no etcd members, so no operation lock can be taken")));
            },
            Qt::QueuedConnection);
        return;
    }
    m_me.since = QDateTime::currentDateTimeUtc();
    if (!m_requireQuorum) {
        m_state = State::Acquiring;
        grant(0);
        return;
    }
    m_state = State::CheckingQuorum;
    delete m_probe;
    m_probe = new EtcdClusterProbe(m_members, this);
    m_probe->setTimeout(client()->timeout());
    connect(m_probe, &EtcdClusterProbe::finished, this, [this](const EtcdReading &reading) {
        if (m_state != State::CheckingQuorum)
            return;
        if (auto refusal = quorumRefusal(reading.state, m_me.operation)) {
            setIdle();
            Q_EMIT failed(*refusal);
            return;
        }
        m_state = State::Acquiring;
        grant(0);
    });
    m_probe->refresh();
}

void OperationLock::grant(int attempt)
{
    client()->leaseGrant(m_ttlSeconds, this, [this, attempt](Result<EtcdLease> r) {
        if (m_state != State::Acquiring)
            return;
        if (!r) {
            nextMember();
            if (attempt + 1 < m_clients.size())
                grant(attempt + 1);
            else
                fail(r.error());
            return;
        }
        m_lease = r.value().id;
        tryLock(0);
    });
}

void OperationLock::tryLock(int attempt)
{
    client()->txn(
        EtcdJson::lockTxn(m_key, m_me.toValue(), m_lease), this,
        [this, attempt](Result<EtcdTxnResult> r) {
            if (m_state != State::Acquiring)
                return;
            if (!r) {
                // The txn may have gone through before the answer was lost:
                // a retry then finds our own lease on the key.
                nextMember();
                if (attempt + 1 < m_clients.size())
                    tryLock(attempt + 1);
                else
                    fail(r.error());
                return;
            }
            std::optional<EtcdKeyValue> kv;
            const auto &responses = r.value().responses;
            if (!r.value().succeeded && !responses.isEmpty() && !responses.first().kvs.isEmpty())
                kv = responses.first().kvs.first();
            if (r.value().succeeded || (kv && kv->lease == m_lease)) {
                m_state = State::Held;
                m_sinceRenewed.start();
                m_keepAlive.start();
                Q_EMIT acquired();
                return;
            }
            OperationLockHolder holder;
            if (kv) {
                if (auto parsed = OperationLockHolder::fromValue(kv->value))
                    holder = *parsed;
                else
                    holder.operation = QString::fromUtf8(kv->value);
                holder.lease = kv->lease;
            }
            const qint64 lease = m_lease;
            setIdle();
            client()->leaseRevoke(lease, this, [](Result<EtcdHeader>) {});
            Q_EMIT refused(holder, QStringLiteral("another operation holds the cluster's lock "
                                                  "(%1): %2")
                                       .arg(QString::fromUtf8(m_key), holder.describe()));
        });
}

void OperationLock::keepAlive()
{
    if (m_state != State::Held || m_renewing)
        return;
    m_renewing = true;
    client()->leaseKeepAlive(m_lease, this, [this](Result<EtcdLease> r) {
        m_renewing = false;
        if (m_state != State::Held)
            return;
        if (r && r.value().ttl > 0) {
            m_sinceRenewed.restart();
            return;
        }
        if (r) {
            setIdle();
            Q_EMIT lost(
                problem(QStringLiteral("the lease of the operation lock %1 expired: another "
                                       "console may hold it now; stop acting")
                            .arg(QString::fromUtf8(m_key))));
            return;
        }
        // Not an answer from etcd: try another member next time. Only etcd
        // saying the lease is gone means the lock is lost.
        nextMember();
        Q_EMIT renewalFailing(r.error(), double(m_sinceRenewed.elapsed()) / 1000.0);
        QTimer::singleShot(500, this, &OperationLock::keepAlive);
    });
}

void OperationLock::release()
{
    if (m_state != State::Held)
        return;
    m_state = State::Releasing;
    m_keepAlive.stop();
    revoke(0);
}

void OperationLock::revoke(int attempt)
{
    client()->leaseRevoke(m_lease, this, [this, attempt](Result<EtcdHeader> r) {
        if (m_state != State::Releasing)
            return;
        // NOT_FOUND: the lease already expired; the key went with it.
        if (r || r.error().message.contains(QStringLiteral("NOT_FOUND"))) {
            setIdle();
            Q_EMIT released();
            return;
        }
        nextMember();
        if (attempt + 1 < m_clients.size()) {
            revoke(attempt + 1);
            return;
        }
        const int ttl = m_ttlSeconds;
        setIdle();
        Q_EMIT failed(problem(QStringLiteral("%1; the lock is given up and expires within %2 s")
                                  .arg(r.error().message)
                                  .arg(ttl)));
    });
}

void OperationLock::cancelAcquire()
{
    if (m_state != State::CheckingQuorum && m_state != State::Acquiring)
        return;
    // Answers still on their way are ignored (they check the state); a lock
    // the txn may already have taken goes with the lease.
    const qint64 lease = m_lease;
    setIdle();
    if (lease != 0)
        client()->leaseRevoke(lease, this, [](Result<EtcdHeader>) {});
}

void OperationLock::readHolder(QObject *context,
                               std::function<void(Result<std::optional<OperationLockHolder>>)> done)
{
    if (m_clients.isEmpty()) {
        done(problem(QStringLiteral("the inventory names no etcd members")));
        return;
    }
    EtcdRangeRequest request;
    request.key = m_key;
    client()->range(request, context, [done](Result<EtcdRangeResult> r) {
        if (!r) {
            done(r.error());
            return;
        }
        if (r.value().kvs.isEmpty()) {
            done(std::optional<OperationLockHolder>());
            return;
        }
        const EtcdKeyValue &kv = r.value().kvs.first();
        OperationLockHolder h;
        if (auto parsed = OperationLockHolder::fromValue(kv.value))
            h = *parsed;
        else
            h.operation = QString::fromUtf8(kv.value);
        h.lease = kv.lease;
        done(std::optional<OperationLockHolder>(h));
    });
}

RunbookNode OperationLock::acquireStep(int timeoutMs)
{
    QPointer<OperationLock> self(this);
    RunbookNode node = RunbookNode::step(
        QStringLiteral("take the operation lock"), timeoutMs, [self](RunbookStep::Done done) {
            if (!self) {
                done(problem(QStringLiteral("the operation lock is gone")));
                return;
            }
            if (self->isHeld()) {
                done(QStringLiteral("already held"));
                return;
            }
            // One answer per attempt: the three connections go together.
            auto connections = std::make_shared<QList<QMetaObject::Connection>>();
            const auto finish = [connections, done](Result<QString> r) {
                for (const auto &c : std::as_const(*connections))
                    QObject::disconnect(c);
                done(std::move(r));
            };
            connections->append(
                QObject::connect(self, &OperationLock::acquired, self, [self, finish] {
                    finish(QStringLiteral("%1 held by %2")
                               .arg(QString::fromUtf8(self->key()), self->me().describe()));
                }));
            connections->append(
                QObject::connect(self, &OperationLock::refused, self,
                                 [finish](const OperationLockHolder &, const QString &message) {
                                     finish(problem(message));
                                 }));
            connections->append(QObject::connect(self, &OperationLock::failed, self,
                                                 [finish](const Error &e) { finish(e); }));
            self->acquire();
        });
    node.withAbort([self] {
        if (self)
            self->cancelAcquire();
    });
    node.withUndo(
        [self](RunbookStep::Done done) {
            if (!self || !self->isHeld()) {
                done(QStringLiteral("not held"));
                return;
            }
            auto connections = std::make_shared<QList<QMetaObject::Connection>>();
            const auto finish = [connections, done](Result<QString> r) {
                for (const auto &c : std::as_const(*connections))
                    QObject::disconnect(c);
                done(std::move(r));
            };
            connections->append(QObject::connect(self, &OperationLock::released, self,
                                                 [finish] { finish(QStringLiteral("released")); }));
            connections->append(QObject::connect(self, &OperationLock::failed, self,
                                                 [finish](const Error &e) { finish(e); }));
            self->release();
        },
        RunbookStep::UndoPolicy::Always, 15000);
    return node;
}

} // namespace Pilothouse
