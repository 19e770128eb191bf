#pragma once
// Lives on the thread that creates it (the GUI thread or the CLI's main
// thread) and never blocks it.

#include "app/deploy/stackfile.h"
#include "app/operations/runbook.h"
#include "models/inventory.h"

#include <QHash>
#include <QJsonObject>
#include <QObject>
#include <QPointer>

namespace Pilothouse {

class AuditTrail;
class OperationContext;
class OperationLock;

struct StackDeployOptions
{
    QString reason;
    bool dryRun = false;        // read and plan only; change nothing
    int requestTimeoutMs = 20000;
    int convergeTimeoutMs = 300000; // per service: tasks running and the update completed
    int pollMs = 1000;
    // Values of external secrets that do not exist yet, typed into the
    // console or read from a file by the CLI: such a secret is created with
    // its value (never written to disk) instead of stopping the plan.
    QHash<QString, QByteArray> secretValues;
};

// What a deploy does, or would do, to one thing.
struct StackChange
{
    enum class Action {
        Create,    // missing: created
        Update,    // a service whose spec differs: updated (rolling, as its update_config says)
        Unchanged, // already as the file says
        External,  // external: must exist, never touched
        Conflict,  // exists and cannot be made as the file says (the plan stops here)
    };
    QString kind; // network, secret, config, service
    QString name; // its name in the Swarm
    Action action = Action::Unchanged;
    QStringList differences; // services: "path: old -> new" per changed field; others: why
    bool valueWanted = false; // an external secret that does not exist: a value given would create it
    // Services while applying.
    int desiredTasks = -1;
    int runningTasks = -1;
    QString updateState; // the engine's UpdateStatus.State ("" when none)
    QString state;       // planned, applying, converging, done, rolled back, failed

    static QString actionName(Action action);
};

struct StackDeployReport
{
    QString stack;
    QString file;
    QString manager; // the host whose engine was used
    bool dryRun = false;
    bool ok = false;
    QString error;
    QList<StackChange> changes; // networks, secrets, configs, services (file order)
    QStringList notInFile;      // the stack's services the file no longer has (left alone)
    RunbookReport runbook;

    int count(StackChange::Action action) const;
    bool changesNothing() const;
    // The plan for a person: one line per change, differences indented.
    QString planText() const;
    QJsonObject toJson() const;
};

// Deploys a stack file through one manager's Docker API (over SSH), like
// `docker stack deploy` and with what it lacks: a plan with a per-service diff
// before anything changes, the operation lock, every request in the audit
// trail, services applied one at a time and watched until their tasks run,
// an update that fails rolled back, and on failure everything this run
// created removed again. A second run of the same file changes nothing.
class StackDeploy final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(StackDeploy)

public:
    StackDeploy(Inventory inventory, StackPlan plan, StackDeployOptions options,
                QObject *parent = nullptr);
    ~StackDeploy() override;

    void start();
    void cancel(const QString &why = {});
    const StackDeployReport &report() const { return m_report; }

    // The differences between a service spec the file asks for and the one
    // the engine holds (which has the engine's defaults added): each
    // "path: stored -> wanted". Pure, for the plan and for tests.
    static QStringList specDifferences(const QJsonObject &wanted, const QJsonObject &stored);

Q_SIGNALS:
    void planReady(const Pilothouse::StackDeployReport &report);
    void stepStarted(const QString &path, const QString &name);
    void stepFinished(const QString &path, bool ok, double seconds, const QString &message);
    void changeUpdated(const Pilothouse::StackChange &change);
    void finished(const Pilothouse::StackDeployReport &report);

private:
    struct Remote; // what the engine holds of the stack

    RunbookNode buildTree();
    void findManager(RunbookStep::Done done);
    void tryManager(QStringList hosts, QStringList reasons, RunbookStep::Done done);
    void readAndPlan(RunbookStep::Done done, bool again);
    void takeLock(RunbookStep::Done done);
    void createObject(const QString &kind, int index, RunbookStep::Done done);
    void removeCreated(const QString &kind, int index, RunbookStep::Done done);
    void applyService(int index, RunbookStep::Done done);
    void undoService(int index, RunbookStep::Done done);
    // Polls until the service's tasks run and its update (one that started
    // after `updateBefore`, the UpdateStatus.StartedAt seen before the
    // request) has completed.
    void converge(int index, RunbookStep::Done done, bool rollingBack, const QString &updateBefore = {});
    QJsonObject resolvedSpec(const StackService &service) const;
    StackChange *change(const QString &kind, const QString &name);
    void request(const QByteArray &method, const QString &path, const QJsonObject &body,
                 std::function<void(const Result<QJsonDocument> &)> done);

    Inventory m_inventory;
    StackPlan m_plan;
    StackDeployOptions m_options;
    StackDeployReport m_report;
    AuditTrail *m_audit = nullptr;
    OperationLock *m_lock = nullptr;
    OperationContext *m_context = nullptr;
    Runbook *m_runbook = nullptr;
    std::unique_ptr<Remote> m_remote;
    QString m_manager;
    QString m_shownPlan;
    bool m_firstDeploy = false;
    bool m_lockHeld = false;
};

} // namespace Pilothouse

Q_DECLARE_METATYPE(Pilothouse::StackDeployReport)
Q_DECLARE_METATYPE(Pilothouse::StackChange)
