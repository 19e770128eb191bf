#pragma once
// Pure functions, usable on any thread.

#include "app/connectors/pg/pgrows.h"
#include "models/clustersnapshot.h"
#include "models/result.h"

namespace Pilothouse::PgParse {

// The queries the probes send, next to the parsers that read their columns.

// Three statements in one round trip, for any node (primary or standby), as a
// pg_monitor role: the node itself, its pg_stat_replication, its pg_stat_wal_receiver.
QString nodeStatusSql();
// Its three statements, one by one (fixtures are captured with each of them).
QString nodeSummarySql();
QString replicationSql();
QString walReceiverSql();
// repmgr.nodes, in the repmgr database.
QString repmgrNodesSql();
// The latest `limit` rows of repmgr.events, oldest first.
QString repmgrRecentEventsSql(int limit);
// Rows of repmgr.events at or after `cursor` (RepmgrEventCursor::timestamp()),
// oldest first. Empty when the cursor is not of the form that class produces.
QString repmgrEventsSinceSql(const QString &cursor, int limit);

// Fills everything nodeStatusSql() reads into `state` (role, timeline, LSNs,
// lag, upstream, replicas, counters, version); leaves name, host, repmgr and
// freshness alone. Errors name the missing result set or column.
Result<PostgresNodeState> parseNodeStatus(const PgReply &reply, PostgresNodeState state);

Result<QList<RepmgrNodeView>> parseRepmgrNodes(const PgRows &rows);

// Keeps the position in repmgr.events so that each event is reported once.
// Events carry no id, so rows at the cursor's timestamp are remembered by
// content and skipped when read again.
class RepmgrEventCursor final
{
public:
    bool isEmpty() const { return m_timestamp.isEmpty(); }
    // Where the next read starts (see repmgrEventsSinceSql()).
    QString timestamp() const { return m_timestamp; }
    // Parses rows of repmgrRecentEventsSql()/repmgrEventsSinceSql() and
    // returns those not seen before; advances the cursor.
    Result<QList<RepmgrEvent>> take(const PgRows &rows);

private:
    QString m_timestamp;           // the newest event_ts read so far (UTC, microseconds)
    QStringList m_seenAtTimestamp; // keys of the events read at exactly m_timestamp
};

// repmgr.nodes and the events after `cursor` (the latest `backlog` ones
// when it is empty), in one round trip: two result sets.
QString repmgrStatusSql(const RepmgrEventCursor &cursor, int backlog, int limit);
// This node's repmgrd as repmgr's extension sees it (shared memory of the
// node it runs on): "running", "paused" or "not running".
QString repmgrdStateSql();
Result<QString> parseRepmgrdState(const PgRows &rows);

// SHOW POOL_NODES of one pgpool instance.
Result<QList<PgpoolBackend>> parsePoolNodes(const PgRows &rows);
// SHOW POOL_HEALTH_CHECK_STATS, merged by node_id into `backends`.
Result<QList<PgpoolBackend>> mergeHealthCheckStats(const PgRows &rows,
                                                   QList<PgpoolBackend> backends);

// The name of the node a standby streams from: sender_host is whatever the
// standby's primary_conninfo says (a service name or an address), so match it
// against repmgr's conninfo host of each node. Falls back to `senderHost`.
QString upstreamNodeName(const QString &senderHost, const QList<RepmgrNodeView> &nodes);

// A conninfo without its password=... part, safe to show and log.
QString redactConninfo(const QString &conninfo);

// A standby only knows its own receive/replay gap; the primary knows how far
// each standby is behind it. When exactly one node is primary, sets each
// standby's lagBytes from the primary's pg_stat_replication entry whose
// application_name is the standby's name (repmgr sets it to the node name).
void applyPrimaryView(QList<PostgresNodeState> &nodes);

} // namespace Pilothouse::PgParse
