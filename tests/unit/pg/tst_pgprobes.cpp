// PgNodeProbe and PgpoolProbe: configuration from the inventory, how they
// assemble a state from their queries, and what they say when the server is
// not there. The stand-in server replays the lab captures (fakepgserver.h,
// pgfixtures.h); the real servers are in tests/integration/pg.

#include "app/connectors/pg/pgnodeprobe.h"
#include "app/connectors/pg/pgparse.h"
#include "app/connectors/pg/pgpoolprobe.h"
#include "app/inventory/inventoryloader.h"

#include <QSignalSpy>
#include <QTcpServer>
#include <QTest>

#include "fakepgserver.h"
#include "pgfixtures.h"

using namespace Pilothouse;

namespace {

template<typename T> QByteArray why(const Result<T> &r)
{
    return r ? QByteArray() : r.error().message.toUtf8();
}

FakePgServer::ResultSet fromCsv(const QString &relative)
{
    const PgRows rows = loadCsv(relative);
    FakePgServer::ResultSet set;
    set.columns = rows.columns;
    for (const auto &row : rows.rows) {
        QList<std::optional<QByteArray>> out;
        for (const auto &v : row)
            out.append(v ? std::optional<QByteArray>(v->toUtf8()) : std::nullopt);
        set.rows.append(out);
    }
    return set;
}

quint16 closedPort()
{
    QTcpServer s;
    s.listen(QHostAddress::LocalHost);
    const quint16 port = s.serverPort();
    s.close();
    return port;
}

Inventory labInventory()
{
    const auto loaded = InventoryLoader::loadFile(
        QStringLiteral(PILOTHOUSE_SOURCE_DIR "/tests/fixtures/inventories/lab.yaml"));
    if (!loaded)
        qFatal("%s", qPrintable(loaded.error().toString()));
    return loaded.value();
}

} // namespace

class TestPgProbes final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        qRegisterMetaType<PostgresNodeState>();
        qRegisterMetaType<PgpoolInstanceState>();
    }

    void configFromTheInventory()
    {
        const Inventory inventory = labInventory();
        const auto node = PgNodeProbeConfig::fromInventory(inventory, QStringLiteral("pg-2"),
                                                           QStringLiteral("pw"));
        QVERIFY2(node, why(node).constData());
        QCOMPARE(node.value().name, QStringLiteral("pg-2"));
        QCOMPARE(node.value().host, QStringLiteral("swarm-02"));
        QCOMPARE(node.value().address, QStringLiteral("10.213.0.12"));
        QCOMPARE(node.value().port, 5432);
        QCOMPARE(node.value().database, QStringLiteral("app"));
        QCOMPARE(node.value().repmgrDatabase, QStringLiteral("repmgr"));
        QCOMPARE(node.value().user, QStringLiteral("pilothouse_monitor"));
        QCOMPARE(node.value().password, QStringLiteral("pw"));

        const auto unknown =
            PgNodeProbeConfig::fromInventory(inventory, QStringLiteral("pg-9"), {});
        QVERIFY(!unknown);
        QVERIFY2(
            unknown.error().message.startsWith(QStringLiteral("pg-9: no such PostgreSQL node")),
            why(unknown).constData());

        const auto pool = PgpoolProbeConfig::fromInventory(inventory, QStringLiteral("swarm-03"),
                                                           QStringLiteral("pgpool.2"), {});
        QVERIFY2(pool, why(pool).constData());
        QCOMPARE(pool.value().address, QStringLiteral("10.213.0.13"));
        QCOMPARE(pool.value().port, 9999);
        QCOMPARE(pool.value().task, QStringLiteral("pgpool.2"));
        QVERIFY(!PgpoolProbeConfig::fromInventory(inventory, QStringLiteral("swarm-09"), {}, {}));
    }

    void unreachableNodeIsStaleWithTheReason()
    {
        PgNodeProbeConfig c;
        c.name = QStringLiteral("pg-1");
        c.host = QStringLiteral("swarm-01");
        c.address = QStringLiteral("127.0.0.1");
        c.port = closedPort();
        c.database = QStringLiteral("app");
        c.user = QStringLiteral("pilothouse_monitor");
        c.minBackoffMs = 100;
        PgNodeProbe probe(c);
        QSignalSpy refreshed(&probe, &PgNodeProbe::refreshed);

        probe.refresh(); // not even started: says so, later
        QCOMPARE(refreshed.size(), 0);
        QVERIFY(refreshed.wait(1000));
        auto state = refreshed.at(0).at(0).value<PostgresNodeState>();
        QCOMPARE(state.name, QStringLiteral("pg-1"));
        QCOMPARE(state.host, QStringLiteral("swarm-01"));
        QVERIFY(!state.reachable);
        QVERIFY(state.freshness.stale);
        QCOMPARE(state.role, QStringLiteral("unknown"));

        probe.start();
        // Until the first attempt fails it says "connecting"; then it names the failure.
        QTRY_VERIFY_WITH_TIMEOUT(
            [&] {
                refreshed.clear();
                probe.refresh();
                return refreshed.wait(1000) &&
                       refreshed.at(0).at(0).value<PostgresNodeState>().freshness.error.contains(
                           QStringLiteral("refused"));
            }(),
            5000);
        state = refreshed.at(0).at(0).value<PostgresNodeState>();
        QVERIFY(!state.reachable);
        QVERIFY(state.freshness.stale);
        QVERIFY2(state.freshness.error.startsWith(
                     QStringLiteral("pg-1 (127.0.0.1:%1, db app): ").arg(c.port)) &&
                     state.freshness.error.contains(QStringLiteral("refused")),
                 qPrintable(state.freshness.error));
    }

    void nodeStateAssembledFromBothConnections()
    {
        FakePgServer server(FakePgServer::Mode::Answer);
        server.responder = [](const QString &sql) -> QList<FakePgServer::ResultSet> {
            if (sql == PgParse::nodeStatusSql())
                return {fromCsv(QStringLiteral("lab-after-failover/pg-1-node-summary.csv")),
                        fromCsv(QStringLiteral("lab-after-failover/pg-1-replication.csv")),
                        fromCsv(QStringLiteral("lab-after-failover/pg-1-wal-receiver.csv"))};
            if (sql == PgParse::repmgrStatusSql({}, 50, 500))
                return {fromCsv(QStringLiteral("lab-after-failover/pg-1-repmgr-nodes.csv")),
                        fromCsv(QStringLiteral("lab-after-failover/pg-1-repmgr-events.csv"))};
            return {};
        };
        PgNodeProbeConfig c;
        c.name = QStringLiteral("pg-1");
        c.host = QStringLiteral("swarm-01");
        c.address = QStringLiteral("127.0.0.1");
        c.port = server.port();
        c.database = QStringLiteral("app");
        c.user = QStringLiteral("pilothouse_monitor");
        PgNodeProbe probe(c);
        QSignalSpy refreshed(&probe, &PgNodeProbe::refreshed);
        QSignalSpy events(&probe, &PgNodeProbe::repmgrEventsRead);
        probe.start();
        // Both must be up for the refresh to read repmgr too.
        QTRY_VERIFY_WITH_TIMEOUT(probe.isMonitorConnected() && probe.isRepmgrConnected(), 5000);
        QCOMPARE(server.openConnections(), 2);
        probe.refresh();
        QVERIFY(refreshed.wait(5000));
        QVERIFY(!probe.isRefreshing());
        const auto state = refreshed.at(0).at(0).value<PostgresNodeState>();
        QVERIFY2(state.reachable && !state.freshness.stale, qPrintable(state.freshness.error));
        QVERIFY(state.freshness.readAt.isValid());
        QCOMPARE(state.name, QStringLiteral("pg-1"));
        QCOMPARE(state.role, QStringLiteral("standby"));
        QCOMPARE(state.timeline, 2);
        QCOMPARE(state.upstream, QStringLiteral("pg-2"));
        QCOMPARE(state.repmgr.size(), 3);
        QCOMPARE(state.repmgr.at(1).type, QStringLiteral("primary"));
        QCOMPARE(events.size(), 1);
        QCOMPARE(events.at(0).at(0).toString(), QStringLiteral("pg-1"));
        QCOMPARE(events.at(0).at(1).value<QList<RepmgrEvent>>().size(), 19);
        QCOMPARE(probe.state().timeline, 2);
    }

    void pgpoolStateFromBothShowCommands()
    {
        FakePgServer server(FakePgServer::Mode::Answer);
        server.responder = [](const QString &sql) -> QList<FakePgServer::ResultSet> {
            if (sql == u"SHOW POOL_NODES")
                return {fromCsv(QStringLiteral("lab-drill/pgpool-swarm-02-pool-nodes.csv"))};
            if (sql == u"SHOW POOL_HEALTH_CHECK_STATS")
                return {
                    fromCsv(QStringLiteral("lab-drill/pgpool-swarm-02-health-check-stats.csv"))};
            return {};
        };
        PgpoolProbeConfig c;
        c.task = QStringLiteral("pgpool.1");
        c.host = QStringLiteral("swarm-02");
        c.address = QStringLiteral("127.0.0.1");
        c.port = server.port();
        c.database = QStringLiteral("app");
        c.user = QStringLiteral("pilothouse_monitor");
        PgpoolProbe probe(c);
        QSignalSpy connected(&probe, &PgpoolProbe::connected);
        QSignalSpy refreshed(&probe, &PgpoolProbe::refreshed);
        probe.start();
        QVERIFY(connected.wait(5000));
        QVERIFY(!server.startupParameters().contains("options"));
        probe.refresh();
        probe.refresh(); // ignored while the first runs
        QVERIFY(refreshed.wait(5000));
        QTest::qWait(50);
        QCOMPARE(refreshed.size(), 1);
        QCOMPARE(server.queries(), QStringList({QStringLiteral("SHOW POOL_NODES"),
                                                QStringLiteral("SHOW POOL_HEALTH_CHECK_STATS")}));
        const auto state = refreshed.at(0).at(0).value<PgpoolInstanceState>();
        QVERIFY2(state.reachable && !state.freshness.stale, qPrintable(state.freshness.error));
        QCOMPARE(state.task, QStringLiteral("pgpool.1"));
        QCOMPARE(state.host, QStringLiteral("swarm-02"));
        QCOMPARE(state.backends.size(), 3);
        QCOMPARE(state.backends.at(1).status, QStringLiteral("down"));
        QCOMPARE(state.backends.at(1).healthCheckTotal, 165);

        // The task goes away: the loss is reported, the next read says why.
        QSignalSpy lost(&probe, &PgpoolProbe::connectionLost);
        server.terminateAll();
        QVERIFY(lost.wait(2000));
        refreshed.clear();
        probe.refresh();
        QVERIFY(refreshed.wait(1000));
        const auto after = refreshed.at(0).at(0).value<PgpoolInstanceState>();
        QVERIFY(!after.reachable);
        QVERIFY(after.freshness.stale);
        QVERIFY2(after.freshness.error.startsWith(QStringLiteral("pgpool on swarm-02 (127.0.0.1:")),
                 qPrintable(after.freshness.error));
        QCOMPARE(after.backends.size(), 3); // the last known view, marked stale
    }
};

QTEST_GUILESS_MAIN(TestPgProbes)
#include "tst_pgprobes.moc"
