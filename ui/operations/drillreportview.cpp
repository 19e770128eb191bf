#include "ui/operations/drillreportview.h"

#include "ui/operations/drilltimelinechart.h"

#include <QAbstractTextDocumentLayout>
#include <QBuffer>
#include <QFile>
#include <QFileDialog>
#include <QGuiApplication>
#include <QHBoxLayout>
#include <QJsonArray>
#include <QLabel>
#include <QPainter>
#include <QPdfWriter>
#include <QPushButton>
#include <QSaveFile>
#include <QTextBrowser>
#include <QTextDocument>
#include <QVBoxLayout>

namespace Pilothouse {
namespace {

QString esc(const QString &s)
{
    return s.toHtmlEscaped();
}

QString secs(double s)
{
    return s < 0 ? QObject::tr("—") : QString::number(s, 'f', s < 10 ? 2 : 1);
}

QString titleOf(const DrillReport &r)
{
    return QObject::tr("Failover drill %1").arg(r.scenario);
}

QString outcomeWords(const DrillReport &r)
{
    QString text = r.outcome.isEmpty() ? QObject::tr("unknown") : r.outcome;
    if (!r.error.isEmpty())
        text += QStringLiteral(": ") + r.error;
    return text;
}

// The facts a reader wants first, as rows of a table.
QString factsHtml(const DrillReport &r)
{
    const auto row = [](const QString &k, const QString &v) {
        return QStringLiteral("<tr><th align=left>%1</th><td>%2</td></tr>").arg(esc(k), esc(v));
    };
    QString h = QStringLiteral("<table cellspacing=0 cellpadding=3>");
    h += row(QObject::tr("Outcome"),
             (r.succeeded() ? QStringLiteral("✔ ") : QStringLiteral("✘ ")) + outcomeWords(r));
    h += row(QObject::tr("Reason"), r.reason);
    h += row(QObject::tr("Started"),
             r.startedAt.toUTC().toString(QStringLiteral("yyyy-MM-dd HH:mm:ss.zzz")) +
                 QStringLiteral(" UTC"));
    h += row(QObject::tr("RTO (write gap)"),
             QObject::tr("%1 s — through pgpool %2 s, through the app %3 s")
                 .arg(secs(r.rtoSeconds), secs(r.rtoPgpoolSeconds), secs(r.rtoAppSeconds)));
    h += row(QObject::tr("RPO"),
             r.rpoWrites < 0 ? QObject::tr("not measured")
                             : QObject::tr("%n acknowledged write(s) lost", nullptr, r.rpoWrites));
    h += row(QObject::tr("Two writable primaries"),
             r.twoPrimariesSeconds > 0 ? QObject::tr("%1 s").arg(secs(r.twoPrimariesSeconds))
                                       : QObject::tr("never"));
    h += row(QObject::tr("Primary"),
             QObject::tr("%1 → %2").arg(r.oldPrimary, r.newPrimary.isEmpty() ? QObject::tr("(none)")
                                                                             : r.newPrimary));
    h += row(QObject::tr("Fault"), QObject::tr("%1 on %2, injected at +%3 s, restored at +%4 s")
                                       .arg(r.fault.kind, r.fault.target, secs(r.fault.injectedAt),
                                            secs(r.fault.restoredAt)));
    h += row(QObject::tr("Healthy after"),
             r.healthyAfter ? QObject::tr("yes, at +%1 s").arg(secs(r.healthyAfterSeconds))
                            : QObject::tr("NO"));
    if (r.prediction.seconds >= 0)
        h += row(QObject::tr("Predicted"), QObject::tr("%1 s (slowest layer: %2) — measured %3 s")
                                               .arg(secs(r.prediction.seconds),
                                                    r.prediction.slowestLayer, secs(r.rtoSeconds)));
    h += QStringLiteral("</table>");
    return h;
}

const QString Css = QStringLiteral(
    "body{font-family:sans-serif;font-size:10pt;color:#1d1d1d;background:#fff;margin:24px}"
    "h1{font-size:16pt}h2{font-size:12pt;margin-top:18px}"
    "table{border-collapse:collapse}th,td{border:1px solid #c8c8c8;padding:3px 8px;"
    "text-align:left;vertical-align:top}th{background:#f0f0f0}"
    ".chart{max-width:100%;border:1px solid #c8c8c8}");

} // namespace

DrillReportView::DrillReportView(QWidget *parent)
    : QWidget(parent)
{
    setObjectName(QStringLiteral("drillReportView"));
    m_title = new QLabel;
    QFont f = m_title->font();
    f.setBold(true);
    f.setPointSizeF(f.pointSizeF() * 1.25);
    m_title->setFont(f);
    m_words = new QLabel;
    m_words->setObjectName(QStringLiteral("drillWords"));
    m_words->setWordWrap(true);
    m_words->setTextFormat(Qt::RichText);
    m_words->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_chart = new DrillTimelineChart;
    m_details = new QTextBrowser;
    m_details->setObjectName(QStringLiteral("drillDetails"));
    m_details->setOpenLinks(false);
    m_html = new QPushButton(tr("Export &HTML…"));
    m_html->setObjectName(QStringLiteral("exportHtml"));
    m_pdf = new QPushButton(tr("Export &PDF…"));
    m_pdf->setObjectName(QStringLiteral("exportPdf"));
    connect(m_html, &QPushButton::clicked, this, [this] { chooseFile(false); });
    connect(m_pdf, &QPushButton::clicked, this, [this] { chooseFile(true); });

    auto *top = new QHBoxLayout;
    top->addWidget(m_title, 1);
    top->addWidget(m_html);
    top->addWidget(m_pdf);
    // The chart across the width; below it the facts beside the tables.
    m_words->setAlignment(Qt::AlignTop | Qt::AlignLeft);
    auto *bottom = new QHBoxLayout;
    bottom->addWidget(m_words);
    bottom->addWidget(m_details, 1);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addLayout(top);
    layout->addWidget(m_chart);
    layout->addLayout(bottom, 1);
}

DrillReportView::~DrillReportView() = default;

void DrillReportView::setReport(const DrillReport &report)
{
    m_report = report;
    m_title->setText(titleOf(report));
    m_words->setText(factsHtml(report));
    m_chart->setReport(report);
    m_details->setHtml(detailsHtml(report));
}

QPalette DrillReportView::paperPalette()
{
    QPalette p;
    p.setColor(QPalette::Window, Qt::white);
    p.setColor(QPalette::Base, Qt::white);
    p.setColor(QPalette::AlternateBase, QColor(0xf4, 0xf4, 0xf4));
    p.setColor(QPalette::WindowText, QColor(0x1d, 0x1d, 0x1d));
    p.setColor(QPalette::Text, QColor(0x1d, 0x1d, 0x1d));
    p.setColor(QPalette::Mid, QColor(0xa0, 0xa0, 0xa0));
    p.setColor(QPalette::Highlight, QColor(0x2f, 0x6f, 0xd1));
    return p;
}

QString DrillReportView::detailsHtml(const DrillReport &r)
{
    QString h;
    h += QStringLiteral("<h2>%1</h2><table><tr><th>%2</th><th>%3</th><th>%4</th></tr>")
             .arg(esc(tr("Phases")), esc(tr("Phase")), esc(tr("Starts at")), esc(tr("Lasts")));
    for (const DrillReport::Phase &p : r.phases)
        h += QStringLiteral("<tr><td style=\"white-space:nowrap\">%1</td><td>+%2 s</td>"
                            "<td>%3 s</td></tr>")
                 .arg(esc(p.name), secs(p.startedAt), secs(p.seconds));
    h += QStringLiteral("</table>");
    h += QStringLiteral("<h2>%1</h2><table><tr><th>%2</th><th>%3</th><th>%4</th><th>%5</th>"
                        "<th>%6</th><th>%7</th><th>%8</th></tr>")
             .arg(esc(tr("Heartbeat writers")), esc(tr("Path")), esc(tr("Attempts")),
                  esc(tr("Acknowledged")), esc(tr("Failed")), esc(tr("Lost")),
                  esc(tr("Longest gap")), esc(tr("Gaps")));
    for (const DrillReport::Writer &w : r.writers) {
        QStringList gaps;
        for (const DrillReport::Gap &g : w.gaps)
            gaps.append(QStringLiteral("+%1 → +%2 s").arg(secs(g.from), secs(g.to)));
        h += QStringLiteral("<tr><td style=\"white-space:nowrap\">%1</td><td>%2</td><td>%3</td>"
                            "<td>%4</td><td>%5</td><td style=\"white-space:nowrap\">%6 s</td>"
                            "<td>%7</td></tr>")
                 .arg(esc(w.path))
                 .arg(w.attempts)
                 .arg(w.acknowledged)
                 .arg(w.failed)
                 .arg(w.lost)
                 .arg(secs(w.writeGapSeconds), esc(gaps.join(QStringLiteral(", "))));
    }
    h += QStringLiteral("</table>");
    if (!r.prediction.lines.isEmpty()) {
        h += QStringLiteral("<h2>%1</h2><ul>").arg(esc(tr("How the prediction was made")));
        for (const QString &l : r.prediction.lines)
            h += QStringLiteral("<li>") + esc(l) + QStringLiteral("</li>");
        h += QStringLiteral("</ul>");
    }
    h += QStringLiteral("<h2>%1</h2><table><tr><th>%2</th><th>%3</th><th>%4</th></tr>")
             .arg(esc(tr("Events")), esc(tr("At")), esc(tr("Layer")), esc(tr("What")));
    for (const DrillReport::Event &e : r.events)
        h += QStringLiteral("<tr><td>+%1 s</td><td>%2</td><td>%3</td></tr>")
                 .arg(secs(e.at), esc(e.layer), esc(e.text));
    h += QStringLiteral("</table>");
    const QJsonArray steps = r.runbook.value(QStringLiteral("steps")).toArray();
    if (!steps.isEmpty()) {
        h += QStringLiteral(
                 "<h2>%1</h2><table><tr><th>%2</th><th>%3</th><th>%4</th><th>%5</th></tr>")
                 .arg(esc(tr("Runbook steps")), esc(tr("Step")), esc(tr("Outcome")),
                      esc(tr("Seconds")), esc(tr("Message")));
        for (const QJsonValue &v : steps) {
            const QJsonObject s = v.toObject();
            h += QStringLiteral("<tr><td>%1</td><td>%2</td><td>%3</td><td>%4</td></tr>")
                     .arg(esc(s.value(QStringLiteral("path")).toString()),
                          esc(s.value(QStringLiteral("outcome")).toString()),
                          secs(s.value(QStringLiteral("seconds")).toDouble()),
                          esc(s.value(QStringLiteral("message")).toString()));
        }
        h += QStringLiteral("</table>");
    }
    return h;
}

QString DrillReportView::exportHtml(const DrillReport &r, const QString &path)
{
    const QFont font = QGuiApplication::font();
    const QSize size(1100, DrillTimelineChart::heightFor(r, QFontMetrics(font)));
    const QImage chart = DrillTimelineChart::render(r, size, 2.0, paperPalette(), font);
    QByteArray png;
    QBuffer buffer(&png);
    buffer.open(QIODevice::WriteOnly);
    if (!chart.save(&buffer, "PNG"))
        return tr("the chart could not be encoded as PNG");
    QString html =
        QStringLiteral("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                       "<title>%1</title><style>%2</style></head><body>")
            .arg(esc(titleOf(r)), Css);
    html += QStringLiteral("<h1>%1</h1>").arg(esc(titleOf(r)));
    html += QStringLiteral("<p><b>%1</b></p>").arg(esc(DrillTimelineChart::rtoRpoWords(r)));
    html += factsHtml(r);
    html += QStringLiteral("<h2>%1</h2><img class=\"chart\" width=\"%2\" alt=\"%3\" "
                           "src=\"data:image/png;base64,%4\">")
                .arg(esc(tr("Timeline")))
                .arg(size.width())
                .arg(esc(tr("Timeline of the drill: fault, phases, write gaps per path, events")),
                     QString::fromLatin1(png.toBase64()));
    html += detailsHtml(r);
    html += QStringLiteral("<p><small>%1</small></p></body></html>\n")
                .arg(esc(tr("Written by Pilothouse %1 on %2")
                             .arg(QGuiApplication::applicationVersion(),
                                  QDateTime::currentDateTimeUtc().toString(Qt::ISODate))));
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        return tr("cannot write %1: %2").arg(path, file.errorString());
    file.write(html.toUtf8());
    if (!file.commit())
        return tr("cannot write %1: %2").arg(path, file.errorString());
    return {};
}

QString DrillReportView::exportPdf(const DrillReport &r, const QString &path)
{
    QPdfWriter pdf(path);
    pdf.setTitle(titleOf(r));
    pdf.setCreator(QStringLiteral("Pilothouse"));
    pdf.setPageSize(QPageSize(QPageSize::A4));
    pdf.setPageOrientation(QPageLayout::Landscape);
    pdf.setPageMargins(QMarginsF(12, 12, 12, 12), QPageLayout::Millimeter);
    pdf.setResolution(144);
    QPainter painter;
    if (!painter.begin(&pdf))
        return tr("cannot write %1").arg(path);
    const QRectF page(QPointF(0, 0), QSizeF(pdf.width(), pdf.height()));
    QFont font = QGuiApplication::font();
    font.setPointSizeF(9);

    paintFirstPage(painter, page, r, font);

    // Then the tables, as many pages as they need.
    QTextDocument details;
    details.documentLayout()->setPaintDevice(&pdf);
    details.setDefaultFont(font);
    details.setDefaultStyleSheet(
        QStringLiteral("table{border-collapse:collapse}th,td{padding:2px 6px}"));
    details.setHtml(detailsHtml(r));
    details.setPageSize(page.size());
    const int pages = details.pageCount();
    for (int i = 0; i < pages; ++i) {
        pdf.newPage();
        painter.save();
        painter.translate(0, -i * page.height());
        QAbstractTextDocumentLayout::PaintContext context;
        context.clip = QRectF(0, i * page.height(), page.width(), page.height());
        context.palette.setColor(QPalette::Text, Qt::black);
        painter.setClipRect(context.clip);
        details.documentLayout()->draw(&painter, context);
        painter.restore();
    }
    if (!painter.end())
        return tr("cannot finish %1").arg(path);
    QFile check(path);
    if (!check.exists() || check.size() == 0)
        return tr("%1 was not written").arg(path);
    return {};
}

void DrillReportView::paintFirstPage(QPainter &painter, const QRectF &page, const DrillReport &r,
                                     const QFont &font)
{
    // Title and facts, then the chart as vectors below them.
    QTextDocument head;
    head.documentLayout()->setPaintDevice(painter.device()); // its dpi, as the chart's
    head.setDefaultFont(font);
    head.setDefaultStyleSheet(QStringLiteral("th{text-align:left;padding-right:12px}"));
    head.setHtml(QStringLiteral("<h2>%1</h2>").arg(esc(titleOf(r))) + factsHtml(r));
    head.setTextWidth(page.width());
    painter.save();
    painter.translate(page.topLeft());
    head.drawContents(&painter);
    painter.restore();
    const double top = page.top() + head.size().height() + 12;
    const double chartHeight =
        std::min(page.bottom() - top,
                 double(DrillTimelineChart::heightFor(r, QFontMetrics(font, painter.device()))));
    DrillTimelineChart::paint(painter, QRectF(page.left(), top, page.width(), chartHeight), r,
                              paperPalette(), font);
}

void DrillReportView::chooseFile(bool pdf)
{
    const QString suggested =
        QStringLiteral("drill-%1-%2.%3")
            .arg(m_report.scenario,
                 m_report.startedAt.toUTC().toString(QStringLiteral("yyyyMMdd-HHmmss")),
                 pdf ? QStringLiteral("pdf") : QStringLiteral("html"));
    auto *dialog = new QFileDialog(
        this, pdf ? tr("Export the report as PDF") : tr("Export the report as HTML"), suggested,
        pdf ? tr("PDF (*.pdf)") : tr("HTML (*.html *.htm)"));
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setAcceptMode(QFileDialog::AcceptSave);
    dialog->selectFile(suggested);
    connect(dialog, &QFileDialog::fileSelected, this, [this, pdf](const QString &path) {
        const QString error = pdf ? exportPdf(m_report, path) : exportHtml(m_report, path);
        Q_EMIT exported(path, error);
    });
    dialog->open();
}

} // namespace Pilothouse
