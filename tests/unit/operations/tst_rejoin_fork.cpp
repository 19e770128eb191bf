// TimelineFork: LSN arithmetic, history files, the end of WAL from
// pg_waldump's output, and where two histories part. The numbers of the
// first case are those of a tst_rejoin_lab run (pg-2's history file, pg-1's
// WAL end; pg_rewind --dry-run said "servers diverged at WAL location
// 0/54BF120 on timeline 15" and the run reported 3307912 bytes at risk).

#include "app/operations/rejoin.h"

#include <QTest>

using Pilothouse::TimelineFork;

class TestRejoinFork final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void lsn()
    {
        QCOMPARE(TimelineFork::lsnToBytes(QStringLiteral("0/54BF120")), qint64(0x54BF120));
        QCOMPARE(TimelineFork::lsnToBytes(QStringLiteral("1/0")), qint64(1) << 32);
        QCOMPARE(TimelineFork::lsnToBytes(QStringLiteral("junk")), qint64(-1));
        QCOMPARE(TimelineFork::bytesToLsn((qint64(2) << 32) + 0xABC), QStringLiteral("2/ABC"));
    }

    void history()
    {
        const auto h = TimelineFork::parseHistory(
            QStringLiteral("1\t0/3000060\tno recovery target specified\n\n"
                           "14\t0/5103658\tno recovery target specified\n"
                           "15\t0/54BF120\tno recovery target specified\n"));
        QCOMPARE(h.size(), 3);
        QCOMPARE(h.at(2).timeline, 15);
        QCOMPARE(h.at(2).lsn, QStringLiteral("0/54BF120"));
    }

    void endOfWal()
    {
        // PostgreSQL 15's pg_waldump, stopping at the end of the valid WAL.
        QCOMPARE(TimelineFork::endOfWal(QStringLiteral(
                     "rmgr: Heap        len (rec/tot):     59/    59, tx:       7444, lsn: "
                     "0/057E69F0, prev 0/057E69B0, desc: INSERT off 38 flags 0x00\n"
                     "pg_waldump: error: error in WAL record at 0/57E6A30: invalid record length "
                     "at 0/57E6AA8: wanted 24, got 0")),
                 QStringLiteral("0/57E6AA8"));
        // No error line (the tail was cut): the end of the last record.
        QCOMPARE(TimelineFork::endOfWal(QStringLiteral(
                     "rmgr: XLOG        len (rec/tot):    114/   114, tx:          0, lsn: "
                     "0/0301A5C8, prev 0/0301A590, desc: CHECKPOINT_SHUTDOWN")),
                 QStringLiteral("0/301A63A"));
        QVERIFY(TimelineFork::endOfWal(QStringLiteral("nothing")).isEmpty());
    }

    void divergedFormerPrimary()
    {
        TimelineFork f;
        f.nodeTimeline = 15;
        f.nodeCheckpoint = QStringLiteral("0/57E6A30");
        f.nodeEndOfWal = QStringLiteral("0/57E6AA8");
        f.primaryTimeline = 16;
        f.primaryHistory = TimelineFork::parseHistory(
            QStringLiteral("14\t0/5103658\tx\n15\t0/54BF120\tx\n"));
        f.nodeHistory = TimelineFork::parseHistory(QStringLiteral("14\t0/5103658\tx\n"));
        f.compute();
        QCOMPARE(f.commonTimeline, 15);
        QCOMPARE(f.forkLsn, QStringLiteral("0/54BF120"));
        QVERIFY(f.diverged);
        QCOMPARE(f.walAtRiskBytes, qint64(3307912));
    }

    void cleanSwitchoverIsNotDiverged()
    {
        // The old primary stopped at its shutdown checkpoint; the new timeline
        // starts right after it: nothing of the node's is past the fork.
        TimelineFork f;
        f.nodeTimeline = 15;
        f.nodeEndOfWal = QStringLiteral("0/54BF120");
        f.primaryTimeline = 16;
        f.primaryHistory = TimelineFork::parseHistory(QStringLiteral("15\t0/54BF120\tx\n"));
        f.compute();
        QCOMPARE(f.forkLsn, QStringLiteral("0/54BF120"));
        QVERIFY(!f.diverged);
        QCOMPARE(f.walAtRiskBytes, qint64(0));
    }

    void standbyOnTheSameTimeline()
    {
        TimelineFork f;
        f.nodeTimeline = 16;
        f.nodeEndOfWal = QStringLiteral("0/6000000");
        f.primaryTimeline = 16;
        f.compute();
        QCOMPARE(f.commonTimeline, 16);
        QVERIFY(f.forkLsn.isEmpty());
        QVERIFY(!f.diverged);
    }

    void nodePromotedItself()
    {
        // A standby promoted by hand (timeline 17 of its own) while the
        // primary stayed on 16: everything it wrote on 17 is at risk.
        TimelineFork f;
        f.nodeTimeline = 17;
        f.nodeEndOfWal = QStringLiteral("0/6001000");
        f.nodeHistory = TimelineFork::parseHistory(QStringLiteral("16\t0/6000000\tx\n"));
        f.primaryTimeline = 16;
        f.compute();
        QCOMPARE(f.commonTimeline, 16);
        QCOMPARE(f.forkLsn, QStringLiteral("0/6000000"));
        QVERIFY(f.diverged);
        QCOMPARE(f.walAtRiskBytes, qint64(0x1000));
    }
};

QTEST_GUILESS_MAIN(TestRejoinFork)
#include "tst_rejoin_fork.moc"
