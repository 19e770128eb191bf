// The drill report view on a fixture report (fixtures/drill-kill-primary.json,
// shaped like a kill-primary drill on the lab: three writers, six phases,
// fifteen events): it draws, and exports HTML with the chart embedded and a
// multi-page PDF with the chart drawn.

#include "models/drillreport.h"
#include "ui/operations/drillreportview.h"
#include "ui/operations/drilltimelinechart.h"

#include <QFile>
#include <QGuiApplication>
#include <QJsonDocument>
#include <QLabel>
#include <QPainter>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

#include "tests/guisupport.h"

using namespace Pilothouse;

class TestDrillReportView final : public QObject
{
    Q_OBJECT

private:
    DrillReport m_report;
    QTemporaryDir m_dir;

private Q_SLOTS:
    void initTestCase()
    {
        QFile f(QStringLiteral(PILOTHOUSE_SOURCE_DIR
                               "/tests/gui/operations/fixtures/drill-kill-primary.json"));
        QVERIFY(f.open(QIODevice::ReadOnly));
        m_report = DrillReport::fromJson(QJsonDocument::fromJson(f.readAll()).object());
        QCOMPARE(m_report.scenario, QStringLiteral("kill-primary"));
        QCOMPARE(m_report.writers.size(), 3);
        QCOMPARE(m_report.phases.size(), 6);
    }

    void drawsTheChart()
    {
        DrillReportView view;
        view.resize(1200, 900);
        view.setReport(m_report);
        view.show();
        QVERIFY(QTest::qWaitForWindowExposed(&view));
        QVERIFY(view.words()->text().contains(u"4.62"));
        QVERIFY(view.chart()->height() >=
                DrillTimelineChart::heightFor(m_report, view.chart()->fontMetrics()));
        const QImage image = view.chart()->grab().toImage();
        // Hatched red bars for the write gaps: some pixels are the gap's red.
        int red = 0;
        for (int y = 0; y < image.height(); y += 2) {
            for (int x = 0; x < image.width(); x += 2) {
                const QColor c = image.pixelColor(x, y);
                red += c.red() > 180 && c.green() < 80 && c.blue() < 80;
            }
        }
        QVERIFY2(red > 50, qPrintable(QString::number(red)));
        QVERIFY(TestSupport::saveScreenshot(&view, QStringLiteral("drill-report-view.png"),
                                            QSize(1000, 700)));
        QVERIFY(DrillTimelineChart::rtoRpoWords(m_report).contains(u"RTO 4.62 s"));
        QVERIFY(DrillTimelineChart::rtoRpoWords(m_report).contains(u"no acknowledged write lost"));
    }

    void exportsSelfContainedHtml()
    {
        const QString path = m_dir.filePath(QStringLiteral("report.html"));
        QCOMPARE(DrillReportView::exportHtml(m_report, path), QString());
        QFile f(path);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QByteArray html = f.readAll();
        QVERIFY(html.startsWith("<!DOCTYPE html>"));
        QVERIFY(html.contains("RTO 4.62 s"));
        QVERIFY(html.contains("pgpool@swarm-01"));
        const qsizetype at = html.indexOf("data:image/png;base64,");
        QVERIFY(at > 0);
        const qsizetype end = html.indexOf('"', at);
        const QByteArray png = QByteArray::fromBase64(html.mid(at + 22, end - at - 22));
        QVERIFY(png.startsWith("\x89PNG"));
        const QImage chart = QImage::fromData(png, "PNG");
        QVERIFY(chart.width() >= 2000); // drawn at twice its 1100 px width
        // Nothing is loaded from elsewhere.
        QVERIFY(!html.contains("http://") && !html.contains("https://"));
        QFile::remove(TestSupport::screenshotPath(QStringLiteral("drill-report.html")));
        QVERIFY(
            QFile::copy(path, TestSupport::screenshotPath(QStringLiteral("drill-report.html"))));
        QVERIFY(chart.save(TestSupport::screenshotPath(QStringLiteral("drill-report-chart.png"))));
    }

    void exportsPdf()
    {
        const QString path = m_dir.filePath(QStringLiteral("report.pdf"));
        QCOMPARE(DrillReportView::exportPdf(m_report, path), QString());
        QFile f(path);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QByteArray pdf = f.readAll();
        QVERIFY(pdf.startsWith("%PDF"));
        const qsizetype pages =
            QString::fromLatin1(pdf).count(QRegularExpression(QStringLiteral("/Type\\s*/Page\\b")));
        QVERIFY2(pages > 1, qPrintable(QString::number(pages)));
        QVERIFY(pdf.size() > 10000);
        // What the first page draws, on an image of the page's size at its 144 dpi.
        QImage page(QSize(1540, 1060), QImage::Format_ARGB32);
        page.setDotsPerMeterX(5669);
        page.setDotsPerMeterY(5669);
        page.fill(Qt::white);
        {
            QPainter painter(&page);
            QFont font = QGuiApplication::font();
            font.setPointSizeF(9);
            DrillReportView::paintFirstPage(painter, QRectF(0, 0, 1540, 1060), m_report, font);
        }
        QVERIFY(
            page.save(TestSupport::screenshotPath(QStringLiteral("drill-report-pdf-page1.png"))));
        QFile::remove(TestSupport::screenshotPath(QStringLiteral("drill-report.pdf")));
        QVERIFY(QFile::copy(path, TestSupport::screenshotPath(QStringLiteral("drill-report.pdf"))));
    }

    void drawsALabReport_data()
    {
        QTest::addColumn<QString>("scenario");
        QTest::newRow("kill-pgpool") << QStringLiteral("kill-pgpool");
        QTest::newRow("kill-primary") << QStringLiteral("kill-primary");
    }

    void drawsALabReport()
    {
        // Captured from the GUI lab test's drills (tst_operation_wizards_lab): many
        // short app gaps next to each other, markers close together, long event texts.
        QFETCH(QString, scenario);
        QFile f(QStringLiteral(PILOTHOUSE_SOURCE_DIR "/tests/gui/operations/fixtures/drill-") +
                scenario + QStringLiteral("-lab.json"));
        QVERIFY(f.open(QIODevice::ReadOnly));
        const DrillReport r = DrillReport::fromJson(QJsonDocument::fromJson(f.readAll()).object());
        QCOMPARE(r.scenario, scenario);
        QVERIFY(r.healthyAfter);
        QCOMPARE(r.rpoWrites, 0);
        DrillReportView view;
        view.resize(1300, 900);
        view.setReport(r);
        view.show();
        QVERIFY(QTest::qWaitForWindowExposed(&view));
        QVERIFY(TestSupport::saveScreenshot(
            &view, QStringLiteral("drill-report-view-lab-%1.png").arg(scenario), QSize(1000, 700)));
        QCOMPARE(DrillReportView::exportHtml(r, m_dir.filePath(scenario + QStringLiteral(".html"))),
                 QString());
    }

    void aFailedDrillWithoutMeasurementsStillDraws()
    {
        DrillReport r;
        r.scenario = QStringLiteral("lose-etcd-quorum");
        r.outcome = QStringLiteral("failed");
        r.error = QStringLiteral("the lock is held by bob@ws2");
        DrillReportView view;
        view.setReport(r);
        view.resize(900, 500);
        view.show();
        QVERIFY(QTest::qWaitForWindowExposed(&view));
        QVERIFY(view.words()->text().contains(u"bob@ws2"));
        QVERIFY(DrillTimelineChart::rtoRpoWords(r).contains(u"RTO not measured"));
        const QString path = m_dir.filePath(QStringLiteral("failed.pdf"));
        QCOMPARE(DrillReportView::exportPdf(r, path), QString());
    }
};

QTEST_MAIN(TestDrillReportView)
#include "tst_drillreportview.moc"
