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

// How many findings of each severity a list holds: what a header or a list
// of clusters says in one line.
struct Counts
{
    int critical = 0;
    int warning = 0;
    int info = 0;

    static Counts of(const QList<Finding> &findings);
    // Warnings and criticals: what needs someone's attention.
    int problems() const { return critical + warning; }
    // Info when there is no problem.
    Severity worst() const;
};

// How far behind `standby`'s replay is, in seconds (-1: unknown). The
// upstream's walsender measures it (pg_stat_replication.replay_lag: from its
// flush of recent WAL to the standby's report of having applied it; NULL once
// caught up, 0 here when the standby has nothing unreplayed). The standby's
// own figure, now() - pg_last_xact_replay_timestamp(), also counts the time
// the primary had nothing to commit (right after a clone, 4 kB not yet
// replayed read as a minute behind): it is used only when `upstream` is null
// or does not list the standby.
double replayDelaySeconds(const PostgresNodeState *upstream, const PostgresNodeState &standby);

// The operation that repairs what a finding of `code` reports, as the keys
// of ClusterView::operationRequested ("pgpool-repair", "rejoin",
// "certificate"); empty
// when no operation of the console repairs it.
QString suggestedOperation(const QString &code);

} // namespace Pilothouse::Findings
