#pragma once
// Lives on the thread that creates it (the GUI thread or the CLI's main
// thread) and never blocks it.

#include "app/operations/drillprediction.h"
#include "app/operations/heartbeatwriter.h"
#include "app/operations/runbook.h"
#include "models/clustersnapshot.h"
#include "models/drillreport.h"
#include "models/inventory.h"

#include <QElapsedTimer>
#include <QHash>
#include <QList>
#include <QObject>
#include <QPointer>
#include <QSet>
#include <QString>
#include <QStringList>

#include <functional>
#include <memory>

namespace Pilothouse {

class AuditTrail;
class ClusterMonitor;
class OperationContext;
class OperationLock;
class Switchover;

struct DrillOptions
{
    QString scenario; // one of Drill::scenarios()
    QString reason;   // what the operator typed; required
    int monitorIntervalMs = 300;
    int writerIntervalMs = 100;
    bool withApp = true;
    // How long the fault may take to show its full effect (a new primary
    // everywhere, writes back) before the drill restores it anyway.
    int observeTimeoutMs = 90000;
    // How long an etcd member (or two) stays down.
    int etcdDownMs = 8000;
    // How long a host's engine stays stopped, or a host cut off, after a new
    // primary was promoted (or after the timeout).
    int hostDownAfterPromotionMs = 3000;
    int healthTimeoutMs = 180000;
    // Switch back so that this node is primary at the end; empty: leave it.
    QString finalPrimary = QStringLiteral("pg-1");
    // Self-expiry of the partition's firewall table on the host, seconds.
    int partitionSafetySeconds = 120;
};

// A guided failover drill as a Runbook: lock → preflight → prediction →
// heartbeat writers → fault → observe every layer on one time axis →
// restore → wait until healthy → read back the heartbeats (RPO) → switch
// back to the final primary. Every remote command goes through an
// OperationContext, so it is in the audit trail.
class Drill final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Drill)

public:
    // `audit` and `lock` may be null (no trail / no lock: tests only).
    Drill(Inventory inventory, DrillOptions options, AuditTrail *audit, OperationLock *lock,
          QObject *parent = nullptr);
    ~Drill() override;

    static QStringList scenarios();
    static QString describeScenario(const QString &scenario);

    // What will happen, what is checked, the expected downtime: for the
    // wizard and the CLI before start().
    QString preflightText() const;

    void start();
    void cancel(const QString &why = {});
    bool isRunning() const;

    const DrillOptions &options() const { return m_options; }
    Runbook *runbook() const { return m_runbook; }
    const HeartbeatWriter *writer() const { return m_writer; }
    // When the writers started and stopped (UTC ms since the epoch; -1: not yet).
    qint64 writersStartedMs() const { return m_writersStartedMs; }
    qint64 writersStoppedMs() const { return m_writersStoppedMs; }
    // Complete once finished() was emitted.
    DrillReport report() const { return m_report; }
    // True when it stopped before acting (lock held, cluster unhealthy, no quorum).
    bool refused() const { return m_refused; }

    // Why `snapshot` is not a healthy cluster; empty: it is. Pure.
    // `expectedPrimary`: empty for any one primary.
    static QStringList unhealthy(const ClusterSnapshot &snapshot,
                                 const QString &expectedPrimary = {});
    // A path's write outage: the longest time between two consecutive
    // acknowledgements, or from the last one to `stopMs` when every write
    // after it failed. The writer's start-up does not count. -1: no ack at all.
    static double longestGap(const QList<HeartbeatWrite> &writes, const QString &path,
                             qint64 stopMs);
    // The write gaps of one path: spans between consecutive acknowledgements
    // (or from `startMs` when >= 0, and to `stopMs`) longer than `minimumSeconds`,
    // as offsets from `originMs`.
    static QList<DrillReport::Gap> gapsOf(const QList<HeartbeatWrite> &writes, const QString &path,
                                          qint64 startMs, qint64 stopMs, qint64 originMs,
                                          double minimumSeconds);

Q_SIGNALS:
    void stepStarted(const QString &path, const QString &name);
    void stepFinished(const QString &path, bool ok, double seconds, const QString &message);
    void progress(int done, int total);
    // A line on the time axis (layer: repmgr|pgpool|etcd|swarm|proxy|app|writer|drill).
    void observed(const QString &layer, const QString &text);
    void finished(const Pilothouse::DrillReport &report);

private:
    struct Sample;
    struct Fault;

    RunbookNode buildTree();
    // Steps.
    void waitFirstRound(RunbookStep::Done done);
    void checkHealthy(RunbookStep::Done done);
    void checkQuorum(RunbookStep::Done done);
    void connectHosts(RunbookStep::Done done);
    void readSettings(RunbookStep::Done done);
    void startWriters(RunbookStep::Done done);
    void baseline(RunbookStep::Done done);
    void inject(RunbookStep::Done done);
    void observe(RunbookStep::Done done);
    void restore(RunbookStep::Done done);
    void waitHealthy(RunbookStep::Done done);
    void readBack(RunbookStep::Done done);
    // A refusal (a standby that reconnects its WAL receiver just then) is
    // asked again every 10 s, six times at most.
    void switchBack(RunbookStep::Done done, int attempt = 0);

    // Faults.
    void killContainer(const QString &service, const QString &host, RunbookStep::Done done);
    void scaleService(const QString &service, int replicas, RunbookStep::Done done);
    void stopEngine(const QString &host, RunbookStep::Done done);
    void startEngine(const QString &host, RunbookStep::Done done);
    void partition(const QString &host, RunbookStep::Done done);
    void heal(const QString &host, RunbookStep::Done done);

    // The time axis.
    void onSnapshot(const ClusterSnapshot &snapshot);
    void addEvent(const QString &layer, const QString &text, qint64 atMs = -1);
    double offset(qint64 ms) const;
    static qint64 nowMs();
    // Wait until `condition` holds (checked on every snapshot and every 100 ms).
    void waitFor(std::function<QString()> notYet, int timeoutMs, RunbookStep::Done done,
                 const QString &okMessage);
    void finish(const RunbookReport &runbookReport);
    void analyse();
    QString currentPrimary() const;

    Inventory m_inventory;
    DrillOptions m_options;
    AuditTrail *m_audit = nullptr;
    OperationLock *m_lock = nullptr;
    OperationContext *m_ctx = nullptr;
    ClusterMonitor *m_monitor = nullptr;
    HeartbeatWriter *m_writer = nullptr;
    Switchover *m_switchover = nullptr;
    Runbook *m_runbook = nullptr;
    DrillSettings m_settings;
    DrillReport m_report;
    bool m_refused = false;
    bool m_auditOpen = false; // opened under the lock: only then may this drill append

    qint64 m_startMs = 0;
    qint64 m_injectedMs = -1;
    qint64 m_restoredMs = -1;
    qint64 m_healthyMs = -1;
    qint64 m_healthySinceMs = -1; // start of the current healthy stretch
    qint64 m_writersStartedMs = -1;
    qint64 m_writersStoppedMs = -1;
    QString m_oldPrimary;
    QString m_oldPrimaryHost;
    QString m_target;            // what the fault hit: a service, a host, members
    QString m_targetHost;        // where
    QStringList m_targetMembers; // etcd members stopped
    QString m_oldLeader;         // etcd leader before the fault
    QString m_directPath;        // partition: the writer path straight to the old primary
    // Writer paths the RTO leaves out, with why (their pgpool was on the
    // faulted host, or Swarm moved it).
    QHash<QString, QString> m_uncounted;
    std::unique_ptr<Fault> m_fault;
    QList<Sample> m_samples;
    QSet<QString> m_seenEvents;
    ClusterSnapshot m_last;
    // The preflight waits this long for a cluster that is still settling.
    static constexpr qint64 HealthWaitMs = 45000;
    qint64 m_healthWaitStartMs = 0;
    QList<std::function<void()>> m_snapshotWaiters;
    QList<HeartbeatWrite> m_lost;
    bool m_lostRead = false;
};

} // namespace Pilothouse
