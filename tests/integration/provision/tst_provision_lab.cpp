// pilothouse provision from the start, on real hosts: the lab's bare-hosts
// mode gives three namespaced Debian hosts with sshd on port 22 and nothing
// else. The console's CLI plans (changing nothing), stops at a host whose
// sshd is down while the others go on, resumes once it is back, finds
// nothing to change on later runs, and then deploys the stack through the
// Docker API to a healthy cluster (`lab status`'s own checks).
// The console's wizard shows the plan first and finds nothing to change on
// the third run. Runs after every other lab test (it replaces the lab) and
// leaves it down.

#include "app/inventory/inventoryloader.h"
#include "app/maintenanceruns.h"
#include "ui/operations/maintenancewizard.h"
#include "ui/operations/operationrunpage.h"

#include <QAbstractButton>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

#include "tests/guisupport.h"
#include "tests/integration/labaccess.h"
#include <memory>

using namespace Pilothouse;

namespace {

const QString LabScript = QStringLiteral(PILOTHOUSE_SOURCE_DIR "/deploy-stacks/lab/lab");
const QString Binary = QStringLiteral(PILOTHOUSE_BINARY);
const QStringList Hosts{QStringLiteral("swarm-01"), QStringLiteral("swarm-02"),
                        QStringLiteral("swarm-03")};

QString labDir()
{
    const QString dir = qEnvironmentVariable("PILOTHOUSE_LAB_DIR");
    return dir.isEmpty() ? QStringLiteral("/var/lib/pilothouse-lab") : dir;
}

QString addressOf(const QString &host)
{
    return QStringLiteral("10.213.0.1") + host.right(1);
}

LabAccess::Run lab(const QStringList &args, int timeoutMs = 120000)
{
    return LabAccess::local(LabScript, args, timeoutMs);
}

// ssh with the lab key and its known_hosts (strict), as `user` on `port`.
LabAccess::Run sshAs(const QString &user, const QString &host, int port, const QString &command)
{
    return LabAccess::local(
        QStringLiteral("ssh"),
        {QStringLiteral("-i"), labDir() + QStringLiteral("/ssh/id_ed25519"), QStringLiteral("-o"),
         QStringLiteral("UserKnownHostsFile=") + labDir() + QStringLiteral("/ssh/known_hosts"),
         QStringLiteral("-o"), QStringLiteral("StrictHostKeyChecking=yes"), QStringLiteral("-o"),
         QStringLiteral("BatchMode=yes"), QStringLiteral("-o"), QStringLiteral("ConnectTimeout=5"),
         QStringLiteral("-o"), QStringLiteral("IdentitiesOnly=yes"), QStringLiteral("-p"),
         QString::number(port), user + u'@' + addressOf(host), command},
        20000);
}

// The engine of a lab host from the machine, through its socket.
LabAccess::Run docker(const QString &host, const QStringList &args)
{
    return LabAccess::local(
        QStringLiteral("/usr/bin/docker"),
        QStringList{QStringLiteral("-H"),
                    QStringLiteral("unix://%1/hosts/%2/run/docker.sock").arg(labDir(), host)} +
            args,
        30000);
}

struct Provision
{
    LabAccess::Run run;
    QJsonObject report;
};

Provision provision(const QString &inventory, const QStringList &extra = {})
{
    Provision p;
    p.run = LabAccess::local(Binary,
                             QStringList{QStringLiteral("provision"), QStringLiteral("--inventory"),
                                         inventory, QStringLiteral("--reason"),
                                         QStringLiteral("lab provisioning test"),
                                         QStringLiteral("--json")} +
                                 extra,
                             1500000);
    p.report = QJsonDocument::fromJson(p.run.out).object();
    return p;
}

QJsonObject hostReport(const QJsonObject &report, const QString &host)
{
    for (const QJsonValue &h : report.value(QStringLiteral("hosts")).toArray())
        if (h.toObject().value(QStringLiteral("host")).toString() == host)
            return h.toObject();
    return {};
}

QString joined(const QJsonValue &list)
{
    QStringList out;
    for (const QJsonValue &v : list.toArray())
        out.append(v.toString());
    return out.join(QStringLiteral(" | "));
}

QByteArray describe(const Provision &p)
{
    return "exit " + QByteArray::number(p.run.exitCode) + "\n" + p.run.out.left(6000) +
           "\n--- stderr\n" + p.run.err.right(4000);
}

QAbstractButton *next(QWizard *w)
{
    QAbstractButton *commit = w->button(QWizard::CommitButton);
    return commit->isVisible() ? commit : w->button(QWizard::NextButton);
}

void shot(QWidget *w, const QString &name)
{
    QVERIFY(
        TestSupport::saveScreenshot(w, QStringLiteral("lab-provision-") + name, QSize(600, 400)));
}

// The console's wizard (Operations → "Provision the Hosts…") on the inventory.
std::unique_ptr<MaintenanceWizard> openWizard(const Inventory &inventory)
{
    auto wizard = std::make_unique<MaintenanceWizard>(
        provisionWizardSpec(inventory), [inventory](const QString &, QObject *owner) {
            return createProvisionRun(inventory, owner);
        });
    wizard->resize(1100, 800);
    wizard->show();
    return wizard;
}

} // namespace

class TestProvisionLab final : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_data;
    QString m_inventory;
    Inventory m_loaded;
    bool m_glusterWasEnabled = false;

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_data.isValid());
        // `--gluster` is remembered by the lab (gluster.enabled): put it back as found.
        m_glusterWasEnabled = QFile::exists(labDir() + QStringLiteral("/gluster.enabled"));
        // The audit trail and the provisioning state of this test, nowhere else.
        qputenv("XDG_DATA_HOME", m_data.path().toUtf8());
        const LabAccess::Run up = lab(
            {QStringLiteral("up"), QStringLiteral("--bare"), QStringLiteral("--gluster")}, 900000);
        QVERIFY2(up.ok(), QByteArray(up.out.right(3000) + up.err.right(3000)).constData());
        const QRegularExpressionMatch m = QRegularExpression(QStringLiteral("^inventory: (.+)$"),
                                                             QRegularExpression::MultilineOption)
                                              .match(QString::fromUtf8(up.out));
        QVERIFY2(m.hasMatch(), up.out.constData());
        m_inventory = m.captured(1).trimmed();
        QVERIFY2(QFile::exists(m_inventory), qPrintable(m_inventory));
        for (const QString &h : Hosts)
            QVERIFY2(sshAs(QStringLiteral("root"), h, 22, QStringLiteral("true")).ok(),
                     qPrintable(h));
        const Result<Inventory> loaded = InventoryLoader::loadFile(m_inventory);
        QVERIFY2(loaded.ok(), loaded ? "" : qPrintable(loaded.error().toString()));
        m_loaded = loaded.value();
    }

    // The wizard's preflight is the dry run: the plan on screen, nothing changed.
    void wizardPreflightShowsThePlan()
    {
        auto wizard = openWizard(m_loaded);
        QVERIFY(QTest::qWaitForWindowExposed(wizard.get()));
        QVERIFY(!next(wizard.get())->isEnabled());
        wizard->reasonEdit()->setText(QStringLiteral("lab provisioning test: the plan"));
        shot(wizard.get(), QStringLiteral("1-hosts.png"));
        next(wizard.get())->click();
        QCOMPARE(wizard->currentId(), int(MaintenanceWizard::PreflightPage));
        QTRY_VERIFY_WITH_TIMEOUT(!wizard->operation()->isPreparing(), 120000);
        QVERIFY2(!wizard->refusalsLabel()->isVisible(),
                 qPrintable(wizard->refusalsLabel()->text()));
        const QString plan = wizard->preflightView()->toPlainText();
        QVERIFY2(plan.contains(u"would: docker: start dockerd") &&
                     plan.contains(u"move sshd from port 22 to 15122") &&
                     plan.contains(u"would: swarm: init the swarm on swarm-01"),
                 qPrintable(plan));
        QVERIFY(next(wizard.get())->isEnabled());
        shot(wizard.get(), QStringLiteral("2-plan.png"));
        wizard->reject();
    }

    void dryRunPlansAndChangesNothing()
    {
        const Provision p = provision(m_inventory, {QStringLiteral("--dry-run")});
        QVERIFY2(p.run.ok(), describe(p).constData());
        QCOMPARE(p.report.value(QStringLiteral("dry_run")).toBool(), true);
        QCOMPARE(p.report.value(QStringLiteral("changes")).toInt(), 0);
        for (const QString &h : Hosts) {
            const QString would = joined(hostReport(p.report, h).value(QStringLiteral("would")));
            QVERIFY2(would.contains(QLatin1String("create user pilothouse")), qPrintable(would));
            QVERIFY2(would.contains(QLatin1String("start dockerd")), qPrintable(would));
            QVERIFY2(would.contains(QLatin1String("move sshd from port 22 to 15122")),
                     qPrintable(would));
            QVERIFY2(would.contains(QLatin1String("nftables")), qPrintable(would));
            QVERIFY2(would.contains(QLatin1String("images: load")), qPrintable(would));
            // Nothing happened: no engine, sshd still on 22 alone, no user.
            QVERIFY(!docker(h, {QStringLiteral("version")}).ok());
            QVERIFY(!sshAs(QStringLiteral("root"), h, 15122, QStringLiteral("true")).ok());
            QCOMPARE(sshAs(QStringLiteral("root"), h, 22, QStringLiteral("id pilothouse")).exitCode,
                     1);
        }
        QVERIFY2(joined(p.report.value(QStringLiteral("cluster_would")))
                     .contains(QLatin1String("init the swarm on swarm-01")),
                 describe(p).constData());
    }

    // swarm-03's sshd is down: its steps stop at "reach" with a message that
    // names it; swarm-01 and swarm-02 are provisioned anyway; the swarm waits.
    void unreachableHostStopsOnlyItself()
    {
        QVERIFY(lab({QStringLiteral("stop-sshd"), QStringLiteral("swarm-03")}).ok());
        const Provision p = provision(m_inventory);
        QCOMPARE(p.run.exitCode, 1);
        QCOMPARE(p.report.value(QStringLiteral("refused")).toBool(), false);
        const QString error = hostReport(p.report, QStringLiteral("swarm-03"))
                                  .value(QStringLiteral("error"))
                                  .toString();
        QVERIFY2(error.contains(QLatin1String("cannot log in on 10.213.0.13")) &&
                     error.contains(QLatin1String("15122")) &&
                     error.contains(QLatin1String("port 22")) &&
                     error.contains(QLatin1String("Connection refused")),
                 qPrintable(error));
        for (const QString &h : {QStringLiteral("swarm-01"), QStringLiteral("swarm-02")}) {
            const QJsonObject r = hostReport(p.report, h);
            QVERIFY2(r.value(QStringLiteral("error")).toString().isEmpty(),
                     describe(p).constData());
            QCOMPARE(r.value(QStringLiteral("ssh_port_after")).toInt(), 15122);
            QVERIFY(docker(h, {QStringLiteral("version")}).ok());
            QVERIFY(sshAs(QStringLiteral("root"), h, 15122, QStringLiteral("true")).ok());
            QVERIFY(!sshAs(QStringLiteral("root"), h, 22, QStringLiteral("true")).ok());
        }
        // The swarm was not started without every host.
        QCOMPARE(
            docker(QStringLiteral("swarm-01"), {QStringLiteral("info"), QStringLiteral("--format"),
                                                QStringLiteral("{{.Swarm.LocalNodeState}}")})
                .out.trimmed(),
            QByteArray("inactive"));
        const QString stateFile = p.report.value(QStringLiteral("state_file")).toString();
        QFile state(stateFile);
        QVERIFY2(state.open(QIODevice::ReadOnly), qPrintable(stateFile));
        const QJsonObject s = QJsonDocument::fromJson(state.readAll()).object();
        QCOMPARE(s.value(QStringLiteral("outcome")).toString(), QStringLiteral("failed"));
        QVERIFY2(
            joined(s.value(QStringLiteral("stopped_at"))).contains(QLatin1String("swarm-03/reach")),
            qPrintable(joined(s.value(QStringLiteral("stopped_at")))));
        QCOMPARE(s.value(QStringLiteral("ssh_ports"))
                     .toObject()
                     .value(QStringLiteral("swarm-01"))
                     .toInt(),
                 15122);
        QCOMPARE(s.value(QStringLiteral("ssh_ports"))
                     .toObject()
                     .value(QStringLiteral("swarm-03"))
                     .toInt(),
                 0);
    }

    void resumeCompletesTheSwarm()
    {
        QVERIFY(lab({QStringLiteral("start-sshd"), QStringLiteral("swarm-03")}).ok());
        const Provision p = provision(m_inventory);
        QVERIFY2(p.run.ok(), describe(p).constData());
        QVERIFY2(p.report.value(QStringLiteral("previous_run"))
                     .toString()
                     .contains(QLatin1String("swarm-03/reach")),
                 describe(p).constData());
        // What the first run did is found done; swarm-03 catches up.
        for (const QString &h : {QStringLiteral("swarm-01"), QStringLiteral("swarm-02")}) {
            const QString changed =
                joined(hostReport(p.report, h).value(QStringLiteral("changed")));
            QVERIFY2(!changed.contains(QLatin1String("user")) &&
                         !changed.contains(QLatin1String("sshd")) &&
                         !changed.contains(QLatin1String("dockerd")),
                     qPrintable(changed));
        }
        const QString third = joined(
            hostReport(p.report, QStringLiteral("swarm-03")).value(QStringLiteral("changed")));
        QVERIFY2(third.contains(QLatin1String("created user pilothouse")) &&
                     third.contains(QLatin1String("started dockerd")) &&
                     third.contains(QLatin1String("sshd listens on port(s) 15122")) &&
                     third.contains(QLatin1String("images: loaded")),
                 qPrintable(third));
        const QString cluster = joined(p.report.value(QStringLiteral("cluster_changed")));
        QVERIFY2(cluster.contains(QLatin1String("initialised on swarm-01")) &&
                     cluster.contains(QLatin1String("joined swarm-03 as a manager")) &&
                     cluster.contains(QLatin1String("created overlay pilothouse-ops")),
                 qPrintable(cluster));

        // The Swarm as the real CLI sees it.
        const LabAccess::Run nodes =
            docker(QStringLiteral("swarm-02"),
                   {QStringLiteral("node"), QStringLiteral("ls"), QStringLiteral("--format"),
                    QStringLiteral("{{.Hostname}} {{.Status}} {{.ManagerStatus}}")});
        QVERIFY2(nodes.ok(), nodes.err.constData());
        QCOMPARE(nodes.out.count("Ready"), 3);
        QCOMPARE(nodes.out.count("Leader") + nodes.out.count("Reachable"), 3);
        for (const QString &h : Hosts) {
            const LabAccess::Run label = docker(
                QStringLiteral("swarm-01"),
                {QStringLiteral("node"), QStringLiteral("inspect"), h, QStringLiteral("--format"),
                 QStringLiteral("{{index .Spec.Labels \"pilothouse.node\"}}")});
            QCOMPARE(label.out.trimmed(), h.toUtf8());
            QVERIFY(docker(h, {QStringLiteral("image"), QStringLiteral("inspect"),
                               QStringLiteral("pilothouse/postgres-repmgr:lab")})
                        .ok());
            // The operator user: a login with the console's key, passwordless sudo.
            const LabAccess::Run ops =
                sshAs(QStringLiteral("pilothouse"), h, 15122, QStringLiteral("sudo -n id -u"));
            QVERIFY2(ops.ok() && ops.out.trimmed() == "0",
                     QByteArray(ops.out + ops.err).constData());
            // The firewall: loaded, and port 22 closed for good.
            const LabAccess::Run fw = sshAs(QStringLiteral("root"), h, 15122,
                                            QStringLiteral("nft list chain inet pilothouse input"));
            QVERIFY2(fw.ok() && fw.out.contains("policy drop") && fw.out.contains("15122"),
                     QByteArray(fw.out + fw.err).constData());
            QVERIFY(!sshAs(QStringLiteral("root"), h, 22, QStringLiteral("true")).ok());
        }
        // GlusterFS: one replica-3 volume, mounted on every host; what one host
        // writes, another reads.
        const QString first = joined(
            hostReport(p.report, QStringLiteral("swarm-01")).value(QStringLiteral("changed")));
        QVERIFY2(first.contains(QLatin1String("created the replica-3 volume phlab")),
                 qPrintable(first));
        QVERIFY(sshAs(QStringLiteral("root"), QStringLiteral("swarm-01"), 15122,
                      QStringLiteral("echo written-on-swarm-01 > /mnt/glusterfs/provision-test"))
                    .ok());
        const LabAccess::Run read = sshAs(QStringLiteral("root"), QStringLiteral("swarm-03"), 15122,
                                          QStringLiteral("cat /mnt/glusterfs/provision-test"));
        QCOMPARE(read.out.trimmed(), QByteArray("written-on-swarm-01"));
        QVERIFY(docker(QStringLiteral("swarm-03"),
                       {QStringLiteral("network"), QStringLiteral("inspect"),
                        QStringLiteral("pilothouse-ops")})
                    .ok());
    }

    // The third run through the console's wizard, to its end: nothing to change.
    void wizardRunFindsNothingToChange()
    {
        auto wizard = openWizard(m_loaded);
        QVERIFY(QTest::qWaitForWindowExposed(wizard.get()));
        wizard->reasonEdit()->setText(QStringLiteral("lab provisioning test: from the console"));
        next(wizard.get())->click();
        QTRY_VERIFY_WITH_TIMEOUT(!wizard->operation()->isPreparing(), 120000);
        const QString plan = wizard->preflightView()->toPlainText();
        QVERIFY2(plan.contains(u"running it changes nothing"), qPrintable(plan));
        next(wizard.get())->click();
        QTRY_VERIFY_WITH_TIMEOUT(wizard->runPage()->isFinished(), 300000);
        shot(wizard.get(), QStringLiteral("3-run.png"));
        QVERIFY2(wizard->runPage()->finishedOk(), qPrintable(wizard->runPage()->summary()));
        QVERIFY2(wizard->runPage()->summary().contains(u"nothing was changed"),
                 qPrintable(wizard->runPage()->summary()));
        next(wizard.get())->click();
        QCOMPARE(wizard->currentId(), int(MaintenanceWizard::ResultPage));
        QVERIFY2(wizard->detailsView()->toPlainText().contains(u"as wanted"),
                 qPrintable(wizard->detailsView()->toPlainText()));
        shot(wizard.get(), QStringLiteral("4-result.png"));
        wizard->button(QWizard::FinishButton)->click();
    }

    void secondRunChangesNothing()
    {
        const Provision p = provision(m_inventory);
        QVERIFY2(p.run.ok(), describe(p).constData());
        QVERIFY2(p.report.value(QStringLiteral("nothing_changed")).toBool(),
                 describe(p).constData());
        QCOMPARE(p.report.value(QStringLiteral("changes")).toInt(), 0);
        QVERIFY(p.report.value(QStringLiteral("previous_run")).toString().isEmpty());
        // The text report says so in words.
        const LabAccess::Run text =
            LabAccess::local(Binary,
                             {QStringLiteral("provision"), QStringLiteral("--inventory"),
                              m_inventory, QStringLiteral("--reason"), QStringLiteral("again")},
                             600000);
        QVERIFY2(text.ok(), text.out.right(3000).constData());
        QVERIFY2(text.out.contains("nothing to change"), text.out.right(3000).constData());
        // Every remote call is in the local audit trail; the Swarm's join token is not.
        QFile trail(m_data.path() + QStringLiteral("/Pilothouse/audit/lab-bare.jsonl"));
        QVERIFY2(trail.open(QIODevice::ReadOnly), qPrintable(trail.fileName()));
        const QByteArray entries = trail.readAll();
        QVERIFY(entries.contains("POST /swarm/join"));
        QVERIFY(entries.contains("\"kind\":\"ssh\""));
        QVERIFY(!entries.contains("SWMTKN"));
    }

    // The stack onto the provisioned hosts through the console's deploy, with
    // the lab's secrets given from files; then the lab's own health checks.
    void deployTheStackToAHealthyCluster()
    {
        QStringList args{
            QStringLiteral("deploy"),
            QStringLiteral("--inventory"),
            m_inventory,
            QStringLiteral("--stack"),
            QStringLiteral(PILOTHOUSE_SOURCE_DIR "/deploy-stacks/pilothouse-stack.yml"),
            QStringLiteral("--name"),
            QStringLiteral("pilothouse"),
            QStringLiteral("--reason"),
            QStringLiteral("first deploy on provisioned hosts")};
        for (const QString &s :
             {QStringLiteral("pg_postgres_password"), QStringLiteral("pg_repmgr_password"),
              QStringLiteral("pg_app_password"), QStringLiteral("pg_monitor_password"),
              QStringLiteral("pgpool_admin_password"), QStringLiteral("proxy_tls_pem")})
            args << QStringLiteral("--secret-file")
                 << s + u'=' + labDir() + QStringLiteral("/secrets/") + s;
        // The app's content on the GlusterFS volume, as `lab up --gluster` deploys it.
        qputenv("APP_CONTENT_SOURCE", "/mnt/glusterfs/app");
        const LabAccess::Run deploy = LabAccess::local(Binary, args, 900000);
        QVERIFY2(deploy.ok(),
                 QByteArray(deploy.out.right(4000) + deploy.err.right(3000)).constData());
        QString status;
        const bool healthy = LabAccess::waitUntil(
            [&status] {
                const LabAccess::Run s = lab({QStringLiteral("status")}, 60000);
                status = QString::fromUtf8(s.out + s.err);
                return s.ok();
            },
            420000, 5000);
        QVERIFY2(healthy, qPrintable(status));
    }

    void cleanupTestCase()
    {
        // Leave the machine as the next lab test expects to find it: down.
        lab({QStringLiteral("down")}, 300000);
        if (!m_glusterWasEnabled)
            QFile::remove(labDir() + QStringLiteral("/gluster.enabled"));
    }
};

QTEST_MAIN(TestProvisionLab)
#include "tst_provision_lab.moc"
