// TimelineModel keeps events newest first, shows each key once and drops the
// oldest beyond its capacity, by inserting and removing rows only.

#include "models/timelinemodel.h"

#include <QAbstractItemModelTester>
#include <QRandomGenerator>
#include <QSignalSpy>
#include <QTest>

using namespace Pilothouse;

namespace {

const QDateTime s_base = QDateTime(QDate(2026, 11, 26), QTime(10, 0), Qt::UTC);

ClusterEvent makeEvent(int second, const QString &key,
                       const QString &source = QStringLiteral("swarm"),
                       Severity severity = Severity::Info)
{
    return {s_base.addSecs(second),          source, severity, QStringLiteral("event ") + key,
            {QStringLiteral("task:") + key}, key};
}

QStringList keys(const TimelineModel &model)
{
    QStringList out;
    for (int row = 0; row < model.rowCount(); ++row)
        out.append(model.index(row, 0).data(TimelineModel::KeyRole).toString());
    return out;
}

} // namespace

class TestTimelineModel final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void newestFirst()
    {
        TimelineModel model;
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
        model.append({makeEvent(2, QStringLiteral("b")), makeEvent(1, QStringLiteral("a")),
                      makeEvent(3, QStringLiteral("c"))});
        QCOMPARE(keys(model),
                 (QStringList{QStringLiteral("c"), QStringLiteral("b"), QStringLiteral("a")}));
        QCOMPARE(inserted.size(), 1); // one block at the top

        // Newer ones land on top.
        model.append({makeEvent(5, QStringLiteral("e")), makeEvent(4, QStringLiteral("d"))});
        QCOMPARE(inserted.size(), 2);
        QCOMPARE(inserted.last().at(1).toInt(), 0);
        QCOMPARE(inserted.last().at(2).toInt(), 1);
        QCOMPARE(keys(model).first(), QStringLiteral("e"));

        // A late report of an older event goes where its time puts it.
        model.append({makeEvent(0, QStringLiteral("z")), makeEvent(3, QStringLiteral("c2"))});
        QCOMPARE(keys(model),
                 (QStringList{QStringLiteral("e"), QStringLiteral("d"), QStringLiteral("c2"),
                              QStringLiteral("c"), QStringLiteral("b"), QStringLiteral("a"),
                              QStringLiteral("z")}));
    }

    void deduplicatesByKey()
    {
        TimelineModel model;
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
        model.append({makeEvent(1, QStringLiteral("a")), makeEvent(1, QStringLiteral("a"))});
        QCOMPARE(model.rowCount(), 1);
        model.append({makeEvent(1, QStringLiteral("a"))});
        model.append({makeEvent(7, QStringLiteral("a"))}); // same key, reported later: still one
        QCOMPARE(model.rowCount(), 1);
        QCOMPARE(inserted.size(), 1);

        // Without a key, what a person sees is the identity.
        ClusterEvent unkeyed = makeEvent(2, QString());
        model.append({unkeyed, unkeyed});
        QCOMPARE(model.rowCount(), 2);
        model.append({unkeyed});
        QCOMPARE(model.rowCount(), 2);
    }

    void capped()
    {
        TimelineModel model;
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        QCOMPARE(model.capacity(), TimelineModel::DefaultCapacity);
        QSignalSpy removed(&model, &QAbstractItemModel::rowsRemoved);
        QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
        model.setCapacity(5);
        for (int i = 0; i < 10; ++i)
            model.append({makeEvent(i, QString::number(i))});
        QCOMPARE(model.rowCount(), 5);
        QCOMPARE(keys(model),
                 (QStringList{QStringLiteral("9"), QStringLiteral("8"), QStringLiteral("7"),
                              QStringLiteral("6"), QStringLiteral("5")}));
        QCOMPARE(removed.size(), 5);

        // An event older than everything in a full timeline is not shown.
        model.append({makeEvent(-100, QStringLiteral("old"))});
        QCOMPARE(keys(model).last(), QStringLiteral("5"));
        QCOMPARE(model.rowCount(), 5);

        model.setCapacity(2);
        QCOMPARE(keys(model), (QStringList{QStringLiteral("9"), QStringLiteral("8")}));
        model.clear();
        QCOMPARE(model.rowCount(), 0);
        model.append({makeEvent(1, QStringLiteral("9"))}); // forgotten keys may come back
        QCOMPARE(model.rowCount(), 1);
        QCOMPARE(reset.size(), 0);
    }

    void columns()
    {
        TimelineModel model;
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.append(
            {makeEvent(75, QStringLiteral("k"), QStringLiteral("repmgr"), Severity::Warning)});
        const QDateTime at = s_base.addSecs(75);
        QCOMPARE(model.index(0, TimelineModel::TimeColumn).data().toString(),
                 at.toLocalTime().toString(QStringLiteral("HH:mm:ss")));
        QVERIFY(model.index(0, TimelineModel::TimeColumn)
                    .data(Qt::ToolTipRole)
                    .toString()
                    .contains(at.toLocalTime().toString(QStringLiteral("yyyy-MM-dd"))));
        QCOMPARE(model.index(0, TimelineModel::TimeColumn).data(TimelineModel::RawValueRole),
                 QVariant(at));
        QCOMPARE(model.index(0, TimelineModel::SourceColumn).data().toString(),
                 QStringLiteral("repmgr"));
        QCOMPARE(model.index(0, TimelineModel::SeverityColumn).data().toString(),
                 QStringLiteral("Warning"));
        QVERIFY(model.index(0, TimelineModel::SeverityColumn).data(Qt::DecorationRole).isValid());
        QCOMPARE(model.index(0, TimelineModel::TextColumn).data().toString(),
                 QStringLiteral("event k"));
        QCOMPARE(model.index(0, TimelineModel::TextColumn).data(TimelineModel::ObjectsRole),
                 QVariant(QStringList{QStringLiteral("task:k")}));
        QCOMPARE(model.headerData(TimelineModel::TimeColumn, Qt::Horizontal).toString(),
                 QStringLiteral("Time"));
    }

    void randomBatches()
    {
        TimelineModel model;
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.setCapacity(60);
        QRandomGenerator random(11);
        for (int round = 0; round < 200; ++round) {
            QList<ClusterEvent> batch;
            const int count = int(random.bounded(6));
            for (int i = 0; i < count; ++i) {
                const int second = round + int(random.bounded(-20, 5));
                batch.append(
                    makeEvent(second, QStringLiteral("%1-%2").arg(second).arg(random.bounded(3))));
            }
            model.append(batch);
            QVERIFY(model.rowCount() <= 60);
            const QStringList shown = keys(model);
            QCOMPARE(QSet<QString>(shown.cbegin(), shown.cend()).size(), shown.size());
            for (int row = 1; row < model.rowCount(); ++row) {
                QVERIFY(model.index(row - 1, 0).data(TimelineModel::RawValueRole).toDateTime() >=
                        model.index(row, 0).data(TimelineModel::RawValueRole).toDateTime());
            }
        }
    }
};

QTEST_MAIN(TestTimelineModel)
#include "tst_timelinemodel.moc"
