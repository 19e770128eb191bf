#pragma once
// Values and pure functions; usable on any thread.

#include "models/drillreport.h"

#include <QByteArray>
#include <QMap>
#include <QString>

namespace Pilothouse {

// The settings a failover's duration depends on, as read from the live
// cluster before a drill. -1: not read (the estimate then says so and uses
// the image's default).
struct DrillSettings
{
    // repmgr.conf of the primary
    QString repmgrFailover; // automatic | manual
    double repmgrMonitorInterval = -1;
    int repmgrReconnectAttempts = -1;
    double repmgrReconnectInterval = -1;
    double repmgrConnectTimeout = -1; // from conninfo's connect_timeout
    double childNodesDisconnectTimeout = -1;
    // pgpool.conf of one pgpool task
    double pgpoolHealthCheckPeriod = -1;
    double pgpoolHealthCheckTimeout = -1;
    int pgpoolHealthCheckRetries = -1;
    double pgpoolHealthCheckRetryDelay = -1;
    double pgpoolSrCheckPeriod = -1;
    QString pgpoolFailoverCommand; // empty: repmgr decides
    bool pgpoolFailoverOnShutdown = false;
    // etcd
    double etcdElectionTimeout = -1; // seconds
    // Swarm restart_policy.delay of the services a fault hits, by service name without the stack
    QMap<QString, double> restartDelays;

    // `key=value` lines (repmgr.conf, pgpool.conf: quotes stripped, comments ignored)
    void readRepmgrConf(const QByteArray &text);
    void readPgpoolConf(const QByteArray &text);
    // NAME=value lines of a process environment (ETCD_ELECTION_TIMEOUT in ms)
    void readEtcdEnvironment(const QByteArray &text);
};

// The estimate of a scenario's write outage from the settings, the layer that
// dominates it, and one line per term. Worst case of each polling loop.
DrillReport::Prediction predictDrill(const QString &scenario, const DrillSettings &settings);

} // namespace Pilothouse
