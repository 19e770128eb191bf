#pragma once
// PgpoolRepair lives on the thread that creates it (the GUI thread or the
// CLI's main thread) and never blocks it; its result is a value.

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

// What one pgpool instance gets wrong against what the PostgreSQL servers say
// of themselves (the truth: pgpool only follows).
struct PgpoolDisagreement
{
    QString pgpool;       // "pgpool@swarm-02"
    QStringList problems; // for people: "pg-2 is detached here but streams from pg-1"
    QList<int> attach;    // backend ids to attach (down here, serving in truth)
    int promote = -1;     // backend id pgpool must name primary; -1 when it does
};

struct PgpoolRepairOptions
{
    QString reason;      // required
    bool dryRun = false; // read and say what is wrong; change nothing
    int preflightTimeoutMs = 30000;
    int repairTimeoutMs = 60000;
    int verifyTimeoutMs = 60000;
    int monitorIntervalMs = 500;
};

struct PgpoolRepairResult
{
    bool ok = false;
    bool refused = false;
    bool dryRun = false;
    QString error;
    QStringList refusals;
    QString primary;
    QList<PgpoolDisagreement> found; // before anything changed (every instance, problems or not)
    QStringList sessions;            // "pgpool@swarm-02: sessions work", per instance, before
    QStringList repairs;             // what was done, one line per instance
    double durationSeconds = 0;
    RunbookReport runbook;
};

// Brings every pgpool instance back in line with the databases, as a Runbook
// with the lock and the audit trail like Switchover:
//   lock → preflight (every layer read; one primary, etcd quorum; each
//   instance's disagreements listed; a session opened through each, inside
//   its container) → act, per instance: attach backends that are detached
//   there but serve, name the real primary (pcp_promote_node), and when
//   sessions still fail (pgpool 4.3's "kind does not match between main(0)
//   slot[0]") detach and attach the backends one at a time, standbys first,
//   until they work → verify (every instance answers, sees every serving
//   backend up and sends writes to the primary).
// Nothing wrong is not an error: the run succeeds and says so.
class PgpoolRepair final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(PgpoolRepair)

public:
    PgpoolRepair(Inventory inventory, PgpoolRepairOptions options, QObject *parent = nullptr);
    ~PgpoolRepair() override;

    // Each pgpool instance of `s` against the servers' own view; the primary
    // is the one server that says it is (empty when not exactly one).
    static QList<PgpoolDisagreement> disagreements(const ClusterSnapshot &s,
                                                   const QString &pgpoolService, QString *primary);

    void setContext(OperationContext *context);
    QString preflightText() const;

    void start();
    void cancel(const QString &why = QStringLiteral("cancelled by the operator"));
    bool isRunning() const { return m_running; }
    const PgpoolRepairResult &result() const { return m_result; }
    ClusterSnapshot lastSnapshot() const;

Q_SIGNALS:
    void stepStarted(const QString &path, const QString &name);
    void stepCompleted(const QString &path, bool ok, double seconds, const QString &message);
    void progress(int done, int total);
    void finished(const Pilothouse::PgpoolRepairResult &result);

private:
    using Done = RunbookStep::OkDone;

    RunbookNode buildTree();
    void runbookFinished(const RunbookReport &report);
    void finish();

    void openAudit(Done done);
    void readCluster(Done done);
    void checkCluster(Done done);
    void checkSessions(Done done);
    void repair(Done done);
    void waitAgreed(Done done);

    // The pgpool instances to look at ("pgpool@swarm-02"), from the tasks.
    QStringList instances() const;

    Inventory m_inventory;
    PgpoolRepairOptions m_options;
    PgpoolRepairResult m_result;
    bool m_running = false;
    qint64 m_startedMs = 0;

    OperationContext *m_context = nullptr;
    bool m_ownContext = false;
    bool m_auditOpened = false;
    Runbook *m_runbook = nullptr;

    ClusterMonitor *m_monitor = nullptr;
    ClusterSnapshot m_before;
    bool m_read = false;
    bool m_changed = false;
    QStringList m_sessionsFail; // instances whose test session failed in the preflight
};

// The report of a run, as `pilothouse pgpool-repair --json` prints it.
QJsonObject pgpoolRepairReportJson(const PgpoolRepairResult &result,
                                   const PgpoolRepairOptions &options);

} // namespace Pilothouse

Q_DECLARE_METATYPE(Pilothouse::PgpoolRepairResult)
