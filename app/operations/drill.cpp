#include "app/operations/drill.h"

#include "app/connectors/ssh/sshcommand.h"
#include "app/monitor/clustermonitor.h"
#include "app/operations/audittrail.h"
#include "app/operations/operationcontext.h"
#include "app/operations/operationlock.h"
#include "app/operations/switchover.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSet>
#include <QTimer>

#include <algorithm>

namespace Pilothouse {

namespace {

constexpr int PollMs = 100;
// Healthy means healthy for this long: right after a rejoin or a follow, a
// standby's supervisor may restart its WAL receiver once (it rewrites the
// conninfo repmgr quoted, checked every 10 s), a second without streaming.
constexpr qint64 HealthySettleMs = 12000;

bool isPrimaryScenario(const QString &s)
{
    return s == u"kill-primary" || s == u"stop-primary-host" || s == u"partition-primary";
}

bool isEtcdScenario(const QString &s)
{
    return s == u"stop-etcd-member" || s == u"lose-etcd-quorum";
}

Error error(const QString &message)
{
    return Error{message, {}, 0, 0};
}

// The services whose tasks the time axis follows (the app's six replicas
// would only add noise: its tiles have their own line).
bool followedService(const QString &service)
{
    return service.startsWith(u"pg-") || service.startsWith(u"etcd") || service == u"pgpool";
}

} // namespace

// What every layer looked like at one moment, reduced to what the time axis compares.
struct Drill::Sample
{
    qint64 ms = 0;
    QStringList primaries;         // reachable nodes that say they are primary
    QHash<QString, QString> nodes; // pg-1 -> "primary tl 3" / "standby of pg-2, streaming" / "down"
    QHash<QString, QString>
        pgpoolPrimary; // host -> backend it routes writes to; "" none; absent: unreachable
    QHash<QString, QString> pgpoolText; // host -> description
    int etcdHealthy = 0;
    bool quorum = false;
    QString leader;
    QHash<QString, int> routes; // proxy host -> HTTP status (0: no answer)
    int appHealthy = 0;
    QHash<QString, QString> tasks; // service -> "running@swarm-01, starting@swarm-02"
    QHash<QString, bool> hosts;    // host -> SSH answers
    int pgpoolsRouting = 0;        // reachable instances that route writes to a primary
    int pgpoolWanted = 0;          // the service's desired replicas
};

// What was done to the cluster, so that restore() and the undo can take it back.
struct Drill::Fault
{
    QString kind;         // kill-container, stop-engine, partition, scale-to-zero
    QString host;         // stop-engine, partition
    QStringList services; // scale-to-zero: the services scaled down
    bool active = false;
};

Drill::Drill(Inventory inventory, DrillOptions options, AuditTrail *audit, OperationLock *lock,
             QObject *parent)
    : QObject(parent)
    , m_inventory(std::move(inventory))
    , m_options(std::move(options))
    , m_audit(audit)
    , m_lock(lock)
{
    m_report.scenario = m_options.scenario;
    m_report.reason = m_options.reason;
}

Drill::~Drill()
{
    if (m_runbook && m_runbook->isRunning())
        m_runbook->cancel(QStringLiteral("the drill was destroyed"));
}

QStringList Drill::scenarios()
{
    return {QStringLiteral("kill-primary"),      QStringLiteral("stop-primary-host"),
            QStringLiteral("partition-primary"), QStringLiteral("kill-pgpool"),
            QStringLiteral("stop-etcd-member"),  QStringLiteral("lose-etcd-quorum")};
}

QString Drill::describeScenario(const QString &scenario)
{
    if (scenario == u"kill-primary")
        return QStringLiteral("kill the primary's container through the Docker API (Swarm restarts "
                              "it; it must come back as a standby of the new primary)");
    if (scenario == u"stop-primary-host")
        return QStringLiteral("stop the Docker engine of the primary's host over SSH, keep it down "
                              "until a standby is promoted, then start it again");
    if (scenario == u"partition-primary")
        return QStringLiteral("cut the primary's host off its peers with a firewall table over SSH "
                              "(the console keeps its SSH; the table deletes itself after a safety "
                              "delay), then heal");
    if (scenario == u"kill-pgpool")
        return QStringLiteral("kill one pgpool task's container through the Docker API (Swarm "
                              "restarts it)");
    if (scenario == u"stop-etcd-member")
        return QStringLiteral("scale the etcd leader's service to 0 through the Docker API (Swarm "
                              "keeps it down), then back to 1");
    if (scenario == u"lose-etcd-quorum")
        return QStringLiteral(
            "scale two etcd members' services to 0 (quorum lost), then back to 1");
    return {};
}

QString Drill::preflightText() const
{
    QString text;
    text += QStringLiteral("Drill %1: %2.\n")
                .arg(m_options.scenario, describeScenario(m_options.scenario));
    text += QStringLiteral(
        "Before acting: take the cluster's operation lock (refused if someone holds it or etcd has "
        "no quorum); check that every host answers over SSH, one primary, both standbys "
        "streaming from it, every pgpool sees the three backends up and the same primary, etcd "
        "3/3 with a leader. Then read the failover settings (repmgr.conf, pgpool.conf, etcd "
        "election timeout, Swarm restart delays) and predict the write outage.\n");
    text +=
        QStringLiteral(
            "During: heartbeat writers commit every %1 ms through each pgpool%2; the cluster is "
            "read "
            "every %3 ms, so detection, promotion, each pgpool's catch-up, the proxy and the app's "
            "first write are placed on one time axis.\n")
            .arg(m_options.writerIntervalMs)
            .arg(m_options.withApp ? QStringLiteral(" and through the proxy to the app")
                                   : QString())
            .arg(m_options.monitorIntervalMs);
    text += QStringLiteral("After: restore what was stopped, wait until the cluster is healthy (up "
                           "to %1 s), read the heartbeats back from the primary (RPO)%2.\n")
                .arg(m_options.healthTimeoutMs / 1000)
                .arg(m_options.finalPrimary.isEmpty()
                         ? QString()
                         : QStringLiteral(" and switch over back to %1 if another node is primary")
                               .arg(m_options.finalPrimary));
    if (isPrimaryScenario(m_options.scenario))
        text +=
            QStringLiteral("Expected: writes fail until a standby is promoted and pgpool routes "
                           "to it (lab: about 5-10 s).\n");
    else if (m_options.scenario == u"kill-pgpool")
        text +=
            QStringLiteral("Expected: clients of the killed pgpool fail until Swarm restarts it "
                           "(about 5-10 s); the app switches to the other pgpool.\n");
    else
        text += QStringLiteral("Expected: no write outage (the database does not use etcd); the "
                               "console's lock and audit mirror wait for quorum.\n");
    return text;
}

bool Drill::isRunning() const
{
    return m_runbook && m_runbook->isRunning();
}

qint64 Drill::nowMs()
{
    return QDateTime::currentMSecsSinceEpoch();
}

double Drill::offset(qint64 ms) const
{
    return ms < 0 ? -1.0 : double(ms - m_startMs) / 1000.0;
}

void Drill::addEvent(const QString &layer, const QString &text, qint64 atMs)
{
    const qint64 at = atMs >= 0 ? atMs : nowMs();
    m_report.events.append(DrillReport::Event{offset(at), layer, text});
    Q_EMIT observed(layer, text);
}

QString Drill::currentPrimary() const
{
    QString primary;
    for (const PostgresNodeState &n : m_last.postgres) {
        if (n.reachable && n.role == u"primary") {
            if (!primary.isEmpty())
                return {}; // two: none is "the" primary
            primary = n.name;
        }
    }
    return primary;
}

QStringList Drill::unhealthy(const ClusterSnapshot &s, const QString &expectedPrimary)
{
    QStringList why;
    QStringList primaries;
    for (const PostgresNodeState &n : s.postgres) {
        if (!n.reachable)
            why.append(QStringLiteral("%1 does not answer").arg(n.name));
        else if (n.role == u"primary")
            primaries.append(n.name);
    }
    if (s.postgres.size() < 3)
        why.append(QStringLiteral("%1 PostgreSQL nodes seen, expected 3").arg(s.postgres.size()));
    if (primaries.size() != 1)
        why.append(primaries.isEmpty() ? QStringLiteral("no primary")
                                       : QStringLiteral("%1 primaries: %2")
                                             .arg(primaries.size())
                                             .arg(primaries.join(QStringLiteral(", "))));
    const QString primary = primaries.size() == 1 ? primaries.constFirst() : QString();
    if (!expectedPrimary.isEmpty() && !primary.isEmpty() && primary != expectedPrimary)
        why.append(QStringLiteral("%1 is primary, expected %2").arg(primary, expectedPrimary));
    for (const PostgresNodeState &n : s.postgres) {
        if (!n.reachable || n.name == primary || primary.isEmpty())
            continue;
        if (n.role != u"standby")
            why.append(QStringLiteral("%1 is %2, not a standby").arg(n.name, n.role));
        else if (n.walReceiverStatus != u"streaming" || !n.upstream.contains(primary))
            why.append(QStringLiteral("%1 is not streaming from %2 (%3 from '%4')")
                           .arg(n.name, primary,
                                n.walReceiverStatus.isEmpty() ? QStringLiteral("no WAL receiver")
                                                              : n.walReceiverStatus,
                                n.upstream));
    }
    int pgpoolWanted = 0;
    for (const ServiceState &svc : s.services) {
        if (svc.name == u"pgpool")
            pgpoolWanted = svc.desiredReplicas;
    }
    int pgpoolsSeen = 0;
    for (const PgpoolInstanceState &p : s.pgpools) {
        if (!p.reachable) {
            why.append(QStringLiteral("pgpool@%1 does not answer%2")
                           .arg(p.host, p.freshness.error.isEmpty()
                                            ? QString()
                                            : QStringLiteral(" (") + p.freshness.error.trimmed() +
                                                  u')'));
            continue;
        }
        ++pgpoolsSeen;
        QStringList down;
        QString routes;
        for (const PgpoolBackend &b : p.backends) {
            if (b.status != u"up" && b.status != u"waiting")
                down.append(b.hostname);
            if (b.role == u"primary")
                routes = b.hostname;
        }
        if (!down.isEmpty())
            why.append(QStringLiteral("pgpool@%1 has %2 down").arg(p.host, down.join(u',')));
        if (!primary.isEmpty() && routes != primary)
            why.append(QStringLiteral("pgpool@%1 routes writes to '%2', not %3")
                           .arg(p.host, routes, primary));
    }
    // Swarm's view too: a task whose health check has not passed yet is
    // "starting", and Swarm may still replace it.
    for (const ServiceState &svc : s.services) {
        if (svc.mode != u"replicated" || svc.desiredReplicas <= 0)
            continue;
        int running = 0;
        for (const TaskState &t : s.tasks) {
            if (t.service == svc.name && t.desiredState == u"running" &&
                t.currentState == u"running")
                ++running;
        }
        if (running < svc.desiredReplicas)
            why.append(QStringLiteral("service %1: %2 of %3 tasks running")
                           .arg(svc.name)
                           .arg(running)
                           .arg(svc.desiredReplicas));
    }
    if (pgpoolWanted > 0 && pgpoolsSeen < pgpoolWanted)
        why.append(
            QStringLiteral("%1 of %2 pgpool tasks answer").arg(pgpoolsSeen).arg(pgpoolWanted));
    if (!s.etcd.quorum || s.etcd.healthyMembers < s.etcd.clusterSize || s.etcd.clusterSize == 0)
        why.append(QStringLiteral("etcd %1/%2 healthy%3")
                       .arg(s.etcd.healthyMembers)
                       .arg(s.etcd.clusterSize)
                       .arg(s.etcd.quorum ? QString() : QStringLiteral(", no quorum")));
    for (const HostState &h : s.hosts) {
        if (!h.reachable)
            why.append(QStringLiteral("%1 does not answer over SSH").arg(h.name));
    }
    // The Swarm itself: after a host was cut off, its managers need a leader
    // again and every node must be ready before tasks are placed as before.
    bool leader = false;
    for (const SwarmNodeState &n : s.swarmNodes) {
        leader = leader || n.leader;
        if (n.state != u"ready")
            why.append(QStringLiteral("Swarm node %1 is %2").arg(n.hostname, n.state));
    }
    if (!s.swarmNodes.isEmpty() && !leader)
        why.append(QStringLiteral("the Swarm has no leader"));
    return why;
}

double Drill::longestGap(const QList<HeartbeatWrite> &writes, const QString &path, qint64 stopMs)
{
    qint64 previous = -1;
    double longest = 0;
    bool failingAtEnd = false;
    bool any = false;
    // One write in flight per path: in sent order, acknowledgements are in order too.
    for (const HeartbeatWrite &w : writes) {
        if (w.path != path)
            continue;
        if (!w.acked()) {
            failingAtEnd = previous >= 0;
            continue;
        }
        any = true;
        if (previous >= 0)
            longest = std::max(longest, double(w.ackedMs - previous) / 1000.0);
        previous = w.ackedMs;
        failingAtEnd = false;
    }
    if (failingAtEnd && stopMs > previous)
        longest = std::max(longest, double(stopMs - previous) / 1000.0);
    return any ? longest : -1;
}

QList<DrillReport::Gap> Drill::gapsOf(const QList<HeartbeatWrite> &writes, const QString &path,
                                      qint64 startMs, qint64 stopMs, qint64 originMs,
                                      double minimumSeconds)
{
    QList<qint64> acks;
    for (const HeartbeatWrite &w : writes) {
        if (w.path == path && w.acked())
            acks.append(w.ackedMs);
    }
    std::sort(acks.begin(), acks.end());
    QList<DrillReport::Gap> gaps;
    if (acks.isEmpty())
        return gaps;
    qint64 previous = startMs >= 0 ? startMs : acks.constFirst();
    auto consider = [&](qint64 from, qint64 to) {
        if (double(to - from) / 1000.0 > minimumSeconds)
            gaps.append(
                DrillReport::Gap{double(from - originMs) / 1000.0, double(to - originMs) / 1000.0});
    };
    for (qint64 a : acks) {
        consider(previous, a);
        previous = a;
    }
    if (stopMs > previous)
        consider(previous, stopMs);
    return gaps;
}

// ------------------------------------------------------------------ the runbook

void Drill::start()
{
    if (m_runbook)
        return;
    m_startMs = nowMs();
    m_report.startedAt = QDateTime::fromMSecsSinceEpoch(m_startMs, Qt::UTC);
    m_report.fault.kind = m_options.scenario;

    auto password = ClusterMonitor::readMonitorPassword(m_inventory);
    ClusterMonitor::Options mo;
    mo.intervalMs = m_options.monitorIntervalMs;
    mo.monitorPassword = password ? password.value() : QString();
    m_monitor = new ClusterMonitor(m_inventory, mo, this);
    connect(m_monitor, &ClusterMonitor::snapshotChanged, this, &Drill::onSnapshot);
    connect(m_monitor, &ClusterMonitor::eventsOccurred, this,
            [this](const QList<ClusterEvent> &events) {
                for (const ClusterEvent &e : events) {
                    // Each node's copy of repmgr.events reports the same event.
                    const QString key = e.text;
                    if (e.source != u"repmgr" || m_injectedMs < 0 || m_seenEvents.contains(key))
                        continue;
                    m_seenEvents.insert(key);
                    addEvent(QStringLiteral("repmgr"), e.text);
                }
            });

    m_ctx =
        new OperationContext(m_inventory, m_audit, m_lock,
                             QStringLiteral("drill ") + m_options.scenario, m_options.reason, this);
    m_ctx->setSnapshotSource([this] { return m_last; });

    m_runbook = new Runbook(buildTree(), this);
    connect(m_runbook, &Runbook::stepStarted, this, &Drill::stepStarted);
    connect(m_runbook, &Runbook::stepFinished, this, &Drill::stepFinished);
    connect(m_runbook, &Runbook::progress, this, &Drill::progress);
    connect(m_runbook, &Runbook::finished, this, &Drill::finish);
    if (m_lock)
        connect(m_lock, &OperationLock::lost, this, [this](const Error &e) {
            addEvent(QStringLiteral("drill"), QStringLiteral("operation lock lost: ") + e.message);
            cancel(QStringLiteral("the operation lock was lost: ") + e.message);
        });
    addEvent(QStringLiteral("drill"), QStringLiteral("drill %1 started").arg(m_options.scenario));
    if (!password)
        addEvent(QStringLiteral("drill"),
                 QStringLiteral("monitor password: ") + password.error().message);
    m_runbook->start();
}

void Drill::cancel(const QString &why)
{
    if (m_runbook && m_runbook->isRunning())
        m_runbook->cancel(why.isEmpty() ? QStringLiteral("cancelled by the operator") : why);
}

RunbookNode Drill::buildTree()
{
    using Done = RunbookStep::Done;
    std::vector<RunbookNode> root;
    if (m_lock)
        root.push_back(m_lock->acquireStep());
    // Opened under the lock: no other operation appends to the chain meanwhile.
    root.push_back(RunbookNode::step(QStringLiteral("open the audit trail"), 15000, [this](Done d) {
        if (!m_audit) {
            d(QStringLiteral("no audit trail"));
            return;
        }
        if (auto e = m_audit->open()) {
            d(*e);
            return;
        }
        auto recordStart = [this, d](const QString &message) {
            m_auditOpen = true;
            m_ctx->recordOperation(m_options.scenario, QStringLiteral("drill start"),
                                   m_options.reason, true);
            d(message);
        };
        if (m_audit->mirrorPrefix().isEmpty()) {
            recordStart(QStringLiteral("%1 (not mirrored)").arg(m_audit->filePath()));
            return;
        }
        m_audit->syncFromEtcd(this, [this, d, recordStart](Result<int> r) {
            if (!r)
                d(r.error());
            else
                recordStart(QStringLiteral("%1, %2 entries taken from etcd")
                                .arg(m_audit->filePath())
                                .arg(r.value()));
        });
    }));

    root.push_back(RunbookNode::sequence(
        QStringLiteral("preflight"),
        {RunbookNode::step(QStringLiteral("read the cluster"), 30000,
                           [this](Done d) { waitFirstRound(std::move(d)); }),
         RunbookNode::step(QStringLiteral("etcd quorum"), 5000,
                           [this](Done d) { checkQuorum(std::move(d)); }),
         RunbookNode::step(QStringLiteral("cluster healthy"), HealthWaitMs + 5000,
                           [this](Done d) { checkHealthy(std::move(d)); }),
         RunbookNode::step(QStringLiteral("SSH and Docker on every host"), 30000,
                           [this](Done d) { connectHosts(std::move(d)); })},
        RunbookNode::ErrorPolicy::ContinueOnError));

    root.push_back(RunbookNode::step(QStringLiteral("predict from the live settings"), 30000,
                                     [this](Done d) { readSettings(std::move(d)); }));

    RunbookNode writers = RunbookNode::step(QStringLiteral("start the heartbeat writers"), 30000,
                                            [this](Done d) { startWriters(std::move(d)); });
    writers.withUndo(
        [this](Done d) {
            if (m_writer && m_writer->isRunning()) {
                m_writer->stop();
                m_writersStoppedMs = nowMs();
            }
            d(QStringLiteral("writers stopped"));
        },
        RunbookStep::UndoPolicy::Always, 5000);

    RunbookNode injectNode = RunbookNode::step(QStringLiteral("inject the fault"), 60000,
                                               [this](Done d) { inject(std::move(d)); });
    // Always: restore what is still broken; after a failure also wait until
    // the cluster is healthy again, so that the lab (or the cluster) is never
    // left half-broken by a drill that stopped early.
    injectNode.uninterruptible().withUndo(
        [this](Done d) {
            restore([this, d](const Result<QString> &r) {
                if (!r || m_healthyMs >= 0) {
                    d(r);
                    return;
                }
                addEvent(QStringLiteral("drill"),
                         QStringLiteral("the drill stopped early: waiting until the cluster is "
                                        "healthy again"));
                waitFor([this] { return unhealthy(m_last).join(QStringLiteral("; ")); },
                        m_options.healthTimeoutMs, d,
                        r.value() + QStringLiteral("; the cluster is healthy again"));
            });
        },
        RunbookStep::UndoPolicy::Always, m_options.healthTimeoutMs + 100000);

    RunbookNode restoreNode = RunbookNode::step(QStringLiteral("restore"), 90000,
                                                [this](Done d) { restore(std::move(d)); });
    restoreNode.uninterruptible();

    root.push_back(RunbookNode::sequence(
        QStringLiteral("act"),
        {writers,
         RunbookNode::step(QStringLiteral("baseline"), 10000,
                           [this](Done d) { baseline(std::move(d)); }),
         injectNode,
         RunbookNode::step(QStringLiteral("observe"), m_options.observeTimeoutMs + 15000,
                           [this](Done d) { observe(std::move(d)); }),
         restoreNode}));

    root.push_back(RunbookNode::sequence(
        QStringLiteral("verify"),
        {RunbookNode::step(QStringLiteral("wait until healthy"), m_options.healthTimeoutMs + 10000,
                           [this](Done d) { waitHealthy(std::move(d)); }),
         RunbookNode::step(QStringLiteral("read the heartbeats back (RPO)"), 40000,
                           [this](Done d) { readBack(std::move(d)); }),
         RunbookNode::step(QStringLiteral("primary back on %1").arg(m_options.finalPrimary), 300000,
                           [this](Done d) { switchBack(std::move(d)); })
             .uninterruptible()}));

    return RunbookNode::sequence(QStringLiteral("drill ") + m_options.scenario, std::move(root));
}

void Drill::waitFor(std::function<QString()> notYet, int timeoutMs, RunbookStep::Done done,
                    const QString &okMessage)
{
    auto *timer = new QTimer(this);
    const qint64 deadline = nowMs() + timeoutMs;
    auto finished = std::make_shared<bool>(false);
    auto check = [this, timer, deadline, timeoutMs, notYet, done, okMessage, finished] {
        if (*finished)
            return;
        const QString why = notYet();
        if (why.isEmpty()) {
            *finished = true;
            timer->deleteLater();
            done(okMessage);
        } else if (nowMs() >= deadline) {
            *finished = true;
            timer->deleteLater();
            done(error(QStringLiteral("not within %1 s: %2").arg(timeoutMs / 1000.0).arg(why)));
        }
    };
    connect(timer, &QTimer::timeout, this, check);
    timer->start(PollMs);
    QTimer::singleShot(0, this, check);
}

void Drill::waitFirstRound(RunbookStep::Done done)
{
    connect(m_monitor, &ClusterMonitor::firstRoundFinished, this, [this, done] {
        // One more snapshot after the first round, so that every layer is in it.
        QTimer::singleShot(m_options.monitorIntervalMs + 200, this, [this, done] {
            m_last = m_monitor->snapshot();
            done(QStringLiteral("%1 hosts, %2 nodes, %3 pgpools, etcd %4/%5")
                     .arg(m_last.hosts.size())
                     .arg(m_last.postgres.size())
                     .arg(m_last.pgpools.size())
                     .arg(m_last.etcd.healthyMembers)
                     .arg(m_last.etcd.clusterSize));
        });
    });
    m_monitor->start();
}

void Drill::checkQuorum(RunbookStep::Done done)
{
    if (auto refusal = OperationLock::quorumRefusal(m_last.etcd, QStringLiteral("drill")))
        done(*refusal);
    else
        done(QStringLiteral("etcd %1/%2 healthy")
                 .arg(m_last.etcd.healthyMembers)
                 .arg(m_last.etcd.clusterSize));
}

void Drill::checkHealthy(RunbookStep::Done done)
{
    // A cluster that is still settling after earlier work (a pgpool whose
    // children restart after a failover, a standby reconnecting) is waited
    // for, with what is wrong said once; one that stays unhealthy is refused.
    const QStringList why = unhealthy(m_last);
    if (!why.isEmpty()) {
        if (m_healthWaitStartMs == 0) {
            m_healthWaitStartMs = nowMs();
            addEvent(QStringLiteral("drill"),
                     QStringLiteral("waiting up to %1 s for the cluster to be healthy: %2")
                         .arg(HealthWaitMs / 1000)
                         .arg(why.join(QStringLiteral("; "))));
        }
        if (nowMs() - m_healthWaitStartMs < HealthWaitMs) {
            QTimer::singleShot(500, this, [this, done] { checkHealthy(done); });
            return;
        }
        done(
            error(QStringLiteral("the cluster is not healthy: ") + why.join(QStringLiteral("; "))));
        return;
    }
    m_oldPrimary = currentPrimary();
    for (const PostgresNodeState &n : m_last.postgres) {
        if (n.name == m_oldPrimary)
            m_oldPrimaryHost = n.host;
    }
    m_report.oldPrimary = m_oldPrimary;
    done(QStringLiteral("primary %1 on %2; standbys streaming; pgpools agree")
             .arg(m_oldPrimary, m_oldPrimaryHost));
}

void Drill::connectHosts(RunbookStep::Done done)
{
    QStringList hosts;
    for (const InventoryHost &h : m_inventory.hosts)
        hosts.append(h.name);
    m_ctx->connectHosts(hosts, 25000, [done](const Result<QString> &r) {
        if (r)
            done(r.value());
        else
            done(r.error());
    });
}

void Drill::readSettings(RunbookStep::Done done)
{
    // Each read is best effort: a setting that cannot be read is assumed at
    // the image's default, and the prediction says so.
    auto pending = std::make_shared<int>(4);
    auto notes = std::make_shared<QStringList>();
    auto one = [this, pending, notes, done] {
        if (--*pending > 0)
            return;
        m_report.prediction = predictDrill(m_options.scenario, m_settings);
        for (const QString &n : std::as_const(*notes))
            m_report.prediction.lines.append(n);
        addEvent(QStringLiteral("drill"), QStringLiteral("prediction: %1 s, slowest layer %2")
                                              .arg(m_report.prediction.seconds, 0, 'f', 1)
                                              .arg(m_report.prediction.slowestLayer));
        done(QStringLiteral("predicted write outage %1 s (slowest: %2)")
                 .arg(m_report.prediction.seconds, 0, 'f', 1)
                 .arg(m_report.prediction.slowestLayer));
    };

    m_ctx->execIn(
        m_oldPrimary, QStringLiteral("postgres"),
        QStringLiteral("grep -E '^(failover|monitor_interval_secs|reconnect_attempts|"
                       "reconnect_interval|child_nodes_disconnect_timeout)=' /etc/repmgr.conf; "
                       "grep -oE 'connect_timeout=[0-9]+' /etc/repmgr.conf | head -n 1 | "
                       "sed 's/^/conninfo=/'"),
        10000, [this, one, notes](const Result<DockerExecResult> &r) {
            if (r && r.value().exitCode == 0)
                m_settings.readRepmgrConf(r.value().stdOut);
            else
                notes->append(QStringLiteral("repmgr.conf not read: ") +
                              OperationContext::describe(r));
            one();
        });

    QString pgpoolHost;
    for (const PgpoolInstanceState &p : m_last.pgpools) {
        if (p.reachable) {
            pgpoolHost = p.host;
            break;
        }
    }
    m_ctx->execIn(
        QStringLiteral("%1@%2").arg(m_inventory.settings.pgpoolService, pgpoolHost),
        QStringLiteral("root"),
        QStringLiteral(
            "grep -E '^(health_check_(period|timeout|max_retries|retry_delay)|"
            "sr_check_period|failover_command|failover_on_backend_shutdown)[[:space:]]*=' "
            "/run/pgpool/etc/pgpool.conf"),
        10000, [this, one, notes](const Result<DockerExecResult> &r) {
            if (r && r.value().exitCode == 0)
                m_settings.readPgpoolConf(r.value().stdOut);
            else
                notes->append(QStringLiteral("pgpool.conf not read: ") +
                              OperationContext::describe(r));
            one();
        });

    const QString etcdMember = m_inventory.settings.etcdMembers.isEmpty()
                                   ? QString()
                                   : m_inventory.settings.etcdMembers.firstKey();
    m_ctx->execIn(etcdMember, QStringLiteral("root"),
                  QStringLiteral("for p in $(pgrep -x etcd); do tr '\\0' '\\n' </proc/$p/environ; "
                                 "done | grep -E '^ETCD_(ELECTION_TIMEOUT|HEARTBEAT_INTERVAL)='"),
                  10000, [this, one, notes](const Result<DockerExecResult> &r) {
                      if (r && r.value().exitCode == 0)
                          m_settings.readEtcdEnvironment(r.value().stdOut);
                      else
                          notes->append(QStringLiteral("etcd environment not read: ") +
                                        OperationContext::describe(r));
                      one();
                  });

    const QString host = m_inventory.hosts.isEmpty() ? QString() : m_inventory.hosts.first().name;
    m_ctx->docker(
        host, "GET", QStringLiteral("/services"), {}, 10000,
        [this, one, notes](const Result<DockerResponse> &r) {
            if (r && r.value().status == 200) {
                const QJsonArray services = QJsonDocument::fromJson(r.value().body).array();
                const QString prefix = m_inventory.settings.stack + u'_';
                for (const QJsonValue &v : services) {
                    const QJsonObject spec = v.toObject().value(u"Spec").toObject();
                    QString name = spec.value(u"Name").toString();
                    if (!name.startsWith(prefix))
                        continue;
                    name = name.mid(prefix.size());
                    const QJsonObject policy =
                        spec.value(u"TaskTemplate").toObject().value(u"RestartPolicy").toObject();
                    const double delay = policy.value(u"Delay").toDouble(-1);
                    if (delay >= 0)
                        m_settings.restartDelays.insert(name, delay / 1e9);
                }
            } else {
                notes->append(QStringLiteral("Swarm restart delays not read"));
            }
            one();
        });
}

void Drill::startWriters(RunbookStep::Done done)
{
    QStringList pgpoolHosts;
    for (const PgpoolInstanceState &p : m_last.pgpools)
        pgpoolHosts.append(p.host);
    pgpoolHosts.removeDuplicates();
    pgpoolHosts.sort();
    QStringList proxyHosts;
    if (m_options.withApp) {
        // Through a proxy the fault does not hit: the drill measures the
        // cluster's failover, not the loss of the one proxy the writer uses.
        for (const InventoryHost &h : m_inventory.hosts) {
            if (h.name != m_oldPrimaryHost) {
                proxyHosts.append(h.name);
                break;
            }
        }
    }
    auto o = HeartbeatWriterOptions::fromInventory(m_inventory, pgpoolHosts, proxyHosts);
    if (!o) {
        done(o.error());
        return;
    }
    HeartbeatWriterOptions wo = o.value();
    wo.intervalMs = m_options.writerIntervalMs;
    if (m_options.scenario == u"partition-primary") {
        // Straight to the old primary: does it acknowledge anything once a
        // standby was promoted (split brain)?
        const InventoryHost *h = m_inventory.host(m_oldPrimaryHost);
        HeartbeatPath direct;
        direct.kind = HeartbeatPath::Kind::Pgpool;
        direct.name = QStringLiteral("direct@") + m_oldPrimary;
        direct.address = h ? h->address : m_oldPrimaryHost;
        direct.port = m_inventory.settings.postgresPort;
        wo.paths.append(direct);
        m_directPath = direct.name;
    }
    m_writer = new HeartbeatWriter(wo, this);
    connect(m_writer, &HeartbeatWriter::pathFailed, this,
            [this](const QString &path, const QString &e) {
                addEvent(QStringLiteral("writer"), QStringLiteral("%1 failing: %2").arg(path, e));
            });
    connect(
        m_writer, &HeartbeatWriter::pathRecovered, this, [this](const QString &path, double gap) {
            addEvent(QStringLiteral("writer"),
                     QStringLiteral("%1 writes again after %2 s").arg(path).arg(gap, 0, 'f', 3));
        });
    connect(m_writer, &HeartbeatWriter::startFailed, this, [done](const Error &e) { done(e); });
    connect(m_writer, &HeartbeatWriter::started, this, [this, done] {
        m_writersStartedMs = nowMs();
        waitFor(
            [this] {
                QStringList silent;
                for (const HeartbeatPathReport &r : m_writer->report()) {
                    if (r.acked == 0)
                        silent.append(r.path);
                }
                return silent.isEmpty() ? QString()
                                        : QStringLiteral("no acknowledged write on ") +
                                              silent.join(QStringLiteral(", "));
            },
            15000, done,
            QStringLiteral("writing on %1 paths every %2 ms, run %3")
                .arg(m_writer->options().paths.size())
                .arg(m_options.writerIntervalMs)
                .arg(m_writer->runId()));
    });
    m_writer->start();
}

void Drill::baseline(RunbookStep::Done done)
{
    QTimer::singleShot(2000, this, [this, done] {
        int acked = 0;
        int failed = 0;
        for (const HeartbeatPathReport &r : m_writer->report()) {
            acked += r.acked;
            failed += r.failed;
        }
        done(QStringLiteral("%1 writes acknowledged, %2 failed before the fault")
                 .arg(acked)
                 .arg(failed));
    });
}

// ------------------------------------------------------------------ faults

void Drill::inject(RunbookStep::Done done)
{
    m_fault = std::make_unique<Fault>();
    const QString scenario = m_options.scenario;
    // The fault is in effect from the moment its command is sent (a kill
    // returns only once the container is gone, ~1 s later): the time axis
    // starts there.
    const qint64 sentMs = nowMs();
    auto injected = [this, done, sentMs](const Result<QString> &r) {
        if (r) {
            m_injectedMs = sentMs;
            m_fault->active = true;
            m_report.fault.target = m_target;
            addEvent(QStringLiteral("drill"), QStringLiteral("fault injected: ") + r.value(),
                     m_injectedMs);
        } else {
            addEvent(QStringLiteral("drill"),
                     QStringLiteral("fault injection failed: ") + r.error().message);
        }
        done(r);
    };
    // The moment is taken when the command returns: the fault is in effect
    // from then on at the latest (the kill itself is a few ms earlier).
    if (scenario == u"kill-primary") {
        m_fault->kind = QStringLiteral("kill-container");
        m_target = m_oldPrimary + u'@' + m_oldPrimaryHost;
        killContainer(m_oldPrimary, m_oldPrimaryHost, injected);
    } else if (scenario == u"kill-pgpool") {
        QString host;
        for (const PgpoolInstanceState &p : m_last.pgpools) {
            if (p.reachable && (host.isEmpty() || p.host < host))
                host = p.host;
        }
        m_fault->kind = QStringLiteral("kill-container");
        m_targetHost = host;
        m_target = m_inventory.settings.pgpoolService + u'@' + host;
        killContainer(m_inventory.settings.pgpoolService, host, injected);
    } else if (isEtcdScenario(scenario)) {
        QString leader;
        QStringList others;
        for (const EtcdMemberState &m : m_last.etcd.members) {
            if (m.isLeader)
                leader = m.name;
            else
                others.append(m.name);
        }
        others.sort();
        m_oldLeader = leader;
        m_targetMembers.clear();
        if (scenario == u"stop-etcd-member") {
            m_targetMembers.append(leader.isEmpty() ? others.value(0) : leader);
        } else {
            // The leader and one follower: quorum is lost and a new election
            // has to happen when one comes back.
            if (!leader.isEmpty())
                m_targetMembers.append(leader);
            for (const QString &o : std::as_const(others)) {
                if (m_targetMembers.size() < 2)
                    m_targetMembers.append(o);
            }
        }
        m_fault->kind = QStringLiteral("scale-to-zero");
        m_target = m_targetMembers.join(u',');
        auto remaining = std::make_shared<int>(int(m_targetMembers.size()));
        auto failures = std::make_shared<QStringList>();
        for (const QString &member : std::as_const(m_targetMembers)) {
            m_fault->services.append(member);
            scaleService(member, 0,
                         [remaining, failures, injected, this](const Result<QString> &r) {
                             if (!r)
                                 failures->append(r.error().message);
                             if (--*remaining > 0)
                                 return;
                             if (failures->isEmpty())
                                 injected(QStringLiteral("etcd %1 scaled to 0").arg(m_target));
                             else
                                 injected(error(failures->join(QStringLiteral("; "))));
                         });
        }
    } else if (scenario == u"stop-primary-host") {
        m_fault->kind = QStringLiteral("stop-engine");
        m_fault->host = m_oldPrimaryHost;
        m_targetHost = m_oldPrimaryHost;
        m_target = m_oldPrimaryHost;
        stopEngine(m_oldPrimaryHost, injected);
    } else if (scenario == u"partition-primary") {
        m_fault->kind = QStringLiteral("partition");
        m_fault->host = m_oldPrimaryHost;
        m_targetHost = m_oldPrimaryHost;
        m_target = m_oldPrimaryHost;
        partition(m_oldPrimaryHost, injected);
    } else {
        done(error(QStringLiteral("unknown scenario ") + scenario));
    }
}

void Drill::killContainer(const QString &service, const QString &host, RunbookStep::Done done)
{
    QString container;
    for (const TaskState &t : m_last.tasks) {
        if (t.service == service && t.hostname == host && t.desiredState == u"running" &&
            t.currentState == u"running" && !t.containerId.isEmpty())
            container = t.containerId;
    }
    if (container.isEmpty()) {
        done(error(QStringLiteral("no running task of %1 on %2").arg(service, host)));
        return;
    }
    m_ctx->docker(host, "POST", QStringLiteral("/containers/%1/kill").arg(container), {}, 10000,
                  [done, service, host, container](const Result<DockerResponse> &r) {
                      if (!r)
                          done(r.error());
                      else if (r.value().status != 204)
                          done(error(QStringLiteral("kill %1 on %2: HTTP %3 %4")
                                         .arg(container.left(12), host)
                                         .arg(r.value().status)
                                         .arg(QString::fromUtf8(r.value().body).trimmed())));
                      else
                          done(QStringLiteral("killed %1's container %2 on %3")
                                   .arg(service, container.left(12), host));
                  });
}

void Drill::scaleService(const QString &service, int replicas, RunbookStep::Done done)
{
    // Through a manager that answers; the one the member runs on may be the
    // one that is stopped in another scenario.
    QString manager;
    for (const HostState &h : m_last.hosts) {
        if (h.reachable && manager.isEmpty())
            manager = h.name;
    }
    if (manager.isEmpty() && !m_inventory.hosts.isEmpty())
        manager = m_inventory.hosts.first().name;
    const QString full = m_inventory.settings.stack + u'_' + service;
    m_ctx->docker(
        manager, "GET", QStringLiteral("/services/") + full, {}, 10000,
        [this, manager, full, replicas, done](const Result<DockerResponse> &r) {
            if (!r) {
                done(r.error());
                return;
            }
            if (r.value().status != 200) {
                done(error(
                    QStringLiteral("read service %1: HTTP %2").arg(full).arg(r.value().status)));
                return;
            }
            const QJsonObject svc = QJsonDocument::fromJson(r.value().body).object();
            const QString id = svc.value(u"ID").toString();
            const qint64 version = svc.value(u"Version").toObject().value(u"Index").toInteger();
            QJsonObject spec = svc.value(u"Spec").toObject();
            QJsonObject mode = spec.value(u"Mode").toObject();
            QJsonObject replicated = mode.value(u"Replicated").toObject();
            if (replicated.value(u"Replicas").toInt(-1) == replicas) {
                done(QStringLiteral("%1 already at %2 replicas").arg(full).arg(replicas));
                return;
            }
            replicated.insert(QStringLiteral("Replicas"), replicas);
            mode.insert(QStringLiteral("Replicated"), replicated);
            spec.insert(QStringLiteral("Mode"), mode);
            m_ctx->docker(manager, "POST",
                          QStringLiteral("/services/%1/update?version=%2").arg(id).arg(version),
                          QJsonDocument(spec).toJson(QJsonDocument::Compact), 15000,
                          [full, replicas, done](const Result<DockerResponse> &u) {
                              if (!u)
                                  done(u.error());
                              else if (u.value().status != 200)
                                  done(
                                      error(QStringLiteral("scale %1 to %2: HTTP %3 %4")
                                                .arg(full)
                                                .arg(replicas)
                                                .arg(u.value().status)
                                                .arg(QString::fromUtf8(u.value().body).trimmed())));
                              else
                                  done(QStringLiteral("%1 scaled to %2").arg(full).arg(replicas));
                          });
        });
}

namespace {

// Over SSH on the host. A dockerd under systemd is stopped with systemctl;
// one started by hand (as in the lab) is stopped with SIGTERM after saving
// its command line and log in the host's /run, from which startScript
// starts it again the same way.
const char *const StopEngineScript = R"SH(set -u
pid=$(cat /run/docker.pid 2>/dev/null || true)
if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then echo "dockerd is not running"; exit 0; fi
if grep -q 'docker.service' /proc/$pid/cgroup 2>/dev/null; then
  systemctl stop docker.socket docker.service && echo "dockerd stopped with systemctl"; exit $?
fi
tr '\0' '\n' </proc/$pid/cmdline >/run/pilothouse-drill-dockerd.cmdline
readlink /proc/$pid/fd/1 >/run/pilothouse-drill-dockerd.log 2>/dev/null || true
kill -TERM "$pid"
i=0
while kill -0 "$pid" 2>/dev/null; do
  i=$((i + 1)); if [ $i -gt 300 ]; then echo "dockerd $pid still running 30 s after SIGTERM" >&2; exit 1; fi
  sleep 0.1
done
echo "dockerd $pid stopped (SIGTERM: its containers were stopped)"
)SH";

const char *const StartEngineScript = R"SH(set -u
pid=$(cat /run/docker.pid 2>/dev/null || true)
if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then echo "dockerd $pid is running"; exit 0; fi
if [ ! -s /run/pilothouse-drill-dockerd.cmdline ]; then
  systemctl start docker.service && echo "dockerd started with systemctl"; exit $?
fi
log=$(cat /run/pilothouse-drill-dockerd.log 2>/dev/null || true)
case "$log" in /*) ;; *) log=/dev/null ;; esac
mapfile -t cmd </run/pilothouse-drill-dockerd.cmdline
rm -f /run/docker.pid /run/docker.sock
setsid env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root "${cmd[@]}" </dev/null >>"$log" 2>&1 &
i=0
until curl -sf --max-time 1 --unix-socket /run/docker.sock http://engine/_ping >/dev/null 2>&1; do
  i=$((i + 1)); if [ $i -gt 300 ]; then echo "dockerd did not answer on /run/docker.sock within 30 s (log: $log)" >&2; exit 1; fi
  sleep 0.1
done
rm -f /run/pilothouse-drill-dockerd.cmdline
echo "dockerd started ($(cat /run/docker.pid))"
)SH";

// Cuts the host off its peers (in and out, forwarded container traffic
// included) but not off the console, with a table that deletes itself
// after SAFETY seconds even if the console dies. nft when installed, else
// iptables with a chain of its own.
const char *const PartitionScript = R"SH(set -u
peers="$1"; safety="$2"
if command -v nft >/dev/null 2>&1; then
  nft delete table inet pilothouse_drill 2>/dev/null || true
  nft -f - <<EOF || exit 1
table inet pilothouse_drill {
  chain input { type filter hook input priority -300; policy accept; ip saddr { $peers } drop; }
  chain output { type filter hook output priority -300; policy accept; ip daddr { $peers } drop; }
  chain forward { type filter hook forward priority -300; policy accept; ip saddr { $peers } drop; ip daddr { $peers } drop; }
}
EOF
  setsid sh -c "sleep $safety; nft delete table inet pilothouse_drill" </dev/null >/dev/null 2>&1 &
  echo "nft table inet pilothouse_drill drops traffic with $peers (deletes itself after $safety s)"
else
  for c in INPUT OUTPUT FORWARD; do while iptables -w -D $c -j PILOTHOUSE_DRILL 2>/dev/null; do :; done; done
  iptables -w -F PILOTHOUSE_DRILL 2>/dev/null || iptables -w -N PILOTHOUSE_DRILL || exit 1
  for p in $(echo "$peers" | tr ',' ' '); do
    iptables -w -A PILOTHOUSE_DRILL -s "$p" -j DROP && iptables -w -A PILOTHOUSE_DRILL -d "$p" -j DROP || exit 1
  done
  for c in INPUT OUTPUT FORWARD; do iptables -w -I $c 1 -j PILOTHOUSE_DRILL || exit 1; done
  setsid sh -c "sleep $safety; for c in INPUT OUTPUT FORWARD; do iptables -w -D \$c -j PILOTHOUSE_DRILL; done; iptables -w -F PILOTHOUSE_DRILL; iptables -w -X PILOTHOUSE_DRILL" </dev/null >/dev/null 2>&1 &
  echo "iptables chain PILOTHOUSE_DRILL drops traffic with $peers (removed after $safety s)"
fi
)SH";

const char *const HealScript = R"SH(set -u
if command -v nft >/dev/null 2>&1 && nft list table inet pilothouse_drill >/dev/null 2>&1; then
  nft delete table inet pilothouse_drill || exit 1
fi
if iptables -w -n -L PILOTHOUSE_DRILL >/dev/null 2>&1; then
  for c in INPUT OUTPUT FORWARD; do while iptables -w -D $c -j PILOTHOUSE_DRILL 2>/dev/null; do :; done; done
  iptables -w -F PILOTHOUSE_DRILL && iptables -w -X PILOTHOUSE_DRILL || exit 1
fi
echo "healed: no drill firewall rules left"
)SH";

QString bashCommand(const char *script, const QStringList &arguments = {})
{
    QByteArray command = "bash -c " + SshCommand::shellQuote(QByteArray(script)) + " drill";
    for (const QString &a : arguments)
        command += ' ' + SshCommand::shellQuote(a.toUtf8());
    return QString::fromUtf8(command);
}

} // namespace

void Drill::stopEngine(const QString &host, RunbookStep::Done done)
{
    m_ctx->ssh(host, bashCommand(StopEngineScript), 40000,
               [done, host](const Result<SshCommandResult> &r) {
                   if (r && r.value().exitCode == 0)
                       done(QStringLiteral("%1: %2").arg(
                           host, QString::fromUtf8(r.value().stdOut).trimmed()));
                   else
                       done(error(QStringLiteral("stop the engine of %1: %2")
                                      .arg(host, OperationContext::describe(r))));
               });
}

void Drill::startEngine(const QString &host, RunbookStep::Done done)
{
    m_ctx->ssh(host, bashCommand(StartEngineScript), 40000,
               [done, host](const Result<SshCommandResult> &r) {
                   if (r && r.value().exitCode == 0)
                       done(QStringLiteral("%1: %2").arg(
                           host, QString::fromUtf8(r.value().stdOut).trimmed()));
                   else
                       done(error(QStringLiteral("start the engine of %1: %2")
                                      .arg(host, OperationContext::describe(r))));
               });
}

void Drill::partition(const QString &host, RunbookStep::Done done)
{
    QStringList peers;
    for (const InventoryHost &h : m_inventory.hosts) {
        if (h.name != host)
            peers.append(h.address);
    }
    m_ctx->ssh(host,
               bashCommand(PartitionScript, {peers.join(QStringLiteral(", ")),
                                             QString::number(m_options.partitionSafetySeconds)}),
               20000, [done, host](const Result<SshCommandResult> &r) {
                   if (r && r.value().exitCode == 0)
                       done(QStringLiteral("%1: %2").arg(
                           host, QString::fromUtf8(r.value().stdOut).trimmed()));
                   else
                       done(error(QStringLiteral("cut %1 off its peers: %2")
                                      .arg(host, OperationContext::describe(r))));
               });
}

void Drill::heal(const QString &host, RunbookStep::Done done)
{
    m_ctx->ssh(
        host, bashCommand(HealScript), 20000, [done, host](const Result<SshCommandResult> &r) {
            if (r && r.value().exitCode == 0)
                done(QStringLiteral("%1: %2").arg(host,
                                                  QString::fromUtf8(r.value().stdOut).trimmed()));
            else
                done(error(QStringLiteral("heal %1: %2").arg(host, OperationContext::describe(r))));
        });
}

void Drill::observe(RunbookStep::Done done)
{
    const QString scenario = m_options.scenario;
    const qint64 injected = m_injectedMs;
    auto notYet = [this, scenario, injected]() -> QString {
        const qint64 now = nowMs();
        if (isPrimaryScenario(scenario)) {
            const QString primary = currentPrimary();
            if (primary.isEmpty() || primary == m_oldPrimary)
                return QStringLiteral("no new primary yet");
            QString promotedAt;
            qint64 promotedMs = -1;
            for (const Sample &s : std::as_const(m_samples)) {
                if (s.ms >= injected && s.primaries.contains(primary)) {
                    promotedMs = s.ms;
                    break;
                }
            }
            // Every pgpool that answers must route to it; one on the faulted
            // host (or one Swarm is moving) may not answer at all.
            int routing = 0;
            QSet<QString> answering;
            for (const PgpoolInstanceState &p : m_last.pgpools) {
                if (!p.reachable)
                    continue;
                answering.insert(QStringLiteral("pgpool@") + p.host);
                bool routes = false;
                for (const PgpoolBackend &b : p.backends)
                    routes = routes || (b.role == u"primary" && b.hostname == primary);
                if (!routes)
                    return QStringLiteral("pgpool@%1 does not route to %2 yet")
                        .arg(p.host, primary);
                ++routing;
            }
            if (routing == 0)
                return QStringLiteral("no pgpool answers");
            for (const HeartbeatPath &path : m_writer->options().paths) {
                if (path.name == m_directPath || m_uncounted.contains(path.name))
                    continue;
                if (path.kind == HeartbeatPath::Kind::Pgpool && !answering.contains(path.name)) {
                    const QString host = path.name.mid(path.name.indexOf(u'@') + 1);
                    if (host != m_targetHost && now - promotedMs < 20000)
                        return QStringLiteral("%1 does not answer").arg(path.name);
                    const QString note =
                        host == m_targetHost
                            ? QStringLiteral("its pgpool runs on the faulted host")
                            : QStringLiteral("its pgpool did not answer 20 s after the promotion "
                                             "(Swarm moved or restarts its task)");
                    m_uncounted.insert(path.name, note);
                    addEvent(QStringLiteral("writer"),
                             QStringLiteral("%1 left out of the RTO: %2").arg(path.name, note));
                    continue;
                }
                bool ackedAfter = false;
                for (const HeartbeatWrite &w : m_writer->writes())
                    ackedAfter =
                        ackedAfter || (w.path == path.name && w.acked() && w.ackedMs > promotedMs);
                if (!ackedAfter)
                    return QStringLiteral("%1 has not written since the promotion").arg(path.name);
            }
            if ((scenario == u"stop-primary-host" || scenario == u"partition-primary") &&
                now - promotedMs < m_options.hostDownAfterPromotionMs)
                return QStringLiteral("keeping %1 down a little longer").arg(m_oldPrimaryHost);
            return {};
        }
        if (scenario == u"kill-pgpool") {
            // Seen down, then back at full strength (Swarm may restart the
            // task on another host), every instance routing writes.
            bool seenDown = false;
            qint64 backMs = -1;
            for (const Sample &s : std::as_const(m_samples)) {
                if (s.ms < injected)
                    continue;
                const bool full = s.pgpoolWanted > 0 && s.pgpoolsRouting >= s.pgpoolWanted;
                if (!full || !s.pgpoolPrimary.contains(m_targetHost))
                    seenDown = true;
                if (seenDown && full && backMs < 0)
                    backMs = s.ms;
            }
            if (!seenDown)
                return QStringLiteral("the monitor has not seen pgpool@%1 down").arg(m_targetHost);
            if (backMs < 0)
                return QStringLiteral("pgpool is not back at full strength");
            if (!m_samples.constLast().pgpoolPrimary.contains(m_targetHost)) {
                // Restarted elsewhere: clients pinned to the old host lost it.
                if (!m_uncounted.contains(QStringLiteral("pgpool@") + m_targetHost)) {
                    m_uncounted.insert(
                        QStringLiteral("pgpool@") + m_targetHost,
                        QStringLiteral("its pgpool task was restarted on another host"));
                    addEvent(QStringLiteral("swarm"),
                             QStringLiteral("the killed pgpool task was restarted on another host; "
                                            "clients pinned to %1 lost their pgpool")
                                 .arg(m_targetHost));
                }
                return {};
            }
            for (const HeartbeatWrite &w : m_writer->writes()) {
                if (w.path == QStringLiteral("pgpool@") + m_targetHost && w.acked() &&
                    w.ackedMs > backMs)
                    return {};
            }
            return QStringLiteral("no write through pgpool@%1 since it is back").arg(m_targetHost);
        }
        if (isEtcdScenario(scenario)) {
            if (now - injected < m_options.etcdDownMs)
                return QStringLiteral("keeping %1 down").arg(m_target);
            const int expected = int(m_last.etcd.clusterSize - m_targetMembers.size());
            if (m_last.etcd.healthyMembers > expected)
                return QStringLiteral("etcd still has %1 healthy members")
                    .arg(m_last.etcd.healthyMembers);
            if (scenario == u"stop-etcd-member" && m_last.etcd.quorum) {
                bool leader = false;
                for (const EtcdMemberState &m : m_last.etcd.members)
                    leader = leader || (m.isLeader && m.healthy);
                if (!leader)
                    return QStringLiteral("no etcd leader yet");
            }
            return {};
        }
        return QStringLiteral("unknown scenario");
    };
    waitFor(notYet, m_options.observeTimeoutMs, done,
            isPrimaryScenario(scenario)
                ? QStringLiteral("a new primary, every pgpool on it and every path writing")
                : QStringLiteral("the fault seen and the cluster serving"));
}

void Drill::restore(RunbookStep::Done done)
{
    if (!m_fault || !m_fault->active) {
        done(QStringLiteral("nothing to restore"));
        return;
    }
    auto restored = [this, done](const Result<QString> &r) {
        if (r) {
            m_fault->active = false;
            m_restoredMs = nowMs();
            m_report.fault.restoredAt = offset(m_restoredMs);
            addEvent(QStringLiteral("drill"), QStringLiteral("restored: ") + r.value(),
                     m_restoredMs);
        } else {
            addEvent(QStringLiteral("drill"),
                     QStringLiteral("restore failed: ") + r.error().message);
        }
        done(r);
    };
    if (m_fault->kind == u"kill-container") {
        restored(QStringLiteral("nothing to restart: Swarm restarts the killed task itself"));
    } else if (m_fault->kind == u"scale-to-zero") {
        auto remaining = std::make_shared<int>(int(m_fault->services.size()));
        auto failures = std::make_shared<QStringList>();
        for (const QString &service : std::as_const(m_fault->services)) {
            scaleService(service, 1,
                         [remaining, failures, restored, this](const Result<QString> &r) {
                             if (!r)
                                 failures->append(r.error().message);
                             if (--*remaining > 0)
                                 return;
                             if (failures->isEmpty())
                                 restored(QStringLiteral("etcd %1 scaled back to 1")
                                              .arg(m_fault->services.join(u',')));
                             else
                                 restored(error(failures->join(QStringLiteral("; "))));
                         });
        }
    } else if (m_fault->kind == u"stop-engine") {
        startEngine(m_fault->host, restored);
    } else if (m_fault->kind == u"partition") {
        heal(m_fault->host, restored);
    } else {
        restored(QStringLiteral("nothing to restore"));
    }
}

void Drill::waitHealthy(RunbookStep::Done done)
{
    waitFor(
        [this]() -> QString {
            const QStringList why = unhealthy(m_last);
            if (!why.isEmpty()) {
                m_healthySinceMs = -1;
                return why.join(QStringLiteral("; "));
            }
            if (m_healthySinceMs < 0)
                m_healthySinceMs = nowMs();
            if (nowMs() - m_healthySinceMs < HealthySettleMs)
                return QStringLiteral("healthy for %1 s; it must hold for %2 s")
                    .arg(double(nowMs() - m_healthySinceMs) / 1000.0, 0, 'f', 1)
                    .arg(HealthySettleMs / 1000);
            if (m_healthyMs < 0) {
                m_healthyMs = m_healthySinceMs;
                m_report.healthyAfterSeconds = offset(m_healthyMs);
                addEvent(QStringLiteral("drill"),
                         QStringLiteral("cluster healthy: primary %1, both standbys streaming, "
                                        "pgpools agree, etcd 3/3")
                             .arg(currentPrimary()),
                         m_healthyMs);
            }
            return {};
        },
        m_options.healthTimeoutMs, done, QStringLiteral("healthy"));
}

void Drill::readBack(RunbookStep::Done done)
{
    if (m_writer->isRunning()) {
        m_writer->stop();
        m_writersStoppedMs = nowMs();
    }
    const QString primary = currentPrimary();
    m_report.newPrimary = primary;
    const InventoryHost *host = m_inventory.host(m_inventory.settings.postgresNodes.value(primary));
    if (primary.isEmpty() || !host) {
        done(error(QStringLiteral("no primary to read the heartbeats back from")));
        return;
    }
    PgConnectOptions where;
    where.host = host->address;
    where.port = m_inventory.settings.postgresPort;
    where.label = primary;
    m_writer->lostWrites(where, 30000, this,
                         [this, done, primary](const Result<QList<HeartbeatWrite>> &r) {
                             if (!r) {
                                 done(r.error());
                                 return;
                             }
                             m_lost = r.value();
                             m_lostRead = true;
                             int acked = 0;
                             for (const HeartbeatWrite &w : m_writer->writes())
                                 acked += w.acked() ? 1 : 0;
                             addEvent(QStringLiteral("writer"),
                                      QStringLiteral("%1 of %2 acknowledged writes missing on %3")
                                          .arg(m_lost.size())
                                          .arg(acked)
                                          .arg(primary));
                             done(QStringLiteral("%1 of %2 acknowledged writes missing on %3")
                                      .arg(m_lost.size())
                                      .arg(acked)
                                      .arg(primary));
                         });
}

void Drill::switchBack(RunbookStep::Done done, int attempt)
{
    const QString primary = currentPrimary();
    if (m_options.finalPrimary.isEmpty() || primary == m_options.finalPrimary) {
        done(QStringLiteral("%1 is primary").arg(primary));
        return;
    }
    SwitchoverOptions so;
    so.target = m_options.finalPrimary;
    so.reason = QStringLiteral("drill %1: back to %2 (%3)")
                    .arg(m_options.scenario, m_options.finalPrimary, m_options.reason);
    if (m_switchover)
        m_switchover->deleteLater(); // the refused attempt before this one
    m_switchover = new Switchover(m_inventory, so, this);
    // Inside this drill: its audit trail, and the lock the drill holds.
    m_switchover->setContext(m_ctx);
    m_ctx->recordOperation(m_options.finalPrimary,
                           QStringLiteral("switchover back after the drill"),
                           QStringLiteral("started"), true);
    addEvent(
        QStringLiteral("drill"),
        QStringLiteral("switching over from %1 back to %2").arg(primary, m_options.finalPrimary));
    connect(m_switchover, &Switchover::finished, this,
            [this, done, attempt](const SwitchoverResult &r) {
        if (!r.ok && r.refused && attempt < 6) {
            // Measured (session 11): the health wait passed, then the old primary's
            // supervisor reconnected its WAL receiver and the preflight saw "not
            // streaming" for a moment. Nothing was changed: ask again.
            addEvent(QStringLiteral("drill"),
                     QStringLiteral("switchover back refused (%1): asking again in 10 s")
                         .arg(r.error));
            QTimer::singleShot(10000, this,
                               [this, done, attempt] { switchBack(done, attempt + 1); });
            return;
        }
        m_ctx->recordOperation(
            m_options.finalPrimary, QStringLiteral("switchover back after the drill"),
            r.ok ? QStringLiteral("done in %1 s").arg(r.durationSeconds, 0, 'f', 1) : r.error,
            r.ok);
        if (!r.ok) {
            done(error(
                QStringLiteral("switchover back to %1: %2").arg(m_options.finalPrimary, r.error)));
            return;
        }
        addEvent(QStringLiteral("drill"), QStringLiteral("%1 is primary again (switchover %2 s)")
                                              .arg(m_options.finalPrimary)
                                              .arg(r.durationSeconds, 0, 'f', 1));
        // The switchover verified health with its own monitor; wait until
        // ours agrees too, so that the next drill starts from a healthy cluster.
        waitFor(
            [this] { return unhealthy(m_last, m_options.finalPrimary).join(QStringLiteral("; ")); },
            60000, done,
            QStringLiteral("%1 is primary again (switchover %2 s)")
                .arg(m_options.finalPrimary)
                .arg(r.durationSeconds, 0, 'f', 1));
    });
    m_switchover->start();
}

// ------------------------------------------------------------------ the time axis

void Drill::onSnapshot(const ClusterSnapshot &snapshot)
{
    m_last = snapshot;
    Sample s;
    s.ms = nowMs();
    for (const PostgresNodeState &n : snapshot.postgres) {
        QString text;
        if (!n.reachable) {
            text = QStringLiteral("down");
        } else if (n.role == u"primary") {
            s.primaries.append(n.name);
            text = QStringLiteral("primary (timeline %1)").arg(n.timeline);
        } else if (n.role == u"standby") {
            text = QStringLiteral("standby of %1, %2")
                       .arg(n.upstream.isEmpty() ? QStringLiteral("?") : n.upstream,
                            n.walReceiverStatus.isEmpty() ? QStringLiteral("no WAL receiver")
                                                          : n.walReceiverStatus);
        } else {
            text = n.role;
        }
        s.nodes.insert(n.name, text);
    }
    for (const PgpoolInstanceState &p : snapshot.pgpools) {
        if (!p.reachable) {
            s.pgpoolText.insert(p.host, QStringLiteral("does not answer"));
            continue;
        }
        QString primary;
        QStringList down;
        for (const PgpoolBackend &b : p.backends) {
            if (b.role == u"primary" && (b.status == u"up" || b.status == u"waiting"))
                primary = b.hostname;
            if (b.status != u"up" && b.status != u"waiting")
                down.append(b.hostname);
        }
        s.pgpoolPrimary.insert(p.host, primary);
        s.pgpoolsRouting += primary.isEmpty() ? 0 : 1;
        s.pgpoolText.insert(
            p.host,
            QStringLiteral("routes writes to %1%2")
                .arg(primary.isEmpty() ? QStringLiteral("no primary") : primary,
                     down.isEmpty() ? QString() : QStringLiteral("; down: ") + down.join(u',')));
    }
    for (const ServiceState &svc : snapshot.services) {
        if (svc.name == m_inventory.settings.pgpoolService)
            s.pgpoolWanted = svc.desiredReplicas;
    }
    s.etcdHealthy = snapshot.etcd.healthyMembers;
    s.quorum = snapshot.etcd.quorum;
    for (const EtcdMemberState &m : snapshot.etcd.members) {
        if (m.isLeader && m.healthy)
            s.leader = m.name;
    }
    for (const ProxyRoute &r : snapshot.routes)
        s.routes.insert(r.proxy, r.statusCode);
    for (const AppReplicaState &a : snapshot.appReplicas)
        s.appHealthy += a.healthy ? 1 : 0;
    QMap<QString, QStringList> tasks;
    for (const TaskState &t : snapshot.tasks) {
        if (t.desiredState == u"running" && followedService(t.service))
            tasks[t.service].append(t.currentState + u'@' + t.hostname);
    }
    for (auto it = tasks.begin(); it != tasks.end(); ++it) {
        it.value().sort();
        s.tasks.insert(it.key(), it.value().join(QStringLiteral(", ")));
    }
    for (const HostState &h : snapshot.hosts)
        s.hosts.insert(h.name, h.reachable);

    if (!m_samples.isEmpty() && m_injectedMs >= 0) {
        const Sample &p = m_samples.constLast();
        for (auto it = s.nodes.cbegin(); it != s.nodes.cend(); ++it) {
            if (p.nodes.value(it.key()) != it.value())
                addEvent(QStringLiteral("repmgr"),
                         QStringLiteral("%1: %2").arg(it.key(), it.value()), s.ms);
        }
        if (s.primaries.size() >= 2 && p.primaries.size() < 2)
            addEvent(
                QStringLiteral("repmgr"),
                QStringLiteral("TWO PRIMARIES: %1").arg(s.primaries.join(QStringLiteral(", "))),
                s.ms);
        QSet<QString> pools;
        for (auto it = s.pgpoolText.cbegin(); it != s.pgpoolText.cend(); ++it)
            pools.insert(it.key());
        for (auto it = p.pgpoolText.cbegin(); it != p.pgpoolText.cend(); ++it)
            pools.insert(it.key());
        for (const QString &h : std::as_const(pools)) {
            const QString now = s.pgpoolText.value(h, QStringLiteral("gone"));
            if (p.pgpoolText.value(h, QStringLiteral("gone")) != now)
                addEvent(QStringLiteral("pgpool"), QStringLiteral("pgpool@%1 %2").arg(h, now),
                         s.ms);
        }
        if (s.etcdHealthy != p.etcdHealthy || s.quorum != p.quorum)
            addEvent(QStringLiteral("etcd"),
                     QStringLiteral("%1/%2 members healthy%3")
                         .arg(s.etcdHealthy)
                         .arg(snapshot.etcd.clusterSize)
                         .arg(s.quorum ? QString() : QStringLiteral(", NO QUORUM")),
                     s.ms);
        if (s.leader != p.leader)
            addEvent(QStringLiteral("etcd"),
                     s.leader.isEmpty() ? QStringLiteral("no leader")
                                        : QStringLiteral("leader %1").arg(s.leader),
                     s.ms);
        for (auto it = s.routes.cbegin(); it != s.routes.cend(); ++it) {
            if (p.routes.value(it.key(), -1) != it.value())
                addEvent(
                    QStringLiteral("proxy"),
                    it.value() == 0
                        ? QStringLiteral("route via %1 does not answer").arg(it.key())
                        : QStringLiteral("route via %1 answers %2").arg(it.key()).arg(it.value()),
                    s.ms);
        }
        if (s.appHealthy != p.appHealthy)
            addEvent(QStringLiteral("app"),
                     QStringLiteral("%1 of %2 replicas healthy")
                         .arg(s.appHealthy)
                         .arg(snapshot.appReplicas.size()),
                     s.ms);
        for (auto it = s.tasks.cbegin(); it != s.tasks.cend(); ++it) {
            if (p.tasks.value(it.key()) != it.value())
                addEvent(
                    QStringLiteral("swarm"),
                    QStringLiteral("%1 tasks: %2")
                        .arg(it.key(), it.value().isEmpty() ? QStringLiteral("none") : it.value()),
                    s.ms);
        }
        for (auto it = p.tasks.cbegin(); it != p.tasks.cend(); ++it) {
            if (!s.tasks.contains(it.key()))
                addEvent(QStringLiteral("swarm"),
                         QStringLiteral("%1 tasks: none running").arg(it.key()), s.ms);
        }
        for (auto it = s.hosts.cbegin(); it != s.hosts.cend(); ++it) {
            if (p.hosts.value(it.key(), true) != it.value())
                addEvent(QStringLiteral("swarm"),
                         QStringLiteral("%1 %2").arg(
                             it.key(), it.value() ? QStringLiteral("answers over SSH")
                                                  : QStringLiteral("does not answer over SSH")),
                         s.ms);
        }
    }
    m_samples.append(s);
}

void Drill::analyse()
{
    DrillReport &r = m_report;
    r.fault.injectedAt = offset(m_injectedMs);
    r.fault.restoredAt = offset(m_restoredMs);
    if (r.newPrimary.isEmpty())
        r.newPrimary = currentPrimary();

    // Two primaries: every span between samples where two or more nodes said
    // they were primary (each answers pg_is_in_recovery() directly).
    double both = 0;
    for (qsizetype i = 0; i < m_samples.size(); ++i) {
        if (m_samples[i].primaries.size() < 2)
            continue;
        const qint64 until = i + 1 < m_samples.size() ? m_samples[i + 1].ms : nowMs();
        both += double(until - m_samples[i].ms) / 1000.0;
    }
    r.twoPrimariesSeconds = both;

    if (m_injectedMs < 0)
        return;
    auto phase = [&r, this](const QString &name, qint64 from, qint64 to) {
        if (from >= 0 && to >= from)
            r.phases.append(DrillReport::Phase{name, offset(from), double(to - from) / 1000.0});
    };
    auto firstSample = [this](qint64 fromMs,
                              const std::function<bool(const Sample &)> &test) -> qint64 {
        for (const Sample &s : std::as_const(m_samples)) {
            if (s.ms >= fromMs && test(s))
                return s.ms;
        }
        return -1;
    };

    const QString scenario = m_options.scenario;
    qint64 detected = -1;
    if (isPrimaryScenario(scenario)) {
        detected = firstSample(m_injectedMs, [this](const Sample &s) {
            return !s.primaries.contains(m_oldPrimary) ||
                   !s.tasks.value(m_oldPrimary).contains(QStringLiteral("running@"));
        });
        phase(QStringLiteral("detection"), m_injectedMs, detected);
        QString newPrimary;
        const qint64 promoted = firstSample(m_injectedMs, [this, &newPrimary](const Sample &s) {
            for (const QString &p : s.primaries) {
                if (p != m_oldPrimary) {
                    newPrimary = p;
                    return true;
                }
            }
            return false;
        });
        if (promoted >= 0) {
            if (r.newPrimary.isEmpty())
                r.newPrimary = newPrimary;
            phase(QStringLiteral("promotion"), detected >= 0 ? detected : m_injectedMs, promoted);
            QStringList hosts;
            for (const Sample &s : std::as_const(m_samples)) {
                for (auto it = s.pgpoolText.cbegin(); it != s.pgpoolText.cend(); ++it)
                    hosts.append(it.key());
            }
            hosts.removeDuplicates();
            hosts.sort();
            for (const QString &h : std::as_const(hosts)) {
                const qint64 caught = firstSample(promoted, [&h, &newPrimary](const Sample &s) {
                    return s.pgpoolPrimary.value(h, QStringLiteral("-")) == newPrimary;
                });
                phase(QStringLiteral("pgpool catch-up pgpool@%1").arg(h), promoted, caught);
            }
        }
        const qint64 rejoined = firstSample(m_injectedMs, [this](const Sample &s) {
            return s.nodes.value(m_oldPrimary).startsWith(QStringLiteral("standby")) &&
                   s.nodes.value(m_oldPrimary).endsWith(QStringLiteral("streaming"));
        });
        phase(QStringLiteral("old primary back as a streaming standby"), m_injectedMs, rejoined);
    } else if (scenario == u"kill-pgpool") {
        detected = firstSample(m_injectedMs, [this](const Sample &s) {
            return !s.pgpoolPrimary.contains(m_targetHost) ||
                   !s.tasks.value(m_inventory.settings.pgpoolService)
                        .contains(QStringLiteral("running@") + m_targetHost);
        });
        phase(QStringLiteral("detection"), m_injectedMs, detected);
        if (detected >= 0) {
            const qint64 back = firstSample(detected, [](const Sample &s) {
                return s.pgpoolWanted > 0 && s.pgpoolsRouting >= s.pgpoolWanted;
            });
            phase(!m_uncounted.contains(QStringLiteral("pgpool@") + m_targetHost)
                      ? QStringLiteral("pgpool@%1 restarted and routing").arg(m_targetHost)
                      : QStringLiteral("pgpool restarted on another host and routing"),
                  detected, back);
        }
    } else if (isEtcdScenario(scenario)) {
        detected = firstSample(m_injectedMs, [](const Sample &s) { return s.etcdHealthy < 3; });
        phase(QStringLiteral("detection"), m_injectedMs, detected);
        if (scenario == u"stop-etcd-member") {
            const qint64 elected = firstSample(m_injectedMs, [this](const Sample &s) {
                return !s.leader.isEmpty() && s.leader != m_oldLeader;
            });
            if (m_targetMembers.contains(m_oldLeader))
                phase(QStringLiteral("etcd leader election"), m_injectedMs, elected);
        } else {
            const qint64 lost =
                firstSample(m_injectedMs, [](const Sample &s) { return !s.quorum; });
            const qint64 back =
                lost >= 0
                    ? firstSample(lost,
                                  [](const Sample &s) { return s.quorum && !s.leader.isEmpty(); })
                    : -1;
            phase(QStringLiteral("etcd without quorum"), lost, back);
        }
        if (m_restoredMs >= 0) {
            const qint64 all = firstSample(m_restoredMs, [](const Sample &s) {
                return s.etcdHealthy >= 3 && !s.leader.isEmpty();
            });
            phase(QStringLiteral("etcd members back"), m_restoredMs, all);
        }
    }

    // The proxy: from its first failing answer after the fault to its next 200.
    const qint64 proxyDown = firstSample(m_injectedMs, [](const Sample &s) {
        for (int code : s.routes)
            if (code != 200)
                return true;
        return false;
    });
    if (proxyDown >= 0) {
        const qint64 proxyUp = firstSample(proxyDown, [](const Sample &s) {
            if (s.routes.isEmpty())
                return false;
            for (int code : s.routes)
                if (code != 200)
                    return false;
            return true;
        });
        phase(QStringLiteral("proxy answers again"), proxyDown, proxyUp);
    }

    // Each writer path: from its first failure after the fault to its first
    // acknowledged write after that (the app's is "app's first successful write").
    const qint64 stop = m_writersStoppedMs >= 0 ? m_writersStoppedMs : nowMs();
    if (m_writer) {
        for (const HeartbeatPath &path : m_writer->options().paths) {
            qint64 failedAt = -1;
            qint64 ackedAt = -1;
            for (const HeartbeatWrite &w : m_writer->writes()) {
                if (w.path != path.name || w.sentMs < m_injectedMs)
                    continue;
                if (!w.acked() && failedAt < 0)
                    failedAt = w.sentMs;
                else if (w.acked() && failedAt >= 0 && ackedAt < 0)
                    ackedAt = w.ackedMs;
            }
            if (path.name == m_directPath)
                continue;
            const QString name = path.kind == HeartbeatPath::Kind::App
                                     ? QStringLiteral("app's first successful write")
                                     : QStringLiteral("writes through %1").arg(path.name);
            phase(name, m_injectedMs, failedAt >= 0 ? ackedAt : -1);
        }
        double rtoPgpool = -1;
        double rtoApp = -1;
        const double minimumGap = std::max(0.5, 5.0 * m_options.writerIntervalMs / 1000.0);
        QHash<QString, int> lostByPath;
        for (const HeartbeatWrite &w : std::as_const(m_lost))
            lostByPath[w.path] += 1;
        for (const HeartbeatPath &path : m_writer->options().paths) {
            const HeartbeatPathReport pr = m_writer->report(path.name);
            DrillReport::Writer w;
            w.path = path.name;
            w.attempts = pr.sent;
            w.acknowledged = pr.acked;
            w.failed = pr.failed;
            w.lost = m_lostRead ? lostByPath.value(path.name) : -1;
            w.writeGapSeconds = longestGap(m_writer->writes(), path.name, stop);
            // From the first acknowledgement on: the writer's start-up (its
            // table, its first connections) is not an outage.
            w.gaps = gapsOf(m_writer->writes(), path.name, -1, stop, m_startMs, minimumGap);
            if (path.name == m_directPath) {
                w.countedInRto = false;
                w.note = QStringLiteral("straight to the old primary: measures split-brain writes");
            } else if (m_uncounted.contains(path.name)) {
                w.countedInRto = false;
                w.note = m_uncounted.value(path.name);
            }
            r.writers.append(w);
            if (!w.countedInRto)
                continue;
            if (path.kind == HeartbeatPath::Kind::App)
                rtoApp = std::max(rtoApp, w.writeGapSeconds);
            else
                rtoPgpool = std::max(rtoPgpool, w.writeGapSeconds);
        }
        r.rtoPgpoolSeconds = rtoPgpool;
        r.rtoAppSeconds = rtoApp;
        r.rtoSeconds = std::max(rtoPgpool, rtoApp);
        r.rpoWrites = m_lostRead ? int(m_lost.size()) : -1;

        if (!m_directPath.isEmpty()) {
            // Split brain: acknowledged by the old primary after a standby
            // was promoted.
            qint64 promoted = -1;
            for (const Sample &s : std::as_const(m_samples)) {
                bool other = false;
                for (const QString &p : s.primaries)
                    other = other || p != m_oldPrimary;
                if (s.ms >= m_injectedMs && other) {
                    promoted = s.ms;
                    break;
                }
            }
            int after = 0;
            int whileIsolated = 0;
            qint64 lastAck = -1;
            for (const HeartbeatWrite &w : m_writer->writes()) {
                if (w.path != m_directPath || !w.acked())
                    continue;
                lastAck = std::max(lastAck, w.ackedMs);
                if (promoted >= 0 && w.ackedMs >= promoted) {
                    ++after;
                    if (m_restoredMs < 0 || w.ackedMs < m_restoredMs)
                        ++whileIsolated;
                }
            }
            r.oldPrimaryWritesAfterPromotion = promoted >= 0 ? after : -1;
            r.oldPrimaryWritesWhileIsolated = promoted >= 0 ? whileIsolated : -1;
            if (lastAck >= m_injectedMs)
                addEvent(QStringLiteral("writer"),
                         QStringLiteral("last write acknowledged by the old primary %1 at +%2 s")
                             .arg(m_oldPrimary)
                             .arg(offset(lastAck), 0, 'f', 3),
                         lastAck);
        }
    }
    std::stable_sort(
        r.events.begin(), r.events.end(),
        [](const DrillReport::Event &a, const DrillReport::Event &b) { return a.at < b.at; });
    std::stable_sort(r.phases.begin(), r.phases.end(),
                     [](const DrillReport::Phase &a, const DrillReport::Phase &b) {
                         return a.startedAt < b.startedAt;
                     });
}

void Drill::finish(const RunbookReport &runbookReport)
{
    if (m_writer && m_writer->isRunning()) {
        m_writer->stop();
        m_writersStoppedMs = nowMs();
    }
    if (m_monitor)
        m_monitor->stop();
    analyse();
    DrillReport &r = m_report;
    r.runbook = runbookReport.toJson();
    r.outcome = runbookReport.outcome == RunbookOutcome::Succeeded   ? QStringLiteral("succeeded")
                : runbookReport.outcome == RunbookOutcome::Cancelled ? QStringLiteral("cancelled")
                                                                     : QStringLiteral("failed");
    r.error = runbookReport.message;
    if (!runbookReport.cleanupErrors.isEmpty())
        r.error += (r.error.isEmpty() ? QString() : QStringLiteral("; cleanup: ")) +
                   runbookReport.cleanupErrors.join(QStringLiteral("; "));
    // Refused: it stopped before the first act step started.
    const RunbookStepReport *act =
        runbookReport.step(QStringLiteral("drill ") + m_options.scenario + QStringLiteral("/act"));
    m_refused = !runbookReport.succeeded() && (!act || act->startedSeconds < 0);
    const RunbookStepReport *back =
        runbookReport.step(QStringLiteral("drill %1/verify/primary back on %2")
                               .arg(m_options.scenario, m_options.finalPrimary));
    r.healthyAfter = m_healthyMs >= 0 && back && back->outcome == RunbookOutcome::Succeeded;
    if (m_auditOpen)
        m_ctx->recordOperation(
            m_options.scenario, QStringLiteral("drill end"),
            QStringLiteral("%1: rto %2 s (pgpool %3, app %4), rpo %5, two primaries %6 s%7")
                .arg(r.outcome)
                .arg(r.rtoSeconds, 0, 'f', 3)
                .arg(r.rtoPgpoolSeconds, 0, 'f', 3)
                .arg(r.rtoAppSeconds, 0, 'f', 3)
                .arg(r.rpoWrites)
                .arg(r.twoPrimariesSeconds, 0, 'f', 3)
                .arg(r.error.isEmpty() ? QString() : QStringLiteral("; ") + r.error),
            runbookReport.succeeded());
    addEvent(QStringLiteral("drill"),
             QStringLiteral("drill %1 %2").arg(m_options.scenario, r.outcome));
    Q_EMIT finished(r);
}

} // namespace Pilothouse
