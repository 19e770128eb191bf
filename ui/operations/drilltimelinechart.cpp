#include "ui/operations/drilltimelinechart.h"

#include <QHelpEvent>
#include <QPainter>
#include <QPainterPath>
#include <QToolTip>

#include <algorithm>
#include <cmath>

namespace Pilothouse {
namespace {

const QColor GapRed(0xd0, 0x31, 0x2d);
const QColor FaultOrange(0xc2, 0x5e, 0x00);

struct Lane
{
    enum Kind { Fault, Phases, Writer, Events };
    Kind kind;
    QString label;
    QString key; // writer path or event layer
    int rows = 1;
};

// One row per phase, as in a Gantt chart: the phases overlap (each pgpool's
// catch-up) and each needs room for its label.
QList<int> phaseRows(const DrillReport &r, int *rowCount)
{
    QList<int> rows;
    for (int i = 0; i < r.phases.size(); ++i)
        rows.append(i);
    *rowCount = std::max(1, int(r.phases.size()));
    return rows;
}

QStringList eventLayers(const DrillReport &r)
{
    // The order a failover travels through the stack.
    const QStringList order{QStringLiteral("drill"),  QStringLiteral("repmgr"),
                            QStringLiteral("etcd"),   QStringLiteral("swarm"),
                            QStringLiteral("pgpool"), QStringLiteral("proxy"),
                            QStringLiteral("app"),    QStringLiteral("writer")};
    QStringList out;
    for (const QString &layer : order) {
        for (const DrillReport::Event &e : r.events) {
            if (e.layer == layer) {
                out.append(layer);
                break;
            }
        }
    }
    for (const DrillReport::Event &e : r.events) {
        if (!out.contains(e.layer))
            out.append(e.layer);
    }
    return out;
}

QList<Lane> lanesOf(const DrillReport &r)
{
    QList<Lane> lanes;
    lanes.append({Lane::Fault, QObject::tr("fault"), {}, 1});
    int phaseRowCount = 1;
    phaseRows(r, &phaseRowCount);
    lanes.append({Lane::Phases, QObject::tr("phases"), {}, phaseRowCount});
    for (const DrillReport::Writer &w : r.writers)
        lanes.append({Lane::Writer, QObject::tr("writes %1").arg(w.path), w.path, 1});
    for (const QString &layer : eventLayers(r))
        lanes.append({Lane::Events, QObject::tr("%1 events").arg(layer), layer, 1});
    return lanes;
}

double endOf(const DrillReport &r)
{
    double end = 1;
    end = std::max(end, r.fault.injectedAt);
    end = std::max(end, r.fault.restoredAt);
    end = std::max(end, r.healthyAfterSeconds);
    for (const DrillReport::Phase &p : r.phases)
        end = std::max(end, p.startedAt + p.seconds);
    for (const DrillReport::Event &e : r.events)
        end = std::max(end, e.at);
    for (const DrillReport::Writer &w : r.writers) {
        for (const DrillReport::Gap &g : w.gaps)
            end = std::max(end, g.to);
    }
    return end;
}

double niceStep(double span, int wanted)
{
    const double raw = span / std::max(1, wanted);
    const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
    for (double m : {1.0, 2.0, 5.0, 10.0}) {
        if (m * magnitude >= raw)
            return m * magnitude;
    }
    return 10 * magnitude;
}

QString seconds(double s)
{
    return s < 10 ? QString::number(s, 'f', 2) : QString::number(s, 'f', 1);
}

struct Geometry
{
    QRectF plot; // the lanes' drawing area, right of the labels
    double t0 = 0;
    double t1 = 1;
    double rowHeight = 20;
    double headerHeight = 0;
    double x(double t) const { return plot.left() + (t - t0) / (t1 - t0) * plot.width(); }
};

Geometry geometryOf(const QRectF &rect, const DrillReport &r, const QFontMetricsF &fm)
{
    Geometry g;
    g.rowHeight = std::round(fm.height() * 1.6);
    g.headerHeight =
        std::round(fm.height() * 4.4); // the words (two lines), then the markers' labels
    double labelWidth = fm.horizontalAdvance(QStringLiteral("phases")) + 16;
    for (const Lane &l : lanesOf(r))
        labelWidth = std::max(labelWidth, fm.horizontalAdvance(l.label) + 16);
    const double axis = fm.height() * 2.2;
    g.plot = QRectF(rect.left() + labelWidth, rect.top() + g.headerHeight,
                    rect.width() - labelWidth - 12, rect.height() - g.headerHeight - axis);
    g.t0 = 0;
    g.t1 = endOf(r) * 1.04;
    return g;
}

} // namespace

DrillTimelineChart::DrillTimelineChart(QWidget *parent)
    : QWidget(parent)
{
    setObjectName(QStringLiteral("drillTimelineChart"));
    setMouseTracking(true);
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
}

DrillTimelineChart::~DrillTimelineChart() = default;

void DrillTimelineChart::setReport(const DrillReport &report)
{
    m_report = report;
    updateGeometry();
    update();
}

int DrillTimelineChart::heightFor(const DrillReport &report, const QFontMetrics &metrics)
{
    int rows = 0;
    for (const Lane &l : lanesOf(report))
        rows += l.rows;
    const double rowHeight = std::round(metrics.height() * 1.6);
    return int(std::ceil(metrics.height() * 4.4 + rows * rowHeight + metrics.height() * 2.2 + 4));
}

QSize DrillTimelineChart::sizeHint() const
{
    return {900, heightFor(m_report, fontMetrics())};
}

QSize DrillTimelineChart::minimumSizeHint() const
{
    return {480, heightFor(m_report, fontMetrics())};
}

QString DrillTimelineChart::rtoRpoWords(const DrillReport &r)
{
    QStringList parts;
    if (r.rtoSeconds >= 0) {
        QStringList paths;
        if (r.rtoPgpoolSeconds >= 0)
            paths.append(QObject::tr("through pgpool %1 s").arg(seconds(r.rtoPgpoolSeconds)));
        if (r.rtoAppSeconds >= 0)
            paths.append(QObject::tr("through the app %1 s").arg(seconds(r.rtoAppSeconds)));
        parts.append(QObject::tr("RTO %1 s").arg(seconds(r.rtoSeconds)) +
                     (paths.isEmpty()
                          ? QString()
                          : QStringLiteral(" (") + paths.join(QStringLiteral(", ")) + u')'));
    } else {
        parts.append(QObject::tr("RTO not measured"));
    }
    if (r.rpoWrites < 0)
        parts.append(QObject::tr("RPO not measured"));
    else if (r.rpoWrites == 0)
        parts.append(QObject::tr("RPO 0: no acknowledged write lost"));
    else
        parts.append(QObject::tr("RPO: %n acknowledged write(s) LOST", nullptr, r.rpoWrites));
    if (r.twoPrimariesSeconds > 0)
        parts.append(
            QObject::tr("TWO writable primaries for %1 s").arg(seconds(r.twoPrimariesSeconds)));
    else
        parts.append(QObject::tr("never two primaries"));
    if (r.prediction.seconds >= 0)
        parts.append(QObject::tr("predicted %1 s (slowest: %2)")
                         .arg(seconds(r.prediction.seconds), r.prediction.slowestLayer));
    return parts.join(QStringLiteral(" · "));
}

void DrillTimelineChart::paint(QPainter &p, const QRectF &rect, const DrillReport &r,
                               const QPalette &pal, const QFont &font)
{
    p.save();
    p.setRenderHint(QPainter::Antialiasing);
    p.setFont(font);
    const QFontMetricsF fm(font, p.device());
    const Geometry g = geometryOf(rect, r, fm);
    const QColor text = pal.color(QPalette::WindowText);
    const QColor base = pal.color(QPalette::Base);
    const QColor grid = pal.color(QPalette::Mid);
    const QColor alt = pal.color(QPalette::AlternateBase);
    const QColor accent = pal.color(QPalette::Highlight);

    p.fillRect(rect, base);

    // Header: RTO and RPO in words.
    QFont bold = font;
    bold.setBold(true);
    p.setFont(bold);
    p.setPen(text);
    p.drawText(QRectF(rect.left() + 6, rect.top() + fm.height() * 0.3, rect.width() - 12,
                      fm.height() * 2.6),
               Qt::AlignLeft | Qt::AlignTop | Qt::TextWordWrap, rtoRpoWords(r));
    p.setFont(font);

    // Lanes.
    const QList<Lane> lanes = lanesOf(r);
    int phaseRowCount = 1;
    const QList<int> rowOfPhase = phaseRows(r, &phaseRowCount);
    double y = g.plot.top();
    int laneIndex = 0;
    for (const Lane &lane : lanes) {
        const QRectF band(rect.left(), y, rect.width(), lane.rows * g.rowHeight);
        if (laneIndex++ % 2 == 1)
            p.fillRect(band, alt);
        p.setPen(text);
        p.drawText(QRectF(rect.left() + 6, y, g.plot.left() - rect.left() - 12, g.rowHeight),
                   Qt::AlignLeft | Qt::AlignVCenter, lane.label);
        const double pad = g.rowHeight * 0.2;
        switch (lane.kind) {
        case Lane::Fault:
            if (r.fault.injectedAt >= 0) {
                const double end = r.fault.restoredAt >= 0 ? r.fault.restoredAt : g.t1;
                QRectF bar(g.x(r.fault.injectedAt), y + pad, g.x(end) - g.x(r.fault.injectedAt),
                           g.rowHeight - 2 * pad);
                QColor fill = FaultOrange;
                fill.setAlpha(60);
                p.setPen(QPen(FaultOrange, 1.2));
                p.setBrush(QBrush(fill));
                p.drawRect(bar);
                p.setBrush(QBrush(FaultOrange, Qt::Dense6Pattern));
                p.drawRect(bar);
                p.setPen(text);
                p.drawText(bar.adjusted(4, 0, 0, 0), Qt::AlignLeft | Qt::AlignVCenter,
                           fm.elidedText(QObject::tr("%1 %2").arg(r.fault.kind, r.fault.target),
                                         Qt::ElideRight, std::max(0.0, bar.width() - 6)));
            }
            break;
        case Lane::Phases:
            for (int i = 0; i < r.phases.size(); ++i) {
                const DrillReport::Phase &ph = r.phases.at(i);
                const double rowY = y + rowOfPhase.value(i) * g.rowHeight;
                QRectF bar(g.x(ph.startedAt), rowY + pad,
                           std::max(2.0, g.x(ph.startedAt + ph.seconds) - g.x(ph.startedAt)),
                           g.rowHeight - 2 * pad);
                QColor fill = accent;
                fill.setAlpha(90);
                p.setPen(QPen(accent, 1));
                p.setBrush(fill);
                p.drawRoundedRect(bar, 3, 3);
                const QString label = QObject::tr("%1 %2 s").arg(ph.name, seconds(ph.seconds));
                p.setPen(text);
                const double w = fm.horizontalAdvance(label);
                // Inside the bar when it fits, else right of it.
                if (w + 8 <= bar.width())
                    p.drawText(bar.adjusted(4, 0, 0, 0), Qt::AlignLeft | Qt::AlignVCenter, label);
                else
                    p.drawText(QRectF(bar.right() + 4, bar.top(), w + 4, bar.height()),
                               Qt::AlignLeft | Qt::AlignVCenter, label);
            }
            break;
        case Lane::Writer: {
            const DrillReport::Writer *w = r.writer(lane.key);
            // The line writes travel on; gaps cut it.
            p.setPen(QPen(grid, 2));
            p.drawLine(QPointF(g.plot.left(), y + g.rowHeight / 2),
                       QPointF(g.plot.right(), y + g.rowHeight / 2));
            if (!w)
                break;
            // Gaps that touch are one outage to the eye: draw them as one bar.
            QList<DrillReport::Gap> gaps = w->gaps;
            std::sort(gaps.begin(), gaps.end(),
                      [](const DrillReport::Gap &a, const DrillReport::Gap &b) {
                          return a.from < b.from;
                      });
            QList<DrillReport::Gap> merged;
            for (const DrillReport::Gap &gap : gaps) {
                if (!merged.isEmpty() && gap.from <= merged.last().to + 1e-3)
                    merged.last().to = std::max(merged.last().to, gap.to);
                else
                    merged.append(gap);
            }
            for (int i = 0; i < merged.size(); ++i) {
                const DrillReport::Gap &gap = merged.at(i);
                QRectF bar(g.x(gap.from), y + pad, std::max(2.0, g.x(gap.to) - g.x(gap.from)),
                           g.rowHeight - 2 * pad);
                p.setPen(QPen(GapRed.darker(130), 1));
                p.setBrush(GapRed);
                p.drawRect(bar);
                p.setBrush(QBrush(Qt::white, Qt::BDiagPattern));
                p.drawRect(bar);
                // Its length beside it, where there is room before the next one.
                const double limit =
                    i + 1 < merged.size() ? g.x(merged.at(i + 1).from) - 4 : g.plot.right();
                QString label = QObject::tr("no writes %1 s").arg(seconds(gap.to - gap.from));
                if (fm.horizontalAdvance(label) + bar.right() + 6 > limit)
                    label = QObject::tr("%1 s").arg(seconds(gap.to - gap.from));
                const double lw = fm.horizontalAdvance(label);
                if (bar.right() + 4 + lw <= limit) {
                    p.setPen(text);
                    p.drawText(QRectF(bar.right() + 4, bar.top(), lw + 4, bar.height()),
                               Qt::AlignLeft | Qt::AlignVCenter, label);
                }
            }
            if (w->lost > 0) {
                p.setPen(GapRed);
                p.drawText(QRectF(g.plot.left(), y, g.plot.width() - 4, g.rowHeight),
                           Qt::AlignRight | Qt::AlignVCenter,
                           QObject::tr("%n LOST", nullptr, w->lost));
            }
            break;
        }
        case Lane::Events: {
            QList<double> xs;
            for (const DrillReport::Event &e : r.events) {
                if (e.layer == lane.key)
                    xs.append(g.x(e.at));
            }
            std::sort(xs.begin(), xs.end());
            double lastLabelEnd = -1e9;
            for (const DrillReport::Event &e : r.events) {
                if (e.layer != lane.key)
                    continue;
                const double cx = g.x(e.at);
                const auto nextX = std::upper_bound(xs.cbegin(), xs.cend(), cx + 0.5);
                const double room = (nextX == xs.cend() ? g.plot.right() : *nextX) - cx - 14;
                const double cy = y + g.rowHeight / 2;
                const double s = g.rowHeight * 0.22;
                QPainterPath diamond;
                diamond.moveTo(cx, cy - s);
                diamond.lineTo(cx + s, cy);
                diamond.lineTo(cx, cy + s);
                diamond.lineTo(cx - s, cy);
                diamond.closeSubpath();
                p.setPen(QPen(text, 1));
                p.setBrush(accent);
                p.drawPath(diamond);
                // A label when there is room before the next one.
                if (cx + s + 3 > lastLabelEnd &&
                    room > fm.horizontalAdvance(QStringLiteral("xxxx…"))) {
                    const QString label =
                        fm.elidedText(e.text, Qt::ElideRight, std::min(room, 260.0));
                    const double lw = fm.horizontalAdvance(label);
                    if (cx + s + 3 + lw < g.plot.right()) {
                        p.setPen(text);
                        p.drawText(QRectF(cx + s + 3, y, lw + 2, g.rowHeight),
                                   Qt::AlignLeft | Qt::AlignVCenter, label);
                        lastLabelEnd = cx + s + 3 + lw + 10;
                    }
                }
            }
            break;
        }
        }
        y += lane.rows * g.rowHeight;
    }
    const double bottom = y;

    // Time axis.
    p.setPen(QPen(text, 1));
    p.drawLine(QPointF(g.plot.left(), bottom), QPointF(g.plot.right(), bottom));
    const double step = niceStep(g.t1 - g.t0, std::max(2, int(g.plot.width() / 90)));
    for (double t = 0; t <= g.t1 + 1e-9; t += step) {
        const double x = g.x(t);
        p.setPen(QPen(grid, 1, Qt::DotLine));
        p.drawLine(QPointF(x, g.plot.top()), QPointF(x, bottom));
        p.setPen(text);
        p.drawLine(QPointF(x, bottom), QPointF(x, bottom + 4));
        const QString label = QObject::tr("%1 s").arg(step < 1 ? QString::number(t, 'f', 1)
                                                               : QString::number(t, 'f', 0));
        p.drawText(QRectF(x - 40, bottom + 4, 80, fm.height()), Qt::AlignHCenter | Qt::AlignTop,
                   label);
    }
    p.drawText(QRectF(g.plot.left(), bottom + 4 + fm.height(), g.plot.width(), fm.height()),
               Qt::AlignRight | Qt::AlignTop,
               QObject::tr("seconds since the drill started (%1 UTC)")
                   .arg(r.startedAt.toUTC().toString(QStringLiteral("yyyy-MM-dd HH:mm:ss"))));

    // Fault injected and restored: lines across every lane, labelled; a label
    // that would cover the one before moves right of it (it says its time).
    double labelsEnd = -1e9;
    const auto marker = [&](double t, Qt::PenStyle style, const QString &label) {
        if (t < 0)
            return;
        const double x = g.x(t);
        p.setPen(QPen(FaultOrange, 2, style));
        p.drawLine(QPointF(x, g.plot.top() - 2), QPointF(x, bottom));
        p.setPen(FaultOrange.darker(120));
        const double lx = std::max(x + 3, labelsEnd + 10);
        const double lw = fm.horizontalAdvance(label) + 4;
        p.drawText(QRectF(lx, g.plot.top() - fm.height() - 1, lw, fm.height()),
                   Qt::AlignLeft | Qt::AlignBottom, label);
        labelsEnd = lx + lw;
    };
    marker(r.fault.injectedAt, Qt::SolidLine,
           QObject::tr("▼ fault injected +%1 s").arg(seconds(r.fault.injectedAt)));
    marker(r.fault.restoredAt, Qt::DashLine,
           QObject::tr("▲ restored +%1 s").arg(seconds(r.fault.restoredAt)));
    if (r.healthyAfterSeconds >= 0) {
        const double x = g.x(r.healthyAfterSeconds);
        p.setPen(QPen(text, 1, Qt::DashDotLine));
        p.drawLine(QPointF(x, g.plot.top()), QPointF(x, bottom));
        const QString label = QObject::tr("✔ healthy +%1 s").arg(seconds(r.healthyAfterSeconds));
        const double lw = fm.horizontalAdvance(label) + 4;
        p.setPen(text);
        p.drawText(QRectF(std::min(std::max(x + 3, labelsEnd + 10), g.plot.right() - lw),
                          g.plot.top() - fm.height() - 1, lw, fm.height()),
                   Qt::AlignLeft | Qt::AlignBottom, label);
    }
    p.restore();
}

QImage DrillTimelineChart::render(const DrillReport &report, QSize size, qreal scale,
                                  const QPalette &palette, const QFont &font)
{
    QImage image(size * scale, QImage::Format_ARGB32_Premultiplied);
    image.setDevicePixelRatio(scale);
    image.fill(palette.color(QPalette::Base));
    QPainter painter(&image);
    paint(painter, QRectF(QPointF(0, 0), QSizeF(size)), report, palette, font);
    painter.end();
    return image;
}

void DrillTimelineChart::paintEvent(QPaintEvent *)
{
    QPainter painter(this);
    paint(painter, rect(), m_report, palette(), font());
}

bool DrillTimelineChart::event(QEvent *e)
{
    if (e->type() != QEvent::ToolTip)
        return QWidget::event(e);
    // The events near the pointer, with their time.
    auto *help = static_cast<QHelpEvent *>(e);
    const QFontMetricsF fm(font());
    const Geometry g = geometryOf(rect(), m_report, fm);
    const double t = g.t0 + (help->pos().x() - g.plot.left()) / g.plot.width() * (g.t1 - g.t0);
    const double tolerance = 6.0 / g.plot.width() * (g.t1 - g.t0);
    QStringList lines;
    for (const DrillReport::Event &ev : m_report.events) {
        if (std::abs(ev.at - t) <= tolerance)
            lines.append(QStringLiteral("+%1 s [%2] %3").arg(seconds(ev.at), ev.layer, ev.text));
    }
    for (const DrillReport::Phase &ph : m_report.phases) {
        if (t >= ph.startedAt && t <= ph.startedAt + ph.seconds)
            lines.append(QObject::tr("phase %1: +%2 s for %3 s")
                             .arg(ph.name, seconds(ph.startedAt), seconds(ph.seconds)));
    }
    if (lines.isEmpty())
        QToolTip::hideText();
    else
        QToolTip::showText(help->globalPos(), lines.join(u'\n'), this);
    return true;
}

} // namespace Pilothouse
