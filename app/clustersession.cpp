#include "app/clustersession.h"

#include "app/inventory/credentials.h"
#include "app/monitor/backgroundpriority.h"
#include "app/monitor/clustermonitor.h"
#include "models/findings.h"
#include "models/findingsmodel.h"
#include "models/hostsmodel.h"
#include "models/timelinemodel.h"
#include "ui/clusterview.h"

#include <QDeadlineTimer>
#include <QEvent>
#include <QMutex>
#include <QRandomGenerator>
#include <QThread>

namespace Pilothouse {
namespace {

// Monitor threads still winding down, for waitForMonitors() at exit.
QMutex s_threadsLock;
QList<QThread *> s_threads;
} // namespace

ClusterSession::ClusterSession(const Inventory &inventory, ClusterView *view, QObject *parent)
    : QObject(parent)
    , m_inventory(inventory)
    , m_view(view)
    , m_hosts(new HostsModel(this))
    , m_findings(new FindingsModel(this))
    , m_timeline(new TimelineModel(this))
{
    qRegisterMetaType<ClusterSnapshot>();
    qRegisterMetaType<QList<ClusterEvent>>();

    m_hosts->setHosts(inventory.hosts);
    view->setHostsModel(m_hosts);
    view->setFindingsModel(m_findings);
    view->setTimelineModel(m_timeline);
    view->setHistory(&m_history);
    view->setConnectionState(tr("Connecting to %n host(s)…", nullptr, int(inventory.hosts.size())),
                             false);
    view->installEventFilter(this);
    updatePollInterval();

    // Parentless: the thread outlives this session until its monitor has stopped.
    m_thread = new QThread;
    m_thread->setObjectName(QStringLiteral("monitor ") + inventory.displayName());
    {
        QMutexLocker locker(&s_threadsLock);
        s_threads.append(m_thread);
    }
    connect(m_thread, &QThread::finished, m_thread, [thread = m_thread] {
        {
            QMutexLocker locker(&s_threadsLock);
            s_threads.removeAll(thread);
        }
        thread->deleteLater();
    });
    m_home = new QObject;
    m_home->moveToThread(m_thread);
    connect(m_thread, &QThread::finished, m_home, &QObject::deleteLater);
    m_thread->start();

    // Everything the monitor owns is created on its thread, timers and sockets
    // included. Blocking, but only for the construction and wiring (no network
    // I/O: start() only sets the probes going), so that this session exists for
    // as long as the monitor can call it.
    QMetaObject::invokeMethod(
        m_home,
        [this, home = m_home, inventory] {
            // Below the GUI thread, and so are the SSH and HTTP threads it starts.
            lowerCurrentThreadPriority();
            // The credentials: the keychain's copies first when there is a
            // keychain (≤ 3 s), else the secrets_dir files.
            if (Keychain::available()) {
                auto *keychain = new Keychain(home);
                keychain->load(
                    inventory,
                    [this, keychain, home, inventory](const Result<QStringList> &loaded) {
                        keychain->deleteLater();
                        if (!loaded) {
                            const QString message = loaded.error().message;
                            QMetaObject::invokeMethod(this, [this, message] {
                                Q_EMIT problemFound(tr("The keychain could not be read"),
                                                    message + tr(". The secrets_dir files are "
                                                                 "used instead."));
                            });
                        }
                        startMonitor(home, inventory);
                    },
                    3000);
                return;
            }
            startMonitor(home, inventory);
        },
        Qt::BlockingQueuedConnection);
}

// On the monitor's thread.
void ClusterSession::startMonitor(QObject *home, const Inventory &inventory)
{
    ClusterMonitor::Options options;
    options.intervalMs = m_intervalMs.loadRelaxed();
    // A console shows what it has after this long and marks what is missing as
    // stale; `status` waits longer because it prints once.
    options.firstRoundTimeoutMs = 5000;
    options.tickOffsetMs = int(QRandomGenerator::global()->bounded(options.intervalMs));
    const Result<QString> password = ClusterMonitor::readMonitorPassword(inventory);
    if (password) {
        options.monitorPassword = password.value();
    } else {
        // The other layers are still worth watching; PostgreSQL will say it refused us.
        const QString message = password.error().toString();
        QMetaObject::invokeMethod(this, [this, message] {
            Q_EMIT problemFound(tr("No password for the monitoring role"), message);
        });
    }
    auto *monitor = new ClusterMonitor(inventory, options, home);
    // Queued: the receivers live on the GUI thread.
    connect(monitor, &ClusterMonitor::snapshotChanged, this, &ClusterSession::onSnapshot);
    connect(monitor, &ClusterMonitor::firstRoundFinished, this, [this] {
        m_firstRoundDone = true;
        if (m_view && !m_view->lastSnapshot())
            m_view->sync(m_last);
        Q_EMIT firstOverviewShown();
    });
    connect(monitor, &ClusterMonitor::eventsOccurred, m_timeline, &TimelineModel::append);
    connect(monitor, &ClusterMonitor::hostKeyUnknown, this,
            [this](const QString &host, const QString &keyType, const QString &fingerprint) {
                Q_EMIT problemFound(
                    tr("Unknown host key"),
                    tr("%1 presented a %2 key with fingerprint\n%3\nthat known_hosts does "
                       "not list. Nothing was sent to it. Check the fingerprint on the "
                       "host, add it to known_hosts (ssh-keyscan -p PORT HOST >> "
                       "~/.ssh/known_hosts) and open the cluster again.")
                        .arg(host, keyType, fingerprint));
            });
    monitor->start();
}

ClusterSession::~ClusterSession()
{
    // The monitor is deleted on its own thread (its destructor stops every
    // probe and closes the SSH sessions), then the thread ends and goes.
    QMetaObject::invokeMethod(m_home, [home = m_home] {
        qDeleteAll(home->children());
        QThread::currentThread()->quit();
    });
}

void ClusterSession::waitForMonitors(int timeoutMs)
{
    const QDeadlineTimer deadline(timeoutMs);
    for (;;) {
        QThread *thread = nullptr;
        {
            QMutexLocker locker(&s_threadsLock);
            if (s_threads.isEmpty())
                return;
            thread = s_threads.takeFirst();
        }
        if (!thread->wait(deadline))
            return;
    }
}

bool ClusterSession::eventFilter(QObject *watched, QEvent *event)
{
    if (watched == m_view && (event->type() == QEvent::Show || event->type() == QEvent::Hide))
        updatePollInterval();
    return QObject::eventFilter(watched, event);
}

int ClusterSession::backgroundIntervalMs()
{
    static const int interval = [] {
        bool ok = false;
        const int ms = qEnvironmentVariableIntValue("PILOTHOUSE_POLL_BEHIND_MS", &ok);
        return ok && ms >= ForegroundIntervalMs && ms <= 60000 ? ms : DefaultBackgroundIntervalMs;
    }();
    return interval;
}

void ClusterSession::updatePollInterval()
{
    // Hidden behind another cluster's page (or the welcome view) in a shown
    // window: polled less often, so that many open clusters cost the machine and
    // the clusters little. A window not shown at all (a test, a script) polls at
    // full rate: there is nothing in front of this cluster.
    const bool behind = m_view && !m_view->isVisible() && m_view->window()->isVisible();
    const int interval = behind ? backgroundIntervalMs() : ForegroundIntervalMs;
    if (m_intervalMs.fetchAndStoreRelaxed(interval) == interval)
        return;
    Q_EMIT pollIntervalChanged(interval);
    if (!m_home)
        return; // the monitor starts with it
    QMetaObject::invokeMethod(m_home, [home = m_home, interval] {
        if (auto *monitor = home->findChild<ClusterMonitor *>())
            monitor->setIntervalMs(interval);
    });
}

void ClusterSession::onSnapshot(const ClusterSnapshot &snapshot)
{
    m_last = snapshot;
    m_findings->setFindings(snapshot.findings);
    const auto counts = Findings::Counts::of(snapshot.findings);
    const Severity worst = counts.worst();
    const QString text =
        counts.problems() == 0
            ? tr("every layer agrees")
            : tr("%n finding(s), worst: %1", nullptr, counts.problems())
                  .arg(worst == Severity::Critical ? tr("critical") : tr("warning"));
    if (worst != m_health || text != m_healthText) {
        m_health = worst;
        m_healthText = text;
        Q_EMIT healthChanged(worst, text);
    }
    // Several probes answer within one tick; the charts want one point per tick.
    const qint64 t = snapshot.takenAt.toMSecsSinceEpoch();
    if (t - m_lastHistoryMs >= m_intervalMs.loadRelaxed() * 9 / 10) {
        m_lastHistoryMs = t;
        m_history.record(snapshot);
    }
    // Until every layer has answered once, a partial picture would show the
    // missing layers as down; the header says the console is connecting.
    if (m_view && m_firstRoundDone)
        m_view->sync(snapshot);
}

} // namespace Pilothouse
