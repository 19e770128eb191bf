#pragma once
// Value types, usable on any thread. A ClusterSnapshot is immutable once
// built: the monitor builds a new one for every change and hands out copies
// (implicitly shared Qt containers keep that cheap).

#include <QDateTime>
#include <QList>
#include <QString>
#include <QStringList>

#include <optional>

namespace Pilothouse {

// When a value was read, so that views can grey out stale ones with their age.
struct Freshness
{
    QDateTime readAt;   // UTC; invalid when never read
    bool stale = false; // the last attempt to refresh it failed
    QString error;      // why, when stale
};

struct HostState
{
    QString name; // inventory name, e.g. "swarm-01"
    QString address;
    bool reachable = false; // SSH answered
    double sshLatencyMs = 0;
    Freshness freshness;
};

struct SwarmNodeState
{
    QString id;
    QString hostname;
    QString state;        // ready, down, unknown
    QString availability; // active, pause, drain
    bool manager = false;
    bool leader = false;
    QString managerReachability; // reachable, unreachable
    QString address;
    QStringList labels; // "key=value"
};

struct TaskState
{
    QString id;
    QString service; // without the stack prefix, e.g. "pg-1"
    int slot = 0;
    QString nodeId;
    QString hostname;
    QString desiredState; // running, shutdown
    QString currentState; // running, starting, failed, ...
    QString error;
    QString containerId;
    QDateTime since;
};

struct ServiceState
{
    QString id;
    QString name;  // without the stack prefix
    QString stack; // com.docker.stack.namespace; empty outside a stack
    QString mode;  // replicated, global
    int desiredReplicas = 0;
    int runningTasks = 0;
    QString image;
    quint64 versionIndex = 0;
    QString updateState; // empty, updating, completed, rollback_*...
};

struct ReplicationLink
{
    QString applicationName; // the standby's name as it reports it
    QString clientAddress;
    QString state;               // streaming, catchup, ...
    QString syncState;           // async, sync, potential, quorum
    double writeLagSeconds = -1; // -1: unknown (NULL in pg_stat_replication)
    double flushLagSeconds = -1;
    double replayLagSeconds = -1;
    qint64 lagBytes = -1; // primary's current LSN - standby's replay LSN
};

struct RepmgrNodeView
{
    int nodeId = 0;
    QString name;
    QString type; // primary, standby, witness
    bool active = false;
    int upstreamNodeId = 0; // 0 when none
    int priority = 0;
    QString conninfo;
};

// One row of repmgr.events: what repmgr did on which node, for the timeline.
struct RepmgrEvent
{
    int nodeId = 0;
    QString event; // e.g. "standby_promote", "repmgrd_failover_promote"
    bool successful = false;
    QDateTime timestamp; // UTC
    QString details;
};

struct PostgresNodeState
{
    QString name; // pg-1
    QString host; // swarm-01
    bool reachable = false;
    QString role; // primary, standby, unknown
    int timeline = 0;
    QString currentLsn;        // primary: pg_current_wal_lsn()
    QString receivedLsn;       // standby: pg_last_wal_receive_lsn()
    QString replayedLsn;       // standby: pg_last_wal_replay_lsn()
    qint64 lagBytes = -1;      // standby behind the primary, bytes; -1 unknown
    double lagSeconds = -1;    // standby: now() - pg_last_xact_replay_timestamp()
    QString upstream;          // standby: the node it streams from (from pg_stat_wal_receiver)
    QString walReceiverStatus; // standby: streaming, stopping, ...; empty when none
    QList<ReplicationLink> replicas; // primary: pg_stat_replication
    QList<RepmgrNodeView> repmgr;    // this node's copy of repmgr.nodes
    // The node's own repmgrd: "running", "paused" (no automatic failover:
    // `repmgr service pause`, or a switchover that did not finish), "not
    // running"; empty when unknown (not read yet, or repmgr has no answer).
    QString repmgrd;
    int connections = 0;
    qint64 xactCommit = 0;
    qint64 xactRollback = 0;
    QString version;
    Freshness freshness;
};

struct EtcdMemberState
{
    QString name;     // etcd1
    QString host;     // swarm-01
    QString memberId; // decimal, as the gateway prints it
    bool healthy = false;
    QString leaderId; // who this member thinks leads
    bool isLeader = false;
    quint64 raftTerm = 0;
    quint64 raftIndex = 0;
    QString version;
    qint64 dbSize = 0;
    QStringList errors;
    Freshness freshness;
};

struct EtcdState
{
    QList<EtcdMemberState> members;
    int healthyMembers = 0;
    int clusterSize = 0;
    bool quorum = false;
};

struct PgpoolBackend
{
    int nodeId = 0;
    QString hostname; // as pgpool names it, e.g. "pg-1"
    int port = 0;
    QString status;   // up, down, waiting, unused
    QString pgStatus; // what pgpool's own check says of the server
    double lbWeight = 0;
    QString role;   // pgpool's view: primary, standby
    QString pgRole; // what the server says of itself
    qint64 selectCount = 0;
    bool loadBalanceNode = false;
    qint64 replicationDelay = 0; // bytes (pgpool 4.3 default) or seconds
    QString replicationState;
    QString replicationSyncState;
    QString lastStatusChange;
    // SHOW POOL_HEALTH_CHECK_STATS; -1 when not read.
    qint64 healthCheckTotal = -1;
    qint64 healthCheckSuccess = -1;
    qint64 healthCheckFail = -1;
    qint64 healthCheckSkip = -1;
    qint64 healthCheckRetry = -1;
    double healthCheckAverageMs = -1; // average duration of one check
    QString lastHealthCheck;          // as pgpool prints it (its local time); empty when never
    QString lastSuccessfulHealthCheck;
    QString lastFailedHealthCheck;
};

struct PgpoolInstanceState
{
    QString task; // task id (or name) of this pgpool instance
    QString host; // swarm-0N: where it runs and where it is reached
    bool reachable = false;
    QList<PgpoolBackend> backends;
    Freshness freshness;
};

struct ProxyBackend
{
    QString name; // e.g. app replica address or server name
    bool up = false;
    QString detail; // check status as the proxy reports it
};

struct ProxyRoute
{
    QString host;    // app.pilothouse.lab
    QString service; // backend service
    QString proxy;   // the proxy instance that reported it: the host it runs on
    QList<ProxyBackend> backends;
    // A request through this proxy instance, as a user makes it (HTTPS, Host
    // header, the proxy's certificate verified): 0 when it got no answer.
    int statusCode = 0;
    double latencyMs = -1;
    QString error;
    Freshness freshness;
};

struct AppReplicaState
{
    QString task;
    QString host;
    bool healthy = false;
    double latencyMs = -1;
    QString detail;
    Freshness freshness;
};

struct CertificateState
{
    QString where; // "https://app.pilothouse.lab via swarm-01", a file path, ...
    QString subject;
    QString issuer;
    QStringList subjectAltNames;
    QDateTime notAfter;
    int daysLeft = 0;
};

enum class Severity { Info, Warning, Critical };

struct Finding
{
    Severity severity = Severity::Info;
    QString code;        // stable identifier, e.g. "two-primaries"
    QString message;     // one sentence for a person
    QStringList objects; // keys of what it concerns: "pg:pg-1", "pgpool:<task>", "etcd:etcd2",
                         // "host:swarm-02"
};

struct ClusterSnapshot
{
    QDateTime takenAt; // UTC
    QList<HostState> hosts;
    QList<SwarmNodeState> swarmNodes;
    QList<ServiceState> services;
    QList<TaskState> tasks;
    QList<PostgresNodeState> postgres;
    EtcdState etcd;
    QList<PgpoolInstanceState> pgpools;
    QList<ProxyRoute> routes;
    QList<AppReplicaState> appReplicas;
    QList<CertificateState> certificates;
    QList<Finding> findings;
};

} // namespace Pilothouse
