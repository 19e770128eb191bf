#include "app/operations/rejoin.h"

#include "app/connectors/docker/dockertypes.h"
#include "app/connectors/etcd/etcdclusterprobe.h"
#include "app/connectors/ssh/sshcommand.h"
#include "app/monitor/clustermonitor.h"
#include "app/operations/audittrail.h"
#include "app/operations/operationcontext.h"
#include "app/operations/operationlock.h"
#include "app/operations/switchover.h"

#include <QDateTime>
#include <QJsonArray>
#include <QRegularExpression>
#include <QTimer>

#include <memory>

namespace Pilothouse {

namespace {

constexpr auto RepmgrConf = "/etc/repmgr.conf";
constexpr auto HoldMark = "/run/pilothouse/hold";
constexpr auto PgData = "${PGDATA:-/var/lib/pilothouse/data}";
constexpr auto PcpPassFile = "/run/pgpool/etc/pcppass";
constexpr auto Sql = "repmgr";

qint64 nowMs()
{
    return QDateTime::currentMSecsSinceEpoch();
}

Error problem(const QString &message)
{
    return Error{message, {}, 0, 0};
}

QString tail(const QByteArray &bytes, int lines = 3)
{
    QStringList all = QString::fromUtf8(bytes).trimmed().split(u'\n', Qt::SkipEmptyParts);
    while (all.size() > lines)
        all.removeFirst();
    return all.join(QStringLiteral(" | "));
}

// The text between "name<<" and ">>name" lines of a script's output.
QString section(const QString &out, const QString &name)
{
    const QString open = name + QStringLiteral("<<\n");
    const qsizetype from = out.indexOf(open);
    const qsizetype to = out.indexOf(QStringLiteral(">>") + name);
    if (from < 0 || to < from)
        return {};
    return out.mid(from + open.size(), to - from - open.size()).trimmed();
}

QString value(const QString &out, const QString &key)
{
    for (const QString &line : out.split(u'\n')) {
        if (line.startsWith(key + u'='))
            return line.mid(key.size() + 1).trimmed();
    }
    return {};
}

const PostgresNodeState *nodeOf(const ClusterSnapshot &s, const QString &name)
{
    for (const PostgresNodeState &n : s.postgres) {
        if (n.name == name)
            return &n;
    }
    return nullptr;
}

} // namespace

// ---------------------------------------------------------------- TimelineFork

qint64 TimelineFork::lsnToBytes(const QString &lsn)
{
    const QStringList parts = lsn.trimmed().split(u'/');
    if (parts.size() != 2)
        return -1;
    bool ok1 = false;
    bool ok2 = false;
    const quint64 hi = parts.at(0).toULongLong(&ok1, 16);
    const quint64 lo = parts.at(1).toULongLong(&ok2, 16);
    if (!ok1 || !ok2)
        return -1;
    return qint64((hi << 32) | lo);
}

QString TimelineFork::bytesToLsn(qint64 bytes)
{
    return QStringLiteral("%1/%2")
        .arg(quint64(bytes) >> 32, 0, 16)
        .arg(quint64(bytes) & 0xffffffffULL, 0, 16)
        .toUpper();
}

QList<TimelineFork::Switch> TimelineFork::parseHistory(const QString &text)
{
    QList<Switch> out;
    static const QRegularExpression line(QStringLiteral("^\\s*(\\d+)\\s+([0-9A-Fa-f]+/[0-9A-Fa-f]+)"));
    for (const QString &l : text.split(u'\n')) {
        const auto m = line.match(l);
        if (m.hasMatch())
            out.append(Switch{m.captured(1).toInt(), m.captured(2).toUpper()});
    }
    return out;
}

QString TimelineFork::endOfWal(const QString &waldump)
{
    // "pg_waldump: error: error in WAL record at 0/301A5C8: invalid record
    // length at 0/301A640: wanted 24, got 0": the WAL ends at the second LSN.
    static const QRegularExpression stop(
        QStringLiteral("(?:invalid record length|invalid magic number|record with incorrect "
                       "prev-link|invalid resource manager ID|contrecord is requested by|"
                       "missing contrecord|could not find a valid record after|"
                       "invalid record offset) at ([0-9A-Fa-f]+/[0-9A-Fa-f]+)"));
    const auto m = stop.match(waldump);
    if (m.hasMatch())
        return m.captured(1).toUpper();
    static const QRegularExpression record(
        QStringLiteral("len \\(rec/tot\\):\\s*\\d+/\\s*(\\d+), tx:\\s*\\d+, lsn: "
                       "([0-9A-Fa-f]+/[0-9A-Fa-f]+)"));
    QString last;
    qint64 end = -1;
    auto it = record.globalMatch(waldump);
    while (it.hasNext()) {
        const auto r = it.next();
        const qint64 at = lsnToBytes(r.captured(2));
        if (at >= 0)
            end = at + r.captured(1).toLongLong();
    }
    return end >= 0 ? bytesToLsn(end) : QString();
}

void TimelineFork::compute()
{
    commonTimeline = 0;
    forkLsn.clear();
    diverged = false;
    walAtRiskBytes = 0;
    // Every timeline each side went through, with where it left it (-1: it is still on it).
    auto path = [](const QList<Switch> &history, int current, qint64 currentEnd) {
        QList<QPair<int, qint64>> out;
        for (const Switch &s : history)
            out.append({s.timeline, lsnToBytes(s.lsn)});
        out.append({current, currentEnd});
        return out;
    };
    const qint64 nodeEnd = lsnToBytes(nodeEndOfWal.isEmpty() ? nodeCheckpoint : nodeEndOfWal);
    const auto mine = path(nodeHistory, nodeTimeline, -1);
    const auto theirs = path(primaryHistory, primaryTimeline, -1);
    qint64 leftMine = -1;
    qint64 leftTheirs = -1;
    for (const auto &m : mine) {
        for (const auto &t : theirs) {
            if (m.first == t.first && m.first >= commonTimeline) {
                commonTimeline = m.first;
                leftMine = m.second;
                leftTheirs = t.second;
            }
        }
    }
    if (commonTimeline == 0 || nodeEnd < 0)
        return;
    if (leftTheirs < 0 && leftMine < 0) {
        // Both still on the same timeline: a standby behind (or a copy of) the primary.
        return;
    }
    // Where the two histories part: the first of them to leave the common timeline.
    qint64 fork = leftTheirs < 0 ? leftMine : (leftMine < 0 ? leftTheirs : qMin(leftMine, leftTheirs));
    forkLsn = bytesToLsn(fork);
    if (leftMine >= 0 && leftMine != leftTheirs) {
        // The node went on to a timeline of its own: everything it wrote there is at risk.
        diverged = nodeEnd > fork;
    } else {
        diverged = nodeEnd > fork;
    }
    walAtRiskBytes = diverged ? nodeEnd - fork : 0;
}

QJsonObject TimelineFork::toJson() const
{
    auto history = [](const QList<Switch> &h) {
        QJsonArray a;
        for (const Switch &s : h)
            a.append(QJsonObject{{QStringLiteral("timeline"), s.timeline},
                                 {QStringLiteral("switched_at"), s.lsn}});
        return a;
    };
    return QJsonObject{
        {QStringLiteral("node"), node},
        {QStringLiteral("primary"), primary},
        {QStringLiteral("node_running"), nodeRunning},
        {QStringLiteral("node_state"), nodeState},
        {QStringLiteral("node_timeline"), nodeTimeline},
        {QStringLiteral("node_checkpoint"), nodeCheckpoint},
        {QStringLiteral("node_end_of_wal"), nodeEndOfWal},
        {QStringLiteral("node_history"), history(nodeHistory)},
        {QStringLiteral("primary_timeline"), primaryTimeline},
        {QStringLiteral("primary_lsn"), primaryLsn},
        {QStringLiteral("primary_history"), history(primaryHistory)},
        {QStringLiteral("same_system"), sameSystem},
        {QStringLiteral("common_timeline"), commonTimeline},
        {QStringLiteral("fork_lsn"), forkLsn.isEmpty() ? QJsonValue() : QJsonValue(forkLsn)},
        {QStringLiteral("diverged"), diverged},
        {QStringLiteral("wal_at_risk_bytes"), walAtRiskBytes},
        {QStringLiteral("rewind_dry_run"), rewindDryRun},
        {QStringLiteral("plan"), plan},
        {QStringLiteral("error"), error.isEmpty() ? QJsonValue() : QJsonValue(error)},
    };
}

QString TimelineFork::toText() const
{
    QString t;
    t += QStringLiteral("%1: %2, timeline %3, last checkpoint %4, WAL ends at %5\n")
             .arg(node, nodeRunning ? QStringLiteral("running") : QStringLiteral("stopped (") +
                                                                      nodeState + u')')
             .arg(nodeTimeline)
             .arg(nodeCheckpoint, nodeEndOfWal.isEmpty() ? QStringLiteral("?") : nodeEndOfWal);
    t += QStringLiteral("%1 (primary): timeline %2, writing at %3\n")
             .arg(primary)
             .arg(primaryTimeline)
             .arg(primaryLsn);
    for (const Switch &s : primaryHistory)
        t += QStringLiteral("  %1's history: timeline %2 ended at %3\n")
                 .arg(primary)
                 .arg(s.timeline)
                 .arg(s.lsn);
    for (const Switch &s : nodeHistory)
        t += QStringLiteral("  %1's history: timeline %2 ended at %3\n").arg(node).arg(s.timeline).arg(s.lsn);
    if (!sameSystem)
        t += QStringLiteral("DIFFERENT CLUSTERS (system identifiers differ): never rejoined "
                            "automatically\n");
    if (forkLsn.isEmpty())
        t += QStringLiteral("timeline fork: none (both on timeline %1)\n").arg(commonTimeline);
    else
        t += QStringLiteral("timeline fork: they part on timeline %1 at %2\n")
                 .arg(commonTimeline)
                 .arg(forkLsn);
    t += diverged ? QStringLiteral("DIVERGED: %1 bytes of WAL on %2 past the fork (%3 .. %4) "
                                   "will be discarded\n")
                        .arg(walAtRiskBytes)
                        .arg(node, forkLsn, nodeEndOfWal)
                  : QStringLiteral("not diverged: no WAL at risk\n");
    if (!rewindDryRun.isEmpty())
        t += QStringLiteral("pg_rewind --dry-run: %1\n").arg(rewindDryRun);
    if (!plan.isEmpty())
        t += QStringLiteral("plan: %1\n")
                 .arg(plan == u"rewind"
                          ? QStringLiteral("pg_rewind (repmgr node rejoin --force-rewind)")
                          : plan == u"follow"
                                ? QStringLiteral("rejoin as a standby (no rewind needed)")
                                : QStringLiteral("re-clone from the primary (the data directory "
                                                 "is moved aside to data.failed)"));
    if (!error.isEmpty())
        t += QStringLiteral("not read completely: %1\n").arg(error);
    return t;
}

// ---------------------------------------------------------------- Rejoin

Rejoin::Rejoin(Inventory inventory, RejoinOptions options, QObject *parent)
    : QObject(parent)
    , m_inventory(std::move(inventory))
    , m_options(std::move(options))
{
    qRegisterMetaType<Pilothouse::RunbookReport>();
    qRegisterMetaType<Pilothouse::TimelineFork>();
}

Rejoin::~Rejoin()
{
    m_running = false;
    delete m_runbook;
    m_runbook = nullptr;
    if (m_ownContext)
        delete m_context;
    delete m_monitor;
}

void Rejoin::setContext(OperationContext *context)
{
    if (!m_runbook)
        m_context = context;
}

ClusterSnapshot Rejoin::lastSnapshot() const
{
    return m_monitor ? m_monitor->snapshot() : m_before;
}

QString Rejoin::preflightText() const
{
    const QString n = m_options.node;
    QString t = QStringLiteral("Rejoin %1 to the primary (reason: %2)%3\n\n")
                    .arg(n, m_options.reason,
                         m_options.dryRun ? QStringLiteral(" — dry run: nothing is changed")
                                          : QString());
    t += QStringLiteral(
        "What is checked first: one primary other than %1, etcd quorum, %1's container "
        "runs, every host's Docker engine answers; then the timeline fork: the primary's "
        "timeline history file against %1's last checkpoint and the end of its WAL "
        "(pg_waldump), the bytes of WAL past the fork (they will be discarded), and "
        "pg_rewind --dry-run. All of it is shown before anything changes.\n")
             .arg(n);
    if (!m_options.dryRun)
        t += QStringLiteral(
                 "What will happen: hold %1's supervisor, stop it (fast) if it runs, make its "
                 "data directory cleanly shut down, checkpoint the primary, `repmgr node "
                 "rejoin --force-rewind` (pg_rewind)%2; release the supervisor; verify %1 "
                 "streams from the primary and every pgpool has it attached.\n"
                 "Expected downtime: none for writes (the primary is not touched); %1 is not "
                 "readable until it streams again (a few seconds for a rewind).\n")
                 .arg(n, m_options.allowReclone
                             ? QStringLiteral(", or a re-clone from the primary when a rewind "
                                              "cannot work")
                             : QString());
    return t;
}

RunbookNode Rejoin::buildTree()
{
    const QString n = m_options.node;
    auto bind = [this](void (Rejoin::*fn)(Done)) {
        return [this, fn](Done done) { (this->*fn)(std::move(done)); };
    };
    std::vector<RunbookNode> top;
    OperationLock *lock = m_context->lock();
    if (lock && !lock->isHeld())
        top.push_back(lock->acquireStep());
    else
        top.push_back(okStep(QStringLiteral("the operation lock"), 1000, [lock](Done done) {
            done(!lock || lock->isHeld(), !lock ? QStringLiteral("none: run without a lock")
                                                : lock->isHeld()
                                                      ? QStringLiteral("held by the calling operation")
                                                      : QStringLiteral("not held"));
        }));
    top.push_back(okStep(QStringLiteral("open the audit trail"), 15000, bind(&Rejoin::openAudit)));
    top.push_back(RunbookNode::sequence(
        QStringLiteral("preflight"),
        {okStep(QStringLiteral("read every layer of the cluster"), m_options.preflightTimeoutMs,
                bind(&Rejoin::readCluster)),
         okStep(QStringLiteral("check: one primary other than %1, etcd quorum, %1's container runs")
                    .arg(n),
                2000, bind(&Rejoin::checkCluster)),
         okStep(QStringLiteral("connect to every host's Docker engine over SSH"), 20000,
                bind(&Rejoin::connectHosts))},
        RunbookNode::ErrorPolicy::ContinueOnError));
    top.push_back(RunbookNode::sequence(
        QStringLiteral("fork"),
        {okStep(
             QStringLiteral("read the timeline fork (primary's history, %1's pg_control and WAL)")
                 .arg(n),
             30000, bind(&Rejoin::readFork)),
         okStep(QStringLiteral("pg_rewind --dry-run"), 60000, bind(&Rejoin::dryRunRewind))}));
    if (!m_options.dryRun) {
        top.push_back(RunbookNode::sequence(
            QStringLiteral("act"),
            {okStep(QStringLiteral("hold %1's supervisor, stop it, clean shutdown").arg(n), 120000,
                    bind(&Rejoin::holdAndStop))
                 .uninterruptible()
                 .withUndo(
                     [this](RunbookStep::Done done) {
                         release([done](bool ok, const QString &d) {
                             if (ok)
                                 done(d);
                             else
                                 done(problem(d));
                         });
                     },
                     RunbookStep::UndoPolicy::Always, 20000),
             okStep(QStringLiteral("rejoin %1 (pg_rewind, or re-clone)").arg(n),
                    m_options.rejoinTimeoutMs, bind(&Rejoin::rejoinNode))
                 .uninterruptible(),
             okStep(QStringLiteral("release %1's supervisor").arg(n), 20000,
                    bind(&Rejoin::release))}));
        top.push_back(RunbookNode::sequence(
            QStringLiteral("verify"),
            {okStep(QStringLiteral("%1 streams from the primary").arg(n), m_options.verifyTimeoutMs,
                    bind(&Rejoin::waitStreaming)),
             okStep(QStringLiteral("every pgpool has %1 attached").arg(n), 30000,
                    bind(&Rejoin::attachInPgpools)),
             okStep(QStringLiteral("one primary, every standby streaming, every pgpool agrees"),
                    60000, bind(&Rejoin::waitHealthy))}));
    }
    return RunbookNode::sequence(QStringLiteral("rejoin"), std::move(top));
}

void Rejoin::start()
{
    if (m_running || m_runbook)
        return;
    m_running = true;
    m_result = RejoinResult{};
    m_result.dryRun = m_options.dryRun;
    m_result.fork.node = m_options.node;
    m_startedMs = nowMs();
    if (!m_context) {
        const QString operation = QStringLiteral("rejoin %1%2").arg(
            m_options.node, m_options.dryRun ? QStringLiteral(" (dry run)") : QString());
        m_context = OperationContext::createOwn(m_inventory, operation, m_options.reason, this);
        m_ownContext = true;
    }
    m_context->setSnapshotSource([this] { return lastSnapshot(); });
    m_runbook = m_context->runbookFor(this, buildTree(), &Rejoin::runbookFinished);
    m_runbook->start();
}

void Rejoin::cancel(const QString &why)
{
    if (m_runbook && m_running)
        m_runbook->cancel(why);
}

void Rejoin::runbookFinished(const RunbookReport &report)
{
    m_result.runbook = report;
    m_result.durationSeconds = double(nowMs() - m_startedMs) / 1000.0;
    RunbookVerdict::of(report, m_changed).applyTo(m_result);
    if (m_monitor)
        m_monitor->stop();
    m_context->closeAudit(
        m_auditOpened, m_options.node, QStringLiteral("rejoin finished"),
        m_result.ok
            ? QStringLiteral("succeeded: %1%2")
                  .arg(m_options.dryRun ? QStringLiteral("dry run, ")
                                        : QStringLiteral("method %1, ").arg(m_result.method),
                       QStringLiteral("fork %1, %2 bytes of WAL at risk")
                           .arg(m_result.fork.forkLsn.isEmpty() ? QStringLiteral("none")
                                                                : m_result.fork.forkLsn)
                           .arg(m_result.fork.walAtRiskBytes))
            : (m_result.refused ? QStringLiteral("refused: ") : QStringLiteral("failed: ")) +
                  m_result.error,
        m_result.ok, [this] { finish(); });
}

void Rejoin::finish()
{
    m_running = false;
    Q_EMIT finished(m_result);
}

// ---------------------------------------------------------------- preflight

void Rejoin::openAudit(Done done)
{
    m_context->openAudit(m_ownContext, m_options.node,
                         QStringLiteral("rejoin --node %1%2")
                             .arg(m_options.node,
                                  m_options.dryRun ? QStringLiteral(" --dry-run") : QString()),
                         [this, done](bool ok, const QString &note) {
                             m_auditOpened = ok && m_context->audit();
                             done(ok, note);
                         });
}

void Rejoin::readCluster(Done done)
{
    delete m_monitor;
    m_monitor = m_context->startMonitor(
        m_options.monitorIntervalMs, qMax(5000, m_options.preflightTimeoutMs - 5000), this,
        [this, done](const Result<ClusterSnapshot> &read) {
            if (!read) {
                done(false, read.error().toString());
                return;
            }
            m_before = read.value();
            m_read = true;
            done(true, QStringLiteral("%1 PostgreSQL nodes, %2 pgpool instances, %3 etcd members")
                           .arg(m_before.postgres.size())
                           .arg(m_before.pgpools.size())
                           .arg(m_before.etcd.members.size()));
        });
}

void Rejoin::checkCluster(Done done)
{
    if (!m_read) {
        done(false, QStringLiteral("not checked: the cluster was not read"));
        return;
    }
    QStringList why;
    const QString n = m_options.node;
    const PostgresNodeState *node = nodeOf(m_before, n);
    if (!node) {
        QStringList names;
        for (const PostgresNodeState &p : m_before.postgres)
            names.append(p.name);
        why.append(QStringLiteral("%1 is not a PostgreSQL node of this cluster (nodes: %2)")
                       .arg(n, names.join(QStringLiteral(", "))));
    }
    QStringList primaries;
    for (const PostgresNodeState &p : m_before.postgres) {
        if (p.reachable && p.role == u"primary" && p.name != n)
            primaries.append(p.name);
    }
    if (primaries.size() != 1)
        why.append(primaries.isEmpty()
                       ? QStringLiteral("no node other than %1 is primary: nothing to rejoin to "
                                        "(promote one first)")
                             .arg(n)
                       : QStringLiteral("%1 nodes other than %2 claim to be primary (%3)")
                             .arg(primaries.size())
                             .arg(n, primaries.join(QStringLiteral(", "))));
    else
        m_primary = primaries.constFirst();
    m_result.fork.primary = m_primary;
    if (node && node->reachable && node->role == u"standby" &&
        node->walReceiverStatus == u"streaming" && !m_primary.isEmpty() &&
        node->upstream == m_primary)
        why.append(QStringLiteral("%1 already streams from the primary %2: nothing to rejoin")
                       .arg(n, m_primary));
    if (m_before.etcd.clusterSize > 0 && !m_before.etcd.quorum)
        why.append(QStringLiteral("etcd has no quorum (%1 of %2 members healthy)")
                       .arg(m_before.etcd.healthyMembers)
                       .arg(m_before.etcd.clusterSize));
    if (m_context->hostOf(n).isEmpty())
        why.append(QStringLiteral("no running container of %1 in the swarm's task list").arg(n));
    if (!why.isEmpty()) {
        done(false, why.join(QStringLiteral("; ")));
        return;
    }
    done(true, QStringLiteral("primary %1; %2 is %3").arg(m_primary, n,
                                                          node->reachable ? node->role
                                                                          : QStringLiteral("down")));
}

void Rejoin::connectHosts(Done done)
{
    QStringList hosts{m_context->hostOf(m_options.node)};
    for (const QString &key : pgpoolServices())
        hosts.append(key.section(u'@', 1));
    m_context->connectHosts(hosts, 18000, [done](const Result<QString> &r) {
        done(r.ok(), r ? r.value() : r.error().message);
    });
}

void Rejoin::readFork(Done done)
{
    const QString script =
        QStringLiteral(
            "d=%1; pg_ctl -D \"$d\" status >/dev/null 2>&1 && echo running=yes || echo running=no; "
            "c=$(pg_controldata -D \"$d\"); "
            "echo \"$c\" | sed -n 's/^Database cluster state: */state=/p;"
            "s/^Latest checkpoint location: */checkpoint=/p;"
            "s/^Latest checkpoint.s TimeLineID: */tli=/p;"
            "s/^Database system identifier: */sysid=/p'; "
            "tli=$(echo \"$c\" | sed -n 's/^Latest checkpoint.s TimeLineID: *//p'); "
            "ck=$(echo \"$c\" | sed -n 's/^Latest checkpoint location: *//p'); "
            "echo 'history<<'; cat \"$d/pg_wal/$(printf '%08X' \"$tli\").history\" 2>/dev/null; "
            "echo '>>history'; "
            "echo 'waldump<<'; pg_waldump -p \"$d/pg_wal\" -t \"$tli\" -s \"$ck\" 2>&1 | tail -n 3; "
            "echo '>>waldump'")
            .arg(QString::fromLatin1(PgData));
    const QString primarySql = QStringLiteral(
        "WITH t AS (SELECT ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int "
        "AS tli) SELECT pg_current_wal_lsn()::text AS lsn, t.tli, "
        "(SELECT system_identifier::text FROM pg_control_system()) AS sysid, "
        "pg_read_file('pg_wal/' || lpad(upper(to_hex(t.tli)), 8, '0') || '.history', 0, 1000000, "
        "true) AS history FROM t");
    auto pending = std::make_shared<int>(2);
    auto errors = std::make_shared<QStringList>();
    auto nodeSysid = std::make_shared<QString>();
    auto primarySysid = std::make_shared<QString>();
    auto finish = [this, pending, errors, nodeSysid, primarySysid, done] {
        if (--*pending > 0)
            return;
        TimelineFork &f = m_result.fork;
        f.sameSystem = nodeSysid->isEmpty() || primarySysid->isEmpty() || *nodeSysid == *primarySysid;
        f.compute();
        f.error = errors->join(QStringLiteral("; "));
        f.plan = !f.sameSystem ? QString() : (f.diverged ? QStringLiteral("rewind") : QStringLiteral("follow"));
        Q_EMIT forkRead(f);
        if (!errors->isEmpty()) {
            done(false, f.error);
            return;
        }
        if (!f.sameSystem) {
            done(false, QStringLiteral("%1 (system %2) and %3 (system %4) are different clusters: "
                                       "never rejoined automatically")
                            .arg(f.node, *nodeSysid, f.primary, *primarySysid));
            return;
        }
        done(true, f.forkLsn.isEmpty()
                       ? QStringLiteral("no fork: %1 on timeline %2 up to %3, primary on %4")
                             .arg(f.node)
                             .arg(f.nodeTimeline)
                             .arg(f.nodeEndOfWal)
                             .arg(f.primaryTimeline)
                       : QStringLiteral("fork on timeline %1 at %2; %3's WAL ends at %4: %5 bytes "
                                        "at risk")
                             .arg(f.commonTimeline)
                             .arg(f.forkLsn, f.node, f.nodeEndOfWal)
                             .arg(f.walAtRiskBytes));
    };
    m_context->execIn(m_options.node, QStringLiteral("postgres"), script, 25000,
                      [this, errors, nodeSysid, finish](const Result<DockerExecResult> &r) {
                          if (!r) {
                              errors->append(QStringLiteral("%1: %2").arg(m_options.node, r.error().message));
                              finish();
                              return;
                          }
                          const QString out = QString::fromUtf8(r.value().stdOut);
                          TimelineFork &f = m_result.fork;
                          f.nodeRunning = value(out, QStringLiteral("running")) == u"yes";
                          f.nodeState = value(out, QStringLiteral("state"));
                          f.nodeCheckpoint = value(out, QStringLiteral("checkpoint"));
                          f.nodeTimeline = value(out, QStringLiteral("tli")).toInt();
                          *nodeSysid = value(out, QStringLiteral("sysid"));
                          f.nodeHistory = TimelineFork::parseHistory(section(out, QStringLiteral("history")));
                          f.nodeEndOfWal = TimelineFork::endOfWal(section(out, QStringLiteral("waldump")));
                          if (f.nodeTimeline <= 0 || f.nodeCheckpoint.isEmpty())
                              errors->append(QStringLiteral("%1's pg_control was not read: %2")
                                                 .arg(m_options.node, tail(r.value().stdErr + r.value().stdOut)));
                          finish();
                      });
    m_context->sql(m_primary, QString::fromLatin1(Sql), primarySql, 10000,
                   [this, errors, primarySysid, finish](const Result<PgReply> &r) {
                       if (!r) {
                           errors->append(QStringLiteral("%1: %2").arg(m_primary, r.error().message));
                           finish();
                           return;
                       }
                       const PgRows &rows = r.value().constFirst();
                       TimelineFork &f = m_result.fork;
                       f.primaryLsn = rows.text(0, u"lsn");
                       f.primaryTimeline = rows.text(0, u"tli").toInt();
                       *primarySysid = rows.text(0, u"sysid");
                       f.primaryHistory = TimelineFork::parseHistory(rows.text(0, u"history"));
                       finish();
                   });
}

void Rejoin::dryRunRewind(Done done)
{
    TimelineFork &f = m_result.fork;
    if (f.nodeRunning || (f.nodeState != u"shut down" && f.nodeState != u"shut down in recovery")) {
        f.rewindDryRun = QStringLiteral("not run: %1 is %2 (it must be stopped cleanly first)")
                             .arg(f.node, f.nodeRunning ? QStringLiteral("running") : f.nodeState);
        done(true, f.rewindDryRun);
        return;
    }
    // A freshly promoted primary has the old timeline in pg_control until its
    // first checkpoint, and pg_rewind would then see no fork: checkpoint first.
    m_context->sql(
        m_primary, QString::fromLatin1(Sql), QStringLiteral("CHECKPOINT"), 30000,
        [this, done](const Result<PgReply> &c) {
            if (!c) {
                done(false, QStringLiteral("CHECKPOINT on %1: %2").arg(m_primary, c.error().message));
                return;
            }
            const QString script =
                QStringLiteral("pg_rewind --dry-run -D %1 --source-server=%2 2>&1 | tail -n 6")
                    .arg(QString::fromLatin1(PgData),
                         SshCommand::quoteForShell(repmgrConninfo(m_primary)));
            m_context->execIn(
                m_options.node, QStringLiteral("postgres"), script, 50000,
                [this, done](const Result<DockerExecResult> &r) {
                    TimelineFork &f = m_result.fork;
                    if (!r) {
                        done(false, r.error().message);
                        return;
                    }
                    const QString out = QString::fromUtf8(r.value().stdOut).trimmed();
                    QStringList lines;
                    for (const QString &l : out.split(u'\n', Qt::SkipEmptyParts))
                        lines.append(QString(l).remove(QStringLiteral("pg_rewind: ")));
                    f.rewindDryRun = lines.join(QStringLiteral(" | "));
                    static const QRegularExpression diverged(
                        QStringLiteral("servers diverged at WAL location ([0-9A-Fa-f]+/[0-9A-Fa-f]+) "
                                       "on timeline (\\d+)"));
                    const auto m = diverged.match(out);
                    if (m.hasMatch() && f.forkLsn.isEmpty()) {
                        f.forkLsn = m.captured(1).toUpper();
                        f.commonTimeline = m.captured(2).toInt();
                    }
                    if (out.contains(u"no rewind required"))
                        f.plan = f.diverged ? QStringLiteral("rewind") : QStringLiteral("follow");
                    else if (out.contains(u"Done!") || m.hasMatch())
                        f.plan = QStringLiteral("rewind");
                    else
                        f.plan = m_options.allowReclone ? QStringLiteral("re-clone") : QString();
                    Q_EMIT forkRead(f);
                    if (f.plan.isEmpty()) {
                        done(false, QStringLiteral("pg_rewind cannot work (%1) and re-cloning is "
                                                   "not allowed")
                                        .arg(f.rewindDryRun));
                        return;
                    }
                    done(true, f.rewindDryRun + QStringLiteral(" -> plan: ") + f.plan);
                });
        });
}

// ---------------------------------------------------------------- act

void Rejoin::holdAndStop(Done done)
{
    const QString script =
        QStringLiteral(
            "set -e; touch %1; d=%2; "
            "if pg_ctl -D \"$d\" status >/dev/null 2>&1; then "
            "  pg_ctl -D \"$d\" -m fast -w -t 30 stop >/dev/null; echo 'stopped (fast)'; "
            "else echo 'was not running'; fi; "
            "st=$(pg_controldata -D \"$d\" | sed -n 's/^Database cluster state: *//p'); "
            "case \"$st\" in 'shut down'|'shut down in recovery') echo \"clean: $st\";; "
            "*) echo \"state '$st': crash recovery on the local socket only\"; "
            "   pg_ctl -D \"$d\" -w -t 60 -l /dev/null -o \"-c listen_addresses='' -c "
            "hot_standby=on\" start >/dev/null; "
            "   pg_ctl -D \"$d\" -m fast -w -t 30 stop >/dev/null; "
            "   echo \"now: $(pg_controldata -D \"$d\" | sed -n 's/^Database cluster state: *//p')\";; "
            "esac")
            .arg(QString::fromLatin1(HoldMark), QString::fromLatin1(PgData));
    m_holdSet = true;
    m_changed = true;
    m_stopMs = nowMs();
    m_context->execIn(m_options.node, QStringLiteral("postgres"), script, 110000,
                      [done](const Result<DockerExecResult> &r) {
                          const bool ok = r && r.value().exitCode == 0;
                          done(ok, ok ? tail(r.value().stdOut, 3) : OperationContext::describe(r));
                      });
}

void Rejoin::rejoinNode(Done done)
{
    if (m_result.fork.plan == u"re-clone") {
        reclone(std::move(done));
        return;
    }
    m_context->sql(
        m_primary, QString::fromLatin1(Sql), QStringLiteral("CHECKPOINT"), 30000,
        [this, done](const Result<PgReply> &) {
            const QString script = QStringLiteral("repmgr -f %1 node rejoin -d %2 --force-rewind "
                                                  "--config-files=postgresql.conf,pg_hba.conf 2>&1")
                                       .arg(QString::fromLatin1(RepmgrConf),
                                            SshCommand::quoteForShell(repmgrConninfo(m_primary)));
            m_context->execIn(
                m_options.node, QStringLiteral("postgres"), script, 120000,
                [this, done](const Result<DockerExecResult> &r) {
                    if (r && r.value().exitCode == 0) {
                        m_result.method = m_result.fork.diverged ? QStringLiteral("rewind")
                                                                 : QStringLiteral("follow");
                        done(true, tail(r.value().stdOut, 2));
                        return;
                    }
                    const QString why = OperationContext::describe(r);
                    if (!m_options.allowReclone) {
                        done(false, why);
                        return;
                    }
                    reclone([why, done](bool ok, const QString &d) {
                        done(ok, QStringLiteral("node rejoin failed (%1); %2").arg(why, d));
                    });
                });
        });
}

void Rejoin::reclone(Done done)
{
    // The supervisor's own path (ph-postgres): with no data directory and no
    // hold mark, it clones from whichever node is primary, starts the node
    // and registers it with repmgr. The old data stays in data.failed.
    const QString script =
        QStringLiteral("set -e; d=%1; p=$(dirname \"$d\"); "
                       "pg_ctl -D \"$d\" status >/dev/null 2>&1 && pg_ctl -D \"$d\" -m fast -w stop "
                       ">/dev/null; rm -rf \"$p/data.failed\"; mv \"$d\" \"$p/data.failed\"; rm -f %2; "
                       "echo \"data moved to $p/data.failed; the supervisor clones from the primary\"")
            .arg(QString::fromLatin1(PgData), QString::fromLatin1(HoldMark));
    m_recloned = true;
    m_context->execIn(m_options.node, QStringLiteral("postgres"), script, 60000,
                      [this, done](const Result<DockerExecResult> &r) {
                          const bool ok = r && r.value().exitCode == 0;
                          if (ok) {
                              m_holdSet = false;
                              m_result.method = QStringLiteral("re-clone");
                          }
                          done(ok, ok ? tail(r.value().stdOut, 1) : OperationContext::describe(r));
                      });
}

void Rejoin::release(Done done)
{
    if (!m_holdSet) {
        done(true, QStringLiteral("nothing held"));
        return;
    }
    m_context->execIn(m_options.node, QStringLiteral("postgres"),
                      QStringLiteral("rm -f %1").arg(QString::fromLatin1(HoldMark)), 15000,
                      [this, done](const Result<DockerExecResult> &r) {
                          const bool ok = r && r.value().exitCode == 0;
                          if (ok)
                              m_holdSet = false;
                          done(ok, ok ? QStringLiteral("hold mark removed: the supervisor watches "
                                                       "it again")
                                      : OperationContext::describe(r));
                      });
}

// ---------------------------------------------------------------- verify

void Rejoin::waitStreaming(Done done)
{
    auto *poll = new QTimer(this);
    auto finished = std::make_shared<bool>(false);
    auto last = std::make_shared<QString>();
    auto finish = [poll, finished, done](bool ok, const QString &d) {
        if (*finished)
            return;
        *finished = true;
        poll->deleteLater();
        done(ok, d);
    };
    connect(poll, &QTimer::timeout, this, [this, last, finish] {
        const PostgresNodeState *n = nodeOf(m_monitor->snapshot(), m_options.node);
        if (!n)
            return;
        *last = !n->reachable ? QStringLiteral("does not answer")
                              : QStringLiteral("%1, WAL receiver %2 from %3")
                                    .arg(n->role, n->walReceiverStatus, n->upstream);
        if (n->reachable && n->role == u"standby" && n->walReceiverStatus == u"streaming" &&
            n->upstream == m_primary) {
            m_result.rejoinSeconds = double(nowMs() - m_stopMs) / 1000.0;
            finish(true, QStringLiteral("streaming from %1 on timeline %2, %3 s after the stop")
                             .arg(m_primary)
                             .arg(n->timeline)
                             .arg(m_result.rejoinSeconds, 0, 'f', 1));
        }
    });
    QTimer::singleShot(qMax(1000, m_options.verifyTimeoutMs - 500), poll, [last, finish] {
        finish(false, QStringLiteral("not streaming: ") + *last);
    });
    poll->start(250);
}

void Rejoin::attachInPgpools(Done done)
{
    const int id = pgpoolNodeId(m_options.node);
    const QStringList pgpools = pgpoolServices();
    if (id < 0 || pgpools.isEmpty()) {
        done(id >= 0, id < 0 ? QStringLiteral("no pgpool backend is %1").arg(m_options.node)
                             : QStringLiteral("no pgpool task"));
        return;
    }
    const QString script =
        QStringLiteral("export PCPPASSFILE=%1; o='-h 127.0.0.1 -p %2 -U admin -w'; "
                       "for i in $(seq 1 20); do "
                       "  st=$(pcp_node_info $o -n %3 2>/dev/null | awk '{print $3}'); "
                       "  case \"$st\" in 1|2) echo \"node %3 up\"; exit 0;; esac; "
                       "  pcp_attach_node $o -n %3 >/dev/null 2>&1 && { echo \"node %3 "
                       "attached\"; exit 0; }; sleep 1; "
                       "done; echo \"node %3 still $st\" >&2; exit 1")
            .arg(QString::fromLatin1(PcpPassFile))
            .arg(m_inventory.settings.pcpPort)
            .arg(id);
    auto pending = std::make_shared<int>(int(pgpools.size()));
    auto results = std::make_shared<QStringList>();
    auto failed = std::make_shared<bool>(false);
    for (const QString &key : pgpools) {
        m_context->execIn(key, QStringLiteral("postgres"), script, 28000,
                          [key, pending, results, failed, done](const Result<DockerExecResult> &r) {
                              const bool ok = r && r.value().exitCode == 0;
                              *failed = *failed || !ok;
                              results->append(key + QStringLiteral(": ") +
                                              (ok ? tail(r.value().stdOut, 1)
                                                  : OperationContext::describe(r)));
                              if (--*pending == 0)
                                  done(!*failed, results->join(QStringLiteral("; ")));
                          });
    }
}

void Rejoin::waitHealthy(Done done)
{
    auto *poll = new QTimer(this);
    auto finished = std::make_shared<bool>(false);
    auto last = std::make_shared<QStringList>();
    auto finish = [poll, finished, done](bool ok, const QString &d) {
        if (*finished)
            return;
        *finished = true;
        poll->deleteLater();
        done(ok, d);
    };
    connect(poll, &QTimer::timeout, this, [this, last, finish] {
        *last = Switchover::unhealthyAfter(m_monitor->snapshot(), m_primary, 0);
        if (last->isEmpty())
            finish(true, QStringLiteral("%1 primary, every standby streaming from it, every "
                                        "pgpool agrees")
                             .arg(m_primary));
    });
    QTimer::singleShot(59000, poll, [last, finish] {
        finish(false, QStringLiteral("still unhealthy: ") + last->join(QStringLiteral("; ")));
    });
    poll->start(250);
}

// ---------------------------------------------------------------- helpers

QString Rejoin::repmgrConninfo(const QString &name) const
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

int Rejoin::pgpoolNodeId(const QString &name) const
{
    for (const PgpoolInstanceState &p : m_before.pgpools) {
        for (const PgpoolBackend &b : p.backends) {
            if (b.hostname == name)
                return b.nodeId;
        }
    }
    return -1;
}

QStringList Rejoin::pgpoolServices() const
{
    QStringList out;
    const ClusterSnapshot s = lastSnapshot();
    for (const TaskState &t : s.tasks) {
        if (t.service == m_inventory.settings.pgpoolService && t.desiredState == u"running" &&
            t.currentState == u"running" && !t.containerId.isEmpty())
            out.append(t.service + u'@' + t.hostname);
    }
    out.removeDuplicates();
    return out;
}

QJsonObject rejoinReportJson(const RejoinResult &r, const RejoinOptions &o)
{
    return QJsonObject{
        {QStringLiteral("ok"), r.ok},
        {QStringLiteral("refused"), r.refused},
        {QStringLiteral("error"), r.error.isEmpty() ? QJsonValue() : QJsonValue(r.error)},
        {QStringLiteral("refusals"), QJsonArray::fromStringList(r.refusals)},
        {QStringLiteral("node"), o.node},
        {QStringLiteral("reason"), o.reason},
        {QStringLiteral("dry_run"), r.dryRun},
        {QStringLiteral("method"), r.method.isEmpty() ? QJsonValue() : QJsonValue(r.method)},
        {QStringLiteral("fork"), r.fork.toJson()},
        {QStringLiteral("duration_seconds"), double(qRound64(r.durationSeconds * 1000)) / 1000.0},
        {QStringLiteral("rejoin_seconds"), double(qRound64(r.rejoinSeconds * 1000)) / 1000.0},
        {QStringLiteral("runbook"), r.runbook.toJson()},
    };
}

} // namespace Pilothouse
