#pragma once
// Lives on the thread that creates it (the GUI thread or the CLI's main
// thread) and never blocks it; its result is a value.

#include "app/operations/runbook.h"
#include "models/inventory.h"

#include <QByteArray>
#include <QHash>
#include <QJsonObject>
#include <QList>
#include <QObject>
#include <QString>
#include <QStringList>

#include <memory>

class QLockFile;

namespace Pilothouse {

class AuditTrail;
class OperationContext;

struct ProvisionOptions
{
    QString reason;      // required
    bool dryRun = false; // plan only: every host is looked at, nothing changes
    int connectTimeoutMs = 15000;
    int scriptTimeoutMs = 300000;     // one host script (an apt-get install may run in it)
    int swarmTimeoutMs = 120000;      // init, joins and every manager Ready
    int imageLoadTimeoutMs = 1200000; // POST /images/load of the archive, per host
    QString stateFile;                // empty: defaultStateFile(inventory)
};

// What one host was found as and what was done to it.
struct ProvisionHostReport
{
    QString host;
    int sshPortBefore = 0; // where sshd answered at the start; 0: not reached
    int sshPortAfter = 0;
    QStringList ok;      // "user: user pilothouse has passwordless sudo ..."
    QStringList changed; // "docker: started dockerd"
    QStringList would;   // dry run
    QString error;       // why this host's steps stopped
};

struct ProvisionResult
{
    bool ok = false;
    bool refused = false; // stopped before anything changed
    bool dryRun = false;
    QString error;
    QStringList refusals;
    QList<ProvisionHostReport> hosts;
    QStringList clusterChanged; // swarm, networks: "initialised the swarm on swarm-01"
    QStringList clusterWould;
    QStringList clusterOk;
    QString previousRun; // how the last run of this inventory ended, when it did not succeed
    QString stateFile;
    double durationSeconds = 0;
    RunbookReport runbook;

    // True when the run succeeded and found everything already as wanted.
    bool nothingChanged() const;
    int changeCount() const;
};

// Takes the inventory's hosts from bare Debian 12 machines with sshd to a
// Swarm ready for the stack, as a Runbook with an audit trail (a local file:
// there is no etcd yet) and a local lock:
//   preflight (the inventory's provision section, the console's key, the
//   image archive) → per host, all hosts at once: reach it over SSH (on the
//   inventory's port, else provision.initial_ssh_port), check the system,
//   the operator user with passwordless sudo, Docker (package, daemon.json,
//   dockerd), sshd moved to the inventory's port (the new port proven by a
//   new connection before the old one closes), the nftables firewall →
//   the Swarm (init on the first host, the others joined as managers,
//   every manager Ready, node labels) → overlay networks → images loaded
//   where missing (POST /images/load).
// Every step looks before it changes: a second run changes nothing and says
// so. A host that cannot be reached or fails stops only its own steps; the
// others go on, and the Swarm waits for every host. The state of each run
// is kept in a file, and the next run resumes where it stopped (the steps
// already done are checked again and found unchanged).
class Provisioning final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Provisioning)

public:
    Provisioning(Inventory inventory, ProvisionOptions options, QObject *parent = nullptr);
    ~Provisioning() override;

    // What the run does, step by step, for a preflight.
    QString preflightText() const;
    void start();
    void cancel(const QString &why = QStringLiteral("cancelled by the operator"));
    bool isRunning() const { return m_running; }
    const ProvisionResult &result() const { return m_result; }

    static QString defaultStateFile(const Inventory &inventory);

Q_SIGNALS:
    void stepStarted(const QString &path, const QString &name);
    void stepCompleted(const QString &path, bool ok, double seconds, const QString &message);
    void progress(int done, int total);
    void finished(const Pilothouse::ProvisionResult &result);

private:
    using Done = RunbookStep::OkDone;
    struct HostState;

    RunbookNode buildTree();
    RunbookNode hostTree(const QString &host);
    void runbookFinished(const RunbookReport &report);
    void writeState(const RunbookReport &report);
    void readPreviousState();

    void checkLocal(Done done);
    void openAudit(Done done);
    void reach(const QString &host, Done done);
    void tryPort(const QString &host, int port, std::function<void(bool, QString)> then);
    void runScript(const QString &host, const QString &what, const QString &script, Done done);
    void moveSshd(const QString &host, Done done);
    void swarmInfo(std::function<void(bool, QString)> then);
    void swarmInit(Done done);
    void swarmJoin(Done done);
    void joinNext(int index, const QString &token, Done done);
    void waitManagers(int attempt, Done done);
    void labelNodes(Done done);
    void labelNext(int index, Done done);
    void createNetworks(Done done);
    void networkNext(int index, Done done);
    void loadImages(const QString &host, Done done);
    void probeTags(const QString &host, int index, std::shared_ptr<QStringList> missing,
                   std::function<void()> then);

    HostState &state(const QString &host);
    bool engineMissing() const;
    // Nothing to ask the Swarm yet: an engine does not run, or (dry run) no swarm exists.
    bool swarmNotYet() const;
    QString hostAddress(const QString &host) const;
    QString sshUser(const QString &host) const;
    void note(const QString &host, const QString &step, const QByteArray &standardOutput);
    void noteCluster(const QString &kind, const QString &text);

    Inventory m_inventory;
    ProvisionOptions m_options;
    ProvisionResult m_result;
    bool m_running = false;
    qint64 m_startedMs = 0;
    OperationContext *m_context = nullptr;
    AuditTrail *m_audit = nullptr;
    bool m_auditOpened = false;
    bool m_changed = false;
    std::unique_ptr<QLockFile> m_lockFile;
    Runbook *m_runbook = nullptr;
    QHash<QString, HostState *> m_hosts;
    QString m_publicKey;
    QStringList m_imageTags;
    QByteArray m_archive; // read once, when a host needs it
    QString m_clusterId;
    QHash<QString, QString> m_nodeIds;      // host -> Swarm node ID
    QHash<QString, QString> m_swarmState;   // host -> LocalNodeState
    QHash<QString, QString> m_swarmCluster; // host -> the swarm it is in
};

// The report as `pilothouse provision --json` prints it.
QJsonObject provisionReportJson(const ProvisionResult &result);

} // namespace Pilothouse

Q_DECLARE_METATYPE(Pilothouse::ProvisionResult)
