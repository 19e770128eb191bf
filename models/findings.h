#pragma once
// Free functions on values; safe on any thread.

#include "models/clustersnapshot.h"

namespace Pilothouse::Findings {

struct Thresholds
{
    qint64 lagBytesWarning = 16 * 1024 * 1024;
    double lagSecondsWarning = 30;
    int certInfoDays = 30;
    int certWarningDays = 14;
    int certCriticalDays = 7;
};

// Every disagreement and danger the snapshot shows, most severe first.
// `now` is passed in so that results are reproducible.
QList<Finding> compute(const ClusterSnapshot &snapshot, const QDateTime &now,
                       const Thresholds &thresholds = {});

QString severityName(Severity severity);

// The operation that repairs what a finding of `code` reports, as the keys
// of ClusterView::operationRequested ("pgpool-repair", "rejoin",
// "certificate"); empty
// when no operation of the console repairs it.
QString suggestedOperation(const QString &code);

} // namespace Pilothouse::Findings
