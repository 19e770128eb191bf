#pragma once
// Lives on the thread that creates it (usually the GUI thread); never blocks it.

#include "app/connectors/pg/pgparse.h"
#include "models/clustersnapshot.h"
#include "models/inventory.h"
#include "models/result.h"

#include <QObject>

namespace Pilothouse {

class PgSession;

struct PgNodeProbeConfig
{
    QString name;    // pg-1
    QString host;    // inventory host, swarm-01
    QString address; // where to connect, 10.213.0.11
    int port = 5432;
    QString database;                                  // the monitor connects here (db app)
    QString repmgrDatabase = QStringLiteral("repmgr"); // empty: do not read repmgr
    QString user;                                      // the monitoring role, pg_monitor only
    QString password;
    QString applicationName = QStringLiteral("pilothouse-monitor");
    int connectTimeoutMs = 3000;
    int queryTimeoutMs = 3000;
    int minBackoffMs = 250;
    int maxBackoffMs = 5000;
    int eventBacklog = 50; // repmgr events read on the first refresh

    // The probe of `node` (e.g. "pg-1") as the inventory describes it;
    // `password` is the monitoring role's (secrets_dir/pg_monitor_password).
    // Error when the node or its host is unknown.
    static Result<PgNodeProbeConfig> fromInventory(const Inventory &inventory, const QString &node,
                                                   const QString &password);
};

// Watches one PostgreSQL node through two persistent connections as the
// monitoring role: one to the app database for the node's own state, one to
// the repmgr database for repmgr.nodes and new repmgr.events. Both reconnect
// by themselves. A lost connection is reported at once (connectionLost), so
// the monitor can refresh early instead of waiting for its next tick.
class PgNodeProbe final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(PgNodeProbe)

public:
    explicit PgNodeProbe(const PgNodeProbeConfig &config, QObject *parent = nullptr);
    ~PgNodeProbe() override;

    const PgNodeProbeConfig &config() const { return m_config; }
    // Opens the connections (and keeps them open until stop()).
    void start();
    void stop();
    bool isMonitorConnected() const;
    bool isRepmgrConnected() const;

    // Reads the node (one round trip on each connection) and emits
    // refreshed(). While a refresh is running, another call does nothing.
    // When the node cannot be reached, refreshed() carries reachable=false and
    // the last known values marked stale.
    void refresh();
    bool isRefreshing() const { return m_pending > 0; }
    // The last state emitted.
    const PostgresNodeState &state() const { return m_state; }

Q_SIGNALS:
    void refreshed(const Pilothouse::PostgresNodeState &state);
    // Only events not reported before; the first refresh reports the latest
    // eventBacklog. Every node holds a replicated copy of repmgr.events, so
    // the same event comes from each probe: take them from the primary's.
    void repmgrEventsRead(const QString &node, const QList<Pilothouse::RepmgrEvent> &events);
    void connected();
    // The monitoring connection to this node ended (or could not be made
    // after having been up): an early trigger for the monitor.
    void connectionLost(const Pilothouse::Error &error);

private:
    void finishStep();
    PgSession *repmgrSession() const;

    PgNodeProbeConfig m_config;
    PgSession *m_monitor;
    PgSession *m_repmgr;
    PostgresNodeState m_state;
    PostgresNodeState m_next;
    std::optional<Error> m_nodeError;
    QList<RepmgrNodeView> m_repmgrNodes;
    QList<RepmgrEvent> m_newEvents;
    QString m_repmgrd; // the last answer about this node's repmgrd; empty when unknown
    QString m_senderHost;
    PgParse::RepmgrEventCursor m_cursor;
    int m_pending = 0;
};

} // namespace Pilothouse
