#pragma once
// Test helper, used on the test's main thread: snapshots of a healthy lab
// cluster over time, with the values the monitor reads from the real one
// (3 PostgreSQL nodes, 2 pgpools x 3 backends, 6 app replicas), so that the
// charts can be checked and looked at without the lab.

#include "models/clustersnapshot.h"

#include <QDateTime>
#include <QHash>
#include <QList>

#include <cmath>

namespace Pilothouse::TestSupport {

inline const QDateTime &syntheticStart()
{
    static const QDateTime start(QDate(2026, 11, 26), QTime(10, 0), Qt::UTC);
    return start;
}

// A smooth but irregular wiggle in [-1, 1], the same for the same inputs.
inline double wiggle(int second, double seed)
{
    return 0.6 * std::sin(second / 23.0 + seed) + 0.3 * std::sin(second / 7.3 + 2 * seed) +
           0.1 * std::sin(second * 1.7 + 3 * seed);
}

// sum(t = 0..second) of qint64(mean + spread * mean * wiggle(t, seed)): a
// counter as PostgreSQL or pgpool keeps it, remembered so that a run of
// snapshots costs linear time.
inline qint64 syntheticCounter(int second, double mean, double spread, double seed)
{
    static QHash<QString, QList<qint64>> sums;
    QList<qint64> &sum = sums[QStringLiteral("%1/%2/%3").arg(mean).arg(spread).arg(seed)];
    while (sum.size() <= second) {
        const int t = int(sum.size());
        sum.append((sum.isEmpty() ? 0 : sum.last()) +
                   qint64(mean + spread * mean * wiggle(t, seed)));
    }
    return sum.at(second);
}

// The cluster `second` seconds after syntheticStart(). Counters are the
// integrals of the rates, as PostgreSQL and pgpool keep them. From second
// 300 to 360 a bulk load makes the standbys fall behind by a few MiB.
inline ClusterSnapshot syntheticSnapshot(int second)
{
    ClusterSnapshot s;
    s.takenAt = syntheticStart().addSecs(second);
    const bool bulkLoad = second >= 300 && second < 360;
    for (int n = 1; n <= 3; ++n) {
        PostgresNodeState pg;
        pg.name = QStringLiteral("pg-%1").arg(n);
        pg.host = QStringLiteral("swarm-0%1").arg(n);
        pg.reachable = true;
        pg.role = n == 1 ? QStringLiteral("primary") : QStringLiteral("standby");
        pg.timeline = 3;
        pg.connections = int(std::lround((n == 1 ? 24 : 9) + 4 * wiggle(second, n)));
        // Transactions so far: the integral of a rate that wanders around a mean.
        pg.xactCommit = syntheticCounter(second, n == 1 ? 150 : 55, 0.3, 10 + n);
        pg.xactRollback = second / 20;
        if (n > 1) {
            const double base = n == 2 ? 24 * 1024 : 90 * 1024;
            pg.lagBytes = qint64(base * (1.2 + wiggle(second, 20 + n)) +
                                 (bulkLoad ? (second - 300) * 110 * 1024 : 0));
            pg.lagSeconds = (n == 2 ? 0.15 : 0.6) * (1.2 + wiggle(second, 30 + n)) +
                            (bulkLoad ? (second - 300) * 0.05 : 0);
        }
        s.postgres.append(pg);
    }
    for (int p = 1; p <= 2; ++p) {
        PgpoolInstanceState pool;
        pool.task = QStringLiteral("pgpool.%1.x7kq%2mv").arg(p).arg(p * 3);
        pool.host = QStringLiteral("swarm-0%1").arg(p);
        pool.reachable = true;
        for (int n = 1; n <= 3; ++n) {
            PgpoolBackend b;
            b.nodeId = n - 1;
            b.hostname = QStringLiteral("pg-%1").arg(n);
            b.port = 5432;
            b.status = QStringLiteral("up");
            b.role = n == 1 ? QStringLiteral("primary") : QStringLiteral("standby");
            b.pgRole = b.role;
            b.lbWeight = n == 1 ? 0 : 0.5;
            b.selectCount = syntheticCounter(second, n == 1 ? 4 : (p == 1 ? 38 : 30) + 3 * n, 0.35,
                                             40 + 3 * p + n);
            pool.backends.append(b);
        }
        s.pgpools.append(pool);
    }
    for (int a = 1; a <= 6; ++a) {
        AppReplicaState app;
        app.task = QStringLiteral("app.%1").arg(a);
        app.host = QStringLiteral("swarm-0%1").arg((a - 1) % 3 + 1);
        app.healthy = true;
        app.latencyMs = 9 + a * 1.5 + 4 * wiggle(second, 60 + a) + (bulkLoad ? 12 : 0);
        s.appReplicas.append(app);
    }
    return s;
}

} // namespace Pilothouse::TestSupport
