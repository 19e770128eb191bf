#include "models/history.h"

#include <QTest>

using namespace Pilothouse;

namespace {

ClusterSnapshot at(qint64 msecs, qint64 commits, qint64 selects, qint64 lagBytes,
                   bool reachable = true)
{
    ClusterSnapshot s;
    s.takenAt = QDateTime::fromMSecsSinceEpoch(msecs, Qt::UTC);
    PostgresNodeState standby;
    standby.name = QStringLiteral("pg-2");
    standby.reachable = reachable;
    standby.role = QStringLiteral("standby");
    standby.lagBytes = lagBytes;
    standby.lagSeconds = -1; // unknown: no sample
    standby.connections = 7;
    standby.xactCommit = commits;
    s.postgres.append(standby);
    PgpoolInstanceState pool;
    pool.task = QStringLiteral("pgpool.1");
    pool.reachable = true;
    PgpoolBackend b;
    b.hostname = QStringLiteral("pg-2");
    b.selectCount = selects;
    pool.backends.append(b);
    s.pgpools.append(pool);
    return s;
}

} // namespace

class TestHistory final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void ringKeepsTheNewestOldestFirst()
    {
        SampleRing ring(3);
        for (int i = 1; i <= 5; ++i)
            ring.append({i, double(i * 10)});
        QCOMPARE(ring.size(), 3);
        const QList<Sample> s = ring.samples();
        QCOMPARE(s.size(), 3);
        QCOMPARE(s.at(0).value, 30.0);
        QCOMPARE(s.at(2).value, 50.0);
        QCOMPARE(ring.last()->value, 50.0);
    }

    void ratesFromCounters()
    {
        History h;
        h.record(at(1000, 100, 10, 0));
        h.record(at(2000, 150, 30, 4096));
        h.record(at(3000, 40, 40, 0)); // the node restarted: its counter went back
        h.record(at(4000, 60, 40, 0));
        const auto tps = h.series(QStringLiteral("tps:pg-2"))->samples();
        QCOMPARE(tps.size(), 2); // no rate for the first sample, none across the restart
        QCOMPARE(tps.at(0).value, 50.0);
        QCOMPARE(tps.at(1).value, 20.0);
        const auto selects = h.series(QStringLiteral("selects:pgpool.1/pg-2"))->samples();
        QCOMPARE(selects.size(), 3);
        QCOMPARE(selects.at(0).value, 20.0);
        QCOMPARE(selects.at(2).value, 0.0);
        QCOMPARE(h.series(QStringLiteral("lag_bytes:pg-2"))->samples().at(1).value, 4096.0);
        QVERIFY(!h.series(QStringLiteral("lag_seconds:pg-2"))); // never known
    }

    void unreachableNodesLeaveAGap()
    {
        History h;
        h.record(at(1000, 100, 10, 0));
        h.record(at(2000, 150, 10, 0, false));
        QCOMPARE(h.series(QStringLiteral("connections:pg-2"))->size(), 1);
    }

    void capacityBoundsMemory()
    {
        History h(60);
        for (int i = 0; i < 1000; ++i)
            h.record(at(1000 * i, i, i, i));
        for (const QString &key : h.keys())
            QVERIFY(h.series(key)->size() <= 60);
    }
};

QTEST_GUILESS_MAIN(TestHistory)
#include "tst_history.moc"
