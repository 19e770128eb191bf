#include "ui/charts/chartspanel.h"

#include "models/history.h"

#include <QChart>
#include <QChartView>
#include <QCursor>
#include <QDateTime>
#include <QDateTimeAxis>
#include <QEvent>
#include <QFont>
#include <QGraphicsSimpleTextItem>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLegend>
#include <QLineSeries>
#include <QLocale>
#include <QPushButton>
#include <QStringBuilder>
#include <QStyle>
#include <QToolTip>
#include <QVBoxLayout>
#include <QValueAxis>

#include <algorithm>
#include <cmath>
#include <limits>

namespace Pilothouse {

namespace {

// Okabe–Ito, which stays distinguishable for the common colour blindnesses;
// a brighter set on dark backgrounds.
constexpr QRgb s_lightColours[] = {0x0072b2, 0xd55e00, 0x009e73, 0xcc79a7, 0xe69f00, 0x56b4e9};
constexpr QRgb s_darkColours[] = {0x56b4e9, 0xe69f00, 0x00c08b, 0xe08fc0, 0xf0e442, 0xff8c5a};
constexpr int s_colourCount = int(std::size(s_lightColours));
constexpr Qt::PenStyle s_styles[] = {Qt::SolidLine, Qt::DashLine, Qt::DotLine, Qt::DashDotLine};

// What people call a task: "pgpool.1" for "pilothouse_pgpool.1.x7kq3mv"
// (service and slot), the first characters of a bare task id.
QString shortTask(const QString &task)
{
    QString name = task.mid(task.indexOf(u'_') + 1);
    const qsizetype firstDot = name.indexOf(u'.');
    if (firstDot > 0) {
        const qsizetype secondDot = name.indexOf(u'.', firstDot + 1);
        return secondDot > 0 ? name.left(secondDot) : name;
    }
    return name.size() > 12 ? name.left(10) + u'…' : name;
}

double niceStep(double raw)
{
    if (!(raw > 0))
        return 1;
    const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
    const double f = raw / magnitude;
    const double nice = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
    return nice * magnitude;
}

// A range from 0 with round ticks, so that labels read 0, 50, 100 and not 0, 47.3, 94.6.
void setNiceRange(QValueAxis *axis, double max, double minimumTop)
{
    const double top = std::max(max * 1.05, minimumTop);
    const double step = niceStep(top / 4);
    const double axisMax = std::ceil(top / step) * step;
    // Keep the scale while the data fits and fills more than a third of it:
    // a scale that changes every second makes the lines jump.
    if (axis->max() >= top && axis->max() <= axisMax * 3 && axis->tickInterval() > 0)
        return;
    // The interval first: the old one over the new range could mean thousands of ticks.
    axis->setTickAnchor(0);
    axis->setTickInterval(step);
    axis->setRange(0, axisMax);
    const int decimals = step >= 1 ? 0 : int(std::ceil(-std::log10(step)));
    axis->setLabelFormat(QStringLiteral("%.") + QString::number(decimals) + u'f');
}

QFont scaledFont(QFont font, double factor)
{
    if (font.pointSizeF() > 0)
        font.setPointSizeF(font.pointSizeF() * factor);
    else if (font.pixelSize() > 0)
        font.setPixelSize(qMax(6, int(std::lround(font.pixelSize() * factor))));
    return font;
}

QString timeText(qint64 msecs)
{
    return QDateTime::fromMSecsSinceEpoch(msecs).toString(QStringLiteral("HH:mm:ss"));
}

// The sample of a ring nearest to a time, for tooltips.
std::optional<Sample> nearest(const SampleRing *ring, qint64 msecs)
{
    if (!ring)
        return std::nullopt;
    std::optional<Sample> best;
    for (const Sample &s : ring->samples()) {
        if (!best || std::abs(s.msecsSinceEpoch - msecs) < std::abs(best->msecsSinceEpoch - msecs))
            best = s;
    }
    return best;
}

} // namespace

ChartsPanel::ChartsPanel(QWidget *parent)
    : QWidget(parent)
{
    setObjectName(QStringLiteral("chartsPanel"));

    auto *top = new QHBoxLayout;
    auto *title = new QLabel(tr("<b>Last 15 minutes</b>"), this);
    m_status = new QLabel(this);
    m_status->setObjectName(QStringLiteral("chartsStatus"));
    m_pause = new QPushButton(this);
    m_pause->setObjectName(QStringLiteral("chartsPauseButton"));
    m_pause->setCheckable(true);
    m_pause->setToolTip(tr("Freeze the charts to read them; resuming catches up"));
    top->addWidget(title);
    top->addSpacing(12);
    top->addWidget(m_status, 1);
    top->addWidget(m_pause);
    connect(m_pause, &QPushButton::toggled, this, &ChartsPanel::setPaused);

    buildChart(Kind::Lag, tr("Replication lag per standby"));
    buildChart(Kind::Tps, tr("Transactions per second"));
    buildChart(Kind::Connections, tr("Connections per node"));
    buildChart(Kind::Selects, tr("PgPool selects per backend"));
    buildChart(Kind::Latency, tr("App latency per replica"));

    auto *grid = new QGridLayout;
    grid->setSpacing(6);
    grid->addWidget(m_charts.at(0).view, 0, 0, 1, 2);
    grid->addWidget(m_charts.at(1).view, 1, 0);
    grid->addWidget(m_charts.at(2).view, 1, 1);
    grid->addWidget(m_charts.at(3).view, 2, 0);
    grid->addWidget(m_charts.at(4).view, 2, 1);
    for (int row = 0; row < 3; ++row)
        grid->setRowStretch(row, 1);
    for (int column = 0; column < 2; ++column)
        grid->setColumnStretch(column, 1);

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    layout->addLayout(top);
    layout->addLayout(grid, 1);

    applyPalette();
    updateStatus();
}

ChartsPanel::~ChartsPanel() = default;

void ChartsPanel::buildChart(Kind kind, const QString &title)
{
    Chart c;
    c.kind = kind;
    c.chart = new QChart;
    c.chart->setTitle(title);
    c.chart->setAnimationOptions(QChart::NoAnimation); // a 1 Hz chart that animates never rests
    c.chart->setMargins(QMargins(6, 4, 6, 4));
    c.chart->legend()->setAlignment(Qt::AlignRight);
    c.chart->legend()->setMarkerShape(QLegend::MarkerShapeFromSeries);

    c.x = new QDateTimeAxis(c.chart);
    c.x->setFormat(QStringLiteral("HH:mm"));
    c.x->setTickCount(6); // every 3 minutes over 15
    c.chart->addAxis(c.x, Qt::AlignBottom);

    c.y = new QValueAxis(c.chart);
    c.y->setTickType(QValueAxis::TicksDynamic);
    c.chart->addAxis(c.y, Qt::AlignLeft);
    switch (kind) {
    case Kind::Lag:
        c.unit = QStringLiteral("bytes"); // as rescaleBytes() names the units
        c.y2 = new QValueAxis(c.chart);
        c.y2->setTickType(QValueAxis::TicksDynamic);
        c.y2->setTitleText(tr("seconds (dashed)"));
        c.chart->addAxis(c.y2, Qt::AlignRight);
        setNiceRange(c.y2, 0, 1);
        break;
    case Kind::Tps:
        c.unit = tr("transactions/s");
        break;
    case Kind::Connections:
        c.unit = tr("connections");
        break;
    case Kind::Selects:
        c.unit = tr("selects/s");
        break;
    case Kind::Latency:
        c.unit = tr("ms");
        break;
    }
    c.y->setTitleText(kind == Kind::Lag ? tr("lag, %1").arg(c.unit) : c.unit);
    setNiceRange(c.y, 0, 1);
    const QDateTime now = QDateTime::currentDateTime();
    c.x->setRange(now.addMSecs(-WindowMsecs), now);

    c.empty = new QGraphicsSimpleTextItem(tr("no data yet"), c.chart);
    c.empty->setZValue(10);

    c.view = new QChartView(c.chart, this);
    c.view->setRenderHint(QPainter::Antialiasing);
    c.view->setMinimumSize(320, 200);
    c.view->setAccessibleName(title);
    c.view->setObjectName(QStringLiteral("chart%1").arg(int(m_charts.size())));

    const int index = int(m_charts.size());
    connect(c.chart, &QChart::plotAreaChanged, this,
            [this, index] { placeEmptyText(m_charts[index]); });
    m_charts.append(c);
}

QChart *ChartsPanel::chart(int index) const
{
    return index >= 0 && index < m_charts.size() ? m_charts.at(index).chart : nullptr;
}

void ChartsPanel::setHistory(const History *history)
{
    clearSeries();
    m_history = history;
    m_shownUntil = 0;
    if (m_latestNow > 0 && !m_paused && isVisible())
        update(m_latestNow);
}

void ChartsPanel::clearSeries()
{
    for (const Series &s : std::as_const(m_series)) {
        m_charts[s.chart].chart->removeSeries(s.line);
        delete s.line;
    }
    m_series.clear();
    for (Chart &c : m_charts) {
        c.colours.clear();
        c.styles.clear();
        if (c.kind == Kind::Lag && c.scale != 1) {
            c.scale = 1;
            c.unit = QStringLiteral("bytes");
            c.y->setTitleText(tr("lag, %1").arg(c.unit));
        }
        c.empty->setVisible(true);
    }
}

void ChartsPanel::refresh(qint64 nowMsecsSinceEpoch)
{
    m_latestNow = nowMsecsSinceEpoch;
    if (m_paused || !isVisible() || !m_history)
        return;
    update(nowMsecsSinceEpoch);
}

void ChartsPanel::setPaused(bool paused)
{
    if (paused == m_paused)
        return;
    m_paused = paused;
    {
        const QSignalBlocker blocker(m_pause);
        m_pause->setChecked(paused);
    }
    if (!paused && m_latestNow > 0 && m_history && isVisible())
        update(m_latestNow);
    updateStatus();
    Q_EMIT pausedChanged(paused);
}

void ChartsPanel::showEvent(QShowEvent *event)
{
    QWidget::showEvent(event);
    if (!m_paused && m_history && m_latestNow > m_shownUntil)
        update(m_latestNow);
}

void ChartsPanel::changeEvent(QEvent *event)
{
    QWidget::changeEvent(event);
    if (event->type() == QEvent::PaletteChange || event->type() == QEvent::FontChange)
        applyPalette();
    if (event->type() == QEvent::StyleChange)
        updateStatus();
}

void ChartsPanel::updateStatus()
{
    m_pause->setText(m_paused ? tr("Resume") : tr("Pause"));
    m_pause->setIcon(
        style()->standardIcon(m_paused ? QStyle::SP_MediaPlay : QStyle::SP_MediaPause));
    if (m_paused) {
        m_status->setText(m_shownUntil > 0
                              ? tr("Paused at %1: resume to catch up").arg(timeText(m_shownUntil))
                              : tr("Paused: resume to catch up"));
    } else {
        m_status->setText(tr("Live, updated every second"));
    }
}

ChartsPanel::Series *ChartsPanel::ensureSeries(const QString &key)
{
    const auto it = m_series.find(key);
    if (it != m_series.end())
        return &*it;

    const qsizetype colon = key.indexOf(u':');
    if (colon < 0)
        return nullptr;
    const QStringView prefix = QStringView(key).left(colon);
    const QString rest = key.mid(colon + 1);
    Series s;
    QString name;
    if (prefix == u"lag_bytes" || prefix == u"lag_seconds") {
        s.chart = int(Kind::Lag);
        s.secondary = prefix == u"lag_seconds";
        s.entity = rest;
        name = s.secondary ? tr("%1 seconds").arg(rest) : tr("%1 bytes").arg(rest);
    } else if (prefix == u"tps") {
        s.chart = int(Kind::Tps);
        s.entity = rest;
        name = rest;
    } else if (prefix == u"connections") {
        s.chart = int(Kind::Connections);
        s.entity = rest;
        name = rest;
    } else if (prefix == u"selects") {
        // selects:<pgpool task>/<backend>: a colour per backend, a dash per pgpool,
        // so that the same backend seen by two pgpools reads as one colour.
        const qsizetype slash = rest.lastIndexOf(u'/');
        s.chart = int(Kind::Selects);
        s.variant = rest.left(slash);
        s.entity = rest.mid(slash + 1);
        name = tr("%1 via %2").arg(s.entity, shortTask(s.variant));
    } else if (prefix == u"app_latency_ms") {
        s.chart = int(Kind::Latency);
        s.entity = rest;
        name = shortTask(rest);
    } else {
        return nullptr;
    }

    s.worst = s.chart != int(Kind::Tps) && s.chart != int(Kind::Selects);
    Chart &c = m_charts[s.chart];
    if (!c.colours.contains(s.entity))
        c.colours.insert(s.entity, int(c.colours.size()));
    if (!s.variant.isEmpty() && !c.styles.contains(s.variant))
        c.styles.insert(s.variant, int(c.styles.size()));

    s.line = new QLineSeries(c.chart);
    s.line->setName(name);
    c.chart->addSeries(s.line);
    s.line->attachAxis(c.x);
    s.line->attachAxis(s.secondary ? c.y2 : c.y);
    connect(s.line, &QXYSeries::hovered, this,
            [this, key](const QPointF &point, bool state) { showTooltip(key, point, state); });
    styleSeries(s);
    return &*m_series.insert(key, s);
}

void ChartsPanel::styleSeries(const Series &s)
{
    const Chart &c = m_charts.at(s.chart);
    const bool dark = palette().color(QPalette::Window).lightness() < 128;
    const int colour = c.colours.value(s.entity) % s_colourCount;
    QPen pen(QColor(dark ? s_darkColours[colour] : s_lightColours[colour]));
    pen.setWidthF(s.secondary ? 1.5 : 2.0);
    if (s.secondary)
        pen.setStyle(Qt::DashLine);
    else if (!s.variant.isEmpty())
        pen.setStyle(s_styles[c.styles.value(s.variant) % int(std::size(s_styles))]);
    s.line->setPen(pen);
}

bool ChartsPanel::rescaleBytes(Chart &c, double maxRaw)
{
    struct Unit
    {
        double limit;
        double scale;
        const char *name;
    };
    static constexpr Unit units[] = {
        {2.0 * 1024, 1, "bytes"},
        {2.0 * 1024 * 1024, 1024, "KiB"},
        {2.0 * 1024 * 1024 * 1024, 1024.0 * 1024, "MiB"},
        {std::numeric_limits<double>::infinity(), 1024.0 * 1024 * 1024, "GiB"}};
    const Unit *unit = std::find_if(std::begin(units), std::end(units),
                                    [maxRaw](const Unit &u) { return maxRaw < u.limit; });
    if (unit->scale == c.scale)
        return false;
    const double factor = c.scale / unit->scale;
    c.scale = unit->scale;
    c.unit = QLatin1String(unit->name);
    c.y->setTitleText(tr("lag, %1").arg(c.unit));
    for (const Series &s : std::as_const(m_series)) {
        if (s.chart != int(c.kind) || s.secondary)
            continue;
        QList<QPointF> points = s.line->points();
        for (QPointF &p : points)
            p.setY(p.y() * factor);
        const QSignalBlocker quiet(s.line); // restroked with the others below
        s.line->replace(points);
    }
    return true;
}

void ChartsPanel::setBucketSeconds(int seconds)
{
    seconds = qMax(1, seconds);
    if (seconds == m_bucketSeconds)
        return;
    m_bucketSeconds = seconds;
    clearSeries();
    m_shownUntil = 0;
    if (m_latestNow > 0 && m_history && !m_paused && isVisible())
        update(m_latestNow);
}

bool ChartsPanel::take(Series &s, const QList<Sample> &samples, qint64 now)
{
    const qint64 bucketMsecs = qint64(m_bucketSeconds) * 1000;
    const double scale = s.secondary ? 1.0 : m_charts.at(s.chart).scale;
    QList<QPointF> added;
    bool openChanged = false;
    for (const Sample &sample : samples) {
        if (sample.msecsSinceEpoch <= s.lastMsecs || sample.msecsSinceEpoch > now)
            continue;
        s.lastMsecs = sample.msecsSinceEpoch;
        // Buckets are aligned on the epoch, so they stay put as the window slides.
        const qint64 bucket = sample.msecsSinceEpoch / bucketMsecs;
        if (bucket == s.openBucket) {
            ++s.openCount;
            s.openValue = s.worst ? std::max(s.openValue, sample.value)
                                  : s.openValue + (sample.value - s.openValue) / s.openCount;
            const QPointF point(double(sample.msecsSinceEpoch), s.openValue / scale);
            if (!added.isEmpty()) {
                added.last() = point; // the open bucket is among the new points
            } else {
                s.line->replace(s.line->count() - 1, point);
                openChanged = true;
            }
            continue;
        }
        s.openBucket = bucket;
        s.openValue = sample.value;
        s.openCount = 1;
        added.append(QPointF(double(sample.msecsSinceEpoch), sample.value / scale));
    }
    if (!added.isEmpty())
        s.line->append(added);
    return openChanged || !added.isEmpty();
}

void ChartsPanel::update(qint64 now)
{
    const bool slides = now != m_shownUntil;
    m_shownUntil = now;
    const qint64 start = now - WindowMsecs;

    // Points change with the series' signals blocked: Qt Charts would restroke
    // the whole line for each change. Sliding the time axis at the end
    // restrokes every series once, from its points as they are then.
    QList<QLineSeries *> changed;
    const QStringList keys = m_history->keys();
    for (const QString &key : keys) {
        const SampleRing *ring = m_history->series(key);
        if (!ring || ring->size() == 0)
            continue;
        const qint64 newest = ring->last().value_or(Sample{}).msecsSinceEpoch;
        const auto existing = m_series.find(key);
        if (existing == m_series.end() && newest < start)
            continue; // nothing to show in the window: no series (yet)
        Series *s = existing != m_series.end() ? &*existing : ensureSeries(key);
        if (!s || newest <= s->lastMsecs)
            continue;
        const QSignalBlocker quiet(s->line);
        if (take(*s, ring->samples(), now))
            changed.append(s->line);
    }

    // Drop what slid out of the window; keep one point before it so the line
    // enters from the left edge. A series with nothing left goes away.
    for (auto it = m_series.begin(); it != m_series.end();) {
        QLineSeries *line = it->line;
        int old = 0;
        while (old < line->count() && line->at(old).x() < double(start))
            ++old;
        if (old == line->count()) {
            m_charts[it->chart].chart->removeSeries(line);
            changed.removeAll(line);
            delete line;
            it = m_series.erase(it);
            continue;
        }
        if (old > 1) {
            const QSignalBlocker quiet(line);
            line->removePoints(0, old - 1);
            changed.append(line);
        }
        ++it;
    }

    QList<double> maxPrimary(m_charts.size(), 0.0);
    QList<double> maxSecondary(m_charts.size(), 0.0);
    QList<bool> hasData(m_charts.size(), false);
    for (const Series &s : std::as_const(m_series)) {
        double &max = s.secondary ? maxSecondary[s.chart] : maxPrimary[s.chart];
        for (const QPointF &p : s.line->points()) {
            if (p.x() >= double(start)) {
                max = std::max(max, p.y());
                hasData[s.chart] = true;
            }
        }
    }

    const QDateTime from = QDateTime::fromMSecsSinceEpoch(start);
    const QDateTime to = QDateTime::fromMSecsSinceEpoch(now);
    for (int i = 0; i < m_charts.size(); ++i) {
        Chart &c = m_charts[i];
        double max = maxPrimary.at(i);
        if (c.kind == Kind::Lag) {
            const double previousScale = c.scale;
            if (rescaleBytes(c, max * c.scale)) {
                max = max * previousScale / c.scale;
                for (const Series &s : std::as_const(m_series)) {
                    if (s.chart == i && !s.secondary)
                        changed.append(s.line);
                }
            }
            setNiceRange(c.y2, maxSecondary.at(i), 1);
        }
        setNiceRange(c.y, max, 1);
        c.x->setRange(from, to);
        c.empty->setVisible(!hasData.at(i));
    }
    if (!slides) {
        // The axis did not move, so nothing restroked the lines that changed.
        for (QLineSeries *line : std::as_const(changed))
            line->replace(line->points());
    }
    if (m_paused)
        updateStatus();
}

void ChartsPanel::placeEmptyText(Chart &c)
{
    const QRectF area = c.chart->plotArea();
    const QRectF text = c.empty->boundingRect();
    c.empty->setPos(area.center() - text.center());
}

void ChartsPanel::applyPalette()
{
    const QPalette pal = palette();
    const bool dark = pal.color(QPalette::Window).lightness() < 128;
    const QColor text = pal.color(QPalette::Text);
    const QColor base = pal.color(QPalette::Base);
    QColor grid = text;
    grid.setAlphaF(0.12f);
    QFont titleFont = font();
    titleFont.setBold(true);
    const QFont small = scaledFont(font(), 0.9);

    for (Chart &c : m_charts) {
        // The theme resets colours and fonts: apply it first, then ours.
        c.chart->setTheme(dark ? QChart::ChartThemeDark : QChart::ChartThemeLight);
        c.chart->setBackgroundBrush(base);
        c.chart->setBackgroundPen(QPen(pal.color(QPalette::Mid), 1));
        c.chart->setBackgroundRoundness(3);
        c.chart->setPlotAreaBackgroundVisible(false);
        c.chart->setTitleBrush(pal.color(QPalette::WindowText));
        c.chart->setTitleFont(titleFont);
        c.chart->legend()->setLabelColor(text);
        c.chart->legend()->setFont(small);
        for (QAbstractAxis *axis : c.chart->axes()) {
            axis->setLabelsColor(text);
            axis->setLabelsFont(small);
            axis->setTitleBrush(text);
            axis->setTitleFont(small);
            axis->setGridLineColor(grid);
            axis->setLinePenColor(pal.color(QPalette::Mid));
        }
        c.empty->setBrush(pal.color(QPalette::PlaceholderText));
        c.empty->setFont(scaledFont(font(), 1.2));
        c.view->setBackgroundBrush(pal.color(QPalette::Window));
        placeEmptyText(c);
    }
    for (const Series &s : std::as_const(m_series))
        styleSeries(s);
}

void ChartsPanel::showTooltip(const QString &key, const QPointF &point, bool state)
{
    const auto it = m_series.constFind(key);
    if (!state || it == m_series.cend() || !m_history) {
        QToolTip::hideText();
        return;
    }
    const qint64 at = qint64(point.x());
    const std::optional<Sample> sample = nearest(m_history->series(key), at);
    if (!sample)
        return;
    const QLocale locale;
    const QString when = timeText(sample->msecsSinceEpoch);
    QString text;
    switch (Kind(it->chart)) {
    case Kind::Lag: {
        const QString standby = it->entity;
        const auto bytes = nearest(m_history->series(QStringLiteral("lag_bytes:") + standby), at);
        const auto seconds =
            nearest(m_history->series(QStringLiteral("lag_seconds:") + standby), at);
        text = tr("%1 at %2\n%3 behind, %4 s since the last replayed transaction")
                   .arg(standby, when,
                        bytes ? locale.formattedDataSize(qint64(bytes->value), 1,
                                                         QLocale::DataSizeIecFormat)
                              : tr("unknown"),
                        seconds ? QString::number(seconds->value, 'f', 1) : tr("unknown"));
        break;
    }
    case Kind::Tps:
        text =
            tr("%1 at %2\n%3 transactions/s").arg(it->entity, when).arg(sample->value, 0, 'f', 1);
        break;
    case Kind::Connections:
        text = tr("%1 at %2\n%3 connections").arg(it->entity, when).arg(sample->value, 0, 'f', 0);
        break;
    case Kind::Selects:
        text = tr("%1 via pgpool %2 at %3\n%4 selects/s")
                   .arg(it->entity, it->variant, when)
                   .arg(sample->value, 0, 'f', 1);
        break;
    case Kind::Latency:
        text =
            tr("app replica %1 at %2\n%3 ms").arg(it->entity, when).arg(sample->value, 0, 'f', 1);
        break;
    }
    QToolTip::showText(QCursor::pos(), text, m_charts.at(it->chart).view);
}

QStringList ChartsPanel::seriesKeys() const
{
    QStringList keys = m_series.keys();
    keys.sort();
    return keys;
}

int ChartsPanel::pointCount(const QString &key) const
{
    const auto it = m_series.constFind(key);
    return it == m_series.cend() ? -1 : it->line->count();
}

} // namespace Pilothouse
