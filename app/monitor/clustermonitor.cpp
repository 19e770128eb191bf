#include "app/monitor/clustermonitor.h"

#include "app/connectors/docker/dockerclient.h"
#include "app/connectors/docker/dockereventstream.h"
#include "app/connectors/docker/dockerreaders.h"
#include "app/connectors/docker/dockerreply.h"
#include "app/connectors/etcd/etcdclusterprobe.h"
#include "app/connectors/pg/pgnodeprobe.h"
#include "app/connectors/pg/pgparse.h"
#include "app/connectors/pg/pgpoolprobe.h"
#include "app/connectors/ssh/sshoptions.h"
#include "app/connectors/ssh/sshsession.h"
#include "app/inventory/credentials.h"
#include "app/monitor/clusterevents.h"
#include "app/monitor/proxyprobe.h"
#include "models/findings.h"

#include <QElapsedTimer>
#include <QFile>

namespace Pilothouse {
namespace {
const QString DockerSocket = QStringLiteral("/var/run/docker.sock");
constexpr int SshRetryMs = 3000;
constexpr int PublishDelayMs = 100; // coalesces the answers of one tick into one snapshot
// How often the slower reads run, whatever the tick interval (at least once a tick).
constexpr qint64 SwarmEveryMs = 5000;
constexpr qint64 CertificateEveryMs = 30000; // certificates change rarely; a handshake costs
constexpr qint64 HttpsEveryMs = 5000;        // a request through the proxy is a TLS handshake too
constexpr int RepmgrFirstReadMs = 3000;   // how long the first round waits for repmgr's view
// A probe asked while its last refresh still runs would only queue behind it.
template<typename Probe> void refreshIfIdle(Probe *probe)
{
    if (!probe->isRefreshing())
        probe->refresh();
}

} // namespace

struct ClusterMonitor::HostLink
{
    InventoryHost host;
    SshSession *ssh = nullptr;
    DockerClient *docker = nullptr;
    HostState state;
    QElapsedTimer sinceAttempt;
    bool latencyBusy = false;
};

ClusterMonitor::ClusterMonitor(Inventory inventory, Options options, QObject *parent)
    : QObject(parent)
    , m_inventory(std::move(inventory))
    , m_options(std::move(options))
{
    m_tick.setInterval(m_options.intervalMs);
    // Precise: a coarse 1 s timer is moved onto the next whole second, so every
    // monitor in a console with many clusters would poll (and hand its snapshot
    // to the GUI thread) at the same instant, whatever tickOffsetMs says.
    m_tick.setTimerType(Qt::PreciseTimer);
    connect(&m_tick, &QTimer::timeout, this, &ClusterMonitor::tick);
    m_publish.setSingleShot(true);
    m_publish.setInterval(PublishDelayMs);
    connect(&m_publish, &QTimer::timeout, this, &ClusterMonitor::publish);
    m_firstRoundDeadline.setSingleShot(true);
    connect(&m_firstRoundDeadline, &QTimer::timeout, this, [this] {
        m_waitingFor.clear();
        answered({});
    });
}

ClusterMonitor::~ClusterMonitor()
{
    stop();
}

Result<QString> ClusterMonitor::readMonitorPassword(const Inventory &inventory)
{
    return Credentials::read(inventory, QStringLiteral("pg_monitor_password"));
}

void ClusterMonitor::start()
{
    const ClusterSettings &s = m_inventory.settings;
    for (const InventoryHost &host : std::as_const(m_inventory.hosts)) {
        auto *link = new HostLink;
        link->host = host;
        link->state.name = host.name;
        link->state.address = host.address;
        m_hosts.append(link);
        m_waitingFor.insert(QStringLiteral("ssh:") + host.name);
        connectHost(*link);
    }
    m_waitingFor.insert(QStringLiteral("swarm"));

    for (auto it = s.postgresNodes.cbegin(); it != s.postgresNodes.cend(); ++it) {
        const InventoryHost *host = m_inventory.host(it.value());
        PgNodeProbeConfig config;
        config.name = it.key();
        config.host = it.value();
        config.address = host ? host->address : it.value();
        config.port = s.postgresPort;
        // One connection per node: to repmgr's database when there is one, where
        // repmgr.nodes and repmgr.events live; pg_stat_* read the same from any.
        config.database = s.repmgrDatabase.isEmpty() ? s.database : s.repmgrDatabase;
        config.repmgrDatabase = s.repmgrDatabase;
        config.user = s.monitorUser;
        config.password = m_options.monitorPassword;
        auto *probe = new PgNodeProbe(config, this);
        m_postgres.append(probe);
        m_waitingFor.insert(QStringLiteral("pg:") + config.name);
        connect(
            probe, &PgNodeProbe::refreshed, this, [this, probe](const PostgresNodeState &state) {
                // The first answer should carry repmgr's view too: its second connection may still
                // be opening.
                if (!m_firstRoundDone && state.reachable && state.repmgr.isEmpty() &&
                    !probe->config().repmgrDatabase.isEmpty() &&
                    m_started.elapsed() < RepmgrFirstReadMs) {
                    QTimer::singleShot(100, probe, [probe] { refreshIfIdle(probe); });
                    return;
                }
                auto it =
                    std::find_if(m_working.postgres.begin(), m_working.postgres.end(),
                                 [&](const PostgresNodeState &n) { return n.name == state.name; });
                if (it == m_working.postgres.end())
                    m_working.postgres.append(state);
                else
                    *it = state;
                answered(QStringLiteral("pg:") + state.name);
                schedulePublish();
            });
        // Every node holds a replicated copy of repmgr.events; the primary's is the one that is
        // complete. Keys drop the repeats when another node reports the same rows.
        connect(probe, &PgNodeProbe::repmgrEventsRead, this,
                [this](const QString &node, const QList<RepmgrEvent> &events) {
                    const auto it =
                        std::find_if(m_working.postgres.cbegin(), m_working.postgres.cend(),
                                     [&](const PostgresNodeState &n) { return n.name == node; });
                    const QList<RepmgrNodeView> nodes =
                        it == m_working.postgres.cend() ? QList<RepmgrNodeView>() : it->repmgr;
                    if (!events.isEmpty())
                        Q_EMIT eventsOccurred(ClusterEvents::fromRepmgr(events, nodes));
                });
        // A dropped monitoring connection is the earliest sign of a dead node: look again at once.
        connect(probe, &PgNodeProbe::connectionLost, this, [probe] { refreshIfIdle(probe); });
        startProbe(probe);
    }

    if (!s.etcdMembers.isEmpty()) {
        m_etcd = new EtcdClusterProbe(EtcdClusterProbe::membersOf(m_inventory), this);
        m_etcd->setTimeout(2000);
        m_waitingFor.insert(QStringLiteral("etcd"));
        connect(m_etcd, &EtcdClusterProbe::finished, this, &ClusterMonitor::onEtcdRead);
        m_etcd->refresh();
    }

    if (!s.domain.isEmpty() && !s.proxy.isEmpty()) {
        m_proxy = new ProxyProbe(m_inventory, this);
        m_waitingFor.insert(QStringLiteral("proxy"));
        connect(m_proxy, &ProxyProbe::refreshed, this, [this](const ProxyProbe::Reading &r) {
            m_working.routes = r.routes;
            if (!r.replicas.isEmpty()) {
                m_working.appReplicas = r.replicas;
            } else {
                // No proxy's stats answered: keep what was known, marked stale.
                for (AppReplicaState &a : m_working.appReplicas) {
                    a.freshness.stale = true;
                    a.freshness.error = tr("no proxy instance answered for its stats");
                }
            }
            if (!r.certificates.isEmpty())
                m_working.certificates = r.certificates;
            answered(QStringLiteral("proxy"));
            schedulePublish();
        });
    }
    m_running = true;
    m_started.start();
    m_firstRoundDeadline.start(m_options.firstRoundTimeoutMs);
    if (m_options.tickOffsetMs > 0)
        QTimer::singleShot(m_options.tickOffsetMs, this, [this] {
            if (m_running)
                m_tick.start();
        });
    else
        m_tick.start();
}

void ClusterMonitor::stop()
{
    m_running = false;
    m_tick.stop();
    m_publish.stop();
    m_firstRoundDeadline.stop();
    for (HostLink *link : std::as_const(m_hosts)) {
        delete link->docker;
        delete link->ssh;
        delete link;
    }
    m_hosts.clear();
    qDeleteAll(m_postgres);
    m_postgres.clear();
    qDeleteAll(m_pgpools);
    m_pgpools.clear();
    delete m_etcd;
    m_etcd = nullptr;
}

// The first refresh waits for the connection, or for its attempt to fail:
// asked earlier, a probe can only say "still connecting", which is no answer.
template<typename Probe> void ClusterMonitor::startProbe(Probe *probe)
{
    connect(probe, &Probe::connected, probe, [probe] { refreshIfIdle(probe); });
    QTimer::singleShot(probe->config().connectTimeoutMs + 250, probe, [probe] {
        if (!probe->isRefreshing() && !probe->state().freshness.readAt.isValid())
            probe->refresh();
    });
    probe->start();
}

void ClusterMonitor::connectHost(HostLink &link)
{
    if (!link.ssh) {
        link.ssh = new SshSession(
            SshOptions::fromInventory(link.host, m_inventory.settings.knownHosts), this);
        HostLink *l = &link;
        connect(link.ssh, &SshSession::connected, this, [this, l] {
            l->ssh->forwardUnixSocket(DockerSocket);
            l->latencyBusy = true;
            l->ssh->measureLatency();
        });
        connect(link.ssh, &SshSession::failed, this, [this, l](const Error &error) {
            l->state.reachable = false;
            l->state.freshness.stale = true;
            l->state.freshness.error = error.message;
            l->latencyBusy = false;
            answered(QStringLiteral("ssh:") + l->host.name);
            schedulePublish();
        });
        connect(link.ssh, &SshSession::disconnected, this, [this, l](const Error &reason) {
            l->state.reachable = false;
            l->state.freshness.stale = true;
            l->state.freshness.error = reason.message;
            l->latencyBusy = false;
            delete l->docker;
            l->docker = nullptr;
            schedulePublish();
        });
        connect(link.ssh, &SshSession::hostKeyUnknown, this,
                [this, l](const QString &host, const QString &type, const QString &fingerprint) {
                    l->state.reachable = false;
                    l->state.freshness.stale = true;
                    l->state.freshness.error =
                        tr("unknown %1 host key %2: not in %3; accept it to connect")
                            .arg(type, fingerprint, m_inventory.settings.knownHosts);
                    l->ssh->rejectHostKey();
                    answered(QStringLiteral("ssh:") + l->host.name);
                    schedulePublish();
                    Q_EMIT hostKeyUnknown(host, type, fingerprint);
                });
        connect(link.ssh, &SshSession::latencyMeasured, this, [this, l](double ms) {
            l->latencyBusy = false;
            l->state.reachable = true;
            l->state.sshLatencyMs = ms;
            l->state.freshness = Freshness{QDateTime::currentDateTimeUtc(), false, {}};
            answered(QStringLiteral("ssh:") + l->host.name);
            schedulePublish();
        });
        connect(link.ssh, &SshSession::latencyFailed, this, [this, l](const Error &error) {
            l->latencyBusy = false;
            l->state.freshness.stale = true;
            l->state.freshness.error = error.message;
            answered(QStringLiteral("ssh:") + l->host.name);
            schedulePublish();
        });
        connect(link.ssh, &SshSession::forwardReady, this,
                [this, l](const QString &, const QString &local) {
                    delete l->docker;
                    DockerEndpoint endpoint;
                    endpoint.socketPath = local;
                    endpoint.name = l->host.name;
                    endpoint.requestTimeoutMs = 5000;
                    l->docker = new DockerClient(endpoint, this);
                    // Container events are per engine, so every host gets its own stream; service
                    // and node events come from each manager alike and only coalesce into one
                    // re-read. Only lifecycle events: every health check is an exec that
                    // reports exec_create/exec_start/exec_die (8 a second on the lab), and
                    // re-reading the Swarm for each of them was most of the monitor's CPU.
                    auto *events = new DockerEventStream(l->docker, l->docker);
                    events->setFilters(
                        {{QStringLiteral("type"),
                          {QStringLiteral("container"), QStringLiteral("service"),
                           QStringLiteral("node")}},
                         {QStringLiteral("event"),
                          {QStringLiteral("create"), QStringLiteral("start"), QStringLiteral("die"),
                           QStringLiteral("kill"), QStringLiteral("oom"), QStringLiteral("stop"),
                           QStringLiteral("destroy"), QStringLiteral("pause"),
                           QStringLiteral("unpause"), QStringLiteral("update"),
                           QStringLiteral("remove")}}});
                    connect(events, &DockerEventStream::received, this,
                            [this, l](const DockerEvent &event) {
                                if (const auto e = ClusterEvents::fromDocker(event, l->host.name))
                                    Q_EMIT eventsOccurred({*e});
                                onDockerEvent(event);
                            });
                    events->start();
                    refreshSwarm();
                });
    }
    link.sinceAttempt.start();
    link.ssh->connectToHost();
}

void ClusterMonitor::tick()
{
    for (HostLink *link : std::as_const(m_hosts)) {
        switch (link->ssh->state()) {
        case SshSession::State::Connected:
            if (!link->latencyBusy) {
                link->latencyBusy = true;
                link->ssh->measureLatency();
            }
            break;
        case SshSession::State::Disconnected:
            if (!link->sinceAttempt.isValid() || link->sinceAttempt.elapsed() >= SshRetryMs)
                connectHost(*link);
            break;
        case SshSession::State::Connecting:
        case SshSession::State::HostKeyDecision:
            break;
        }
    }
    // Docker events announce task, service and node changes at once; the
    // full re-read is the safety net for anything an event stream missed.
    if (due(m_lastSwarmMs, SwarmEveryMs)) {
        m_lastSwarmMs = m_started.elapsed();
        refreshSwarm();
    }
    for (PgNodeProbe *probe : std::as_const(m_postgres)) {
        refreshIfIdle(probe);
    }
    for (PgpoolProbe *probe : std::as_const(m_pgpools)) {
        refreshIfIdle(probe);
    }
    if (m_etcd && !m_etcd->isRunning())
        m_etcd->refresh();
    refreshProxy();
}

bool ClusterMonitor::due(qint64 lastMs, qint64 everyMs) const
{
    // Half a tick early counts: timers fire a little before or after their time.
    return lastMs < 0 || m_started.elapsed() - lastMs >= everyMs - m_tick.interval() / 2;
}

void ClusterMonitor::setIntervalMs(int intervalMs)
{
    if (intervalMs == m_tick.interval())
        return;
    const bool faster = intervalMs < m_tick.interval();
    m_options.intervalMs = intervalMs;
    m_tick.setInterval(intervalMs); // restarts it when active
    // Brought on screen: what is shown should be current now, not in a tick.
    if (faster && m_running && m_tick.isActive())
        tick();
}

void ClusterMonitor::refreshProxy()
{
    if (!m_proxy || m_proxy->isRefreshing())
        return;
    // Every instance of the proxy service, where Swarm runs it (host-mode ports).
    QStringList hosts;
    for (const TaskState &t : std::as_const(m_working.tasks)) {
        if (t.service == m_inventory.settings.proxy && t.desiredState == u"running" &&
            !hosts.contains(t.hostname))
            hosts.append(t.hostname);
    }
    if (hosts.isEmpty())
        return; // the Swarm has not been read yet
    hosts.sort();
    // Counted from the last refresh that made the request, so that the first
    // refresh (whenever the Swarm's answer allows it) always has both.
    const bool https = due(m_lastHttpsMs, HttpsEveryMs);
    const bool certificates = due(m_lastCertificateMs, CertificateEveryMs);
    if (https)
        m_lastHttpsMs = m_started.elapsed();
    if (certificates)
        m_lastCertificateMs = m_started.elapsed();
    m_proxy->refresh(hosts, https, certificates);
}

DockerClient *ClusterMonitor::swarmClient() const
{
    // The Swarm leader's engine first: it answers for the whole Swarm without a hop.
    DockerClient *any = nullptr;
    for (HostLink *link : m_hosts) {
        if (!link->docker || !link->state.reachable)
            continue;
        const bool leader = std::any_of(
            m_working.swarmNodes.cbegin(), m_working.swarmNodes.cend(),
            [&](const SwarmNodeState &n) { return n.leader && n.hostname == link->host.name; });
        if (leader)
            return link->docker;
        if (!any)
            any = link->docker;
    }
    return any;
}

void ClusterMonitor::refreshSwarm()
{
    if (m_swarmBusy) {
        m_swarmAgain = true;
        return;
    }
    DockerClient *client = swarmClient();
    if (!client)
        return;
    m_swarmBusy = true;
    m_swarmAgain = false;
    const QString stack = m_inventory.settings.stack;
    const auto fail = [this](const QString &what, const Error &error) {
        m_swarmBusy = false;
        qWarning("swarm: %s: %s", qPrintable(what), qPrintable(error.message));
        answered(QStringLiteral("swarm"));
    };
    DockerReply *nodesReply = client->nodes();
    connect(nodesReply, &DockerReply::finished, this, [=, this] {
        nodesReply->deleteLater();
        const auto doc = nodesReply->json();
        if (!doc)
            return fail(QStringLiteral("nodes"), doc.error());
        const auto nodes = DockerReaders::readNodes(doc.value());
        if (!nodes)
            return fail(QStringLiteral("nodes"), nodes.error());
        DockerReply *servicesReply = client->services();
        connect(servicesReply, &DockerReply::finished, this, [=, this] {
            servicesReply->deleteLater();
            const auto sdoc = servicesReply->json();
            if (!sdoc)
                return fail(QStringLiteral("services"), sdoc.error());
            auto services = DockerReaders::readServices(sdoc.value());
            if (!services)
                return fail(QStringLiteral("services"), services.error());
            QList<ServiceState> ours;
            for (const ServiceState &sv : services.value()) {
                if (sv.stack == stack)
                    ours.append(sv);
            }
            DockerReply *tasksReply =
                client->tasks({{QStringLiteral("desired-state"), {QStringLiteral("running")}}});
            connect(tasksReply, &DockerReply::finished, this, [=, this] {
                tasksReply->deleteLater();
                const auto tdoc = tasksReply->json();
                if (!tdoc)
                    return fail(QStringLiteral("tasks"), tdoc.error());
                const auto tasks = DockerReaders::readTasks(tdoc.value(), ours, nodes.value());
                if (!tasks)
                    return fail(QStringLiteral("tasks"), tasks.error());
                onSwarmRead(nodes.value(), ours, tasks.value());
            });
        });
    });
}

void ClusterMonitor::onSwarmRead(QList<SwarmNodeState> nodes, QList<ServiceState> services,
                                 QList<TaskState> tasks)
{
    m_swarmBusy = false;
    // Tasks of other stacks were read too; keep ours.
    QSet<QString> ourServices;
    for (const ServiceState &sv : services)
        ourServices.insert(sv.name);
    tasks.removeIf([&](const TaskState &t) { return !ourServices.contains(t.service); });
    m_working.swarmNodes = std::move(nodes);
    m_working.services = std::move(services);
    m_working.tasks = std::move(tasks);
    syncPgpoolProbes();
    if (m_working.routes.isEmpty())
        refreshProxy(); // the first time the proxy's hosts are known
    answered(QStringLiteral("swarm"));
    schedulePublish();
    if (m_swarmAgain)
        refreshSwarm();
}

void ClusterMonitor::onDockerEvent(const DockerEvent &event)
{
    refreshSwarm();
    if (event.type != u"container")
        return;
    // A PostgreSQL container that died or started: ask that node now, not at the next tick.
    const QString service = event.attributes.value(QStringLiteral("com.docker.swarm.service.name"));
    for (PgNodeProbe *probe : std::as_const(m_postgres)) {
        if (service.endsWith(u'_' + probe->config().name))
            refreshIfIdle(probe);
    }
}

void ClusterMonitor::syncPgpoolProbes()
{
    const ClusterSettings &s = m_inventory.settings;
    QSet<QString> live;
    for (const TaskState &t : std::as_const(m_working.tasks)) {
        if (t.service != s.pgpoolService || t.desiredState != u"running")
            continue;
        live.insert(t.id);
        if (m_pgpools.contains(t.id))
            continue;
        const InventoryHost *host = m_inventory.host(t.hostname);
        PgpoolProbeConfig config;
        config.task = QStringLiteral("%1.%2").arg(t.service).arg(t.slot);
        config.host = t.hostname;
        config.address = host ? host->address : t.hostname;
        config.port = s.pgpoolPort;
        config.database = s.database;
        config.user = s.monitorUser;
        config.password = m_options.monitorPassword;
        auto *probe = new PgpoolProbe(config, this);
        m_pgpools.insert(t.id, probe);
        const QString key = QStringLiteral("pgpool:") + t.id;
        if (!m_firstRoundDone)
            m_waitingFor.insert(key);
        connect(probe, &PgpoolProbe::refreshed, this, [this, key](const PgpoolInstanceState &) {
            answered(key);
            schedulePublish();
        });
        connect(probe, &PgpoolProbe::connectionLost, this, [probe] { refreshIfIdle(probe); });
        startProbe(probe);
    }
    for (auto it = m_pgpools.begin(); it != m_pgpools.end();) {
        if (live.contains(it.key())) {
            ++it;
            continue;
        }
        m_waitingFor.remove(QStringLiteral("pgpool:") + it.key());
        delete it.value();
        it = m_pgpools.erase(it);
    }
}

void ClusterMonitor::onEtcdRead(const EtcdReading &reading)
{
    // A member that stopped answering keeps its last-known raft position, marked stale.
    QList<EtcdMemberState> members = reading.state.members;
    for (EtcdMemberState &m : members) {
        if (!m.freshness.stale)
            continue;
        for (const EtcdMemberState &old : std::as_const(m_working.etcd.members)) {
            if (old.name == m.name && m.raftTerm == 0) {
                m.memberId = old.memberId;
                m.raftTerm = old.raftTerm;
                m.raftIndex = old.raftIndex;
                m.version = old.version;
                m.freshness.readAt = old.freshness.readAt;
            }
        }
    }
    m_working.etcd = reading.state;
    m_working.etcd.members = members;
    m_etcdFindings = reading.findings;
    answered(QStringLiteral("etcd"));
    schedulePublish();
}

void ClusterMonitor::answered(const QString &component)
{
    m_waitingFor.remove(component);
    if (m_firstRoundDone || !m_waitingFor.isEmpty())
        return;
    m_firstRoundDone = true;
    m_firstRoundDeadline.stop();
    publish();
    Q_EMIT firstRoundFinished();
}

void ClusterMonitor::schedulePublish()
{
    if (!m_publish.isActive())
        m_publish.start();
}

void ClusterMonitor::publish()
{
    m_publish.stop();
    ClusterSnapshot next = m_working;
    next.takenAt = QDateTime::currentDateTimeUtc();
    next.hosts.clear();
    for (const HostLink *link : std::as_const(m_hosts))
        next.hosts.append(link->state);
    next.pgpools.clear();
    for (const PgpoolProbe *probe : std::as_const(m_pgpools))
        next.pgpools.append(probe->state());
    std::sort(
        next.pgpools.begin(), next.pgpools.end(),
        [](const PgpoolInstanceState &a, const PgpoolInstanceState &b) { return a.task < b.task; });
    std::sort(
        next.postgres.begin(), next.postgres.end(),
        [](const PostgresNodeState &a, const PostgresNodeState &b) { return a.name < b.name; });
    next.findings = Findings::compute(next, next.takenAt);
    // etcd's own reader also names what only it can see (cluster ids, alarms).
    for (const Finding &f : std::as_const(m_etcdFindings)) {
        const bool known = std::any_of(next.findings.cbegin(), next.findings.cend(),
                                       [&](const Finding &g) { return g.code == f.code; });
        if (!known)
            next.findings.append(f);
    }
    // Snapshots published while the first round is still running miss whole layers;
    // changes are counted from the first complete one, whose findings are the news.
    QList<ClusterEvent> events;
    if (m_firstRoundDone) {
        events = ClusterEvents::fromSnapshots(m_eventsFrom, next);
        if (!m_eventsFrom.takenAt.isValid())
            events.removeIf([](const ClusterEvent &e) { return e.source != u"finding"; });
        m_eventsFrom = next;
    }
    m_snapshot = next;
    Q_EMIT snapshotChanged(m_snapshot);
    if (!events.isEmpty())
        Q_EMIT eventsOccurred(events);
}

} // namespace Pilothouse
