#pragma once
// Lives on the GUI thread, like the operations it starts.

#include "models/clustersnapshot.h"
#include "models/inventory.h"
#include "models/operationrun.h"

#include <QObject>
#include <QPointer>
#include <QWizard>

#include <functional>

namespace Pilothouse {

class AuditModel;
class ClusterView;

// The console's glue between one cluster's view and the engine's
// operations: it fills the view's audit dock from the cluster's trail file,
// turns Switchover, Drill, Rejoin and PgpoolRepair runs into models-level
// OperationRun objects (the last two: app/maintenanceruns) and
// opens the wizards that drive them when the view asks for an operation.
class OperationsBridge final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(OperationsBridge)

public:
    using SnapshotSource = std::function<ClusterSnapshot()>;

    // `snapshot` gives the cluster as last read (the wizards pick from it).
    OperationsBridge(const Inventory &inventory, ClusterView *view, SnapshotSource snapshot,
                     QObject *parent = nullptr);
    ~OperationsBridge() override;

    AuditModel *auditModel() const { return m_audit; }
    // A run of a switchover to `target`, not started; owned by `parent`.
    OperationRun *createSwitchover(const QString &target, QObject *parent);
    // A run of the drill `scenario`, not started; nullptr when the engine has no drills yet.
    OperationRun *createDrill(const QString &scenario, QObject *parent);

    // Opens the wizard of "switchover", "drill", "rejoin", "pgpool-repair",
    // "certificate" or "deploy" (or raises the open one).
    void openWizard(const QString &operation);
    QWizard *wizard() const { return m_wizard; }

Q_SIGNALS:
    void wizardOpened(QWizard *wizard);

private:
    // Marks a run as acting on this cluster (closing it asks first while it runs).
    OperationRun *adopt(OperationRun *run) const;

    Inventory m_inventory;
    QPointer<ClusterView> m_view;
    SnapshotSource m_snapshot;
    AuditModel *m_audit = nullptr;
    QPointer<QWizard> m_wizard;
};

} // namespace Pilothouse
