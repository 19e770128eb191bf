#pragma once
// Lives on the GUI thread.

#include "models/drillreport.h"

#include <QWidget>

class QLabel;
class QPainter;
class QPushButton;
class QTextBrowser;

namespace Pilothouse {

class DrillTimelineChart;

// A drill's report: the outcome, RTO and RPO in words beside the prediction,
// the timeline chart, then the phases, writers and events as tables; and
// its export as one self-contained HTML file (the chart embedded as a PNG)
// or as a PDF (the chart drawn as vectors on the first page).
class DrillReportView final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(DrillReportView)

public:
    explicit DrillReportView(QWidget *parent = nullptr);
    ~DrillReportView() override;

    void setReport(const DrillReport &report);
    const DrillReport &report() const { return m_report; }

    DrillTimelineChart *chart() const { return m_chart; }
    QLabel *words() const { return m_words; }
    QPushButton *htmlButton() const { return m_html; }
    QPushButton *pdfButton() const { return m_pdf; }

    // Write the report; an empty string when done, else what failed.
    static QString exportHtml(const DrillReport &report, const QString &path);
    static QString exportPdf(const DrillReport &report, const QString &path);
    // The first page of the PDF (title, facts, chart) on any paint device.
    static void paintFirstPage(QPainter &painter, const QRectF &page, const DrillReport &report,
                               const QFont &font);
    // The tables below the chart (phases, writers, events, steps) as HTML.
    static QString detailsHtml(const DrillReport &report);
    // The light palette reports are printed with, whatever the screen uses.
    static QPalette paperPalette();

Q_SIGNALS:
    void exported(const QString &path, const QString &error);

private:
    void chooseFile(bool pdf);

    DrillReport m_report;
    QLabel *m_title = nullptr;
    QLabel *m_words = nullptr;
    DrillTimelineChart *m_chart = nullptr;
    QTextBrowser *m_details = nullptr;
    QPushButton *m_html = nullptr;
    QPushButton *m_pdf = nullptr;
};

} // namespace Pilothouse
