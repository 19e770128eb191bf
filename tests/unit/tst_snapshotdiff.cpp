#include "models/snapshotdiff.h"

#include <QTest>

using namespace Pilothouse;

namespace {

ClusterSnapshot twoNodes()
{
    ClusterSnapshot s;
    PostgresNodeState a;
    a.name = QStringLiteral("pg-1");
    a.reachable = true;
    a.role = QStringLiteral("primary");
    a.timeline = 1;
    a.currentLsn = QStringLiteral("0/3000000");
    PostgresNodeState b = a;
    b.name = QStringLiteral("pg-2");
    b.role = QStringLiteral("standby");
    b.upstream = QStringLiteral("pg-1");
    b.walReceiverStatus = QStringLiteral("streaming");
    s.postgres = {a, b};
    return s;
}

} // namespace

class TestSnapshotDiff final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void identicalSnapshotsHaveNoChanges()
    {
        QVERIFY(SnapshotDiff::diff(twoNodes(), twoNodes()).isEmpty());
    }

    void countersAndLsnsAreNotNews()
    {
        ClusterSnapshot after = twoNodes();
        after.postgres[0].currentLsn = QStringLiteral("0/4000000");
        after.postgres[0].xactCommit = 42;
        after.postgres[1].lagBytes = 1024;
        QVERIFY(SnapshotDiff::diff(twoNodes(), after).isEmpty());
    }

    void failover()
    {
        ClusterSnapshot after = twoNodes();
        after.postgres[0].reachable = false;
        after.postgres[1].role = QStringLiteral("primary");
        after.postgres[1].timeline = 2;
        after.postgres[1].upstream.clear();
        after.postgres[1].walReceiverStatus.clear();
        const auto changes = SnapshotDiff::diff(twoNodes(), after);
        QStringList lines;
        for (const auto &c : changes)
            lines.append(SnapshotDiff::describe(c));
        QCOMPARE(lines, QStringList({
                            QStringLiteral("pg:pg-1.reachable: yes -> no"),
                            QStringLiteral("- pg:pg-2.receiver (was streaming)"),
                            QStringLiteral("pg:pg-2.role: standby -> primary"),
                            QStringLiteral("pg:pg-2.timeline: 1 -> 2"),
                            QStringLiteral("- pg:pg-2.upstream (was pg-1)"),
                        }));
    }

    void appearingAndDisappearingObjects()
    {
        ClusterSnapshot after = twoNodes();
        after.postgres.removeLast();
        Finding f{Severity::Critical,
                  QStringLiteral("no-primary"),
                  QStringLiteral("No PostgreSQL node accepts writes."),
                  {}};
        after.findings.append(f);
        const auto changes = SnapshotDiff::diff(twoNodes(), after);
        QVERIFY(std::any_of(changes.cbegin(), changes.cend(), [](const SnapshotDiff::Change &c) {
            return c.key == u"finding:no-primary[]" && c.before.isEmpty() &&
                   c.after == u"critical: No PostgreSQL node accepts writes.";
        }));
        QVERIFY(std::any_of(changes.cbegin(), changes.cend(), [](const SnapshotDiff::Change &c) {
            return c.key == u"pg:pg-2.role" && c.after.isEmpty() && c.before == u"standby";
        }));
    }
};

QTEST_GUILESS_MAIN(TestSnapshotDiff)
#include "tst_snapshotdiff.moc"
