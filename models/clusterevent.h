#pragma once
// Value type; usable on any thread.

#include "models/clustersnapshot.h"

#include <QDateTime>
#include <QString>
#include <QStringList>

namespace Pilothouse {

// One thing that happened in the cluster, for the timeline: a repmgr event,
// a Swarm task or node event, a finding that appeared or cleared, a state
// change the monitor saw between two snapshots.
struct ClusterEvent
{
    QDateTime at;   // UTC, when it happened (or was first seen)
    QString source; // "repmgr", "swarm", "finding", "change"
    Severity severity = Severity::Info;
    QString text;        // one line for a person
    QStringList objects; // keys as in Finding::objects: "pg:pg-1", "host:swarm-02", ...
    QString key;         // identity: the same event reported twice has the same key
};

} // namespace Pilothouse
