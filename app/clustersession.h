#pragma once
// Lives on the GUI thread.

#include "models/inventory.h"

#include <QObject>
#include <QPointer>

namespace Pilothouse {

class ClusterMonitor;
class ClusterView;
class FindingsModel;
class HostsModel;
class TimelineModel;

// One open cluster in the console: its monitor and the models its view
// shows. The monitor's work is asynchronous, so nothing here waits; the view
// is told what the engine is doing until the first snapshot arrives.
class ClusterSession final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ClusterSession)

public:
    ClusterSession(const Inventory &inventory, ClusterView *view, QObject *parent = nullptr);
    ~ClusterSession() override;

    ClusterMonitor *monitor() const { return m_monitor; }
    const Inventory &inventory() const { return m_inventory; }

Q_SIGNALS:
    // A problem the operator must act on (a host key to check, a missing secret).
    void problemFound(const QString &title, const QString &text);
    // The first snapshot with every layer's first answer is on screen.
    void firstOverviewShown();

private:
    Inventory m_inventory;
    QPointer<ClusterView> m_view;
    ClusterMonitor *m_monitor = nullptr;
    HostsModel *m_hosts = nullptr;
    FindingsModel *m_findings = nullptr;
    TimelineModel *m_timeline = nullptr;
};

} // namespace Pilothouse
