#pragma once
// Lives on the thread that creates it (the GUI thread or the CLI's main
// thread); never blocks it.

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

class ClusterMonitor;
class DockerClient;
class PgConnection;
class SshSession;
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
};

// One step as it ran.
struct SwitchoverStep
{
    QString phase; // preflight, act, verify, cleanup
    QString name;
    bool ok = false;
    QString detail; // what it found or why it failed
    qint64 startedMs = 0;
    double seconds = 0;
};

struct SwitchoverResult
{
    bool ok = false;
    bool refused = false; // the preflight said no; nothing was changed
    QString error;        // why it failed or was refused
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
    QList<SwitchoverStep> steps;
};

// A planned switchover to a named standby, as preflight → act → verify steps,
// each with its own timeout, reported as it goes. A failed step stops the
// run and the cleanup steps leave the cluster in a known state (repmgrd
// resumed; the old primary handed back to its supervisor, which rejoins it
// to whichever node is primary). Cancel stops between steps the same way.
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

    using StepFunction = std::function<void(std::function<void(bool ok, QString detail)> done)>;
    // A step of the caller's right before the act phase (e.g. start a
    // heartbeat writer); its failure refuses the switchover. Before start().
    void addStepBeforeAct(const QString &name, int timeoutMs, StepFunction run);

    void start();
    // Stops after the running step and runs the cleanup; finished() follows.
    void cancel();
    bool isRunning() const { return m_running; }

    const SwitchoverOptions &options() const { return m_options; }
    const SwitchoverResult &result() const { return m_result; }
    // The cluster as last read (preflight, then verify).
    ClusterSnapshot lastSnapshot() const;

    // Why `snapshot` does not allow a switchover to `target`; empty: it does.
    // Pure, for the preflight and for tests.
    static QStringList refusals(const ClusterSnapshot &snapshot, const QString &target,
                                qint64 maxLagBytes);
    // Why the cluster is not yet healthy on `primary` with `timeline`; empty: it is.
    static QStringList unhealthyAfter(const ClusterSnapshot &snapshot, const QString &primary,
                                      int timeline);

Q_SIGNALS:
    void stepStarted(const QString &phase, const QString &name);
    void stepFinished(const Pilothouse::SwitchoverStep &step);
    void finished(const Pilothouse::SwitchoverResult &result);

private:
    struct Step
    {
        QString phase;
        QString name;
        int timeoutMs = 10000;
        // Calls done(ok, detail) once, later or at once.
        std::function<void(std::function<void(bool, QString)>)> run;
    };
    struct HostLink;

    void buildSteps();
    void runNext();
    void stepDone(quint64 generation, bool ok, const QString &detail);
    void finish();

    // Steps.
    void readCluster(std::function<void(bool, QString)> done);
    void checkCluster(std::function<void(bool, QString)> done);
    void connectHosts(std::function<void(bool, QString)> done);
    void connectSql(std::function<void(bool, QString)> done);
    void pauseRepmgrd(bool pause, std::function<void(bool, QString)> done);
    void checkpointPrimary(std::function<void(bool, QString)> done);
    void stopOldPrimary(std::function<void(bool, QString)> done);
    void promoteTarget(std::function<void(bool, QString)> done);
    void repmgrSwitchover(std::function<void(bool, QString)> done);
    void repointPgpools(std::function<void(bool, QString)> done);
    void promoteInPgpools(std::function<void(bool, QString)> done);
    void updateRepmgrMetadata(std::function<void(bool, QString)> done);
    void rejoinOldPrimary(std::function<void(bool, QString)> done);
    void siblingsFollow(std::function<void(bool, QString)> done);
    void followWithoutRestart(const QString &sibling, std::function<void(bool, QString)> done);
    void followWithRepmgr(const QString &sibling, std::function<void(bool, QString)> done);
    PgConnection *openSql(const QString &node); // as repmgr, to repmgr's database
    void attachInPgpools(std::function<void(bool, QString)> done);
    void waitHealthy(std::function<void(bool, QString)> done);
    void appWrites(std::function<void(bool, QString)> done);
    void releaseOldPrimary(std::function<void(bool, QString)> done);

    using ExecCallback = std::function<void(const Result<DockerExecResult> &)>;
    // Runs `script` with bash in the container of `service`'s running task.
    void execIn(const QString &service, const QString &user, const QString &script, int timeoutMs,
                ExecCallback callback);
    QString containerOf(const QString &service, QString *host) const;
    QStringList pgpoolServices() const; // "pgpool@<host>" keys of execIn for each pgpool task
    int repmgrNodeId(const QString &node) const;
    int pgpoolNodeId(const QString &node) const;
    QString repmgrConninfo(const QString &node) const;

    Inventory m_inventory;
    SwitchoverOptions m_options;
    SwitchoverResult m_result;
    QList<Step> m_steps;
    QList<Step> m_cleanup;
    QList<Step> m_beforeAct;
    qsizetype m_next = 0;
    bool m_inCleanup = false;
    bool m_running = false;
    bool m_cancelled = false;
    bool m_failed = false;
    quint64 m_generation = 0;
    QTimer m_stepTimer;
    qint64 m_startedMs = 0;
    qint64 m_stepStartedMs = 0;
    qint64 m_actStartedMs = 0;

    ClusterMonitor *m_monitor = nullptr;
    ClusterSnapshot m_before;
    QString m_monitorPassword;
    QString m_repmgrPassword;
    QList<HostLink *> m_hosts;
    PgConnection *m_targetSql = nullptr;
    PgConnection *m_primarySql = nullptr;
    QString m_primary;
    QStringList m_siblings;
    QString m_shutdownCheckpoint; // the old primary's last checkpoint LSN after its stop
    bool m_holdSet = false;
    bool m_repmgrdPaused = false;
    bool m_promoted = false;
};

} // namespace Pilothouse
