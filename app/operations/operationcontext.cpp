#include "app/operations/operationcontext.h"

#include "app/connectors/docker/dockerclient.h"
#include "app/connectors/docker/dockerexec.h"
#include "app/connectors/docker/dockerreply.h"
#include "app/connectors/etcd/etcdclusterprobe.h"
#include "app/connectors/pg/pgconnection.h"
#include "app/connectors/ssh/sshexecjob.h"
#include "app/connectors/ssh/sshoptions.h"
#include "app/connectors/ssh/sshsession.h"
#include "app/inventory/credentials.h"
#include "app/monitor/clustermonitor.h"
#include "app/operations/operationlock.h"
#include "app/operations/runbook.h"

#include <QFile>
#include <QPointer>
#include <QTimer>
#include <QUrlQuery>

namespace Pilothouse {

namespace {

constexpr auto DockerSocket = "/var/run/docker.sock";
constexpr int MaxResultChars = 400;

QString tailOf(const QByteArray &bytes, int lines = 3)
{
    QStringList all = QString::fromUtf8(bytes).trimmed().split(u'\n', Qt::SkipEmptyParts);
    while (all.size() > lines)
        all.removeFirst();
    return all.join(QStringLiteral(" | "));
}

QString clip(const QString &text)
{
    return text.size() <= MaxResultChars ? text : text.left(MaxResultChars) + QStringLiteral("…");
}

Error makeError(const QString &message)
{
    return Error{message, {}, 0, 0};
}

QString outputOf(int exitCode, const QByteArray &out, const QByteArray &err)
{
    const QString e = tailOf(err);
    const QString o = tailOf(out);
    QString text = QStringLiteral("exit %1").arg(exitCode);
    if (!e.isEmpty() || !o.isEmpty())
        text += QStringLiteral(": ") +
                (e.isEmpty() ? o : (o.isEmpty() ? e : e + QStringLiteral(" | ") + o));
    return text;
}

QString sqlSummary(const Result<PgReply> &r)
{
    if (!r)
        return r.error().message;
    QStringList parts;
    for (const PgRows &rows : r.value()) {
        QString part = rows.commandTag.isEmpty() ? QStringLiteral("%1 row(s)").arg(rows.rows.size())
                                                 : rows.commandTag;
        if (!rows.rows.isEmpty() && !rows.columns.isEmpty())
            part += QStringLiteral(" (%1=%2)").arg(rows.columns.constFirst(),
                                                   rows.text(0, rows.columns.constFirst(),
                                                             QStringLiteral("NULL")));
        parts.append(part);
    }
    return parts.isEmpty() ? QStringLiteral("ok") : parts.join(QStringLiteral("; "));
}

} // namespace

struct OperationContext::HostLink
{
    QString name;
    SshSession *ssh = nullptr;
    DockerClient *docker = nullptr;
    bool forwarding = false;
    QList<std::function<void(const Result<DockerClient *> &)>> waiters;
};

OperationContext::OperationContext(Inventory inventory, AuditTrail *audit, OperationLock *lock,
                                   const QString &operation, const QString &reason,
                                   QObject *parent)
    : QObject(parent)
    , m_inventory(std::move(inventory))
    , m_audit(audit)
    , m_lock(lock)
    , m_operation(operation)
    , m_reason(reason)
{
    if (m_audit) {
        m_audit->setOperation(operation, reason);
        if (!m_inventory.settings.secretsDir.isEmpty())
            m_audit->masker().addSecretsDir(m_inventory.settings.secretsDir);
        for (const QString &value : Credentials::loadedValues(m_inventory))
            m_audit->masker().addSecret(value);
    }
}

OperationContext::~OperationContext()
{
    // Callbacks are not called any more: abort what runs, drop the rest.
    const auto calls = m_calls;
    m_calls.clear();
    for (const Call &c : calls) {
        if (c.abort)
            c.abort();
    }
    qDeleteAll(m_sql);
    for (HostLink *l : std::as_const(m_hosts)) {
        delete l->docker;
        delete l->ssh;
        delete l;
    }
}

void OperationContext::setSnapshotSource(std::function<ClusterSnapshot()> source)
{
    m_snapshotSource = std::move(source);
}

ClusterSnapshot OperationContext::snapshot() const
{
    return m_snapshotSource ? m_snapshotSource() : ClusterSnapshot{};
}

Result<QString> OperationContext::secret(const QString &fileName) const
{
    return Credentials::read(m_inventory, fileName);
}

OperationContext *OperationContext::createOwn(const Inventory &inventory,
                                             const QString &operation, const QString &reason,
                                             QObject *owner)
{
    const auto members = EtcdClusterProbe::membersOf(inventory);
    auto *audit = new AuditTrail(AuditTrail::defaultFilePath(inventory), owner);
    audit->setMirror(members, AuditTrail::etcdPrefix(inventory.settings.stack));
    auto *lock = new OperationLock(members, OperationLock::keyFor(inventory.settings.stack),
                                   OperationLockHolder::current(operation, reason), owner);
    return new OperationContext(inventory, audit, lock, operation, reason, owner);
}

void OperationContext::cancelOnLockLoss(Runbook *runbook)
{
    if (!m_lock)
        return;
    QPointer<Runbook> guarded(runbook);
    connect(m_lock, &OperationLock::lost, runbook, [guarded](const Error &e) {
        if (guarded)
            guarded->cancel(QStringLiteral("the operation lock was lost: ") + e.message);
    });
}

void OperationContext::openAudit(bool ownTrail, const QString &target, const QString &command,
                                 std::function<void(bool, const QString &)> done)
{
    if (!m_audit) {
        done(true, QStringLiteral("no audit trail given: nothing recorded"));
        return;
    }
    auto started = [this, target, command, done](const QString &note) {
        recordOperation(target, command, QStringLiteral("started"), true);
        done(true, note);
    };
    if (!ownTrail) {
        started(QStringLiteral("the calling operation's trail %1").arg(m_audit->filePath()));
        return;
    }
    if (const auto e = m_audit->open()) {
        done(false, QStringLiteral("the audit trail %1 cannot be used: %2")
                        .arg(m_audit->filePath(), e->message));
        return;
    }
    AuditTrail *audit = m_audit;
    audit->syncFromEtcd(this, [audit, started](const Result<int> &r) {
        started(r ? QStringLiteral("%1 (head seq %2, %3 entries taken from etcd)")
                        .arg(audit->filePath())
                        .arg(audit->lastSeq())
                        .arg(r.value())
                  : QStringLiteral("%1 (head seq %2; etcd not compared: %3)")
                        .arg(audit->filePath())
                        .arg(audit->lastSeq())
                        .arg(r.error().message));
    });
}

void OperationContext::flushAudit(std::function<void()> then)
{
    if (!m_audit || m_audit->mirrorPrefix().isEmpty() || m_audit->pendingMirrors() == 0) {
        then();
        return;
    }
    auto once = std::make_shared<bool>(false);
    auto finish = [then, once] {
        if (*once)
            return;
        *once = true;
        then();
    };
    m_audit->flush(this, [finish](const Result<int> &) { finish(); });
    QTimer::singleShot(5000, this, finish);
}

void OperationContext::closeAudit(bool opened, const QString &target, const QString &arguments,
                                  const QString &result, bool ok, std::function<void()> then)
{
    if (!opened) {
        then();
        return;
    }
    recordOperation(target, arguments, result, ok);
    flushAudit(std::move(then));
}

ClusterMonitor *OperationContext::startMonitor(
    int intervalMs, int firstRoundTimeoutMs, QObject *owner,
    std::function<void(const Result<ClusterSnapshot> &)> ready)
{
    auto password = ClusterMonitor::readMonitorPassword(m_inventory);
    if (!password) {
        QTimer::singleShot(0, owner, [ready, e = password.error()] { ready(e); });
        return nullptr;
    }
    ClusterMonitor::Options o;
    o.intervalMs = intervalMs;
    o.monitorPassword = password.value();
    o.firstRoundTimeoutMs = firstRoundTimeoutMs;
    auto *monitor = new ClusterMonitor(m_inventory, o, owner);
    connect(monitor, &ClusterMonitor::firstRoundFinished, owner, [monitor, owner, ready] {
        // The first round may still lack repmgr's view or a pgpool that the
        // swarm read only just named: give them a few more rounds.
        auto *poll = new QTimer(owner);
        auto left = std::make_shared<int>(20);
        connect(poll, &QTimer::timeout, owner, [monitor, poll, left, ready] {
            const ClusterSnapshot s = monitor->snapshot();
            bool complete = !s.pgpools.isEmpty();
            for (const PostgresNodeState &n : s.postgres)
                complete = complete && (!n.reachable || !n.repmgr.isEmpty());
            for (const PgpoolInstanceState &p : s.pgpools)
                complete = complete && p.freshness.readAt.isValid();
            if (!complete && --*left > 0)
                return;
            poll->deleteLater();
            ready(s);
        });
        poll->start(250);
    });
    monitor->start();
    return monitor;
}

void OperationContext::record(AuditKind kind, const QString &target, const QString &arguments,
                              const QString &result, bool ok)
{
    if (!m_audit)
        return;
    // A trail that cannot be written is reported by the trail's own reader
    // (audit verify); an operation in flight must not stop half-way for it.
    (void)m_audit->record(kind, target, arguments, clip(result), ok);
}

void OperationContext::recordOperation(const QString &target, const QString &arguments,
                                       const QString &result, bool ok)
{
    record(AuditKind::Operation, target, arguments, result, ok);
}

// ---------------------------------------------------------------- calls

quint64 OperationContext::begin(int timeoutMs, std::function<void(const Error &)> fail)
{
    const quint64 id = m_nextId++;
    Call c;
    c.fail = std::move(fail);
    if (timeoutMs > 0) {
        c.deadline = new QTimer(this);
        c.deadline->setSingleShot(true);
        connect(c.deadline, &QTimer::timeout, this, [this, id, timeoutMs] {
            const auto it = m_calls.constFind(id);
            if (it == m_calls.constEnd())
                return;
            // Deliver first: aborting may answer the call with a vaguer error.
            const Call call = it.value();
            call.fail(makeError(QStringLiteral("timed out after %1 ms").arg(timeoutMs)));
            if (call.abort)
                call.abort();
        });
        c.deadline->start(timeoutMs);
    }
    m_calls.insert(id, c);
    return id;
}

void OperationContext::setAbort(quint64 id, std::function<void()> abort)
{
    const auto it = m_calls.find(id);
    if (it != m_calls.end())
        it->abort = std::move(abort);
}

bool OperationContext::end(quint64 id)
{
    const auto it = m_calls.find(id);
    if (it == m_calls.end())
        return false;
    if (it->deadline)
        it->deadline->deleteLater();
    m_calls.erase(it);
    return true;
}

void OperationContext::failLater(quint64 id, const Error &error)
{
    QMetaObject::invokeMethod(
        this,
        [this, id, error] {
            const auto it = m_calls.constFind(id);
            if (it == m_calls.constEnd())
                return;
            // A copy, as the timeout and cancel() take: delivering ends the call,
            // which erases its entry and with it the function being run.
            const Call call = it.value();
            call.fail(error);
        },
        Qt::QueuedConnection);
}

void OperationContext::cancel(quint64 id)
{
    const auto it = m_calls.constFind(id);
    if (it == m_calls.constEnd())
        return;
    const Call call = it.value();
    call.fail(makeError(QStringLiteral("cancelled")));
    if (call.abort)
        call.abort();
}

void OperationContext::cancelAll()
{
    const QList<quint64> ids = m_calls.keys();
    for (quint64 id : ids)
        cancel(id);
}

QString OperationContext::describe(const Result<DockerExecResult> &r)
{
    if (!r)
        return r.error().message;
    return outputOf(r.value().exitCode, r.value().stdOut, r.value().stdErr);
}

QString OperationContext::describe(const Result<SshCommandResult> &r)
{
    if (!r)
        return r.error().message;
    return outputOf(r.value().exitCode, r.value().stdOut, r.value().stdErr);
}

// ---------------------------------------------------------------- hosts

OperationContext::HostLink *OperationContext::link(const QString &host, QString *error)
{
    if (HostLink *l = m_hosts.value(host))
        return l;
    if (!m_inventory.host(host)) {
        *error = QStringLiteral("%1 is not a host of the inventory").arg(host);
        return nullptr;
    }
    auto *l = new HostLink;
    l->name = host;
    m_hosts.insert(host, l);
    return l;
}

void OperationContext::dropLink(HostLink *l, const Error &why)
{
    delete l->docker;
    l->docker = nullptr;
    l->forwarding = false;
    if (l->ssh) {
        l->ssh->disconnect(this);
        l->ssh->deleteLater();
        l->ssh = nullptr;
    }
    const auto waiters = std::exchange(l->waiters, {});
    for (const auto &w : waiters)
        w(why);
}

void OperationContext::useSshPort(const QString &host, int port)
{
    for (InventoryHost &h : m_inventory.hosts) {
        if (h.name == host)
            h.sshPort = port;
    }
    if (HostLink *l = m_hosts.value(host))
        dropLink(l, makeError(QStringLiteral("%1: SSH moved to port %2").arg(host).arg(port)));
}

int OperationContext::sshPort(const QString &host) const
{
    const InventoryHost *h = m_inventory.host(host);
    return h ? h->sshPort : 0;
}

void OperationContext::startSession(HostLink *l)
{
    const InventoryHost *host = m_inventory.host(l->name);
    l->ssh = new SshSession(SshOptions::fromInventory(*host, m_inventory.settings.knownHosts), this);
    const QString name = l->name;
    connect(l->ssh, &SshSession::connected, this, [l] {
        if (!l->docker && !l->waiters.isEmpty() && !l->forwarding) {
            l->forwarding = true;
            l->ssh->forwardUnixSocket(QString::fromLatin1(DockerSocket));
        }
    });
    connect(l->ssh, &SshSession::forwardReady, this,
            [this, l](const QString &, const QString &localPath) {
                DockerEndpoint e;
                e.socketPath = localPath;
                e.name = l->name;
                delete l->docker;
                l->docker = new DockerClient(e, this);
                l->forwarding = false;
                const auto waiters = std::exchange(l->waiters, {});
                for (const auto &w : waiters)
                    w(l->docker);
            });
    connect(l->ssh, &SshSession::forwardFailed, this,
            [this, l, name](const QString &, const Error &e) {
                dropLink(l, makeError(QStringLiteral("%1: Docker socket: %2").arg(name, e.message)));
            });
    connect(l->ssh, &SshSession::failed, this, [this, l, name](const Error &e) {
        dropLink(l, makeError(QStringLiteral("%1: %2").arg(name, e.message)));
    });
    connect(l->ssh, &SshSession::disconnected, this, [this, l, name](const Error &e) {
        dropLink(l, makeError(QStringLiteral("%1: SSH connection ended %2").arg(name, e.message)));
    });
    connect(l->ssh, &SshSession::hostKeyUnknown, this,
            [this, l](const QString &h, const QString &type, const QString &fp) {
                const Error e = makeError(QStringLiteral("%1: host key %2 %3 is not in known_hosts; "
                                                         "check it with the status command first")
                                              .arg(h, type, fp));
                l->ssh->rejectHostKey();
                dropLink(l, e);
            });
    l->ssh->connectToHost();
}

void OperationContext::withDocker(const QString &host,
                                  std::function<void(const Result<DockerClient *> &)> ready)
{
    QString error;
    HostLink *l = link(host, &error);
    if (!l) {
        ready(makeError(error));
        return;
    }
    if (l->docker) {
        ready(l->docker);
        return;
    }
    l->waiters.append(std::move(ready));
    if (!l->ssh)
        startSession(l);
    else if (l->ssh->isConnected() && !l->forwarding) {
        l->forwarding = true;
        l->ssh->forwardUnixSocket(QString::fromLatin1(DockerSocket));
    }
}

void OperationContext::connectHosts(const QStringList &hosts, int timeoutMs,
                                    std::function<void(const Result<QString> &)> callback)
{
    QStringList unique = hosts;
    unique.removeDuplicates();
    unique.removeAll(QString());
    auto pending = std::make_shared<int>(int(unique.size()));
    auto failures = std::make_shared<QStringList>();
    auto timer = new QTimer(this);
    timer->setSingleShot(true);
    auto finished = std::make_shared<bool>(false);
    auto finish = [callback, failures, finished, unique, timer] {
        if (*finished)
            return;
        *finished = true;
        timer->deleteLater();
        if (failures->isEmpty())
            callback(QStringLiteral("Docker engines of %1 reached over SSH")
                         .arg(unique.join(QStringLiteral(", "))));
        else
            callback(makeError(failures->join(QStringLiteral("; "))));
    };
    connect(timer, &QTimer::timeout, this, [failures, finish, timeoutMs] {
        failures->append(QStringLiteral("not connected within %1 ms").arg(timeoutMs));
        finish();
    });
    if (unique.isEmpty()) {
        QMetaObject::invokeMethod(this, finish, Qt::QueuedConnection);
        return;
    }
    timer->start(timeoutMs);
    QPointer<QTimer> guard(timer);
    for (const QString &h : std::as_const(unique)) {
        withDocker(h, [pending, failures, finish, guard](const Result<DockerClient *> &r) {
            if (!guard)
                return;
            if (!r)
                failures->append(r.error().message);
            if (--*pending == 0)
                finish();
        });
    }
}

// ---------------------------------------------------------------- containers

QString OperationContext::runningContainer(const QString &target, QString *host) const
{
    const ClusterSnapshot s = snapshot();
    const QString name = target.section(u'@', 0, 0);
    const QString onHost = target.section(u'@', 1);
    for (const TaskState &t : s.tasks) {
        if (t.service != name || t.desiredState != u"running" || t.currentState != u"running" ||
            t.containerId.isEmpty())
            continue;
        if (!onHost.isEmpty() && t.hostname != onHost)
            continue;
        if (host)
            *host = t.hostname;
        return t.containerId;
    }
    return {};
}

QString OperationContext::resolveContainer(const QString &target, QString *host) const
{
    const QString running = runningContainer(target, host);
    if (!running.isEmpty())
        return running;
    const QString name = target.section(u'@', 0, 0);
    const QString onHost = target.section(u'@', 1);
    // "<container>@<host>": a container named directly.
    if (!onHost.isEmpty() && m_inventory.host(onHost)) {
        *host = onHost;
        return name;
    }
    return {};
}

QString OperationContext::hostOf(const QString &target) const
{
    QString host;
    resolveContainer(target, &host);
    return host;
}

quint64 OperationContext::execIn(const QString &target, const QString &user,
                                 const QString &script, int timeoutMs, ExecCallback callback)
{
    const QString arguments =
        QStringLiteral("exec -u %1 bash -c %2").arg(user.isEmpty() ? QStringLiteral("-") : user, script);
    auto deliver = std::make_shared<std::function<void(const Result<DockerExecResult> &)>>();
    auto where = std::make_shared<QString>(target);
    const quint64 id = begin(timeoutMs, [deliver](const Error &e) { (*deliver)(e); });
    *deliver = [this, id, where, arguments, callback](const Result<DockerExecResult> &r) {
        if (!end(id))
            return;
        const bool ok = r && r.value().exitCode == 0;
        record(AuditKind::Docker, *where, arguments, describe(r), ok);
        callback(r);
    };
    QString host;
    const QString container = resolveContainer(target, &host);
    if (container.isEmpty()) {
        failLater(id, makeError(QStringLiteral("no running container of %1").arg(target)));
        return id;
    }
    *where = QStringLiteral("%1 (%2 on %3)").arg(target, container.left(12), host);
    withDocker(host, [this, id, container, user, script, timeoutMs,
                      deliver](const Result<DockerClient *> &client) {
        if (!m_calls.contains(id))
            return;
        if (!client) {
            failLater(id, client.error());
            return;
        }
        DockerExecOptions o;
        o.user = user;
        o.timeoutMs = timeoutMs;
        QPointer<DockerExec> job = client.value()->exec(
            container, {QStringLiteral("bash"), QStringLiteral("-c"), script}, o);
        setAbort(id, [job] {
            if (job)
                job->cancel();
        });
        connect(job, &DockerExec::finished, this, [job, deliver] {
            if (job)
                (*deliver)(job->result());
        });
    });
    return id;
}

quint64 OperationContext::docker(const QString &host, const QByteArray &method,
                                 const QString &path, const QByteArray &body, int timeoutMs,
                                 DockerCallback callback)
{
    QString arguments = QString::fromLatin1(method) + u' ' + path;
    // A JSON body is kept (masked); anything else (an archive) only by its size.
    const QByteArray lead = body.trimmed().left(1);
    if (lead == "{" || lead == "[")
        arguments += u' ' + QString::fromUtf8(body);
    else if (!body.isEmpty())
        arguments += QStringLiteral(" (%1 bytes of body)").arg(body.size());
    auto deliver = std::make_shared<std::function<void(const Result<DockerResponse> &)>>();
    const quint64 id = begin(timeoutMs, [deliver](const Error &e) { (*deliver)(e); });
    *deliver = [this, id, host, arguments, callback](const Result<DockerResponse> &r) {
        if (!end(id))
            return;
        const bool ok = r && r.value().status >= 200 && r.value().status < 300;
        record(AuditKind::Docker, host, arguments,
               r ? QStringLiteral("HTTP %1 %2")
                       .arg(r.value().status)
                       .arg(QString::fromUtf8(r.value().body.left(200)).trimmed())
                 : r.error().message,
               ok);
        callback(r);
    };
    withDocker(host, [this, id, method, path, body, timeoutMs,
                      deliver](const Result<DockerClient *> &client) {
        if (!m_calls.contains(id))
            return;
        if (!client) {
            failLater(id, client.error());
            return;
        }
        DockerRequestOptions o;
        o.timeoutMs = timeoutMs;
        const QString bare = path.section(u'?', 0, 0);
        const QUrlQuery query(path.section(u'?', 1));
        QPointer<DockerReply> reply = client.value()->send(method, bare, query, body, o);
        setAbort(id, [reply] {
            if (reply)
                reply->abort();
        });
        connect(reply, &DockerReply::finished, this, [reply, deliver] {
            if (reply)
                (*deliver)(reply->result());
        });
    });
    return id;
}

quint64 OperationContext::ssh(const QString &host, const QString &command, int timeoutMs,
                              SshCallback callback)
{
    auto deliver = std::make_shared<std::function<void(const Result<SshCommandResult> &)>>();
    const quint64 id = begin(timeoutMs, [deliver](const Error &e) { (*deliver)(e); });
    *deliver = [this, id, host, command, callback](const Result<SshCommandResult> &r) {
        if (!end(id))
            return;
        record(AuditKind::Ssh, host, command, describe(r), r && r.value().exitCode == 0);
        callback(r);
    };
    QString error;
    HostLink *l = link(host, &error);
    if (!l) {
        failLater(id, makeError(error));
        return id;
    }
    if (!l->ssh)
        startSession(l);
    QPointer<SshExecJob> job = l->ssh->exec(command, timeoutMs);
    setAbort(id, [job] {
        if (job)
            job->cancel();
    });
    connect(job, &SshExecJob::finished, this,
            [job, deliver](int exitCode, const Error &e) {
                if (!job)
                    return;
                if (!e.message.isEmpty() && exitCode < 0) {
                    (*deliver)(e);
                    return;
                }
                (*deliver)(SshCommandResult{exitCode, job->standardOutput(),
                                            job->standardError()});
            });
    return id;
}

// ---------------------------------------------------------------- SQL

PgConnection *OperationContext::sqlConnection(const QString &node, const QString &role,
                                              QString *error)
{
    const QString key = node + u'|' + role;
    if (PgConnection *c = m_sql.value(key)) {
        if (c->state() != PgConnection::State::Disconnected)
            return c;
        c->open(c->options()); // lost earlier (a query timed out, the server restarted)
        return c;
    }
    const ClusterSettings &s = m_inventory.settings;
    PgConnectOptions o;
    const bool pgpool = node.contains(u'@');
    if (pgpool) {
        const InventoryHost *h = m_inventory.host(node.section(u'@', 1));
        if (!h) {
            *error = QStringLiteral("%1: no such host in the inventory").arg(node);
            return nullptr;
        }
        o.host = h->address;
        o.port = s.pgpoolPort;
        o.serverCheckIntervalMs = 0;
    } else {
        if (!s.postgresNodes.contains(node)) {
            *error = QStringLiteral("%1 is not a PostgreSQL node of the inventory").arg(node);
            return nullptr;
        }
        const InventoryHost *h = m_inventory.host(s.postgresNodes.value(node));
        o.host = h ? h->address : node;
        o.port = s.postgresPort;
    }
    Result<QString> password = makeError(QString());
    if (role == u"repmgr") {
        o.user = QStringLiteral("repmgr");
        o.database = s.repmgrDatabase.isEmpty() ? s.database : s.repmgrDatabase;
        password = secret(QStringLiteral("pg_repmgr_password"));
    } else if (role == u"monitor") {
        o.user = s.monitorUser;
        o.database = s.database;
        password = ClusterMonitor::readMonitorPassword(m_inventory);
    } else if (role == u"app") {
        o.user = QStringLiteral("app");
        o.database = s.database;
        password = secret(QStringLiteral("pg_app_password"));
    } else if (role == u"postgres") {
        o.user = QStringLiteral("postgres");
        o.database = s.database;
        password = secret(QStringLiteral("pg_postgres_password"));
    } else {
        *error = QStringLiteral("unknown SQL role %1 (repmgr, monitor, app, postgres)").arg(role);
        return nullptr;
    }
    if (!password) {
        *error = password.error().message;
        return nullptr;
    }
    o.password = password.value();
    o.applicationName = QStringLiteral("pilothouse-") + m_operation.section(u' ', 0, 0);
    o.connectTimeoutMs = 5000;
    o.label = node;
    auto *c = new PgConnection(this);
    c->open(o);
    m_sql.insert(key, c);
    return c;
}

quint64 OperationContext::sql(const QString &node, const QString &role, const QString &statement,
                              int timeoutMs, SqlCallback callback)
{
    return sql(node, role, statement, {}, timeoutMs, std::move(callback));
}

quint64 OperationContext::sql(const QString &node, const QString &role, const QString &statement,
                              const QList<std::optional<QString>> &params, int timeoutMs,
                              SqlCallback callback)
{
    QString arguments = QStringLiteral("as %1: %2").arg(role, statement);
    for (int i = 0; i < params.size(); ++i)
        arguments += QStringLiteral(" [$%1=%2]").arg(i + 1).arg(params.at(i).value_or(
                                                                 QStringLiteral("NULL")));
    auto deliver = std::make_shared<std::function<void(const Result<PgReply> &)>>();
    const quint64 id = begin(timeoutMs, [deliver](const Error &e) { (*deliver)(e); });
    *deliver = [this, id, node, arguments, callback](const Result<PgReply> &r) {
        if (!end(id))
            return;
        record(AuditKind::Sql, node, arguments, sqlSummary(r), r.ok());
        callback(r);
    };
    QString error;
    PgConnection *c = sqlConnection(node, role, &error);
    if (!c) {
        failLater(id, makeError(error));
        return id;
    }
    // The connection's own timeout a little later than ours, so ours names it.
    const quint64 q = c->query(statement, params, timeoutMs + 100, this,
                               [deliver](const Result<PgReply> &r) { (*deliver)(r); });
    QPointer<PgConnection> guard(c);
    setAbort(id, [guard, q] {
        if (guard)
            guard->cancel(q);
    });
    return id;
}

} // namespace Pilothouse
