// The provisioning's pieces that need no host: the scripts (syntax checked by
// dash, the read-only ones run here in dry-run mode), the nftables ruleset
// (checked by the real nft in check mode, which changes nothing), daemon.json,
// the findings, the inventory's provision section and the image archive's
// manifest (archives made by GNU tar at test time).

#include "app/connectors/docker/dockerarchive.h"
#include "app/inventory/inventoryloader.h"
#include "app/provision/provisionscripts.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

using namespace Pilothouse;

namespace {

struct Run
{
    int exitCode = -1;
    QByteArray out;
    QByteArray err;
};

Run run(const QString &program, const QStringList &arguments, const QString &workDir = {})
{
    QProcess p;
    if (!workDir.isEmpty())
        p.setWorkingDirectory(workDir);
    p.start(program, arguments);
    Run r;
    if (!p.waitForFinished(30000)) {
        p.kill();
        p.waitForFinished();
        r.err = "timed out";
        return r;
    }
    r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.out = p.readAllStandardOutput();
    r.err = p.readAllStandardError();
    return r;
}

const char *InventoryYaml = R"(all:
  hosts:
    a: {ansible_host: 10.0.0.1, ansible_port: 15122}
  vars:
    pilothouse:
      stack: s
      provision:
        initial_ssh_port: 22
        operator_user: ops
        open_ports: [80, 443]
        image_archive: images.tar
        networks: [net-a]
        node_label: pilothouse.node
        swarm: {default_addr_pool: 10.215.0.0/16, mask_length: 24, task_history_limit: 2}
        docker_daemon: {cgroup-parent: "/lab-{host}", shutdown-timeout: 5, live-restore: false, log-opts: {max-file: "2"}, dns: [10.0.0.2]}
)";

} // namespace

class TestProvisionScripts final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void everyScriptParses_data()
    {
        QTest::addColumn<QString>("script");
        QTest::newRow("system") << ProvisionScripts::checkSystem();
        QTest::newRow("user") << ProvisionScripts::operatorUser(
            QStringLiteral("ops"), QStringLiteral("ssh-ed25519 AAAA it's me"));
        QTest::newRow("docker") << ProvisionScripts::docker("{\n    \"a\": \"it's\"\n}");
        QTest::newRow("sshd one port") << ProvisionScripts::sshdPorts({15122});
        QTest::newRow("sshd two ports") << ProvisionScripts::sshdPorts({15122, 22, 22});
        QTest::newRow("firewall") << ProvisionScripts::firewall(
            ProvisionScripts::firewallRuleset(15122, {80, 443}));
        QTest::newRow("glusterd") << ProvisionScripts::glusterDaemon(
            QStringLiteral("/srv/gluster/brick"));
        QTest::newRow("gluster volume") << ProvisionScripts::glusterVolume(
            QStringLiteral("vol"), {QStringLiteral("10.0.0.2"), QStringLiteral("10.0.0.3")},
            {QStringLiteral("10.0.0.1:/srv/b"), QStringLiteral("10.0.0.2:/srv/b"),
             QStringLiteral("10.0.0.3:/srv/b")});
        QTest::newRow("gluster mount") << ProvisionScripts::glusterMount(
            QStringLiteral("10.0.0.1"), QStringLiteral("vol"), QStringLiteral("/mnt/glusterfs"),
            QStringLiteral("/mnt/glusterfs/app"));
    }

    void everyScriptParses()
    {
        QFETCH(QString, script);
        // dash: Debian's /bin/sh, the shell `sh -c` gets on a host.
        for (const QString &command :
             {ProvisionScripts::asRoot(script, QStringLiteral("root"), false),
              ProvisionScripts::asRoot(script, QStringLiteral("ops"), true)}) {
            const Run r =
                run(QStringLiteral("dash"), {QStringLiteral("-n"), QStringLiteral("-c"), command});
            QVERIFY2(r.exitCode == 0, r.err.constData());
        }
        const Run inner =
            run(QStringLiteral("dash"), {QStringLiteral("-n"), QStringLiteral("-c"), script});
        QVERIFY2(inner.exitCode == 0, inner.err.constData());
    }

    void asRootQuotesAndSwitchesDryRun()
    {
        const QString script =
            QStringLiteral("echo \"would: dry=${PH_DRY_RUN:-0} 'quoted' $((1 + 1))\"");
        const Run dry = run(
            QStringLiteral("dash"),
            {QStringLiteral("-c"), ProvisionScripts::asRoot(script, QStringLiteral("root"), true)});
        QCOMPARE(dry.out.trimmed(), QByteArray("would: dry=1 'quoted' 2"));
        const Run real =
            run(QStringLiteral("dash"),
                {QStringLiteral("-c"), ProvisionScripts::asRoot(script, QString(), false)});
        QCOMPARE(real.out.trimmed(), QByteArray("would: dry=0 'quoted' 2"));
        const QString viaSudo = ProvisionScripts::asRoot(script, QStringLiteral("ops"), true);
        QVERIFY2(viaSudo.startsWith(QLatin1String("sudo -n env PH_DRY_RUN=1 sh -c ")),
                 qPrintable(viaSudo));
    }

    // Read-only on this machine (Debian 12, as CI's).
    void systemCheckRunsHere()
    {
        const Run r =
            run(QStringLiteral("dash"), {QStringLiteral("-c"), ProvisionScripts::checkSystem()});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        const auto f = ProvisionScripts::parseFindings(r.out);
        QCOMPARE(f.ok.size(), 1);
        QVERIFY2(f.ok.constFirst().contains(QLatin1String("Debian GNU/Linux 12")),
                 qPrintable(f.ok.constFirst()));
        QVERIFY(f.changed.isEmpty());
    }

    // PH_DRY_RUN=1: a user that does not exist is only announced.
    void operatorUserDryRunChangesNothing()
    {
        const QString user = QStringLiteral("ph-no-such-user");
        const QString script =
            ProvisionScripts::operatorUser(user, QStringLiteral("ssh-ed25519 AAAA test"));
        const Run r = run(
            QStringLiteral("dash"),
            {QStringLiteral("-c"), ProvisionScripts::asRoot(script, QStringLiteral("root"), true)});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        const auto f = ProvisionScripts::parseFindings(r.out);
        QVERIFY2(f.would.contains(QStringLiteral("create user ") + user), r.out.constData());
        QVERIFY(f.changed.isEmpty());
        QCOMPARE(run(QStringLiteral("id"), {user}).exitCode, 1);
    }

    void firewallRulesetIsValidNft()
    {
        const QString nft = QStandardPaths::findExecutable(
            QStringLiteral("nft"), {QStringLiteral("/usr/sbin"), QStringLiteral("/sbin")});
        QVERIFY2(!nft.isEmpty(),
                 "nft is not installed (packaging/install-deps.sh installs nftables)");
        const QString ruleset = ProvisionScripts::firewallRuleset(15122, {443, 80, 443, 5432});
        QVERIFY(ruleset.contains(
            QLatin1String("tcp dport { 80, 443, 2377, 5432, 7946, 15122 } accept")));
        QVERIFY(ruleset.contains(QLatin1String("udp dport { 4789, 7946 } accept")));
        QVERIFY(ruleset.contains(QLatin1String("policy drop")));
        QVERIFY(!ruleset.contains(QLatin1String(" 22,")));
        const QString withGluster = ProvisionScripts::firewallRuleset(15122, {443}, true);
        QVERIFY(withGluster.contains(QLatin1String(
            "tcp dport { 443, 2377, 7946, 15122, 24007-24008, 49152-49251 } accept")));
        QTemporaryDir dir;
        for (const QString &text : {ruleset, withGluster}) {
            QFile f(dir.filePath(QStringLiteral("fw.nft")));
            QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
            f.write(text.toUtf8());
            f.close();
            // Check mode: parsed and evaluated, never committed.
            const Run r = run(nft, {QStringLiteral("-c"), QStringLiteral("-f"), f.fileName()});
            QVERIFY2(r.exitCode == 0, r.err.constData());
        }
    }

    void daemonJsonSubstitutesTheHostAndSortsKeys()
    {
        const Result<Pilothouse::Inventory> inv =
            InventoryLoader::loadBytes(InventoryYaml, QStringLiteral("/tmp/x/inv.yaml"));
        QVERIFY2(inv.ok(), inv ? "" : qPrintable(inv.error().toString()));
        const QByteArray json = ProvisionScripts::daemonJson(
            inv.value().settings.provision.dockerDaemon, QStringLiteral("swarm-02"));
        const QJsonObject o = QJsonDocument::fromJson(json).object();
        QCOMPARE(o.value(QStringLiteral("cgroup-parent")).toString(),
                 QStringLiteral("/lab-swarm-02"));
        QCOMPARE(o.value(QStringLiteral("shutdown-timeout")).toInt(), 5);
        QCOMPARE(o.value(QStringLiteral("live-restore")), QJsonValue(false));
        // Quoted in YAML: stays text, as dockerd wants for log options.
        QCOMPARE(o.value(QStringLiteral("log-opts")).toObject().value(QStringLiteral("max-file")),
                 QJsonValue(QStringLiteral("2")));
        QCOMPARE(o.value(QStringLiteral("dns")).toArray().at(0).toString(),
                 QStringLiteral("10.0.0.2"));
        QVERIFY(json.indexOf("cgroup-parent") < json.indexOf("shutdown-timeout"));
        QCOMPARE(ProvisionScripts::daemonJson(inv.value().settings.provision.dockerDaemon,
                                              QStringLiteral("swarm-02")),
                 json);
    }

    void provisionSectionIsRead()
    {
        const Result<Pilothouse::Inventory> inv =
            InventoryLoader::loadBytes(InventoryYaml, QStringLiteral("/tmp/x/inv.yaml"));
        QVERIFY(inv.ok());
        const ProvisionSettings &p = inv.value().settings.provision;
        QVERIFY(p.present);
        QCOMPARE(p.initialSshPort, 22);
        QCOMPARE(p.operatorUser, QStringLiteral("ops"));
        QCOMPARE(p.openPorts, (QList<int>{80, 443}));
        QCOMPARE(p.imageArchive, QStringLiteral("/tmp/x/images.tar"));
        QCOMPARE(p.networks, QStringList{QStringLiteral("net-a")});
        QCOMPARE(p.nodeLabel, QStringLiteral("pilothouse.node"));
        QCOMPARE(p.swarmDefaultAddrPool, QStringLiteral("10.215.0.0/16"));
        QCOMPARE(p.swarmMaskLength, 24);
        QCOMPARE(p.taskHistoryLimit, 2);
        QCOMPARE(inv.value().hosts.constFirst().sshPort, 15122);
    }

    void badProvisionSectionsNamePlace_data()
    {
        QTest::addColumn<QByteArray>("replace");
        QTest::addColumn<QByteArray>("with");
        QTest::addColumn<int>("line");
        QTest::addColumn<QString>("message");
        QTest::newRow("port out of range")
            << QByteArray("[80, 443]") << QByteArray("[80, 70000]") << 10
            << QStringLiteral("open_ports[1] must be a whole number");
        QTest::newRow("ports not a list") << QByteArray("[80, 443]") << QByteArray("80") << 10
                                          << QStringLiteral("open_ports must be a list");
        QTest::newRow("bad user") << QByteArray("operator_user: ops")
                                  << QByteArray("operator_user: 'Ops Man'") << 9
                                  << QStringLiteral("must be a user name");
        QTest::newRow("unknown key")
            << QByteArray("node_label:") << QByteArray("node_lable:") << 13
            << QStringLiteral("unknown key 'pilothouse.provision.node_lable'");
        QTest::newRow("daemon not a mapping") << QByteArray("docker_daemon: {cgroup-parent")
                                              << QByteArray("docker_daemon: [{cgroup-parent") << 15
                                              << QStringLiteral("must be a mapping");
        QTest::newRow("mask out of range")
            << QByteArray("mask_length: 24") << QByteArray("mask_length: 33") << 14
            << QStringLiteral("mask_length must be a whole number from 8 to 29");
    }

    void badProvisionSectionsNamePlace()
    {
        QFETCH(QByteArray, replace);
        QFETCH(QByteArray, with);
        QFETCH(int, line);
        QFETCH(QString, message);
        QByteArray doc(InventoryYaml);
        QVERIFY(doc.contains(replace));
        doc.replace(replace, with);
        if (with.startsWith("docker_daemon: ["))
            doc.replace("dns: [10.0.0.2]}", "dns: [10.0.0.2]}]");
        const auto r = InventoryLoader::loadBytes(doc, QStringLiteral("inv.yaml"));
        QVERIFY(!r.ok());
        QVERIFY2(r.error().message.contains(message), qPrintable(r.error().toString()));
        QCOMPARE(r.error().file, QStringLiteral("inv.yaml"));
        QCOMPARE(r.error().line, line);
        QVERIFY(r.error().column > 0);
    }

    void findingsAreParsed()
    {
        const auto f =
            ProvisionScripts::parseFindings("ok: a\nnoise\nchanged: b c\n  would: d\nchanged: e\n");
        QCOMPARE(f.ok, QStringList{QStringLiteral("a")});
        QCOMPARE(f.changed, (QStringList{QStringLiteral("b c"), QStringLiteral("e")}));
        QCOMPARE(f.would, QStringList{QStringLiteral("d")});
        QCOMPARE(f.summary(), QStringLiteral("changed: b c; changed: e; would: d"));
        QCOMPARE(ProvisionScripts::parseFindings("ok: x\n").summary(), QStringLiteral("ok: x"));
    }

    // A `docker save`-shaped archive made by GNU tar: a large layer before the manifest.
    void archiveManifestIsFoundPastLargeMembers()
    {
        QTemporaryDir dir;
        QDir(dir.path()).mkpath(QStringLiteral("in/abc123"));
        QFile layer(dir.filePath(QStringLiteral("in/abc123/layer.tar")));
        QVERIFY(layer.open(QIODevice::WriteOnly));
        layer.write(QByteArray(3 * 1024 * 1024 + 17, '\x5a'));
        layer.close();
        QFile manifest(dir.filePath(QStringLiteral("in/manifest.json")));
        QVERIFY(manifest.open(QIODevice::WriteOnly));
        manifest.write(
            R"([{"Config":"abc.json","RepoTags":["pilothouse/app:lab","pilothouse/etcd:lab"],"Layers":["abc123/layer.tar"]}])");
        manifest.close();
        const QString archive = dir.filePath(QStringLiteral("images.tar"));
        const Run tar = run(QStringLiteral("tar"),
                            {QStringLiteral("-cf"), archive, QStringLiteral("abc123"),
                             QStringLiteral("manifest.json")},
                            dir.filePath(QStringLiteral("in")));
        QVERIFY2(tar.exitCode == 0, tar.err.constData());
        const Result<QStringList> tags = DockerArchive::savedImageTags(archive);
        QVERIFY2(tags.ok(), tags ? "" : qPrintable(tags.error().toString()));
        QCOMPARE(tags.value(), (QStringList{QStringLiteral("pilothouse/app:lab"),
                                            QStringLiteral("pilothouse/etcd:lab")}));

        // Without a manifest, and a file that is no archive: the error names the file.
        const QString noManifest = dir.filePath(QStringLiteral("layers-only.tar"));
        QCOMPARE(run(QStringLiteral("tar"),
                     {QStringLiteral("-cf"), noManifest, QStringLiteral("abc123")},
                     dir.filePath(QStringLiteral("in")))
                     .exitCode,
                 0);
        const Result<QStringList> none = DockerArchive::savedImageTags(noManifest);
        QVERIFY(!none.ok());
        QCOMPARE(none.error().file, noManifest);
        QVERIFY2(none.error().message.contains(QLatin1String("no member 'manifest.json'")),
                 qPrintable(none.error().message));
        QFile junk(dir.filePath(QStringLiteral("junk.tar")));
        QVERIFY(junk.open(QIODevice::WriteOnly));
        junk.write(QByteArray(2000, '\x01'));
        junk.close();
        const Result<QStringList> bad = DockerArchive::savedImageTags(junk.fileName());
        QVERIFY(!bad.ok());
        QVERIFY2(bad.error().message.contains(QLatin1String("not a tar archive")),
                 qPrintable(bad.error().message));
        QVERIFY(!DockerArchive::savedImageTags(dir.filePath(QStringLiteral("missing.tar"))).ok());
    }
};

QTEST_GUILESS_MAIN(TestProvisionScripts)
#include "tst_provisionscripts.moc"
