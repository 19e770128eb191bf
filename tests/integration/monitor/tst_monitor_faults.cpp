// The monitor tells the truth when the lab breaks: repmgrd paused on every
// node (automatic failover off) is a critical finding within 2 s; a killed standby shows
// down within 2 s; after a failover the new primary is reported and the old
// one flagged until it rejoins; a host whose key changed is refused; a host
// cut off keeps its last-known values, marked stale. Each test restores the
// lab and waits until it is healthy again.

#include "app/monitor/clustermonitor.h"

#include <QElapsedTimer>
#include <QFile>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include "tests/integration/labaccess.h"

using namespace Pilothouse;

namespace {

const QString LabScript = QStringLiteral(PILOTHOUSE_SOURCE_DIR "/deploy-stacks/lab/lab");

const PostgresNodeState *node(const ClusterSnapshot &s, const QString &name)
{
    for (const PostgresNodeState &n : s.postgres) {
        if (n.name == name)
            return &n;
    }
    return nullptr;
}

QString primaryOf(const ClusterSnapshot &s)
{
    QString primary;
    for (const PostgresNodeState &n : s.postgres) {
        if (n.reachable && n.role == u"primary") {
            if (!primary.isEmpty())
                return {}; // two: no single answer
            primary = n.name;
        }
    }
    return primary;
}

bool healthy(const ClusterSnapshot &s)
{
    int primaries = 0;
    int streaming = 0;
    for (const PostgresNodeState &n : s.postgres) {
        if (!n.reachable || n.freshness.stale)
            return false;
        primaries += n.role == u"primary";
        streaming += n.role == u"standby" && n.walReceiverStatus == u"streaming";
    }
    return primaries == 1 && streaming == 2;
}

QStringList repmgrdStates(const ClusterSnapshot &s)
{
    QStringList out;
    for (const PostgresNodeState &n : s.postgres)
        out.append(n.name + u'=' + (n.repmgrd.isEmpty() ? QStringLiteral("?") : n.repmgrd));
    return out;
}

const Finding *findingOf(const ClusterSnapshot &s, const QString &code)
{
    for (const Finding &f : s.findings) {
        if (f.code == code)
            return &f;
    }
    return nullptr;
}

} // namespace

class TestMonitorFaults final : public QObject
{
    Q_OBJECT

private:
    LabAccess m_lab;
    std::unique_ptr<ClusterMonitor> m_monitor;

    std::unique_ptr<ClusterMonitor> startMonitor(const Inventory &inventory)
    {
        ClusterMonitor::Options options;
        options.monitorPassword = ClusterMonitor::readMonitorPassword(inventory).value();
        auto monitor = std::make_unique<ClusterMonitor>(inventory, options);
        QSignalSpy first(monitor.get(), &ClusterMonitor::firstRoundFinished);
        monitor->start();
        if (!first.wait(15000))
            qWarning("the monitor's first round did not finish");
        return monitor;
    }

    // `repmgr service pause|unpause` from pg-1's container: repmgr reaches
    // every node's repmgrd from there, as the switchover does.
    LabAccess::Run repmgrService(const QString &verb)
    {
        const QString host = m_lab.nodesOf(QStringLiteral("pg-1")).value(0);
        return m_lab.ssh(host, QStringLiteral("docker exec -u postgres $(docker ps -q -f "
                                              "label=com.docker.swarm.service.name=%1_pg-1) "
                                              "repmgr -f /etc/repmgr.conf service %2")
                                   .arg(m_lab.inventory().settings.stack, verb));
    }
    bool m_paused = false;

    void lab(const QStringList &args)
    {
        const auto r = LabAccess::local(LabScript, args, 120000);
        QVERIFY2(r.ok(), qPrintable(args.join(u' ') + QStringLiteral(": ") +
                                    QString::fromUtf8(r.out + r.err)));
    }

    // Waits until every node answers with one primary and two streaming standbys.
    void waitHealthy(int timeoutMs)
    {
        QTRY_VERIFY_WITH_TIMEOUT(healthy(m_monitor->snapshot()), timeoutMs);
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY2(m_lab.open(), qPrintable(m_lab.error()));
        QVERIFY(ClusterMonitor::readMonitorPassword(m_lab.inventory()).ok());
    }

    void cleanupTestCase()
    {
        // The failover test left another node primary: hand the lab to the
        // next test in its starting shape.
        QVERIFY2(m_lab.ensurePrimary(QStringLiteral("pg-1")), qPrintable(m_lab.error()));
    }

    void init()
    {
        m_monitor = startMonitor(m_lab.inventory());
        waitHealthy(60000);
    }

    void cleanup()
    {
        // Whatever a test broke, the next one starts from a healthy lab.
        for (const auto &h : m_lab.inventory().hosts)
            LabAccess::local(LabScript, {QStringLiteral("heal"), h.name});
        if (std::exchange(m_paused, false)) {
            const auto r = repmgrService(QStringLiteral("unpause"));
            if (!r.ok())
                qWarning("repmgr service unpause: %s", QByteArray(r.out + r.err).constData());
        }
        if (m_monitor)
            QTRY_VERIFY_WITH_TIMEOUT(healthy(m_monitor->snapshot()), 120000);
        m_monitor.reset();
    }

    void pausedRepmgrdIsReportedWithinTwoSeconds()
    {
        // What a switchover killed half-way leaves: repmgrd paused on every
        // node, so nothing fails over, while every database looks healthy.
        QTRY_COMPARE_WITH_TIMEOUT(
            repmgrdStates(m_monitor->snapshot()),
            (QStringList{QStringLiteral("pg-1=running"), QStringLiteral("pg-2=running"),
                         QStringLiteral("pg-3=running")}),
            10000);
        QVERIFY(!findingOf(m_monitor->snapshot(), QStringLiteral("repmgrd-paused")));
        m_paused = true;
        const auto pause = repmgrService(QStringLiteral("pause"));
        QVERIFY2(pause.ok(), QByteArray(pause.out + pause.err).constData());
        QElapsedTimer since;
        since.start();
        QTRY_VERIFY_WITH_TIMEOUT(findingOf(m_monitor->snapshot(), QStringLiteral("repmgrd-paused")),
                                 2000);
        qInfo("repmgrd paused: reported %lld ms after `repmgr service pause` returned",
              qlonglong(since.elapsed()));
        // Each node is read on its own round: the others follow within the next one.
        QTRY_COMPARE_WITH_TIMEOUT(
            repmgrdStates(m_monitor->snapshot()),
            (QStringList{QStringLiteral("pg-1=paused"), QStringLiteral("pg-2=paused"),
                         QStringLiteral("pg-3=paused")}),
            2000);
        const ClusterSnapshot paused = m_monitor->snapshot();
        const Finding *f = findingOf(paused, QStringLiteral("repmgrd-paused"));
        QVERIFY(f);
        QCOMPARE(f->severity, Severity::Critical);
        QCOMPARE(f->objects.size(), 3);

        const auto resume = repmgrService(QStringLiteral("unpause"));
        QVERIFY2(resume.ok(), QByteArray(resume.out + resume.err).constData());
        m_paused = false;
        QTRY_VERIFY_WITH_TIMEOUT(
            !findingOf(m_monitor->snapshot(), QStringLiteral("repmgrd-paused")), 2000);
        QCOMPARE(repmgrdStates(m_monitor->snapshot()),
                 (QStringList{QStringLiteral("pg-1=running"), QStringLiteral("pg-2=running"),
                              QStringLiteral("pg-3=running")}));
    }

    void killedStandbyShowsDownWithinTwoSeconds()
    {
        const ClusterSnapshot before = m_monitor->snapshot();
        const QString primary = primaryOf(before);
        QVERIFY(!primary.isEmpty());
        QString standby;
        for (const PostgresNodeState &n : before.postgres) {
            if (n.name != primary)
                standby = n.name;
        }
        QElapsedTimer t;
        t.start();
        lab({QStringLiteral("kill-container"), standby});
        QTRY_VERIFY_WITH_TIMEOUT(!node(m_monitor->snapshot(), standby)->reachable, 2000);
        qInfo("%s reported down %lld ms after the kill command returned", qPrintable(standby),
              t.elapsed());
        const auto &findings = m_monitor->snapshot().findings;
        QVERIFY(std::any_of(findings.cbegin(), findings.cend(), [&](const Finding &f) {
            return f.objects.contains(QStringLiteral("pg:") + standby);
        }));
        // Swarm restarts it and it streams again; the primary never changed.
        waitHealthy(90000);
        QCOMPARE(primaryOf(m_monitor->snapshot()), primary);
    }

    void failoverReportsNewPrimaryAndFlagsTheOldOne()
    {
        const QString oldPrimary = primaryOf(m_monitor->snapshot());
        QVERIFY(!oldPrimary.isEmpty());
        lab({QStringLiteral("kill-container"), oldPrimary});
        QTRY_VERIFY_WITH_TIMEOUT(!node(m_monitor->snapshot(), oldPrimary)->reachable, 2000);
        // repmgr promotes a standby (6-9 s in the lab); the monitor sees it.
        QTRY_VERIFY_WITH_TIMEOUT(!primaryOf(m_monitor->snapshot()).isEmpty() &&
                                     primaryOf(m_monitor->snapshot()) != oldPrimary,
                                 30000);
        const QString newPrimary = primaryOf(m_monitor->snapshot());
        QVERIFY(node(m_monitor->snapshot(), newPrimary)->timeline > 0);
        // Until it rejoins, the old primary is flagged, never shown as a healthy member.
        const ClusterSnapshot during = m_monitor->snapshot();
        const PostgresNodeState *old = node(during, oldPrimary);
        const bool flagged =
            std::any_of(during.findings.cbegin(), during.findings.cend(), [&](const Finding &f) {
                return f.objects.contains(QStringLiteral("pg:") + oldPrimary);
            });
        QVERIFY2(flagged || (old->reachable && old->role == u"standby"), qPrintable(oldPrimary));
        // It comes back as a standby of the new primary.
        waitHealthy(120000);
        QCOMPARE(primaryOf(m_monitor->snapshot()), newPrimary);
        QCOMPARE(node(m_monitor->snapshot(), oldPrimary)->role, QStringLiteral("standby"));
    }

    void changedHostKeyIsRefused()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString key = dir.filePath(QStringLiteral("other"));
        QVERIFY(
            LabAccess::local(QStringLiteral("ssh-keygen"),
                             {QStringLiteral("-q"), QStringLiteral("-t"), QStringLiteral("ed25519"),
                              QStringLiteral("-N"), QString(), QStringLiteral("-f"), key})
                .ok());
        QFile pub(key + QStringLiteral(".pub"));
        QVERIFY(pub.open(QIODevice::ReadOnly));
        const QList<QByteArray> otherKey = pub.readAll().trimmed().split(' ');
        QFile known(m_lab.inventory().settings.knownHosts);
        QVERIFY(known.open(QIODevice::ReadOnly));
        const InventoryHost *victim = m_lab.inventory().host(QStringLiteral("swarm-02"));
        QByteArray rewritten;
        for (const QByteArray &line : known.readAll().split('\n')) {
            if (line.contains(victim->address.toUtf8()))
                rewritten +=
                    line.split(' ').first() + ' ' + otherKey.at(0) + ' ' + otherKey.at(1) + '\n';
            else if (!line.isEmpty())
                rewritten += line + '\n';
        }
        QFile changed(dir.filePath(QStringLiteral("known_hosts")));
        QVERIFY(changed.open(QIODevice::WriteOnly));
        changed.write(rewritten);
        changed.close();

        Inventory inventory = m_lab.inventory();
        inventory.settings.knownHosts = changed.fileName();
        auto monitor = startMonitor(inventory);
        const auto hostState = [&]() {
            for (const HostState &h : monitor->snapshot().hosts) {
                if (h.name == victim->name)
                    return h;
            }
            return HostState{};
        };
        QTRY_VERIFY_WITH_TIMEOUT(!hostState().freshness.error.isEmpty(), 10000);
        const HostState refused = hostState();
        QVERIFY(!refused.reachable);
        QVERIFY2(refused.freshness.error.contains(victim->address),
                 qPrintable(refused.freshness.error));
        QVERIFY2(refused.freshness.error.contains(QStringLiteral("SHA256:")),
                 qPrintable(refused.freshness.error));
        // The other hosts are fine, and the file was not touched.
        for (const HostState &h : monitor->snapshot().hosts) {
            if (h.name != victim->name)
                QVERIFY2(h.reachable, qPrintable(h.name + u' ' + h.freshness.error));
        }
        QVERIFY(changed.open(QIODevice::ReadOnly));
        QCOMPARE(changed.readAll(), rewritten);
    }

    void hostCutOffKeepsLastKnownValuesMarkedStale()
    {
        const QString host = QStringLiteral("swarm-03");
        QString pgOnHost;
        for (const PostgresNodeState &n : m_monitor->snapshot().postgres) {
            if (n.host == host)
                pgOnHost = n.name;
        }
        const QString roleBefore = node(m_monitor->snapshot(), pgOnHost)->role;
        QVERIFY(!roleBefore.isEmpty());
        lab({QStringLiteral("isolate"), host});
        QTRY_VERIFY_WITH_TIMEOUT(node(m_monitor->snapshot(), pgOnHost)->freshness.stale, 10000);
        const PostgresNodeState *cut = node(m_monitor->snapshot(), pgOnHost);
        QCOMPARE(cut->role, roleBefore); // last known, not blanked
        QVERIFY(cut->freshness.readAt.isValid());
        QVERIFY(!cut->freshness.error.isEmpty());
        const auto &findings = m_monitor->snapshot().findings;
        QVERIFY(std::any_of(findings.cbegin(), findings.cend(),
                            [](const Finding &f) { return f.code == u"stale-value"; }));
        lab({QStringLiteral("heal"), host});
        waitHealthy(120000);
    }
};

QTEST_GUILESS_MAIN(TestMonitorFaults)
#include "tst_monitor_faults.moc"
