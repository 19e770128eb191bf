#pragma once
// Lives on the thread that creates it (the GUI thread or the CLI's main
// thread) and never blocks it; every callback comes back on that thread.

#include "app/connectors/docker/dockertypes.h"
#include "app/operations/audittrail.h"
#include "app/operations/runbook.h"
#include "app/connectors/pg/pgrows.h"
#include "models/clustersnapshot.h"
#include "models/inventory.h"
#include "models/result.h"

#include <QByteArray>
#include <QHash>
#include <QObject>
#include <QString>
#include <QStringList>

#include <functional>
#include <optional>

class QTimer;

namespace Pilothouse {

class ClusterMonitor;
class DockerClient;
class OperationLock;
class PgConnection;

// What an SSH command returned (a non-zero exit code is a result, not an error).
struct SshCommandResult
{
    int exitCode = -1;
    QByteArray stdOut;
    QByteArray stdErr;
};

// One operation's view of the cluster and its single door to it: every remote
// call an operation makes (docker exec, Docker API, SQL, SSH) goes through
// these helpers, which run it with its timeout and record it in the audit
// trail (kind, target, arguments and result with secrets masked, ok). One
// object per operation; it owns its connections (an SSH session with the
// Docker socket forwarded per host, opened on first use; one SQL session per
// node and role, reopened after a loss) and closes them when destroyed.
//
// Targets:
// - execIn: "pg-1" (the running task of that service), "pgpool@swarm-02"
//   (that service's task on that host), or "<container id or name>@<host>";
//   tasks are looked up in the snapshot given by setSnapshotSource().
// - sql: a PostgreSQL node ("pg-1") or a pgpool instance ("pgpool@swarm-01"),
//   as role "repmgr" (its database), "monitor", "app" or "postgres" (the
//   inventory's database); passwords come from the inventory's secrets_dir.
// - ssh, docker: an inventory host name ("swarm-01").
class OperationContext final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(OperationContext)

public:
    using ExecCallback = std::function<void(const Result<DockerExecResult> &)>;
    using SqlCallback = std::function<void(const Result<PgReply> &)>;
    using SshCallback = std::function<void(const Result<SshCommandResult> &)>;
    using DockerCallback = std::function<void(const Result<DockerResponse> &)>;

    // An operation's own context: an audit trail mirrored to etcd and the
    // cluster's lock, taken for `operation`; the three owned by `owner`.
    static OperationContext *createOwn(const Inventory &inventory, const QString &operation,
                                       const QString &reason, QObject *owner);

    // `audit` and `lock` may be null (tests, dry runs): then nothing is
    // recorded / there is no lock. Calls audit->setOperation(operation, reason)
    // and adds the inventory's secrets_dir to its masker.
    OperationContext(Inventory inventory, AuditTrail *audit, OperationLock *lock,
                     const QString &operation, const QString &reason, QObject *parent = nullptr);
    ~OperationContext() override;

    const Inventory &inventory() const { return m_inventory; }
    AuditTrail *audit() const { return m_audit; }
    OperationLock *lock() const { return m_lock; }
    QString operation() const { return m_operation; }
    QString reason() const { return m_reason; }

    // Where execIn finds containers: usually [monitor] { return monitor->snapshot(); }.
    void setSnapshotSource(std::function<ClusterSnapshot()> source);
    ClusterSnapshot snapshot() const;

    // A file of the inventory's secrets_dir, trimmed.
    Result<QString> secret(const QString &fileName) const;

    // The operation itself in the trail (kind "operation"), e.g. at its start
    // and with its outcome; stamped with the operation and reason.
    void recordOperation(const QString &target, const QString &arguments, const QString &result,
                         bool ok);

    // Readies the trail at the start of an operation that holds the lock.
    // `ownTrail`: the operation made the trail itself, so it is opened now
    // (no other console appends while the lock is held) and compared with
    // etcd's copy; otherwise it is the calling operation's and already open.
    // Then "<command>: started" is recorded on `target` and `done(true, note)`
    // follows; `done(false, why)` when the file cannot be used. Without a
    // trail nothing is recorded and `done(true, …)` says so.
    void openAudit(bool ownTrail, const QString &target, const QString &command,
                   std::function<void(bool ok, const QString &note)> done);
    // Cancels `runbook` when the lock is lost: the operation must stop acting.
    void cancelOnLockLoss(Runbook *runbook);

    // The runbook of `tree` for the operation `op`, owned by it, not started:
    // its steps and progress reach op's stepStarted, stepCompleted and
    // progress signals, its end `finished`; a lost lock cancels it.
    template<typename Op>
    Runbook *runbookFor(Op *op, const RunbookNode &tree,
                        void (Op::*finished)(const RunbookReport &))
    {
        auto *runbook = new Runbook(tree, op);
        connect(runbook, &Runbook::stepStarted, op, &Op::stepStarted);
        connect(runbook, &Runbook::stepFinished, op, &Op::stepCompleted);
        connect(runbook, &Runbook::progress, op, &Op::progress);
        connect(runbook, &Runbook::finished, op, finished);
        cancelOnLockLoss(runbook);
        return runbook;
    }

    // At the end: waits (≤ 5 s) until the trail's etcd mirror has every entry,
    // then `then`; at once when nothing is pending.
    void flushAudit(std::function<void()> then);
    // The end of an operation whose trail was `opened` (openAudit said so):
    // its outcome recorded on `target` ("<operation> finished", `result`,
    // `ok`), the mirror flushed, then `then`. At once without recording when
    // the trail was not opened: a refused console must not write into a
    // chain another one is writing.
    void closeAudit(bool opened, const QString &target, const QString &arguments,
                    const QString &result, bool ok, std::function<void()> then);

    // A monitor for the operation's preflight and verify steps, started now
    // and owned by `owner`. `ready` gets the first snapshot in which every
    // layer has answered and repmgr's view and every pgpool's backends are
    // read (the best one 5 s after the first round otherwise), or why no
    // monitor could start (then the monitor returned is null).
    ClusterMonitor *startMonitor(int intervalMs, int firstRoundTimeoutMs, QObject *owner,
                                 std::function<void(const Result<ClusterSnapshot> &)> ready);

    // Each returns an id for cancel(); the callback is called exactly once
    // (never from inside the call), unless this object is destroyed first.
    quint64 execIn(const QString &target, const QString &user, const QString &script,
                   int timeoutMs, ExecCallback callback);
    quint64 sql(const QString &node, const QString &role, const QString &statement, int timeoutMs,
                SqlCallback callback);
    quint64 sql(const QString &node, const QString &role, const QString &statement,
                const QList<std::optional<QString>> &params, int timeoutMs,
                SqlCallback callback);
    quint64 ssh(const QString &host, const QString &command, int timeoutMs, SshCallback callback);
    quint64 docker(const QString &host, const QByteArray &method, const QString &path,
                   const QByteArray &body, int timeoutMs, DockerCallback callback);

    // Opens the SSH session and Docker forward of each host now (a preflight
    // step), so that the first command of the act phase does not pay for it.
    // The value lists the hosts; the error names every host that failed.
    void connectHosts(const QStringList &hosts, int timeoutMs,
                      std::function<void(const Result<QString> &)> callback);
    // From now on reach `host` over SSH on `port` (sshd moved): its session,
    // if any, is closed; the next call opens one on the new port. Call it
    // when no call to that host is in flight.
    void useSshPort(const QString &host, int port);
    int sshPort(const QString &host) const;

    // The host that runs execIn's `target` now; empty when none.
    QString hostOf(const QString &target) const;
    // The container of the running task `target` names ("pg-1",
    // "pgpool@swarm-02") and its host; empty when no such task runs.
    QString runningContainer(const QString &target, QString *host = nullptr) const;

    // Stops a call: its callback gets a "cancelled" error. Docker cannot stop
    // an exec'd process: the command may go on inside the container.
    void cancel(quint64 id);
    void cancelAll();

    // "exit 3: last lines of stderr | stdout", or the error: for messages.
    static QString describe(const Result<DockerExecResult> &result);
    static QString describe(const Result<SshCommandResult> &result);

private:
    struct HostLink;
    struct Call
    {
        QTimer *deadline = nullptr;
        std::function<void()> abort;             // stops the remote call, if it started
        std::function<void(const Error &)> fail; // records and delivers an error
    };

    // Registers a call with its deadline; `fail` is what a timeout or
    // cancel() delivers.
    quint64 begin(int timeoutMs, std::function<void(const Error &)> fail);
    void setAbort(quint64 id, std::function<void()> abort);
    // True once per call: the caller may record and deliver its result.
    bool end(quint64 id);
    void failLater(quint64 id, const Error &error);

    HostLink *link(const QString &host, QString *error);
    void withDocker(const QString &host, std::function<void(const Result<DockerClient *> &)> ready);
    void startSession(HostLink *link);
    void dropLink(HostLink *link, const Error &why);
    PgConnection *sqlConnection(const QString &node, const QString &role, QString *error);
    QString resolveContainer(const QString &target, QString *host) const;
    void record(AuditKind kind, const QString &target, const QString &arguments,
                const QString &result, bool ok);

    Inventory m_inventory;
    AuditTrail *m_audit = nullptr;
    OperationLock *m_lock = nullptr;
    QString m_operation;
    QString m_reason;
    std::function<ClusterSnapshot()> m_snapshotSource;
    QHash<QString, HostLink *> m_hosts;
    QHash<QString, PgConnection *> m_sql; // "node|role"
    QHash<quint64, Call> m_calls;
    quint64 m_nextId = 1;
};

} // namespace Pilothouse
