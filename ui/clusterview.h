#pragma once
// Lives on the GUI thread.

#include "models/clustersnapshot.h"
#include "models/inventory.h"
#include "ui/palette/paletteentry.h"

#include <QMainWindow>

#include <optional>

class QAbstractItemModel;
class QLabel;
class QTabWidget;
class QTableView;

namespace Pilothouse {

class AuditDock;
class ChartsPanel;
class FindingsDock;
class FindingsModel;
class History;
class OverviewView;
class TimelineDock;
class TimelineModel;

// One opened cluster: the live overview, the charts and what the inventory
// says, with the findings and the timeline docked beside them. A main window
// of its own (embedded in the console's window) so that every cluster keeps
// its own dock layout.
//
// It only shows what it is given: the engine's snapshots through sync(), the
// models it fills, the history it records. While it is hidden it keeps just
// the latest snapshot and draws it when shown, so twenty open clusters cost
// little more than one.
class ClusterView final : public QMainWindow
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ClusterView)

public:
    explicit ClusterView(QWidget *parent = nullptr);
    ~ClusterView() override;

    void setInventory(const Inventory &inventory);
    void setHostsModel(QAbstractItemModel *model);
    void setFindingsModel(FindingsModel *model);
    void setTimelineModel(TimelineModel *model);
    void setHistory(const History *history);
    // Says what the engine is doing before the first snapshot, or why it cannot.
    void setConnectionState(const QString &text, bool problem);

    void sync(const ClusterSnapshot &snapshot);
    // Everything the command palette can jump to in this cluster.
    QList<PaletteEntry> paletteEntries() const;
    // Shows the overview with the object selected (a palette or finding jump).
    void focusKeys(const QStringList &keys);
    void showCharts();

    OverviewView *overview() const { return m_overview; }
    ChartsPanel *charts() const { return m_charts; }
    FindingsDock *findingsDock() const { return m_findingsDock; }
    TimelineDock *timelineDock() const { return m_timelineDock; }
    AuditDock *auditDock() const { return m_auditDock; }
    const std::optional<ClusterSnapshot> &lastSnapshot() const { return m_snapshot; }

Q_SIGNALS:
    // The operator asked for an operation: "switchover", "drill".
    void operationRequested(const QString &operation);

protected:
    void showEvent(QShowEvent *event) override;

private:
    void draw();
    void updateHeader();

    QLabel *m_title = nullptr;
    QLabel *m_state = nullptr;
    QTabWidget *m_tabs = nullptr;
    OverviewView *m_overview = nullptr;
    ChartsPanel *m_charts = nullptr;
    QLabel *m_summary = nullptr;
    QTableView *m_hosts = nullptr;
    FindingsDock *m_findingsDock = nullptr;
    TimelineDock *m_timelineDock = nullptr;
    AuditDock *m_auditDock = nullptr;
    std::optional<ClusterSnapshot> m_snapshot;
    bool m_drawn = true; // the last snapshot is on screen
    bool m_docksSized = false;
    QString m_connectionText;
    bool m_connectionProblem = false;
};

} // namespace Pilothouse
