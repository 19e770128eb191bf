#pragma once
// Lives on the thread that creates it (the GUI thread or the CLI's main
// thread). Every probe it owns is asynchronous; nothing here blocks.

#include "models/clusterevent.h"
#include "models/clustersnapshot.h"
#include "models/inventory.h"
#include "models/result.h"

#include <QElapsedTimer>
#include <QHash>
#include <QObject>
#include <QSet>
#include <QTimer>

namespace Pilothouse {

class DockerClient;
class EtcdClusterProbe;
class PgNodeProbe;
class PgpoolProbe;
class ProxyProbe;
class SshSession;
struct DockerEvent;
struct EtcdReading;

// Asks every layer of one cluster directly, at 1 Hz and on early triggers
// (Docker events, a lost PostgreSQL connection), and publishes one immutable
// ClusterSnapshot per change with the findings computed from it.
//
// Per host: an SSH session that measures latency and forwards the host's
// /var/run/docker.sock. Swarm state comes from the first manager that
// answers. Per PostgreSQL node and per running pgpool task: one monitoring
// connection. Per etcd member: its v3 gateway.
class ClusterMonitor final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ClusterMonitor)

public:
    struct Options
    {
        int intervalMs = 1000;
        // `status` waits this long for every layer's first answer.
        int firstRoundTimeoutMs = 10000;
        // Delays the first tick (the first round's probes start at once): a
        // console with many clusters spreads their polls over the interval
        // instead of receiving every snapshot in the same instant.
        int tickOffsetMs = 0;
        QString monitorPassword; // of the inventory's monitor_user
    };

    ClusterMonitor(Inventory inventory, Options options, QObject *parent = nullptr);
    ~ClusterMonitor() override;

    // The monitoring role's password from the inventory's secrets_dir.
    static Result<QString> readMonitorPassword(const Inventory &inventory);

    void start();
    void stop();
    // The poll interval from now on (a console polls clusters that are not on
    // screen less often). Going faster polls at once. Early triggers (Docker
    // events, a lost PostgreSQL connection) are not affected.
    void setIntervalMs(int intervalMs);
    int intervalMs() const { return m_options.intervalMs; }
    const ClusterSnapshot &snapshot() const { return m_snapshot; }
    const Inventory &inventory() const { return m_inventory; }
    bool firstRoundDone() const { return m_firstRoundDone; }

Q_SIGNALS:
    void snapshotChanged(const Pilothouse::ClusterSnapshot &snapshot);
    // For the timeline: repmgr events (from the primary's copy), Docker
    // lifecycle events per host, findings that appeared or cleared and state
    // changes between snapshots. Keys de-duplicate repeats.
    void eventsOccurred(const QList<Pilothouse::ClusterEvent> &events);
    // Every layer answered (or failed) once, or the first-round timeout passed.
    void firstRoundFinished();
    // A host presented a key known_hosts does not list; nothing was sent to it.
    void hostKeyUnknown(const QString &host, const QString &keyType, const QString &fingerprint);

private:
    struct HostLink;

    void tick();
    bool due(qint64 lastMs, qint64 everyMs) const;
    void connectHost(HostLink &link);
    template<typename Probe> void startProbe(Probe *probe);
    void refreshSwarm();
    void onSwarmRead(QList<SwarmNodeState> nodes, QList<ServiceState> services,
                     QList<TaskState> tasks);
    void onDockerEvent(const DockerEvent &event);
    void syncPgpoolProbes();
    void onEtcdRead(const EtcdReading &reading);
    void refreshProxy();
    void answered(const QString &component);
    void schedulePublish();
    void publish();
    DockerClient *swarmClient() const;

    Inventory m_inventory;
    Options m_options;
    QTimer m_tick;
    QTimer m_publish;
    QTimer m_firstRoundDeadline;
    QElapsedTimer m_started;
    // What the probes said last, updated as each answers; published (with
    // findings) as m_snapshot, so that readers never see a half-updated one.
    ClusterSnapshot m_working;
    ClusterSnapshot m_snapshot;
    ClusterSnapshot m_eventsFrom; // the last snapshot the timeline's changes were counted from

    QList<HostLink *> m_hosts;
    QList<PgNodeProbe *> m_postgres;
    QHash<QString, PgpoolProbe *> m_pgpools; // by task id
    EtcdClusterProbe *m_etcd = nullptr;
    ProxyProbe *m_proxy = nullptr;
    bool m_running = false;          // between start() and stop()
    qint64 m_lastSwarmMs = -1;       // m_started time of the last full Swarm read from tick()
    qint64 m_lastHttpsMs = -1;       // ... of the last request through the proxy
    qint64 m_lastCertificateMs = -1; // ... of the last certificate handshake
    bool m_swarmBusy = false;
    bool m_swarmAgain = false;

    QSet<QString> m_waitingFor; // components that have not answered once yet
    bool m_firstRoundDone = false;
    QList<Finding> m_etcdFindings;
};

} // namespace Pilothouse
