#pragma once
// Free functions on values; safe on any thread.

#include "models/clustersnapshot.h"

#include <QJsonObject>

namespace Pilothouse::SnapshotJson {

// The machine-readable form of `pilothouse status --json`: hosts[], swarm,
// postgres.nodes[], pgpool[], etcd, proxy.routes[], app.replicas[],
// certificates[], findings[]. Field names are snake_case and stable.
QJsonObject toJson(const ClusterSnapshot &snapshot, const QDateTime &now);

} // namespace Pilothouse::SnapshotJson
