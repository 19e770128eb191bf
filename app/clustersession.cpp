#include "app/clustersession.h"

#include "app/monitor/clustermonitor.h"
#include "models/findingsmodel.h"
#include "models/hostsmodel.h"
#include "models/timelinemodel.h"
#include "ui/clusterview.h"

namespace Pilothouse {

ClusterSession::ClusterSession(const Inventory &inventory, ClusterView *view, QObject *parent)
    : QObject(parent)
    , m_inventory(inventory)
    , m_view(view)
    , m_hosts(new HostsModel(this))
    , m_findings(new FindingsModel(this))
    , m_timeline(new TimelineModel(this))
{
    ClusterMonitor::Options options;
    // A console shows what it has after this long and marks what is missing as stale;
    // `status` waits longer because it prints once.
    options.firstRoundTimeoutMs = 5000;
    const Result<QString> password = ClusterMonitor::readMonitorPassword(inventory);
    if (password) {
        options.monitorPassword = password.value();
    } else {
        // The other layers are still worth watching; PostgreSQL will say it refused us.
        QMetaObject::invokeMethod(
            this,
            [this, message = password.error().toString()] {
                Q_EMIT problemFound(tr("No password for the monitoring role"), message);
            },
            Qt::QueuedConnection);
    }
    m_monitor = new ClusterMonitor(inventory, options, this);

    m_hosts->setHosts(inventory.hosts);
    view->setHostsModel(m_hosts);
    view->setFindingsModel(m_findings);
    view->setTimelineModel(m_timeline);
    view->setHistory(&m_monitor->history());
    view->setConnectionState(tr("Connecting to %n host(s)…", nullptr, int(inventory.hosts.size())),
                             false);

    connect(m_monitor, &ClusterMonitor::snapshotChanged, this,
            [this](const ClusterSnapshot &snapshot) {
                m_findings->setFindings(snapshot.findings);
                if (!m_view)
                    return;
                // Until every layer has answered once, a partial picture would show
                // missing layers as down; the header says what is still awaited.
                if (!m_monitor->firstRoundDone())
                    return;
                m_view->sync(snapshot);
            });
    connect(m_monitor, &ClusterMonitor::firstRoundFinished, this, [this] {
        if (!m_view)
            return;
        if (!m_view->lastSnapshot())
            m_view->sync(m_monitor->snapshot());
        Q_EMIT firstOverviewShown();
    });
    connect(m_monitor, &ClusterMonitor::eventsOccurred, m_timeline, &TimelineModel::append);
    connect(m_monitor, &ClusterMonitor::hostKeyUnknown, this,
            [this](const QString &host, const QString &keyType, const QString &fingerprint) {
                Q_EMIT problemFound(
                    tr("Unknown host key"),
                    tr("%1 presented a %2 key with fingerprint\n%3\nthat known_hosts does not "
                       "list. Nothing was sent to it. Check the fingerprint on the host, add it "
                       "to known_hosts (ssh-keyscan -p PORT HOST >> ~/.ssh/known_hosts) and "
                       "open the cluster again.")
                        .arg(host, keyType, fingerprint));
            });
    m_monitor->start();
}

ClusterSession::~ClusterSession()
{
    m_monitor->stop();
}

} // namespace Pilothouse
