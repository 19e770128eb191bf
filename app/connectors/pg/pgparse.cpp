#include "app/connectors/pg/pgparse.h"

#include <cmath>

#include "app/connectors/pg/pgerror_p.h"

#include <QRegularExpression>
#include <QTimeZone>

namespace Pilothouse::PgParse {
namespace {

// Reads a row set by column name; a column it needs and cannot find is
// reported once, naming the query, so that a server of another version says
// what it lacks instead of yielding zeros.
class Reader final
{
public:
    Reader(const PgRows &rows, QString what)
        : m_rows(rows)
        , m_what(std::move(what))
    {}

    std::optional<Error> require(const QStringList &columns) const
    {
        QStringList missing;
        for (const QString &c : columns) {
            if (!m_rows.hasColumn(c))
                missing.append(c);
        }
        if (missing.isEmpty())
            return std::nullopt;
        return Internal::pgError(m_what + QStringLiteral(": column(s) missing from the reply: ") +
                                 missing.join(QStringLiteral(", ")) +
                                 QStringLiteral(" (columns were: ") +
                                 m_rows.columns.join(QStringLiteral(", ")) + u')');
    }

    int size() const { return int(m_rows.rows.size()); }
    QString text(int row, QStringView column) const { return m_rows.text(row, column); }
    bool isNull(int row, QStringView column) const { return !m_rows.value(row, column); }

    qint64 integer(int row, QStringView column, qint64 fallback) const
    {
        const auto v = m_rows.value(row, column);
        if (!v)
            return fallback;
        bool ok = false;
        const qint64 n = v->trimmed().toLongLong(&ok);
        if (ok)
            return n;
        // numeric sums and pgpool's "0.000000" style values; a value beyond
        // qint64 (found by fuzzing: a 100-digit node_id) is not a number we use
        const double d = v->trimmed().toDouble(&ok);
        if (!ok || !std::isfinite(d) || d >= 9.2e18 || d <= -9.2e18)
            return fallback;
        return qint64(d);
    }

    double real(int row, QStringView column, double fallback) const
    {
        const auto v = m_rows.value(row, column);
        if (!v)
            return fallback;
        bool ok = false;
        const double d = v->trimmed().toDouble(&ok);
        return ok ? d : fallback;
    }

    // PostgreSQL prints booleans as t/f; pgpool as true/false.
    bool boolean(int row, QStringView column) const
    {
        const QString v = text(row, column).trimmed().toLower();
        return v == u"t" || v == u"true" || v == u"on" || v == u"1";
    }

private:
    const PgRows &m_rows;
    QString m_what;
};

QString roleOf(bool inRecovery)
{
    return inRecovery ? QStringLiteral("standby") : QStringLiteral("primary");
}

} // namespace

QString nodeSummarySql()
{
    // Every function here is allowed to pg_monitor. The timeline of a primary
    // comes from its current WAL file name (the checkpoint's can lag behind a
    // promotion until the next checkpoint); a standby's from its WAL receiver.
    // Idle standbys would show an ever-growing "now - last replay"; when
    // everything received is replayed the delay is 0.
    return QStringLiteral(
        "select pg_is_in_recovery() as in_recovery,"
        " case when pg_is_in_recovery() then null else pg_current_wal_lsn()::text end"
        " as current_lsn,"
        " case when pg_is_in_recovery() then null"
        " else ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int end"
        " as current_timeline,"
        " (select timeline_id from pg_control_checkpoint()) as checkpoint_timeline,"
        " pg_last_wal_receive_lsn()::text as received_lsn,"
        " pg_last_wal_replay_lsn()::text as replayed_lsn,"
        " pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())::bigint"
        " as replay_gap_bytes,"
        " case when not pg_is_in_recovery() then null"
        " when pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() then 0"
        " else extract(epoch from now() - pg_last_xact_replay_timestamp()) end"
        " as replay_delay_seconds,"
        " (select count(*) from pg_stat_activity where backend_type = 'client backend')"
        " as connections,"
        " (select sum(xact_commit) from pg_stat_database)::bigint as xact_commit,"
        " (select sum(xact_rollback) from pg_stat_database)::bigint as xact_rollback,"
        " current_setting('server_version') as version");
}

QString replicationSql()
{
    // A cascading standby has walsenders too; it measures against what it received.
    return QStringLiteral(
        "select application_name, client_addr::text as client_addr, state, sync_state,"
        " extract(epoch from write_lag) as write_lag_seconds,"
        " extract(epoch from flush_lag) as flush_lag_seconds,"
        " extract(epoch from replay_lag) as replay_lag_seconds,"
        " pg_wal_lsn_diff(case when pg_is_in_recovery() then pg_last_wal_receive_lsn()"
        " else pg_current_wal_lsn() end, replay_lsn)::bigint as lag_bytes"
        " from pg_stat_replication order by application_name");
}

QString walReceiverSql()
{
    // Not conninfo: it names the standby's password file and replication user.
    return QStringLiteral(
        "select status, received_tli, sender_host, sender_port,"
        " flushed_lsn::text as flushed_lsn, latest_end_lsn::text as latest_end_lsn"
        " from pg_stat_wal_receiver");
}

QString nodeStatusSql()
{
    return nodeSummarySql() + u';' + replicationSql() + u';' + walReceiverSql();
}

QString repmgrNodesSql()
{
    return QStringLiteral("select node_id, node_name, type, active, upstream_node_id, priority,"
                          " conninfo from repmgr.nodes order by node_id");
}

namespace {
// A fixed text form of the timestamp, independent of the session's DateStyle
// and TimeZone, exact to the microsecond so that it can serve as a cursor.
const QString eventColumns = QStringLiteral(
    "node_id, event, successful, details,"
    " to_char(event_timestamp at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
    " as event_ts");
} // namespace

QString repmgrRecentEventsSql(int limit)
{
    return QStringLiteral("select ") + eventColumns +
           QStringLiteral(" from (select * from repmgr.events order by event_timestamp desc"
                          " limit %1) e order by event_timestamp, node_id, event")
               .arg(limit);
}

QString repmgrEventsSinceSql(const QString &cursor, int limit)
{
    // The cursor is only ever our own to_char() output; anything else is
    // refused rather than spliced into SQL.
    static const QRegularExpression form(
        QStringLiteral("^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{6}Z$"));
    if (!form.match(cursor).hasMatch())
        return {};
    return QStringLiteral("select ") + eventColumns +
           QStringLiteral(" from repmgr.events where event_timestamp >= '%1'::timestamptz"
                          " order by event_timestamp, node_id, event limit %2")
               .arg(cursor)
               .arg(limit);
}

QString repmgrStatusSql(const RepmgrEventCursor &cursor, int backlog, int limit)
{
    const QString since =
        cursor.isEmpty() ? QString() : repmgrEventsSinceSql(cursor.timestamp(), limit);
    return repmgrNodesSql() + u';' + (since.isEmpty() ? repmgrRecentEventsSql(backlog) : since);
}

QString repmgrdStateSql()
{
    return QStringLiteral("select repmgr.repmgrd_is_running() as running,"
                          " repmgr.repmgrd_is_paused() as paused");
}

Result<QString> parseRepmgrdState(const PgRows &rows)
{
    const Reader reader(rows, QStringLiteral("repmgrd state"));
    if (auto e = reader.require({QStringLiteral("running"), QStringLiteral("paused")}))
        return *e;
    if (rows.rows.size() != 1)
        return Internal::pgError(
            QStringLiteral("repmgrd state: expected 1 row, got %1").arg(rows.rows.size()));
    const QString running = reader.text(0, QStringLiteral("running"));
    const QString paused = reader.text(0, QStringLiteral("paused"));
    if ((running != u"t" && running != u"f") || (paused != u"t" && paused != u"f"))
        return Internal::pgError(QStringLiteral("repmgrd state: unreadable row (running '%1', "
                                                "paused '%2')")
                                     .arg(running, paused));
    if (running == u"f")
        return QStringLiteral("not running");
    return paused == u"t" ? QStringLiteral("paused") : QStringLiteral("running");
}

Result<PostgresNodeState> parseNodeStatus(const PgReply &reply, PostgresNodeState state)
{
    if (reply.size() != 3) {
        return Internal::pgError(
            QStringLiteral("node status: expected 3 result sets, got %1").arg(reply.size()));
    }
    const Reader node(reply.at(0), QStringLiteral("node status"));
    if (auto e = node.require(
            {QStringLiteral("in_recovery"), QStringLiteral("current_lsn"),
             QStringLiteral("current_timeline"), QStringLiteral("checkpoint_timeline"),
             QStringLiteral("received_lsn"), QStringLiteral("replayed_lsn"),
             QStringLiteral("replay_gap_bytes"), QStringLiteral("replay_delay_seconds"),
             QStringLiteral("connections"), QStringLiteral("xact_commit"),
             QStringLiteral("xact_rollback"), QStringLiteral("version")}))
        return *e;
    if (node.size() != 1)
        return Internal::pgError(
            QStringLiteral("node status: expected 1 row, got %1").arg(node.size()));

    const bool inRecovery = node.boolean(0, u"in_recovery");
    state.role = roleOf(inRecovery);
    state.currentLsn = node.text(0, u"current_lsn");
    // A promoted primary still reports what it last received as a standby.
    state.receivedLsn = inRecovery ? node.text(0, u"received_lsn") : QString();
    state.replayedLsn = inRecovery ? node.text(0, u"replayed_lsn") : QString();
    state.connections = int(node.integer(0, u"connections", 0));
    state.xactCommit = node.integer(0, u"xact_commit", 0);
    state.xactRollback = node.integer(0, u"xact_rollback", 0);
    state.version = node.text(0, u"version");
    const int checkpointTimeline = int(node.integer(0, u"checkpoint_timeline", 0));
    state.timeline = int(node.integer(0, u"current_timeline", checkpointTimeline));
    if (inRecovery) {
        state.lagBytes = node.integer(0, u"replay_gap_bytes", -1);
        state.lagSeconds = node.real(0, u"replay_delay_seconds", -1);
    } else {
        state.lagBytes = 0;
        state.lagSeconds = 0;
    }

    const Reader replication(reply.at(1), QStringLiteral("pg_stat_replication"));
    if (auto e = replication.require(
            {QStringLiteral("application_name"), QStringLiteral("client_addr"),
             QStringLiteral("state"), QStringLiteral("sync_state"),
             QStringLiteral("write_lag_seconds"), QStringLiteral("flush_lag_seconds"),
             QStringLiteral("replay_lag_seconds"), QStringLiteral("lag_bytes")}))
        return *e;
    state.replicas.clear();
    for (int r = 0; r < replication.size(); ++r) {
        ReplicationLink link;
        link.applicationName = replication.text(r, u"application_name");
        link.clientAddress = replication.text(r, u"client_addr");
        link.state = replication.text(r, u"state");
        link.syncState = replication.text(r, u"sync_state");
        // NULL lag: the standby has caught up and nothing was written since.
        link.writeLagSeconds = replication.real(r, u"write_lag_seconds", -1);
        link.flushLagSeconds = replication.real(r, u"flush_lag_seconds", -1);
        link.replayLagSeconds = replication.real(r, u"replay_lag_seconds", -1);
        link.lagBytes = replication.integer(r, u"lag_bytes", -1);
        state.replicas.append(link);
    }

    const Reader receiver(reply.at(2), QStringLiteral("pg_stat_wal_receiver"));
    if (auto e = receiver.require({QStringLiteral("status"), QStringLiteral("received_tli"),
                                   QStringLiteral("sender_host"), QStringLiteral("sender_port")}))
        return *e;
    state.upstream.clear();
    state.walReceiverStatus.clear();
    if (receiver.size() > 0) {
        state.walReceiverStatus = receiver.text(0, u"status");
        state.upstream = receiver.text(0, u"sender_host");
        if (inRecovery) {
            const int tli = int(receiver.integer(0, u"received_tli", 0));
            if (tli > 0)
                state.timeline = tli;
        }
    }
    return state;
}

QString redactConninfo(const QString &conninfo)
{
    // key=value pairs, value possibly single-quoted with backslash escapes.
    static const QRegularExpression password(
        QStringLiteral("\\bpassword\\s*=\\s*('(?:[^'\\\\]|\\\\.)*'|\\S+)"));
    QString out = conninfo;
    out.replace(password, QStringLiteral("password=***"));
    return out;
}

Result<QList<RepmgrNodeView>> parseRepmgrNodes(const PgRows &rows)
{
    const Reader reader(rows, QStringLiteral("repmgr.nodes"));
    if (auto e = reader.require({QStringLiteral("node_id"), QStringLiteral("node_name"),
                                 QStringLiteral("type"), QStringLiteral("active"),
                                 QStringLiteral("upstream_node_id"), QStringLiteral("priority"),
                                 QStringLiteral("conninfo")}))
        return *e;
    QList<RepmgrNodeView> nodes;
    for (int r = 0; r < reader.size(); ++r) {
        RepmgrNodeView n;
        n.nodeId = int(reader.integer(r, u"node_id", 0));
        n.name = reader.text(r, u"node_name");
        n.type = reader.text(r, u"type");
        n.active = reader.boolean(r, u"active");
        n.upstreamNodeId = int(reader.integer(r, u"upstream_node_id", 0));
        n.priority = int(reader.integer(r, u"priority", 0));
        n.conninfo = redactConninfo(reader.text(r, u"conninfo"));
        nodes.append(n);
    }
    return nodes;
}

Result<QList<RepmgrEvent>> RepmgrEventCursor::take(const PgRows &rows)
{
    const Reader reader(rows, QStringLiteral("repmgr.events"));
    if (auto e = reader.require({QStringLiteral("node_id"), QStringLiteral("event"),
                                 QStringLiteral("successful"), QStringLiteral("details"),
                                 QStringLiteral("event_ts")}))
        return *e;
    QList<RepmgrEvent> fresh;
    for (int r = 0; r < reader.size(); ++r) {
        const QString ts = reader.text(r, u"event_ts");
        RepmgrEvent ev;
        ev.nodeId = int(reader.integer(r, u"node_id", 0));
        ev.event = reader.text(r, u"event");
        ev.successful = reader.boolean(r, u"successful");
        ev.details = reader.text(r, u"details");
        ev.timestamp = QDateTime::fromString(ts, Qt::ISODateWithMs);
        if (!ev.timestamp.isValid()) {
            return Internal::pgError(
                QStringLiteral("repmgr.events: row %1: unreadable timestamp '%2'")
                    .arg(r + 1)
                    .arg(ts));
        }
        ev.timestamp = ev.timestamp.toUTC();
        const QString key = QString::number(ev.nodeId) + u'|' + ev.event + u'|' + ev.details;
        // The fixed-width UTC text sorts like the time it stands for.
        if (!m_timestamp.isEmpty() && ts < m_timestamp)
            continue;
        if (ts == m_timestamp) {
            if (m_seenAtTimestamp.contains(key))
                continue;
        } else {
            m_timestamp = ts;
            m_seenAtTimestamp.clear();
        }
        m_seenAtTimestamp.append(key);
        fresh.append(ev);
    }
    return fresh;
}

Result<QList<PgpoolBackend>> parsePoolNodes(const PgRows &rows)
{
    const Reader reader(rows, QStringLiteral("SHOW POOL_NODES"));
    if (auto e = reader.require(
            {QStringLiteral("node_id"), QStringLiteral("hostname"), QStringLiteral("port"),
             QStringLiteral("status"), QStringLiteral("pg_status"), QStringLiteral("lb_weight"),
             QStringLiteral("role"), QStringLiteral("pg_role"), QStringLiteral("select_cnt"),
             QStringLiteral("load_balance_node"), QStringLiteral("replication_delay"),
             QStringLiteral("replication_state"), QStringLiteral("replication_sync_state"),
             QStringLiteral("last_status_change")}))
        return *e;
    QList<PgpoolBackend> backends;
    for (int r = 0; r < reader.size(); ++r) {
        PgpoolBackend b;
        b.nodeId = int(reader.integer(r, u"node_id", -1));
        b.hostname = reader.text(r, u"hostname");
        b.port = int(reader.integer(r, u"port", 0));
        b.status = reader.text(r, u"status");
        b.pgStatus = reader.text(r, u"pg_status");
        b.lbWeight = reader.real(r, u"lb_weight", 0);
        b.role = reader.text(r, u"role");
        b.pgRole = reader.text(r, u"pg_role");
        b.selectCount = reader.integer(r, u"select_cnt", 0);
        b.loadBalanceNode = reader.boolean(r, u"load_balance_node");
        b.replicationDelay = reader.integer(r, u"replication_delay", 0);
        b.replicationState = reader.text(r, u"replication_state");
        b.replicationSyncState = reader.text(r, u"replication_sync_state");
        b.lastStatusChange = reader.text(r, u"last_status_change");
        backends.append(b);
    }
    return backends;
}

Result<QList<PgpoolBackend>> mergeHealthCheckStats(const PgRows &rows,
                                                   QList<PgpoolBackend> backends)
{
    const Reader reader(rows, QStringLiteral("SHOW POOL_HEALTH_CHECK_STATS"));
    if (auto e =
            reader.require({QStringLiteral("node_id"), QStringLiteral("total_count"),
                            QStringLiteral("success_count"), QStringLiteral("fail_count"),
                            QStringLiteral("skip_count"), QStringLiteral("retry_count"),
                            QStringLiteral("average_duration"), QStringLiteral("last_health_check"),
                            QStringLiteral("last_successful_health_check"),
                            QStringLiteral("last_failed_health_check")}))
        return *e;
    for (int r = 0; r < reader.size(); ++r) {
        const int nodeId = int(reader.integer(r, u"node_id", -1));
        for (PgpoolBackend &b : backends) {
            if (b.nodeId != nodeId)
                continue;
            b.healthCheckTotal = reader.integer(r, u"total_count", -1);
            b.healthCheckSuccess = reader.integer(r, u"success_count", -1);
            b.healthCheckFail = reader.integer(r, u"fail_count", -1);
            b.healthCheckSkip = reader.integer(r, u"skip_count", -1);
            b.healthCheckRetry = reader.integer(r, u"retry_count", -1);
            b.healthCheckAverageMs = reader.real(r, u"average_duration", -1);
            b.lastHealthCheck = reader.text(r, u"last_health_check");
            b.lastSuccessfulHealthCheck = reader.text(r, u"last_successful_health_check");
            b.lastFailedHealthCheck = reader.text(r, u"last_failed_health_check");
        }
    }
    return backends;
}

QString upstreamNodeName(const QString &senderHost, const QList<RepmgrNodeView> &nodes)
{
    if (senderHost.isEmpty())
        return {};
    static const QRegularExpression hostKey(QStringLiteral("\\bhost\\s*=\\s*'?([^'\\s]+)"));
    for (const RepmgrNodeView &n : nodes) {
        if (n.name == senderHost)
            return n.name;
        const auto m = hostKey.match(n.conninfo);
        if (m.hasMatch() && m.captured(1) == senderHost)
            return n.name;
    }
    return senderHost;
}

void applyPrimaryView(QList<PostgresNodeState> &nodes)
{
    const PostgresNodeState *primary = nullptr;
    for (const PostgresNodeState &n : nodes) {
        if (!n.reachable || n.role != u"primary")
            continue;
        if (primary)
            return; // two primaries: neither one's view is the truth
        primary = &n;
    }
    if (!primary)
        return;
    const QList<ReplicationLink> links = primary->replicas;
    for (PostgresNodeState &n : nodes) {
        if (n.role != u"standby")
            continue;
        for (const ReplicationLink &link : links) {
            if (link.applicationName == n.name && link.lagBytes >= 0)
                n.lagBytes = link.lagBytes;
        }
    }
}

} // namespace Pilothouse::PgParse
