#pragma once
// Lives on the thread that creates it (usually the GUI thread); never blocks it.

#include "models/clustersnapshot.h"
#include "models/inventory.h"
#include "models/result.h"

#include <QObject>

namespace Pilothouse {

class PgSession;

struct PgpoolProbeConfig
{
    QString task;    // the Swarm task (id or name) of this pgpool instance
    QString host;    // inventory host it runs on, swarm-01
    QString address; // that host's address: each task publishes its port in host mode
    int port = 9999;
    QString database; // any database pgpool lets the monitoring role into (db app)
    QString user;
    QString password;
    QString applicationName = QStringLiteral("pilothouse-monitor");
    int connectTimeoutMs = 3000;
    int queryTimeoutMs = 3000;
    int minBackoffMs = 250;
    int maxBackoffMs = 5000;

    // The probe of the pgpool task `task` running on inventory host `host`
    // (the monitor learns which hosts run one from Swarm). Error when the
    // host is unknown.
    static Result<PgpoolProbeConfig> fromInventory(const Inventory &inventory, const QString &host,
                                                   const QString &task, const QString &password);
};

// Watches one pgpool-II instance (not the service: each task keeps its own
// view of the backends, and they can disagree) through a persistent
// connection: SHOW POOL_NODES and SHOW POOL_HEALTH_CHECK_STATS.
class PgpoolProbe final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(PgpoolProbe)

public:
    explicit PgpoolProbe(const PgpoolProbeConfig &config, QObject *parent = nullptr);
    ~PgpoolProbe() override;

    const PgpoolProbeConfig &config() const { return m_config; }
    void start();
    void stop();
    bool isConnected() const;

    // Reads both SHOW commands and emits refreshed(); a no-op while one runs.
    // Unreachable: reachable=false, last known backends marked stale.
    void refresh();
    bool isRefreshing() const { return m_pending > 0; }
    const PgpoolInstanceState &state() const { return m_state; }

Q_SIGNALS:
    void refreshed(const Pilothouse::PgpoolInstanceState &state);
    void connected();
    void connectionLost(const Pilothouse::Error &error);

private:
    void finishStep();

    PgpoolProbeConfig m_config;
    PgSession *m_session;
    PgpoolInstanceState m_state;
    QList<PgpoolBackend> m_backends;
    std::optional<Error> m_error;
    int m_pending = 0;
};

} // namespace Pilothouse
