#pragma once
// Free functions; safe on any thread (they touch only their arguments).

#include "app/connectors/etcd/etcdtypes.h"
#include "models/clustersnapshot.h"

#include <QDateTime>
#include <QList>
#include <QString>

#include <optional>

namespace Pilothouse {

// What one round of probes learned of one member; an error string stands in
// for an answer that did not come.
struct EtcdMemberProbe
{
    QString name; // etcd1
    QString host; // swarm-01
    std::optional<EtcdHealth> health;
    QString healthError;
    std::optional<EtcdStatus> status;
    QString statusError;
    QDateTime readAt; // UTC
};

struct EtcdReading
{
    EtcdState state;
    QList<Finding> findings;
};

namespace EtcdStateReader {

// The member as the snapshot shows it. Healthy: /health says so, or (when
// /health was not asked) its status answered with a leader and no alarm.
EtcdMemberState memberState(const EtcdMemberProbe &probe);

// The whole cluster. `clusterSize` is the member count of the member list;
// 0 when unknown (then the probed members count). Quorum: healthy members >
// size / 2. Findings name what disagrees: cluster ids, leaders, alarms,
// members without a leader or down.
EtcdReading read(const QList<EtcdMemberProbe> &probes, int clusterSize);

} // namespace EtcdStateReader
} // namespace Pilothouse
