// ChartsPanel draws a History filled from synthetic lab snapshots: one series
// per key with the right number of points, a window sliding over the last 15
// minutes, pause and catch-up, "no data yet" when empty, light and dark.

#include "models/history.h"
#include "ui/charts/chartspanel.h"

#include <QChart>
#include <QDateTimeAxis>
#include <QElapsedTimer>
#include <QGraphicsSimpleTextItem>
#include <QLineSeries>
#include <QPushButton>
#include <QTest>
#include <QToolTip>
#include <QValueAxis>

#include "syntheticcluster.h"
#include "tests/guisupport.h"

using namespace Pilothouse;
using namespace Pilothouse::TestSupport;

namespace {

qint64 msecsAt(int second)
{
    return syntheticStart().addSecs(second).toMSecsSinceEpoch();
}

void record(History &history, int from, int to)
{
    for (int second = from; second < to; ++second)
        history.record(syntheticSnapshot(second));
}

QGraphicsSimpleTextItem *emptyText(QChart *chart)
{
    for (QGraphicsItem *item : chart->childItems()) {
        if (auto *text = dynamic_cast<QGraphicsSimpleTextItem *>(item))
            return text;
    }
    return nullptr;
}

QDateTimeAxis *timeAxis(QChart *chart)
{
    const auto axes = chart->axes(Qt::Horizontal);
    return axes.isEmpty() ? nullptr : qobject_cast<QDateTimeAxis *>(axes.first());
}

} // namespace

class TestChartsPanel final : public QObject
{
    Q_OBJECT

private:
    static void save(QWidget *w, const QString &name)
    {
        // Processing events first lets the charts lay out their legends and axes.
        QVERIFY(TestSupport::saveScreenshot(w, name));
    }

private Q_SLOTS:
    void seriesPerKey()
    {
        History history;
        record(history, 0, 120);
        ChartsPanel panel;
        panel.resize(1400, 900);
        panel.show();
        QVERIFY(QTest::qWaitForWindowExposed(&panel));
        QCOMPARE(panel.objectName(), QStringLiteral("chartsPanel"));
        panel.setBucketSeconds(1); // one point per sample
        panel.setHistory(&history);
        panel.refresh(msecsAt(119));

        // Every key the history has is drawn: 2 standbys x (bytes, seconds),
        // 3 x tps, 3 x connections, 2 pgpools x 3 backends, 6 app replicas.
        QCOMPARE(panel.seriesKeys(), history.keys());
        QCOMPARE(panel.seriesKeys().size(), 4 + 3 + 3 + 6 + 6);
        QCOMPARE(panel.pointCount(QStringLiteral("lag_bytes:pg-2")), 120);
        QCOMPARE(panel.pointCount(QStringLiteral("lag_seconds:pg-3")), 120);
        QCOMPARE(panel.pointCount(QStringLiteral("connections:pg-1")), 120);
        QCOMPARE(panel.pointCount(QStringLiteral("tps:pg-1")), 119); // a rate needs two counters
        QCOMPARE(panel.pointCount(QStringLiteral("selects:pgpool.2.x7kq6mv/pg-3")), 119);
        QCOMPARE(panel.pointCount(QStringLiteral("app_latency_ms:app.6")), 120);
        QCOMPARE(panel.pointCount(QStringLiteral("lag_bytes:pg-1")), -1); // the primary has none

        QCOMPARE(panel.chart(0)->series().size(), 4);
        QCOMPARE(panel.chart(1)->series().size(), 3);
        QCOMPARE(panel.chart(2)->series().size(), 3);
        QCOMPARE(panel.chart(3)->series().size(), 6);
        QCOMPARE(panel.chart(4)->series().size(), 6);
        for (int i = 0; i < ChartsPanel::ChartCount; ++i) {
            QDateTimeAxis *x = timeAxis(panel.chart(i));
            QVERIFY(x);
            QCOMPARE(x->max().toMSecsSinceEpoch(), msecsAt(119));
            QCOMPARE(x->min().toMSecsSinceEpoch(), msecsAt(119) - ChartsPanel::WindowMsecs);
            QVERIFY(!emptyText(panel.chart(i))->isVisible());
        }
        // The values themselves: the last tps point is the last rate recorded.
        auto *tps = qobject_cast<QLineSeries *>(panel.chart(1)->series().first());
        QVERIFY(tps);
        const QString tpsKey = QStringLiteral("tps:") + tps->name();
        QCOMPARE(tps->points().last().y(), history.series(tpsKey)->last()->value);
    }

    void emptySaysNoDataYet()
    {
        History history;
        ChartsPanel panel;
        panel.show();
        QVERIFY(QTest::qWaitForWindowExposed(&panel));
        panel.setHistory(&history);
        panel.refresh(msecsAt(0));
        for (int i = 0; i < ChartsPanel::ChartCount; ++i) {
            QGraphicsSimpleTextItem *text = emptyText(panel.chart(i));
            QVERIFY(text);
            QCOMPARE(text->text(), QStringLiteral("no data yet"));
            QVERIFY(text->isVisible());
        }
        // Data arrives for PostgreSQL only: the app latency chart stays empty.
        ClusterSnapshot snapshot = syntheticSnapshot(0);
        snapshot.appReplicas.clear();
        history.record(snapshot);
        panel.refresh(msecsAt(0));
        QVERIFY(!emptyText(panel.chart(0))->isVisible());
        QVERIFY(emptyText(panel.chart(4))->isVisible());
    }

    void bucketsOfSamples()
    {
        History history;
        record(history, 0, 120);
        ChartsPanel panel;
        panel.show();
        QVERIFY(QTest::qWaitForWindowExposed(&panel));
        QCOMPARE(panel.bucketSeconds(), 5);
        panel.setHistory(&history);
        panel.refresh(msecsAt(117));
        // 10:00:00 starts a bucket: seconds 0-4, 5-9, ..., 115-117 (still open).
        QCOMPARE(panel.pointCount(QStringLiteral("lag_bytes:pg-2")), 24);
        QCOMPARE(panel.pointCount(QStringLiteral("tps:pg-1")), 24); // rates from second 1
        auto *lag = qobject_cast<QLineSeries *>(panel.chart(0)->series().first());
        auto *tps = qobject_cast<QLineSeries *>(panel.chart(1)->series().first());
        QCOMPARE(lag->name(), QStringLiteral("pg-2 bytes"));
        QCOMPARE(tps->name(), QStringLiteral("pg-1"));
        const QList<Sample> lagSamples =
            history.series(QStringLiteral("lag_bytes:pg-2"))->samples();
        const QList<Sample> tpsSamples = history.series(QStringLiteral("tps:pg-1"))->samples();
        // A bucket shows the worst lag and the mean rate, at its newest sample's time.
        double worst = 0;
        double sum = 0;
        for (int second = 10; second < 15; ++second) {
            worst = std::max(worst, lagSamples.at(second).value);
            sum += tpsSamples.at(second - 1).value; // the first rate is at second 1
        }
        const double scale = worst / lag->at(2).y(); // the axis unit, KiB here
        QCOMPARE(scale, 1024.0);
        QCOMPARE(lag->at(2).x(), double(msecsAt(14)));
        QCOMPARE(tps->at(2).y(), sum / 5);

        // The open bucket follows each sample; a new bucket adds a point.
        panel.refresh(msecsAt(118));
        QCOMPARE(panel.pointCount(QStringLiteral("lag_bytes:pg-2")), 24);
        QCOMPARE(lag->at(23).x(), double(msecsAt(118)));
        panel.refresh(msecsAt(119));
        record(history, 120, 121);
        panel.refresh(msecsAt(120));
        QCOMPARE(panel.pointCount(QStringLiteral("lag_bytes:pg-2")), 25);
        QCOMPARE(lag->at(24).x(), double(msecsAt(120)));
        QCOMPARE(lag->at(24).y(),
                 history.series(QStringLiteral("lag_bytes:pg-2"))->last()->value / 1024);
    }

    void replacingTheHistoryStartsOver()
    {
        History busy;
        record(busy, 280, 340); // into the bulk load: MiB behind
        ChartsPanel panel;
        panel.show();
        QVERIFY(QTest::qWaitForWindowExposed(&panel));
        panel.setHistory(&busy);
        panel.refresh(msecsAt(339));
        auto *y = qobject_cast<QValueAxis *>(panel.chart(0)->axes(Qt::Vertical).first());
        QVERIFY(y);
        QCOMPARE(y->titleText(), QStringLiteral("lag, MiB"));

        History other; // another cluster, nothing recorded yet
        panel.setHistory(&other);
        QVERIFY(panel.seriesKeys().isEmpty());
        QCOMPARE(y->titleText(), QStringLiteral("lag, bytes"));
        for (int i = 0; i < ChartsPanel::ChartCount; ++i) {
            QVERIFY(panel.chart(i)->series().isEmpty());
            QVERIFY(emptyText(panel.chart(i))->isVisible());
        }
        record(other, 0, 3);
        panel.refresh(msecsAt(2));
        QCOMPARE(panel.seriesKeys(), other.keys());
    }

    void updatesInPlaceAndSlides_data()
    {
        QTest::addColumn<int>("bucket");
        QTest::addColumn<int>("steadyPoints");
        QTest::newRow("every sample") << 1 << 902; // 901 in the window, 1 entering from the left
        QTest::newRow("5 s buckets") << 5 << 182;
    }

    void updatesInPlaceAndSlides()
    {
        QFETCH(int, bucket);
        QFETCH(int, steadyPoints);
        History history;
        ChartsPanel panel;
        panel.resize(1400, 900);
        panel.show();
        QVERIFY(QTest::qWaitForWindowExposed(&panel));
        panel.setBucketSeconds(bucket);
        panel.setHistory(&history);
        record(history, 0, 880);
        panel.refresh(msecsAt(879));
        const QList<QAbstractSeries *> before = panel.chart(0)->series();
        if (bucket == 1)
            QCOMPARE(panel.pointCount(QStringLiteral("lag_bytes:pg-2")), 880);

        // Then live at 1 Hz past 15 minutes: the window keeps 15 minutes (plus
        // the point that enters from the left edge) and no series is recreated.
        QElapsedTimer timer;
        qint64 spent = 0;
        int measured = 0;
        for (int second = 880; second < 1000; ++second) {
            history.record(syntheticSnapshot(second));
            timer.start();
            panel.refresh(msecsAt(second));
            if (second >= 900) { // once the window is full
                spent += timer.nsecsElapsed();
                ++measured;
            }
            if (bucket == 1 && second < 900)
                QCOMPARE(panel.pointCount(QStringLiteral("lag_bytes:pg-2")), second + 1);
        }
        QCOMPARE(panel.chart(0)->series(), before);
        QCOMPARE(panel.pointCount(QStringLiteral("lag_bytes:pg-2")), steadyPoints);
        auto *line = qobject_cast<QLineSeries *>(panel.chart(0)->series().first());
        QVERIFY(line->at(0).x() < double(msecsAt(999) - ChartsPanel::WindowMsecs));
        QVERIFY(line->at(1).x() >= double(msecsAt(999) - ChartsPanel::WindowMsecs));
        QCOMPARE(line->at(line->count() - 1).x(), double(msecsAt(999)));
        qInfo("refresh of %lld series, %d s per point: %.2f ms on average",
              qlonglong(panel.seriesKeys().size()), bucket, double(spent) / measured / 1e6);
    }

    void pauseStopsAndResumeCatchesUp()
    {
        History history;
        record(history, 0, 60);
        ChartsPanel panel;
        panel.setBucketSeconds(1);
        panel.show();
        QVERIFY(QTest::qWaitForWindowExposed(&panel));
        panel.setHistory(&history);
        panel.refresh(msecsAt(59));
        QCOMPARE(panel.pointCount(QStringLiteral("lag_bytes:pg-2")), 60);

        auto *button = panel.findChild<QPushButton *>(QStringLiteral("chartsPauseButton"));
        QVERIFY(button);
        QCOMPARE(button->text(), QStringLiteral("Pause"));
        QTest::mouseClick(button, Qt::LeftButton);
        QVERIFY(panel.isPaused());
        QCOMPARE(button->text(), QStringLiteral("Resume"));

        record(history, 60, 120);
        for (int second = 60; second < 120; ++second)
            panel.refresh(msecsAt(second));
        QCOMPARE(panel.pointCount(QStringLiteral("lag_bytes:pg-2")), 60);
        QCOMPARE(panel.shownUntil(), msecsAt(59));
        QCOMPARE(timeAxis(panel.chart(0))->max().toMSecsSinceEpoch(), msecsAt(59));

        panel.setPaused(false);
        QVERIFY(!button->isChecked());
        QCOMPARE(panel.pointCount(QStringLiteral("lag_bytes:pg-2")), 120);
        QCOMPARE(panel.pointCount(QStringLiteral("selects:pgpool.1.x7kq3mv/pg-2")), 119);
        QCOMPARE(panel.shownUntil(), msecsAt(119));
        QCOMPARE(timeAxis(panel.chart(0))->max().toMSecsSinceEpoch(), msecsAt(119));
    }

    void hiddenPanelCatchesUpWhenShown()
    {
        History history;
        record(history, 0, 30);
        ChartsPanel panel;
        panel.setBucketSeconds(1);
        panel.setHistory(&history);
        panel.refresh(msecsAt(29));
        QCOMPARE(panel.pointCount(QStringLiteral("tps:pg-1")), -1); // hidden: nothing drawn
        panel.show();
        QVERIFY(QTest::qWaitForWindowExposed(&panel));
        QCOMPARE(panel.pointCount(QStringLiteral("tps:pg-1")), 29);
        QCOMPARE(panel.shownUntil(), msecsAt(29));
    }

    void hoverShowsTheExactSample()
    {
        History history;
        record(history, 0, 400);
        ChartsPanel panel;
        panel.resize(1400, 900);
        panel.show();
        QVERIFY(QTest::qWaitForWindowExposed(&panel));
        panel.setHistory(&history);
        panel.refresh(msecsAt(399));
        // Near second 330 of the bulk load: bytes and seconds of the same standby.
        auto *lag = qobject_cast<QLineSeries *>(panel.chart(0)->series().first());
        QCOMPARE(lag->name(), QStringLiteral("pg-2 bytes"));
        Q_EMIT lag->hovered(QPointF(double(msecsAt(330)) + 200, 3.1), true);
        const ClusterSnapshot at330 = syntheticSnapshot(330);
        const QString text = QToolTip::text();
        QVERIFY2(text.contains(QStringLiteral("pg-2 at ")), qPrintable(text));
        QVERIFY2(text.contains(QLocale().formattedDataSize(at330.postgres.at(1).lagBytes, 1,
                                                           QLocale::DataSizeIecFormat)),
                 qPrintable(text));
        QVERIFY2(text.contains(QString::number(at330.postgres.at(1).lagSeconds, 'f', 1) +
                               QStringLiteral(" s")),
                 qPrintable(text));
        Q_EMIT lag->hovered(QPointF(), false);
        QTRY_VERIFY_WITH_TIMEOUT(!QToolTip::isVisible(), 2000);
    }

    void followsPalette()
    {
        ChartsPanel panel;
        QPalette dark;
        dark.setColor(QPalette::Window, QColor(0x20, 0x22, 0x26));
        dark.setColor(QPalette::Base, QColor(0x18, 0x19, 0x1c));
        dark.setColor(QPalette::Text, QColor(0xe0, 0xe0, 0xe0));
        dark.setColor(QPalette::WindowText, QColor(0xe0, 0xe0, 0xe0));
        panel.setPalette(dark);
        QCOMPARE(panel.chart(0)->theme(), QChart::ChartThemeDark);
        QCOMPARE(panel.chart(0)->backgroundBrush().color(), QColor(0x18, 0x19, 0x1c));
        QPalette light;
        light.setColor(QPalette::Window, QColor(0xf4, 0xf4, 0xf4));
        light.setColor(QPalette::Base, Qt::white);
        panel.setPalette(light);
        QCOMPARE(panel.chart(4)->theme(), QChart::ChartThemeLight);
    }

    void screenshot()
    {
        History history;
        record(history, 0, 900);
        ChartsPanel panel;
        panel.resize(1400, 900);
        panel.show();
        QVERIFY(QTest::qWaitForWindowExposed(&panel));
        panel.setHistory(&history);
        panel.refresh(msecsAt(899));
        QCOMPARE(panel.pointCount(QStringLiteral("lag_bytes:pg-2")), 180);
        save(&panel, QStringLiteral("charts.png"));

        QPalette dark;
        dark.setColor(QPalette::Window, QColor(0x2b, 0x2d, 0x31));
        dark.setColor(QPalette::WindowText, QColor(0xe6, 0xe6, 0xe6));
        dark.setColor(QPalette::Base, QColor(0x1e, 0x1f, 0x22));
        dark.setColor(QPalette::Text, QColor(0xe6, 0xe6, 0xe6));
        dark.setColor(QPalette::Button, QColor(0x3a, 0x3c, 0x40));
        dark.setColor(QPalette::ButtonText, QColor(0xe6, 0xe6, 0xe6));
        dark.setColor(QPalette::Mid, QColor(0x50, 0x52, 0x56));
        dark.setColor(QPalette::PlaceholderText, QColor(0x90, 0x90, 0x90));
        panel.setPalette(dark);
        save(&panel, QStringLiteral("charts-dark.png"));
    }
};

QTEST_MAIN(TestChartsPanel)
#include "tst_chartspanel.moc"
