#pragma once
// Lives on the thread whose event loop it measures (the GUI thread).

#include <QElapsedTimer>
#include <QList>
#include <QObject>
#include <QTimer>

#include <algorithm>

// Measures how late the event loop runs a timer that should fire every
// `periodMs`: each lateness is a stall an operator would feel as a frozen
// window. Samples are kept in microseconds.
class StallProbe final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(StallProbe)

public:
    explicit StallProbe(int periodMs = 5, QObject *parent = nullptr)
        : QObject(parent)
        , m_periodMs(periodMs)
    {
        m_timer.setTimerType(Qt::PreciseTimer);
        m_timer.setInterval(periodMs);
        connect(&m_timer, &QTimer::timeout, this, [this] {
            const qint64 now = m_clock.nsecsElapsed();
            const qint64 late = now - m_last - qint64(m_periodMs) * 1000000;
            m_last = now;
            m_samplesUs.append(std::max<qint64>(0, late) / 1000);
        });
    }

    void start()
    {
        m_samplesUs.clear();
        m_clock.start();
        m_last = 0;
        m_timer.start();
    }
    void stop() { m_timer.stop(); }

    qsizetype count() const { return m_samplesUs.size(); }
    // The q-quantile (0..1) of the stalls, in milliseconds.
    double quantileMs(double q) const
    {
        if (m_samplesUs.isEmpty())
            return 0;
        QList<qint64> sorted = m_samplesUs;
        std::sort(sorted.begin(), sorted.end());
        const auto i = std::min<qsizetype>(sorted.size() - 1, qsizetype(q * double(sorted.size())));
        return double(sorted[i]) / 1000.0;
    }
    double maxMs() const
    {
        return m_samplesUs.isEmpty()
                   ? 0
                   : double(*std::max_element(m_samplesUs.cbegin(), m_samplesUs.cend())) / 1000.0;
    }

private:
    int m_periodMs;
    QTimer m_timer;
    QElapsedTimer m_clock;
    qint64 m_last = 0;
    QList<qint64> m_samplesUs;
};
