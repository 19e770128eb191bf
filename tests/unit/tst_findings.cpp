#include "models/findings.h"

#include <QTest>

#include <optional>

using namespace Pilothouse;

namespace {

const QDateTime Now = QDateTime(QDate(2026, 11, 26), QTime(12, 0), Qt::UTC);

// A healthy lab as the probes see it: pg-1 primary, two streaming standbys,
// two pgpools agreeing, etcd 3/3 with one leader.
ClusterSnapshot healthy()
{
    ClusterSnapshot s;
    s.takenAt = Now;
    for (int n = 1; n <= 3; ++n) {
        const QString host = QStringLiteral("swarm-0%1").arg(n);
        s.hosts.append({host, QStringLiteral("10.213.0.1%1").arg(n), true, 2.0, {Now, false, {}}});
        SwarmNodeState node;
        node.hostname = host;
        node.state = QStringLiteral("ready");
        node.availability = QStringLiteral("active");
        node.manager = true;
        node.leader = n == 1;
        node.managerReachability = QStringLiteral("reachable");
        s.swarmNodes.append(node);

        PostgresNodeState pg;
        pg.name = QStringLiteral("pg-%1").arg(n);
        pg.host = host;
        pg.reachable = true;
        pg.role = n == 1 ? QStringLiteral("primary") : QStringLiteral("standby");
        pg.timeline = 1;
        pg.repmgrd = QStringLiteral("running");
        if (n != 1) {
            pg.walReceiverStatus = QStringLiteral("streaming");
            pg.upstream = QStringLiteral("pg-1");
            pg.lagBytes = 0;
            pg.lagSeconds = 0.1;
        }
        pg.freshness.readAt = Now;
        s.postgres.append(pg);

        TaskState task;
        task.service = pg.name;
        task.hostname = host;
        task.currentState = QStringLiteral("running");
        task.desiredState = QStringLiteral("running");
        s.tasks.append(task);

        EtcdMemberState m;
        m.name = QStringLiteral("etcd%1").arg(n);
        m.host = host;
        m.memberId = QString::number(100 + n);
        m.healthy = true;
        m.leaderId = QStringLiteral("101");
        m.isLeader = n == 1;
        s.etcd.members.append(m);
    }
    s.etcd.healthyMembers = 3;
    s.etcd.clusterSize = 3;
    s.etcd.quorum = true;
    for (int p = 1; p <= 2; ++p) {
        PgpoolInstanceState pool;
        pool.task = QStringLiteral("pgpool.%1").arg(p);
        pool.host = QStringLiteral("swarm-0%1").arg(p);
        pool.reachable = true;
        for (int n = 1; n <= 3; ++n) {
            PgpoolBackend b;
            b.nodeId = n - 1;
            b.hostname = QStringLiteral("pg-%1").arg(n);
            b.status = QStringLiteral("up");
            b.role = b.pgRole = n == 1 ? QStringLiteral("primary") : QStringLiteral("standby");
            pool.backends.append(b);
        }
        s.pgpools.append(pool);
    }
    return s;
}

QStringList codes(const QList<Finding> &findings)
{
    QStringList out;
    for (const Finding &f : findings)
        out.append(f.code);
    return out;
}

// A copy: callers pass the temporary list compute() returns.
std::optional<Finding> find(const QList<Finding> &findings, const QString &code)
{
    for (const Finding &f : findings) {
        if (f.code == code)
            return f;
    }
    return std::nullopt;
}

} // namespace

class TestFindings final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void healthyHasNone() { QCOMPARE(codes(Findings::compute(healthy(), Now)), QStringList()); }

    void twoPrimaries()
    {
        ClusterSnapshot s = healthy();
        s.postgres[2].role = QStringLiteral("primary");
        s.postgres[2].walReceiverStatus.clear();
        const auto f = Findings::compute(s, Now);
        auto two = find(f, QStringLiteral("two-primaries"));
        QVERIFY(two);
        QCOMPARE(two->severity, Severity::Critical);
        QCOMPARE(two->objects, QStringList({QStringLiteral("pg:pg-1"), QStringLiteral("pg:pg-3")}));
        QCOMPARE(f.first().severity, Severity::Critical); // most severe first
    }

    void stalePgpoolRoleAfterSwitchover()
    {
        // What the lab showed (LAB-NOTES trap 7): pg-2 promoted, pg-1 now a
        // standby, one pgpool still routes writes to pg-1.
        ClusterSnapshot s = healthy();
        s.postgres[0].role = QStringLiteral("standby");
        s.postgres[0].walReceiverStatus = QStringLiteral("streaming");
        s.postgres[0].upstream = QStringLiteral("pg-2");
        s.postgres[0].lagBytes = 0;
        s.postgres[1].role = QStringLiteral("primary");
        s.postgres[1].walReceiverStatus.clear();
        s.postgres[1].upstream.clear();
        s.postgres[2].upstream = QStringLiteral("pg-2");
        for (auto &pool : s.pgpools) {
            pool.backends[0].pgRole = QStringLiteral("standby");
            pool.backends[1].pgRole = QStringLiteral("primary");
        }
        // the second pgpool caught up, the first did not
        s.pgpools[1].backends[0].role = QStringLiteral("standby");
        s.pgpools[1].backends[1].role = QStringLiteral("primary");
        const auto f = Findings::compute(s, Now);
        auto stale = find(f, QStringLiteral("pgpool-stale-role"));
        QVERIFY(stale);
        QCOMPARE(stale->severity, Severity::Critical);
        QVERIFY(stale->objects.contains(QStringLiteral("pgpool:pgpool.1")));
        QVERIFY(stale->message.contains(QStringLiteral("writes through it fail")));
        QVERIFY(find(f, QStringLiteral("pgpools-disagree")));
        auto mismatch = find(f, QStringLiteral("pgpool-primary-mismatch"));
        QVERIFY(mismatch);
        QCOMPARE(mismatch->objects.first(), QStringLiteral("pgpool:pgpool.1"));
        QVERIFY(!find(f, QStringLiteral("two-primaries")));
    }

    void taskRunningButDatabaseDown()
    {
        ClusterSnapshot s = healthy();
        s.postgres[1].reachable = false;
        s.postgres[1].freshness.error = QStringLiteral("connection refused");
        const auto f = Findings::compute(s, Now);
        auto down = find(f, QStringLiteral("task-running-database-down"));
        QVERIFY(down);
        QVERIFY(down->message.contains(QStringLiteral("connection refused")));
        s.tasks[1].currentState = QStringLiteral("failed");
        QVERIFY(find(Findings::compute(s, Now), QStringLiteral("database-down")));
    }

    void standbyNotStreamingOrLagging()
    {
        ClusterSnapshot s = healthy();
        s.postgres[1].walReceiverStatus.clear();
        s.postgres[2].lagBytes = 64 * 1024 * 1024;
        const auto f = Findings::compute(s, Now);
        QVERIFY(find(f, QStringLiteral("standby-not-streaming")));
        auto lag = find(f, QStringLiteral("standby-lagging"));
        QVERIFY(lag);
        QCOMPARE(lag->objects, QStringList{QStringLiteral("pg:pg-3")});
        Findings::Thresholds loose;
        loose.lagBytesWarning = 128 * 1024 * 1024;
        QVERIFY(!find(Findings::compute(s, Now, loose), QStringLiteral("standby-lagging")));
    }

    // Captured on a fresh lab (CI, tst_status_cli): pg-3 had 4296 bytes not
    // yet replayed and its last replayed commit was 57.7 s old, the primary
    // having been idle; the primary's walsender showed no replay lag. Not a
    // lagging standby. With a replay lag the primary measures, it is one.
    void standbyLagInSecondsIsThePrimarysMeasure()
    {
        ClusterSnapshot s = healthy();
        s.postgres[2].lagBytes = 4296;
        s.postgres[2].lagSeconds = 57.7;
        ReplicationLink link;
        link.applicationName = QStringLiteral("pg-3");
        link.state = QStringLiteral("streaming");
        s.postgres[0].replicas = {link};
        QVERIFY(!find(Findings::compute(s, Now), QStringLiteral("standby-lagging")));
        s.postgres[0].replicas[0].replayLagSeconds = 45.2;
        auto lag = find(Findings::compute(s, Now), QStringLiteral("standby-lagging"));
        QVERIFY(lag);
        QVERIFY2(lag->message.contains(QStringLiteral("4296 bytes / 45.2 s")),
                 qPrintable(lag->message));
        // Not listed by the primary: the standby's own figure is all there is.
        s.postgres[0].replicas.clear();
        lag = find(Findings::compute(s, Now), QStringLiteral("standby-lagging"));
        QVERIFY(lag);
        QVERIFY2(lag->message.contains(QStringLiteral("57.7 s")), qPrintable(lag->message));
    }

    void repmgrdPausedOrNotRunning()
    {
        // A switchover interrupted after "pause repmgrd on every node": no
        // automatic failover anywhere, which nothing else would show.
        ClusterSnapshot s = healthy();
        for (PostgresNodeState &n : s.postgres)
            n.repmgrd = QStringLiteral("paused");
        auto f = Findings::compute(s, Now);
        auto paused = find(f, QStringLiteral("repmgrd-paused"));
        QVERIFY(paused);
        QCOMPARE(paused->severity, Severity::Critical);
        QCOMPARE(paused->objects, (QStringList{QStringLiteral("pg:pg-1"), QStringLiteral("pg:pg-2"),
                                               QStringLiteral("pg:pg-3")}));
        QVERIFY2(paused->message.contains(QStringLiteral("is off")) &&
                     paused->message.contains(QStringLiteral("repmgr service unpause")),
                 qPrintable(paused->message));

        // One node only: the others still fail over, a warning.
        s = healthy();
        s.postgres[2].repmgrd = QStringLiteral("not running");
        f = Findings::compute(s, Now);
        auto stopped = find(f, QStringLiteral("repmgrd-not-running"));
        QVERIFY(stopped);
        QCOMPARE(stopped->severity, Severity::Warning);
        QCOMPARE(stopped->objects, QStringList{QStringLiteral("pg:pg-3")});
        QVERIFY(!find(f, QStringLiteral("repmgrd-paused")));

        // Unknown (repmgr did not say) and unreachable nodes do not count.
        s = healthy();
        s.postgres[0].repmgrd.clear();
        s.postgres[1].reachable = false;
        s.postgres[1].repmgrd = QStringLiteral("paused");
        QVERIFY(!find(Findings::compute(s, Now), QStringLiteral("repmgrd-paused")));
        s.postgres[2].repmgrd = QStringLiteral("paused");
        auto last = find(Findings::compute(s, Now), QStringLiteral("repmgrd-paused"));
        QVERIFY(last);
        QCOMPARE(last->objects, QStringList{QStringLiteral("pg:pg-3")});
        QCOMPARE(last->severity, Severity::Critical); // the one node that says is off
    }

    void etcdQuorumAndLeaderViews()
    {
        ClusterSnapshot s = healthy();
        s.etcd.members[1].healthy = false;
        s.etcd.members[2].healthy = false;
        s.etcd.healthyMembers = 1;
        s.etcd.quorum = false;
        auto f = Findings::compute(s, Now);
        QVERIFY(find(f, QStringLiteral("etcd-no-quorum")));
        QCOMPARE(codes(f).count(QStringLiteral("etcd-member-unhealthy")), 2);

        s = healthy();
        s.etcd.members[2].leaderId = QStringLiteral("103");
        f = Findings::compute(s, Now);
        QVERIFY(find(f, QStringLiteral("etcd-split-leader")));
        QVERIFY(!find(f, QStringLiteral("etcd-no-quorum")));
    }

    void certificateDays_data()
    {
        QTest::addColumn<int>("days");
        QTest::addColumn<QString>("code");
        QTest::addColumn<int>("severity");
        QTest::newRow("31") << 31 << QString() << -1;
        QTest::newRow("30") << 30 << "certificate-expiring" << int(Severity::Info);
        QTest::newRow("14") << 14 << "certificate-expiring" << int(Severity::Warning);
        QTest::newRow("7") << 7 << "certificate-expiring" << int(Severity::Critical);
        QTest::newRow("expired") << -1 << "certificate-expired" << int(Severity::Critical);
    }

    void certificateDays()
    {
        QFETCH(int, days);
        QFETCH(QString, code);
        QFETCH(int, severity);
        ClusterSnapshot s = healthy();
        CertificateState cert;
        cert.where = QStringLiteral("https://app.pilothouse.lab");
        cert.notAfter = Now.addDays(days).addSecs(60);
        if (days < 0)
            cert.notAfter = Now.addDays(days);
        s.certificates.append(cert);
        const auto f = Findings::compute(s, Now);
        if (code.isEmpty()) {
            QVERIFY(f.isEmpty());
            return;
        }
        QCOMPARE(f.size(), 1);
        QCOMPARE(f.first().code, code);
        QCOMPARE(int(f.first().severity), severity);
    }

    void staleValues()
    {
        ClusterSnapshot s = healthy();
        s.postgres[2].freshness = {Now.addSecs(-12), true, QStringLiteral("host unreachable")};
        const auto f = Findings::compute(s, Now);
        auto stale = find(f, QStringLiteral("stale-value"));
        QVERIFY(stale);
        QVERIFY2(stale->message.contains(QStringLiteral("12 s old")), qPrintable(stale->message));
        QCOMPARE(stale->objects, QStringList{QStringLiteral("pg:pg-3")});
    }

    void proxyRoutes()
    {
        ClusterSnapshot s = healthy();
        ProxyRoute ok;
        ok.host = QStringLiteral("app.pilothouse.lab");
        ok.service = QStringLiteral("app");
        ok.proxy = QStringLiteral("swarm-01");
        ok.statusCode = 200;
        for (int i = 1; i <= 3; ++i)
            ok.backends.append({QStringLiteral("app%1").arg(i), true, {}});
        s.routes.append(ok);
        QCOMPARE(codes(Findings::compute(s, Now)), QStringList());

        ProxyRoute degraded = ok;
        degraded.proxy = QStringLiteral("swarm-02");
        degraded.backends[0].up = false;
        ProxyRoute dead = ok;
        dead.proxy = QStringLiteral("swarm-03");
        dead.statusCode = 0;
        dead.error = QStringLiteral("connection refused");
        for (ProxyBackend &b : dead.backends)
            b.up = false;
        s.routes << degraded << dead;
        const auto f = Findings::compute(s, Now);
        auto failing = find(f, QStringLiteral("route-failing"));
        QVERIFY(failing);
        QCOMPARE(failing->objects,
                 QStringList{QStringLiteral("route:app.pilothouse.lab@swarm-03")});
        QVERIFY(failing->message.contains(QStringLiteral("connection refused")));
        QCOMPARE(codes(f).count(QStringLiteral("route-backends-down")), 2);
        for (const Finding &x : f) {
            if (x.code == u"route-backends-down")
                QCOMPARE(x.severity, x.objects.first().endsWith(u"swarm-03") ? Severity::Critical
                                                                             : Severity::Warning);
        }
    }

    void unreachableHostAndSwarmNode()
    {
        ClusterSnapshot s = healthy();
        s.hosts[2].reachable = false;
        s.swarmNodes[2].state = QStringLiteral("down");
        const auto f = Findings::compute(s, Now);
        QVERIFY(find(f, QStringLiteral("host-unreachable")));
        QVERIFY(find(f, QStringLiteral("swarm-node-down")));
    }

    void countsNameTheWorst()
    {
        QCOMPARE(Findings::Counts::of({}).worst(), Severity::Info);
        QList<Finding> f{{Severity::Info, QStringLiteral("a"), {}, {}},
                         {Severity::Warning, QStringLiteral("b"), {}, {}},
                         {Severity::Warning, QStringLiteral("c"), {}, {}}};
        auto c = Findings::Counts::of(f);
        QCOMPARE(c.info, 1);
        QCOMPARE(c.warning, 2);
        QCOMPARE(c.critical, 0);
        QCOMPARE(c.problems(), 2);
        QCOMPARE(c.worst(), Severity::Warning);
        f.append({Severity::Critical, QStringLiteral("d"), {}, {}});
        c = Findings::Counts::of(f);
        QCOMPARE(c.problems(), 3);
        QCOMPARE(c.worst(), Severity::Critical);
        // A healthy lab's snapshot: nothing to attend to.
        QCOMPARE(Findings::Counts::of(Findings::compute(healthy(), Now)).problems(), 0);
    }
};

QTEST_GUILESS_MAIN(TestFindings)
#include "tst_findings.moc"
