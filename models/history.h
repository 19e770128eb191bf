#pragma once
// Value types; a History is filled and read on one thread (the monitor's).

#include "models/clustersnapshot.h"

#include <QHash>
#include <QList>
#include <QString>

namespace Pilothouse {

struct Sample
{
    qint64 msecsSinceEpoch = 0;
    double value = 0;
};

// A fixed-size ring of samples, oldest first when read.
class SampleRing final
{
public:
    explicit SampleRing(int capacity = 900)
        : m_capacity(qMax(1, capacity))
    {}

    void append(Sample s);
    int size() const { return int(m_samples.size()); }
    int capacity() const { return m_capacity; }
    QList<Sample> samples() const; // oldest first
    std::optional<Sample> last() const;

private:
    QList<Sample> m_samples;
    int m_capacity;
    int m_next = 0; // where the next sample goes once full
};

// The series the charts show, derived from successive snapshots:
//   "lag_bytes:<standby>", "lag_seconds:<standby>", "tps:<node>",
//   "connections:<node>", "selects:<pgpool>/<backend>" (per second).
// Rates come from counter differences; a counter that went backwards (a
// restart) starts over instead of producing a negative rate.
class History final
{
public:
    explicit History(int capacity = 900)
        : m_capacity(capacity)
    {}

    void record(const ClusterSnapshot &snapshot);
    QStringList keys() const;
    const SampleRing *series(const QString &key) const;

private:
    void add(const QString &key, qint64 t, double value);
    std::optional<double> rate(const QString &key, qint64 t, qint64 counter);

    int m_capacity;
    QHash<QString, SampleRing> m_series;
    QHash<QString, Sample> m_lastCounter; // for rates: previous counter value and time
};

} // namespace Pilothouse
