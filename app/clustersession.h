#pragma once
// Lives on the GUI thread; its monitor lives on a thread of its own.

#include "models/clustersnapshot.h"
#include "models/history.h"
#include "models/inventory.h"

#include <QObject>
#include <QPointer>

class QThread;

namespace Pilothouse {

class ClusterView;
class FindingsModel;
class HostsModel;
class TimelineModel;

// One open cluster in the console: its monitor and the models its view
// shows. The monitor (its probes, its parsing, its findings) runs on a
// thread of its own and hands over immutable snapshots, so that the GUI
// thread only draws, however many clusters are open. Nothing here waits;
// the view is told what the engine is doing until the first snapshot.
class ClusterSession final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ClusterSession)

public:
    ClusterSession(const Inventory &inventory, ClusterView *view, QObject *parent = nullptr);
    // Stops the monitor without waiting for it: its thread winds down and
    // deletes itself. waitForMonitors() lets the last one finish at exit.
    ~ClusterSession() override;

    const Inventory &inventory() const { return m_inventory; }
    // The charts' series, recorded from the snapshots as they arrive.
    const History &history() const { return m_history; }
    const ClusterSnapshot &lastSnapshot() const { return m_last; }

    // At exit: waits (at most `timeoutMs`) for every session's monitor thread.
    static void waitForMonitors(int timeoutMs);

    // The monitor polls at 1 Hz while the view is on screen (or the window is
    // not shown at all) and every 5 s while another page is in front of it
    // ($PILOTHOUSE_POLL_BEHIND_MS, 1000-60000, sets that).
    static constexpr int ForegroundIntervalMs = 1000;
    static constexpr int DefaultBackgroundIntervalMs = 5000;
    static int backgroundIntervalMs();
    int pollIntervalMs() const { return m_intervalMs.loadRelaxed(); }

Q_SIGNALS:
    // A problem the operator must act on (a host key to check, a missing secret).
    void problemFound(const QString &title, const QString &text);
    // The first snapshot with every layer's first answer is on screen.
    void firstOverviewShown();
    // The worst finding's severity (Info when every layer agrees) and a line
    // saying so, for the list of open clusters; emitted when either changes.
    void healthChanged(Pilothouse::Severity worst, const QString &summary);
    // The monitor's poll interval changed (the view came on screen or went).
    void pollIntervalChanged(int intervalMs);

protected:
    bool eventFilter(QObject *watched, QEvent *event) override;

private:
    // On the monitor's thread: creates the monitor as a child of `home`, wires it, starts it.
    void startMonitor(QObject *home, const Inventory &inventory);
    void onSnapshot(const ClusterSnapshot &snapshot);
    void updatePollInterval();

    Inventory m_inventory;
    QPointer<ClusterView> m_view;
    QThread *m_thread = nullptr;
    QObject *m_home = nullptr; // lives on m_thread; owns the monitor
    HostsModel *m_hosts = nullptr;
    FindingsModel *m_findings = nullptr;
    TimelineModel *m_timeline = nullptr;
    History m_history;
    qint64 m_lastHistoryMs = 0;
    ClusterSnapshot m_last;
    bool m_firstRoundDone = false;
    // Read on the monitor's thread when the monitor starts.
    QAtomicInt m_intervalMs{ForegroundIntervalMs};
    Severity m_health = Severity::Info;
    QString m_healthText;
};

} // namespace Pilothouse
