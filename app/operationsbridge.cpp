#include "app/operationsbridge.h"

#include "app/connectors/etcd/etcdclusterprobe.h"
#include "app/deployrun.h"
#include "app/maintenanceruns.h"
#include "app/operations/audittrail.h"
#include "app/operations/drill.h"
#include "app/operations/heartbeatwriter.h"
#include "app/operations/operationlock.h"
#include "app/operations/switchover.h"
#include "models/auditmodel.h"
#include "ui/clusterview.h"
#include "ui/operations/auditdock.h"
#include "ui/operations/certificatewizard.h"
#include "ui/operations/deploywizard.h"
#include "ui/operations/drillwizard.h"
#include "ui/operations/maintenancewizard.h"
#include "ui/operations/switchoverwizard.h"

#include <QDateTime>
#include <QJsonArray>
#include <QSettings>
#include <QTimer>

#include <memory>
#include <optional>

namespace Pilothouse {
namespace {

double round3(double v)
{
    return double(qRound64(v * 1000.0)) / 1000.0;
}

QString bytesText(qint64 bytes)
{
    if (bytes < 0)
        return QObject::tr("unknown");
    if (bytes < 1024)
        return QObject::tr("%1 B").arg(bytes);
    if (bytes < 1024 * 1024)
        return QObject::tr("%1 KiB").arg(double(bytes) / 1024.0, 0, 'f', 1);
    return QObject::tr("%1 MiB").arg(double(bytes) / 1024.0 / 1024.0, 0, 'f', 1);
}

// A Switchover with a heartbeat writer through every pgpool and the app, so
// that its report says what users saw: the write gap per path and the
// acknowledged writes missing on the new primary afterwards (as the CLI's).
class SwitchoverRun final : public OperationRun
{
public:
    SwitchoverRun(Inventory inventory, QString target, ClusterSnapshot snapshot, QObject *parent)
        : OperationRun(parent)
        , m_inventory(std::move(inventory))
        , m_target(std::move(target))
        , m_before(std::move(snapshot))
    {
        m_options.target = m_target;
        m_refusals = Switchover::refusals(m_before, m_target, m_options.maxLagBytes);
        // The engine's own account of the steps, checks and downtime.
        // (No reason yet: it is typed on the page before and given to start().)
        m_engineText = Switchover(m_inventory, m_options).preflightText();
        m_engineText.replace(QStringLiteral(" (reason: )"), QString());
    }

    ~SwitchoverRun() override
    {
        // A run still going when its wizard closes is cancelled by the wizard
        // first; this only stops what would otherwise call into freed memory.
        if (m_writer)
            m_writer->stop();
    }

    QString kind() const override { return QStringLiteral("switchover"); }

    QString title() const override
    {
        return tr("Switchover %1 → %2")
            .arg(primary().isEmpty() ? tr("(no primary)") : primary(), m_target);
    }

    QStringList refusals() const override { return m_refusals; }

    QString preflightText() const override
    {
        if (!m_engineText.isEmpty())
            return m_engineText + QStringLiteral("\n\n") + tr("The cluster now") + u'\n' +
                   clusterNow();
        const QString p = primary().isEmpty() ? tr("the primary") : primary();
        return tr("What will happen\n"
                  "  1. Read every layer again and check it (below); start a heartbeat writer "
                  "through every pgpool and through the app.\n"
                  "  2. Pause repmgrd, checkpoint %1, tell every pgpool that %2 will be the "
                  "primary, stop %1 (fast shutdown: every WAL record reaches the standbys).\n"
                  "  3. Check %2 received all of %1's WAL, promote it (timeline + 1), point "
                  "every pgpool at it, record the new roles in repmgr.\n"
                  "  4. Rejoin %1 as a standby of %2; the other standbys follow %2; resume "
                  "repmgrd; attach every standby in every pgpool.\n"
                  "  5. Verify: one primary %2 on the next timeline, both standbys streaming "
                  "from it, every pgpool agrees, the app writes. Then read the heartbeats back "
                  "from %2: every acknowledged write must be there.\n\n"
                  "What is checked before anything changes\n"
                  "  exactly one primary; %2 is a standby, streaming from %1 and at most %3 "
                  "behind; every other standby answers; every pgpool answers and sends writes to "
                  "%1; the pgpools agree; etcd has quorum.\n\n"
                  "Expected downtime\n"
                  "  Writes through pgpool and the app pause for about 1 s (measured on the lab: "
                  "1.0–1.3 s) while %1 stops and %2 is promoted; reads go on. No acknowledged "
                  "write is lost. The whole run takes about a minute (the rejoin of %1).\n\n"
                  "The cluster now\n%4")
            .arg(p, m_target, bytesText(m_options.maxLagBytes), clusterNow());
    }

    QString clusterNow() const
    {
        QString now;
        for (const PostgresNodeState &n : m_before.postgres) {
            QString line =
                tr("%1 on %2: %3").arg(n.name, n.host, n.reachable ? n.role : tr("down"));
            if (n.role == u"primary")
                line += tr(", timeline %1").arg(n.timeline);
            else if (n.reachable)
                line +=
                    tr(", WAL receiver %1, lag %2 / %3 s")
                        .arg(n.walReceiverStatus.isEmpty() ? tr("none") : n.walReceiverStatus,
                             bytesText(n.lagBytes))
                        .arg(n.lagSeconds < 0 ? tr("?") : QString::number(n.lagSeconds, 'f', 1));
            now += QStringLiteral("  • ") + line + u'\n';
        }
        for (const PgpoolInstanceState &pool : m_before.pgpools) {
            QString primaryThere;
            for (const PgpoolBackend &b : pool.backends) {
                if (b.role == u"primary")
                    primaryThere = b.hostname;
            }
            now += QStringLiteral("  • ") +
                   tr("pgpool on %1 sends writes to %2")
                       .arg(pool.host, primaryThere.isEmpty() ? tr("no node") : primaryThere) +
                   u'\n';
        }
        return now;
    }

    void start(const QString &reason) override
    {
        if (state() != State::Ready)
            return;
        m_options.reason = reason.trimmed();
        m_switchover = new Switchover(m_inventory, m_options, this);
        m_switchover->addStepBeforeAct(
            tr("start the heartbeat writer (every pgpool and the app, every 100 ms)"), 15000,
            [this](std::function<void(bool, QString)> done) { startWriter(std::move(done)); });
        connect(m_switchover, &Switchover::stepStarted, this, &OperationRun::stepStarted);
        connect(m_switchover, &Switchover::stepCompleted, this, &OperationRun::stepFinished);
        connect(m_switchover, &Switchover::progress, this, &OperationRun::progress);
        connect(m_switchover, &Switchover::finished, this, &SwitchoverRun::switchoverFinished);
        setState(State::Running);
        m_switchover->start();
    }

    void cancel() override
    {
        if (state() == State::Ready) {
            finishBeforeStart();
            return;
        }
        if (state() != State::Running || !m_switchover)
            return;
        setState(State::Cancelling);
        Q_EMIT observed(QStringLiteral("operation"),
                        tr("cancel asked: the running step finishes, then the cleanup runs"));
        m_switchover->cancel(tr("cancelled by the operator in the console"));
    }

private:
    QString primary() const
    {
        for (const PostgresNodeState &n : m_before.postgres) {
            if (n.reachable && n.role == u"primary")
                return n.name;
        }
        return {};
    }

    void startWriter(std::function<void(bool, QString)> done)
    {
        const ClusterSnapshot s = m_switchover->lastSnapshot();
        QStringList pgpoolHosts;
        for (const PgpoolInstanceState &p : s.pgpools)
            pgpoolHosts.append(p.host);
        pgpoolHosts.removeDuplicates();
        QStringList proxyHosts;
        if (!m_inventory.hosts.isEmpty())
            proxyHosts.append(m_inventory.hosts.constFirst().name);
        auto o = HeartbeatWriterOptions::fromInventory(m_inventory, pgpoolHosts, proxyHosts);
        if (!o) {
            done(false, o.error().toString());
            return;
        }
        m_writer = std::make_unique<HeartbeatWriter>(o.value());
        HeartbeatWriter *w = m_writer.get();
        connect(w, &HeartbeatWriter::pathFailed, this,
                [this](const QString &path, const QString &error) {
                    Q_EMIT observed(QStringLiteral("writer"),
                                    tr("%1: writes fail (%2)").arg(path, error));
                });
        connect(w, &HeartbeatWriter::pathRecovered, this, [this](const QString &path, double gap) {
            Q_EMIT observed(QStringLiteral("writer"),
                            tr("%1: writes again after %2 s").arg(path).arg(gap, 0, 'f', 3));
        });
        auto called = std::make_shared<bool>(false);
        auto once = [done, called](bool ok, const QString &detail) {
            if (*called)
                return;
            *called = true;
            done(ok, detail);
        };
        connect(w, &HeartbeatWriter::startFailed, this,
                [once](const Error &e) { once(false, e.message); });
        connect(w, &HeartbeatWriter::started, this, [this, w, once] {
            // Go on once every path has written once, or say which did not.
            auto *poll = new QTimer(this);
            auto waited = std::make_shared<int>(0);
            connect(poll, &QTimer::timeout, this, [w, poll, waited, once] {
                QStringList silent;
                for (const HeartbeatPathReport &r : w->report()) {
                    if (r.acked == 0)
                        silent.append(r.path);
                }
                *waited += 100;
                if (!silent.isEmpty() && *waited < 8000)
                    return;
                poll->deleteLater();
                if (silent.isEmpty())
                    once(true,
                         tr("writing on %n path(s)", nullptr, int(w->options().paths.size())));
                else
                    once(false, tr("no acknowledged write on %1").arg(silent.join(u", ")));
            });
            poll->start(100);
        });
        w->start();
    }

    void switchoverFinished(const SwitchoverResult &r)
    {
        m_result = r;
        if (!m_writer) {
            report();
            return;
        }
        m_writer->stop();
        QString newPrimary = r.ok ? r.newPrimary : QString();
        if (newPrimary.isEmpty()) {
            for (const PostgresNodeState &n : m_switchover->lastSnapshot().postgres) {
                if (n.reachable && n.role == u"primary")
                    newPrimary = n.name;
            }
        }
        if (newPrimary.isEmpty()) {
            m_lostError = tr("no primary to read the heartbeats back from");
            report();
            return;
        }
        PgConnectOptions where;
        const InventoryHost *host =
            m_inventory.host(m_inventory.settings.postgresNodes.value(newPrimary));
        where.host = host ? host->address : newPrimary;
        where.port = m_inventory.settings.postgresPort;
        where.label = newPrimary;
        m_lostCheckedOn = newPrimary;
        Q_EMIT observed(QStringLiteral("writer"),
                        tr("reading the heartbeats back from %1").arg(newPrimary));
        m_writer->lostWrites(where, 15000, this, [this](const Result<QList<HeartbeatWrite>> &lost) {
            if (lost)
                m_lost = lost.value();
            else
                m_lostError = lost.error().message;
            report();
        });
    }

    void report()
    {
        const SwitchoverResult &r = m_result;
        QJsonObject j;
        j.insert(QStringLiteral("ok"), r.ok);
        j.insert(QStringLiteral("refused"), r.refused);
        j.insert(QStringLiteral("error"), r.error.isEmpty() ? QJsonValue() : QJsonValue(r.error));
        j.insert(QStringLiteral("target"), m_target);
        j.insert(QStringLiteral("reason"), m_options.reason);
        j.insert(QStringLiteral("cancelled"), state() == State::Cancelling);
        j.insert(QStringLiteral("old_primary"), r.oldPrimary);
        j.insert(QStringLiteral("new_primary"), r.ok ? r.newPrimary : QString());
        j.insert(QStringLiteral("timeline_before"), r.timelineBefore);
        j.insert(QStringLiteral("timeline_after"), r.timelineAfter);
        j.insert(QStringLiteral("duration_seconds"), round3(r.durationSeconds));
        QJsonObject gaps;
        QJsonArray paths;
        int acked = 0;
        if (m_writer) {
            double pgpool = -1;
            double app = -1;
            for (const HeartbeatPathReport &p : m_writer->report()) {
                bool isApp = false;
                for (const HeartbeatPath &k : m_writer->options().paths)
                    isApp = isApp || (k.name == p.path && k.kind == HeartbeatPath::Kind::App);
                double &worst = isApp ? app : pgpool;
                worst = std::max(worst, p.writeGapSeconds);
                paths.append(
                    QJsonObject{{QStringLiteral("path"), p.path},
                                {QStringLiteral("sent"), p.sent},
                                {QStringLiteral("acked"), p.acked},
                                {QStringLiteral("failed"), p.failed},
                                {QStringLiteral("write_gap_seconds"), round3(p.writeGapSeconds)},
                                {QStringLiteral("first_error"), p.firstError}});
            }
            for (const HeartbeatWrite &w : m_writer->writes())
                acked += w.acked() ? 1 : 0;
            gaps.insert(QStringLiteral("pgpool"),
                        pgpool < 0 ? QJsonValue() : QJsonValue(round3(pgpool)));
            gaps.insert(QStringLiteral("app"), app < 0 ? QJsonValue() : QJsonValue(round3(app)));
        }
        j.insert(QStringLiteral("write_gap_seconds"), gaps);
        j.insert(QStringLiteral("paths"), paths);
        j.insert(QStringLiteral("acknowledged_writes"), acked);
        if (m_lost) {
            j.insert(QStringLiteral("lost_writes"), int(m_lost->size()));
            j.insert(QStringLiteral("lost_checked_on"), m_lostCheckedOn);
        } else {
            j.insert(QStringLiteral("lost_writes"), QJsonValue());
            j.insert(QStringLiteral("lost_check_error"),
                     m_lostError.isEmpty() ? tr("not checked") : m_lostError);
        }
        QJsonArray steps;
        for (const SwitchoverStep &s : r.steps)
            steps.append(QJsonObject{{QStringLiteral("phase"), s.phase},
                                     {QStringLiteral("name"), s.name},
                                     {QStringLiteral("ok"), s.ok},
                                     {QStringLiteral("seconds"), round3(s.seconds)},
                                     {QStringLiteral("detail"), s.detail}});
        j.insert(QStringLiteral("steps"), steps);
        j.insert(QStringLiteral("refusals"), QJsonArray::fromStringList(r.refusals));
        j.insert(QStringLiteral("pgpool_repairs"), QJsonArray::fromStringList(r.pgpoolRepairs));
        j.insert(QStringLiteral("runbook"), r.runbook.toJson());

        QString summary;
        if (r.ok)
            summary = tr("%1 is the primary now (timeline %2 → %3), in %4 s.")
                          .arg(r.newPrimary)
                          .arg(r.timelineBefore)
                          .arg(r.timelineAfter)
                          .arg(r.durationSeconds, 0, 'f', 1);
        else if (r.refused)
            summary = tr("Refused, nothing was changed: %1").arg(r.error);
        else if (state() == State::Cancelling)
            summary = tr("Cancelled: %1").arg(r.error);
        else
            summary = tr("Failed: %1").arg(r.error);
        const bool ok = r.ok && m_lost && m_lost->isEmpty();
        if (r.ok && m_lost && !m_lost->isEmpty())
            summary += u' ' + tr("But %n acknowledged write(s) are missing on %1.", nullptr,
                                 int(m_lost->size()))
                                  .arg(m_lostCheckedOn);
        setState(State::Finished);
        Q_EMIT finished(ok, summary, j);
    }

    Inventory m_inventory;
    QString m_target;
    ClusterSnapshot m_before;
    SwitchoverOptions m_options;
    QStringList m_refusals;
    Switchover *m_switchover = nullptr;
    std::unique_ptr<HeartbeatWriter> m_writer;
    SwitchoverResult m_result;
    std::optional<QList<HeartbeatWrite>> m_lost;
    QString m_lostError;
    QString m_lostCheckedOn;
    QString m_engineText;
};

// A failover drill with the cluster's operation lock and audit trail; its
// report is the DrillReport's JSON.
class DrillRun final : public OperationRun
{
public:
    DrillRun(Inventory inventory, QString scenario, QObject *parent)
        : OperationRun(parent)
        , m_inventory(std::move(inventory))
    {
        m_options.scenario = std::move(scenario);
        if (!Drill::scenarios().contains(m_options.scenario))
            m_refusals.append(tr("%1 is not a drill scenario (%2)")
                                  .arg(m_options.scenario, Drill::scenarios().join(u", ")));
        else
            m_text = predictionText() + QStringLiteral("\n\n") +
                     Drill(m_inventory, m_options, nullptr, nullptr).preflightText();
    }

    QString kind() const override { return QStringLiteral("drill"); }
    QString title() const override { return tr("Drill: %1").arg(m_options.scenario); }
    QString preflightText() const override { return m_text; }
    QStringList refusals() const override { return m_refusals; }

    void start(const QString &reason) override
    {
        if (state() != State::Ready || !m_refusals.isEmpty())
            return;
        m_options.reason = reason.trimmed();
        const QList<EtcdClusterProbe::Member> members = EtcdClusterProbe::membersOf(m_inventory);
        const QString stack = m_inventory.settings.stack;
        const QString operation = QStringLiteral("drill ") + m_options.scenario;
        // The drill opens the trail itself once it holds the lock.
        m_audit = new AuditTrail(AuditTrail::defaultFilePath(m_inventory), this);
        m_audit->setMirror(members, AuditTrail::etcdPrefix(stack));
        m_lock = new OperationLock(members, OperationLock::keyFor(stack),
                                   OperationLockHolder::current(operation, m_options.reason), this);
        m_drill = new Drill(m_inventory, m_options, m_audit, m_lock, this);
        connect(m_drill, &Drill::stepStarted, this, &OperationRun::stepStarted);
        connect(m_drill, &Drill::stepFinished, this, &OperationRun::stepFinished);
        connect(m_drill, &Drill::progress, this, &OperationRun::progress);
        connect(m_drill, &Drill::observed, this, &OperationRun::observed);
        connect(m_drill, &Drill::finished, this, [this](const DrillReport &report) {
            QString summary;
            if (report.succeeded())
                summary =
                    tr("%1 drill done. RTO %2, RPO %3; cluster %4.")
                        .arg(report.scenario,
                             report.rtoSeconds < 0 ? tr("not measured")
                                                   : tr("%1 s").arg(report.rtoSeconds, 0, 'f', 2),
                             report.rpoWrites < 0 ? tr("not measured")
                                                  : tr("%n write(s)", nullptr, report.rpoWrites),
                             report.healthyAfter ? tr("healthy again") : tr("NOT healthy"));
            else if (m_drill->refused())
                summary = tr("Refused, nothing was changed: %1").arg(report.error);
            else
                summary = tr("The drill %1: %2").arg(report.outcome, report.error);
            setState(State::Finished);
            Q_EMIT finished(report.succeeded() && report.healthyAfter, summary, report.toJson());
        });
        setState(State::Running);
        m_drill->start();
    }

    void cancel() override
    {
        if (state() == State::Ready) {
            finishBeforeStart();
            return;
        }
        if (state() != State::Running || !m_drill)
            return;
        setState(State::Cancelling);
        m_drill->cancel(tr("cancelled by the operator in the console"));
    }

private:
    // The estimate before anything is read: the images' defaults. The drill
    // reads the live settings as its first act and reports that estimate
    // beside the measurement.
    QString predictionText() const
    {
        const DrillReport::Prediction p = predictDrill(m_options.scenario, DrillSettings{});
        QString text = p.seconds < 0
                           ? tr("Prediction: no estimate for %1.").arg(m_options.scenario)
                           : tr("Prediction: writes pause about %1 s; the slowest layer is %2.")
                                 .arg(p.seconds, 0, 'f', 1)
                                 .arg(p.slowestLayer);
        text += u' ' + tr("(From the images' default settings; the drill reads the live "
                          "settings first and its report shows that estimate beside the "
                          "measurement.)");
        for (const QString &line : p.lines)
            text += QStringLiteral("\n  • ") + line;
        return text;
    }

    Inventory m_inventory;
    DrillOptions m_options;
    QString m_text;
    QStringList m_refusals;
    AuditTrail *m_audit = nullptr;
    OperationLock *m_lock = nullptr;
    Drill *m_drill = nullptr;
};

} // namespace

OperationsBridge::OperationsBridge(const Inventory &inventory, ClusterView *view,
                                   SnapshotSource snapshot, QObject *parent)
    : QObject(parent)
    , m_inventory(inventory)
    , m_view(view)
    , m_snapshot(std::move(snapshot))
    , m_audit(new AuditModel(this))
{
    setObjectName(QStringLiteral("operations"));
    m_audit->setFilePath(AuditTrail::defaultFilePath(inventory));
    view->auditDock()->setModel(m_audit);
    connect(view, &ClusterView::operationRequested, this, &OperationsBridge::openWizard);
}

OperationsBridge::~OperationsBridge()
{
    delete m_wizard;
}

OperationRun *OperationsBridge::adopt(OperationRun *run) const
{
    if (run)
        run->setCluster(m_inventory.path);
    return run;
}

OperationRun *OperationsBridge::createSwitchover(const QString &target, QObject *parent)
{
    return adopt(new SwitchoverRun(m_inventory, target, m_snapshot(), parent));
}

OperationRun *OperationsBridge::createDrill(const QString &scenario, QObject *parent)
{
    return adopt(new DrillRun(m_inventory, scenario, parent));
}

void OperationsBridge::openWizard(const QString &operation)
{
    if (m_wizard) {
        m_wizard->raise();
        m_wizard->activateWindow();
        return;
    }
    QWidget *parent = m_view ? m_view->window() : nullptr;
    if (operation == u"switchover") {
        m_wizard = new SwitchoverWizard(
            m_snapshot(),
            [this](const QString &target, QObject *owner) {
                return createSwitchover(target, owner);
            },
            parent);
    } else if (operation == u"drill") {
        m_wizard = new DrillWizard([this](const QString &scenario,
                                          QObject *owner) { return createDrill(scenario, owner); },
                                   parent);
    } else if (operation == u"rejoin") {
        m_wizard = new MaintenanceWizard(
            rejoinWizardSpec(m_snapshot()),
            [this](const QString &node, QObject *owner) {
                return adopt(createRejoinRun(m_inventory, node, owner));
            },
            parent);
    } else if (operation == u"pgpool-repair") {
        m_wizard = new MaintenanceWizard(
            pgpoolRepairWizardSpec(m_snapshot(), m_inventory.settings.pgpoolService),
            [this](const QString &, QObject *owner) {
                return adopt(createPgpoolRepairRun(m_inventory, owner));
            },
            parent);
    } else if (operation == u"provision") {
        m_wizard = new MaintenanceWizard(
            provisionWizardSpec(m_inventory),
            [this](const QString &, QObject *owner) {
                return adopt(createProvisionRun(m_inventory, owner));
            },
            parent);
    } else if (operation == u"certificate") {
        m_wizard = new CertificateWizard(
            [this](bool rollback, const QString &certificate, const QString &key, QObject *owner) {
                return adopt(createCertificateRun(m_inventory, rollback, certificate, key, owner));
            },
            parent);
    } else if (operation == u"deploy") {
        // The file this cluster was last deployed from in this console, if any.
        const QString key = QStringLiteral("deploy/%1/stackFile").arg(m_inventory.settings.cluster);
        m_wizard = new DeployWizard(
            [this, key](const QString &file, const QString &stack,
                        const QHash<QString, QByteArray> &secrets, QObject *owner) {
                QSettings().setValue(key, file);
                return adopt(createStackDeployRun(m_inventory, file, stack, secrets, owner));
            },
            QSettings().value(key).toString(),
            m_inventory.settings.stack.isEmpty() ? QStringLiteral("pilothouse")
                                                 : m_inventory.settings.stack,
            parent);
    } else {
        return;
    }
    m_wizard->setAttribute(Qt::WA_DeleteOnClose);
    m_wizard->setWindowTitle(m_wizard->windowTitle() + QStringLiteral(" — ") +
                             m_inventory.displayName());
    m_wizard->show();
    Q_EMIT wizardOpened(m_wizard);
}

} // namespace Pilothouse
