#include "app/maintenanceruns.h"

#include "app/certs/certificaterotation.h"
#include "app/operations/pgpoolrepair.h"
#include "app/operations/rejoin.h"
#include "app/provision/provisioning.h"

#include <QFile>
#include <QJsonObject>
#include <QPointer>

namespace Pilothouse {
namespace {

// An engine operation with a dry run (Rejoin, PgpoolRepair) as an
// OperationRun: prepare() runs the dry run for the preflight, start() the
// real one; both share the engine's options, steps and cancel. The
// subclass says what the dry run showed and what a success means.
template<typename Engine, typename Options, typename Outcome>
class DryRunFirst : public OperationRun
{
public:
    DryRunFirst(Inventory inventory, Options options, QObject *parent)
        : OperationRun(parent)
        , m_inventory(std::move(inventory))
        , m_options(std::move(options))
    {}

    ~DryRunFirst() override
    {
        // A dry run still reading when the wizard goes back or closes: stop it
        // (it has changed nothing; its lock lease expires if the cancel
        // cannot finish).
        if (m_probe && m_probe->isRunning())
            m_probe->cancel(QStringLiteral("the console's wizard was closed"));
    }

    QStringList refusals() const override { return m_refusals; }
    bool isPreparing() const override { return m_preparing; }

    void prepare(const QString &reason) override
    {
        if (m_probe || !m_refusals.isEmpty() || state() != State::Ready)
            return;
        Options dry = m_options;
        dry.reason = reason.trimmed();
        dry.dryRun = true;
        m_preparing = true;
        m_probe = new Engine(m_inventory, dry, this);
        watchProbe(m_probe);
        this->connect(m_probe, &Engine::finished, this, [this](const Outcome &r) {
            m_preparing = false;
            if (!r.ok)
                m_refusals = r.refusals.isEmpty() ? QStringList{r.error} : r.refusals;
            prepared(r);
            Q_EMIT preflightChanged();
        });
        m_probe->start();
    }

    void start(const QString &reason) override
    {
        if (state() != State::Ready || !m_refusals.isEmpty() || m_preparing)
            return;
        m_options.reason = reason.trimmed();
        m_engine = new Engine(m_inventory, m_options, this);
        this->connect(m_engine, &Engine::stepStarted, this, &OperationRun::stepStarted);
        this->connect(m_engine, &Engine::stepCompleted, this, &OperationRun::stepFinished);
        this->connect(m_engine, &Engine::progress, this, &OperationRun::progress);
        watchEngine(m_engine);
        this->connect(m_engine, &Engine::finished, this, [this](const Outcome &r) {
            m_result = r;
            QString summary;
            if (r.ok)
                summary = succeeded(r);
            else if (r.refused)
                summary = tr("Refused, nothing was changed: %1").arg(r.error);
            else if (state() == State::Cancelling)
                summary = tr("Cancelled: %1").arg(r.error);
            else
                summary = tr("Failed: %1").arg(r.error);
            setState(State::Finished);
            Q_EMIT finished(r.ok, summary, reportJson(r));
        });
        setState(State::Running);
        m_engine->start();
    }

    void cancel() override
    {
        if (state() == State::Ready) {
            if (m_probe && m_probe->isRunning())
                m_probe->cancel(tr("cancelled by the operator in the console"));
            finishBeforeStart();
            return;
        }
        if (state() != State::Running || !m_engine)
            return;
        setState(State::Cancelling);
        Q_EMIT observed(QStringLiteral("operation"),
                        tr("cancel asked: the running step finishes, then the cleanup runs"));
        m_engine->cancel(tr("cancelled by the operator in the console"));
    }

protected:
    // The dry run has finished (ok or not): keep what it showed.
    virtual void prepared(const Outcome &dryRun) = 0;
    // The summary of a run that succeeded.
    virtual QString succeeded(const Outcome &result) const = 0;
    virtual QJsonObject reportJson(const Outcome &result) const = 0;
    // Extra signals of the engine, for the dry run and the run.
    virtual void watchProbe(Engine *) {}
    virtual void watchEngine(Engine *) {}

    // The engine's own account of what it does, without the empty reason.
    QString engineText() const
    {
        QString t = Engine(m_inventory, m_options).preflightText();
        t.replace(QStringLiteral(" (reason: )"), QString());
        return t;
    }
    // The runbook's steps, failed ones first.
    static QString stepsText(const RunbookReport &report)
    {
        QString t;
        const QStringList failed = report.failedSteps();
        if (!failed.isEmpty())
            t += tr("Steps that failed:") + u'\n' + failed.join(u'\n') + QStringLiteral("\n\n");
        return t + tr("Steps:") + u'\n' + report.toText();
    }

    Inventory m_inventory;
    Options m_options;
    QStringList m_refusals;
    bool m_preparing = false;
    QPointer<Engine> m_probe;
    Engine *m_engine = nullptr;
    Outcome m_result;
};

// ---------------------------------------------------------------- rejoin

class RejoinRun final : public DryRunFirst<Rejoin, RejoinOptions, RejoinResult>
{
public:
    RejoinRun(Inventory inventory, const QString &node, QObject *parent)
        : DryRunFirst(std::move(inventory), optionsFor(node), parent)
    {
        if (node.isEmpty())
            m_refusals.append(tr("no node is chosen"));
    }

    QString kind() const override { return QStringLiteral("rejoin"); }
    QString title() const override { return tr("Rejoin %1").arg(m_options.node); }

    QString preflightText() const override
    {
        QString t = engineText() + QStringLiteral("\n") +
                    tr("The timeline fork (read now; nothing was changed)") + u'\n';
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

    QString detailsText() const override
    {
        if (!m_engine)
            return {};
        return (m_haveFork ? m_fork.toText() + u'\n' : QString()) + stepsText(m_result.runbook);
    }

protected:
    void prepared(const RejoinResult &r) override
    {
        if (r.ok)
            keepFork(r.fork);
    }

    QString succeeded(const RejoinResult &r) const override
    {
        return tr("%1 streams from %2 again (%3) after %4 s.")
            .arg(m_options.node, r.fork.primary, r.method)
            .arg(r.rejoinSeconds, 0, 'f', 1);
    }

    QJsonObject reportJson(const RejoinResult &r) const override
    {
        return rejoinReportJson(r, m_options);
    }

    void watchProbe(Rejoin *probe) override
    {
        connect(probe, &Rejoin::forkRead, this, [this](const TimelineFork &fork) {
            keepFork(fork);
            Q_EMIT preflightChanged();
        });
    }

    void watchEngine(Rejoin *rejoin) override
    {
        connect(rejoin, &Rejoin::forkRead, this, [this](const TimelineFork &fork) {
            keepFork(fork);
            Q_EMIT observed(QStringLiteral("repmgr"),
                            fork.diverged
                                ? tr("%1 diverged at %2: %3 bytes of WAL past the fork; plan %4")
                                      .arg(fork.node, fork.forkLsn)
                                      .arg(fork.walAtRiskBytes)
                                      .arg(fork.plan)
                                : tr("%1 has not diverged; plan %2").arg(fork.node, fork.plan));
        });
    }

private:
    static RejoinOptions optionsFor(const QString &node)
    {
        RejoinOptions o;
        o.node = node;
        return o;
    }

    void keepFork(const TimelineFork &fork)
    {
        m_fork = fork;
        m_haveFork = true;
    }

    TimelineFork m_fork;
    bool m_haveFork = false;
};

// ---------------------------------------------------------------- pgpool repair

class PgpoolRepairRun final
    : public DryRunFirst<PgpoolRepair, PgpoolRepairOptions, PgpoolRepairResult>
{
public:
    PgpoolRepairRun(Inventory inventory, QObject *parent)
        : DryRunFirst(std::move(inventory), PgpoolRepairOptions{}, parent)
    {}

    QString kind() const override { return QStringLiteral("pgpool-repair"); }
    QString title() const override { return tr("Repair the pgpools"); }

    QString preflightText() const override
    {
        QString t = engineText() + u'\n' +
                    tr("What each pgpool gets wrong (read now; nothing was changed)") + u'\n';
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

    QString detailsText() const override
    {
        if (!m_engine)
            return {};
        QString t = tr("Before:") + u'\n' + seenText(m_result);
        if (!m_result.repairs.isEmpty())
            t += u'\n' + tr("Done:") + u'\n' + QStringLiteral("  • ") +
                 m_result.repairs.join(QStringLiteral("\n  • ")) + u'\n';
        return t + u'\n' + stepsText(m_result.runbook);
    }

protected:
    void prepared(const PgpoolRepairResult &r) override
    {
        m_seen = r;
        m_haveSeen = true;
    }

    QString succeeded(const PgpoolRepairResult &r) const override
    {
        return r.repairs.isEmpty() ? tr("Every pgpool already agreed: nothing was changed.")
                                   : tr("Every pgpool agrees on %1 again (%n repaired).", nullptr,
                                        int(r.repairs.size()))
                                         .arg(r.primary);
    }

    QJsonObject reportJson(const PgpoolRepairResult &r) const override
    {
        return pgpoolRepairReportJson(r, m_options);
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

    PgpoolRepairResult m_seen;
    bool m_haveSeen = false;
};

// ---------------------------------------------------------------- provisioning

class ProvisionRun final : public DryRunFirst<Provisioning, ProvisionOptions, ProvisionResult>
{
public:
    ProvisionRun(Inventory inventory, QObject *parent)
        : DryRunFirst(std::move(inventory), ProvisionOptions{}, parent)
    {}

    QString kind() const override { return QStringLiteral("provision"); }
    QString title() const override { return tr("Provision the hosts"); }

    QString preflightText() const override
    {
        QString t = engineText() + QStringLiteral("\n\n") +
                    tr("What would change (every host looked at now; nothing was changed)") + u'\n';
        if (!m_haveSeen)
            return t + (m_preparing ? tr("logging in to every host and looking…")
                                    : tr("not looked at"));
        t += changesText(m_seen, true);
        if (m_seen.ok && m_seen.changeCount() == 0 && !anythingWould(m_seen))
            t += u'\n' + tr("Every host and the Swarm are as wanted: running it changes nothing.");
        return t;
    }

    QString detailsText() const override
    {
        if (!m_engine)
            return {};
        return changesText(m_result, false) + u'\n' + stepsText(m_result.runbook);
    }

protected:
    void prepared(const ProvisionResult &r) override
    {
        m_seen = r;
        m_haveSeen = true;
    }

    QString succeeded(const ProvisionResult &r) const override
    {
        return r.nothingChanged()
                   ? tr("Every host and the Swarm were already as wanted: nothing was changed.")
                   : tr("Provisioned: %n change(s); the hosts are a Swarm ready for the stack.",
                        nullptr, r.changeCount());
    }

    QJsonObject reportJson(const ProvisionResult &r) const override
    {
        return provisionReportJson(r);
    }

private:
    static bool anythingWould(const ProvisionResult &r)
    {
        bool any = !r.clusterWould.isEmpty();
        for (const ProvisionHostReport &h : r.hosts)
            any = any || !h.would.isEmpty();
        return any;
    }

    static QString changesText(const ProvisionResult &r, bool plan)
    {
        QString t;
        auto bullets = [&t](const QString &prefix, const QStringList &items) {
            for (const QString &i : items)
                t += QStringLiteral("    %1 %2\n").arg(prefix, i);
        };
        for (const ProvisionHostReport &h : r.hosts) {
            t += QStringLiteral("  • %1").arg(h.host);
            if (h.sshPortBefore)
                t += tr(" (SSH on port %1)").arg(plan ? h.sshPortBefore : h.sshPortAfter);
            if (!h.error.isEmpty())
                t += QStringLiteral(": ") + tr("stopped at %1").arg(h.error);
            t += u'\n';
            bullets(tr("changed:"), h.changed);
            bullets(tr("would:"), h.would);
            if (h.changed.isEmpty() && h.would.isEmpty() && h.error.isEmpty())
                t += QStringLiteral("    ") +
                     tr("as wanted (%n check(s))", nullptr, int(h.ok.size())) + u'\n';
        }
        t += QStringLiteral("  • ") + tr("the Swarm") + u'\n';
        bullets(tr("changed:"), r.clusterChanged);
        bullets(tr("would:"), r.clusterWould);
        if (r.clusterChanged.isEmpty() && r.clusterWould.isEmpty())
            t += QStringLiteral("    ") +
                 (r.clusterOk.isEmpty()
                      ? tr("not reached")
                      : tr("as wanted (%n check(s))", nullptr, int(r.clusterOk.size()))) +
                 u'\n';
        if (!r.previousRun.isEmpty())
            t += tr("Resuming: %1").arg(r.previousRun) + u'\n';
        return t;
    }

    ProvisionResult m_seen;
    bool m_haveSeen = false;
};

// ---------------------------------------------------------------- certificates

class CertificateRotationRun final
    : public DryRunFirst<CertificateRotation, CertificateRotationOptions, CertificateRotationResult>
{
public:
    CertificateRotationRun(Inventory inventory, CertificateRotationOptions options,
                           const QStringList &unreadable, QObject *parent)
        : DryRunFirst(std::move(inventory), std::move(options), parent)
    {
        m_refusals = unreadable; // a file that cannot be read: nothing to check
    }

    QString kind() const override { return QStringLiteral("certificate"); }
    QString title() const override
    {
        return rotating() ? tr("Rotate the TLS certificate to %1").arg(m_options.certificateFile)
                          : tr("Roll back the TLS certificate");
    }

    QString preflightText() const override
    {
        QString t =
            engineText() + u'\n' + tr("What was found (read now; nothing was changed)") + u'\n';
        if (!m_haveSeen)
            return t + (m_preparing ? tr("checking the certificate, reading every HAProxy…")
                                    : tr("not read"));
        return t + seenText(m_seen);
    }

    QString detailsText() const override
    {
        if (!m_engine)
            return {};
        QString t = seenText(m_result);
        for (const HaproxyCertificateState &s : m_result.instances)
            if (!s.servedAfter.isEmpty())
                t += QStringLiteral("  • ") +
                     tr("%1: a handshake now shows %2").arg(s.instance, s.servedAfter.left(16)) +
                     u'\n';
        return t + u'\n' + stepsText(m_result.runbook);
    }

protected:
    void prepared(const CertificateRotationResult &r) override
    {
        m_seen = r;
        m_haveSeen = true;
    }

    QString succeeded(const CertificateRotationResult &r) const override
    {
        int changed = 0;
        for (const HaproxyCertificateState &s : r.instances)
            changed += s.changed ? 1 : 0;
        if (changed == 0)
            return tr("Every HAProxy already served it: nothing was changed.");
        return rotating() ? tr("%n HAProxy task(s) serve the new certificate; it is kept as the "
                               "secret %1.",
                               nullptr, changed)
                                .arg(r.secretName)
                          : tr("%n HAProxy task(s) serve their previous certificate again.",
                               nullptr, changed);
    }

    QJsonObject reportJson(const CertificateRotationResult &r) const override
    {
        return certificateRotationReportJson(r);
    }

private:
    bool rotating() const { return m_options.mode == CertificateRotationOptions::Mode::Rotate; }

    static QString seenText(const CertificateRotationResult &r)
    {
        QString t;
        if (!r.bundle.sha256.isEmpty()) {
            const CertificateState &c = r.bundle.leaf;
            t += tr("The certificate given: %1, names %2, until %3 (%4 days), key %5, sha256 %6")
                     .arg(c.subject, c.subjectAltNames.join(QStringLiteral(" ")),
                          c.notAfter.toString(Qt::ISODate))
                     .arg(c.daysLeft)
                     .arg(r.bundle.keyType, r.bundle.sha256.left(16)) +
                 u'\n';
        }
        for (const QString &w : r.warnings)
            t += QStringLiteral("  ⚠ ") + w + u'\n';
        for (const HaproxyCertificateState &s : r.instances) {
            t += QStringLiteral("  • ") +
                 tr("%1 serves %2")
                     .arg(s.instance, s.before.isEmpty() ? tr("(unknown)") : s.before) +
                 u'\n';
            if (!s.previous.isEmpty())
                t += QStringLiteral("      ") + tr("kept for rollback: %1").arg(s.previous) + u'\n';
        }
        return t;
    }

    CertificateRotationResult m_seen;
    bool m_haveSeen = false;
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

OperationRun *createProvisionRun(const Inventory &inventory, QObject *parent)
{
    return new ProvisionRun(inventory, parent);
}

MaintenanceSpec provisionWizardSpec(const Inventory &inventory)
{
    MaintenanceSpec spec;
    spec.objectName = QStringLiteral("provisionWizard");
    spec.windowTitle = QObject::tr("Provision the Hosts");
    spec.chooseTitle = QObject::tr("Take the inventory's hosts to a Swarm");
    spec.chooseHint = QObject::tr(
        "Over SSH, host by host: the operator user, Docker, sshd on its final port, the firewall; "
        "then the Swarm, labels, networks and images. The preflight looks at every host and "
        "changes nothing.");
    spec.commitText = QObject::tr("&Provision");
    QStringList hosts;
    for (const InventoryHost &h : inventory.hosts)
        hosts.append(QStringLiteral("• %1 (%2)").arg(h.name, h.address));
    spec.situation =
        inventory.settings.provision.present
            ? QObject::tr("Hosts of %1:").arg(inventory.path) + u'\n' + hosts.join(u'\n')
            : QObject::tr("%1 has no pilothouse.provision section: the preflight will "
                          "refuse.")
                  .arg(inventory.path);
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

OperationRun *createCertificateRun(const Inventory &inventory, bool rollback,
                                   const QString &certificateFile, const QString &keyFile,
                                   QObject *parent)
{
    CertificateRotationOptions o;
    o.mode = rollback ? CertificateRotationOptions::Mode::Rollback
                      : CertificateRotationOptions::Mode::Rotate;
    QStringList unreadable;
    auto read = [&unreadable](const QString &path, QByteArray *into) {
        QFile f(path);
        if (f.size() > 1024 * 1024)
            unreadable.append(QObject::tr("%1 is larger than 1 MiB: not a PEM bundle").arg(path));
        else if (!f.open(QIODevice::ReadOnly))
            unreadable.append(QObject::tr("%1 cannot be read: %2").arg(path, f.errorString()));
        else
            *into = f.readAll();
    };
    if (!rollback) {
        o.certificateFile = certificateFile;
        read(certificateFile, &o.certificatePem);
        if (!keyFile.isEmpty()) {
            o.keyFile = keyFile;
            read(keyFile, &o.keyPem);
        }
    }
    return new CertificateRotationRun(inventory, o, unreadable, parent);
}

} // namespace Pilothouse
