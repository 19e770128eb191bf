#pragma once
// Free functions on values; safe on any thread.

#include "app/connectors/docker/dockertypes.h"
#include "models/clusterevent.h"
#include "models/clustersnapshot.h"

#include <optional>

// Turns what the monitor reads into timeline entries. Every entry has a key
// that is the same however often, and from however many sources, the same
// happening is reported: repmgr.events is replicated to every node and
// service events come from every manager alike.
namespace Pilothouse::ClusterEvents {

// repmgr's events, with node ids mapped to names through repmgr's own node
// list (an id it does not list is shown as "node N").
QList<ClusterEvent> fromRepmgr(const QList<RepmgrEvent> &events,
                               const QList<RepmgrNodeView> &nodes);

// A Docker lifecycle event seen on `host`'s engine; nullopt for events that
// are not news (anything but container, service and node lifecycle).
std::optional<ClusterEvent> fromDocker(const DockerEvent &event, const QString &host);

// Findings that appeared or cleared, and state changes (roles, reachability,
// task states, quorum...) between two published snapshots, stamped with the
// later snapshot's time.
QList<ClusterEvent> fromSnapshots(const ClusterSnapshot &before, const ClusterSnapshot &after);

} // namespace Pilothouse::ClusterEvents
