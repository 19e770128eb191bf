#include "app/operations/switchover.h"

#include "app/connectors/docker/dockerclient.h"
#include "app/connectors/docker/dockerexec.h"
#include "app/connectors/http/certificatereader.h"
#include "app/connectors/http/httpprobe.h"
#include "app/connectors/pg/pgconnection.h"
#include "app/connectors/ssh/sshoptions.h"
#include "app/connectors/ssh/sshsession.h"
#include "app/monitor/clustermonitor.h"

#include <QDateTime>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QSet>

#include <memory>

namespace Pilothouse {

namespace {

constexpr auto DockerSocket = "/var/run/docker.sock";
// Paths and commands inside the stack's pg containers (deploy-stacks/images).
constexpr auto RepmgrConf = "/etc/repmgr.conf";
constexpr auto HoldMark = "/run/pilothouse/hold";
constexpr auto PgData = "${PGDATA:-/var/lib/pilothouse/data}";
// And in its pgpool containers: ph-pgpool writes a pcppass for the PCP user.
constexpr auto PcpPassFile = "/run/pgpool/etc/pcppass";

qint64 nowMs()
{
    return QDateTime::currentMSecsSinceEpoch();
}

QString tail(const QByteArray &bytes, int lines = 3)
{
    QStringList all = QString::fromUtf8(bytes).trimmed().split(u'\n', Qt::SkipEmptyParts);
    while (all.size() > lines)
        all.removeFirst();
    return all.join(QStringLiteral(" | "));
}

QString execFailure(const Result<DockerExecResult> &r)
{
    if (!r)
        return r.error().message;
    const QString err = tail(r.value().stdErr);
    const QString out = tail(r.value().stdOut);
    return QStringLiteral("exit %1: %2")
        .arg(r.value().exitCode)
        .arg(err.isEmpty() ? out : (out.isEmpty() ? err : err + QStringLiteral(" | ") + out));
}

const PostgresNodeState *node(const ClusterSnapshot &s, const QString &name)
{
    for (const PostgresNodeState &n : s.postgres) {
        if (n.name == name)
            return &n;
    }
    return nullptr;
}

QStringList primariesOf(const ClusterSnapshot &s)
{
    QStringList out;
    for (const PostgresNodeState &n : s.postgres) {
        if (n.reachable && n.role == u"primary")
            out.append(n.name);
    }
    return out;
}

// Which node each pgpool instance sends writes to; empty when none.
QString pgpoolPrimary(const PgpoolInstanceState &p)
{
    for (const PgpoolBackend &b : p.backends) {
        if (b.role == u"primary" && b.status != u"down" && b.status != u"unused")
            return b.hostname;
    }
    return {};
}

QString shellQuote(const QString &s)
{
    QString q = s;
    q.replace(u'\'', QStringLiteral("'\\''"));
    return u'\'' + q + u'\'';
}

} // namespace

struct Switchover::HostLink
{
    QString name;
    SshSession *ssh = nullptr;
    DockerClient *docker = nullptr;
    QString error;
};

Switchover::Switchover(Inventory inventory, SwitchoverOptions options, QObject *parent)
    : QObject(parent)
    , m_inventory(std::move(inventory))
    , m_options(std::move(options))
{
    m_stepTimer.setSingleShot(true);
    connect(&m_stepTimer, &QTimer::timeout, this, [this] {
        if (m_next > 0)
            stepDone(m_generation, false, QStringLiteral("timed out"));
    });
}

Switchover::~Switchover()
{
    m_running = false;
    ++m_generation;
    delete m_monitor;
    delete m_targetSql;
    delete m_primarySql;
    for (HostLink *l : std::as_const(m_hosts)) {
        delete l->docker;
        delete l->ssh;
        delete l;
    }
}

ClusterSnapshot Switchover::lastSnapshot() const
{
    return m_monitor ? m_monitor->snapshot() : m_before;
}

// ---------------------------------------------------------------- pure checks

QStringList Switchover::refusals(const ClusterSnapshot &s, const QString &target,
                                 qint64 maxLagBytes)
{
    QStringList why;
    const QStringList primaries = primariesOf(s);
    if (primaries.size() != 1)
        why.append(primaries.isEmpty()
                       ? QStringLiteral("no reachable node is primary")
                       : QStringLiteral("%1 nodes claim to be primary (%2): resolve the split "
                                        "brain first")
                             .arg(primaries.size())
                             .arg(primaries.join(QStringLiteral(", "))));
    const PostgresNodeState *t = node(s, target);
    if (!t) {
        QStringList names;
        for (const PostgresNodeState &n : s.postgres)
            names.append(n.name);
        why.append(QStringLiteral("%1 is not a PostgreSQL node of this cluster (nodes: %2)")
                       .arg(target, names.join(QStringLiteral(", "))));
        return why;
    }
    if (!t->reachable)
        why.append(QStringLiteral("%1 does not answer: %2").arg(target, t->freshness.error));
    else if (t->role == u"primary")
        why.append(QStringLiteral("%1 is already the primary").arg(target));
    else if (t->role != u"standby")
        why.append(QStringLiteral("%1's role is %2, not standby").arg(target, t->role));
    else {
        if (t->walReceiverStatus != u"streaming")
            why.append(QStringLiteral("%1 is not streaming (WAL receiver: %2)")
                           .arg(target, t->walReceiverStatus.isEmpty() ? QStringLiteral("none")
                                                                       : t->walReceiverStatus));
        if (primaries.size() == 1 && t->upstream != primaries.constFirst())
            why.append(QStringLiteral("%1 streams from %2, not from the primary %3")
                           .arg(target, t->upstream, primaries.constFirst()));
        if (t->lagBytes < 0)
            why.append(QStringLiteral("%1's replication lag is unknown").arg(target));
        else if (t->lagBytes > maxLagBytes)
            why.append(QStringLiteral("%1 is %2 bytes behind the primary (at most %3 allowed)")
                           .arg(target)
                           .arg(t->lagBytes)
                           .arg(maxLagBytes));
    }
    for (const PostgresNodeState &n : s.postgres) {
        if (n.name == target || primaries.contains(n.name))
            continue;
        if (!n.reachable)
            why.append(QStringLiteral("%1 does not answer: it could not follow the new primary")
                           .arg(n.name));
    }
    if (s.pgpools.isEmpty())
        why.append(QStringLiteral("no pgpool instance was found"));
    QSet<QString> views;
    for (const PgpoolInstanceState &p : s.pgpools) {
        if (!p.reachable) {
            why.append(
                QStringLiteral("pgpool on %1 does not answer: %2").arg(p.host, p.freshness.error));
            continue;
        }
        const QString seen = pgpoolPrimary(p);
        views.insert(seen);
        if (primaries.size() == 1 && seen != primaries.constFirst())
            why.append(QStringLiteral("pgpool on %1 sends writes to %2, not to the primary %3")
                           .arg(p.host, seen.isEmpty() ? QStringLiteral("no node") : seen,
                                primaries.constFirst()));
        for (const PgpoolBackend &b : p.backends) {
            if (b.hostname == target && (b.status == u"down" || b.status == u"unused"))
                why.append(QStringLiteral("pgpool on %1 has %2 detached").arg(p.host, target));
        }
    }
    if (views.size() > 1)
        why.append(QStringLiteral("the pgpool instances disagree on the primary"));
    if (s.etcd.clusterSize > 0 && !s.etcd.quorum)
        why.append(QStringLiteral("etcd has no quorum (%1 of %2 members healthy)")
                       .arg(s.etcd.healthyMembers)
                       .arg(s.etcd.clusterSize));
    else if (s.etcd.clusterSize == 0)
        why.append(QStringLiteral("etcd was not read, so its quorum is unknown"));
    return why;
}

QStringList Switchover::unhealthyAfter(const ClusterSnapshot &s, const QString &primary,
                                       int timeline)
{
    QStringList why;
    const QStringList primaries = primariesOf(s);
    if (primaries != QStringList{primary})
        why.append(QStringLiteral("primaries: %1")
                       .arg(primaries.isEmpty() ? QStringLiteral("none")
                                                : primaries.join(QStringLiteral(", "))));
    for (const PostgresNodeState &n : s.postgres) {
        if (!n.reachable) {
            why.append(QStringLiteral("%1 does not answer").arg(n.name));
            continue;
        }
        if (n.name == primary) {
            if (timeline > 0 && n.timeline != timeline)
                why.append(QStringLiteral("%1 is on timeline %2, not %3")
                               .arg(n.name)
                               .arg(n.timeline)
                               .arg(timeline));
            continue;
        }
        if (n.role != u"standby" || n.walReceiverStatus != u"streaming" || n.upstream != primary)
            why.append(QStringLiteral("%1 is %2 (WAL receiver %3, upstream %4), not streaming "
                                      "from %5")
                           .arg(n.name, n.role,
                                n.walReceiverStatus.isEmpty() ? QStringLiteral("none")
                                                              : n.walReceiverStatus,
                                n.upstream.isEmpty() ? QStringLiteral("none") : n.upstream,
                                primary));
    }
    if (s.pgpools.isEmpty())
        why.append(QStringLiteral("no pgpool instance seen"));
    for (const PgpoolInstanceState &p : s.pgpools) {
        if (!p.reachable) {
            why.append(QStringLiteral("pgpool on %1 does not answer").arg(p.host));
            continue;
        }
        const QString seen = pgpoolPrimary(p);
        if (seen != primary)
            why.append(QStringLiteral("pgpool on %1 sends writes to %2")
                           .arg(p.host, seen.isEmpty() ? QStringLiteral("no node") : seen));
        for (const PgpoolBackend &b : p.backends) {
            if (b.status == u"down" || b.status == u"unused")
                why.append(
                    QStringLiteral("pgpool on %1 has %2 %3").arg(p.host, b.hostname, b.status));
        }
    }
    return why;
}

// ---------------------------------------------------------------- the run

void Switchover::start()
{
    if (m_running)
        return;
    m_running = true;
    m_cancelled = false;
    m_failed = false;
    m_inCleanup = false;
    m_result = SwitchoverResult{};
    m_result.newPrimary = m_options.target;
    m_startedMs = nowMs();
    buildSteps();
    m_next = 0;
    QMetaObject::invokeMethod(this, &Switchover::runNext, Qt::QueuedConnection);
}

void Switchover::addStepBeforeAct(const QString &name, int timeoutMs, StepFunction run)
{
    m_beforeAct.append(Step{QStringLiteral("preflight"), name, timeoutMs, std::move(run)});
}

void Switchover::cancel()
{
    if (!m_running || m_cancelled)
        return;
    m_cancelled = true;
}

void Switchover::buildSteps()
{
    using Done = std::function<void(bool, QString)>;
    auto step = [this](const char *phase, const QString &name, int timeoutMs,
                       void (Switchover::*fn)(Done)) {
        m_steps.append(Step{QString::fromLatin1(phase), name, timeoutMs, [this, fn](Done done) {
                                (this->*fn)(std::move(done));
                            }});
    };
    m_steps.clear();
    m_cleanup.clear();
    const QString t = m_options.target;
    step("preflight", QStringLiteral("read every layer of the cluster"),
         m_options.preflightTimeoutMs, &Switchover::readCluster);
    step("preflight",
         QStringLiteral("check: one primary, %1 streaming and caught up, pgpools "
                        "agree, etcd quorum")
             .arg(t),
         2000, &Switchover::checkCluster);
    step("preflight", QStringLiteral("connect to every host's Docker engine"), 20000,
         &Switchover::connectHosts);
    step("preflight", QStringLiteral("connect to the primary and %1 as repmgr").arg(t), 10000,
         &Switchover::connectSql);
    m_steps.append(m_beforeAct);
    if (m_options.method == SwitchoverOptions::Method::Repmgr) {
        step("act", QStringLiteral("repmgr standby switchover --siblings-follow on %1").arg(t),
             180000, &Switchover::repmgrSwitchover);
        step("act", QStringLiteral("point every pgpool at %1").arg(t), 20000,
             &Switchover::repointPgpools);
    } else {
        m_steps.append(Step{QStringLiteral("act"), QStringLiteral("pause repmgrd on every node"),
                            20000, [this](Done done) {
                                pauseRepmgrd(true, std::move(done));
                            }});
        step("act", QStringLiteral("checkpoint the primary"), 60000,
             &Switchover::checkpointPrimary);
        if (m_options.pgpoolFirst)
            step("act", QStringLiteral("tell every pgpool %1 is the primary").arg(t), 20000,
                 &Switchover::promoteInPgpools);
        step("act", QStringLiteral("stop the old primary (fast shutdown, WAL sent to standbys)"),
             45000, &Switchover::stopOldPrimary);
        step("act", QStringLiteral("check %1 has all WAL, promote it").arg(t), 30000,
             &Switchover::promoteTarget);
        step("act", QStringLiteral("point every pgpool at %1").arg(t), 20000,
             &Switchover::repointPgpools);
        step("act", QStringLiteral("record the new roles in repmgr, checkpoint %1").arg(t), 60000,
             &Switchover::updateRepmgrMetadata);
        step("act", QStringLiteral("rejoin the old primary as a standby of %1").arg(t), 120000,
             &Switchover::rejoinOldPrimary);
        step("act", QStringLiteral("the other standbys follow %1").arg(t), 90000,
             &Switchover::siblingsFollow);
        m_steps.append(
            Step{QStringLiteral("act"), QStringLiteral("resume repmgrd"), 20000, [this](Done done) {
                     pauseRepmgrd(false, std::move(done));
                 }});
    }
    step("act", QStringLiteral("attach every streaming standby in every pgpool"), 30000,
         &Switchover::attachInPgpools);
    step("verify",
         QStringLiteral("one primary %1 on the next timeline, standbys streaming from "
                        "it, every pgpool agrees")
             .arg(t),
         m_options.verifyTimeoutMs, &Switchover::waitHealthy);
    step("verify", QStringLiteral("the app writes through the proxy"), 20000,
         &Switchover::appWrites);

    m_cleanup.append(Step{QStringLiteral("cleanup"),
                          QStringLiteral("hand the old primary back to its supervisor"), 20000,
                          [this](Done done) {
                              releaseOldPrimary(std::move(done));
                          }});
    m_cleanup.append(
        Step{QStringLiteral("cleanup"), QStringLiteral("resume repmgrd"), 20000, [this](Done done) {
                 if (!m_repmgrdPaused) {
                     done(true, QStringLiteral("not paused"));
                     return;
                 }
                 pauseRepmgrd(false, std::move(done));
             }});
}

void Switchover::runNext()
{
    QList<Step> &list = m_inCleanup ? m_cleanup : m_steps;
    if (!m_inCleanup && (m_cancelled || m_failed)) {
        if (m_cancelled && !m_failed)
            m_result.error = QStringLiteral("cancelled");
        m_inCleanup = true;
        m_next = 0;
        runNext();
        return;
    }
    if (m_next >= list.size()) {
        if (!m_inCleanup) {
            m_inCleanup = true;
            m_next = 0;
            runNext();
            return;
        }
        finish();
        return;
    }
    const Step &s = list.at(m_next);
    ++m_next;
    const quint64 generation = ++m_generation;
    m_stepStartedMs = nowMs();
    if (s.phase == u"act" && m_actStartedMs == 0)
        m_actStartedMs = m_stepStartedMs;
    Q_EMIT stepStarted(s.phase, s.name);
    m_stepTimer.start(s.timeoutMs);
    s.run([this, generation](bool ok, QString detail) {
        // Never re-enter the step list from inside a step's own call.
        QMetaObject::invokeMethod(
            this, [this, generation, ok, detail] { stepDone(generation, ok, detail); },
            Qt::QueuedConnection);
    });
}

void Switchover::stepDone(quint64 generation, bool ok, const QString &detail)
{
    if (generation != m_generation || !m_running)
        return; // a late answer of a step that already timed out
    ++m_generation;
    m_stepTimer.stop();
    const QList<Step> &list = m_inCleanup ? m_cleanup : m_steps;
    const Step &s = list.at(m_next - 1);
    SwitchoverStep record;
    record.phase = s.phase;
    record.name = s.name;
    record.ok = ok;
    record.detail = detail;
    record.startedMs = m_stepStartedMs;
    record.seconds = double(nowMs() - m_stepStartedMs) / 1000.0;
    m_result.steps.append(record);
    Q_EMIT stepFinished(record);
    if (!ok && !m_inCleanup) {
        m_failed = true;
        if (s.phase == u"preflight" && !m_holdSet && !m_repmgrdPaused) {
            m_result.refused = true;
            m_result.error = QStringLiteral("refused: ") + detail;
        } else {
            m_result.error = s.name + QStringLiteral(": ") + detail;
        }
    }
    runNext();
}

void Switchover::finish()
{
    m_running = false;
    const qint64 now = nowMs();
    m_result.durationSeconds = double(now - m_startedMs) / 1000.0;
    m_result.ok = !m_failed && !m_cancelled;
    if (m_monitor)
        m_monitor->stop();
    Q_EMIT finished(m_result);
}

// ---------------------------------------------------------------- preflight

void Switchover::readCluster(std::function<void(bool, QString)> done)
{
    auto password = ClusterMonitor::readMonitorPassword(m_inventory);
    if (!password) {
        done(false, password.error().toString());
        return;
    }
    m_monitorPassword = password.value();
    QFile file(m_inventory.settings.secretsDir + QStringLiteral("/pg_repmgr_password"));
    if (!file.open(QIODevice::ReadOnly)) {
        done(false, QStringLiteral("cannot read the repmgr role's password %1: %2")
                        .arg(file.fileName(), file.errorString()));
        return;
    }
    m_repmgrPassword = QString::fromUtf8(file.readAll()).trimmed();
    ClusterMonitor::Options o;
    o.intervalMs = m_options.monitorIntervalMs;
    o.monitorPassword = m_monitorPassword;
    o.firstRoundTimeoutMs = qMax(5000, m_options.preflightTimeoutMs - 5000);
    delete m_monitor;
    m_monitor = new ClusterMonitor(m_inventory, o, this);
    connect(m_monitor, &ClusterMonitor::firstRoundFinished, this, [this, done] {
        // The first round may still lack repmgr's view or a pgpool that the
        // swarm read only just named: give them a few more rounds.
        auto *poll = new QTimer(this);
        auto left = std::make_shared<int>(20);
        connect(poll, &QTimer::timeout, this, [this, poll, left, done] {
            const ClusterSnapshot s = m_monitor->snapshot();
            bool complete = !s.pgpools.isEmpty();
            for (const PostgresNodeState &n : s.postgres)
                complete = complete && (!n.reachable || !n.repmgr.isEmpty());
            for (const PgpoolInstanceState &p : s.pgpools)
                complete = complete && p.freshness.readAt.isValid();
            if (complete || --*left <= 0) {
                poll->deleteLater();
                m_before = s;
                done(true, QStringLiteral("%1 PostgreSQL nodes, %2 pgpool instances, %3 etcd "
                                          "members")
                               .arg(s.postgres.size())
                               .arg(s.pgpools.size())
                               .arg(s.etcd.members.size()));
            }
        });
        poll->start(250);
    });
    m_monitor->start();
}

void Switchover::checkCluster(std::function<void(bool, QString)> done)
{
    const QStringList why = refusals(m_before, m_options.target, m_options.maxLagBytes);
    if (!why.isEmpty()) {
        done(false, why.join(QStringLiteral("; ")));
        return;
    }
    m_primary = primariesOf(m_before).constFirst();
    m_result.oldPrimary = m_primary;
    m_siblings.clear();
    for (const PostgresNodeState &n : std::as_const(m_before.postgres)) {
        if (n.name != m_primary && n.name != m_options.target)
            m_siblings.append(n.name);
    }
    const PostgresNodeState *p = node(m_before, m_primary);
    m_result.timelineBefore = p ? p->timeline : 0;
    QStringList missing;
    for (const QString &service : QStringList{m_primary, m_options.target} + m_siblings) {
        if (containerOf(service, nullptr).isEmpty())
            missing.append(service);
    }
    if (pgpoolServices().isEmpty())
        missing.append(m_inventory.settings.pgpoolService);
    if (!missing.isEmpty()) {
        done(false, QStringLiteral("no running container found for %1 in the swarm's task list")
                        .arg(missing.join(QStringLiteral(", "))));
        return;
    }
    const PostgresNodeState *t = node(m_before, m_options.target);
    done(true, QStringLiteral("primary %1 (timeline %2), %3 streaming %4 bytes behind, %5 "
                              "pgpool(s) agree, etcd %6/%7")
                   .arg(m_primary)
                   .arg(m_result.timelineBefore)
                   .arg(m_options.target)
                   .arg(t ? t->lagBytes : -1)
                   .arg(m_before.pgpools.size())
                   .arg(m_before.etcd.healthyMembers)
                   .arg(m_before.etcd.clusterSize));
}

void Switchover::connectHosts(std::function<void(bool, QString)> done)
{
    QSet<QString> needed;
    for (const QString &service : QStringList{m_primary, m_options.target} + m_siblings) {
        QString host;
        containerOf(service, &host);
        needed.insert(host);
    }
    for (const QString &key : pgpoolServices())
        needed.insert(key.section(u'@', 1));
    auto pending = std::make_shared<int>(int(needed.size()));
    auto failed = std::make_shared<QStringList>();
    auto one = [pending, failed, done](const QString &failure) {
        if (!failure.isEmpty())
            failed->append(failure);
        if (--*pending == 0)
            done(failed->isEmpty(), failed->isEmpty() ? QStringLiteral("engines reached over SSH")
                                                      : failed->join(QStringLiteral("; ")));
    };
    for (const QString &name : needed) {
        const InventoryHost *host = m_inventory.host(name);
        if (!host) {
            one(QStringLiteral("%1 is not in the inventory").arg(name));
            continue;
        }
        auto *link = new HostLink;
        link->name = name;
        m_hosts.append(link);
        link->ssh =
            new SshSession(SshOptions::fromInventory(*host, m_inventory.settings.knownHosts), this);
        auto reported = std::make_shared<bool>(false);
        auto report = [reported, one](const QString &failure) {
            if (*reported)
                return;
            *reported = true;
            one(failure);
        };
        connect(link->ssh, &SshSession::connected, this,
                [link] { link->ssh->forwardUnixSocket(QString::fromLatin1(DockerSocket)); });
        connect(link->ssh, &SshSession::forwardReady, this,
                [this, link, report](const QString &, const QString &localPath) {
                    DockerEndpoint e;
                    e.socketPath = localPath;
                    e.name = link->name;
                    delete link->docker;
                    link->docker = new DockerClient(e, this);
                    report({});
                });
        connect(link->ssh, &SshSession::forwardFailed, this,
                [link, report](const QString &, const Error &e) {
                    link->error = e.message;
                    report(QStringLiteral("%1: %2").arg(link->name, e.message));
                });
        connect(link->ssh, &SshSession::failed, this, [link, report](const Error &e) {
            link->error = e.message;
            report(QStringLiteral("%1: %2").arg(link->name, e.message));
        });
        connect(link->ssh, &SshSession::hostKeyUnknown, this,
                [link, report](const QString &h, const QString &type, const QString &fp) {
                    link->ssh->rejectHostKey();
                    report(QStringLiteral("%1: host key %2 %3 is not in known_hosts; check it "
                                          "with the status command first")
                               .arg(h, type, fp));
                });
        link->ssh->connectToHost();
    }
}

PgConnection *Switchover::openSql(const QString &node)
{
    auto *c = new PgConnection(this);
    PgConnectOptions o;
    const InventoryHost *host = m_inventory.host(m_inventory.settings.postgresNodes.value(node));
    o.host = host ? host->address : node;
    o.port = m_inventory.settings.postgresPort;
    o.database = m_inventory.settings.repmgrDatabase.isEmpty()
                     ? m_inventory.settings.database
                     : m_inventory.settings.repmgrDatabase;
    o.user = QStringLiteral("repmgr");
    o.password = m_repmgrPassword;
    o.applicationName = QStringLiteral("pilothouse-switchover");
    o.connectTimeoutMs = 5000;
    o.label = node;
    c->open(o);
    return c;
}

void Switchover::connectSql(std::function<void(bool, QString)> done)
{
    delete m_targetSql;
    delete m_primarySql;
    m_targetSql = openSql(m_options.target);
    m_primarySql = openSql(m_primary);
    auto pending = std::make_shared<int>(2);
    auto failed = std::make_shared<QStringList>();
    auto check = [pending, failed, done](const Result<PgReply> &r) {
        if (!r)
            failed->append(r.error().message);
        if (--*pending == 0)
            done(failed->isEmpty(), failed->isEmpty() ? QStringLiteral("connected")
                                                      : failed->join(QStringLiteral("; ")));
    };
    m_targetSql->query(QStringLiteral("SELECT 1"), 8000, this, check);
    m_primarySql->query(QStringLiteral("SELECT 1"), 8000, this, check);
}

// ---------------------------------------------------------------- act

void Switchover::pauseRepmgrd(bool pause, std::function<void(bool, QString)> done)
{
    // repmgr pauses the daemons of every node it can reach from this one; the
    // target is up throughout, unlike the old primary.
    const QString script = QStringLiteral("repmgr -f %1 service %2")
                               .arg(QString::fromLatin1(RepmgrConf),
                                    pause ? QStringLiteral("pause") : QStringLiteral("unpause"));
    execIn(m_options.target, QStringLiteral("postgres"), script, 15000,
           [this, pause, done](const Result<DockerExecResult> &r) {
               if (!r || r.value().exitCode != 0) {
                   done(false, execFailure(r));
                   return;
               }
               m_repmgrdPaused = pause;
               done(true, tail(r.value().stdOut + r.value().stdErr, 1));
           });
}

void Switchover::checkpointPrimary(std::function<void(bool, QString)> done)
{
    // The shutdown checkpoint then has little to write: the old primary stops sooner.
    m_primarySql->query(QStringLiteral("CHECKPOINT"), 55000, this,
                        [done](const Result<PgReply> &r) {
                            done(bool(r), r ? QStringLiteral("done") : r.error().message);
                        });
}

void Switchover::stopOldPrimary(std::function<void(bool, QString)> done)
{
    // The hold mark keeps the container's supervisor from restarting the
    // stopped postgres until the rejoin; a fast shutdown ends the sessions,
    // and the WAL senders send every record to the standbys before exiting.
    const QString script =
        // pg_ctl -w looks every 100 ms; look every 10 ms instead: until the
        // target is promoted, this wait is part of the write gap.
        QStringLiteral("set -e; touch %1; d=%2; pg_ctl -D \"$d\" -m fast -W stop >/dev/null; "
                       "for i in $(seq 1 3000); do [ -e \"$d/postmaster.pid\" ] || break; "
                       "sleep 0.01; done; "
                       "pg_controldata -D \"$d\" | sed -n 's/^Latest checkpoint location: "
                       "*/checkpoint=/p;s/^Database cluster state: */state=/p'")
            .arg(QString::fromLatin1(HoldMark), QString::fromLatin1(PgData));
    m_holdSet = true;
    delete m_primarySql; // its session ends with the server
    m_primarySql = nullptr;
    execIn(m_primary, QStringLiteral("postgres"), script, 40000,
           [this, done](const Result<DockerExecResult> &r) {
               if (!r || r.value().exitCode != 0) {
                   done(false, execFailure(r));
                   return;
               }
               // Sessions end as the shutdown begins: writes stopped when it was asked for.
               m_result.oldPrimaryStoppedMs = m_stepStartedMs;
               const QStringList lines =
                   QString::fromUtf8(r.value().stdOut).trimmed().split(u'\n', Qt::SkipEmptyParts);
               QString state;
               for (const QString &line : lines) {
                   if (line.startsWith(u"checkpoint="))
                       m_shutdownCheckpoint = line.mid(11).trimmed();
                   else if (line.startsWith(u"state="))
                       state = line.mid(6).trimmed();
               }
               if (state != u"shut down" || m_shutdownCheckpoint.isEmpty()) {
                   done(false, QStringLiteral("the old primary did not shut down cleanly: %1")
                                   .arg(lines.join(QStringLiteral(", "))));
                   return;
               }
               done(true, QStringLiteral("shut down; its last record: checkpoint at %1")
                              .arg(m_shutdownCheckpoint));
           });
}

void Switchover::promoteTarget(std::function<void(bool, QString)> done)
{
    // Promote only once the target has received the old primary's shutdown
    // checkpoint: then no acknowledged commit can be missing on it.
    auto attempts = std::make_shared<int>(0);
    auto check = std::make_shared<std::function<void()>>();
    *check = [this, attempts, check, done] {
        m_targetSql->query(
            QStringLiteral("SELECT pg_last_wal_receive_lsn() > $1::pg_lsn, "
                           "pg_last_wal_receive_lsn()::text"),
            {m_shutdownCheckpoint}, 2000, this,
            [this, attempts, check, done](const Result<PgReply> &r) {
                if (!r) {
                    done(false, r.error().message);
                    return;
                }
                const PgRows &rows = r.value().constFirst();
                if (rows.text(0, rows.columns.value(0)) != u"t") {
                    if (++*attempts > 100) {
                        done(false, QStringLiteral("%1 received WAL only up to %2, before the old "
                                                   "primary's last checkpoint %3: not promoting")
                                        .arg(m_options.target, rows.text(0, rows.columns.value(1)),
                                             m_shutdownCheckpoint));
                        return;
                    }
                    QTimer::singleShot(50, this, [check] { (*check)(); });
                    return;
                }
                const QString received = rows.text(0, rows.columns.value(1));
                // pg_promote(wait) looks every 100 ms; ask without waiting and
                // look every 20 ms instead: the write gap is what this step costs.
                m_targetSql->query(
                    QStringLiteral("SELECT pg_promote(false)"), 5000, this,
                    [this, done, received](const Result<PgReply> &p) {
                        if (!p) {
                            done(false, p.error().message);
                            return;
                        }
                        auto looks = std::make_shared<int>(0);
                        auto look = std::make_shared<std::function<void()>>();
                        *look = [this, done, received, looks, look] {
                            m_targetSql->query(
                                QStringLiteral("SELECT pg_is_in_recovery()"), 2000, this,
                                [this, done, received, looks, look](const Result<PgReply> &r) {
                                    if (!r) {
                                        done(false, r.error().message);
                                        return;
                                    }
                                    if (r.value().constFirst().text(0, u"pg_is_in_recovery") ==
                                        u"t") {
                                        if (++*looks > 1000) {
                                            done(false, QStringLiteral("still in recovery 20 s "
                                                                       "after pg_promote"));
                                            return;
                                        }
                                        QTimer::singleShot(20, this, [look] { (*look)(); });
                                        return;
                                    }
                                    m_promoted = true;
                                    m_result.promotedMs = nowMs();
                                    done(true,
                                         QStringLiteral("had WAL up to %1; promoted %2 ms after "
                                                        "the stop was asked for")
                                             .arg(received)
                                             .arg(m_result.promotedMs -
                                                  m_result.oldPrimaryStoppedMs));
                                });
                        };
                        (*look)();
                    });
            });
    };
    (*check)();
}

void Switchover::repmgrSwitchover(std::function<void(bool, QString)> done)
{
    const QString script = QStringLiteral("repmgr -f %1 standby switchover --siblings-follow 2>&1")
                               .arg(QString::fromLatin1(RepmgrConf));
    execIn(m_options.target, QStringLiteral("postgres"), script, 170000,
           [this, done](const Result<DockerExecResult> &r) {
               if (!r || r.value().exitCode != 0) {
                   done(false, execFailure(r));
                   return;
               }
               m_promoted = true;
               m_result.promotedMs = nowMs();
               done(true, tail(r.value().stdOut, 1));
           });
}

void Switchover::repointPgpools(std::function<void(bool, QString)> done)
{
    // pgpool 4.3 saw the old primary shut down and is searching for a new
    // one (one look a second, search_primary_node_timeout): wait for it to
    // name the target. pcp_promote_node at once would be queued behind that
    // search, then fail over a second time, detach every other standby
    // ("follow degeneration") and restart every child again (measured). Only
    // a pgpool that still has not found it after 6 s (stale role, LAB-NOTES
    // trap 7) is told.
    const int id = pgpoolNodeId(m_options.target);
    if (id < 0) {
        done(false, QStringLiteral("no pgpool backend is %1").arg(m_options.target));
        return;
    }
    const QString script =
        QStringLiteral(
            "export PCPPASSFILE=%1; o='-h 127.0.0.1 -p %2 -U admin -w'; "
            "for i in $(seq 1 100); do "
            "  role=$(pcp_node_info $o -n %3 2>/dev/null | awk '{print $7}'); "
            "  if [ \"$role\" = primary ]; then echo \"primary after $i look(s)\"; exit 0; fi; "
            "  if [ $i = 60 ]; then pcp_promote_node $o -n %3 >/dev/null 2>&1 && echo promoted; "
            "fi; "
            "  sleep 0.1; "
            "done; echo \"pgpool still names $role\" >&2; exit 1")
            .arg(QString::fromLatin1(PcpPassFile))
            .arg(m_inventory.settings.pcpPort)
            .arg(id);
    const QStringList pgpools = pgpoolServices();
    auto pending = std::make_shared<int>(int(pgpools.size()));
    auto results = std::make_shared<QStringList>();
    auto failed = std::make_shared<bool>(false);
    for (const QString &key : pgpools) {
        execIn(key, QStringLiteral("postgres"), script, 15000,
               [this, key, pending, results, failed, done](const Result<DockerExecResult> &r) {
                   const bool ok = r && r.value().exitCode == 0;
                   *failed = *failed || !ok;
                   results->append(key + QStringLiteral(": ") +
                                   (ok ? tail(r.value().stdOut, 2) : execFailure(r)));
                   if (--*pending == 0) {
                       if (!*failed)
                           m_result.pgpoolsSwitchedMs = nowMs();
                       done(!*failed, results->join(QStringLiteral("; ")));
                   }
               });
    }
}

void Switchover::promoteInPgpools(std::function<void(bool, QString)> done)
{
    const int id = pgpoolNodeId(m_options.target);
    const QString script =
        QStringLiteral("export PCPPASSFILE=%1; pcp_promote_node -h 127.0.0.1 -p %2 -U admin -w "
                       "-n %3 2>&1")
            .arg(QString::fromLatin1(PcpPassFile))
            .arg(m_inventory.settings.pcpPort)
            .arg(id);
    const QStringList pgpools = pgpoolServices();
    auto pending = std::make_shared<int>(int(pgpools.size()));
    auto results = std::make_shared<QStringList>();
    auto failed = std::make_shared<bool>(false);
    for (const QString &key : pgpools) {
        execIn(key, QStringLiteral("postgres"), script, 15000,
               [key, pending, results, failed, done](const Result<DockerExecResult> &r) {
                   const bool ok = r && r.value().exitCode == 0;
                   *failed = *failed || !ok;
                   results->append(key + QStringLiteral(": ") +
                                   (ok ? tail(r.value().stdOut, 1) : execFailure(r)));
                   if (--*pending == 0)
                       done(!*failed, results->join(QStringLiteral("; ")));
               });
    }
}

void Switchover::updateRepmgrMetadata(std::function<void(bool, QString)> done)
{
    const int t = repmgrNodeId(m_options.target);
    QStringList others;
    for (const QString &n : QStringList{m_primary} + m_siblings)
        others.append(QString::number(repmgrNodeId(n)));
    // What `repmgr standby promote` records, and a checkpoint so that the new
    // timeline is in pg_control before pg_rewind looks at it during the rejoin.
    const QString sql =
        QStringLiteral(
            "UPDATE repmgr.nodes SET type = 'primary', upstream_node_id = NULL, active = true "
            "WHERE node_id = %1; "
            "UPDATE repmgr.nodes SET type = 'standby', upstream_node_id = %1 WHERE node_id IN "
            "(%2); "
            "INSERT INTO repmgr.events (node_id, event, successful, details) VALUES (%1, "
            "'standby_promote', true, 'promoted by pilothouse switchover'); "
            "CHECKPOINT")
            .arg(t)
            .arg(others.join(u','));
    m_targetSql->query(sql, 55000, this, [done](const Result<PgReply> &r) {
        done(bool(r), r ? QStringLiteral("done") : r.error().message);
    });
}

void Switchover::rejoinOldPrimary(std::function<void(bool, QString)> done)
{
    const QString script =
        QStringLiteral("repmgr -f %1 node rejoin -d %2 --force-rewind "
                       "--config-files=postgresql.conf,pg_hba.conf 2>&1; rc=$?; rm -f %3; exit $rc")
            .arg(QString::fromLatin1(RepmgrConf), shellQuote(repmgrConninfo(m_options.target)),
                 QString::fromLatin1(HoldMark));
    execIn(m_primary, QStringLiteral("postgres"), script, 110000,
           [this, done](const Result<DockerExecResult> &r) {
               // The script removed the hold mark whatever happened.
               if (r)
                   m_holdSet = false;
               if (!r || r.value().exitCode != 0) {
                   done(false, execFailure(r));
                   return;
               }
               done(true, tail(r.value().stdOut, 1));
           });
}

void Switchover::siblingsFollow(std::function<void(bool, QString)> done)
{
    if (m_siblings.isEmpty()) {
        done(true, QStringLiteral("no other standby"));
        return;
    }
    auto pending = std::make_shared<int>(int(m_siblings.size()));
    auto results = std::make_shared<QStringList>();
    auto failed = std::make_shared<bool>(false);
    for (const QString &s : std::as_const(m_siblings)) {
        followWithoutRestart(s, [this, s, pending, results, failed, done](bool ok, QString d) {
            auto record = [s, pending, results, failed, done](bool ok2, const QString &d2) {
                *failed = *failed || !ok2;
                results->append(s + QStringLiteral(": ") + d2);
                if (--*pending == 0)
                    done(!*failed, results->join(QStringLiteral("; ")));
            };
            if (ok) {
                record(true, d);
                return;
            }
            // Fall back on repmgr, which restarts the standby.
            followWithRepmgr(s, [record, d](bool ok2, QString d2) {
                record(ok2, d + QStringLiteral("; repmgr standby follow: ") + d2);
            });
        });
    }
}

// PostgreSQL 13+ applies a new primary_conninfo on reload: the WAL receiver
// reconnects to the new primary and follows its timeline (recovery target
// "latest"), without the restart `repmgr standby follow` does. A restarting
// standby answers pgpool's new sessions with "the database system is starting
// up", which fails them: measured, a second write gap of up to 3.6 s.
void Switchover::followWithoutRestart(const QString &sibling,
                                      std::function<void(bool, QString)> done)
{
    static const QRegularExpression hostKey(QStringLiteral("\\bhost\\s*=\\s*('[^']*'|\\S+)"));
    const auto m = hostKey.match(repmgrConninfo(m_options.target));
    QString newHost = m.hasMatch() ? m.captured(1) : m_options.target;
    newHost.remove(u'\'');
    PgConnection *c = openSql(sibling);
    auto finish = [c, done](bool ok, const QString &detail) {
        c->deleteLater();
        done(ok, detail);
    };
    c->query(
        QStringLiteral("SELECT current_setting('primary_conninfo') AS info, "
                       "current_setting('primary_slot_name') AS slot"),
        5000, this, [this, c, newHost, finish](const Result<PgReply> &r) {
            if (!r) {
                finish(false, r.error().message);
                return;
            }
            QString info = r.value().constFirst().text(0, u"info");
            const QString slot = r.value().constFirst().text(0, u"slot");
            if (!hostKey.match(info).hasMatch()) {
                finish(false, QStringLiteral("primary_conninfo names no host"));
                return;
            }
            info.replace(hostKey, QStringLiteral("host=") + newHost);
            QString quoted = info;
            quoted.replace(u'\'', QStringLiteral("''"));
            // The standby streams through its replication slot: the new
            // primary needs one of that name (repmgr standby follow makes it).
            if (!slot.isEmpty())
                m_targetSql->query(
                    QStringLiteral("SELECT pg_create_physical_replication_slot($1, true) WHERE NOT "
                                   "EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = "
                                   "$1)"),
                    {slot}, 5000, this, [](const Result<PgReply> &) {});
            c->query(
                QStringLiteral("ALTER SYSTEM SET primary_conninfo = '%1'").arg(quoted), 5000, this,
                [this, c, newHost, finish](const Result<PgReply> &r2) {
                    if (!r2) {
                        finish(false, r2.error().message);
                        return;
                    }
                    c->query(
                        QStringLiteral("SELECT pg_reload_conf()"), 5000, this,
                        [this, c, newHost, finish](const Result<PgReply> &r3) {
                            if (!r3) {
                                finish(false, r3.error().message);
                                return;
                            }
                            auto looks = std::make_shared<int>(0);
                            auto look = std::make_shared<std::function<void()>>();
                            *look = [this, c, newHost, finish, looks, look] {
                                c->query(
                                    QStringLiteral("SELECT status, sender_host FROM "
                                                   "pg_stat_wal_receiver"),
                                    3000, this,
                                    [this, newHost, finish, looks,
                                     look](const Result<PgReply> &r4) {
                                        if (!r4) {
                                            finish(false, r4.error().message);
                                            return;
                                        }
                                        const PgRows &rows = r4.value().constFirst();
                                        if (!rows.rows.isEmpty() &&
                                            rows.text(0, u"status") == u"streaming" &&
                                            rows.text(0, u"sender_host") == newHost) {
                                            finish(true, QStringLiteral("streaming from %1 after a "
                                                                        "reload (no restart)")
                                                             .arg(newHost));
                                            return;
                                        }
                                        if (++*looks > 200) {
                                            finish(false, QStringLiteral(
                                                              "not streaming from %1 20 s after "
                                                              "the reload")
                                                              .arg(newHost));
                                            return;
                                        }
                                        QTimer::singleShot(100, this, [look] { (*look)(); });
                                    });
                            };
                            (*look)();
                        });
                });
        });
}

void Switchover::followWithRepmgr(const QString &sibling, std::function<void(bool, QString)> done)
{
    const QString script = QStringLiteral("repmgr -f %1 standby follow --upstream-node-id=%2 2>&1")
                               .arg(QString::fromLatin1(RepmgrConf))
                               .arg(repmgrNodeId(m_options.target));
    execIn(sibling, QStringLiteral("postgres"), script, 80000,
           [done](const Result<DockerExecResult> &r) {
               const bool ok = r && r.value().exitCode == 0;
               done(ok, ok ? tail(r.value().stdOut, 1) : execFailure(r));
           });
}

void Switchover::attachInPgpools(std::function<void(bool, QString)> done)
{
    // pgpool detached the old primary when it shut down (and the standbys it
    // lost sight of); attach each as soon as it streams rather than wait for
    // auto_failback or the stack's reconciler. Then open a session through
    // this pgpool: measured once, a pgpool had marked the old primary up
    // while it was still down, and every session then failed with "kind does
    // not match between main(0) slot[0]" until that node was detached and
    // attached again; do that here when a session fails.
    const int oldId = pgpoolNodeId(m_primary);
    QStringList nodes = QStringList{m_primary} + m_siblings;
    QStringList ids;
    for (const QString &n : nodes) {
        const int id = pgpoolNodeId(n);
        if (id >= 0)
            ids.append(QString::number(id));
    }
    const QString script =
        QStringLiteral(
            "export PCPPASSFILE=%1; o='-h 127.0.0.1 -p %2 -U admin -w'; out=''; "
            "for n in %3; do "
            "  for i in 1 2 3 4 5; do "
            "    st=$(pcp_node_info $o -n $n 2>/dev/null | awk '{print $3}'); "
            "    case \"$st\" in 1|2) out=\"$out $n:up\"; break;; esac; "
            "    pcp_attach_node $o -n $n >/dev/null 2>&1 && { out=\"$out $n:attached\"; break; }; "
            "    sleep 0.5; "
            "  done; "
            "done; "
            "export PGPASSWORD=$(cat \"$PGPOOL_SR_CHECK_PASSWORD_FILE\") PGCONNECT_TIMEOUT=3; "
            "s() { psql -h 127.0.0.1 -p \"${PGPOOL_PORT_NUMBER:-9999}\" -U "
            "\"$PGPOOL_SR_CHECK_USER\" "
            "-d postgres -XAtqc 'SELECT 1' >/dev/null 2>&1; }; "
            "if ! s && ! { sleep 0.5; s; }; then "
            "  pcp_detach_node $o -n %4 >/dev/null 2>&1; sleep 0.5; "
            "  pcp_attach_node $o -n %4 >/dev/null 2>&1; sleep 0.5; "
            "  if s; then out=\"$out; sessions failed: %4 detached and attached, sessions work\"; "
            "  else out=\"$out; sessions still fail\"; fi; "
            "fi; echo \"$out\"")
            .arg(QString::fromLatin1(PcpPassFile))
            .arg(m_inventory.settings.pcpPort)
            .arg(ids.join(u' '))
            .arg(oldId);
    const QStringList pgpools = pgpoolServices();
    auto pending = std::make_shared<int>(int(pgpools.size()));
    auto results = std::make_shared<QStringList>();
    for (const QString &key : pgpools) {
        execIn(key, QStringLiteral("postgres"), script, 28000,
               [key, pending, results, done](const Result<DockerExecResult> &r) {
                   results->append(
                       key + QStringLiteral(":") +
                       (r && r.value().exitCode == 0 ? tail(r.value().stdOut, 1) : execFailure(r)));
                   // Not fatal: the verify step says what is still detached.
                   if (--*pending == 0)
                       done(true, results->join(QStringLiteral("; ")));
               });
    }
}

void Switchover::releaseOldPrimary(std::function<void(bool, QString)> done)
{
    if (!m_holdSet) {
        done(true, QStringLiteral("nothing held"));
        return;
    }
    // Not promoted yet: start the old primary again at once (it shut down
    // cleanly, as the primary), before repmgrd is resumed and could elect
    // another. Promoted: without the mark the supervisor rejoins it to the new
    // primary within 12 s.
    const QString script =
        m_promoted ? QStringLiteral("rm -f %1").arg(QString::fromLatin1(HoldMark))
                   : QStringLiteral("rm -f %1; /usr/local/bin/ph-pgctl status >/dev/null || "
                                    "/usr/local/bin/ph-pgctl start >/dev/null")
                         .arg(QString::fromLatin1(HoldMark));
    execIn(m_primary, QStringLiteral("root"), script, 15000,
           [this, done](const Result<DockerExecResult> &r) {
               if (!r || r.value().exitCode != 0) {
                   done(false, execFailure(r));
                   return;
               }
               m_holdSet = false;
               done(true, m_promoted ? QStringLiteral("hold mark removed")
                                     : QStringLiteral("old primary started again"));
           });
}

// ---------------------------------------------------------------- verify

void Switchover::waitHealthy(std::function<void(bool, QString)> done)
{
    const int timeline = m_result.timelineBefore > 0 ? m_result.timelineBefore + 1 : 0;
    auto *poll = new QTimer(this);
    auto last = std::make_shared<QStringList>();
    connect(poll, &QTimer::timeout, this, [this, poll, last, timeline, done] {
        if (!m_running) {
            poll->deleteLater();
            return;
        }
        const ClusterSnapshot s = m_monitor->snapshot();
        *last = unhealthyAfter(s, m_options.target, timeline);
        if (last->isEmpty()) {
            poll->deleteLater();
            const PostgresNodeState *t = node(s, m_options.target);
            m_result.timelineAfter = t ? t->timeline : 0;
            done(true, QStringLiteral("%1 primary on timeline %2, %3 standby(s) streaming, %4 "
                                      "pgpool(s) agree")
                           .arg(m_options.target)
                           .arg(m_result.timelineAfter)
                           .arg(s.postgres.size() - 1)
                           .arg(s.pgpools.size()));
        }
    });
    // The step timer ends this step; then the poll sees m_running or is
    // deleted with us. Keep the last reasons for the timeout's message.
    connect(&m_stepTimer, &QTimer::timeout, poll, [this, poll, last] {
        const PostgresNodeState *t = node(m_monitor->snapshot(), m_options.target);
        m_result.timelineAfter = t ? t->timeline : 0;
        if (!m_result.steps.isEmpty())
            m_result.steps.last().detail += QStringLiteral(": ") + last->join(QStringLiteral("; "));
        poll->deleteLater();
    });
    poll->start(250);
}

void Switchover::appWrites(std::function<void(bool, QString)> done)
{
    const ClusterSettings &s = m_inventory.settings;
    if (s.domain.isEmpty() || m_inventory.hosts.isEmpty()) {
        done(true, QStringLiteral("no app domain in the inventory: skipped"));
        return;
    }
    auto *http = new HttpProbe(this);
    HttpProbeRequest request;
    request.url = QUrl(QStringLiteral("https://%1/api/write").arg(s.domain));
    request.connectAddress = m_inventory.hosts.constFirst().address;
    if (auto ca =
            CertificateReader::loadPemFile(s.secretsDir + QStringLiteral("/proxy_tls_cert.pem")))
        request.caCertificates = ca.value();
    request.method = "POST";
    request.timeoutMs = 3000;
    request.maxBodyBytes = 4096;
    auto attempts = std::make_shared<int>(0);
    auto attempt = std::make_shared<std::function<void()>>();
    *attempt = [this, http, request, attempts, attempt, done] {
        http->get(
            request, this, [this, http, attempts, attempt, done](const Result<HttpProbeResult> &r) {
                const QJsonObject body =
                    r ? QJsonDocument::fromJson(r.value().body).object() : QJsonObject{};
                const bool ok = r && r.value().statusCode == 200 &&
                                body.value(QStringLiteral("in_recovery")) == false;
                if (ok) {
                    http->deleteLater();
                    done(true, QStringLiteral("row %1 written on %2")
                                   .arg(body.value(QStringLiteral("id")).toVariant().toString(),
                                        body.value(QStringLiteral("server")).toString()));
                    return;
                }
                if (++*attempts >= 10) {
                    http->deleteLater();
                    done(false, r ? QStringLiteral("HTTP %1: %2")
                                        .arg(r.value().statusCode)
                                        .arg(QString::fromUtf8(r.value().body.left(200)))
                                  : r.error().message);
                    return;
                }
                QTimer::singleShot(1000, this, [attempt] { (*attempt)(); });
            });
    };
    (*attempt)();
}

// ---------------------------------------------------------------- helpers

QString Switchover::containerOf(const QString &service, QString *host) const
{
    const ClusterSnapshot s = m_monitor ? m_monitor->snapshot() : m_before;
    // "pgpool@swarm-02": the pgpool task on that host.
    const QString name = service.section(u'@', 0, 0);
    const QString onHost = service.section(u'@', 1);
    for (const TaskState &t : s.tasks) {
        if (t.service != name || t.desiredState != u"running" || t.currentState != u"running" ||
            t.containerId.isEmpty())
            continue;
        if (!onHost.isEmpty() && t.hostname != onHost)
            continue;
        if (host)
            *host = t.hostname;
        return t.containerId;
    }
    return {};
}

QStringList Switchover::pgpoolServices() const
{
    QStringList out;
    const ClusterSnapshot s = m_monitor ? m_monitor->snapshot() : m_before;
    for (const TaskState &t : s.tasks) {
        if (t.service == m_inventory.settings.pgpoolService && t.desiredState == u"running" &&
            t.currentState == u"running" && !t.containerId.isEmpty())
            out.append(t.service + u'@' + t.hostname);
    }
    out.removeDuplicates();
    return out;
}

void Switchover::execIn(const QString &service, const QString &user, const QString &script,
                        int timeoutMs, ExecCallback callback)
{
    QString hostName;
    const QString container = containerOf(service, &hostName);
    HostLink *link = nullptr;
    for (HostLink *l : std::as_const(m_hosts)) {
        if (l->name == hostName)
            link = l;
    }
    if (container.isEmpty() || !link || !link->docker) {
        const Error e{container.isEmpty()
                          ? QStringLiteral("no running container of %1").arg(service)
                          : QStringLiteral("no Docker connection to %1 (%2)")
                                .arg(hostName, link ? link->error : QStringLiteral("not set up")),
                      {},
                      0,
                      0};
        QMetaObject::invokeMethod(
            this, [callback, e] { callback(Result<DockerExecResult>(e)); }, Qt::QueuedConnection);
        return;
    }
    DockerExecOptions o;
    o.user = user;
    o.timeoutMs = timeoutMs;
    DockerExec *job =
        link->docker->exec(container, {QStringLiteral("bash"), QStringLiteral("-c"), script}, o);
    connect(job, &DockerExec::finished, this, [job, callback] { callback(job->result()); });
}

int Switchover::repmgrNodeId(const QString &name) const
{
    for (const PostgresNodeState &n : m_before.postgres) {
        for (const RepmgrNodeView &v : n.repmgr) {
            if (v.name == name)
                return v.nodeId;
        }
    }
    // The stack's convention (ph-postgres): node id = number in the name + 1000.
    static const QRegularExpression suffix(QStringLiteral("-(\\d+)$"));
    const auto m = suffix.match(name);
    return m.hasMatch() ? m.captured(1).toInt() + 1000 : -1;
}

int Switchover::pgpoolNodeId(const QString &name) const
{
    for (const PgpoolInstanceState &p : m_before.pgpools) {
        for (const PgpoolBackend &b : p.backends) {
            if (b.hostname == name)
                return b.nodeId;
        }
    }
    return -1;
}

QString Switchover::repmgrConninfo(const QString &name) const
{
    for (const PostgresNodeState &n : m_before.postgres) {
        for (const RepmgrNodeView &v : n.repmgr) {
            if (v.name == name && !v.conninfo.isEmpty())
                return v.conninfo;
        }
    }
    return QStringLiteral("host=%1 port=%2 user=repmgr dbname=repmgr connect_timeout=2")
        .arg(name)
        .arg(m_inventory.settings.postgresPort);
}

} // namespace Pilothouse
