#pragma once
// Rejoin lives on the thread that creates it (the GUI thread or the CLI's
// main thread) and never blocks it; TimelineFork and RejoinResult are values.

#include "app/operations/runbook.h"
#include "models/clustersnapshot.h"
#include "models/inventory.h"

#include <QJsonObject>
#include <QList>
#include <QObject>
#include <QString>
#include <QStringList>

namespace Pilothouse {

class AuditTrail;
class ClusterMonitor;
class OperationContext;
class OperationLock;

// Where a node's history left the primary's, and what rejoining it costs.
struct TimelineFork
{
    struct Switch
    {
        int timeline = 0; // the timeline that ended...
        QString lsn;      // ...here
    };

    QString node;
    QString primary;
    bool nodeRunning = false;
    QString nodeState;      // pg_controldata's "Database cluster state"
    int nodeTimeline = 0;   // of its last checkpoint
    QString nodeCheckpoint; // its last checkpoint's LSN
    QString nodeEndOfWal;   // the end of the valid WAL it has on nodeTimeline
    QList<Switch> nodeHistory;
    int primaryTimeline = 0;
    QString primaryLsn; // where the primary writes now
    QList<Switch> primaryHistory;
    bool sameSystem = true;

    int commonTimeline = 0; // the newest timeline both histories share
    QString forkLsn;        // where they part; empty when they do not
    bool diverged = false;  // the node has WAL past the fork that the primary does not
    qint64 walAtRiskBytes = 0; // that WAL: discarded by the rewind (or the re-clone)
    QString rewindDryRun;   // what pg_rewind --dry-run said, when it could run
    QString plan;           // "rewind", "follow" (not diverged) or "re-clone"
    QString error;          // why the fork could not be read completely

    // "0/3000060" ↔ bytes.
    static qint64 lsnToBytes(const QString &lsn);
    static QString bytesToLsn(qint64 bytes);
    // A timeline history file's switches ("1\t0/3000060\tno recovery target specified").
    static QList<Switch> parseHistory(const QString &text);
    // The end of the valid WAL from pg_waldump's output: the LSN where its
    // "invalid record length at X" (or similar) error stops it, else the end
    // of the last record it printed. Empty when neither is there.
    static QString endOfWal(const QString &waldumpOutput);
    // Fills commonTimeline, forkLsn, diverged and walAtRiskBytes from the rest.
    void compute();

    QJsonObject toJson() const;
    QString toText() const; // for people: the fork, the WAL at risk, the plan
};

struct RejoinOptions
{
    QString node;   // the node to rejoin, e.g. "pg-1"
    QString reason; // required
    bool dryRun = false; // read and show the fork; change nothing
    // When pg_rewind cannot work: move the data directory aside and let the
    // node's supervisor clone it afresh from the primary.
    bool allowReclone = true;
    int preflightTimeoutMs = 30000;
    int rejoinTimeoutMs = 180000;
    int verifyTimeoutMs = 90000;
    int monitorIntervalMs = 500;
};

struct RejoinResult
{
    bool ok = false;
    bool refused = false;
    QString error;
    QStringList refusals;
    bool dryRun = false;
    QString method; // "rewind", "follow", "re-clone"; empty when nothing was done
    TimelineFork fork;
    double durationSeconds = 0;
    double rejoinSeconds = 0; // from the stop of the node to streaming again
    RunbookReport runbook;
};

// Rejoins a node that is back (or down) as a diverged former primary, as a
// Runbook with the lock and the audit trail like Switchover:
//   lock → preflight (cluster read; refusals listed; the timeline fork read
//   from the primary's history file and the node's pg_control and WAL;
//   pg_rewind --dry-run) → act (hold the node's supervisor, stop it, clean
//   shutdown, `repmgr node rejoin --force-rewind`, or the supervisor's
//   re-clone when a rewind cannot work) → verify (it streams from the
//   primary, every pgpool has it attached, the cluster is healthy).
// forkRead() comes before anything is changed.
class Rejoin final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Rejoin)

public:
    Rejoin(Inventory inventory, RejoinOptions options, QObject *parent = nullptr);
    ~Rejoin() override;

    // As Switchover::setContext.
    void setContext(OperationContext *context);
    QString preflightText() const;

    void start();
    void cancel(const QString &why = QStringLiteral("cancelled by the operator"));
    bool isRunning() const { return m_running; }
    const RejoinResult &result() const { return m_result; }
    ClusterSnapshot lastSnapshot() const;

Q_SIGNALS:
    void stepStarted(const QString &path, const QString &name);
    void stepCompleted(const QString &path, bool ok, double seconds, const QString &message);
    void progress(int done, int total);
    // The fork as read in the preflight, before anything changes.
    void forkRead(const Pilothouse::TimelineFork &fork);
    void finished(const Pilothouse::RejoinResult &result);

private:
    using Done = RunbookStep::OkDone;

    RunbookNode buildTree();
    void runbookFinished(const RunbookReport &report);
    void finish();

    void openAudit(Done done);
    void readCluster(Done done);
    void checkCluster(Done done);
    void connectHosts(Done done);
    void readFork(Done done);
    void dryRunRewind(Done done);
    void holdAndStop(Done done);
    void rejoinNode(Done done);
    void reclone(Done done);
    void release(Done done);
    void waitStreaming(Done done);
    void attachInPgpools(Done done);
    void waitHealthy(Done done);

    QString repmgrConninfo(const QString &node) const;
    int pgpoolNodeId(const QString &node) const;
    QStringList pgpoolServices() const;

    Inventory m_inventory;
    RejoinOptions m_options;
    RejoinResult m_result;
    bool m_running = false;
    qint64 m_startedMs = 0;
    qint64 m_stopMs = 0;

    OperationContext *m_context = nullptr;
    bool m_ownContext = false;
    bool m_auditOpened = false;
    Runbook *m_runbook = nullptr;

    ClusterMonitor *m_monitor = nullptr;
    ClusterSnapshot m_before;
    bool m_read = false;
    QString m_primary;
    bool m_holdSet = false;
    bool m_changed = false;
    bool m_recloned = false;
};

// The report of a run, as `pilothouse rejoin --json` prints it.
QJsonObject rejoinReportJson(const RejoinResult &result, const RejoinOptions &options);

} // namespace Pilothouse

Q_DECLARE_METATYPE(Pilothouse::TimelineFork)
