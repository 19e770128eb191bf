#pragma once
// Lives on the GUI thread.

#include <QHash>
#include <QList>
#include <QString>
#include <QStringList>
#include <QWidget>

class QChart;
class QChartView;
class QDateTimeAxis;
class QGraphicsSimpleTextItem;
class QLabel;
class QLineSeries;
class QPointF;
class QPushButton;
class QValueAxis;

namespace Pilothouse {

class History;
struct Sample;

// Five live charts over the last 15 minutes of a History: replication lag per
// standby (bytes, and seconds dashed on a second axis), transactions per
// second and connections per PostgreSQL node, selects per second per pgpool
// backend (a colour per backend, a dash per pgpool), and the app replicas'
// latency.
//
// refresh() is meant for a 1 Hz timer and stays cheap enough for many open
// clusters: a series is created once per history key, then only the samples
// newer than its last point are added and those older than the window are
// dropped. While paused, or while the panel is hidden, refresh() only notes
// the time; resuming (or showing the panel) catches up from the history.
//
// Qt Charts strokes a line's whole path again whenever its points or axes
// change, so points change with the series' signals blocked and each series
// is restroked once per refresh, when the time axis slides. And a point is a
// bucket of bucketSeconds() samples (5 by default: about 181 points over 15
// minutes), the worst value for lag, connections and latency, the mean for
// rates; the newest bucket follows every sample. Measured for a lab's 22
// series (tst_chartspanel): about 8 ms per refresh at one point per sample,
// 3 ms with 5 s buckets. Hovering a line shows the exact sample.
class ChartsPanel final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ChartsPanel)

public:
    static constexpr qint64 WindowMsecs = 15 * 60 * 1000;
    static constexpr int ChartCount = 5;

    explicit ChartsPanel(QWidget *parent = nullptr);
    ~ChartsPanel() override;

    // Not owned; must outlive the panel or be replaced first. Clears the charts.
    void setHistory(const History *history);
    const History *history() const { return m_history; }

    void refresh(qint64 nowMsecsSinceEpoch);

    void setPaused(bool paused);
    bool isPaused() const { return m_paused; }

    // Seconds of samples per point; 1 draws every sample. Redraws the series.
    void setBucketSeconds(int seconds);
    int bucketSeconds() const { return m_bucketSeconds; }

    // What is drawn, for tests and diagnostics.
    QStringList seriesKeys() const;                    // history keys that have a series, sorted
    int pointCount(const QString &key) const;          // -1 when the key has no series
    qint64 shownUntil() const { return m_shownUntil; } // right end of the x axis; 0 before any
    QChart *chart(int index) const; // 0..ChartCount-1: lag, tps, connections, selects, latency

Q_SIGNALS:
    void pausedChanged(bool paused);

protected:
    void changeEvent(QEvent *event) override;
    void showEvent(QShowEvent *event) override;

private:
    enum class Kind { Lag, Tps, Connections, Selects, Latency };
    struct Chart
    {
        Kind kind = Kind::Lag;
        QChart *chart = nullptr;
        QChartView *view = nullptr;
        QDateTimeAxis *x = nullptr;
        QValueAxis *y = nullptr;
        QValueAxis *y2 = nullptr; // lag seconds
        QGraphicsSimpleTextItem *empty = nullptr;
        QString unit;                // the y axis' unit as shown
        double scale = 1;            // raw value / shown value on the y axis (bytes)
        QHash<QString, int> colours; // entity -> colour index, in order of appearance
        QHash<QString, int> styles;  // pgpool -> pen style index
    };
    struct Series
    {
        QLineSeries *line = nullptr;
        int chart = 0;
        bool secondary = false;
        bool worst = true;      // a bucket shows its largest sample, else the mean
        QString entity;         // what gives the colour: standby, node, backend, task
        QString variant;        // what gives the pen style: the pgpool
        qint64 lastMsecs = 0;   // newest sample taken in
        qint64 openBucket = -1; // bucket of the last point, which may still change
        double openValue = 0;   // its raw value
        int openCount = 0;      // samples in it
    };

    void buildChart(Kind kind, const QString &title);
    void update(qint64 now);
    bool take(Series &series, const QList<Sample> &samples, qint64 now);
    Series *ensureSeries(const QString &key);
    void styleSeries(const Series &series);
    void applyPalette();
    bool rescaleBytes(Chart &chart, double maxRaw);
    void placeEmptyText(Chart &chart);
    void showTooltip(const QString &key, const QPointF &point, bool state);
    void clearSeries();
    void updateStatus();

    const History *m_history = nullptr;
    QList<Chart> m_charts;
    QHash<QString, Series> m_series;
    bool m_paused = false;
    int m_bucketSeconds = 5;
    qint64 m_latestNow = 0;  // the latest refresh() asked for
    qint64 m_shownUntil = 0; // what the charts show
    QPushButton *m_pause = nullptr;
    QLabel *m_status = nullptr;
};

} // namespace Pilothouse
