// The parsers of the pg connector, fed with what the lab's PostgreSQL and
// pgpool really answered (tests/fixtures/pg/README.md says how each was captured).

#include "app/connectors/pg/pgparse.h"

#include <QFile>
#include <QTest>

#include "pgfixtures.h"

using namespace Pilothouse;

namespace {

PgReply nodeReply(const QString &summary, const QString &replication, const QString &receiver)
{
    return {loadCsv(summary), loadCsv(replication), loadCsv(receiver)};
}

PgReply nodeReply(const QString &dir, const QString &node)
{
    return nodeReply(dir + node + QStringLiteral("-node-summary.csv"),
                     dir + node + QStringLiteral("-replication.csv"),
                     dir + node + QStringLiteral("-wal-receiver.csv"));
}

QString readSql(const QString &name)
{
    QFile f(pgFixturePath(QStringLiteral("sql/") + name));
    if (!f.open(QIODevice::ReadOnly))
        qFatal("cannot open %s", qPrintable(f.fileName()));
    return QString::fromUtf8(f.readAll()).simplified();
}

// QVERIFY2 evaluates its message even when the check passes.
template<typename T> QByteArray why(const Result<T> &r)
{
    return r ? QByteArray() : r.error().message.toUtf8();
}

} // namespace

class TestPgParse final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void fixturesWereCapturedWithTheQueriesWeSend()
    {
        QCOMPARE(readSql(QStringLiteral("node-summary.sql")), PgParse::nodeSummarySql());
        QCOMPARE(readSql(QStringLiteral("replication.sql")), PgParse::replicationSql());
        QCOMPARE(readSql(QStringLiteral("wal-receiver.sql")), PgParse::walReceiverSql());
        QCOMPARE(readSql(QStringLiteral("repmgr-nodes.sql")), PgParse::repmgrNodesSql());
        QCOMPARE(readSql(QStringLiteral("repmgr-events.sql")), PgParse::repmgrRecentEventsSql(50));
        QCOMPARE(readSql(QStringLiteral("repmgrd-state.sql")), PgParse::repmgrdStateSql());
        QCOMPARE(PgParse::nodeStatusSql().count(u';'), 2);
    }

    void repmgrQueriesInOneRoundTrip()
    {
        PgParse::RepmgrEventCursor cursor;
        QCOMPARE(PgParse::repmgrStatusSql(cursor, 50, 500),
                 PgParse::repmgrNodesSql() + u';' + PgParse::repmgrRecentEventsSql(50));
        QVERIFY(cursor.take(loadCsv(QStringLiteral("lab-idle/pg-1-repmgr-events.csv"))));
        const QString sql = PgParse::repmgrStatusSql(cursor, 50, 500);
        QVERIFY2(sql.startsWith(PgParse::repmgrNodesSql() + u';') &&
                     sql.contains(QStringLiteral("event_timestamp >= '") + cursor.timestamp() +
                                  QStringLiteral("'::timestamptz")) &&
                     sql.endsWith(QStringLiteral(" limit 500")),
                 qPrintable(sql));
        // Only the form our own to_char() produces is ever spliced into SQL.
        QVERIFY(PgParse::repmgrEventsSinceSql(QStringLiteral("2026-11-26T06:48:32.709870Z"), 5)
                    .contains(QStringLiteral("'2026-11-26T06:48:32.709870Z'")));
        QVERIFY(PgParse::repmgrEventsSinceSql(QStringLiteral("2026-11-26T06:48:32Z'; drop"), 5)
                    .isEmpty());
    }

    void csvLoaderKeepsNullApartFromEmpty()
    {
        const PgRows nodes = loadCsv(QStringLiteral("lab-after-failover/pg-2-repmgr-nodes.csv"));
        QCOMPARE(nodes.rows.size(), 3);
        QVERIFY(!nodes.value(1, u"upstream_node_id")); // the primary has none: NULL
        const PgRows pool = loadCsv(QStringLiteral("lab-idle/pgpool-swarm-01-pool-nodes.csv"));
        QCOMPARE(pool.value(0, u"replication_state"), std::optional<QString>(QString()));
    }

    void primary()
    {
        PostgresNodeState base;
        base.name = QStringLiteral("pg-1");
        base.host = QStringLiteral("swarm-01");
        const auto parsed = PgParse::parseNodeStatus(
            nodeReply(QStringLiteral("lab-idle/"), QStringLiteral("pg-1")), base);
        QVERIFY2(parsed, why(parsed).constData());
        const PostgresNodeState &s = parsed.value();
        QCOMPARE(s.name, QStringLiteral("pg-1"));
        QCOMPARE(s.host, QStringLiteral("swarm-01"));
        QCOMPARE(s.role, QStringLiteral("primary"));
        QCOMPARE(s.timeline, 3);
        QCOMPARE(s.currentLsn, QStringLiteral("0/50CBFB8"));
        // A promoted primary still has a last received LSN; it means nothing now.
        QVERIFY(s.receivedLsn.isEmpty());
        QVERIFY(s.replayedLsn.isEmpty());
        QCOMPARE(s.lagBytes, 0);
        QCOMPARE(s.lagSeconds, 0.0);
        QVERIFY(s.upstream.isEmpty());
        QVERIFY(s.walReceiverStatus.isEmpty());
        QCOMPARE(s.connections, 84);
        QCOMPARE(s.xactCommit, 3280);
        QCOMPARE(s.xactRollback, 1);
        QVERIFY(s.version.startsWith(QStringLiteral("15.")));
        QCOMPARE(s.replicas.size(), 2);
        QCOMPARE(s.replicas.at(0).applicationName, QStringLiteral("pg-2"));
        QCOMPARE(s.replicas.at(0).clientAddress, QStringLiteral("10.215.1.16/32"));
        QCOMPARE(s.replicas.at(0).state, QStringLiteral("streaming"));
        QCOMPARE(s.replicas.at(0).syncState, QStringLiteral("async"));
        QCOMPARE(s.replicas.at(0).writeLagSeconds, 0.000335);
        QCOMPARE(s.replicas.at(0).replayLagSeconds, 0.000622);
        QCOMPARE(s.replicas.at(1).applicationName, QStringLiteral("pg-3"));
        QCOMPARE(s.replicas.at(1).lagBytes, 0);
    }

    void primaryWithNullLags()
    {
        const auto parsed = PgParse::parseNodeStatus(
            nodeReply(QStringLiteral("lab-idle/pg-1-node-summary.csv"),
                      QStringLiteral("lab-idle/pg-1-replication-null-lags.csv"),
                      QStringLiteral("lab-idle/pg-1-wal-receiver.csv")),
            {});
        QVERIFY2(parsed, why(parsed).constData());
        QCOMPARE(parsed.value().replicas.size(), 2);
        for (const ReplicationLink &l : parsed.value().replicas) {
            // NULL: caught up and idle. Unknown (-1), never a made-up 0.
            QCOMPARE(l.writeLagSeconds, -1.0);
            QCOMPARE(l.flushLagSeconds, -1.0);
            QCOMPARE(l.replayLagSeconds, -1.0);
            QCOMPARE(l.lagBytes, 0);
            QCOMPARE(l.state, QStringLiteral("streaming"));
        }
    }

    void standbyAfterFailoverTakesTheReceiversTimeline()
    {
        const auto parsed = PgParse::parseNodeStatus(
            nodeReply(QStringLiteral("lab-after-failover/"), QStringLiteral("pg-1")), {});
        QVERIFY2(parsed, why(parsed).constData());
        const PostgresNodeState &s = parsed.value();
        QCOMPARE(s.role, QStringLiteral("standby"));
        // Its last restartpoint is still on timeline 1; it streams timeline 2.
        QCOMPARE(loadCsv(QStringLiteral("lab-after-failover/pg-1-node-summary.csv"))
                     .text(0, u"checkpoint_timeline"),
                 QStringLiteral("1"));
        QCOMPARE(s.timeline, 2);
        QCOMPARE(s.upstream, QStringLiteral("pg-2"));
        QCOMPARE(s.walReceiverStatus, QStringLiteral("streaming"));
        QVERIFY(s.currentLsn.isEmpty());
        QCOMPARE(s.receivedLsn, QStringLiteral("0/50B5958"));
        QCOMPARE(s.replayedLsn, QStringLiteral("0/50B5958"));
        QCOMPARE(s.lagBytes, 0);
        QCOMPARE(s.lagSeconds, 0.0);
        QVERIFY(s.replicas.isEmpty());
    }

    void standbyWithoutWalReceiver()
    {
        const auto parsed =
            PgParse::parseNodeStatus(nodeReply(QStringLiteral("lab-drill/pg-3-node-summary.csv"),
                                               QStringLiteral("lab-idle/pg-3-replication.csv"),
                                               QStringLiteral("lab-drill/pg-3-wal-receiver.csv")),
                                     {});
        QVERIFY2(parsed, why(parsed).constData());
        const PostgresNodeState &s = parsed.value();
        QCOMPARE(s.role, QStringLiteral("standby"));
        QVERIFY(s.upstream.isEmpty());
        QVERIFY(s.walReceiverStatus.isEmpty());
        QCOMPARE(s.timeline, 1); // only the checkpoint's is known
        QCOMPARE(s.receivedLsn, QStringLiteral("0/50BDB88"));
    }

    void parsingReplacesTheOldUpstream()
    {
        PostgresNodeState before;
        before.upstream = QStringLiteral("pg-2");
        before.walReceiverStatus = QStringLiteral("streaming");
        const auto parsed =
            PgParse::parseNodeStatus(nodeReply(QStringLiteral("lab-drill/pg-3-node-summary.csv"),
                                               QStringLiteral("lab-idle/pg-3-replication.csv"),
                                               QStringLiteral("lab-drill/pg-3-wal-receiver.csv")),
                                     before);
        QVERIFY(parsed);
        QVERIFY(parsed.value().upstream.isEmpty());
        QVERIFY(parsed.value().walReceiverStatus.isEmpty());
    }

    void nodeStatusShapeErrors()
    {
        PgReply reply = nodeReply(QStringLiteral("lab-idle/"), QStringLiteral("pg-2"));
        reply.removeLast();
        auto parsed = PgParse::parseNodeStatus(reply, {});
        QVERIFY(!parsed);
        QVERIFY2(parsed.error().message.contains(QStringLiteral("expected 3 result sets")),
                 why(parsed).constData());

        reply = nodeReply(QStringLiteral("lab-idle/"), QStringLiteral("pg-2"));
        reply[2].columns.replace(reply[2].columns.indexOf(QStringLiteral("sender_host")),
                                 QStringLiteral("conninfo"));
        parsed = PgParse::parseNodeStatus(reply, {});
        QVERIFY(!parsed);
        QVERIFY2(parsed.error().message.startsWith(QStringLiteral("pg_stat_wal_receiver")) &&
                     parsed.error().message.contains(QStringLiteral("sender_host")),
                 why(parsed).constData());
    }

    void repmgrdState()
    {
        // Captured from the lab: repmgrd running, then paused by `repmgr service pause`.
        auto running =
            PgParse::parseRepmgrdState(loadCsv(QStringLiteral("repmgrd/pg-1-running.csv")));
        QVERIFY2(running, why(running).constData());
        QCOMPARE(running.value(), QStringLiteral("running"));
        auto paused =
            PgParse::parseRepmgrdState(loadCsv(QStringLiteral("repmgrd/pg-1-paused.csv")));
        QVERIFY2(paused, why(paused).constData());
        QCOMPARE(paused.value(), QStringLiteral("paused"));

        PgRows stopped;
        stopped.columns = {QStringLiteral("running"), QStringLiteral("paused")};
        stopped.rows = {{QStringLiteral("f"), QStringLiteral("f")}};
        QCOMPARE(PgParse::parseRepmgrdState(stopped).value(), QStringLiteral("not running"));

        // Anything else is an error that says what it got, never a guess.
        PgRows odd = stopped;
        odd.rows = {{QStringLiteral("t"), std::nullopt}};
        auto e = PgParse::parseRepmgrdState(odd);
        QVERIFY(!e);
        QVERIFY2(e.error().message.contains(u"unreadable"), qPrintable(e.error().message));
        odd.rows.clear();
        QVERIFY(!PgParse::parseRepmgrdState(odd));
        odd.columns = {QStringLiteral("running")};
        odd.rows = {{QStringLiteral("t")}};
        e = PgParse::parseRepmgrdState(odd);
        QVERIFY(!e);
        QVERIFY2(e.error().message.contains(u"paused"), qPrintable(e.error().message));
    }

    void repmgrNodes()
    {
        const auto nodes = PgParse::parseRepmgrNodes(
            loadCsv(QStringLiteral("lab-after-failover/pg-3-repmgr-nodes.csv")));
        QVERIFY2(nodes, why(nodes).constData());
        QCOMPARE(nodes.value().size(), 3);
        const RepmgrNodeView &pg1 = nodes.value().at(0);
        QCOMPARE(pg1.nodeId, 1001);
        QCOMPARE(pg1.name, QStringLiteral("pg-1"));
        QCOMPARE(pg1.type, QStringLiteral("standby"));
        QVERIFY(pg1.active);
        QCOMPARE(pg1.upstreamNodeId, 1002);
        QCOMPARE(pg1.priority, 100);
        const RepmgrNodeView &pg2 = nodes.value().at(1);
        QCOMPARE(pg2.type, QStringLiteral("primary"));
        QCOMPARE(pg2.upstreamNodeId, 0); // NULL
        QCOMPARE(pg2.conninfo,
                 QStringLiteral("host=pg-2 port=5432 user=repmgr dbname=repmgr connect_timeout=2"));
        QCOMPARE(PgParse::upstreamNodeName(QStringLiteral("pg-2"), nodes.value()),
                 QStringLiteral("pg-2"));
        QCOMPARE(PgParse::upstreamNodeName(QStringLiteral("10.215.1.9"), nodes.value()),
                 QStringLiteral("10.215.1.9"));
        QVERIFY(PgParse::upstreamNodeName({}, nodes.value()).isEmpty());
    }

    // Found by fuzz_pg: a numeric column beyond qint64 (a 100-digit node_id,
    // 1e105 once read as a double) was converted to an integer, which is
    // undefined behaviour. Such a value is now unknown (the fallback).
    void outOfRangeNumbersAreUnknown()
    {
        PgRows rows = loadCsv(QStringLiteral("lab-idle/pg-1-repmgr-nodes.csv"));
        rows.rows[0][rows.columnIndex(u"node_id")] = QStringLiteral("1") + QString(100, u'0') + u'1';
        rows.rows[0][rows.columnIndex(u"priority")] = QStringLiteral("-1e30");
        rows.rows[1][rows.columnIndex(u"upstream_node_id")] = QStringLiteral("inf");
        const auto nodes = PgParse::parseRepmgrNodes(rows);
        QVERIFY2(nodes, why(nodes).constData());
        QCOMPARE(nodes.value().at(0).nodeId, 0);
        QCOMPARE(nodes.value().at(0).priority, 0);
        QCOMPARE(nodes.value().at(1).upstreamNodeId, 0);

        PgRows pool = loadCsv(QStringLiteral("lab-idle/pgpool-swarm-01-pool-nodes.csv"));
        pool.rows[0][pool.columnIndex(u"select_cnt")] = QStringLiteral("1e105");
        pool.rows[1][pool.columnIndex(u"select_cnt")] = QStringLiteral("-1e30");
        const auto backends = PgParse::parsePoolNodes(pool);
        QVERIFY2(backends, why(backends).constData());
        QCOMPARE(backends.value().at(0).selectCount, qint64(0));
        QCOMPARE(backends.value().at(1).selectCount, qint64(0));
    }

    void upstreamByConninfoHost()
    {
        RepmgrNodeView n;
        n.name = QStringLiteral("pg-2");
        n.conninfo = QStringLiteral("host='tasks.pg-2' port=5432 user=repmgr");
        QCOMPARE(PgParse::upstreamNodeName(QStringLiteral("tasks.pg-2"), {n}),
                 QStringLiteral("pg-2"));
    }

    void conninfoPasswordsNeverLeave()
    {
        QCOMPARE(PgParse::redactConninfo(QStringLiteral("host=pg-1 password=s3cret user=repmgr")),
                 QStringLiteral("host=pg-1 password=*** user=repmgr"));
        QCOMPARE(PgParse::redactConninfo(QStringLiteral("password = 'a b\\'c' host=pg-1")),
                 QStringLiteral("password=*** host=pg-1"));
        QCOMPARE(PgParse::redactConninfo(QStringLiteral("host=pg-1 passfile=/x")),
                 QStringLiteral("host=pg-1 passfile=/x"));
        PgRows rows = loadCsv(QStringLiteral("lab-idle/pg-1-repmgr-nodes.csv"));
        rows.rows[0][rows.columnIndex(u"conninfo")] = QStringLiteral("host=pg-1 password=hunter2");
        const auto nodes = PgParse::parseRepmgrNodes(rows);
        QVERIFY(nodes);
        QVERIFY(!nodes.value().at(0).conninfo.contains(QStringLiteral("hunter2")));
    }

    void repmgrEventsAreReportedOnce()
    {
        const PgRows all = loadCsv(QStringLiteral("lab-after-failover/pg-1-repmgr-events.csv"));
        QCOMPARE(all.rows.size(), 19);
        PgParse::RepmgrEventCursor cursor;
        QVERIFY(cursor.isEmpty());
        auto events = cursor.take(all);
        QVERIFY2(events, why(events).constData());
        QCOMPARE(events.value().size(), 19);
        const RepmgrEvent promote = events.value().at(10); // a copy: `events` is reassigned below
        QCOMPARE(promote.nodeId, 1002);
        QCOMPARE(promote.event, QStringLiteral("standby_promote"));
        QVERIFY(promote.successful);
        QCOMPARE(promote.timestamp, QDateTime(QDate(2026, 11, 26), QTime(6, 48, 16, 196), Qt::UTC));
        QCOMPARE(promote.details,
                 QStringLiteral("server \"pg-2\" (ID: 1002) was successfully promoted to primary"));
        QCOMPARE(cursor.timestamp(), QStringLiteral("2026-11-26T06:48:32.709870Z"));

        // The next read starts at the cursor (>=): the last row comes again.
        PgRows again = all;
        again.rows = {all.rows.constLast()};
        events = cursor.take(again);
        QVERIFY(events);
        QVERIFY(events.value().isEmpty());

        // A later capture of the same table: only what happened since is new.
        const PgRows later = loadCsv(QStringLiteral("lab-idle/pg-1-repmgr-events.csv"));
        PgRows since = later;
        since.rows.clear();
        for (const auto &row : later.rows) {
            if (row.value(later.columnIndex(u"event_ts")).value_or(QString()) >= cursor.timestamp())
                since.rows.append(row);
        }
        QVERIFY(since.rows.size() > 1);
        events = cursor.take(since);
        QVERIFY(events);
        QCOMPARE(events.value().size(), since.rows.size() - 1);
        for (const RepmgrEvent &e : events.value())
            QVERIFY(e.timestamp > promote.timestamp);
    }

    void repmgrEventsSameTimestampDifferentEvents()
    {
        const PgRows all = loadCsv(QStringLiteral("lab-after-failover/pg-1-repmgr-events.csv"));
        PgRows twin = all;
        twin.rows = {all.rows.at(0), all.rows.at(0)};
        twin.rows[1][twin.columnIndex(u"node_id")] = QStringLiteral("1002");
        PgParse::RepmgrEventCursor cursor;
        QCOMPARE(cursor.take({twin.columns, {twin.rows.at(0)}, {}}).value().size(), 1);
        // Same instant, another node: new, although not after the cursor.
        QCOMPARE(cursor.take(twin).value().size(), 1);
    }

    void poolNodes()
    {
        const auto backends = PgParse::parsePoolNodes(
            loadCsv(QStringLiteral("lab-idle/pgpool-swarm-01-pool-nodes.csv")));
        QVERIFY2(backends, why(backends).constData());
        QCOMPARE(backends.value().size(), 3);
        int primaries = 0;
        for (const PgpoolBackend &b : backends.value()) {
            QCOMPARE(b.status, QStringLiteral("up"));
            QCOMPARE(b.pgStatus, QStringLiteral("up"));
            QCOMPARE(b.port, 5432);
            QCOMPARE(b.role, b.pgRole);
            QVERIFY(qAbs(b.lbWeight - 0.333333) < 1e-9);
            primaries += b.role == u"primary";
        }
        QCOMPARE(primaries, 1);
        QCOMPARE(backends.value().at(0).hostname, QStringLiteral("pg-1"));
        QCOMPARE(backends.value().at(0).role, QStringLiteral("primary"));
        QCOMPARE(backends.value().at(1).replicationState, QStringLiteral("streaming"));
        QCOMPARE(backends.value().at(1).replicationSyncState, QStringLiteral("async"));
        QCOMPARE(std::count_if(backends.value().cbegin(), backends.value().cend(),
                               [](const PgpoolBackend &b) { return b.loadBalanceNode; }),
                 1);
    }

    void poolNodesWithABackendDown()
    {
        auto backends = PgParse::parsePoolNodes(
            loadCsv(QStringLiteral("lab-drill/pgpool-swarm-02-pool-nodes.csv")));
        QVERIFY2(backends, why(backends).constData());
        const PgpoolBackend &pg2 = backends.value().at(1);
        QCOMPARE(pg2.nodeId, 1);
        QCOMPARE(pg2.hostname, QStringLiteral("pg-2"));
        QCOMPARE(pg2.status, QStringLiteral("down"));
        QCOMPARE(pg2.pgStatus, QStringLiteral("down"));
        QCOMPARE(pg2.pgRole, QStringLiteral("unknown"));
        QVERIFY(pg2.replicationState.isEmpty());
        QCOMPARE(pg2.lastStatusChange, QStringLiteral("2026-11-26 06:49:22"));

        backends = PgParse::mergeHealthCheckStats(
            loadCsv(QStringLiteral("lab-drill/pgpool-swarm-02-health-check-stats.csv")),
            backends.value());
        QVERIFY2(backends, why(backends).constData());
        const PgpoolBackend &down = backends.value().at(1);
        QCOMPARE(down.healthCheckTotal, 165);
        QCOMPARE(down.healthCheckSuccess, 163);
        QCOMPARE(down.healthCheckSkip, 2);
        QCOMPARE(down.lastSuccessfulHealthCheck, QStringLiteral("2026-11-26 06:49:19"));
        QVERIFY(down.lastFailedHealthCheck.isEmpty());
        const PgpoolBackend &pg1 = backends.value().at(0);
        QCOMPARE(pg1.healthCheckFail, 1);
        QCOMPARE(pg1.healthCheckRetry, 5);
        QCOMPARE(pg1.lastFailedHealthCheck, QStringLiteral("2026-11-26 06:48:12"));
        QVERIFY(qAbs(pg1.healthCheckAverageMs - 54.431655) < 1e-9);
    }

    void poolNodesMissingColumn()
    {
        PgRows rows = loadCsv(QStringLiteral("lab-idle/pgpool-swarm-01-pool-nodes.csv"));
        rows.columns.removeAll(QStringLiteral("pg_role"));
        const auto backends = PgParse::parsePoolNodes(rows);
        QVERIFY(!backends);
        QVERIFY2(backends.error().message.startsWith(QStringLiteral("SHOW POOL_NODES")) &&
                     backends.error().message.contains(QStringLiteral("pg_role")),
                 why(backends).constData());
    }

    void primaryViewSetsStandbyLag()
    {
        QList<PostgresNodeState> nodes;
        for (const QString &n :
             {QStringLiteral("pg-1"), QStringLiteral("pg-2"), QStringLiteral("pg-3")}) {
            PostgresNodeState base;
            base.name = n;
            base.reachable = true;
            const auto parsed =
                PgParse::parseNodeStatus(nodeReply(QStringLiteral("lab-idle/"), n), base);
            QVERIFY(parsed);
            nodes.append(parsed.value());
        }
        // Make the primary's view differ from the standbys' own gap to see it applied.
        nodes[0].replicas[0].lagBytes = 4096;
        PgParse::applyPrimaryView(nodes);
        QCOMPARE(nodes.at(1).lagBytes, 4096);
        QCOMPARE(nodes.at(2).lagBytes, 0);

        // Two primaries: nobody's view is applied.
        nodes[2].role = QStringLiteral("primary");
        nodes[1].lagBytes = -1;
        PgParse::applyPrimaryView(nodes);
        QCOMPARE(nodes.at(1).lagBytes, -1);
    }
};

QTEST_GUILESS_MAIN(TestPgParse)
#include "tst_pgparse.moc"
