#pragma once
// Lives on the GUI thread; paint() draws on any QPainter (screen, image, PDF).

#include "models/drillreport.h"

#include <QWidget>

namespace Pilothouse {

// A drill on one time axis: a lane for the fault, one for the failover's
// phases (spans), one per heartbeat writer (its write gaps as hatched red
// bars with their length written on them) and one per layer that reported
// events (marks), with the fault's injection and restoration as vertical
// lines across every lane and the RTO and RPO in words above.
class DrillTimelineChart final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(DrillTimelineChart)

public:
    explicit DrillTimelineChart(QWidget *parent = nullptr);
    ~DrillTimelineChart() override;

    void setReport(const DrillReport &report);
    const DrillReport &report() const { return m_report; }

    // The height the chart needs at this font for its lanes.
    static int heightFor(const DrillReport &report, const QFontMetrics &metrics);
    // Draws the whole chart in `rect` with `palette`'s colours (a report
    // for paper passes a light palette).
    static void paint(QPainter &painter, const QRectF &rect, const DrillReport &report,
                      const QPalette &palette, const QFont &font);
    // The chart as an image of `size` logical pixels at `scale` device pixels each.
    static QImage render(const DrillReport &report, QSize size, qreal scale,
                         const QPalette &palette, const QFont &font);
    // "RTO 3.4 s (through pgpool 3.4 s, app 2.9 s) · RPO: no acknowledged write lost · …"
    static QString rtoRpoWords(const DrillReport &report);

    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;

protected:
    void paintEvent(QPaintEvent *event) override;
    bool event(QEvent *event) override;

private:
    DrillReport m_report;
};

} // namespace Pilothouse
