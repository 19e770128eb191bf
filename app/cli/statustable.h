#pragma once
// Free functions on values; safe on any thread.

#include "models/clustersnapshot.h"

namespace Pilothouse::StatusTable {

// The readable form of `pilothouse status`: one aligned table per layer,
// then the findings. Stale values carry their age.
QString render(const ClusterSnapshot &snapshot, const QDateTime &now);

} // namespace Pilothouse::StatusTable
