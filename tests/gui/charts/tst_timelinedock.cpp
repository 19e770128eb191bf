// TimelineDock lists events newest first and filters them by source toggle
// and by typed text, following the timeline as events arrive.

#include "models/timelinefiltermodel.h"
#include "models/timelinemodel.h"
#include "ui/docks/timelinedock.h"

#include <QAbstractButton>
#include <QLabel>
#include <QLineEdit>
#include <QMainWindow>
#include <QSignalSpy>
#include <QTest>
#include <QTreeView>

#include "tests/guisupport.h"

using namespace Pilothouse;

namespace {

const QDateTime s_base(QDate(2026, 11, 26), QTime(10, 14, 2), Qt::UTC);

ClusterEvent makeEvent(int second, const QString &source, Severity severity, const QString &text,
                       const QStringList &objects)
{
    return {s_base.addSecs(second),
            source,
            severity,
            text,
            objects,
            source + u'/' + QString::number(second)};
}

QList<ClusterEvent> failover()
{
    return {
        makeEvent(0, QStringLiteral("swarm"), Severity::Warning,
                  QStringLiteral("task pg-1.1 on swarm-01: running -> failed (exit 137)"),
                  {QStringLiteral("task:k2j4h5"), QStringLiteral("pg:pg-1")}),
        makeEvent(1, QStringLiteral("change"), Severity::Critical,
                  QStringLiteral("pg-1 unreachable"), {QStringLiteral("pg:pg-1")}),
        makeEvent(2, QStringLiteral("finding"), Severity::Critical,
                  QStringLiteral("appeared: no primary is reachable"), {QStringLiteral("pg:pg-1")}),
        makeEvent(14, QStringLiteral("repmgr"), Severity::Info,
                  QStringLiteral("pg-2: repmgrd_failover_promote (ok): promoted to primary"),
                  {QStringLiteral("pg:pg-2")}),
        makeEvent(15, QStringLiteral("repmgr"), Severity::Info,
                  QStringLiteral("pg-3: repmgrd_failover_follow (ok): now follows pg-2"),
                  {QStringLiteral("pg:pg-3"), QStringLiteral("pg:pg-2")}),
        makeEvent(16, QStringLiteral("change"), Severity::Info,
                  QStringLiteral("pg-2 role: standby -> primary, timeline 3 -> 4"),
                  {QStringLiteral("pg:pg-2")}),
        makeEvent(17, QStringLiteral("finding"), Severity::Info,
                  QStringLiteral("cleared: no primary is reachable"), {QStringLiteral("pg:pg-1")}),
        makeEvent(21, QStringLiteral("swarm"), Severity::Info,
                  QStringLiteral("task pg-1.1 on swarm-01: starting -> running"),
                  {QStringLiteral("task:p9x2m1"), QStringLiteral("pg:pg-1")}),
        makeEvent(40, QStringLiteral("repmgr"), Severity::Info,
                  QStringLiteral("pg-1: standby_register (ok): rejoined as a standby of pg-2"),
                  {QStringLiteral("pg:pg-1")}),
    };
}

QStringList shownTexts(const TimelineDock &dock)
{
    QStringList out;
    const QAbstractItemModel *model = dock.view()->model();
    for (int row = 0; row < model->rowCount(); ++row)
        out.append(model->index(row, TimelineModel::TextColumn).data().toString());
    return out;
}

} // namespace

class TestTimelineDock final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void filters()
    {
        TimelineModel model;
        QMainWindow window; // as in the application, with its title bar
        auto *docked = new TimelineDock;
        TimelineDock &dock = *docked;
        QCOMPARE(dock.objectName(), QStringLiteral("timelineDock"));
        dock.setModel(&model);
        window.addDockWidget(Qt::BottomDockWidgetArea, docked);
        window.resize(900, 330);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        auto *empty = dock.findChild<QLabel *>(QStringLiteral("timelineEmpty"));
        QVERIFY(empty && empty->isVisible());
        QCOMPARE(empty->text(), QStringLiteral("No events yet"));

        model.append(failover());
        QVERIFY(dock.view()->isVisible());
        QCOMPARE(dock.view()->model()->rowCount(), 9);
        QVERIFY(shownTexts(dock).first().contains(QStringLiteral("standby_register")));

        QVERIFY(TestSupport::saveScreenshot(&window, QStringLiteral("timeline.png")));

        // Source toggles: swarm and change off.
        for (const QString &source : TimelineDock::knownSources())
            QVERIFY(dock.sourceToggle(source) && dock.sourceToggle(source)->isChecked());
        QTest::mouseClick(dock.sourceToggle(QStringLiteral("swarm")), Qt::LeftButton);
        QTest::mouseClick(dock.sourceToggle(QStringLiteral("change")), Qt::LeftButton);
        QCOMPARE(dock.view()->model()->rowCount(), 5);
        for (int row = 0; row < 5; ++row) {
            const QString source =
                dock.view()->model()->index(row, TimelineModel::SourceColumn).data().toString();
            QVERIFY2(source == u"repmgr" || source == u"finding", qPrintable(source));
        }

        // Text, as typed, case-insensitive, in the text or the objects.
        QTest::keyClicks(dock.filterEdit(), QStringLiteral("PG-2"));
        QCOMPARE(
            shownTexts(dock),
            (QStringList{QStringLiteral("pg-1: standby_register (ok): rejoined as a "
                                        "standby of pg-2"),
                         QStringLiteral("pg-3: repmgrd_failover_follow (ok): now follows pg-2"),
                         QStringLiteral("pg-2: repmgrd_failover_promote (ok): promoted to "
                                        "primary")}));

        // A matching event arriving now appears at the top; others do not.
        model.append({makeEvent(60, QStringLiteral("repmgr"), Severity::Info,
                                QStringLiteral("pg-2: repmgrd_upstream_reconnect (ok)"),
                                {QStringLiteral("pg:pg-2")}),
                      makeEvent(61, QStringLiteral("swarm"), Severity::Info,
                                QStringLiteral("pg-2 node drained"), {QStringLiteral("pg:pg-2")})});
        QCOMPARE(dock.view()->model()->rowCount(), 4);
        QCOMPARE(dock.windowTitle(), QStringLiteral("Timeline (4 of 11 shown)"));
        QCOMPARE(shownTexts(dock).first(), QStringLiteral("pg-2: repmgrd_upstream_reconnect (ok)"));

        QCoreApplication::processEvents();
        QVERIFY(TestSupport::saveScreenshot(&window, QStringLiteral("timeline-filtered.png")));

        QTest::keyClicks(dock.filterEdit(), QStringLiteral("zzz"));
        QVERIFY(empty->isVisible());
        QCOMPARE(empty->text(), QStringLiteral("None of the 11 events match the filter"));

        dock.filterEdit()->clear();
        QTest::mouseClick(dock.sourceToggle(QStringLiteral("swarm")), Qt::LeftButton);
        QTest::mouseClick(dock.sourceToggle(QStringLiteral("change")), Qt::LeftButton);
        QVERIFY(dock.filterModel()->acceptsAllSources());
        QCOMPARE(dock.view()->model()->rowCount(), 11);
    }

    void readingDownIsNotDisturbed()
    {
        TimelineModel model;
        TimelineDock dock;
        dock.setModel(&model);
        dock.resize(700, 300);
        dock.show();
        QVERIFY(QTest::qWaitForWindowExposed(&dock));
        QList<ClusterEvent> events;
        for (int i = 0; i < 200; ++i) {
            events.append(makeEvent(i, QStringLiteral("swarm"), Severity::Info,
                                    QStringLiteral("event %1").arg(i), {}));
        }
        model.append(events);
        QTreeView *view = dock.view();
        const auto topText = [view] {
            return view->indexAt({1, 1})
                .siblingAtColumn(TimelineModel::TextColumn)
                .data()
                .toString();
        };
        QCOMPARE(topText(), QStringLiteral("event 199"));

        // At the top, new events show up at the top.
        model.append({makeEvent(200, QStringLiteral("swarm"), Severity::Info,
                                QStringLiteral("event 200"), {})});
        QCOMPARE(topText(), QStringLiteral("event 200"));

        // Scrolled down, the rows in view stay in view.
        view->scrollTo(view->model()->index(80, 0), QAbstractItemView::PositionAtTop);
        const QString reading = topText();
        QCOMPARE(reading, QStringLiteral("event 120"));
        model.append({makeEvent(201, QStringLiteral("swarm"), Severity::Info,
                                QStringLiteral("event 201"), {}),
                      makeEvent(202, QStringLiteral("swarm"), Severity::Info,
                                QStringLiteral("event 202"), {})});
        QCOMPARE(topText(), reading);
    }

    void clickReportsObjects()
    {
        TimelineModel model;
        TimelineDock dock;
        dock.setModel(&model);
        dock.show();
        QVERIFY(QTest::qWaitForWindowExposed(&dock));
        model.append(failover());
        QSignalSpy activated(&dock, &TimelineDock::eventActivated);
        const QModelIndex top = dock.view()->model()->index(0, TimelineModel::TextColumn);
        QTest::mouseClick(dock.view()->viewport(), Qt::LeftButton, {},
                          dock.view()->visualRect(top).center());
        QCOMPARE(activated.size(), 1);
        QCOMPARE(activated.first().first().toStringList(), QStringList{QStringLiteral("pg:pg-1")});
    }
};

QTEST_MAIN(TestTimelineDock)
#include "tst_timelinedock.moc"
