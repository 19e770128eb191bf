#include "app/operations/pgpoolrepair.h"

#include "app/connectors/docker/dockertypes.h"
#include "app/connectors/etcd/etcdclusterprobe.h"
#include "app/monitor/clustermonitor.h"
#include "app/operations/audittrail.h"
#include "app/operations/operationcontext.h"
#include "app/operations/operationlock.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonObject>
#include <QTimer>

#include <memory>

namespace Pilothouse {

namespace {

constexpr auto PcpPassFile = "/run/pgpool/etc/pcppass";

qint64 nowMs()
{
    return QDateTime::currentMSecsSinceEpoch();
}

QString lastLines(const QByteArray &bytes, int lines)
{
    QStringList all = QString::fromUtf8(bytes).trimmed().split(u'\n', Qt::SkipEmptyParts);
    while (all.size() > lines)
        all.removeFirst();
    return all.join(QStringLiteral(" | "));
}

// What a server says of itself: "primary", "standby" (streaming from the
// primary), or empty (down, or a standby that does not stream: leave it).
QString truthOf(const ClusterSnapshot &s, const QString &name, const QString &primary)
{
    for (const PostgresNodeState &n : s.postgres) {
        if (n.name != name || !n.reachable)
            continue;
        if (n.role == u"primary")
            return QStringLiteral("primary");
        if (n.role == u"standby" && n.walReceiverStatus == u"streaming" && n.upstream == primary)
            return QStringLiteral("standby");
    }
    return {};
}

// The shell helpers every script below starts with (inside a pgpool container,
// as user postgres): PCP options, and `s`, a session through this pgpool as
// its own sr_check user.
QString prelude(int pcpPort)
{
    return QStringLiteral(
               "export PCPPASSFILE=%1; o='-h 127.0.0.1 -p %2 -U admin -w'; "
               "export PGPASSWORD=$(cat \"$PGPOOL_SR_CHECK_PASSWORD_FILE\") PGCONNECT_TIMEOUT=3; "
               "s() { psql -h 127.0.0.1 -p \"${PGPOOL_PORT_NUMBER:-9999}\" -U "
               "\"$PGPOOL_SR_CHECK_USER\" -d postgres -XAtqc 'SELECT 1' 2>&1; }; ")
        .arg(QString::fromLatin1(PcpPassFile))
        .arg(pcpPort);
}

} // namespace

PgpoolRepair::PgpoolRepair(Inventory inventory, PgpoolRepairOptions options, QObject *parent)
    : QObject(parent)
    , m_inventory(std::move(inventory))
    , m_options(std::move(options))
{
    qRegisterMetaType<Pilothouse::RunbookReport>();
    qRegisterMetaType<Pilothouse::PgpoolRepairResult>();
}

PgpoolRepair::~PgpoolRepair()
{
    m_running = false;
    delete m_runbook;
    m_runbook = nullptr;
    if (m_ownContext)
        delete m_context;
    delete m_monitor;
}

QList<PgpoolDisagreement> PgpoolRepair::disagreements(const ClusterSnapshot &s,
                                                      const QString &pgpoolService,
                                                      QString *primaryOut)
{
    QStringList primaries;
    for (const PostgresNodeState &n : s.postgres) {
        if (n.reachable && n.role == u"primary")
            primaries.append(n.name);
    }
    const QString primary = primaries.size() == 1 ? primaries.constFirst() : QString();
    if (primaryOut)
        *primaryOut = primary;
    QList<PgpoolDisagreement> out;
    for (const PgpoolInstanceState &p : s.pgpools) {
        PgpoolDisagreement d;
        d.pgpool = pgpoolService + u'@' + p.host;
        if (!p.reachable) {
            d.problems.append(QStringLiteral("does not answer: %1").arg(p.freshness.error));
            out.append(d);
            continue;
        }
        for (const PgpoolBackend &b : p.backends) {
            const QString truth = truthOf(s, b.hostname, primary);
            const bool up = b.status == u"up" || b.status == u"waiting";
            if (!truth.isEmpty() && !up) {
                d.problems.append(QStringLiteral("%1 is %2 here but is a serving %3")
                                      .arg(b.hostname, b.status, truth));
                d.attach.append(b.nodeId);
            }
            if (truth == u"primary" && b.role != u"primary") {
                d.problems.append(
                    QStringLiteral("names %1 %2, but it is the primary")
                        .arg(b.hostname, b.role.isEmpty() ? QStringLiteral("nothing") : b.role));
                d.promote = b.nodeId;
            } else if (b.role == u"primary" && truth != u"primary" && !primary.isEmpty()) {
                d.problems.append(QStringLiteral("sends writes to %1, but the primary is %2")
                                      .arg(b.hostname, primary));
            }
        }
        out.append(d);
    }
    return out;
}

void PgpoolRepair::setContext(OperationContext *context)
{
    if (!m_runbook)
        m_context = context;
}

ClusterSnapshot PgpoolRepair::lastSnapshot() const
{
    return m_monitor ? m_monitor->snapshot() : m_before;
}

QString PgpoolRepair::preflightText() const
{
    QString t =
        QStringLiteral("Repair every pgpool instance (reason: %1)%2\n\n")
            .arg(m_options.reason,
                 m_options.dryRun ? QStringLiteral(" — dry run: nothing is changed") : QString());
    t += QStringLiteral(
        "What is checked first: exactly one server says it is primary, etcd has quorum; each "
        "pgpool instance's backends against what the servers say of themselves; a session "
        "opened through each instance, inside its container.\n");
    if (!m_options.dryRun)
        t += QStringLiteral(
            "What will happen, per instance that disagrees: attach the backends it has detached "
            "but that serve (pcp_attach_node), name the real primary (pcp_promote_node), and "
            "when sessions still fail (pgpool 4.3: \"kind does not match between main(0) "
            "slot[0]\") detach and attach its backends one at a time, standbys first, until they "
            "work. The databases are not touched.\n"
            "Expected downtime: sessions through an instance that is repaired may be cut once; "
            "instances that agree are not touched.\n");
    return t;
}

RunbookNode PgpoolRepair::buildTree()
{
    auto bind = [this](void (PgpoolRepair::*fn)(Done)) {
        return [this, fn](Done done) {
            (this->*fn)(std::move(done));
        };
    };
    std::vector<RunbookNode> top;
    OperationLock *lock = m_context->lock();
    if (lock && !lock->isHeld())
        top.push_back(lock->acquireStep());
    top.push_back(
        okStep(QStringLiteral("open the audit trail"), 15000, bind(&PgpoolRepair::openAudit)));
    top.push_back(RunbookNode::sequence(
        QStringLiteral("preflight"),
        {okStep(QStringLiteral("read every layer of the cluster"), m_options.preflightTimeoutMs,
                bind(&PgpoolRepair::readCluster)),
         okStep(QStringLiteral("check: one primary, etcd quorum; what each pgpool gets wrong"),
                2000, bind(&PgpoolRepair::checkCluster)),
         okStep(QStringLiteral("a session through each pgpool"), 30000,
                bind(&PgpoolRepair::checkSessions))},
        RunbookNode::ErrorPolicy::ContinueOnError));
    if (!m_options.dryRun) {
        top.push_back(RunbookNode::sequence(
            QStringLiteral("act"), {okStep(QStringLiteral("repair each pgpool that disagrees"),
                                           m_options.repairTimeoutMs, bind(&PgpoolRepair::repair))
                                        .uninterruptible()}));
        top.push_back(RunbookNode::sequence(
            QStringLiteral("verify"),
            {okStep(QStringLiteral("every pgpool answers, sees every serving backend up and sends "
                                   "writes to the primary"),
                    m_options.verifyTimeoutMs, bind(&PgpoolRepair::waitAgreed))}));
    }
    return RunbookNode::sequence(QStringLiteral("pgpool repair"), std::move(top));
}

void PgpoolRepair::start()
{
    if (m_running || m_runbook)
        return;
    m_running = true;
    m_result = PgpoolRepairResult{};
    m_result.dryRun = m_options.dryRun;
    m_startedMs = nowMs();
    if (!m_context) {
        const QString operation = m_options.dryRun ? QStringLiteral("pgpool repair (dry run)")
                                                   : QStringLiteral("pgpool repair");
        m_context = OperationContext::createOwn(m_inventory, operation, m_options.reason, this);
        m_ownContext = true;
    }
    m_context->setSnapshotSource([this] { return lastSnapshot(); });
    m_runbook = m_context->runbookFor(this, buildTree(), &PgpoolRepair::runbookFinished);
    m_runbook->start();
}

void PgpoolRepair::cancel(const QString &why)
{
    if (m_runbook && m_running)
        m_runbook->cancel(why);
}

void PgpoolRepair::runbookFinished(const RunbookReport &report)
{
    m_result.runbook = report;
    m_result.durationSeconds = double(nowMs() - m_startedMs) / 1000.0;
    RunbookVerdict::of(report, m_changed).applyTo(m_result);
    if (m_monitor)
        m_monitor->stop();
    m_context->closeAudit(
        m_auditOpened, QStringLiteral("pgpool"), QStringLiteral("pgpool repair finished"),
        m_result.ok ? QStringLiteral("succeeded: ") +
                          (m_result.repairs.isEmpty() ? QStringLiteral("nothing to repair")
                                                      : m_result.repairs.join(QStringLiteral("; ")))
                    : (m_result.refused ? QString() : QStringLiteral("failed: ")) + m_result.error,
        m_result.ok, [this] { finish(); });
}

void PgpoolRepair::finish()
{
    m_running = false;
    Q_EMIT finished(m_result);
}

// ---------------------------------------------------------------- preflight

void PgpoolRepair::openAudit(Done done)
{
    m_context->openAudit(m_ownContext, QStringLiteral("pgpool"),
                         m_options.dryRun ? QStringLiteral("pgpool-repair --dry-run")
                                          : QStringLiteral("pgpool-repair"),
                         [this, done](bool ok, const QString &note) {
                             m_auditOpened = ok && m_context->audit();
                             done(ok, note);
                         });
}

void PgpoolRepair::readCluster(Done done)
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
            done(true, QStringLiteral("%1 PostgreSQL nodes, %2 pgpool instances, etcd %3/%4")
                           .arg(m_before.postgres.size())
                           .arg(m_before.pgpools.size())
                           .arg(m_before.etcd.healthyMembers)
                           .arg(m_before.etcd.clusterSize));
        });
}

void PgpoolRepair::checkCluster(Done done)
{
    if (!m_read) {
        done(false, QStringLiteral("not checked: the cluster was not read"));
        return;
    }
    QStringList why;
    m_result.found = disagreements(m_before, m_inventory.settings.pgpoolService, &m_result.primary);
    if (m_result.primary.isEmpty()) {
        QStringList primaries;
        for (const PostgresNodeState &n : m_before.postgres) {
            if (n.reachable && n.role == u"primary")
                primaries.append(n.name);
        }
        why.append(primaries.isEmpty()
                       ? QStringLiteral("no server says it is primary: pgpool has nothing to "
                                        "follow (fail over or promote first)")
                       : QStringLiteral("%1 servers say they are primary (%2): resolve the split "
                                        "brain first; pgpool would follow either")
                             .arg(primaries.size())
                             .arg(primaries.join(QStringLiteral(", "))));
    }
    if (m_before.etcd.clusterSize > 0 && !m_before.etcd.quorum)
        why.append(QStringLiteral("etcd has no quorum (%1 of %2 members healthy)")
                       .arg(m_before.etcd.healthyMembers)
                       .arg(m_before.etcd.clusterSize));
    if (instances().isEmpty())
        why.append(QStringLiteral("no running %1 task in the swarm's task list")
                       .arg(m_inventory.settings.pgpoolService));
    if (!why.isEmpty()) {
        done(false, why.join(QStringLiteral("; ")));
        return;
    }
    QStringList seen;
    for (const PgpoolDisagreement &d : std::as_const(m_result.found))
        seen.append(d.pgpool + QStringLiteral(": ") +
                    (d.problems.isEmpty() ? QStringLiteral("agrees")
                                          : d.problems.join(QStringLiteral(", "))));
    done(true,
         QStringLiteral("primary %1; %2").arg(m_result.primary, seen.join(QStringLiteral("; "))));
}

void PgpoolRepair::checkSessions(Done done)
{
    const QStringList pgpools = instances();
    if (pgpools.isEmpty()) {
        done(false, QStringLiteral("no pgpool task"));
        return;
    }
    const QString script = prelude(m_inventory.settings.pcpPort) +
                           QStringLiteral("for i in 1 2 3; do r=$(s) && { echo \"sessions work\"; "
                                          "exit 0; }; sleep 0.3; done; "
                                          "echo \"a session fails: $(echo \"$r\" | tr '\\n' ' ' | "
                                          "cut -c1-160)\"");
    auto pending = std::make_shared<int>(int(pgpools.size()));
    auto results = std::make_shared<QStringList>();
    m_sessionsFail.clear();
    for (const QString &key : pgpools) {
        m_context->execIn(key, QStringLiteral("postgres"), script, 25000,
                          [this, key, pending, results, done](const Result<DockerExecResult> &r) {
                              const QString out = r ? lastLines(r.value().stdOut, 1)
                                                    : OperationContext::describe(r);
                              if (!r || !out.startsWith(u"sessions work"))
                                  m_sessionsFail.append(key);
                              results->append(key + QStringLiteral(": ") + out);
                              if (--*pending == 0) {
                                  results->sort();
                                  m_result.sessions = *results;
                                  done(true, results->join(QStringLiteral("; ")));
                              }
                          });
    }
}

// ---------------------------------------------------------------- act

void PgpoolRepair::repair(Done done)
{
    // The order backends are cycled in when sessions fail: standbys first,
    // the primary last (it carries the writes).
    QStringList cycle;
    int primaryId = -1;
    for (const PgpoolInstanceState &p : m_before.pgpools) {
        for (const PgpoolBackend &b : p.backends) {
            if (b.hostname == m_result.primary)
                primaryId = b.nodeId;
            else if (!truthOf(m_before, b.hostname, m_result.primary).isEmpty() &&
                     !cycle.contains(QString::number(b.nodeId)))
                cycle.append(QString::number(b.nodeId));
        }
    }
    if (primaryId >= 0)
        cycle.append(QString::number(primaryId));

    struct Work
    {
        QString key;
        QString script;
    };
    QList<Work> work;
    for (const PgpoolDisagreement &d : std::as_const(m_result.found)) {
        const bool sessionsFail = m_sessionsFail.contains(d.pgpool);
        if (d.problems.isEmpty() && !sessionsFail)
            continue;
        QStringList attach;
        for (int id : d.attach)
            attach.append(QString::number(id));
        QString script = prelude(m_inventory.settings.pcpPort) + QStringLiteral("did=''; ");
        if (!attach.isEmpty())
            script +=
                QStringLiteral("for n in %1; do for k in 1 2 3 4 5; do "
                               "pcp_attach_node $o -n $n >/dev/null 2>&1 && { did=\"$did attached "
                               "node $n;\"; break; }; sleep 0.5; done; done; ")
                    .arg(attach.join(u' '));
        if (d.promote >= 0)
            script += QStringLiteral("pcp_promote_node $o -n %1 >/dev/null 2>&1 && did=\"$did "
                                     "named node %1 primary;\" || did=\"$did pcp_promote_node %1 "
                                     "refused;\"; sleep 1; ")
                          .arg(d.promote);
        script += QStringLiteral(
                      "for i in 1 2 3; do if s >/dev/null; then echo \"${did:- nothing to "
                      "change;} sessions work\"; exit 0; fi; sleep 0.3; done; "
                      "t0=$(date +%s%N); "
                      "for n in %1; do "
                      "  pcp_detach_node $o -n $n >/dev/null 2>&1; sleep 0.3; "
                      "  for k in 1 2 3 4 5; do pcp_attach_node $o -n $n >/dev/null 2>&1 && break; "
                      "sleep 0.3; done; "
                      "  for k in 1 2 3 4 5 6; do if s >/dev/null; then echo \"$did detached and "
                      "attached node $n: sessions work after $(( ($(date +%s%N) - t0) / 1000000 )) "
                      "ms\"; exit 0; fi; sleep 0.3; done; "
                      "  did=\"$did cycled node $n;\"; "
                      "done; echo \"$did sessions still fail: $(s | tr '\\n' ' ' | cut -c1-160)\"; "
                      "exit 1")
                      .arg(cycle.join(u' '));
        work.append({d.pgpool, script});
    }
    if (work.isEmpty()) {
        done(true, QStringLiteral("every pgpool agrees and answers sessions: nothing to repair"));
        return;
    }
    m_changed = true;
    auto pending = std::make_shared<int>(int(work.size()));
    auto failed = std::make_shared<bool>(false);
    for (const Work &w : std::as_const(work)) {
        const QString key = w.key;
        m_context->execIn(
            key, QStringLiteral("postgres"), w.script, m_options.repairTimeoutMs - 2000,
            [this, key, pending, failed, done](const Result<DockerExecResult> &r) {
                const bool ok = r && r.value().exitCode == 0;
                *failed = *failed || !ok;
                m_result.repairs.append(key + QStringLiteral(":") +
                                        (r ? lastLines(r.value().stdOut, 1).prepend(u' ')
                                           : QStringLiteral(" ") + OperationContext::describe(r)));
                if (--*pending == 0)
                    done(!*failed, m_result.repairs.join(QStringLiteral("; ")));
            });
    }
}

// ---------------------------------------------------------------- verify

void PgpoolRepair::waitAgreed(Done done)
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
        const ClusterSnapshot s = m_monitor->snapshot();
        QString primary;
        last->clear();
        for (const PgpoolDisagreement &d :
             disagreements(s, m_inventory.settings.pgpoolService, &primary)) {
            if (!d.problems.isEmpty())
                last->append(d.pgpool + QStringLiteral(": ") +
                             d.problems.join(QStringLiteral(", ")));
        }
        if (s.pgpools.isEmpty())
            last->append(QStringLiteral("no pgpool instance seen"));
        if (last->isEmpty())
            finish(true, QStringLiteral("%1 pgpool instance(s) agree: primary %2")
                             .arg(s.pgpools.size())
                             .arg(primary));
    });
    QTimer::singleShot(qMax(1000, m_options.verifyTimeoutMs - 500), poll, [last, finish] {
        finish(false, QStringLiteral("still disagreeing: ") + last->join(QStringLiteral("; ")));
    });
    poll->start(250);
}

// ---------------------------------------------------------------- helpers

QStringList PgpoolRepair::instances() const
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

QJsonObject pgpoolRepairReportJson(const PgpoolRepairResult &r, const PgpoolRepairOptions &o)
{
    QJsonArray found;
    for (const PgpoolDisagreement &d : r.found) {
        QJsonArray attach;
        for (int id : d.attach)
            attach.append(id);
        found.append(QJsonObject{
            {QStringLiteral("pgpool"), d.pgpool},
            {QStringLiteral("problems"), QJsonArray::fromStringList(d.problems)},
            {QStringLiteral("attach"), attach},
            {QStringLiteral("promote"), d.promote >= 0 ? QJsonValue(d.promote) : QJsonValue()},
        });
    }
    return QJsonObject{
        {QStringLiteral("ok"), r.ok},
        {QStringLiteral("refused"), r.refused},
        {QStringLiteral("error"), r.error.isEmpty() ? QJsonValue() : QJsonValue(r.error)},
        {QStringLiteral("refusals"), QJsonArray::fromStringList(r.refusals)},
        {QStringLiteral("reason"), o.reason},
        {QStringLiteral("dry_run"), r.dryRun},
        {QStringLiteral("primary"), r.primary},
        {QStringLiteral("found"), found},
        {QStringLiteral("sessions"), QJsonArray::fromStringList(r.sessions)},
        {QStringLiteral("repairs"), QJsonArray::fromStringList(r.repairs)},
        {QStringLiteral("duration_seconds"), double(qRound64(r.durationSeconds * 1000)) / 1000.0},
        {QStringLiteral("runbook"), r.runbook.toJson()},
    };
}

} // namespace Pilothouse
