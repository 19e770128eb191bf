#include "app/provision/provisioning.h"

#include "app/connectors/docker/dockerarchive.h"
#include "app/operations/audittrail.h"
#include "app/operations/operationcontext.h"
#include "app/provision/provisionscripts.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLockFile>
#include <QRegularExpression>
#include <QSaveFile>
#include <QStandardPaths>
#include <QTimer>
#include <QUrl>

namespace Pilothouse {
namespace {

qint64 nowMs()
{
    return QDateTime::currentMSecsSinceEpoch();
}

QJsonObject jsonObjectOf(const QByteArray &body)
{
    return QJsonDocument::fromJson(body).object();
}

QString bodyError(const DockerResponse &r)
{
    const QString message = jsonObjectOf(r.body).value(QStringLiteral("message")).toString();
    return QStringLiteral("HTTP %1: %2")
        .arg(r.status)
        .arg(message.isEmpty() ? QString::fromUtf8(r.body.left(300)).trimmed() : message);
}

QString percentEncoded(const QString &text)
{
    return QString::fromLatin1(QUrl::toPercentEncoding(text));
}

} // namespace

struct Provisioning::HostState
{
    ProvisionHostReport report;
    bool reached = false;
    bool engineMissing = false; // dry run: no dockerd to ask yet
};

bool ProvisionResult::nothingChanged() const
{
    return ok && changeCount() == 0;
}

int ProvisionResult::changeCount() const
{
    int n = int(clusterChanged.size());
    for (const ProvisionHostReport &h : hosts)
        n += int(h.changed.size());
    return n;
}

Provisioning::Provisioning(Inventory inventory, ProvisionOptions options, QObject *parent)
    : QObject(parent)
    , m_inventory(std::move(inventory))
    , m_options(std::move(options))
{
    qRegisterMetaType<ProvisionResult>();
    if (m_options.stateFile.isEmpty())
        m_options.stateFile = defaultStateFile(m_inventory);
    for (const InventoryHost &h : std::as_const(m_inventory.hosts)) {
        auto *s = new HostState;
        s->report.host = h.name;
        m_hosts.insert(h.name, s);
    }
}

Provisioning::~Provisioning()
{
    qDeleteAll(m_hosts);
}

QString Provisioning::defaultStateFile(const Inventory &inventory)
{
    return QStandardPaths::writableLocation(QStandardPaths::GenericDataLocation) +
           QStringLiteral("/Pilothouse/provision/") + AuditTrail::fileStem(inventory) +
           QStringLiteral(".json");
}

Provisioning::HostState &Provisioning::state(const QString &host)
{
    return *m_hosts.value(host);
}

QString Provisioning::hostAddress(const QString &host) const
{
    const InventoryHost *h = m_inventory.host(host);
    return h ? h->address : host;
}

QString Provisioning::sshUser(const QString &host) const
{
    const InventoryHost *h = m_inventory.host(host);
    return h ? h->user : QString();
}

bool Provisioning::swarmNotYet() const
{
    return engineMissing() || (m_options.dryRun && m_clusterId.isEmpty());
}

bool Provisioning::engineMissing() const
{
    for (const HostState *s : std::as_const(m_hosts))
        if (s->engineMissing || !s->reached)
            return true;
    return false;
}

void Provisioning::note(const QString &host, const QString &step, const QByteArray &standardOutput)
{
    const ProvisionScripts::Findings f = ProvisionScripts::parseFindings(standardOutput);
    ProvisionHostReport &r = state(host).report;
    for (const QString &x : f.ok)
        r.ok.append(step + QStringLiteral(": ") + x);
    for (const QString &x : f.changed)
        r.changed.append(step + QStringLiteral(": ") + x);
    for (const QString &x : f.would)
        r.would.append(step + QStringLiteral(": ") + x);
    if (!f.changed.isEmpty())
        m_changed = true;
}

void Provisioning::noteCluster(const QString &kind, const QString &text)
{
    if (kind == u"changed") {
        m_result.clusterChanged.append(text);
        m_changed = true;
    } else if (kind == u"would") {
        m_result.clusterWould.append(text);
    } else {
        m_result.clusterOk.append(text);
    }
}

// ---------------------------------------------------------------- run

QString Provisioning::preflightText() const
{
    const ProvisionSettings &p = m_inventory.settings.provision;
    QStringList hosts;
    for (const InventoryHost &h : std::as_const(m_inventory.hosts))
        hosts.append(QStringLiteral("%1 (%2)").arg(h.name, h.address));
    QStringList lines;
    lines.append(QStringLiteral("Provision %1 (reason: %2)")
                     .arg(hosts.join(QStringLiteral(", ")), m_options.reason));
    lines.append(
        QStringLiteral("Per host, all at once; a host that fails stops only its own steps:"));
    lines.append(QStringLiteral("  1. log in over SSH on port %1, else %2")
                     .arg(m_inventory.hosts.isEmpty() ? 0 : m_inventory.hosts.constFirst().sshPort)
                     .arg(p.initialSshPort));
    lines.append(QStringLiteral("  2. check the system: Debian 12, 2 cores, 2 GiB, 5 GiB free"));
    if (!p.operatorUser.isEmpty())
        lines.append(
            QStringLiteral("  3. the operator user %1 with passwordless sudo and the console's key")
                .arg(p.operatorUser));
    lines.append(
        QStringLiteral("  4. Docker: docker.io, /etc/docker/daemon.json, dockerd running"));
    lines.append(
        QStringLiteral("  5. sshd moved to port %1 (a new login proven before the old port closes)")
            .arg(m_inventory.hosts.isEmpty() ? 0 : m_inventory.hosts.constFirst().sshPort));
    QStringList open;
    for (int port : p.openPorts)
        open.append(QString::number(port));
    lines.append(
        QStringLiteral("  6. the nftables firewall: SSH, Swarm 2377/7946/4789%1, nothing else")
            .arg(open.isEmpty() ? QString()
                                : QStringLiteral(", ") + open.join(QStringLiteral(", "))));
    lines.append(
        QStringLiteral("Then the Swarm, once every host is ready: init on %1, the others joined as "
                       "managers%2%3")
            .arg(m_inventory.hosts.isEmpty() ? QString() : m_inventory.hosts.constFirst().name,
                 p.nodeLabel.isEmpty() ? QString() : QStringLiteral(", label %1").arg(p.nodeLabel),
                 p.networks.isEmpty()
                     ? QString()
                     : QStringLiteral(", overlay %1").arg(p.networks.join(QStringLiteral(", ")))));
    const ClusterSettings &c = m_inventory.settings;
    if (!c.glusterVolume.isEmpty())
        lines.append(
            QStringLiteral(
                "GlusterFS: glusterd on every host (ports 24007-24008 and 49152-49251 "
                "opened), the replica volume %1 over the inventory's bricks, mounted at %2")
                .arg(c.glusterVolume, c.glusterMount));
    if (!p.imageArchive.isEmpty())
        lines.append(
            QStringLiteral("Images: %1 loaded where a tag is missing").arg(p.imageArchive));
    lines.append(QStringLiteral("Every step looks first: what is already so is left alone."));
    return lines.join(u'\n');
}

void Provisioning::start()
{
    if (m_running || m_runbook)
        return;
    m_running = true;
    m_result = ProvisionResult{};
    m_result.dryRun = m_options.dryRun;
    m_result.stateFile = m_options.stateFile;
    m_startedMs = nowMs();
    readPreviousState();
    const QString operation =
        m_options.dryRun ? QStringLiteral("provision (dry run)") : QStringLiteral("provision");
    // No etcd before the cluster exists: the trail is the local file alone,
    // and the lock a local lock file.
    m_audit = new AuditTrail(AuditTrail::defaultFilePath(m_inventory), this);
    m_context =
        new OperationContext(m_inventory, m_audit, nullptr, operation, m_options.reason, this);
    m_runbook = m_context->runbookFor(this, buildTree(), &Provisioning::runbookFinished);
    m_runbook->start();
}

void Provisioning::cancel(const QString &why)
{
    if (m_runbook && m_running)
        m_runbook->cancel(why);
}

RunbookNode Provisioning::buildTree()
{
    auto bind = [this](void (Provisioning::*member)(Done)) {
        return [this, member](Done done) {
            (this->*member)(std::move(done));
        };
    };
    std::vector<RunbookNode> preflight;
    preflight.push_back(okStep(QStringLiteral("inventory, key and image archive"), 60000,
                               bind(&Provisioning::checkLocal)));
    preflight.push_back(
        okStep(QStringLiteral("open the audit trail"), 15000, bind(&Provisioning::openAudit)));

    std::vector<RunbookNode> hosts;
    for (const InventoryHost &h : std::as_const(m_inventory.hosts))
        hosts.push_back(hostTree(h.name));

    std::vector<RunbookNode> swarm;
    swarm.push_back(okStep(QStringLiteral("init on the first host"), m_options.swarmTimeoutMs,
                           bind(&Provisioning::swarmInit)));
    swarm.push_back(okStep(QStringLiteral("join the others as managers"), m_options.swarmTimeoutMs,
                           bind(&Provisioning::swarmJoin)));
    swarm.push_back(okStep(QStringLiteral("every manager ready"), m_options.swarmTimeoutMs,
                           [this](Done done) { waitManagers(0, std::move(done)); }));
    swarm.push_back(okStep(QStringLiteral("node labels"), 60000, bind(&Provisioning::labelNodes)));
    swarm.push_back(
        okStep(QStringLiteral("overlay networks"), 60000, bind(&Provisioning::createNetworks)));

    // GlusterFS, when the inventory has it: the volume from the first host,
    // then mounted on every host.
    std::vector<RunbookNode> gluster;
    const ClusterSettings &settings = m_inventory.settings;
    if (!settings.glusterVolume.isEmpty() && !m_inventory.hosts.isEmpty()) {
        QStringList peers, bricks;
        for (const InventoryHost &h : std::as_const(m_inventory.hosts)) {
            if (h.name != m_inventory.hosts.constFirst().name)
                peers.append(h.address);
            bricks.append(h.address + u':' + settings.glusterBricks.value(h.name));
        }
        const QString first = m_inventory.hosts.constFirst().name;
        gluster.push_back(
            okStep(QStringLiteral("volume %1").arg(settings.glusterVolume),
                   m_options.scriptTimeoutMs, [this, first, peers, bricks](Done done) {
                       runScript(first, QStringLiteral("glusterfs volume"),
                                 ProvisionScripts::glusterVolume(m_inventory.settings.glusterVolume,
                                                                 peers, bricks),
                                 std::move(done));
                   }));
        std::vector<RunbookNode> mounts;
        for (const InventoryHost &h : std::as_const(m_inventory.hosts)) {
            const QString host = h.name;
            const QString address = h.address;
            mounts.push_back(okStep(host, 60000, [this, host, address](Done done) {
                const ClusterSettings &s = m_inventory.settings;
                runScript(host, QStringLiteral("glusterfs mount"),
                          ProvisionScripts::glusterMount(address, s.glusterVolume,
                                                         s.glusterMount.isEmpty()
                                                             ? QStringLiteral("/mnt/glusterfs")
                                                             : s.glusterMount,
                                                         s.glusterAppContent),
                          std::move(done));
            }));
        }
        gluster.push_back(RunbookNode::parallel(QStringLiteral("mounts"), std::move(mounts)));
    }

    std::vector<RunbookNode> images;
    for (const InventoryHost &h : std::as_const(m_inventory.hosts)) {
        const QString host = h.name;
        images.push_back(okStep(host, m_options.imageLoadTimeoutMs,
                                [this, host](Done done) { loadImages(host, std::move(done)); }));
    }

    std::vector<RunbookNode> root;
    root.push_back(RunbookNode::sequence(QStringLiteral("preflight"), std::move(preflight)));
    root.push_back(RunbookNode::parallel(QStringLiteral("hosts"), std::move(hosts),
                                         RunbookNode::ErrorPolicy::ContinueOnError));
    root.push_back(RunbookNode::sequence(QStringLiteral("swarm"), std::move(swarm)));
    if (!gluster.empty())
        root.push_back(RunbookNode::sequence(QStringLiteral("glusterfs"), std::move(gluster)));
    // One host after another: the archive goes over each host's SSH link.
    root.push_back(RunbookNode::sequence(QStringLiteral("images"), std::move(images)));
    return RunbookNode::sequence(QStringLiteral("provision"), std::move(root));
}

RunbookNode Provisioning::hostTree(const QString &host)
{
    const ProvisionSettings &p = m_inventory.settings.provision;
    const int scriptMs = m_options.scriptTimeoutMs;
    auto script = [this, host](const QString &what, std::function<QString()> make) {
        return [this, host, what, make](Done done) {
            runScript(host, what, make(), std::move(done));
        };
    };
    std::vector<RunbookNode> steps;
    steps.push_back(okStep(QStringLiteral("reach"), 2 * m_options.connectTimeoutMs + 5000,
                           [this, host](Done done) { reach(host, std::move(done)); }));
    steps.push_back(okStep(QStringLiteral("system"), 60000, script(QStringLiteral("system"), [] {
                               return ProvisionScripts::checkSystem();
                           })));
    if (!p.operatorUser.isEmpty())
        steps.push_back(okStep(QStringLiteral("operator user"), scriptMs,
                               script(QStringLiteral("operator user"), [this] {
                                   return ProvisionScripts::operatorUser(
                                       m_inventory.settings.provision.operatorUser, m_publicKey);
                               })));
    steps.push_back(
        okStep(QStringLiteral("docker"), scriptMs, script(QStringLiteral("docker"), [this, host] {
                   return ProvisionScripts::docker(ProvisionScripts::daemonJson(
                       m_inventory.settings.provision.dockerDaemon, host));
               })));
    steps.push_back(okStep(QStringLiteral("sshd port"), 4 * scriptMs / 3,
                           [this, host](Done done) { moveSshd(host, std::move(done)); }));
    steps.push_back(okStep(QStringLiteral("firewall"), scriptMs,
                           script(QStringLiteral("firewall"), [this, host] {
                               const InventoryHost *h = m_inventory.host(host);
                               return ProvisionScripts::firewall(ProvisionScripts::firewallRuleset(
                                   h ? h->sshPort : 22, m_inventory.settings.provision.openPorts,
                                   !m_inventory.settings.glusterVolume.isEmpty()));
                           })));
    if (!m_inventory.settings.glusterVolume.isEmpty())
        steps.push_back(okStep(QStringLiteral("glusterd"), scriptMs,
                               script(QStringLiteral("glusterd"), [this, host] {
                                   return ProvisionScripts::glusterDaemon(
                                       m_inventory.settings.glusterBricks.value(host));
                               })));
    return RunbookNode::sequence(host, std::move(steps), RunbookNode::ErrorPolicy::SkipRestOnError);
}

void Provisioning::runbookFinished(const RunbookReport &report)
{
    m_result.runbook = report;
    m_result.durationSeconds = double(nowMs() - m_startedMs) / 1000.0;
    RunbookVerdict::of(report, m_changed).applyTo(m_result);
    for (const InventoryHost &h : std::as_const(m_inventory.hosts)) {
        HostState &s = state(h.name);
        s.report.sshPortAfter = s.reached ? m_context->sshPort(h.name) : 0;
        for (const RunbookStepReport &step : report.steps) {
            if (step.path.startsWith(QStringLiteral("provision/hosts/%1/").arg(h.name)) &&
                (step.outcome == RunbookOutcome::Failed ||
                 step.outcome == RunbookOutcome::TimedOut) &&
                s.report.error.isEmpty())
                s.report.error = step.name + QStringLiteral(": ") + step.message;
        }
        m_result.hosts.append(s.report);
    }
    writeState(report);
    m_context->closeAudit(
        m_auditOpened, QStringLiteral("hosts"), QStringLiteral("provision finished"),
        m_result.ok ? QStringLiteral("succeeded: %1 change(s)").arg(m_result.changeCount())
                    : (m_result.refused ? QString() : QStringLiteral("failed: ")) + m_result.error,
        m_result.ok, [this] {
            m_lockFile.reset();
            m_running = false;
            Q_EMIT finished(m_result);
        });
}

// ---------------------------------------------------------------- state file

void Provisioning::readPreviousState()
{
    QFile file(m_options.stateFile);
    if (!file.open(QIODevice::ReadOnly))
        return;
    const QJsonObject last = QJsonDocument::fromJson(file.readAll()).object();
    if (last.isEmpty() || last.value(QStringLiteral("outcome")).toString() == u"succeeded")
        return;
    QStringList where;
    for (const QJsonValue &v : last.value(QStringLiteral("stopped_at")).toArray())
        where.append(v.toString());
    m_result.previousRun =
        QStringLiteral("the run of %1 %2%3")
            .arg(last.value(QStringLiteral("finished_at")).toString(),
                 last.value(QStringLiteral("outcome")).toString(),
                 where.isEmpty() ? QString()
                                 : QStringLiteral(" at ") + where.join(QStringLiteral("; ")));
}

void Provisioning::writeState(const RunbookReport &report)
{
    if (m_options.dryRun)
        return; // a plan changes nothing, so where the last real run stopped still holds
    QJsonObject o;
    o.insert(QStringLiteral("inventory"), m_inventory.path);
    o.insert(QStringLiteral("finished_at"), QDateTime::currentDateTimeUtc().toString(Qt::ISODate));
    o.insert(QStringLiteral("outcome"), runbookOutcomeName(report.outcome));
    QJsonArray stoppedAt; // "provision/hosts/swarm-03/reach: why"
    for (const RunbookStepReport &s : report.steps) {
        if (s.kind == RunbookStepReport::Kind::Step &&
            (s.outcome == RunbookOutcome::Failed || s.outcome == RunbookOutcome::TimedOut))
            stoppedAt.append(QString(s.path + QStringLiteral(": ") + s.message));
    }
    o.insert(QStringLiteral("stopped_at"), stoppedAt);
    QJsonObject steps;
    for (const RunbookStepReport &s : report.steps) {
        if (s.kind == RunbookStepReport::Kind::Step)
            steps.insert(s.path, runbookOutcomeName(s.outcome));
    }
    o.insert(QStringLiteral("steps"), steps);
    QJsonObject ports;
    for (const ProvisionHostReport &h : std::as_const(m_result.hosts))
        ports.insert(h.host, h.sshPortAfter);
    o.insert(QStringLiteral("ssh_ports"), ports);
    QDir().mkpath(QFileInfo(m_options.stateFile).absolutePath());
    QSaveFile file(m_options.stateFile);
    if (file.open(QIODevice::WriteOnly)) {
        file.write(QJsonDocument(o).toJson());
        file.commit();
    }
}

// ---------------------------------------------------------------- preflight

void Provisioning::checkLocal(Done done)
{
    const ProvisionSettings &p = m_inventory.settings.provision;
    QStringList refusals;
    if (m_options.reason.trimmed().isEmpty())
        refusals.append(QStringLiteral("a reason is required (it goes to the audit trail)"));
    if (!p.present)
        refusals.append(
            QStringLiteral("%1 has no pilothouse.provision section: nothing says how to "
                           "provision its hosts")
                .arg(m_inventory.path));
    if (m_inventory.hosts.isEmpty())
        refusals.append(QStringLiteral("%1 names no host").arg(m_inventory.path));
    QStringList keys;
    for (const InventoryHost &h : std::as_const(m_inventory.hosts)) {
        if (h.keyFile.isEmpty()) {
            refusals.append(QStringLiteral("%1: no ansible_ssh_private_key_file: the operator user "
                                           "needs the console's public key")
                                .arg(h.name));
            continue;
        }
        QFile pub(h.keyFile + QStringLiteral(".pub"));
        if (!pub.open(QIODevice::ReadOnly)) {
            refusals.append(
                QStringLiteral("%1: cannot read %2 (%3); write it with ssh-keygen -y -f %4 > %2")
                    .arg(h.name, pub.fileName(), pub.errorString(), h.keyFile));
            continue;
        }
        const QString key = QString::fromUtf8(pub.readAll()).trimmed();
        if (!key.startsWith(QLatin1String("ssh-")) && !key.startsWith(QLatin1String("ecdsa-")))
            refusals.append(QStringLiteral("%1 is not an OpenSSH public key").arg(pub.fileName()));
        else
            keys.append(key);
    }
    if (!m_inventory.settings.glusterVolume.isEmpty()) {
        for (const InventoryHost &h : std::as_const(m_inventory.hosts)) {
            const QString brick = m_inventory.settings.glusterBricks.value(h.name);
            if (!brick.startsWith(u'/') || brick.contains(u' '))
                refusals.append(
                    QStringLiteral(
                        "pilothouse.glusterfs.bricks gives %1 %2: an absolute path without "
                        "spaces is needed")
                        .arg(h.name, brick.isEmpty() ? QStringLiteral("no brick") : brick));
        }
    }
    keys.removeDuplicates();
    if (keys.size() > 1)
        refusals.append(QStringLiteral("the hosts use different keys; the operator user gets one: "
                                       "give every host the same ansible_ssh_private_key_file"));
    m_publicKey = keys.value(0);
    if (!p.imageArchive.isEmpty()) {
        const Result<QStringList> tags = DockerArchive::savedImageTags(p.imageArchive);
        if (!tags)
            refusals.append(tags.error().toString());
        else
            m_imageTags = tags.value();
    }
    if (!refusals.isEmpty()) {
        done(false, refusals.join(QStringLiteral("; ")));
        return;
    }
    if (!m_options.dryRun) {
        const QString lockPath = m_options.stateFile + QStringLiteral(".lock");
        QDir().mkpath(QFileInfo(lockPath).absolutePath());
        m_lockFile = std::make_unique<QLockFile>(lockPath);
        m_lockFile->setStaleLockTime(0);
        if (!m_lockFile->tryLock(0)) {
            qint64 pid = 0;
            QString hostName, app;
            m_lockFile->getLockInfo(&pid, &hostName, &app);
            m_lockFile.reset();
            done(false,
                 QStringLiteral("another provisioning of this cluster runs (process %1 on %2; "
                                "lock %3)")
                     .arg(pid)
                     .arg(hostName, lockPath));
            return;
        }
    }
    QStringList notes;
    notes.append(QStringLiteral("%1 host(s)").arg(m_inventory.hosts.size()));
    if (!m_imageTags.isEmpty())
        notes.append(
            QStringLiteral("%1 image tag(s) in %2").arg(m_imageTags.size()).arg(p.imageArchive));
    if (!m_result.previousRun.isEmpty())
        notes.append(QStringLiteral("resuming after %1").arg(m_result.previousRun));
    done(true, notes.join(QStringLiteral("; ")));
}

void Provisioning::openAudit(Done done)
{
    m_context->openAudit(true, QStringLiteral("hosts"),
                         m_options.dryRun ? QStringLiteral("provision --dry-run")
                                          : QStringLiteral("provision"),
                         [this, done](bool ok, const QString &note) {
                             m_auditOpened = ok && m_context->audit();
                             done(ok, note);
                         });
}

// ---------------------------------------------------------------- one host

void Provisioning::tryPort(const QString &host, int port, std::function<void(bool, QString)> then)
{
    m_context->useSshPort(host, port);
    m_context->ssh(host, QStringLiteral("true"), m_options.connectTimeoutMs,
                   [then](const Result<SshCommandResult> &r) {
                       then(r && r.value().exitCode == 0, OperationContext::describe(r));
                   });
}

void Provisioning::reach(const QString &host, Done done)
{
    const InventoryHost *h = m_inventory.host(host);
    const int target = h->sshPort;
    const int initial = m_inventory.settings.provision.initialSshPort;
    tryPort(host, target, [this, host, target, initial, done](bool ok, const QString &why) {
        HostState &s = state(host);
        if (ok) {
            s.reached = true;
            s.report.sshPortBefore = target;
            done(true, QStringLiteral("%1 answers on port %2").arg(hostAddress(host)).arg(target));
            return;
        }
        if (initial == target) {
            done(false, QStringLiteral("%1:%2: %3").arg(hostAddress(host)).arg(target).arg(why));
            return;
        }
        tryPort(host, initial,
                [this, host, target, initial, why, done](bool ok2, const QString &why2) {
                    HostState &s2 = state(host);
                    if (!ok2) {
                        done(false,
                             QStringLiteral(
                                 "cannot log in on %1, neither on port %2 (%3) nor on port %4 (%5)")
                                 .arg(hostAddress(host))
                                 .arg(target)
                                 .arg(why)
                                 .arg(initial)
                                 .arg(why2));
                        return;
                    }
                    s2.reached = true;
                    s2.report.sshPortBefore = initial;
                    done(true, QStringLiteral("%1 answers on port %2 (sshd not moved to %3 yet)")
                                   .arg(hostAddress(host))
                                   .arg(initial)
                                   .arg(target));
                });
    });
}

void Provisioning::runScript(const QString &host, const QString &what, const QString &script,
                             Done done)
{
    const QString command = ProvisionScripts::asRoot(script, sshUser(host), m_options.dryRun);
    m_context->ssh(host, command, m_options.scriptTimeoutMs,
                   [this, host, what, done](const Result<SshCommandResult> &r) {
                       if (!r || r.value().exitCode != 0) {
                           if (r)
                               note(host, what, r.value().stdOut);
                           done(false, OperationContext::describe(r));
                           return;
                       }
                       note(host, what, r.value().stdOut);
                       const auto f = ProvisionScripts::parseFindings(r.value().stdOut);
                       if (what == u"docker") {
                           // Dry run: nothing to ask the Docker API yet.
                           for (const QString &w : f.would)
                               if (w.startsWith(QLatin1String("start dockerd")) ||
                                   w.startsWith(QLatin1String("install docker.io")))
                                   state(host).engineMissing = true;
                       }
                       done(true, f.summary());
                   });
}

void Provisioning::moveSshd(const QString &host, Done done)
{
    const int target = m_inventory.host(host)->sshPort;
    const int current = m_context->sshPort(host);
    if (current == target) {
        runScript(host, QStringLiteral("sshd port"), ProvisionScripts::sshdPorts({target}), done);
        return;
    }
    if (m_options.dryRun) {
        state(host).report.would.append(
            QStringLiteral("sshd port: move sshd from port %1 to %2 (the new port proven by a new "
                           "connection before the old one closes)")
                .arg(current)
                .arg(target));
        done(true, QStringLiteral("would: move sshd from port %1 to %2").arg(current).arg(target));
        return;
    }
    // 1. Listen on both; 2. log in anew on the target port; 3. close the old one.
    runScript(
        host, QStringLiteral("sshd port"), ProvisionScripts::sshdPorts({current, target}),
        [this, host, current, target, done](bool ok, const QString &detail) {
            if (!ok) {
                done(false, detail);
                return;
            }
            tryPort(
                host, target, [this, host, current, target, done](bool ok2, const QString &why) {
                    if (!ok2) {
                        // Back to the old port alone: the host stays reachable as before.
                        m_context->useSshPort(host, current);
                        runScript(host, QStringLiteral("sshd port"),
                                  ProvisionScripts::sshdPorts({current}),
                                  [done, target, current, why](bool, const QString &back) {
                                      done(false,
                                           QStringLiteral("a new login on port %1 failed (%2): "
                                                          "sshd put back on port %3 (%4)")
                                               .arg(target)
                                               .arg(why)
                                               .arg(current)
                                               .arg(back));
                                  });
                        return;
                    }
                    runScript(
                        host, QStringLiteral("sshd port"), ProvisionScripts::sshdPorts({target}),
                        [done, current, target](bool ok3, const QString &detail3) {
                            if (!ok3) {
                                done(false,
                                     QStringLiteral("port %1 proven, closing port %2 failed: %3")
                                         .arg(target)
                                         .arg(current)
                                         .arg(detail3));
                                return;
                            }
                            done(true, QStringLiteral("moved from port %1 to %2 (a new login on %2 "
                                                      "proven before %1 closed)")
                                           .arg(current)
                                           .arg(target));
                        });
                });
        });
}

// ---------------------------------------------------------------- swarm

void Provisioning::swarmInfo(std::function<void(bool, QString)> then)
{
    // Every host's engine: its Swarm state, node ID and cluster.
    auto pending = std::make_shared<int>(int(m_inventory.hosts.size()));
    auto errors = std::make_shared<QStringList>();
    for (const InventoryHost &h : std::as_const(m_inventory.hosts)) {
        const QString host = h.name;
        m_context->docker(
            host, "GET", QStringLiteral("/info"), {}, 15000,
            [this, host, pending, errors, then](const Result<DockerResponse> &r) {
                if (!r || r.value().status != 200) {
                    errors->append(QStringLiteral("%1: GET /info: %2")
                                       .arg(host, r ? bodyError(r.value()) : r.error().message));
                } else {
                    const QJsonObject swarm =
                        jsonObjectOf(r.value().body).value(QStringLiteral("Swarm")).toObject();
                    const QString local = swarm.value(QStringLiteral("LocalNodeState")).toString();
                    const QString cluster = swarm.value(QStringLiteral("Cluster"))
                                                .toObject()
                                                .value(QStringLiteral("ID"))
                                                .toString();
                    m_swarmState.insert(host, local);
                    m_swarmCluster.insert(host, cluster);
                    if (local == u"active")
                        m_nodeIds.insert(host, swarm.value(QStringLiteral("NodeID")).toString());
                    else
                        m_nodeIds.remove(host);
                    if (host == m_inventory.hosts.constFirst().name)
                        m_clusterId = local == u"active" ? cluster : QString();
                }
                if (--*pending == 0)
                    then(errors->isEmpty(), errors->join(QStringLiteral("; ")));
            });
    }
}

void Provisioning::swarmInit(Done done)
{
    const QString first = m_inventory.hosts.constFirst().name;
    if (engineMissing()) {
        // Only in a dry run: a real run stops at the host that failed.
        noteCluster(
            QStringLiteral("would"),
            QStringLiteral("swarm: init the swarm on %1 and join the other hosts as managers "
                           "(the engines do not run yet)")
                .arg(first));
        done(true, QStringLiteral("would: init on %1 (engines not running yet)").arg(first));
        return;
    }
    swarmInfo([this, first, done](bool ok, const QString &why) {
        if (!ok) {
            done(false, why);
            return;
        }
        const QString local = m_swarmState.value(first);
        if (local == u"active" && !m_clusterId.isEmpty()) {
            noteCluster(QStringLiteral("ok"),
                        QStringLiteral("swarm: %1 manages swarm %2").arg(first, m_clusterId));
            done(true, QStringLiteral("ok: %1 manages swarm %2").arg(first, m_clusterId));
            return;
        }
        if (local != u"inactive") {
            done(false,
                 QStringLiteral("%1 is in Swarm state '%2', not a manager: leave that swarm first "
                                "(docker swarm leave --force) or fix it")
                     .arg(first, local));
            return;
        }
        if (m_options.dryRun) {
            noteCluster(QStringLiteral("would"),
                        QStringLiteral("swarm: init the swarm on %1").arg(first));
            done(true, QStringLiteral("would: init the swarm on %1").arg(first));
            return;
        }
        const ProvisionSettings &p = m_inventory.settings.provision;
        const QString address = hostAddress(first) + QStringLiteral(":2377");
        QJsonObject body{{QStringLiteral("ListenAddr"), address},
                         {QStringLiteral("AdvertiseAddr"), address}};
        if (!p.swarmDefaultAddrPool.isEmpty())
            body.insert(QStringLiteral("DefaultAddrPool"), QJsonArray{p.swarmDefaultAddrPool});
        if (p.swarmMaskLength > 0)
            body.insert(QStringLiteral("SubnetSize"), p.swarmMaskLength);
        if (p.taskHistoryLimit >= 0)
            body.insert(QStringLiteral("Spec"),
                        QJsonObject{{QStringLiteral("Orchestration"),
                                     QJsonObject{{QStringLiteral("TaskHistoryRetentionLimit"),
                                                  p.taskHistoryLimit}}}});
        m_context->docker(
            first, "POST", QStringLiteral("/swarm/init"),
            QJsonDocument(body).toJson(QJsonDocument::Compact), 60000,
            [this, first, done](const Result<DockerResponse> &r) {
                if (!r || r.value().status != 200) {
                    done(false, QStringLiteral("POST /swarm/init on %1: %2")
                                    .arg(first, r ? bodyError(r.value()) : r.error().message));
                    return;
                }
                noteCluster(QStringLiteral("changed"),
                            QStringLiteral("swarm: initialised on %1").arg(first));
                // The cluster ID for the joins.
                swarmInfo([done, first](bool ok, const QString &why) {
                    done(ok, ok ? QStringLiteral("changed: initialised the swarm on %1").arg(first)
                                : why);
                });
            });
    });
}

void Provisioning::swarmJoin(Done done)
{
    if (swarmNotYet()) {
        QStringList others;
        for (int i = 1; i < m_inventory.hosts.size(); ++i)
            others.append(m_inventory.hosts.at(i).name);
        if (!others.isEmpty() && !engineMissing())
            noteCluster(QStringLiteral("would"), QStringLiteral("swarm: join %1 as managers")
                                                     .arg(others.join(QStringLiteral(", "))));
        done(true,
             QStringLiteral("would: join %1 as managers").arg(others.join(QStringLiteral(", "))));
        return;
    }
    const QString first = m_inventory.hosts.constFirst().name;
    m_context->docker(
        first, "GET", QStringLiteral("/swarm"), {}, 15000,
        [this, first, done](const Result<DockerResponse> &r) {
            if (!r || r.value().status != 200) {
                done(false, QStringLiteral("GET /swarm on %1: %2")
                                .arg(first, r ? bodyError(r.value()) : r.error().message));
                return;
            }
            const QString token = jsonObjectOf(r.value().body)
                                      .value(QStringLiteral("JoinTokens"))
                                      .toObject()
                                      .value(QStringLiteral("Manager"))
                                      .toString();
            if (token.isEmpty()) {
                done(false, QStringLiteral("%1 gave no manager join token").arg(first));
                return;
            }
            if (m_audit)
                m_audit->masker().addSecret(token);
            joinNext(1, token, done);
        });
}

void Provisioning::joinNext(int index, const QString &token, Done done)
{
    if (index >= m_inventory.hosts.size()) {
        done(true, QStringLiteral("every host is a member of swarm %1").arg(m_clusterId));
        return;
    }
    const QString host = m_inventory.hosts.at(index).name;
    const QString local = m_swarmState.value(host);
    const QString cluster = m_swarmCluster.value(host);
    if (local == u"active" && cluster == m_clusterId) {
        noteCluster(QStringLiteral("ok"), QStringLiteral("swarm: %1 is a member").arg(host));
        joinNext(index + 1, token, done);
        return;
    }
    if (local != u"inactive") {
        done(false,
             QStringLiteral("%1 is in Swarm state '%2'%3, not a member of %4's swarm %5: leave "
                            "that swarm first (docker swarm leave --force)")
                 .arg(host, local,
                      cluster.isEmpty() ? QString() : QStringLiteral(" (swarm %1)").arg(cluster),
                      m_inventory.hosts.constFirst().name, m_clusterId));
        return;
    }
    if (m_options.dryRun) {
        noteCluster(QStringLiteral("would"),
                    QStringLiteral("swarm: join %1 as a manager").arg(host));
        joinNext(index + 1, token, done);
        return;
    }
    const QString address = hostAddress(host) + QStringLiteral(":2377");
    const QString remote =
        hostAddress(m_inventory.hosts.constFirst().name) + QStringLiteral(":2377");
    const QJsonObject body{{QStringLiteral("ListenAddr"), address},
                           {QStringLiteral("AdvertiseAddr"), address},
                           {QStringLiteral("RemoteAddrs"), QJsonArray{remote}},
                           {QStringLiteral("JoinToken"), token}};
    m_context->docker(host, "POST", QStringLiteral("/swarm/join"),
                      QJsonDocument(body).toJson(QJsonDocument::Compact), 90000,
                      [this, host, index, token, done](const Result<DockerResponse> &r) {
                          if (!r || r.value().status != 200) {
                              done(false,
                                   QStringLiteral("POST /swarm/join on %1: %2")
                                       .arg(host, r ? bodyError(r.value()) : r.error().message));
                              return;
                          }
                          noteCluster(QStringLiteral("changed"),
                                      QStringLiteral("swarm: joined %1 as a manager").arg(host));
                          joinNext(index + 1, token, done);
                      });
}

void Provisioning::waitManagers(int attempt, Done done)
{
    if (swarmNotYet()) {
        done(true, QStringLiteral("would: wait for every manager to be Ready"));
        return;
    }
    const QString first = m_inventory.hosts.constFirst().name;
    m_context->docker(
        first, "GET", QStringLiteral("/nodes"), {}, 15000,
        [this, attempt, done](const Result<DockerResponse> &r) {
            // Each inventory host is the node that advertises its address;
            // its ID is what the labels are set on.
            QStringList ready, notReady;
            for (const InventoryHost &h : std::as_const(m_inventory.hosts)) {
                QString found;
                bool isReady = false;
                if (r && r.value().status == 200) {
                    for (const QJsonValue &v : QJsonDocument::fromJson(r.value().body).array()) {
                        const QJsonObject n = v.toObject();
                        const QJsonObject manager =
                            n.value(QStringLiteral("ManagerStatus")).toObject();
                        const QString addr =
                            manager.value(QStringLiteral("Addr")).toString().section(u':', 0, 0);
                        if (addr != h.address)
                            continue;
                        found = n.value(QStringLiteral("ID")).toString();
                        isReady =
                            n.value(QStringLiteral("Status"))
                                    .toObject()
                                    .value(QStringLiteral("State")) == QLatin1String("ready") &&
                            manager.value(QStringLiteral("Reachability")) ==
                                QLatin1String("reachable");
                        if (isReady)
                            break;
                    }
                }
                if (!found.isEmpty() && isReady)
                    m_nodeIds.insert(h.name, found);
                (isReady ? ready : notReady).append(h.name);
            }
            if (notReady.isEmpty()) {
                done(true, QStringLiteral("%1 managers Ready and reachable (%2)")
                               .arg(ready.size())
                               .arg(ready.join(QStringLiteral(", "))));
                return;
            }
            if (attempt >= 110) {
                done(false,
                     QStringLiteral(
                         "after %1 s %2 of %3 managers are Ready and reachable; not: %4%5")
                         .arg(attempt / 2)
                         .arg(ready.size())
                         .arg(m_inventory.hosts.size())
                         .arg(notReady.join(QStringLiteral(", ")),
                              r ? QString()
                                : QStringLiteral(" (GET /nodes: %1)").arg(r.error().message)));
                return;
            }
            QTimer::singleShot(500, this,
                               [this, attempt, done] { waitManagers(attempt + 1, done); });
        });
}

void Provisioning::labelNodes(Done done)
{
    if (m_inventory.settings.provision.nodeLabel.isEmpty()) {
        done(true, QStringLiteral("no node_label in the inventory: nothing to label"));
        return;
    }
    if (swarmNotYet()) {
        noteCluster(QStringLiteral("would"),
                    QStringLiteral("labels: set %1=<host name> on every node")
                        .arg(m_inventory.settings.provision.nodeLabel));
        done(true, QStringLiteral("would: label every node"));
        return;
    }
    labelNext(0, done);
}

void Provisioning::labelNext(int index, Done done)
{
    const QString label = m_inventory.settings.provision.nodeLabel;
    if (index >= m_inventory.hosts.size()) {
        done(true, QStringLiteral("%1 set on every node").arg(label));
        return;
    }
    const QString host = m_inventory.hosts.at(index).name;
    const QString id = m_nodeIds.value(host);
    if (id.isEmpty()) {
        if (m_options.dryRun) {
            noteCluster(QStringLiteral("would"),
                        QStringLiteral("labels: %1=%2 once it joined").arg(label, host));
            labelNext(index + 1, done);
        } else {
            done(false, QStringLiteral("%1 has no Swarm node ID").arg(host));
        }
        return;
    }
    const QString first = m_inventory.hosts.constFirst().name;
    m_context->docker(
        first, "GET", QStringLiteral("/nodes/%1").arg(id), {}, 15000,
        [this, first, host, id, label, index, done](const Result<DockerResponse> &r) {
            if (!r || r.value().status != 200) {
                done(false, QStringLiteral("GET /nodes/%1 (%2): %3")
                                .arg(id, host, r ? bodyError(r.value()) : r.error().message));
                return;
            }
            const QJsonObject node = jsonObjectOf(r.value().body);
            QJsonObject spec = node.value(QStringLiteral("Spec")).toObject();
            QJsonObject labels = spec.value(QStringLiteral("Labels")).toObject();
            if (labels.value(label).toString() == host) {
                noteCluster(QStringLiteral("ok"), QStringLiteral("labels: %1=%2").arg(label, host));
                labelNext(index + 1, done);
                return;
            }
            if (m_options.dryRun) {
                noteCluster(QStringLiteral("would"),
                            QStringLiteral("labels: set %1=%2").arg(label, host));
                labelNext(index + 1, done);
                return;
            }
            labels.insert(label, host);
            spec.insert(QStringLiteral("Labels"), labels);
            const qint64 version = node.value(QStringLiteral("Version"))
                                       .toObject()
                                       .value(QStringLiteral("Index"))
                                       .toInteger();
            m_context->docker(
                first, "POST", QStringLiteral("/nodes/%1/update?version=%2").arg(id).arg(version),
                QJsonDocument(spec).toJson(QJsonDocument::Compact), 15000,
                [this, host, label, index, done](const Result<DockerResponse> &u) {
                    if (!u || u.value().status != 200) {
                        done(false, QStringLiteral("labelling %1: %2")
                                        .arg(host, u ? bodyError(u.value()) : u.error().message));
                        return;
                    }
                    noteCluster(QStringLiteral("changed"),
                                QStringLiteral("labels: set %1=%2").arg(label, host));
                    labelNext(index + 1, done);
                });
        });
}

void Provisioning::createNetworks(Done done)
{
    if (m_inventory.settings.provision.networks.isEmpty()) {
        done(true, QStringLiteral("no networks in the inventory"));
        return;
    }
    if (swarmNotYet()) {
        noteCluster(QStringLiteral("would"),
                    QStringLiteral("networks: create the overlay network(s) %1")
                        .arg(m_inventory.settings.provision.networks.join(QStringLiteral(", "))));
        done(true, QStringLiteral("would: create the overlay networks"));
        return;
    }
    networkNext(0, done);
}

void Provisioning::networkNext(int index, Done done)
{
    const QStringList &networks = m_inventory.settings.provision.networks;
    if (index >= networks.size()) {
        done(true, QStringLiteral("%1 present").arg(networks.join(QStringLiteral(", "))));
        return;
    }
    const QString name = networks.at(index);
    const QString first = m_inventory.hosts.constFirst().name;
    m_context->docker(
        first, "GET", QStringLiteral("/networks/%1").arg(percentEncoded(name)), {}, 15000,
        [this, first, name, index, done](const Result<DockerResponse> &r) {
            if (r && r.value().status == 200) {
                const QJsonObject n = jsonObjectOf(r.value().body);
                if (n.value(QStringLiteral("Name")).toString() == name) {
                    const QString driver = n.value(QStringLiteral("Driver")).toString();
                    if (driver != u"overlay") {
                        done(false, QStringLiteral("network %1 exists with driver %2, not overlay")
                                        .arg(name, driver));
                        return;
                    }
                    noteCluster(QStringLiteral("ok"),
                                QStringLiteral("networks: %1 exists").arg(name));
                    networkNext(index + 1, done);
                    return;
                }
            } else if (!r || r.value().status != 404) {
                done(false, QStringLiteral("GET /networks/%1: %2")
                                .arg(name, r ? bodyError(r.value()) : r.error().message));
                return;
            }
            if (m_options.dryRun) {
                noteCluster(QStringLiteral("would"),
                            QStringLiteral("networks: create overlay %1").arg(name));
                networkNext(index + 1, done);
                return;
            }
            const QJsonObject body{
                {QStringLiteral("Name"), name},
                {QStringLiteral("Driver"), QStringLiteral("overlay")},
                {QStringLiteral("Attachable"), true},
                {QStringLiteral("CheckDuplicate"), true},
                {QStringLiteral("Labels"),
                 QJsonObject{{QStringLiteral("io.pilothouse.provisioned"), QStringLiteral("1")}}}};
            m_context->docker(
                first, "POST", QStringLiteral("/networks/create"),
                QJsonDocument(body).toJson(QJsonDocument::Compact), 30000,
                [this, name, index, done](const Result<DockerResponse> &c) {
                    if (!c || c.value().status != 201) {
                        done(false, QStringLiteral("creating network %1: %2")
                                        .arg(name, c ? bodyError(c.value()) : c.error().message));
                        return;
                    }
                    noteCluster(QStringLiteral("changed"),
                                QStringLiteral("networks: created overlay %1").arg(name));
                    networkNext(index + 1, done);
                });
        });
}

// ---------------------------------------------------------------- images

void Provisioning::probeTags(const QString &host, int index, std::shared_ptr<QStringList> missing,
                             std::function<void()> then)
{
    if (index >= m_imageTags.size()) {
        then();
        return;
    }
    const QString tag = m_imageTags.at(index);
    m_context->docker(host, "GET", QStringLiteral("/images/%1/json").arg(percentEncoded(tag)), {},
                      15000,
                      [this, host, index, missing, then, tag](const Result<DockerResponse> &r) {
                          if (!r || r.value().status != 200)
                              missing->append(tag);
                          probeTags(host, index + 1, missing, then);
                      });
}

void Provisioning::loadImages(const QString &host, Done done)
{
    const QString archive = m_inventory.settings.provision.imageArchive;
    if (archive.isEmpty()) {
        done(true,
             QStringLiteral("no image_archive in the inventory: images come from a registry"));
        return;
    }
    if (state(host).engineMissing || !state(host).reached) {
        state(host).report.would.append(
            QStringLiteral("images: load %1 image tag(s) from %2 (the engine does not run yet)")
                .arg(m_imageTags.size())
                .arg(archive));
        done(true, QStringLiteral("would: load %1 image tag(s)").arg(m_imageTags.size()));
        return;
    }
    auto missing = std::make_shared<QStringList>();
    probeTags(host, 0, missing, [this, host, archive, missing, done] {
        if (missing->isEmpty()) {
            state(host).report.ok.append(
                QStringLiteral("images: all %1 tag(s) of the archive present")
                    .arg(m_imageTags.size()));
            done(true, QStringLiteral("ok: all %1 tag(s) present").arg(m_imageTags.size()));
            return;
        }
        if (m_options.dryRun) {
            state(host).report.would.append(QStringLiteral("images: load %1 (missing: %2)")
                                                .arg(archive, missing->join(QStringLiteral(", "))));
            done(true, QStringLiteral("would: load %1 missing tag(s)").arg(missing->size()));
            return;
        }
        if (m_archive.isEmpty()) {
            QFile file(archive);
            if (!file.open(QIODevice::ReadOnly)) {
                done(false, QStringLiteral("%1: %2").arg(archive, file.errorString()));
                return;
            }
            m_archive = file.readAll();
        }
        const qint64 started = nowMs();
        m_context->docker(
            host, "POST", QStringLiteral("/images/load?quiet=1"), m_archive,
            m_options.imageLoadTimeoutMs,
            [this, host, missing, started, done](const Result<DockerResponse> &r) {
                if (!r || r.value().status != 200) {
                    done(false, QStringLiteral("POST /images/load on %1: %2")
                                    .arg(host, r ? bodyError(r.value()) : r.error().message));
                    return;
                }
                // A JSON stream; an error inside it still comes with HTTP 200.
                for (const QByteArray &line : r.value().body.split('\n')) {
                    const QJsonObject o = jsonObjectOf(line);
                    if (o.contains(QStringLiteral("error")) ||
                        o.contains(QStringLiteral("errorDetail"))) {
                        done(false, QStringLiteral("loading images on %1: %2")
                                        .arg(host, o.value(QStringLiteral("error")).toString()));
                        return;
                    }
                }
                const QString text =
                    QStringLiteral("images: loaded %1 missing tag(s) (%2 MB in %3 s)")
                        .arg(missing->size())
                        .arg(m_archive.size() / (1024 * 1024))
                        .arg(double(nowMs() - started) / 1000.0, 0, 'f', 1);
                state(host).report.changed.append(text);
                m_changed = true;
                done(true, QStringLiteral("changed: ") + text);
            });
    });
}

// ---------------------------------------------------------------- report

QJsonObject provisionReportJson(const ProvisionResult &result)
{
    auto list = [](const QStringList &l) {
        return QJsonArray::fromStringList(l);
    };
    QJsonArray hosts;
    for (const ProvisionHostReport &h : result.hosts) {
        hosts.append(QJsonObject{{QStringLiteral("host"), h.host},
                                 {QStringLiteral("ssh_port_before"), h.sshPortBefore},
                                 {QStringLiteral("ssh_port_after"), h.sshPortAfter},
                                 {QStringLiteral("changed"), list(h.changed)},
                                 {QStringLiteral("would"), list(h.would)},
                                 {QStringLiteral("ok"), list(h.ok)},
                                 {QStringLiteral("error"), h.error}});
    }
    return QJsonObject{{QStringLiteral("ok"), result.ok},
                       {QStringLiteral("refused"), result.refused},
                       {QStringLiteral("dry_run"), result.dryRun},
                       {QStringLiteral("error"), result.error},
                       {QStringLiteral("refusals"), list(result.refusals)},
                       {QStringLiteral("changes"), result.changeCount()},
                       {QStringLiteral("nothing_changed"), result.nothingChanged()},
                       {QStringLiteral("previous_run"), result.previousRun},
                       {QStringLiteral("state_file"), result.stateFile},
                       {QStringLiteral("hosts"), hosts},
                       {QStringLiteral("cluster_changed"), list(result.clusterChanged)},
                       {QStringLiteral("cluster_would"), list(result.clusterWould)},
                       {QStringLiteral("cluster_ok"), list(result.clusterOk)},
                       {QStringLiteral("seconds"), result.durationSeconds},
                       {QStringLiteral("runbook"), result.runbook.toJson()}};
}

} // namespace Pilothouse
