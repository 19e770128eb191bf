#include "app/operations/switchover.h"

#include "app/connectors/docker/dockerexec.h"
#include "app/connectors/etcd/etcdclusterprobe.h"
#include "app/connectors/http/certificatereader.h"
#include "app/connectors/http/httpprobe.h"
#include "app/connectors/ssh/sshcommand.h"
#include "app/monitor/clustermonitor.h"
#include "app/operations/audittrail.h"
#include "app/operations/operationcontext.h"
#include "app/operations/operationlock.h"

#include <QDateTime>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QSet>

#include <memory>

namespace Pilothouse {

namespace {

// Paths and commands inside the stack's pg containers (deploy-stacks/images).
constexpr auto RepmgrConf = "/etc/repmgr.conf";
constexpr auto HoldMark = "/run/pilothouse/hold";
constexpr auto PauseMark = "/run/pilothouse/repmgrd-paused-by";
constexpr auto PgData = "${PGDATA:-/var/lib/pilothouse/data}";
// And in its pgpool containers: ph-pgpool writes a pcppass for the PCP user.
constexpr auto PcpPassFile = "/run/pgpool/etc/pcppass";
// How long the verify step lets the app try to write through the proxy: its
// replicas reconnect to pgpool, whose children restart after a primary change,
// and the proxy takes them back once a health check passes again.
constexpr int AppWriteTimeoutMs = 45000;
constexpr auto Sql = "repmgr"; // the role every SQL of the switchover runs as

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
    return OperationContext::describe(r);
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

QString sqlQuote(const QString &s)
{
    QString q = s;
    q.replace(u'\'', QStringLiteral("''"));
    return u'\'' + q + u'\'';
}

// The checks of the preflight, in order; the last one needs the task list
// and the inventory, so it is not among the pure ones.
enum Check { OnePrimary, TargetReady, OthersAnswer, PgpoolsAgree, EtcdQuorum, Containers, Checks };

} // namespace

Switchover::Switchover(Inventory inventory, SwitchoverOptions options, QObject *parent)
    : QObject(parent)
    , m_inventory(std::move(inventory))
    , m_options(std::move(options))
{
    qRegisterMetaType<Pilothouse::RunbookReport>();
}

Switchover::~Switchover()
{
    m_running = false;
    delete m_runbook; // aborts its steps; their callbacks go nowhere
    m_runbook = nullptr;
    if (m_ownContext)
        delete m_context;
    delete m_monitor;
}

void Switchover::setContext(OperationContext *context)
{
    if (m_runbook)
        return;
    m_context = context;
}

ClusterSnapshot Switchover::lastSnapshot() const
{
    return m_monitor ? m_monitor->snapshot() : m_before;
}

// ---------------------------------------------------------------- pure checks

QList<QPair<QString, QStringList>>
Switchover::preflightChecks(const ClusterSnapshot &s, const QString &target, qint64 maxLagBytes)
{
    QList<QPair<QString, QStringList>> out(Containers);
    out[OnePrimary].first = QStringLiteral("one primary, no other node claims to be one");
    out[TargetReady].first =
        QStringLiteral("%1 is a standby streaming from the primary and caught up (lag <= %2 bytes)")
            .arg(target)
            .arg(maxLagBytes);
    out[OthersAnswer].first = QStringLiteral("every other standby answers (it must follow)");
    out[PgpoolsAgree].first =
        QStringLiteral("every pgpool answers and sends writes to the primary");
    out[EtcdQuorum].first = QStringLiteral("etcd has quorum");

    QStringList &primary = out[OnePrimary].second;
    const QStringList primaries = primariesOf(s);
    if (primaries.size() != 1)
        primary.append(primaries.isEmpty()
                           ? QStringLiteral("no reachable node is primary")
                           : QStringLiteral("%1 nodes claim to be primary (%2): resolve the split "
                                            "brain first")
                                 .arg(primaries.size())
                                 .arg(primaries.join(QStringLiteral(", "))));

    QStringList &ready = out[TargetReady].second;
    const PostgresNodeState *t = node(s, target);
    if (!t) {
        QStringList names;
        for (const PostgresNodeState &n : s.postgres)
            names.append(n.name);
        ready.append(QStringLiteral("%1 is not a PostgreSQL node of this cluster (nodes: %2)")
                         .arg(target, names.join(QStringLiteral(", "))));
    } else if (!t->reachable)
        ready.append(QStringLiteral("%1 does not answer: %2").arg(target, t->freshness.error));
    else if (t->role == u"primary")
        ready.append(QStringLiteral("%1 is already the primary").arg(target));
    else if (t->role != u"standby")
        ready.append(QStringLiteral("%1's role is %2, not standby").arg(target, t->role));
    else {
        if (t->walReceiverStatus != u"streaming")
            ready.append(QStringLiteral("%1 is not streaming (WAL receiver: %2)")
                             .arg(target, t->walReceiverStatus.isEmpty() ? QStringLiteral("none")
                                                                         : t->walReceiverStatus));
        if (primaries.size() == 1 && t->upstream != primaries.constFirst())
            ready.append(QStringLiteral("%1 streams from %2, not from the primary %3")
                             .arg(target, t->upstream, primaries.constFirst()));
        if (t->lagBytes < 0)
            ready.append(QStringLiteral("%1's replication lag is unknown").arg(target));
        else if (t->lagBytes > maxLagBytes)
            ready.append(QStringLiteral("%1 is %2 bytes behind the primary (at most %3 allowed)")
                             .arg(target)
                             .arg(t->lagBytes)
                             .arg(maxLagBytes));
    }

    for (const PostgresNodeState &n : s.postgres) {
        if (n.name == target || primaries.contains(n.name))
            continue;
        if (!n.reachable)
            out[OthersAnswer].second.append(
                QStringLiteral("%1 does not answer: it could not follow the new primary")
                    .arg(n.name));
    }

    QStringList &pools = out[PgpoolsAgree].second;
    if (s.pgpools.isEmpty())
        pools.append(QStringLiteral("no pgpool instance was found"));
    QSet<QString> views;
    for (const PgpoolInstanceState &p : s.pgpools) {
        if (!p.reachable) {
            pools.append(
                QStringLiteral("pgpool on %1 does not answer: %2").arg(p.host, p.freshness.error));
            continue;
        }
        const QString seen = pgpoolPrimary(p);
        views.insert(seen);
        if (primaries.size() == 1 && seen != primaries.constFirst())
            pools.append(QStringLiteral("pgpool on %1 sends writes to %2, not to the primary %3")
                             .arg(p.host, seen.isEmpty() ? QStringLiteral("no node") : seen,
                                  primaries.constFirst()));
        for (const PgpoolBackend &b : p.backends) {
            if (b.hostname == target && (b.status == u"down" || b.status == u"unused"))
                pools.append(QStringLiteral("pgpool on %1 has %2 detached").arg(p.host, target));
        }
    }
    if (views.size() > 1)
        pools.append(QStringLiteral("the pgpool instances disagree on the primary"));
    if (!pools.isEmpty() && !s.pgpools.isEmpty())
        pools.append(QStringLiteral("to bring the pgpools in line: `pilothouse pgpool-repair`, or "
                                    "Operations → Repair the pgpools… in the console"));

    if (s.etcd.clusterSize > 0 && !s.etcd.quorum)
        out[EtcdQuorum].second.append(
            QStringLiteral("etcd has no quorum (%1 of %2 members healthy)")
                .arg(s.etcd.healthyMembers)
                .arg(s.etcd.clusterSize));
    else if (s.etcd.clusterSize == 0)
        out[EtcdQuorum].second.append(
            QStringLiteral("etcd was not read, so its quorum is unknown"));
    return out;
}

QStringList Switchover::refusals(const ClusterSnapshot &s, const QString &target,
                                 qint64 maxLagBytes)
{
    QStringList why;
    for (const auto &c : preflightChecks(s, target, maxLagBytes))
        why += c.second;
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

// ---------------------------------------------------------------- the tree

QString Switchover::preflightText() const
{
    const QString t = m_options.target;
    QString text;
    text += QStringLiteral("Switchover to %1 (reason: %2)\n\n").arg(t, m_options.reason);
    text += QStringLiteral("What will happen:\n");
    text += QStringLiteral("  1. Take the cluster's operation lock in etcd (refused if another "
                           "console or CLI holds it; it says who and since when).\n");
    if (m_options.method == SwitchoverOptions::Method::Repmgr) {
        text += QStringLiteral("  2. Run `repmgr standby switchover --siblings-follow` on %1, then "
                               "point every pgpool at it.\n")
                    .arg(t);
    } else {
        text += QStringLiteral(
                    "  2. Pause repmgrd on every node; checkpoint the primary.\n"
                    "  3. Tell every pgpool that %1 is the primary while the old primary stops "
                    "(fast shutdown: sessions end, every WAL record is sent to the standbys).\n"
                    "  4. Promote %1 once it has received the old primary's shutdown "
                    "checkpoint: no acknowledged commit can be missing on it.\n"
                    "  5. Record the new roles in repmgr; rejoin the old primary as a standby "
                    "of %1 (pg_rewind); the other standbys follow %1 with a reload (no "
                    "restart); resume repmgrd; attach every standby in every pgpool.\n")
                    .arg(t);
    }
    text +=
        QStringLiteral(
            "  Then verify: a session through each pgpool works (a pgpool 4.3 that answers \"kind "
            "does not match\" is repaired with a detach and attach of the node it has wrong), "
            "one primary %1 on the next timeline, both standbys streaming from it, every pgpool "
            "agrees, the app writes.\n"
            "  Every command is recorded in the audit trail (secrets masked).\n\n")
            .arg(t);
    text += QStringLiteral("What is checked first (all of it, every refusal is listed):\n");
    const ClusterSnapshot s = lastSnapshot();
    const auto checks = preflightChecks(s, t, m_options.maxLagBytes);
    for (const auto &c : checks)
        text += QStringLiteral("  - %1%2\n")
                    .arg(c.first, s.postgres.isEmpty()
                                      ? QString()
                                      : (c.second.isEmpty()
                                             ? QStringLiteral(": ok now")
                                             : QStringLiteral(": NO (") +
                                                   c.second.join(QStringLiteral("; ")) + u')'));
    text += QStringLiteral("  - the containers to act on run and every host's Docker engine "
                           "answers over SSH\n\n");
    text += QStringLiteral(
        "Expected downtime: writes fail for about 1 s (measured on the lab through pgpool: "
        "the old primary's clean stop, then the promotion); the app through the proxy for "
        "about the same, a little more when HAProxy's health check marks it down. Reads "
        "on the standbys go on. No acknowledged write is lost.\n");
    return text;
}

void Switchover::addStepBeforeAct(const QString &name, int timeoutMs, StepFunction run)
{
    m_beforeAct.append({name, {timeoutMs, std::move(run)}});
}

RunbookNode Switchover::buildTree()
{
    const QString t = m_options.target;
    auto bind = [this](void (Switchover::*fn)(Done)) {
        return [this, fn](Done done) {
            (this->*fn)(std::move(done));
        };
    };
    std::vector<RunbookNode> top;

    OperationLock *lock = m_context->lock();
    if (lock && !lock->isHeld()) {
        m_lockTaken = true;
        top.push_back(lock->acquireStep());
    } else {
        top.push_back(okStep(QStringLiteral("the operation lock"), 1000, [lock](Done done) {
            if (!lock)
                done(true, QStringLiteral("none: run without a lock"));
            else
                done(lock->isHeld(),
                     lock->isHeld()
                         ? QStringLiteral("held by the calling operation: ") + lock->me().describe()
                         : QStringLiteral("not held"));
        }));
    }
    top.push_back(
        okStep(QStringLiteral("open the audit trail"), 15000, bind(&Switchover::openAudit)));

    std::vector<RunbookNode> preflight;
    preflight.push_back(okStep(QStringLiteral("read every layer of the cluster"),
                               m_options.preflightTimeoutMs, bind(&Switchover::readCluster)));
    const auto names = preflightChecks({}, t, m_options.maxLagBytes);
    for (int i = 0; i < Checks; ++i) {
        const QString name = i < Containers
                                 ? names.at(i).first
                                 : QStringLiteral("the containers to act on run in the swarm");
        preflight.push_back(okStep(QStringLiteral("check: ") + name, 2000,
                                   [this, i](Done done) { check(i, std::move(done)); }));
    }
    preflight.push_back(okStep(QStringLiteral("connect to every host's Docker engine over SSH"),
                               20000, bind(&Switchover::connectHosts)));
    preflight.push_back(okStep(QStringLiteral("connect to the primary and %1 as repmgr").arg(t),
                               10000, bind(&Switchover::connectSql)));
    top.push_back(RunbookNode::sequence(QStringLiteral("preflight"), std::move(preflight),
                                        RunbookNode::ErrorPolicy::ContinueOnError));

    std::vector<RunbookNode> act;
    for (const auto &b : std::as_const(m_beforeAct)) {
        const StepFunction run = b.second.second;
        act.push_back(okStep(b.first, b.second.first, [run](Done done) { run(std::move(done)); }));
    }
    if (m_options.method == SwitchoverOptions::Method::Repmgr) {
        act.push_back(
            okStep(QStringLiteral("repmgr standby switchover --siblings-follow on %1").arg(t),
                   180000, bind(&Switchover::repmgrSwitchover))
                .uninterruptible());
        act.push_back(okStep(QStringLiteral("point every pgpool at %1").arg(t), 20000,
                             bind(&Switchover::repointPgpools)));
    } else {
        act.push_back(okStep(QStringLiteral("pause repmgrd on every node"), 20000,
                             [this](Done done) { pauseRepmgrd(true, std::move(done)); })
                          .withUndo(
                              [this](RunbookStep::Done done) {
                                  if (!m_repmgrdPaused) {
                                      done(QStringLiteral("not paused"));
                                      return;
                                  }
                                  pauseRepmgrd(false, [done](bool ok, const QString &d) {
                                      if (ok)
                                          done(d);
                                      else
                                          done(Error{d, {}, 0, 0});
                                  });
                              },
                              RunbookStep::UndoPolicy::Always, 20000));
        act.push_back(okStep(QStringLiteral("settle %1's WAL receiver (no reconnect by its "
                                            "supervisor during the switch)")
                                 .arg(t),
                             20000, bind(&Switchover::settleWalReceiver)));
        act.push_back(okStep(QStringLiteral("checkpoint the primary"), 60000,
                             bind(&Switchover::checkpointPrimary)));
        RunbookNode stop =
            okStep(QStringLiteral("stop the old primary (fast shutdown, WAL sent to standbys)"),
                   45000, bind(&Switchover::stopOldPrimary))
                .uninterruptible()
                .withUndo(
                    [this](RunbookStep::Done done) {
                        releaseOldPrimary([done](bool ok, const QString &d) {
                            if (ok)
                                done(d);
                            else
                                done(Error{d, {}, 0, 0});
                        });
                    },
                    RunbookStep::UndoPolicy::Always, 20000);
        // pgpool first: told before the shutdown, it does not start a search
        // of its own when it sees it (measured: with both at once one pgpool
        // searched for 0.7 s more, a write gap of 2.5 s instead of 1.2 s).
        if (m_options.pgpoolFirst)
            act.push_back(okStep(QStringLiteral("tell every pgpool %1 is the primary").arg(t),
                                 20000, bind(&Switchover::promoteInPgpools))
                              .withUndo(
                                  [this](RunbookStep::Done done) {
                                      if (m_promoted) {
                                          done(QStringLiteral("%1 was promoted: nothing to undo")
                                                   .arg(m_options.target));
                                          return;
                                      }
                                      promoteInPgpools(m_primary,
                                                       [done](bool ok, const QString &d) {
                                                           if (ok)
                                                               done(d);
                                                           else
                                                               done(Error{d, {}, 0, 0});
                                                       });
                                  },
                                  RunbookStep::UndoPolicy::OnAbort, 20000));
        act.push_back(stop);
        // With the promotion, not after it: a pgpool that did not see the
        // shutdown on one of its sessions keeps the stopped node up until its
        // health check gives up (2 retries of 2 s), and every new session
        // through it fails meanwhile (measured: write gaps of 4.7-5.2 s).
        act.push_back(RunbookNode::parallel(
            QStringLiteral("promote"),
            {okStep(QStringLiteral("check %1 has all WAL, promote it").arg(t), 30000,
                    bind(&Switchover::promoteTarget))
                 .uninterruptible(),
             okStep(QStringLiteral("detach the stopped old primary in every pgpool"), 15000,
                    bind(&Switchover::detachOldInPgpools))}));
        act.push_back(okStep(QStringLiteral("point every pgpool at %1").arg(t), 20000,
                             bind(&Switchover::repointPgpools)));
        act.push_back(okStep(QStringLiteral("record the new roles in repmgr, checkpoint %1").arg(t),
                             60000, bind(&Switchover::updateRepmgrMetadata)));
        if (m_options.rejoinOldPrimary)
            act.push_back(okStep(QStringLiteral("rejoin the old primary as a standby of %1").arg(t),
                                 120000, bind(&Switchover::rejoinOldPrimary))
                              .uninterruptible());
        act.push_back(okStep(QStringLiteral("the other standbys follow %1").arg(t), 90000,
                             bind(&Switchover::siblingsFollow)));
        act.push_back(okStep(QStringLiteral("resume repmgrd"), 20000,
                             [this](Done done) { pauseRepmgrd(false, std::move(done)); }));
    }
    act.push_back(okStep(QStringLiteral("attach every streaming standby in every pgpool"), 30000,
                         bind(&Switchover::attachInPgpools)));
    top.push_back(RunbookNode::sequence(QStringLiteral("act"), std::move(act)));

    top.push_back(RunbookNode::sequence(
        QStringLiteral("verify"),
        {okStep(QStringLiteral("a session through every pgpool works (repair \"kind does not "
                               "match\")"),
                40000, bind(&Switchover::pgpoolSessions)),
         okStep(QStringLiteral("one primary %1 on the next timeline, standbys streaming from it, "
                               "every pgpool agrees")
                    .arg(t),
                m_options.verifyTimeoutMs, bind(&Switchover::waitHealthy)),
         // repmgr writes host='…' into the conninfo of a standby it points at
         // the new primary; each container's supervisor reconnects such a WAL
         // receiver (pgpool cannot parse it) within 10 s: a second without
         // streaming after the switchover said healthy. Done here, and waited for.
         okStep(
             QStringLiteral("every standby's WAL receiver reconnected with an unquoted conninfo"),
             20000, bind(&Switchover::settleStandbyWalReceivers)),
         okStep(QStringLiteral("the app writes through the proxy"), AppWriteTimeoutMs,
                bind(&Switchover::appWrites))}));
    return RunbookNode::sequence(QStringLiteral("switchover"), std::move(top));
}

// ---------------------------------------------------------------- the run

void Switchover::start()
{
    if (m_running || m_runbook)
        return;
    m_running = true;
    m_result = SwitchoverResult{};
    m_result.newPrimary = m_options.target;
    m_startedMs = nowMs();
    if (!m_context) {
        const QString operation = QStringLiteral("switchover to %1").arg(m_options.target);
        m_context = OperationContext::createOwn(m_inventory, operation, m_options.reason, this);
        m_ownContext = true;
    }
    m_context->setSnapshotSource([this] { return lastSnapshot(); });

    m_runbook = new Runbook(buildTree(), this);
    connect(m_runbook, &Runbook::stepStarted, this,
            [this](const QString &path, const QString &name) {
                m_stepStarts.insert(path, nowMs());
                Q_EMIT stepStarted(path, name);
            });
    connect(m_runbook, &Runbook::stepFinished, this,
            [this](const QString &path, bool ok, double seconds, const QString &message) {
                Q_EMIT stepCompleted(path, ok, seconds, message);
                const RunbookReport r = m_runbook->report();
                const RunbookStepReport *s = r.step(path);
                if (path.endsWith(u"/undo") || (s && s->kind == RunbookStepReport::Kind::Step)) {
                    SwitchoverStep step;
                    step.path = path;
                    step.phase = path.endsWith(u"/undo") ? QStringLiteral("cleanup")
                                                         : path.section(u'/', 1, 1);
                    if (step.phase == u"take the operation lock" ||
                        step.phase == u"the operation lock" ||
                        step.phase == u"open the audit trail")
                        step.phase = QStringLiteral("lock");
                    step.name = path.endsWith(u"/undo")
                                    ? path.section(u'/', -2, -2) + QStringLiteral(" (undo)")
                                    : path.section(u'/', -1);
                    step.ok = ok;
                    step.detail = message;
                    step.startedMs = m_stepStarts.value(path);
                    step.seconds = seconds;
                    Q_EMIT stepFinished(step);
                }
            });
    connect(m_runbook, &Runbook::progress, this, &Switchover::progress);
    connect(m_runbook, &Runbook::finished, this, &Switchover::runbookFinished);
    m_context->cancelOnLockLoss(m_runbook);
    m_runbook->start();
}

void Switchover::cancel(const QString &why)
{
    if (m_runbook && m_running)
        m_runbook->cancel(why);
}

void Switchover::runbookFinished(const RunbookReport &report)
{
    m_result.runbook = report;
    m_result.durationSeconds = double(nowMs() - m_startedMs) / 1000.0;
    m_result.ok = report.succeeded();
    // Nothing was changed when the lock, the preflight or a step of the
    // caller's before the act failed: that is a refusal.
    const bool changed = m_repmgrdPaused || m_holdSet || m_promoted ||
                         !m_result.pgpoolRepairs.isEmpty() || m_changed;
    for (const RunbookStepReport &s : report.steps) {
        if (s.kind == RunbookStepReport::Kind::Group)
            continue;
        if (s.startedSeconds >= 0) {
            SwitchoverStep step;
            step.path = s.path;
            step.name = s.kind == RunbookStepReport::Kind::Undo
                            ? s.path.section(u'/', -2, -2) + QStringLiteral(" (undo)")
                            : s.name;
            step.phase = s.kind == RunbookStepReport::Kind::Undo ? QStringLiteral("cleanup")
                                                                 : s.path.section(u'/', 1, 1);
            if (s.depth <= 1 && s.kind == RunbookStepReport::Kind::Step)
                step.phase = QStringLiteral("lock");
            step.ok = s.outcome == RunbookOutcome::Succeeded;
            step.detail = s.message;
            step.startedMs =
                report.startedAt.toMSecsSinceEpoch() + qint64(s.startedSeconds * 1000.0);
            step.seconds = s.seconds;
            m_result.steps.append(step);
        }
    }
    RunbookVerdict::of(report, changed).applyTo(m_result);
    if (m_monitor) {
        const PostgresNodeState *t = node(m_monitor->snapshot(), m_options.target);
        if (m_result.timelineAfter == 0 && t && m_promoted)
            m_result.timelineAfter = t->timeline;
        m_monitor->stop();
    }
    // The trail: the outcome, then the etcd mirror flushed before saying we are done.
    const QString outcome =
        m_result.ok
            ? QStringLiteral("succeeded: %1 -> %2, timeline %3 -> %4 in %5 s")
                  .arg(m_result.oldPrimary, m_result.newPrimary)
                  .arg(m_result.timelineBefore)
                  .arg(m_result.timelineAfter)
                  .arg(m_result.durationSeconds, 0, 'f', 1)
            : (m_result.refused ? QStringLiteral("refused: ") : QStringLiteral("failed: ")) +
                  m_result.error;
    m_context->closeAudit(m_auditOpened, m_options.target, QStringLiteral("switchover finished"),
                          outcome, m_result.ok, [this] { finish(); });
}

void Switchover::finish()
{
    m_running = false;
    Q_EMIT finished(m_result);
}

// ---------------------------------------------------------------- lock, audit, preflight

void Switchover::openAudit(Done done)
{
    m_context->openAudit(
        m_ownContext, m_options.target,
        QStringLiteral("switchover --to %1 (%2)")
            .arg(m_options.target, m_options.method == SwitchoverOptions::Method::Repmgr
                                       ? QStringLiteral("repmgr")
                                       : QStringLiteral("orchestrated")),
        [this, done](bool ok, const QString &note) {
            m_auditOpened = ok && m_context->audit();
            done(ok, note);
        });
}

void Switchover::readCluster(Done done)
{
    delete m_monitor;
    m_monitor = m_context->startMonitor(
        m_options.monitorIntervalMs, qMax(5000, m_options.preflightTimeoutMs - 5000), this,
        [this, done](const Result<ClusterSnapshot> &read) {
            if (!read) {
                done(false, read.error().toString());
                return;
            }
            const ClusterSnapshot &s = read.value();
            m_before = s;
            m_read = true;
            const QStringList primaries = primariesOf(s);
            if (primaries.size() == 1) {
                m_primary = primaries.constFirst();
                m_result.oldPrimary = m_primary;
                const PostgresNodeState *p = node(s, m_primary);
                m_result.timelineBefore = p ? p->timeline : 0;
            }
            m_siblings.clear();
            for (const PostgresNodeState &n : std::as_const(s.postgres)) {
                if (n.name != m_primary && n.name != m_options.target)
                    m_siblings.append(n.name);
            }
            done(true, QStringLiteral("%1 PostgreSQL nodes, %2 pgpool instances, %3 etcd members")
                           .arg(s.postgres.size())
                           .arg(s.pgpools.size())
                           .arg(s.etcd.members.size()));
        });
}

void Switchover::check(int index, Done done)
{
    if (!m_read) {
        done(false, QStringLiteral("not checked: the cluster was not read"));
        return;
    }
    if (index == Containers) {
        QStringList missing;
        for (const QString &service : QStringList{m_primary, m_options.target} + m_siblings) {
            if (!service.isEmpty() && containerOf(service, nullptr).isEmpty())
                missing.append(service);
        }
        if (pgpoolServices().isEmpty())
            missing.append(m_inventory.settings.pgpoolService);
        if (!missing.isEmpty())
            done(false, QStringLiteral("no running container of %1 in the swarm's task list")
                            .arg(missing.join(QStringLiteral(", "))));
        else
            done(true, QStringLiteral("%1 PostgreSQL and %2 pgpool containers")
                           .arg(1 + 1 + m_siblings.size())
                           .arg(pgpoolServices().size()));
        return;
    }
    const auto checks = preflightChecks(m_before, m_options.target, m_options.maxLagBytes);
    const QStringList &why = checks.at(index).second;
    if (!why.isEmpty()) {
        done(false, why.join(QStringLiteral("; ")));
        return;
    }
    const PostgresNodeState *t = node(m_before, m_options.target);
    switch (index) {
    case OnePrimary:
        done(true, QStringLiteral("%1 (timeline %2)").arg(m_primary).arg(m_result.timelineBefore));
        break;
    case TargetReady:
        done(true, QStringLiteral("streaming from %1, %2 bytes behind")
                       .arg(m_primary)
                       .arg(t ? t->lagBytes : -1));
        break;
    case OthersAnswer:
        done(true, m_siblings.isEmpty() ? QStringLiteral("no other standby")
                                        : m_siblings.join(QStringLiteral(", ")));
        break;
    case PgpoolsAgree:
        done(true, QStringLiteral("%1 pgpool(s) send writes to %2")
                       .arg(m_before.pgpools.size())
                       .arg(m_primary));
        break;
    default:
        done(true, QStringLiteral("%1 of %2 members healthy")
                       .arg(m_before.etcd.healthyMembers)
                       .arg(m_before.etcd.clusterSize));
        break;
    }
}

void Switchover::connectHosts(Done done)
{
    if (!m_read) {
        done(false, QStringLiteral("not tried: the cluster was not read"));
        return;
    }
    QStringList hosts;
    for (const QString &service : QStringList{m_primary, m_options.target} + m_siblings) {
        QString host;
        if (!service.isEmpty() && !containerOf(service, &host).isEmpty())
            hosts.append(host);
    }
    for (const QString &key : pgpoolServices())
        hosts.append(key.section(u'@', 1));
    m_context->connectHosts(hosts, 18000, [done](const Result<QString> &r) {
        done(r.ok(), r ? r.value() : r.error().message);
    });
}

void Switchover::connectSql(Done done)
{
    if (m_primary.isEmpty()) {
        done(false, QStringLiteral("not tried: no single primary"));
        return;
    }
    auto pending = std::make_shared<int>(2);
    auto failed = std::make_shared<QStringList>();
    auto check = [pending, failed, done](const Result<PgReply> &r) {
        if (!r)
            failed->append(r.error().message);
        if (--*pending == 0)
            done(failed->isEmpty(), failed->isEmpty() ? QStringLiteral("connected")
                                                      : failed->join(QStringLiteral("; ")));
    };
    m_context->sql(m_options.target, QString::fromLatin1(Sql), QStringLiteral("SELECT 1"), 8000,
                   check);
    m_context->sql(m_primary, QString::fromLatin1(Sql), QStringLiteral("SELECT 1"), 8000, check);
}

// ---------------------------------------------------------------- act

void Switchover::pauseRepmgrd(bool pause, Done done)
{
    m_changed = m_changed || pause;
    // repmgr pauses the daemons of every node it can reach from this one; the
    // target is up throughout, unlike the old primary. The mark beside it tells
    // the container's supervisor that an operation paused them: should this
    // run die (its lock then goes), the supervisor unpauses after a minute.
    const QString mark = QString::fromLatin1(PauseMark);
    const QString script =
        pause ? QStringLiteral("echo %1 > %2 && repmgr -f %3 service pause")
                    .arg(SshCommand::quoteForShell(
                             QStringLiteral("switchover to %1 started %2")
                                 .arg(m_options.target,
                                      QDateTime::currentDateTimeUtc().toString(Qt::ISODate))),
                         mark, QString::fromLatin1(RepmgrConf))
              : QStringLiteral("repmgr -f %1 service unpause; rc=$?; rm -f %2; exit $rc")
                    .arg(QString::fromLatin1(RepmgrConf), mark);
    execIn(m_options.target, QStringLiteral("postgres"), script, 15000,
           [this, pause, done](const Result<DockerExecResult> &r) {
               // The old primary left stopped on purpose cannot be reached:
               // every other node resumed is all that can be done.
               const bool onlyStoppedOne = r && !pause && m_promoted &&
                                           !m_options.rejoinOldPrimary &&
                                           QByteArray(r.value().stdErr + r.value().stdOut)
                                               .contains("unable to unpause 1 node(s)");
               if (!r || (r.value().exitCode != 0 && !onlyStoppedOne)) {
                   done(false, execFailure(r));
                   return;
               }
               m_repmgrdPaused = pause;
               if (onlyStoppedOne) {
                   done(true, QStringLiteral("resumed on every node but %1 (stopped, as asked)")
                                  .arg(m_primary));
                   return;
               }
               done(true, tail(r.value().stdOut + r.value().stdErr, 1));
           });
}

// ph-postgres restarts a standby's WAL receiver whose conninfo shows a quoted
// host (host='pg-2', as repmgr writes it: pgpool's false-primary check cannot
// parse that), at most every 10 s. Measured once: it happened to the target
// while the old primary was shutting down; the new WAL receiver could not
// connect any more, the target never received the shutdown checkpoint, and
// the switchover (rightly) refused to promote it. Do that reconnect now,
// before anything stops, and wait until it streams again.
void Switchover::settleWalReceiver(Done done)
{
    settleWalReceiverOn(m_options.target, std::move(done));
}

void Switchover::settleStandbyWalReceivers(Done done)
{
    QStringList standbys;
    for (const QString &n : m_inventory.settings.postgresNodes.keys()) {
        if (n != m_options.target && (n != m_primary || m_options.rejoinOldPrimary))
            standbys.append(n);
    }
    if (standbys.isEmpty()) {
        done(true, QStringLiteral("no standby"));
        return;
    }
    auto pending = std::make_shared<int>(int(standbys.size()));
    auto ok = std::make_shared<bool>(true);
    auto lines = std::make_shared<QStringList>();
    for (const QString &n : std::as_const(standbys)) {
        settleWalReceiverOn(n, [n, pending, ok, lines, done](bool nodeOk, const QString &d) {
            *ok = *ok && nodeOk;
            lines->append(n + QStringLiteral(": ") + d);
            if (--*pending == 0) {
                lines->sort();
                done(*ok, lines->join(QStringLiteral("; ")));
            }
        });
    }
}

void Switchover::settleWalReceiverOn(const QString &node, Done done)
{
    const QString script = QStringLiteral(
        "q() { psql -d postgres -XAtc \"SELECT pid, conninfo FROM pg_stat_wal_receiver WHERE "
        "status = 'streaming'\" 2>/dev/null; }; "
        "row=$(q); pid=${row%%|*}; info=${row#*|}; "
        "case \"$info\" in *\"host='\"*) ;; *) echo \"streaming, conninfo unquoted: nothing to "
        "do\"; exit 0;; esac; "
        "kill -TERM \"$pid\"; "
        "for i in $(seq 1 150); do sleep 0.1; row=$(q); info=${row#*|}; "
        "  if [ -n \"$row\" ]; then case \"$info\" in *\"host='\"*) ;; *) echo \"WAL receiver "
        "reconnected with an unquoted conninfo after $i look(s)\"; exit 0;; esac; fi; "
        "done; echo \"the WAL receiver does not stream again with an unquoted conninfo\" >&2; exit "
        "1");
    execIn(node, QStringLiteral("postgres"), script, 18000,
           [done](const Result<DockerExecResult> &r) {
               const bool ok = r && r.value().exitCode == 0;
               done(ok, ok ? tail(r.value().stdOut, 1) : execFailure(r));
           });
}

void Switchover::checkpointPrimary(Done done)
{
    // The shutdown checkpoint then has little to write: the old primary stops sooner.
    m_context->sql(m_primary, QString::fromLatin1(Sql), QStringLiteral("CHECKPOINT"), 55000,
                   [done](const Result<PgReply> &r) {
                       done(bool(r), r ? QStringLiteral("done") : r.error().message);
                   });
}

void Switchover::stopOldPrimary(Done done)
{
    // The hold mark keeps the container's supervisor from restarting the
    // stopped postgres until the rejoin; a fast shutdown ends the sessions,
    // and the WAL senders send every record to the standbys before exiting.
    //
    // Until the target is promoted this is all write gap, so: the shutdown is
    // asked for over the primary's open SQL session (a superuser's COPY TO
    // PROGRAM, a few ms) rather than through a docker exec (three API calls
    // over SSH, 150-200 ms), while the exec below starts at the same time,
    // asks again (harmless when already stopping; it is the only request when
    // the SQL one failed) and waits. It waits for pg_control to say "shut
    // down", i.e. for the end of the shutdown checkpoint, the old primary's
    // last WAL record, rather than for the postmaster to exit: nothing can
    // write after that checkpoint, and the promotion still waits until the
    // target has received it.
    const QString script =
        QStringLiteral(
            "t0=$(date +%s%N); touch %1 || exit 1; d=%2; "
            "pg_ctl -D \"$d\" -m fast -W stop >/dev/null 2>&1; "
            "for i in $(seq 1 4000); do "
            "  c=$(pg_controldata -D \"$d\" 2>&1); "
            "  st=$(echo \"$c\" | sed -n 's/^Database cluster state: *//p'); "
            "  case \"$c\" in *WARNING*) ;; *) [ \"$st\" = 'shut down' ] && break;; esac; "
            "  [ -e \"$d/postmaster.pid\" ] || { c=$(pg_controldata -D \"$d\" 2>&1); break; }; "
            "  sleep 0.01; "
            "done; t1=$(date +%s%N); "
            "echo stop_ms=$(( (t1 - t0) / 1000000 )); "
            "echo \"$c\" | sed -n 's/^Latest checkpoint location: "
            "*/checkpoint=/p;s/^Database cluster state: */state=/p'")
            .arg(QString::fromLatin1(HoldMark), QString::fromLatin1(PgData));
    m_holdSet = true;
    const qint64 asked = nowMs();
    if (m_options.stopThroughSql) {
        m_context->sql(
            m_primary, QString::fromLatin1(Sql),
            QStringLiteral("COPY (SELECT 1) TO PROGRAM 'touch %1 && (pg_ctl -D \"$PGDATA\" -m "
                           "fast stop >/dev/null 2>&1 &)'")
                .arg(QString::fromLatin1(HoldMark)),
            3000, [](const Result<PgReply> &) {
                // Either way the exec below asks too and says what happened.
            });
    }
    m_context->execIn(
        m_primary, QStringLiteral("postgres"), script, 40000,
        [this, done, asked](const Result<DockerExecResult> &r) {
            if (!r || r.value().exitCode != 0) {
                done(false, execFailure(r));
                return;
            }
            // Sessions end as the shutdown begins: writes stopped when it was asked for.
            m_result.oldPrimaryStoppedMs = asked;
            const QStringList lines =
                QString::fromUtf8(r.value().stdOut).trimmed().split(u'\n', Qt::SkipEmptyParts);
            QString state;
            QString stopMs;
            for (const QString &line : lines) {
                if (line.startsWith(u"checkpoint="))
                    m_shutdownCheckpoint = line.mid(11).trimmed();
                else if (line.startsWith(u"state="))
                    state = line.mid(6).trimmed();
                else if (line.startsWith(u"stop_ms="))
                    stopMs = line.mid(8).trimmed();
            }
            if (state != u"shut down" || m_shutdownCheckpoint.isEmpty()) {
                done(false, QStringLiteral("the old primary did not shut down cleanly: %1")
                                .arg(lines.join(QStringLiteral(", "))));
                return;
            }
            done(true, QStringLiteral("shutdown checkpoint written %1 ms after the exec started "
                                      "(%2 ms after the stop was asked for); the old primary's "
                                      "last record: checkpoint at %3")
                           .arg(stopMs)
                           .arg(nowMs() - asked)
                           .arg(m_shutdownCheckpoint));
        });
}

void Switchover::promoteTarget(Done done)
{
    // Promote only once the target has received the old primary's shutdown
    // checkpoint: then no acknowledged commit can be missing on it. One
    // statement waits for that, promotes and waits for the end of recovery,
    // looking every 10 ms (pg_promote(true) looks every 100 ms): this step
    // is part of the write gap.
    const QString lsn = sqlQuote(m_shutdownCheckpoint);
    const QString sql =
        QStringLiteral(
            "DO $$ BEGIN "
            "FOR i IN 1..1000 LOOP EXIT WHEN pg_last_wal_receive_lsn() > %1::pg_lsn; "
            "PERFORM pg_sleep(0.01); END LOOP; "
            "IF NOT coalesce(pg_last_wal_receive_lsn() > %1::pg_lsn, false) THEN "
            "RAISE EXCEPTION 'received WAL only up to %, before the old primary''s last "
            "checkpoint %: not promoting', pg_last_wal_receive_lsn(), %1; END IF; "
            "PERFORM pg_promote(false); "
            "FOR i IN 1..2000 LOOP EXIT WHEN NOT pg_is_in_recovery(); PERFORM pg_sleep(0.01); "
            "END LOOP; END $$; "
            "SELECT pg_last_wal_receive_lsn()::text AS received, pg_is_in_recovery() AS "
            "recovery")
            .arg(lsn);
    m_context->sql(
        m_options.target, QString::fromLatin1(Sql), sql, 28000,
        [this, done](const Result<PgReply> &r) {
            if (!r) {
                done(false, r.error().message);
                return;
            }
            const PgRows &rows = r.value().constLast();
            if (rows.text(0, u"recovery") != u"f") {
                done(false, QStringLiteral("still in recovery 20 s after pg_promote"));
                return;
            }
            m_promoted = true;
            m_result.promotedMs = nowMs();
            done(true, QStringLiteral("had WAL up to %1; promoted %2 ms after the stop was asked "
                                      "for")
                           .arg(rows.text(0, u"received"))
                           .arg(m_result.promotedMs - m_result.oldPrimaryStoppedMs));
        });
}

void Switchover::repmgrSwitchover(Done done)
{
    m_changed = true;
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

void Switchover::repointPgpools(Done done)
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

void Switchover::promoteInPgpools(Done done)
{
    promoteInPgpools(m_options.target, std::move(done));
}

void Switchover::promoteInPgpools(const QString &node, Done done)
{
    m_changed = true;
    const int id = pgpoolNodeId(node);
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

void Switchover::detachOldInPgpools(Done done)
{
    const int id = pgpoolNodeId(m_primary);
    const QString script =
        QStringLiteral("export PCPPASSFILE=%1; o='-h 127.0.0.1 -p %2 -U admin -w'; "
                       "st=$(pcp_node_info $o -n %3 2>/dev/null | awk '{print $3}'); "
                       "case \"$st\" in 1|2) pcp_detach_node $o -n %3 >/dev/null 2>&1 "
                       "&& echo \"node %3 detached\" || echo \"node %3: detach refused\";; "
                       "*) echo \"node %3 already down ($st)\";; esac")
            .arg(QString::fromLatin1(PcpPassFile))
            .arg(m_inventory.settings.pcpPort)
            .arg(id);
    const QStringList pgpools = pgpoolServices();
    auto pending = std::make_shared<int>(int(pgpools.size()));
    auto results = std::make_shared<QStringList>();
    for (const QString &key : pgpools) {
        execIn(key, QStringLiteral("postgres"), script, 12000,
               [key, pending, results, done](const Result<DockerExecResult> &r) {
                   results->append(
                       key + QStringLiteral(": ") +
                       (r && r.value().exitCode == 0 ? tail(r.value().stdOut, 1) : execFailure(r)));
                   // Not fatal: the health check detaches it later anyway.
                   if (--*pending == 0)
                       done(true, results->join(QStringLiteral("; ")));
               });
    }
}

void Switchover::updateRepmgrMetadata(Done done)
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
    m_context->sql(m_options.target, QString::fromLatin1(Sql), sql, 55000,
                   [done](const Result<PgReply> &r) {
                       done(bool(r), r ? QStringLiteral("done") : r.error().message);
                   });
}

void Switchover::rejoinOldPrimary(Done done)
{
    // Measured (session 11): right after a fault test had restarted the
    // target's container, the overlay's DNS in the old primary's container did
    // not know the target's name yet ("could not translate host name"), and
    // the rejoin failed on a cluster that was fine. Wait (≤ 30 s) for the name
    // first, and say so when it never comes.
    const QString conninfo = repmgrConninfo(m_options.target);
    static const QRegularExpression hostRe(QStringLiteral("(?:^|\\s)host=([^\\s']+)"));
    const QString host = hostRe.match(conninfo).captured(1);
    const QString waitForName =
        host.isEmpty()
            ? QString()
            : QStringLiteral("i=0; until getent hosts %1 >/dev/null 2>&1; do i=$((i+1)); "
                             "if [ $i -ge 60 ]; then echo \"%1 does not resolve in this "
                             "container after 30 s\"; break; fi; sleep 0.5; done; ")
                  .arg(SshCommand::quoteForShell(host));
    const QString script =
        waitForName +
        QStringLiteral("repmgr -f %1 node rejoin -d %2 --force-rewind "
                       "--config-files=postgresql.conf,pg_hba.conf 2>&1; rc=$?; rm -f %3; exit $rc")
            .arg(QString::fromLatin1(RepmgrConf), SshCommand::quoteForShell(conninfo),
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

void Switchover::siblingsFollow(Done done)
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
void Switchover::followWithoutRestart(const QString &sibling, Done done)
{
    static const QRegularExpression hostKey(QStringLiteral("\\bhost\\s*=\\s*('[^']*'|\\S+)"));
    const auto m = hostKey.match(repmgrConninfo(m_options.target));
    QString newHost = m.hasMatch() ? m.captured(1) : m_options.target;
    newHost.remove(u'\'');
    const QString role = QString::fromLatin1(Sql);
    m_context->sql(
        sibling, role,
        QStringLiteral("SELECT current_setting('primary_conninfo') AS info, "
                       "current_setting('primary_slot_name') AS slot"),
        5000, [this, sibling, role, newHost, done](const Result<PgReply> &r) {
            if (!r) {
                done(false, r.error().message);
                return;
            }
            QString info = r.value().constFirst().text(0, u"info");
            const QString slot = r.value().constFirst().text(0, u"slot");
            if (!hostKey.match(info).hasMatch()) {
                done(false, QStringLiteral("primary_conninfo names no host"));
                return;
            }
            info.replace(hostKey, QStringLiteral("host=") + newHost);
            // The standby streams through its replication slot: the new
            // primary needs one of that name (repmgr standby follow makes it).
            if (!slot.isEmpty())
                m_context->sql(
                    m_options.target, role,
                    QStringLiteral("SELECT pg_create_physical_replication_slot($1, true) WHERE NOT "
                                   "EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = "
                                   "$1)"),
                    {slot}, 5000, [](const Result<PgReply> &) {});
            // Then wait, in the same round trip, until its WAL receiver
            // streams from the new primary (looking every 100 ms, 20 s at most).
            // ALTER SYSTEM may not run in the implicit transaction of a
            // multi-statement query: alone first.
            m_context->sql(
                sibling, role,
                QStringLiteral("ALTER SYSTEM SET primary_conninfo = %1").arg(sqlQuote(info)), 5000,
                [this, sibling, role, newHost, done](const Result<PgReply> &a) {
                    if (!a) {
                        done(false, a.error().message);
                        return;
                    }
                    const QString sql =
                        QStringLiteral(
                            "SELECT pg_reload_conf(); "
                            "DO $$ BEGIN FOR i IN 1..200 LOOP EXIT WHEN EXISTS (SELECT 1 FROM "
                            "pg_stat_wal_receiver WHERE status = 'streaming' AND sender_host = "
                            "%1); "
                            "PERFORM pg_sleep(0.1); END LOOP; END $$; "
                            "SELECT status, sender_host FROM pg_stat_wal_receiver")
                            .arg(sqlQuote(newHost));
                    m_context->sql(
                        sibling, role, sql, 25000, [newHost, done](const Result<PgReply> &r2) {
                            if (!r2) {
                                done(false, r2.error().message);
                                return;
                            }
                            const PgRows &rows = r2.value().constLast();
                            if (!rows.rows.isEmpty() && rows.text(0, u"status") == u"streaming" &&
                                rows.text(0, u"sender_host") == newHost) {
                                done(true, QStringLiteral("streaming from %1 after a reload "
                                                          "(no restart)")
                                               .arg(newHost));
                                return;
                            }
                            done(false, QStringLiteral("not streaming from %1 20 s after the "
                                                       "reload (WAL receiver: %2 from %3)")
                                            .arg(newHost, rows.text(0, u"status"),
                                                 rows.text(0, u"sender_host")));
                        });
                });
        });
}

void Switchover::followWithRepmgr(const QString &sibling, Done done)
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

void Switchover::attachInPgpools(Done done)
{
    // pgpool detached the old primary when it shut down (and the standbys it
    // lost sight of); attach each as soon as it streams rather than wait for
    // auto_failback or the stack's reconciler.
    QStringList ids;
    const QStringList nodes =
        m_options.rejoinOldPrimary ? QStringList{m_primary} + m_siblings : m_siblings;
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
            "done; echo \"$out\"")
            .arg(QString::fromLatin1(PcpPassFile))
            .arg(m_inventory.settings.pcpPort)
            .arg(ids.join(u' '));
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

void Switchover::releaseOldPrimary(Done done)
{
    if (!m_holdSet) {
        done(true, QStringLiteral("nothing held"));
        return;
    }
    if (m_promoted && !m_options.rejoinOldPrimary) {
        done(true,
             QStringLiteral("%1 left stopped with its supervisor held, as asked").arg(m_primary));
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

void Switchover::pgpoolSessions(Done done)
{
    const QStringList pgpools = pgpoolServices();
    if (pgpools.isEmpty()) {
        done(false, QStringLiteral("no running pgpool task"));
        return;
    }
    auto pending = std::make_shared<int>(int(pgpools.size()));
    auto results = std::make_shared<QStringList>();
    auto failed = std::make_shared<bool>(false);
    for (const QString &key : pgpools) {
        repairPgpool(key, [key, pending, results, failed, done](bool ok, const QString &d) {
            *failed = *failed || !ok;
            results->append(key + QStringLiteral(": ") + d);
            if (--*pending == 0)
                done(!*failed, results->join(QStringLiteral("; ")));
        });
    }
}

// Measured in session 9: after a switchover a pgpool 4.3 instance had marked
// the stopped old primary up while it was down, and from then on answered
// every session with "kind does not match between main(0) slot[0]" until
// that node was detached and attached again. Open a session through this
// pgpool (inside its container, as its own sr_check user); when it keeps
// failing, detach and attach the backends one at a time (the old primary
// first, the primary last) until sessions work, and say what it took.
void Switchover::repairPgpool(const QString &pgpool, Done done)
{
    QStringList order;
    for (const QString &n : QStringList{m_primary} + m_siblings + QStringList{m_options.target}) {
        const int id = pgpoolNodeId(n);
        if (id >= 0 && !order.contains(QString::number(id)))
            order.append(QString::number(id));
    }
    const QString script =
        QStringLiteral(
            "export PCPPASSFILE=%1; o='-h 127.0.0.1 -p %2 -U admin -w'; "
            "export PGPASSWORD=$(cat \"$PGPOOL_SR_CHECK_PASSWORD_FILE\") PGCONNECT_TIMEOUT=3; "
            "s() { psql -h 127.0.0.1 -p \"${PGPOOL_PORT_NUMBER:-9999}\" -U "
            "\"$PGPOOL_SR_CHECK_USER\" -d postgres -XAtqc 'SELECT 1' 2>&1; }; "
            "ms() { echo $(( ($(date +%s%N) - t0) / 1000000 )); }; "
            // Right after a failback pgpool restarts its children and a session may be
            // refused for a second or two: only "kind does not match" is worth a repair
            // at once (3 tries); anything else gets 12 tries (~4 s) first. A repair is
            // itself a failback that drops every client's session again.
            "for i in 1 2 3 4 5 6 7 8 9 10 11 12; do r=$(s) && { echo \"sessions work\"; "
            "exit 0; }; case \"$r\" in *'kind does not match'*) [ $i -ge 3 ] && break;; esac; "
            "sleep 0.3; done; "
            "echo \"a session fails: $(echo \"$r\" | tr '\\n' ' ' | cut -c1-160)\"; "
            "t0=$(date +%s%N); "
            "for n in %3; do "
            "  pcp_detach_node $o -n $n >/dev/null 2>&1; sleep 0.3; "
            "  for k in 1 2 3 4 5; do pcp_attach_node $o -n $n >/dev/null 2>&1 && break; "
            "sleep 0.3; done; "
            "  for k in 1 2 3 4 5 6; do "
            "    if s >/dev/null; then echo \"repaired: detach+attach of node $n, sessions work "
            "after $(ms) ms\"; exit 0; fi; sleep 0.3; "
            "  done; "
            "  echo \"node $n detached+attached: sessions still fail\"; "
            "done; exit 1")
            .arg(QString::fromLatin1(PcpPassFile))
            .arg(m_inventory.settings.pcpPort)
            .arg(order.join(u' '));
    execIn(pgpool, QStringLiteral("postgres"), script, 60000,
           [this, pgpool, done](const Result<DockerExecResult> &r) {
               const QString out = r ? tail(r.value().stdOut, 4) : execFailure(r);
               if (r && out.contains(u"a session fails")) {
                   m_result.pgpoolRepairs.append(pgpool + QStringLiteral(": ") + out);
                   m_changed = true;
               }
               done(r && r.value().exitCode == 0,
                    r && r.value().exitCode == 0 ? out : execFailure(r));
           });
}

void Switchover::waitHealthy(Done done)
{
    const int timeline = m_result.timelineBefore > 0 ? m_result.timelineBefore + 1 : 0;
    auto *poll = new QTimer(this);
    auto last = std::make_shared<QStringList>();
    auto since = std::make_shared<QHash<QString, qint64>>(); // pgpool host -> unhealthy since
    auto finished = std::make_shared<bool>(false);
    auto finish = [poll, finished, done](bool ok, const QString &d) {
        if (*finished)
            return;
        *finished = true;
        poll->deleteLater();
        done(ok, d);
    };
    connect(poll, &QTimer::timeout, this, [this, last, since, timeline, finish] {
        ClusterSnapshot s = m_monitor->snapshot();
        if (!m_options.rejoinOldPrimary) {
            // Left stopped on purpose: judge the rest of the cluster.
            s.postgres.removeIf([this](const PostgresNodeState &n) { return n.name == m_primary; });
            for (PgpoolInstanceState &p : s.pgpools)
                p.backends.removeIf(
                    [this](const PgpoolBackend &b) { return b.hostname == m_primary; });
        }
        *last = unhealthyAfter(s, m_options.target, timeline);
        if (last->isEmpty()) {
            const PostgresNodeState *t = node(s, m_options.target);
            m_result.timelineAfter = t ? t->timeline : 0;
            finish(true, QStringLiteral("%1 primary on timeline %2, %3 standby(s) streaming, %4 "
                                        "pgpool(s) agree")
                             .arg(m_options.target)
                             .arg(m_result.timelineAfter)
                             .arg(s.postgres.size() - 1)
                             .arg(s.pgpools.size()));
            return;
        }
        // A pgpool still wrong after 6 s: look at its sessions again and
        // repair it (one at a time, at most every 10 s).
        for (const PgpoolInstanceState &p : s.pgpools) {
            bool wrong = !p.reachable || pgpoolPrimary(p) != m_options.target;
            for (const PgpoolBackend &b : p.backends)
                wrong = wrong || b.status == u"down" || b.status == u"unused";
            if (!wrong) {
                since->remove(p.host);
                continue;
            }
            const qint64 first = since->value(p.host, 0);
            if (first == 0) {
                since->insert(p.host, nowMs());
                continue;
            }
            if (m_repairing || nowMs() - first < 6000 || nowMs() - m_repairedAtMs < 10000)
                continue;
            m_repairing = true;
            m_repairedAtMs = nowMs();
            const QString key = m_inventory.settings.pgpoolService + u'@' + p.host;
            repairPgpool(key, [this](bool, const QString &) { m_repairing = false; });
            attachInPgpools([](bool, const QString &) {});
        }
    });
    QTimer::singleShot(qMax(1000, m_options.verifyTimeoutMs - 500), poll, [last, finish] {
        finish(false, QStringLiteral("still unhealthy: ") + last->join(QStringLiteral("; ")));
    });
    poll->start(250);
}

void Switchover::appWrites(Done done)
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
    // Retried once a second until shortly before the step's own timeout, so
    // that a failure reports the app's last answer, not only the timeout.
    const qint64 deadline = nowMs() + AppWriteTimeoutMs - request.timeoutMs - 1500;
    auto attempts = std::make_shared<int>(0);
    auto attempt = std::make_shared<std::function<void()>>();
    *attempt = [this, http, request, attempts, attempt, done, deadline] {
        http->get(
            request, this,
            [this, http, attempts, attempt, done, deadline](const Result<HttpProbeResult> &r) {
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
                if (++*attempts >= 30 || nowMs() + 1000 > deadline) {
                    http->deleteLater();
                    done(false, QStringLiteral("%1 attempt(s), the last: %2")
                                    .arg(*attempts)
                                    .arg(r ? QStringLiteral("HTTP %1: %2")
                                                 .arg(r.value().statusCode)
                                                 .arg(QString::fromUtf8(r.value().body.left(200)))
                                           : r.error().message));
                    return;
                }
                QTimer::singleShot(1000, this, [attempt] { (*attempt)(); });
            });
    };
    (*attempt)();
}

// ---------------------------------------------------------------- helpers

void Switchover::execIn(const QString &service, const QString &user, const QString &script,
                        int timeoutMs,
                        std::function<void(const Result<DockerExecResult> &)> callback)
{
    m_context->execIn(service, user, script, timeoutMs, std::move(callback));
}

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
