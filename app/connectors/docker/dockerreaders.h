#pragma once
// Free functions; safe on any thread (they touch only their arguments).

#include "app/connectors/docker/dockertypes.h"
#include "models/clustersnapshot.h"
#include "models/result.h"

#include <QHash>
#include <QJsonDocument>

namespace Pilothouse::DockerReaders {

// The minor number of an API version "1.NN"; -1 when it is not of that shape.
int apiMinor(const QString &version);
// The version to speak with an engine that offers `serverVersion` (its
// API-Version header): the lower of its and ours, or an error when the
// engine is older than `clientMinMinor`.
Result<QString> negotiateApiVersion(const QString &serverVersion, int clientMaxMinor,
                                    int clientMinMinor);
// GET /version -> its ApiVersion ("1.41").
Result<QString> readVersionApi(const QJsonDocument &doc);

// The `filters` query value: compact JSON {"key":["value",...]}, not yet
// percent-encoded (QUrlQuery does that).
QByteArray encodeFilters(const DockerFilters &filters);

// "pilothouse_pg-1" with namespace "pilothouse" -> "pg-1"; unchanged when the
// namespace is empty or not its prefix.
QString stripStackPrefix(const QString &name, const QString &stackNamespace);

// Docker's RFC 3339 times with nanoseconds ("2026-11-26T06:38:44.123456789Z"),
// as UTC with ms precision; invalid for Go's zero time "0001-01-01T00:00:00Z".
QDateTime readTimestamp(const QString &text);

// GET /nodes, sorted by hostname.
Result<QList<SwarmNodeState>> readNodes(const QJsonDocument &doc);
// GET /services (status=true gives runningTasks), sorted by name.
Result<QList<ServiceState>> readServices(const QJsonDocument &doc);
// GET /tasks. Service names come from `services` (by ServiceID), hostnames
// from `nodes` (by NodeID); a task whose service or node is unknown keeps
// the id there. Sorted by service, slot, then newest first.
Result<QList<TaskState>> readTasks(const QJsonDocument &doc, const QList<ServiceState> &services,
                                   const QList<SwarmNodeState> &nodes);
// One line of GET /events.
Result<DockerEvent> readEvent(const QByteArray &line);

} // namespace Pilothouse::DockerReaders
