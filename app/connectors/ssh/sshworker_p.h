#pragma once
// Lives on one SshSession's worker thread; only that SshSession talks to it,
// through queued calls and its signals.

#include "app/connectors/ssh/sshoptions.h"

#include <QByteArray>
#include <QDeadlineTimer>
#include <QElapsedTimer>
#include <QObject>
#include <QString>

#include <libssh/callbacks.h>
#include <libssh/libssh.h>
#include <list>
#include <map>
#include <memory>

class QSocketNotifier;
class QTimer;

namespace Pilothouse::Internal {

class SshLocalServer;

// Drives one non-blocking libssh session from its thread's event loop: a
// QSocketNotifier on the session's socket and one timer for the nearest
// deadline call pump(), which advances every operation as far as it can
// without waiting. libssh callbacks only record what happened; channels are
// freed in pump(), never inside a callback.
class SshWorker final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SshWorker)

public:
    explicit SshWorker(QObject *parent = nullptr);
    ~SshWorker() override;

    void start(const SshOptions &options);
    void decideHostKey(bool accept, bool persist);
    void startExec(quint64 id, const QByteArray &command, int timeoutMs);
    void cancelExec(quint64 id);
    void startForward(const QString &remotePath, int timeoutMs);
    void stopForward(const QString &remotePath);
    void measureLatency(int timeoutMs);
    // Ends every operation, closes the session and the local sockets, then
    // ends the thread's event loop.
    void shutdown();

Q_SIGNALS:
    void connected();
    void failed(const QString &message);
    void hostKeyUnknown(const QString &host, const QString &keyType, const QString &fingerprint);
    void connectionLost(const QString &message);
    void execOutput(quint64 id, const QByteArray &data, bool isStderr);
    void execFinished(quint64 id, int exitCode, const QString &error);
    void forwardReady(const QString &remotePath, const QString &localPath);
    void forwardFailed(const QString &remotePath, const QString &error);
    void latencyMeasured(double milliseconds);
    void latencyFailed(const QString &error);

private:
    enum class Stage { Idle, Connecting, HostKeyDecision, Authenticating, Ready };

    struct Exec
    {
        enum class Step { Waiting, Opening, Requesting, Running };
        SshWorker *worker = nullptr;
        quint64 id = 0;
        QByteArray command; // as the caller gave it, for messages
        QByteArray wire;    // what the remote shell runs
        int timeoutMs = 0;
        QDeadlineTimer deadline;
        Step step = Step::Waiting;
        ssh_channel channel = nullptr;
        ssh_channel_callbacks_struct callbacks{};
        int exitStatus = -1;
        QString exitSignal;
        bool remoteClosed = false;
        bool cancelled = false;
    };

    struct Forward
    {
        QString remotePath;
        QDeadlineTimer deadline; // for the check of the remote socket
        ssh_channel probe = nullptr;
        std::unique_ptr<SshLocalServer> server;
        QString directory;
        QString localPath;
        bool ready = false;
    };

    // One accepted local connection and its channel to the remote socket.
    struct Pipe
    {
        SshWorker *worker = nullptr;
        QString remotePath;
        int fd = -1;
        std::unique_ptr<QSocketNotifier> readNotifier;
        std::unique_ptr<QSocketNotifier> writeNotifier;
        QDeadlineTimer openDeadline;
        ssh_channel channel = nullptr;
        ssh_channel_callbacks_struct callbacks{};
        bool open = false;
        QByteArray toRemote;
        QByteArray toLocal;
        bool localEof = false;  // the local client will send no more
        bool eofSent = false;   // ...and the remote side was told
        bool remoteEof = false; // the remote socket will send no more
        bool localShut = false; // ...and the local client was told
        bool remoteClosed = false;
        bool broken = false;
    };

    struct Probe
    {
        QDeadlineTimer deadline;
        QElapsedTimer timer;
        ssh_channel channel = nullptr;
    };

    static int onExecData(ssh_session, ssh_channel, void *data, uint32_t len, int isStderr,
                          void *userdata);
    static void onExecClose(ssh_session, ssh_channel, void *userdata);
    static void onExecExitStatus(ssh_session, ssh_channel, int status, void *userdata);
    static void onExecExitSignal(ssh_session, ssh_channel, const char *signal, int core,
                                 const char *errmsg, const char *lang, void *userdata);
    static int onPipeData(ssh_session, ssh_channel, void *data, uint32_t len, int isStderr,
                          void *userdata);
    static void onPipeEof(ssh_session, ssh_channel, void *userdata);
    static void onPipeClose(ssh_session, ssh_channel, void *userdata);
    static int onPipeWritable(ssh_session, ssh_channel, uint32_t bytes, void *userdata);

    void pump();
    void stepConnect();
    void checkHostKey();
    void startAuth();
    void stepAuth();
    void becomeReady();
    void stepReady();
    bool stepExec(Exec &exec); // true: finished, remove it
    bool stepForward(Forward &forward);
    bool stepPipe(Pipe &pipe);
    bool stepProbe(Probe &probe);
    void finishExec(Exec &exec, int exitCode, const QString &error);
    void closePipe(Pipe &pipe);
    void closeForward(Forward &forward);
    void acceptLocal(const QString &remotePath, int fd);
    void readLocal(Pipe &pipe);
    // Ends the session: before Ready it failed(), after it connectionLost().
    void abort(const QString &message);
    void releaseSession();
    void updateWatchers();

    QString where() const { return m_options.describe(); }
    QString sshError() const;
    QString knownHostsPath() const;
    QString authFailureMessage() const;

    SshOptions m_options;    // with port and user filled in from the configuration
    QString m_effectiveHost; // after the configuration's HostName
    Stage m_stage = Stage::Idle;
    QString
        m_lastFailure; // why the last connection attempt failed, for commands that come after it
    ssh_session m_session = nullptr;
    ssh_event m_event = nullptr;
    std::unique_ptr<QSocketNotifier> m_readNotifier;
    std::unique_ptr<QSocketNotifier> m_writeNotifier;
    std::unique_ptr<QTimer> m_deadlineTimer;
    QDeadlineTimer m_connectDeadline;

    int m_authStep = 0; // 0: agent and default keys; n: identityFiles[n - 1]
    ssh_key m_authKey = nullptr;
    QStringList m_authTried;
    QStringList m_authProblems;

    std::map<quint64, std::unique_ptr<Exec>> m_execs;
    std::map<QString, std::unique_ptr<Forward>> m_forwards;
    std::list<std::unique_ptr<Pipe>> m_pipes;
    std::list<std::unique_ptr<Probe>> m_probes;

    bool m_pumping = false;
    bool m_pumpAgain = false;
};

} // namespace Pilothouse::Internal
