#pragma once
// Lives on the thread that creates it (the GUI thread or the CLI's main
// thread); never blocks it.

#include "app/operations/runbook.h"
#include "models/clustersnapshot.h"
#include "models/inventory.h"
#include "models/result.h"

#include <QHash>
#include <QList>
#include <QObject>
#include <QString>
#include <QStringList>
#include <QTimer>

#include <functional>
#include <memory>

namespace Pilothouse {

class AuditTrail;
class ClusterMonitor;
class OperationContext;
class OperationLock;
struct DockerExecResult;

struct SwitchoverOptions
{
    enum class Method {
        // Pilothouse runs the steps itself: pause repmgrd, checkpoint, stop
        // the old primary, check the target has all of its WAL, promote,
        // repoint every pgpool, rejoin the old primary, siblings follow.
        Orchestrated,
        // `repmgr standby switchover --siblings-follow` in the target's
        // container, then every pgpool repointed.
        Repmgr,
    };

    QString target; // the standby to promote, e.g. "pg-2"
    QString reason; // what the operator typed; required
    Method method = Method::Orchestrated;
    qint64 maxLagBytes = 1024 * 1024; // the target must be this close to the primary
    int preflightTimeoutMs = 30000;   // reading the cluster and connecting to it
    int verifyTimeoutMs = 90000;      // until the cluster is healthy on the new primary
    int monitorIntervalMs = 500;
    // Orchestrated only: tell every pgpool the target is primary
    // (pcp_promote_node) before the old primary stops, so that pgpool does not
    // start its own search for a primary (one look a second) when it sees the
    // shutdown. Writes through pgpool fail (read-only) until the promotion,
    // and pgpool detaches the other standbys until the attach step. Measured
    // on the lab: write gap 1.0-1.3 s with, 0.7-2.8 s without.
    bool pgpoolFirst = true;
    // Orchestrated only. False: the old primary is left stopped, its
    // supervisor held (/run/pilothouse/hold), for a rejoin test or a drill
    // to rejoin it; the verify phase then leaves it out.
    bool rejoinOldPrimary = true;
    // Orchestrated only: ask the old primary to stop over its open SQL session
    // (COPY TO PROGRAM as the repmgr superuser) besides the docker exec that
    // waits for its shutdown checkpoint; false: through the exec alone.
    bool stopThroughSql = true;
};

// One step as it ran.
struct SwitchoverStep
{
    QString path;  // the runbook's, e.g. "switchover/act/checkpoint the primary"
    QString phase; // lock, preflight, act, verify, cleanup (undos)
    QString name;
    bool ok = false;
    QString detail; // what it found or why it failed
    qint64 startedMs = 0;
    double seconds = 0;
};

struct SwitchoverResult
{
    bool ok = false;
    bool refused = false; // the lock or the preflight said no; nothing was changed
    QString error;        // why it failed or was refused (every refusal, "; "-joined)
    QStringList refusals; // each failed preflight check, or who holds the lock
    QString oldPrimary;
    QString newPrimary;
    int timelineBefore = 0;
    int timelineAfter = 0;
    double durationSeconds = 0; // start() to finished()
    double actSeconds = 0;      // the act phase alone
    // When the old primary stopped taking writes, when the new one was
    // promoted and when every pgpool pointed at it (UTC ms; 0: not reached).
    qint64 oldPrimaryStoppedMs = 0;
    qint64 promotedMs = 0;
    qint64 pgpoolsSwitchedMs = 0;
    // pgpool instances whose sessions failed after the switch and how they
    // were repaired ("pgpool@swarm-02: kind does not match ...; detach+attach
    // of node 0: sessions work after 0.4 s").
    QStringList pgpoolRepairs;
    QList<SwitchoverStep> steps; // leaf steps and undos, in the order they finished
    RunbookReport runbook;
};

// A planned switchover to a named standby, run as a Runbook:
//   take the operation lock → preflight (every check runs; all refusals are
//   listed) → act → verify, each step with its own timeout, every remote
//   command through an OperationContext so that it is in the audit trail, the
//   operation itself recorded there with its reason and result. A failed step
//   stops the run and the undos leave the cluster in a known state (repmgrd
//   resumed; the old primary handed back to its supervisor, which rejoins it
//   to whichever node is primary); the lock is released last. Losing the lock
//   cancels the run.
//
// Reads the cluster through its own ClusterMonitor; acts through the Docker
// API of each host (SSH-forwarded socket) and SQL as the repmgr role, whose
// password comes from the inventory's secrets_dir and is never shown.
class Switchover final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Switchover)

public:
    Switchover(Inventory inventory, SwitchoverOptions options, QObject *parent = nullptr);
    ~Switchover() override;

    // Runs inside another operation's context (a drill that puts the old
    // primary back): its audit trail, and its lock when held (then no lock is
    // taken nor released here). Without it, start() makes its own: the
    // cluster's lock in etcd and its trail (AuditTrail::defaultFilePath,
    // mirrored to etcd), opened once the lock is held. Before start().
    void setContext(OperationContext *context);
    OperationContext *context() const { return m_context; }

    using StepFunction = std::function<void(std::function<void(bool ok, QString detail)> done)>;
    // A step of the caller's right before the act phase (e.g. start a
    // heartbeat writer); its failure refuses the switchover. Before start().
    void addStepBeforeAct(const QString &name, int timeoutMs, StepFunction run);

    // What will happen, what is checked and the expected downtime, for the
    // operator to read before start().
    QString preflightText() const;

    void start();
    // Stops at the running step (the stop/promote steps finish first), runs
    // the undos; finished() follows.
    void cancel(const QString &why = QStringLiteral("cancelled by the operator"));
    bool isRunning() const { return m_running; }

    const SwitchoverOptions &options() const { return m_options; }
    const SwitchoverResult &result() const { return m_result; }
    // The cluster as last read (preflight, then verify).
    ClusterSnapshot lastSnapshot() const;
    // The runbook once start() was called (its report grows as it runs).
    const Runbook *runbook() const { return m_runbook; }

    // Why `snapshot` does not allow a switchover to `target`; empty: it does.
    // Pure, for the preflight and for tests.
    static QStringList refusals(const ClusterSnapshot &snapshot, const QString &target,
                                qint64 maxLagBytes);
    // The same, by check: {check name, its refusals} in the preflight's order.
    static QList<QPair<QString, QStringList>> preflightChecks(const ClusterSnapshot &snapshot,
                                                              const QString &target,
                                                              qint64 maxLagBytes);
    // Why the cluster is not yet healthy on `primary` with `timeline`; empty: it is.
    static QStringList unhealthyAfter(const ClusterSnapshot &snapshot, const QString &primary,
                                      int timeline);

Q_SIGNALS:
    // Runbook paths: "switchover/act/checkpoint the primary"; groups too.
    void stepStarted(const QString &path, const QString &name);
    // Leaf steps and undos.
    void stepFinished(const Pilothouse::SwitchoverStep &step);
    // As Runbook::stepFinished (groups too) and Runbook::progress.
    void stepCompleted(const QString &path, bool ok, double seconds, const QString &message);
    void progress(int done, int total);
    void finished(const Pilothouse::SwitchoverResult &result);

private:
    using Done = RunbookStep::OkDone;

    RunbookNode buildTree();
    void runbookFinished(const RunbookReport &report);
    void finish();

    // Steps.
    void openAudit(Done done);
    void readCluster(Done done);
    void check(int index, Done done);
    void connectHosts(Done done);
    void connectSql(Done done);
    void pauseRepmgrd(bool pause, Done done);
    void checkpointPrimary(Done done);
    void stopOldPrimary(Done done);
    void promoteTarget(Done done);
    void repmgrSwitchover(Done done);
    void repointPgpools(Done done);
    void promoteInPgpools(Done done);
    void promoteInPgpools(const QString &node, Done done);
    void settleWalReceiver(Done done);
    void settleWalReceiverOn(const QString &node, Done done);
    // After the switch: the same on every standby, so that no supervisor
    // restarts a WAL receiver once the switchover has said it is healthy.
    void settleStandbyWalReceivers(Done done);
    void detachOldInPgpools(Done done);
    void updateRepmgrMetadata(Done done);
    void rejoinOldPrimary(Done done);
    void siblingsFollow(Done done);
    void followWithoutRestart(const QString &sibling, Done done);
    void followWithRepmgr(const QString &sibling, Done done);
    void attachInPgpools(Done done);
    void pgpoolSessions(Done done);
    void repairPgpool(const QString &pgpool, Done done);
    void waitHealthy(Done done);
    void appWrites(Done done);
    void releaseOldPrimary(Done done);

    void execIn(const QString &service, const QString &user, const QString &script, int timeoutMs,
                std::function<void(const Result<DockerExecResult> &)> callback);
    QString containerOf(const QString &service, QString *host) const;
    QStringList pgpoolServices() const; // "pgpool@<host>" keys of execIn for each pgpool task
    int repmgrNodeId(const QString &node) const;
    int pgpoolNodeId(const QString &node) const;
    QString repmgrConninfo(const QString &node) const;

    Inventory m_inventory;
    SwitchoverOptions m_options;
    SwitchoverResult m_result;
    QList<std::pair<QString, std::pair<int, StepFunction>>> m_beforeAct;
    bool m_running = false;
    qint64 m_startedMs = 0;

    OperationContext *m_context = nullptr;
    bool m_ownContext = false;
    bool m_lockTaken = false;        // taken by this run (then released by it)
    Runbook *m_runbook = nullptr;
    QHash<QString, qint64> m_stepStarts; // path -> UTC ms

    ClusterMonitor *m_monitor = nullptr;
    ClusterSnapshot m_before;
    bool m_read = false;
    QString m_primary;
    QStringList m_siblings;
    QString m_shutdownCheckpoint; // the old primary's last checkpoint LSN after its stop
    qint64 m_repairedAtMs = 0;    // the last pgpool repair in the verify phase
    bool m_repairing = false;
    bool m_auditOpened = false; // the trail is ours to write (the lock is held)
    bool m_changed = false;     // something in the cluster was changed
    bool m_holdSet = false;
    bool m_repmgrdPaused = false;
    bool m_promoted = false;
};

} // namespace Pilothouse
