#pragma once
// Lives on the thread that creates it (typically the GUI thread) and never
// blocks it: its libssh session lives on a worker thread of its own.

#include "app/connectors/ssh/sshoptions.h"
#include "models/result.h"

#include <QHash>
#include <QObject>
#include <QPointer>
#include <QString>

#include <memory>

class QThread;

namespace Pilothouse {

class SshExecJob;
namespace Internal {
class SshWorker;
}

// One SSH connection to one host: key authentication (agent, then the
// configured key files), host keys checked against known_hosts, remote
// commands multiplexed on one connection, and Unix socket forwards (the
// Docker engine's socket). Every operation has a timeout and can be stopped.
//
// Host keys: a known, matching key goes on silently; an unknown one pauses in
// HostKeyDecision and emits hostKeyUnknown() until acceptHostKey() or
// rejectHostKey(); a changed one (or one of another type) always fails.
class SshSession final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SshSession)

public:
    enum class State {
        Disconnected,
        Connecting,      // TCP, key exchange, authentication
        HostKeyDecision, // waiting for acceptHostKey() / rejectHostKey()
        Connected,
    };
    Q_ENUM(State)

    explicit SshSession(const SshOptions &options, QObject *parent = nullptr);
    // Closes everything and waits for the worker thread to end.
    ~SshSession() override;

    const SshOptions &options() const { return m_options; }
    State state() const { return m_state; }
    bool isConnected() const { return m_state == State::Connected; }

    // connected() or failed() follows, within options().connectTimeoutMs
    // (not counting the time spent in HostKeyDecision).
    void connectToHost();
    // Only in HostKeyDecision. persist: append the key to the known_hosts file.
    void acceptHostKey(bool persist);
    void rejectHostKey();
    // Closes every channel and forward, stops the worker thread and removes
    // the local sockets; disconnected() with an empty message follows.
    void disconnectFromHost();

    // Runs a command; it may be called before connected() (it then waits for
    // the connection, within the same timeout). The job is a child of the
    // session. timeoutMs counts from this call.
    SshExecJob *exec(const QString &command, int timeoutMs = 30000);

    // Listens on a private local Unix socket (0700 directory under
    // $XDG_RUNTIME_DIR/pilothouse or /tmp/pilothouse-<uid>) and pipes each
    // connection to remotePath on the host through its own channel.
    // forwardReady() once the remote socket answered, else forwardFailed().
    void forwardUnixSocket(const QString &remotePath, int timeoutMs = 10000);
    void stopForward(const QString &remotePath);
    // The local socket path of a ready forward, else empty.
    QString forwardedPath(const QString &remotePath) const { return m_forwards.value(remotePath); }

    // Times one round trip (opening a channel): latencyMeasured() or latencyFailed().
    void measureLatency(int timeoutMs = 5000);
    // The last measured round trip in ms; -1 until one was measured.
    double latencyMs() const { return m_latencyMs; }

Q_SIGNALS:
    void stateChanged(Pilothouse::SshSession::State state);
    void connected();
    void failed(const Pilothouse::Error &error);
    // host as in options(); fingerprint like OpenSSH prints it ("SHA256:...").
    void hostKeyUnknown(const QString &host, const QString &keyType, const QString &fingerprint);
    // After connected(): the connection ended. Empty message: on request.
    void disconnected(const Pilothouse::Error &reason);
    void forwardReady(const QString &remotePath, const QString &localPath);
    void forwardFailed(const QString &remotePath, const Pilothouse::Error &error);
    void latencyMeasured(double milliseconds);
    void latencyFailed(const Pilothouse::Error &error);

private:
    void setState(State state);
    void startWorker();
    void onThreadFinished();
    void cancelExec(quint64 id);

    SshOptions m_options;
    std::unique_ptr<QThread> m_thread;
    Internal::SshWorker *m_worker = nullptr; // lives on m_thread; deleted after it ended
    QHash<quint64, QPointer<SshExecJob>> m_jobs;
    QHash<QString, QString> m_forwards; // remote path -> local path
    quint64 m_nextJobId = 1;
    double m_latencyMs = -1;
    State m_state = State::Disconnected;
    bool m_stopping = false;         // shutdown queued, thread not yet ended
    bool m_connectAfterStop = false; // connectToHost() while stopping
    bool m_wasConnected = false;
};

} // namespace Pilothouse
