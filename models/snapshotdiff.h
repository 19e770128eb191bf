#pragma once
// Free functions on values; safe on any thread.

#include "models/clustersnapshot.h"

#include <QMap>

namespace Pilothouse::SnapshotDiff {

// The state an operator cares about, as "object.field" -> value, e.g.
// "pg:pg-1.role" -> "primary". Counters, LSNs, latencies and read times are
// left out: they change every poll and are charted, not announced.
QMap<QString, QString> flatten(const ClusterSnapshot &snapshot);

struct Change
{
    QString key;    // "pg:pg-1.role"
    QString before; // empty when it appeared
    QString after;  // empty when it disappeared
};

// What changed from one snapshot to the next, sorted by key.
QList<Change> diff(const ClusterSnapshot &before, const ClusterSnapshot &after);

// "pg:pg-1.role: primary -> standby", "+ pgpool:abc.backend.pg-1.status: up", ...
QString describe(const Change &change);

} // namespace Pilothouse::SnapshotDiff
