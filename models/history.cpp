#include "models/history.h"

#include <algorithm>

namespace Pilothouse {

void SampleRing::append(Sample s)
{
    if (m_samples.size() < m_capacity) {
        m_samples.append(s);
        return;
    }
    m_samples[m_next] = s;
    m_next = (m_next + 1) % m_capacity;
}

QList<Sample> SampleRing::samples() const
{
    if (m_samples.size() < m_capacity)
        return m_samples;
    QList<Sample> out = m_samples.mid(m_next);
    out += m_samples.mid(0, m_next);
    return out;
}

std::optional<Sample> SampleRing::last() const
{
    if (m_samples.isEmpty())
        return std::nullopt;
    if (m_samples.size() < m_capacity)
        return m_samples.last();
    return m_samples.at((m_next + m_capacity - 1) % m_capacity);
}

void History::add(const QString &key, qint64 t, double value)
{
    auto it = m_series.find(key);
    if (it == m_series.end())
        it = m_series.insert(key, SampleRing(m_capacity));
    it->append({t, value});
}

std::optional<double> History::rate(const QString &key, qint64 t, qint64 counter)
{
    const auto previous = m_lastCounter.value(key, Sample{0, -1});
    m_lastCounter.insert(key, {t, double(counter)});
    if (previous.value < 0 || t <= previous.msecsSinceEpoch || counter < previous.value)
        return std::nullopt;
    return (counter - previous.value) * 1000.0 / double(t - previous.msecsSinceEpoch);
}

void History::record(const ClusterSnapshot &s)
{
    const qint64 t = s.takenAt.toMSecsSinceEpoch();
    for (const PostgresNodeState &n : s.postgres) {
        if (!n.reachable || n.freshness.stale)
            continue; // a gap in the chart, not a made-up zero
        if (n.role == u"standby") {
            if (n.lagBytes >= 0)
                add(QStringLiteral("lag_bytes:") + n.name, t, double(n.lagBytes));
            if (n.lagSeconds >= 0)
                add(QStringLiteral("lag_seconds:") + n.name, t, n.lagSeconds);
        }
        add(QStringLiteral("connections:") + n.name, t, n.connections);
        if (const auto tps =
                rate(QStringLiteral("tps:") + n.name, t, n.xactCommit + n.xactRollback))
            add(QStringLiteral("tps:") + n.name, t, *tps);
    }
    for (const PgpoolInstanceState &p : s.pgpools) {
        if (!p.reachable || p.freshness.stale)
            continue;
        for (const PgpoolBackend &b : p.backends) {
            const QString key = QStringLiteral("selects:") + p.task + u'/' + b.hostname;
            if (const auto r = rate(key, t, b.selectCount))
                add(key, t, *r);
        }
    }
    for (const AppReplicaState &a : s.appReplicas) {
        if (a.healthy && a.latencyMs >= 0)
            add(QStringLiteral("app_latency_ms:") + a.task, t, a.latencyMs);
    }
}

QStringList History::keys() const
{
    QStringList keys = m_series.keys();
    keys.sort();
    return keys;
}

const SampleRing *History::series(const QString &key) const
{
    const auto it = m_series.constFind(key);
    return it == m_series.cend() ? nullptr : &*it;
}

} // namespace Pilothouse
