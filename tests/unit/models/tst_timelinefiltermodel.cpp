// TimelineFilterModel shows the events of the chosen sources that contain the
// typed text, and follows the timeline as events arrive.

#include "models/timelinefiltermodel.h"
#include "models/timelinemodel.h"

#include <QAbstractItemModelTester>
#include <QTest>

using namespace Pilothouse;

namespace {

const QDateTime s_base = QDateTime(QDate(2026, 11, 26), QTime(10, 0), Qt::UTC);

ClusterEvent makeEvent(int second, const QString &source, const QString &text,
                       const QStringList &objects = {})
{
    return {s_base.addSecs(second),          source, Severity::Info, text, objects,
            source + QString::number(second)};
}

QStringList texts(const QAbstractItemModel &model)
{
    QStringList out;
    for (int row = 0; row < model.rowCount(); ++row)
        out.append(model.index(row, TimelineModel::TextColumn).data().toString());
    return out;
}

} // namespace

class TestTimelineFilterModel final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void filtersBySourceAndText()
    {
        TimelineModel timeline;
        TimelineFilterModel filter;
        filter.setSourceModel(&timeline);
        QAbstractItemModelTester tester(&filter,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        timeline.append(
            {makeEvent(1, QStringLiteral("repmgr"), QStringLiteral("pg-2 promoted"),
                       {QStringLiteral("pg:pg-2")}),
             makeEvent(2, QStringLiteral("swarm"), QStringLiteral("task pgpool.1 failed"),
                       {QStringLiteral("task:abc")}),
             makeEvent(3, QStringLiteral("finding"), QStringLiteral("Two primaries"),
                       {QStringLiteral("pg:pg-1"), QStringLiteral("pg:pg-2")}),
             makeEvent(4, QStringLiteral("change"), QStringLiteral("swarm-02 unreachable"),
                       {QStringLiteral("host:swarm-02")})});
        QVERIFY(filter.acceptsAllSources());
        QCOMPARE(filter.rowCount(), 4);

        filter.setSources({QStringLiteral("repmgr"), QStringLiteral("finding")});
        QCOMPARE(texts(filter),
                 (QStringList{QStringLiteral("Two primaries"), QStringLiteral("pg-2 promoted")}));

        // Case-insensitive, in the text or in an object key.
        filter.setText(QStringLiteral("PG-2"));
        QCOMPARE(filter.rowCount(), 2);
        filter.setText(QStringLiteral("pg:pg-1"));
        QCOMPARE(texts(filter), QStringList{QStringLiteral("Two primaries")});
        filter.setText(QStringLiteral("nothing like it"));
        QCOMPARE(filter.rowCount(), 0);

        filter.setText(QString());
        filter.setSources({});
        QCOMPARE(filter.rowCount(), 0);
        filter.acceptAllSources();
        filter.setText(QStringLiteral("swarm"));
        // "swarm" as a source and in "swarm-02 unreachable".
        QCOMPARE(texts(filter), (QStringList{QStringLiteral("swarm-02 unreachable"),
                                             QStringLiteral("task pgpool.1 failed")}));
    }

    void followsNewEvents()
    {
        TimelineModel timeline;
        timeline.setCapacity(3);
        TimelineFilterModel filter;
        filter.setSourceModel(&timeline);
        QAbstractItemModelTester tester(&filter,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        filter.setSources({QStringLiteral("repmgr")});
        filter.setText(QStringLiteral("promote"));
        timeline.append(
            {makeEvent(1, QStringLiteral("repmgr"), QStringLiteral("standby_promote"))});
        timeline.append({makeEvent(2, QStringLiteral("swarm"), QStringLiteral("promote?"))});
        timeline.append({makeEvent(3, QStringLiteral("repmgr"), QStringLiteral("standby_follow"))});
        QCOMPARE(texts(filter), QStringList{QStringLiteral("standby_promote")});
        timeline.append(
            {makeEvent(4, QStringLiteral("repmgr"), QStringLiteral("failover_promote"))});
        // The capacity pushed the first promote out.
        QCOMPARE(texts(filter), QStringList{QStringLiteral("failover_promote")});
    }
};

QTEST_MAIN(TestTimelineFilterModel)
#include "tst_timelinefiltermodel.moc"
