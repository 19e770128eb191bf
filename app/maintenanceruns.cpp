#include "app/maintenanceruns.h"

#include "app/operations/pgpoolrepair.h"
#include "app/operations/rejoin.h"

#include <QPointer>

namespace Pilothouse {
namespace {

QStringList failedSteps(const RunbookReport &report)
{
    QStringList out;
    for (const RunbookStepReport &s : report.steps) {
        if (s.kind == RunbookStepReport::Kind::Step &&
            (s.outcome == RunbookOutcome::Failed || s.outcome == RunbookOutcome::TimedOut))
            out.append(s.name + QStringLiteral(": ") + s.message);
    }
    return out;
}

// ---------------------------------------------------------------- rejoin

class RejoinRun final : public OperationRun
{
public:
    RejoinRun(Inventory inventory, QString node, QObject *parent)
        : OperationRun(parent)
        , m_inventory(std::move(inventory))
    {
        m_options.node = std::move(node);
        if (m_options.node.isEmpty())
            m_refusals.append(tr("no node is chosen"));
    }

    ~RejoinRun() override
    {
        // A dry run still reading when the wizard goes back: stop it (it has
        // changed nothing; its lock lease expires if the cancel cannot finish).
        if (m_probe && m_probe->isRunning())
            m_probe->cancel(QStringLiteral("the console's rejoin wizard was closed"));
    }

    QString kind() const override { return QStringLiteral("rejoin"); }
    QString title() const override { return tr("Rejoin %1").arg(m_options.node); }
    QStringList refusals() const override { return m_refusals; }
    bool isPreparing() const override { return m_preparing; }

    void prepare(const QString &reason) override
    {
        if (m_probe || !m_refusals.isEmpty() || state() != State::Ready)
            return;
        RejoinOptions dry = m_options;
        dry.reason = reason.trimmed();
        dry.dryRun = true;
        m_preparing = true;
        m_probe = new Rejoin(m_inventory, dry, this);
        connect(m_probe, &Rejoin::forkRead, this, [this](const TimelineFork &fork) {
            m_fork = fork;
            m_haveFork = true;
            Q_EMIT preflightChanged();
        });
        connect(m_probe, &Rejoin::finished, this, [this](const RejoinResult &r) {
            m_preparing = false;
            if (!r.ok) {
                m_refusals = r.refusals.isEmpty() ? QStringList{r.error} : r.refusals;
            } else {
                m_fork = r.fork;
                m_haveFork = true;
            }
            Q_EMIT preflightChanged();
        });
        m_probe->start();
    }

    QString preflightText() const override
    {
        RejoinOptions shown = m_options;
        QString t = Rejoin(m_inventory, shown).preflightText();
        t.replace(QStringLiteral(" (reason: )"), QString());
        t += QStringLiteral("\n") + tr("The timeline fork (read now; nothing was changed)") + u'\n';
        if (m_haveFork)
            t += m_fork.toText();
        else if (m_preparing)
            t += tr("reading the primary's timeline history, %1's pg_control and WAL, and "
                    "pg_rewind --dry-run…")
                     .arg(m_options.node);
        else
            t += tr("not read");
        return t;
    }

    void start(const QString &reason) override
    {
        if (state() != State::Ready || !m_refusals.isEmpty() || m_preparing)
            return;
        m_options.reason = reason.trimmed();
        m_rejoin = new Rejoin(m_inventory, m_options, this);
        connect(m_rejoin, &Rejoin::stepStarted, this, &OperationRun::stepStarted);
        connect(m_rejoin, &Rejoin::stepCompleted, this, &OperationRun::stepFinished);
        connect(m_rejoin, &Rejoin::progress, this, &OperationRun::progress);
        connect(m_rejoin, &Rejoin::forkRead, this, [this](const TimelineFork &fork) {
            m_fork = fork;
            m_haveFork = true;
            Q_EMIT observed(QStringLiteral("repmgr"),
                            fork.diverged
                                ? tr("%1 diverged at %2: %3 bytes of WAL past the fork; plan %4")
                                      .arg(fork.node, fork.forkLsn)
                                      .arg(fork.walAtRiskBytes)
                                      .arg(fork.plan)
                                : tr("%1 has not diverged; plan %2").arg(fork.node, fork.plan));
        });
        connect(m_rejoin, &Rejoin::finished, this, [this](const RejoinResult &r) {
            m_result = r;
            QString summary;
            if (r.ok)
                summary = tr("%1 streams from %2 again (%3) after %4 s.")
                              .arg(m_options.node, r.fork.primary, r.method)
                              .arg(r.rejoinSeconds, 0, 'f', 1);
            else if (r.refused)
                summary = tr("Refused, nothing was changed: %1").arg(r.error);
            else if (state() == State::Cancelling)
                summary = tr("Cancelled: %1").arg(r.error);
            else
                summary = tr("Failed: %1").arg(r.error);
            setState(State::Finished);
            Q_EMIT finished(r.ok, summary, rejoinReportJson(r, m_options));
        });
        setState(State::Running);
        m_rejoin->start();
    }

    void cancel() override
    {
        if (state() == State::Ready) {
            if (m_probe && m_probe->isRunning())
                m_probe->cancel(tr("cancelled by the operator in the console"));
            setState(State::Finished);
            Q_EMIT finished(false, tr("Cancelled before it started; nothing was changed."), {});
            return;
        }
        if (state() != State::Running || !m_rejoin)
            return;
        setState(State::Cancelling);
        Q_EMIT observed(QStringLiteral("operation"),
                        tr("cancel asked: the running step finishes, then the cleanup runs"));
        m_rejoin->cancel(tr("cancelled by the operator in the console"));
    }

    QString detailsText() const override
    {
        if (!m_rejoin)
            return {};
        QString t;
        if (m_haveFork)
            t += m_fork.toText() + u'\n';
        const QStringList failed = failedSteps(m_result.runbook);
        if (!failed.isEmpty())
            t += tr("Steps that failed:") + u'\n' + failed.join(u'\n') + QStringLiteral("\n\n");
        t += tr("Steps:") + u'\n' + m_result.runbook.toText();
        return t;
    }

private:
    Inventory m_inventory;
    RejoinOptions m_options;
    QStringList m_refusals;
    QPointer<Rejoin> m_probe;
    bool m_preparing = false;
    TimelineFork m_fork;
    bool m_haveFork = false;
    Rejoin *m_rejoin = nullptr;
    RejoinResult m_result;
};

// ---------------------------------------------------------------- pgpool repair

class PgpoolRepairRun final : public OperationRun
{
public:
    PgpoolRepairRun(Inventory inventory, QObject *parent)
        : OperationRun(parent)
        , m_inventory(std::move(inventory))
    {}

    ~PgpoolRepairRun() override
    {
        if (m_probe && m_probe->isRunning())
            m_probe->cancel(QStringLiteral("the console's pgpool repair wizard was closed"));
    }

    QString kind() const override { return QStringLiteral("pgpool-repair"); }
    QString title() const override { return tr("Repair the pgpools"); }
    QStringList refusals() const override { return m_refusals; }
    bool isPreparing() const override { return m_preparing; }

    void prepare(const QString &reason) override
    {
        if (m_probe || state() != State::Ready)
            return;
        PgpoolRepairOptions dry = m_options;
        dry.reason = reason.trimmed();
        dry.dryRun = true;
        m_preparing = true;
        m_probe = new PgpoolRepair(m_inventory, dry, this);
        connect(m_probe, &PgpoolRepair::finished, this, [this](const PgpoolRepairResult &r) {
            m_preparing = false;
            m_seen = r;
            m_haveSeen = true;
            if (!r.ok)
                m_refusals = r.refusals.isEmpty() ? QStringList{r.error} : r.refusals;
            Q_EMIT preflightChanged();
        });
        m_probe->start();
    }

    QString preflightText() const override
    {
        QString t = PgpoolRepair(m_inventory, m_options).preflightText();
        t.replace(QStringLiteral(" (reason: )"), QString());
        t += u'\n' + tr("What each pgpool gets wrong (read now; nothing was changed)") + u'\n';
        if (!m_haveSeen) {
            t += m_preparing ? tr("reading every layer and opening a session through each "
                                  "pgpool…")
                             : tr("not read");
            return t;
        }
        t += seenText(m_seen);
        bool anything = false;
        for (const PgpoolDisagreement &d : m_seen.found)
            anything = anything || !d.problems.isEmpty();
        for (const QString &s : m_seen.sessions)
            anything = anything || !s.contains(u"sessions work");
        if (m_seen.ok && !anything)
            t += u'\n' + tr("Every pgpool agrees with the databases and answers sessions: "
                            "running the repair changes nothing.");
        return t;
    }

    void start(const QString &reason) override
    {
        if (state() != State::Ready || !m_refusals.isEmpty() || m_preparing)
            return;
        m_options.reason = reason.trimmed();
        m_repair = new PgpoolRepair(m_inventory, m_options, this);
        connect(m_repair, &PgpoolRepair::stepStarted, this, &OperationRun::stepStarted);
        connect(m_repair, &PgpoolRepair::stepCompleted, this, &OperationRun::stepFinished);
        connect(m_repair, &PgpoolRepair::progress, this, &OperationRun::progress);
        connect(m_repair, &PgpoolRepair::finished, this, [this](const PgpoolRepairResult &r) {
            m_result = r;
            QString summary;
            if (r.ok)
                summary = r.repairs.isEmpty()
                              ? tr("Every pgpool already agreed: nothing was changed.")
                              : tr("Every pgpool agrees on %1 again (%n repaired).", nullptr,
                                   int(r.repairs.size()))
                                    .arg(r.primary);
            else if (r.refused)
                summary = tr("Refused, nothing was changed: %1").arg(r.error);
            else if (state() == State::Cancelling)
                summary = tr("Cancelled: %1").arg(r.error);
            else
                summary = tr("Failed: %1").arg(r.error);
            setState(State::Finished);
            Q_EMIT finished(r.ok, summary, pgpoolRepairReportJson(r, m_options));
        });
        setState(State::Running);
        m_repair->start();
    }

    void cancel() override
    {
        if (state() == State::Ready) {
            if (m_probe && m_probe->isRunning())
                m_probe->cancel(tr("cancelled by the operator in the console"));
            setState(State::Finished);
            Q_EMIT finished(false, tr("Cancelled before it started; nothing was changed."), {});
            return;
        }
        if (state() != State::Running || !m_repair)
            return;
        setState(State::Cancelling);
        m_repair->cancel(tr("cancelled by the operator in the console"));
    }

    QString detailsText() const override
    {
        if (!m_repair)
            return {};
        QString t = tr("Before:") + u'\n' + seenText(m_result);
        if (!m_result.repairs.isEmpty())
            t += u'\n' + tr("Done:") + u'\n' + QStringLiteral("  • ") +
                 m_result.repairs.join(QStringLiteral("\n  • ")) + u'\n';
        t += u'\n' + tr("Steps:") + u'\n' + m_result.runbook.toText();
        return t;
    }

private:
    static QString seenText(const PgpoolRepairResult &r)
    {
        QString t;
        if (!r.primary.isEmpty())
            t += tr("The primary (as the servers say): %1").arg(r.primary) + u'\n';
        for (const PgpoolDisagreement &d : r.found) {
            t += QStringLiteral("  • ") + d.pgpool + QStringLiteral(": ") +
                 (d.problems.isEmpty() ? tr("agrees") : d.problems.join(QStringLiteral("; "))) +
                 u'\n';
        }
        for (const QString &s : r.sessions)
            t += QStringLiteral("  • ") + s + u'\n';
        return t;
    }

    Inventory m_inventory;
    PgpoolRepairOptions m_options;
    QStringList m_refusals;
    QPointer<PgpoolRepair> m_probe;
    bool m_preparing = false;
    PgpoolRepairResult m_seen;
    bool m_haveSeen = false;
    PgpoolRepair *m_repair = nullptr;
    PgpoolRepairResult m_result;
};

QString nodeState(const PostgresNodeState &n)
{
    if (!n.reachable)
        return QObject::tr("does not answer");
    if (n.role == u"primary")
        return QObject::tr("primary, timeline %1").arg(n.timeline);
    if (n.role == u"standby")
        return QObject::tr("standby, WAL receiver %1%2")
            .arg(n.walReceiverStatus.isEmpty() ? QObject::tr("stopped") : n.walReceiverStatus,
                 n.upstream.isEmpty() ? QString() : QObject::tr(" from %1").arg(n.upstream));
    return n.role.isEmpty() ? QObject::tr("role unknown") : n.role;
}

} // namespace

OperationRun *createRejoinRun(const Inventory &inventory, const QString &node, QObject *parent)
{
    return new RejoinRun(inventory, node, parent);
}

OperationRun *createPgpoolRepairRun(const Inventory &inventory, QObject *parent)
{
    return new PgpoolRepairRun(inventory, parent);
}

MaintenanceSpec rejoinWizardSpec(const ClusterSnapshot &snapshot)
{
    MaintenanceSpec spec;
    spec.objectName = QStringLiteral("rejoinWizard");
    spec.windowTitle = QObject::tr("Rejoin a Node");
    spec.chooseTitle = QObject::tr("Which node rejoins the primary?");
    spec.chooseHint = QObject::tr(
        "A former primary that came back, or a standby that stopped streaming, is made a standby "
        "of the primary again: by pg_rewind, or by a fresh clone when a rewind cannot work. The "
        "next page shows its timeline fork and the WAL at risk before anything changes.");
    spec.commitText = QObject::tr("&Rejoin");
    QStringList primaries;
    for (const PostgresNodeState &n : snapshot.postgres) {
        if (n.reachable && n.role == u"primary")
            primaries.append(n.name);
    }
    spec.situation =
        primaries.isEmpty()     ? QObject::tr("No node says it is primary now: there is nothing "
                                                  "to rejoin to (promote one first).")
        : primaries.size() == 1 ? QObject::tr("%1 is the primary now.").arg(primaries.constFirst())
                                : QObject::tr("%1 nodes say they are primary (%2): split brain. "
                                              "Rejoin the one that must lose its writes.")
                                      .arg(primaries.size())
                                      .arg(primaries.join(QStringLiteral(", ")));
    for (const PostgresNodeState &n : snapshot.postgres) {
        MaintenanceChoice c;
        c.key = n.name;
        const bool soloPrimary = primaries.size() == 1 && n.name == primaries.constFirst() &&
                                 n.reachable && n.role == u"primary";
        const bool streaming = n.reachable && n.role == u"standby" &&
                               n.walReceiverStatus == u"streaming" && primaries.size() == 1 &&
                               n.upstream == primaries.constFirst();
        c.offered = !soloPrimary && !streaming;
        c.suggested = c.offered;
        c.icon = !n.reachable           ? QStringLiteral("critical")
                 : n.role == u"primary" ? QStringLiteral("primary")
                 : streaming            ? QStringLiteral("standby")
                                        : QStringLiteral("warning");
        c.label = QObject::tr("%1 on %2 — %3").arg(n.name, n.host, nodeState(n));
        if (soloPrimary)
            c.label += QObject::tr(" (the primary: not offered)");
        else if (streaming)
            c.label += QObject::tr(" (streams: nothing to rejoin)");
        spec.choices.append(c);
    }
    spec.noChoiceText = QObject::tr("Every standby streams from the primary: there is nothing to "
                                    "rejoin.");
    return spec;
}

MaintenanceSpec pgpoolRepairWizardSpec(const ClusterSnapshot &snapshot,
                                       const QString &pgpoolService)
{
    MaintenanceSpec spec;
    spec.objectName = QStringLiteral("pgpoolRepairWizard");
    spec.windowTitle = QObject::tr("Repair the pgpools");
    spec.chooseTitle = QObject::tr("Bring every pgpool in line with the databases");
    spec.chooseHint = QObject::tr(
        "pgpool only follows: the servers say who is primary. Instances that detached a serving "
        "backend, or still send writes to a former primary, are corrected through PCP; the "
        "databases are not touched.");
    spec.commitText = QObject::tr("&Repair");
    QString primary;
    const QList<PgpoolDisagreement> found =
        PgpoolRepair::disagreements(snapshot, pgpoolService, &primary);
    QStringList lines;
    lines.append(primary.isEmpty()
                     ? QObject::tr("Not exactly one server says it is primary: "
                                   "the repair will refuse.")
                     : QObject::tr("%1 is the primary (as the servers say).").arg(primary));
    for (const PgpoolDisagreement &d : found)
        lines.append(
            QStringLiteral("• ") + d.pgpool + QStringLiteral(": ") +
            (d.problems.isEmpty() ? QObject::tr("agrees") : d.problems.join(QStringLiteral("; "))));
    if (found.isEmpty())
        lines.append(QObject::tr("No pgpool instance has been read yet."));
    spec.situation = QObject::tr("As last read:") + u'\n' + lines.join(u'\n');
    return spec;
}

} // namespace Pilothouse
