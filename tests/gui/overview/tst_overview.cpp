// The overview diagram on snapshots shaped like the lab's (hosts swarm-01..03,
// pg-1..3, two pgpool tasks, etcd1..3, the HAProxy route on each host, six app
// replicas): keys, states in words, stable positions across syncs, selection,
// and screenshots in light and dark palettes for a person to look at.

#include "ui/overview/overviewscene.h"
#include "ui/overview/overviewview.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QGraphicsItem>
#include <QGraphicsView>
#include <QHelpEvent>
#include <QLabel>
#include <QSignalSpy>
#include <QTest>
#include <QToolTip>
#include <QTreeWidget>

#include "tests/gui/overview/labstatus.h"
#include "tests/guisupport.h"

using namespace Pilothouse;

namespace {

const QDateTime Now = QDateTime(QDate(2026, 11, 26), QTime(10, 0, 0), Qt::UTC);

Freshness fresh(int secondsAgo = 0)
{
    return Freshness{Now.addSecs(-secondsAgo), false, {}};
}

QString host(int n)
{
    return QStringLiteral("swarm-0%1").arg(n);
}

TaskState task(const QString &service, int slot, int hostN, const QString &state = {})
{
    TaskState t;
    t.id = QStringLiteral("t%1%2").arg(service).arg(slot).remove(u'-');
    t.service = service;
    t.slot = slot;
    t.nodeId = QStringLiteral("node%1").arg(hostN);
    t.hostname = host(hostN);
    t.desiredState = QStringLiteral("running");
    t.currentState = state.isEmpty() ? QStringLiteral("running") : state;
    t.since = Now.addSecs(-3600);
    return t;
}

PgpoolBackend backend(int node, const QString &role, qint64 selects)
{
    PgpoolBackend b;
    b.nodeId = node - 1;
    b.hostname = QStringLiteral("pg-%1").arg(node);
    b.port = 5432;
    b.status = QStringLiteral("up");
    b.pgStatus = QStringLiteral("up");
    b.lbWeight = 1.0 / 3;
    b.role = role;
    b.pgRole = role;
    b.selectCount = selects;
    b.loadBalanceNode = node == 2;
    b.replicationState = role == u"standby" ? QStringLiteral("streaming") : QString();
    b.healthCheckTotal = 3600;
    b.healthCheckSuccess = 3600;
    b.healthCheckFail = 0;
    b.healthCheckAverageMs = 2.5;
    return b;
}

ClusterSnapshot healthy()
{
    ClusterSnapshot s;
    s.takenAt = Now;
    for (int n = 1; n <= 3; ++n) {
        s.hosts.append(
            {host(n), QStringLiteral("10.213.0.1%1").arg(n), true, 0.8 + n * 0.3, fresh()});
        SwarmNodeState node;
        node.id = QStringLiteral("node%1").arg(n);
        node.hostname = host(n);
        node.state = QStringLiteral("ready");
        node.availability = QStringLiteral("active");
        node.manager = true;
        node.leader = n == 1;
        node.managerReachability = QStringLiteral("reachable");
        node.address = QStringLiteral("10.213.0.1%1").arg(n);
        node.labels = {QStringLiteral("pilothouse.node=") + host(n)};
        s.swarmNodes.append(node);

        s.tasks.append(task(QStringLiteral("pg-%1").arg(n), 1, n));
        s.tasks.append(task(QStringLiteral("etcd%1").arg(n), 1, n));
        s.tasks.append(task(QStringLiteral("haproxy"), 0, n));
        s.tasks.append(task(QStringLiteral("app"), n, n));
        s.tasks.append(task(QStringLiteral("app"), n + 3, n));
        if (n <= 2)
            s.tasks.append(task(QStringLiteral("pgpool"), n, n));

        PostgresNodeState pg;
        pg.name = QStringLiteral("pg-%1").arg(n);
        pg.host = host(n);
        pg.reachable = true;
        pg.timeline = 1;
        pg.connections = 12 + n;
        pg.xactCommit = 40000 + n;
        pg.version = QStringLiteral("PostgreSQL 15.10 (Debian 15.10-0+deb12u1)");
        pg.freshness = fresh();
        for (int r = 1; r <= 3; ++r)
            pg.repmgr.append({r, QStringLiteral("pg-%1").arg(r),
                              r == 1 ? QStringLiteral("primary") : QStringLiteral("standby"), true,
                              r == 1 ? 0 : 1, 100,
                              QStringLiteral("host=pg-%1 user=repmgr dbname=repmgr").arg(r)});
        if (n == 1) {
            pg.role = QStringLiteral("primary");
            pg.currentLsn = QStringLiteral("0/5A0001F8");
            pg.lagBytes = 0;
            pg.lagSeconds = 0;
            for (int r = 2; r <= 3; ++r) {
                ReplicationLink link;
                link.applicationName = QStringLiteral("pg-%1").arg(r);
                link.clientAddress = QStringLiteral("10.0.1.%1").arg(10 + r);
                link.state = QStringLiteral("streaming");
                link.syncState = QStringLiteral("async");
                link.replayLagSeconds = 0.001 * r;
                link.lagBytes = 0;
                pg.replicas.append(link);
            }
        } else {
            pg.role = QStringLiteral("standby");
            pg.receivedLsn = QStringLiteral("0/5A0001F8");
            pg.replayedLsn = QStringLiteral("0/5A0001F8");
            pg.lagBytes = 0;
            pg.lagSeconds = 0;
            pg.upstream = QStringLiteral("pg-1");
            pg.walReceiverStatus = QStringLiteral("streaming");
        }
        s.postgres.append(pg);

        EtcdMemberState m;
        m.name = QStringLiteral("etcd%1").arg(n);
        m.host = host(n);
        m.memberId = QStringLiteral("1234567890%1").arg(n);
        m.healthy = true;
        m.leaderId = QStringLiteral("12345678901");
        m.isLeader = n == 1;
        m.raftTerm = 2;
        m.raftIndex = 18200 + n;
        m.version = QStringLiteral("3.4.23");
        m.dbSize = 98304;
        m.freshness = fresh();
        s.etcd.members.append(m);
    }
    s.etcd.clusterSize = 3;
    s.etcd.healthyMembers = 3;
    s.etcd.quorum = true;

    for (int p = 1; p <= 2; ++p) {
        PgpoolInstanceState pool;
        pool.task = QStringLiteral("pgpool.%1").arg(p);
        pool.host = host(p);
        pool.reachable = true;
        pool.freshness = fresh();
        pool.backends = {backend(1, QStringLiteral("primary"), 120 * p),
                         backend(2, QStringLiteral("standby"), 3400 * p),
                         backend(3, QStringLiteral("standby"), 3300 * p)};
        s.pgpools.append(pool);
    }

    for (int n = 1; n <= 3; ++n) {
        ProxyRoute r;
        r.host = QStringLiteral("app.pilothouse.lab");
        r.service = QStringLiteral("app");
        r.proxy = host(n);
        for (int a = 1; a <= 6; ++a)
            r.backends.append({QStringLiteral("app%1").arg(a), true, QStringLiteral("L7OK")});
        r.statusCode = 200;
        r.latencyMs = 7.5 + n;
        r.freshness = fresh();
        s.routes.append(r);

        CertificateState c;
        c.where = QStringLiteral("https://app.pilothouse.lab via ") + host(n);
        c.subject = QStringLiteral("CN=app.pilothouse.lab");
        c.issuer = QStringLiteral("CN=app.pilothouse.lab");
        c.subjectAltNames = {QStringLiteral("DNS:app.pilothouse.lab")};
        c.notAfter = Now.addDays(365).addSecs(12 * 3600);
        c.daysLeft = 365;
        s.certificates.append(c);
    }
    for (int a = 1; a <= 6; ++a)
        s.appReplicas.append({QStringLiteral("app%1").arg(a),
                              QStringLiteral("10.0.1.%1:8080").arg(20 + a), true, 1.5 + a * 0.4,
                              QStringLiteral("L7OK 200"), fresh()});
    return s;
}

PostgresNodeState &pg(ClusterSnapshot &s, const char *name)
{
    for (PostgresNodeState &n : s.postgres) {
        if (n.name == QLatin1String(name))
            return n;
    }
    qFatal("no node %s", name);
}

// pg-3's container killed: it does not answer, the primary no longer lists it.
void killStandby(ClusterSnapshot &s)
{
    PostgresNodeState &n = pg(s, "pg-3");
    n.reachable = false;
    n.freshness = Freshness{Now.addSecs(-4), true, QStringLiteral("connection refused")};
    PostgresNodeState &p = pg(s, "pg-1");
    p.replicas.removeIf([](const ReplicationLink &l) { return l.applicationName == u"pg-3"; });
    for (TaskState &t : s.tasks) {
        if (t.service == u"pg-3")
            t.currentState = QStringLiteral("starting");
    }
    for (PgpoolInstanceState &pool : s.pgpools)
        pool.backends[2].status = QStringLiteral("down");
}

QStringList withPrefix(const QStringList &keys, const QString &prefix)
{
    QStringList out;
    for (const QString &k : keys) {
        if (k.startsWith(prefix))
            out.append(k);
    }
    return out;
}

QPalette darkPalette()
{
    QPalette p;
    const QColor window(0x2b, 0x2d, 0x30);
    const QColor base(0x1f, 0x21, 0x24);
    const QColor text(0xe3, 0xe5, 0xe8);
    p.setColor(QPalette::Window, window);
    p.setColor(QPalette::WindowText, text);
    p.setColor(QPalette::Base, base);
    p.setColor(QPalette::AlternateBase, QColor(0x26, 0x28, 0x2b));
    p.setColor(QPalette::Text, text);
    p.setColor(QPalette::Button, window);
    p.setColor(QPalette::ButtonText, text);
    p.setColor(QPalette::Highlight, QColor(0x3d, 0x7b, 0xd9));
    p.setColor(QPalette::HighlightedText, Qt::white);
    p.setColor(QPalette::ToolTipBase, base);
    p.setColor(QPalette::ToolTipText, text);
    p.setColor(QPalette::Mid, QColor(0x45, 0x48, 0x4c));
    p.setColor(QPalette::Disabled, QPalette::Text, QColor(0x80, 0x80, 0x80));
    p.setColor(QPalette::Disabled, QPalette::WindowText, QColor(0x80, 0x80, 0x80));
    return p;
}

} // namespace

class TestOverview final : public QObject
{
    Q_OBJECT

private:
    static void save(QWidget *w, const QString &name)
    {
        QVERIFY(TestSupport::saveScreenshot(w, name, QSize(1400, 900)));
    }

private Q_SLOTS:
    void keysOfTheLab()
    {
        OverviewScene scene;
        scene.sync(healthy(), Now);
        const QStringList keys = scene.keys();
        QCOMPARE(withPrefix(keys, QStringLiteral("host:")),
                 QStringList({QStringLiteral("host:swarm-01"), QStringLiteral("host:swarm-02"),
                              QStringLiteral("host:swarm-03")}));
        QCOMPARE(withPrefix(keys, QStringLiteral("pg:")).size(), 3);
        int primaries = 0;
        for (const QString &k : withPrefix(keys, QStringLiteral("pg:"))) {
            if (scene.summary(k).startsWith(u"primary"))
                ++primaries;
        }
        QCOMPARE(primaries, 1);
        QCOMPARE(scene.summary(QStringLiteral("pg:pg-1")), QStringLiteral("primary, timeline 1"));
        QVERIFY(scene.summary(QStringLiteral("pg:pg-2")).startsWith(u"standby, timeline 1"));
        QCOMPARE(withPrefix(keys, QStringLiteral("repl:")),
                 QStringList({QStringLiteral("repl:pg-2"), QStringLiteral("repl:pg-3")}));
        QVERIFY(scene.summary(QStringLiteral("repl:pg-2")).startsWith(u"streaming"));

        const QStringList etcd = withPrefix(keys, QStringLiteral("etcd:"));
        QCOMPARE(etcd.size(), 3);
        int leaders = 0;
        for (const QString &k : etcd) {
            if (scene.summary(k).startsWith(u"leader"))
                ++leaders;
        }
        QCOMPARE(leaders, 1);
        QCOMPARE(scene.summary(QStringLiteral("etcd")), QStringLiteral("quorum 3/3"));

        QCOMPARE(withPrefix(keys, QStringLiteral("pgpool:")).size(), 2 + 2 * 3);
        for (const QString &pool :
             {QStringLiteral("pgpool:pgpool.1"), QStringLiteral("pgpool:pgpool.2")}) {
            QVERIFY(keys.contains(pool));
            QCOMPARE(withPrefix(keys, pool + QStringLiteral("/backend:")).size(), 3);
            QVERIFY2(!scene.summary(pool).contains(u"disagree"), qPrintable(scene.summary(pool)));
        }
        QVERIFY(scene.summary(QStringLiteral("pgpool:pgpool.1/backend:pg-1"))
                    .startsWith(u"up, primary"));

        QCOMPARE(withPrefix(keys, QStringLiteral("route:")).size(), 3);
        const QString route = QStringLiteral("route:app.pilothouse.lab@swarm-01");
        QVERIFY(keys.contains(route));
        QVERIFY2(scene.summary(route).contains(u"6/6 app backends up"),
                 qPrintable(scene.summary(route)));
        QVERIFY2(scene.summary(route).contains(u"365 days left"), qPrintable(scene.summary(route)));
        QVERIFY(keys.contains(QStringLiteral("cert:https://app.pilothouse.lab via swarm-01")));
        QCOMPARE(withPrefix(keys, QStringLiteral("app:")).size(), 6);
        QCOMPARE(scene.summary(QStringLiteral("app:app1")), QStringLiteral("healthy, 1.9 ms"));

        QVERIFY(scene.summary(QStringLiteral("host:swarm-01")).contains(u"manager (leader)"));
        QVERIFY(scene.summary(QStringLiteral("host:swarm-01")).contains(QStringLiteral("app ×2")));
        for (const QString &k : keys) {
            QVERIFY2(!scene.properties(k).isEmpty(), qPrintable(k));
            QVERIFY2(!scene.summary(k).isEmpty(), qPrintable(k));
            QVERIFY2(!scene.isStale(k), qPrintable(k));
            QVERIFY2(!scene.toolTip(k).isEmpty(), qPrintable(k));
        }
    }

    void hostsAreColumnsInOrder()
    {
        OverviewScene scene;
        ClusterSnapshot s = healthy();
        std::reverse(s.hosts.begin(), s.hosts.end());
        scene.sync(s, Now);
        const auto x = [&](const char *key) {
            return scene.item(QLatin1String(key))->scenePos().x();
        };
        QVERIFY(x("host:swarm-01") < x("host:swarm-02"));
        QVERIFY(x("host:swarm-02") < x("host:swarm-03"));
        // Each node sits in its host's column, below the host.
        QCOMPARE(x("pg:pg-2"), x("host:swarm-02"));
        QCOMPARE(x("etcd:etcd3"), x("host:swarm-03"));
        QCOMPARE(x("pgpool:pgpool.2"), x("host:swarm-02"));
        QCOMPARE(x("route:app.pilothouse.lab@swarm-03"), x("host:swarm-03"));
        const auto y = [&](const char *key) {
            return scene.item(QLatin1String(key))->scenePos().y();
        };
        QVERIFY(y("host:swarm-01") < y("pg:pg-1"));
        QVERIFY(y("pg:pg-1") < y("etcd:etcd1"));
        QVERIFY(y("etcd:etcd1") < y("pgpool:pgpool.1"));
        QVERIFY(y("pgpool:pgpool.1") < y("route:app.pilothouse.lab@swarm-01"));
        QVERIFY(y("route:app.pilothouse.lab@swarm-01") < y("app:app1"));
    }

    void standbyGoesDownAndComesBack()
    {
        OverviewScene scene;
        scene.sync(healthy(), Now);
        QGraphicsItem *node = scene.item(QStringLiteral("pg:pg-3"));
        QGraphicsItem *edge = scene.item(QStringLiteral("repl:pg-3"));
        ClusterSnapshot down = healthy();
        killStandby(down);
        scene.sync(down, Now);
        QVERIFY2(scene.summary(QStringLiteral("pg:pg-3")).startsWith(u"down"),
                 qPrintable(scene.summary(QStringLiteral("pg:pg-3"))));
        QVERIFY(scene.summary(QStringLiteral("pg:pg-3")).contains(u"connection refused"));
        QVERIFY2(scene.summary(QStringLiteral("repl:pg-3")).startsWith(u"broken: pg-3 down"),
                 qPrintable(scene.summary(QStringLiteral("repl:pg-3"))));
        QVERIFY(scene.summary(QStringLiteral("repl:pg-2")).startsWith(u"streaming"));
        QVERIFY(scene.isStale(QStringLiteral("pg:pg-3")));
        QVERIFY(scene.summary(QStringLiteral("host:swarm-03")).contains(u"pg-3 · starting"));
        // Same items, same places.
        QCOMPARE(scene.item(QStringLiteral("pg:pg-3")), node);
        QCOMPARE(scene.item(QStringLiteral("repl:pg-3")), edge);

        scene.sync(healthy(), Now.addSecs(5));
        QVERIFY(scene.summary(QStringLiteral("pg:pg-3")).startsWith(u"standby"));
        QVERIFY(scene.summary(QStringLiteral("repl:pg-3")).startsWith(u"streaming"));
        QVERIFY(!scene.isStale(QStringLiteral("pg:pg-3")));
    }

    void laggingLinkIsMarked()
    {
        OverviewScene scene;
        ClusterSnapshot s = healthy();
        pg(s, "pg-2").lagBytes = 48 * 1024 * 1024;
        // The primary's walsender says how far behind in time (the standby's
        // own "since the last replayed commit" is not the lag).
        pg(s, "pg-2").lagSeconds = 300;
        for (ReplicationLink &l : pg(s, "pg-1").replicas) {
            if (l.applicationName == u"pg-2")
                l.replayLagSeconds = 42;
        }
        scene.sync(s, Now);
        QVERIFY2(
            scene.summary(QStringLiteral("repl:pg-2")).startsWith(u"lagging, 48.0 MiB / 42.0 s"),
            qPrintable(scene.summary(QStringLiteral("repl:pg-2"))));
        pg(s, "pg-2").walReceiverStatus = QStringLiteral("stopping");
        scene.sync(s, Now);
        QVERIFY(scene.summary(QStringLiteral("repl:pg-2")).startsWith(u"broken: not streaming"));
        QVERIFY(scene.summary(QStringLiteral("pg:pg-2")).contains(u"not streaming"));
    }

    void valuesChangeWithoutMovingOrRecreating()
    {
        OverviewScene scene;
        scene.sync(healthy(), Now);
        const int layouts = scene.layoutCount();
        QHash<QString, QGraphicsItem *> items;
        QHash<QString, QPointF> positions;
        for (const QString &k : scene.keys()) {
            items.insert(k, scene.item(k));
            positions.insert(k, scene.item(k)->scenePos());
        }
        const QRectF rect = scene.sceneRect();
        const QStringList keys = scene.keys();

        for (int tick = 1; tick <= 5; ++tick) {
            ClusterSnapshot s = healthy();
            pg(s, "pg-1").currentLsn = QStringLiteral("0/5B%1").arg(tick * 1111);
            pg(s, "pg-2").lagBytes = tick * 1000;
            pg(s, "pg-3").lagSeconds = tick * 0.1;
            for (PgpoolInstanceState &p : s.pgpools)
                p.backends[1].selectCount += tick * 50;
            for (AppReplicaState &a : s.appReplicas)
                a.latencyMs += tick;
            s.etcd.members[0].raftIndex += tick;
            s.routes[0].latencyMs = 30 + tick;
            s.hosts[1].sshLatencyMs = 2 + tick;
            scene.sync(s, Now.addSecs(tick));
            QCOMPARE(scene.keys(), keys);
            for (auto it = items.cbegin(); it != items.cend(); ++it) {
                QCOMPARE(scene.item(it.key()), it.value());
                QCOMPARE(it.value()->scenePos(), positions.value(it.key()));
            }
            QCOMPARE(scene.sceneRect(), rect);
        }
        QCOMPARE(scene.layoutCount(), layouts);
        QVERIFY(scene.summary(QStringLiteral("app:app1")).contains(u"6.9 ms"));

        // A failure changes what items show, not where they are.
        ClusterSnapshot down = healthy();
        killStandby(down);
        scene.sync(down, Now.addSecs(10));
        for (auto it = items.cbegin(); it != items.cend(); ++it) {
            QCOMPARE(scene.item(it.key()), it.value());
            QCOMPARE(it.value()->scenePos(), positions.value(it.key()));
        }
        QCOMPARE(scene.layoutCount(), layouts);
    }

    void itemsComeAndGoByKey()
    {
        OverviewScene scene;
        scene.sync(healthy(), Now);
        QGraphicsItem *app1 = scene.item(QStringLiteral("app:app1"));
        const QPointF app1Pos = app1->scenePos();
        ClusterSnapshot s = healthy();
        s.appReplicas.removeLast();
        s.pgpools.removeLast();
        scene.sync(s, Now);
        QCOMPARE(withPrefix(scene.keys(), QStringLiteral("app:")).size(), 5);
        QVERIFY(!scene.item(QStringLiteral("app:app6")));
        QVERIFY(!scene.item(QStringLiteral("pgpool:pgpool.2")));
        QVERIFY(!scene.item(QStringLiteral("pgpool:pgpool.2/backend:pg-1")));
        QCOMPARE(scene.item(QStringLiteral("app:app1")), app1);
        QCOMPARE(app1->scenePos(), app1Pos);
        scene.sync(healthy(), Now);
        QCOMPARE(withPrefix(scene.keys(), QStringLiteral("app:")).size(), 6);
        QCOMPARE(withPrefix(scene.keys(), QStringLiteral("pgpool:")).size(), 8);
        QCOMPARE(scene.item(QStringLiteral("app:app1")), app1);
    }

    void pgpoolDisagreementIsShown()
    {
        OverviewScene scene;
        ClusterSnapshot s = healthy();
        // pgpool.2 still believes pg-2 is the primary (a failover it missed),
        // and it has detached pg-3 while pgpool.1 sees it up.
        PgpoolInstanceState &p2 = s.pgpools[1];
        p2.backends[0].role = QStringLiteral("standby");
        p2.backends[1].role = QStringLiteral("primary");
        p2.backends[2].status = QStringLiteral("down");
        scene.sync(s, Now);
        const QString p2Summary = scene.summary(QStringLiteral("pgpool:pgpool.2"));
        QVERIFY2(p2Summary.contains(u"disagree"), qPrintable(p2Summary));
        QVERIFY2(p2Summary.contains(u"writes go to pg-2, not the primary pg-1"),
                 qPrintable(p2Summary));
        const QString p1Summary = scene.summary(QStringLiteral("pgpool:pgpool.1"));
        QVERIFY2(p1Summary.contains(u"primary: pg-1 here, pg-2 on pgpool.2"),
                 qPrintable(p1Summary));
        QVERIFY2(p1Summary.contains(u"pg-3: up here, down on pgpool.2"), qPrintable(p1Summary));
        const QString row = scene.summary(QStringLiteral("pgpool:pgpool.2/backend:pg-2"));
        QVERIFY2(row.contains(u"primary (PostgreSQL: standby)"), qPrintable(row));
        QVERIFY(row.contains(u"disagrees"));
        QVERIFY(
            scene.summary(QStringLiteral("pgpool:pgpool.2/backend:pg-3")).contains(u"detached"));
        bool listed = false;
        for (const auto &p : scene.properties(QStringLiteral("pgpool:pgpool.2")))
            listed = listed || (p.first == u"Disagreement" && p.second.contains(u"pg-2"));
        QVERIFY(listed);
    }

    void staleValuesAreGreyedWithTheirAge()
    {
        OverviewScene scene;
        ClusterSnapshot s = healthy();
        pg(s, "pg-2").freshness = Freshness{Now.addSecs(-12), true, QStringLiteral("timeout")};
        s.appReplicas[3].freshness = Freshness{Now.addSecs(-200), true, QStringLiteral("stats")};
        s.etcd.members[2].freshness = Freshness{};
        scene.sync(s, Now);
        QVERIFY(scene.isStale(QStringLiteral("pg:pg-2")));
        QVERIFY2(scene.summary(QStringLiteral("pg:pg-2")).contains(u"(stale, 12 s ago)"),
                 qPrintable(scene.summary(QStringLiteral("pg:pg-2"))));
        QVERIFY(scene.isStale(QStringLiteral("repl:pg-2")));
        QVERIFY(scene.summary(QStringLiteral("repl:pg-2")).contains(u"12 s ago"));
        QVERIFY(scene.isStale(QStringLiteral("app:app4")));
        QVERIFY(scene.summary(QStringLiteral("app:app4")).contains(u"3 min ago"));
        QVERIFY(scene.isStale(QStringLiteral("etcd:etcd3")));
        QVERIFY(scene.summary(QStringLiteral("etcd:etcd3")).contains(u"never read"));
        QVERIFY(!scene.isStale(QStringLiteral("pg:pg-1")));
        // The age follows `now`, not the wall clock.
        scene.sync(s, Now.addSecs(10));
        QVERIFY(scene.summary(QStringLiteral("pg:pg-2")).contains(u"22 s ago"));
    }

    void etcdQuorumBadge()
    {
        OverviewScene scene;
        ClusterSnapshot s = healthy();
        s.etcd.members[1].healthy = false;
        s.etcd.members[1].errors = {QStringLiteral("context deadline exceeded")};
        s.etcd.healthyMembers = 2;
        scene.sync(s, Now);
        QCOMPARE(scene.summary(QStringLiteral("etcd")), QStringLiteral("2/3 ok"));
        QVERIFY(scene.summary(QStringLiteral("etcd:etcd2")).startsWith(u"unhealthy"));
        s.etcd.members[2].healthy = false;
        s.etcd.healthyMembers = 1;
        s.etcd.quorum = false;
        scene.sync(s, Now);
        QCOMPARE(scene.summary(QStringLiteral("etcd")), QStringLiteral("quorum lost · 1/3"));
    }

    void syncRepaintsOnlyWhatChanged()
    {
        OverviewView view;
        view.resize(1400, 900);
        view.show();
        QVERIFY(QTest::qWaitForWindowExposed(&view));
        OverviewScene *scene = view.scene();
        scene->sync(healthy(), Now);
        QCoreApplication::processEvents();
        QSignalSpy changed(scene, &QGraphicsScene::changed);
        const auto dirty = [&] {
            QCoreApplication::processEvents();
            QRectF r;
            for (const QList<QVariant> &args : std::as_const(changed)) {
                for (const QRectF &rect : args.at(0).value<QList<QRectF>>())
                    r = r.united(rect);
            }
            changed.clear();
            return r;
        };
        // The same values again: nothing to repaint.
        scene->sync(healthy(), Now.addSecs(1));
        QCOMPARE(dirty(), QRectF());
        // One app replica's latency: only its tile.
        ClusterSnapshot s = healthy();
        s.appReplicas[2].latencyMs = 40;
        scene->sync(s, Now.addSecs(2));
        const QRectF tile = scene->item(QStringLiteral("app:app3"))->sceneBoundingRect();
        const QRectF r = dirty();
        QVERIFY(!r.isEmpty());
        QVERIFY2(tile.contains(r), qPrintable(QStringLiteral("%1,%2 %3x%4")
                                                  .arg(r.x())
                                                  .arg(r.y())
                                                  .arg(r.width())
                                                  .arg(r.height())));

        // And it is cheap: the lab's snapshot synced many times.
        QElapsedTimer timer;
        timer.start();
        constexpr int Rounds = 200;
        for (int i = 0; i < Rounds; ++i) {
            ClusterSnapshot next = healthy();
            next.appReplicas[i % 6].latencyMs = i;
            pg(next, "pg-2").lagBytes = i * 100;
            scene->sync(next, Now.addSecs(3 + i));
        }
        const double perSync = double(timer.nsecsElapsed()) / 1e6 / Rounds;
        qInfo("overview sync of the lab's snapshot: %.3f ms", perSync);
        QVERIFY2(perSync < 8, qPrintable(QString::number(perSync)));
    }

    void otherFailures()
    {
        OverviewScene scene;
        ClusterSnapshot s = healthy();
        // Split brain: pg-2 promoted while pg-1 still accepts writes.
        pg(s, "pg-2").role = QStringLiteral("primary");
        pg(s, "pg-2").walReceiverStatus.clear();
        pg(s, "pg-2").upstream.clear();
        // A host that does not answer, its Swarm node down, a pgpool that does not answer.
        s.hosts[2].reachable = false;
        s.hosts[2].freshness = Freshness{Now.addSecs(-6), true, QStringLiteral("timed out")};
        s.swarmNodes[2].state = QStringLiteral("down");
        s.pgpools[1].reachable = false;
        s.pgpools[1].freshness = Freshness{Now.addSecs(-3), true, QStringLiteral("refused")};
        s.routes[0].statusCode = 0;
        s.routes[0].error = QStringLiteral("connection refused");
        scene.sync(s, Now);
        QCOMPARE(scene.summary(QStringLiteral("pg:pg-1")),
                 QStringLiteral("primary, timeline 1, split brain"));
        QCOMPARE(scene.summary(QStringLiteral("pg:pg-2")),
                 QStringLiteral("primary, timeline 1, split brain"));
        QVERIFY(!scene.item(QStringLiteral("repl:pg-2")));
        QVERIFY(
            scene.summary(QStringLiteral("host:swarm-03")).startsWith(u"unreachable (timed out)"));
        QVERIFY(scene.summary(QStringLiteral("host:swarm-03")).contains(u", down,"));
        QVERIFY(scene.isStale(QStringLiteral("host:swarm-03")));
        QVERIFY(scene.summary(QStringLiteral("pgpool:pgpool.2"))
                    .startsWith(u"down (unreachable: refused)"));
        QVERIFY(scene.isStale(QStringLiteral("pgpool:pgpool.2/backend:pg-1")));
        QVERIFY(scene.summary(QStringLiteral("route:app.pilothouse.lab@swarm-01"))
                    .startsWith(u"HTTPS no answer"));

        // Failover done: pg-2 is the only primary, timeline 2; pg-1 and pg-3 follow it.
        ClusterSnapshot f = healthy();
        std::swap(pg(f, "pg-1").replicas, pg(f, "pg-2").replicas);
        pg(f, "pg-1").role = QStringLiteral("standby");
        pg(f, "pg-1").upstream = QStringLiteral("pg-2");
        pg(f, "pg-1").walReceiverStatus = QStringLiteral("streaming");
        pg(f, "pg-2").role = QStringLiteral("primary");
        pg(f, "pg-3").upstream = QStringLiteral("pg-2");
        for (PostgresNodeState &n : f.postgres)
            n.timeline = 2;
        const int layouts = scene.layoutCount();
        scene.sync(f, Now);
        QCOMPARE(scene.summary(QStringLiteral("pg:pg-2")), QStringLiteral("primary, timeline 2"));
        QVERIFY(scene.summary(QStringLiteral("pg:pg-1"))
                    .startsWith(u"standby, timeline 2, streaming from pg-2"));
        QVERIFY(scene.item(QStringLiteral("repl:pg-1")));
        QVERIFY(!scene.item(QStringLiteral("repl:pg-2")));
        QVERIFY(scene.layoutCount() > layouts); // the links changed ends
    }

    void repmgrdPausedIsSaid()
    {
        // What a switchover killed half-way leaves: every database fine, no
        // automatic failover. Said on each card in words, without moving it.
        OverviewView view;
        view.resize(1400, 900);
        view.show();
        QVERIFY(QTest::qWaitForWindowExposed(&view));
        ClusterSnapshot s = healthy();
        view.sync(s, Now);
        const int layouts = view.scene()->layoutCount();
        const QRectF before = view.scene()->item(QStringLiteral("pg:pg-1"))->sceneBoundingRect();
        for (PostgresNodeState &n : s.postgres)
            n.repmgrd = QStringLiteral("paused");
        pg(s, "pg-3").repmgrd = QStringLiteral("not running");
        view.sync(s, Now);
        QCOMPARE(view.scene()->summary(QStringLiteral("pg:pg-1")),
                 QStringLiteral("primary, timeline 1, repmgrd paused"));
        QVERIFY(
            view.scene()->summary(QStringLiteral("pg:pg-3")).endsWith(u", repmgrd not running"));
        QCOMPARE(view.scene()->layoutCount(), layouts);
        QCOMPARE(view.scene()->item(QStringLiteral("pg:pg-1"))->sceneBoundingRect(), before);
        view.scene()->selectKeys({QStringLiteral("pg:pg-2")});
        save(&view, QStringLiteral("overview-repmgrd-paused.png"));
    }

    void followsThePalette()
    {
        OverviewView view;
        view.resize(1400, 900);
        view.show();
        QVERIFY(QTest::qWaitForWindowExposed(&view));
        view.sync(healthy(), Now);
        QGraphicsItem *item = view.scene()->item(QStringLiteral("pg:pg-1"));
        const QPointF pos = item->scenePos();
        const QImage light = view.graphicsView()->grab().toImage();
        view.setPalette(darkPalette());
        QCOMPARE(view.scene()->palette().color(QPalette::Base),
                 darkPalette().color(QPalette::Base));
        const QImage dark = view.graphicsView()->grab().toImage();
        // A card's inside follows the palette's base colour.
        const QPoint inside = view.graphicsView()->mapFromScene(pos + QPointF(300, 60));
        QCOMPARE(light.pixelColor(inside), QColor(Qt::white));
        QCOMPARE(dark.pixelColor(inside), darkPalette().color(QPalette::Base));
        QCOMPARE(view.scene()->item(QStringLiteral("pg:pg-1")), item);
        QCOMPARE(item->scenePos(), pos);
    }

    void emptyBeforeTheFirstPoll()
    {
        OverviewScene scene;
        scene.sync(ClusterSnapshot{}, Now);
        QCOMPARE(scene.keys(), QStringList{QStringLiteral("etcd")});
        QCOMPARE(scene.summary(QStringLiteral("etcd")), QStringLiteral("not read"));
        // Services read before SSH answered: hosts come from where they run.
        ClusterSnapshot early = healthy();
        early.hosts.clear();
        scene.sync(early, Now);
        QCOMPARE(withPrefix(scene.keys(), QStringLiteral("host:")).size(), 3);
        QVERIFY(scene.summary(QStringLiteral("host:swarm-02")).startsWith(u"not probed over SSH"));
        QVERIFY(scene.isStale(QStringLiteral("host:swarm-02")));
        scene.sync(healthy(), Now);
        QCOMPARE(withPrefix(scene.keys(), QStringLiteral("pg:")).size(), 3);
        scene.selectKeys({QStringLiteral("pgpool:pgpool.1/backend:pg-2")});
        scene.sync(ClusterSnapshot{}, Now);
        QCOMPARE(scene.keys(), QStringList{QStringLiteral("etcd")});
        QVERIFY(scene.selectedKeys().isEmpty());
    }

    void selection()
    {
        OverviewScene scene;
        scene.sync(healthy(), Now);
        QSignalSpy spy(&scene, &OverviewScene::selectionKeysChanged);
        scene.selectKeys({QStringLiteral("pg:pg-2"), QStringLiteral("pgpool:pgpool.1"),
                          QStringLiteral("pg:pg-9")});
        const QStringList expected{QStringLiteral("pg:pg-2"), QStringLiteral("pgpool:pgpool.1")};
        QCOMPARE(scene.selectedKeys(), expected);
        QCOMPARE(spy.size(), 1);
        QCOMPARE(spy.at(0).at(0).toStringList(), expected);
        QVERIFY(scene.item(QStringLiteral("pgpool:pgpool.1"))->isSelected());
        QVERIFY(!scene.item(QStringLiteral("pgpool:pgpool.1/backend:pg-1"))->isSelected());

        // The same selection again: no signal.
        scene.selectKeys(expected);
        QCOMPARE(spy.size(), 1);
        // A finding about the etcd quorum and one about a task.
        scene.selectKeys({QStringLiteral("etcd"), QStringLiteral("task:tpg21")});
        QCOMPARE(scene.selectedKeys(),
                 QStringList({QStringLiteral("etcd"), QStringLiteral("host:swarm-02")}));
        QCOMPARE(spy.size(), 2);
        // Selection survives value syncs; items that go away leave it.
        scene.selectKeys({QStringLiteral("app:app6")});
        QCOMPARE(spy.size(), 3);
        scene.sync(healthy(), Now.addSecs(1));
        QCOMPARE(spy.size(), 3);
        ClusterSnapshot s = healthy();
        s.appReplicas.removeLast();
        scene.sync(s, Now.addSecs(2));
        QCOMPARE(spy.size(), 4);
        QVERIFY(scene.selectedKeys().isEmpty());
        scene.selectKeys({});
        QCOMPARE(spy.size(), 4);
    }

    void viewShowsPropertiesOfTheSelection()
    {
        OverviewView view;
        view.resize(1400, 900);
        view.show();
        QVERIFY(QTest::qWaitForWindowExposed(&view));
        view.sync(healthy(), Now);
        auto *tree = view.findChild<QTreeWidget *>(QStringLiteral("overviewProperties"));
        auto *title = view.findChild<QLabel *>(QStringLiteral("overviewSelectionTitle"));
        QVERIFY(tree && title);
        QCOMPARE(tree->topLevelItemCount(), 0);

        // A click on pg-1 in the view selects it and fills the panel.
        QSignalSpy spy(view.scene(), &OverviewScene::selectionKeysChanged);
        QGraphicsView *gv = view.graphicsView();
        const QGraphicsItem *item = view.scene()->item(QStringLiteral("pg:pg-1"));
        const QPoint at = gv->mapFromScene(item->sceneBoundingRect().center());
        // Hovering shows the item's details.
        QTest::mouseMove(gv->viewport(), at);
        QHelpEvent help(QEvent::ToolTip, at, gv->viewport()->mapToGlobal(at));
        QCoreApplication::sendEvent(gv->viewport(), &help);
        QTRY_VERIFY(QToolTip::isVisible());
        QVERIFY2(QToolTip::text().contains(u"primary, timeline 1") &&
                     QToolTip::text().contains(u"0/5A0001F8"),
                 qPrintable(QToolTip::text()));
        QToolTip::hideText();

        QTest::mouseClick(gv->viewport(), Qt::LeftButton, {}, at);
        QCOMPARE(spy.size(), 1);
        QCOMPARE(view.scene()->selectedKeys(), QStringList{QStringLiteral("pg:pg-1")});
        QCOMPARE(title->text(), QStringLiteral("pg:pg-1"));
        QVERIFY(tree->topLevelItemCount() > 5);
        bool timeline = false;
        for (int i = 0; i < tree->topLevelItemCount(); ++i)
            timeline = timeline || (tree->topLevelItem(i)->text(0) == u"Timeline" &&
                                    tree->topLevelItem(i)->text(1) == u"1");
        QVERIFY(timeline);

        // Values follow the sync in place.
        QTreeWidgetItem *first = tree->topLevelItem(0);
        ClusterSnapshot s = healthy();
        pg(s, "pg-1").connections = 99;
        view.sync(s, Now.addSecs(1));
        QCOMPARE(tree->topLevelItem(0), first);
        bool connections = false;
        for (int i = 0; i < tree->topLevelItemCount(); ++i)
            connections = connections || (tree->topLevelItem(i)->text(0) == u"Connections" &&
                                          tree->topLevelItem(i)->text(1) == u"99");
        QVERIFY(connections);

        // Two selected: grouped by key.
        view.scene()->selectKeys({QStringLiteral("pg:pg-1"), QStringLiteral("etcd:etcd1")});
        QCOMPARE(tree->topLevelItemCount(), 2);
        QVERIFY(tree->topLevelItem(1)->childCount() > 3);
    }

    void onTheLabsValues()
    {
        const ClusterSnapshot lab = TestSupport::labStatus(
            QStringLiteral(PILOTHOUSE_SOURCE_DIR "/tests/gui/overview/fixtures/lab-status.json"));
        QVERIFY(lab.takenAt.isValid());
        OverviewView view;
        view.resize(1400, 900);
        view.show();
        QVERIFY(QTest::qWaitForWindowExposed(&view));
        view.sync(lab, lab.takenAt);
        const OverviewScene *scene = view.scene();
        const QStringList keys = scene->keys();
        QCOMPARE(withPrefix(keys, QStringLiteral("host:")).size(), 3);
        QStringList primaries;
        for (const QString &k : withPrefix(keys, QStringLiteral("pg:"))) {
            if (scene->summary(k).startsWith(u"primary"))
                primaries.append(k);
        }
        QCOMPARE(primaries, QStringList{QStringLiteral("pg:pg-1")});
        QCOMPARE(scene->summary(QStringLiteral("pg:pg-1")), QStringLiteral("primary, timeline 5"));
        QCOMPARE(withPrefix(keys, QStringLiteral("repl:")).size(), 2);
        QVERIFY(scene->summary(QStringLiteral("repl:pg-3")).startsWith(u"streaming, lag 0 B"));
        QStringList leaders;
        for (const QString &k : withPrefix(keys, QStringLiteral("etcd:"))) {
            if (scene->summary(k).startsWith(u"leader"))
                leaders.append(k);
        }
        QCOMPARE(leaders, QStringList{QStringLiteral("etcd:etcd3")});
        QCOMPARE(scene->summary(QStringLiteral("etcd")), QStringLiteral("quorum 3/3"));
        QVERIFY(scene->summary(QStringLiteral("host:swarm-03")).contains(u"manager (leader)"));
        QCOMPARE(withPrefix(keys, QStringLiteral("pgpool:pgpool.1/backend:")).size(), 3);
        QCOMPARE(withPrefix(keys, QStringLiteral("pgpool:pgpool.2/backend:")).size(), 3);
        QVERIFY(!scene->summary(QStringLiteral("pgpool:pgpool.1")).contains(u"disagree"));
        QCOMPARE(withPrefix(keys, QStringLiteral("route:")).size(), 3);
        QVERIFY2(scene->summary(QStringLiteral("route:app.pilothouse.lab@swarm-02"))
                     .contains(u"6/6 app backends up, certificate: 3649 days left"),
                 qPrintable(scene->summary(QStringLiteral("route:app.pilothouse.lab@swarm-02"))));
        QCOMPARE(withPrefix(keys, QStringLiteral("app:")).size(), 6);
        for (const QString &k : keys)
            QVERIFY2(!scene->isStale(k), qPrintable(k));
        save(&view, QStringLiteral("overview-lab-light.png"));
    }

    void screenshots()
    {
        for (const bool dark : {false, true}) {
            OverviewView view;
            if (dark)
                view.setPalette(darkPalette());
            view.resize(1400, 900);
            view.show();
            QVERIFY(QTest::qWaitForWindowExposed(&view));
            const QString suffix = dark ? QStringLiteral("-dark") : QStringLiteral("-light");

            view.sync(healthy(), Now);
            view.scene()->selectKeys({QStringLiteral("pg:pg-1")});
            save(&view, QStringLiteral("overview-healthy") + suffix + QStringLiteral(".png"));

            // Several failures at once: pg-3 killed, pgpool.2 with a stale view,
            // an etcd member down, a lagging link, an app replica failing and a
            // host's values stale.
            ClusterSnapshot s = healthy();
            killStandby(s);
            pg(s, "pg-2").lagBytes = 48 * 1024 * 1024;
            pg(s, "pg-2").lagSeconds = 42;
            PgpoolInstanceState &p2 = s.pgpools[1];
            p2.backends[0].role = QStringLiteral("standby");
            p2.backends[1].role = QStringLiteral("primary");
            p2.backends[2].status = QStringLiteral("up");
            s.etcd.members[1].healthy = false;
            s.etcd.members[1].errors = {QStringLiteral("context deadline exceeded")};
            s.etcd.members[1].freshness = Freshness{Now.addSecs(-9), true, {}};
            s.etcd.healthyMembers = 2;
            s.appReplicas[4].healthy = false;
            s.appReplicas[4].detail = QStringLiteral("L7STS 503");
            for (ProxyRoute &r : s.routes)
                r.backends[4].up = false;
            s.hosts[2].freshness = Freshness{Now.addSecs(-15), true, QStringLiteral("timeout")};
            s.certificates[2].notAfter = Now.addDays(10);
            view.sync(s, Now);
            view.scene()->selectKeys({QStringLiteral("repl:pg-3")});
            QVERIFY(view.scene()->summary(QStringLiteral("pg:pg-3")).startsWith(u"down"));
            save(&view, QStringLiteral("overview-failure") + suffix + QStringLiteral(".png"));
        }
    }
};

QTEST_MAIN(TestOverview)
#include "tst_overview.moc"
