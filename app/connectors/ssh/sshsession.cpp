#include "app/connectors/ssh/sshsession.h"

#include "app/connectors/ssh/sshexecjob.h"
#include "app/connectors/ssh/sshworker_p.h"

#include <QThread>

namespace Pilothouse {

using Internal::SshWorker;

SshSession::SshSession(const SshOptions &options, QObject *parent)
    : QObject(parent)
    , m_options(options)
    , m_thread(std::make_unique<QThread>())
    , m_worker(new SshWorker)
{
    m_thread->setObjectName(QStringLiteral("ssh ") + options.host);
    m_worker->moveToThread(m_thread.get());

    // All of these cross threads, so they are queued: the worker never calls us directly.
    connect(m_thread.get(), &QThread::finished, this, &SshSession::onThreadFinished);
    connect(m_worker, &SshWorker::connected, this, [this] {
        m_wasConnected = true;
        setState(State::Connected);
        Q_EMIT connected();
    });
    connect(m_worker, &SshWorker::failed, this, [this](const QString &message) {
        setState(State::Disconnected);
        Q_EMIT failed(Error{message, {}, 0, 0});
    });
    connect(m_worker, &SshWorker::hostKeyUnknown, this,
            [this](const QString &host, const QString &type, const QString &fingerprint) {
                setState(State::HostKeyDecision);
                Q_EMIT hostKeyUnknown(host, type, fingerprint);
            });
    connect(m_worker, &SshWorker::connectionLost, this, [this](const QString &message) {
        m_forwards.clear();
        m_wasConnected = false;
        setState(State::Disconnected);
        Q_EMIT disconnected(Error{message, {}, 0, 0});
    });
    connect(m_worker, &SshWorker::execOutput, this,
            [this](quint64 id, const QByteArray &data, bool isStderr) {
                if (SshExecJob *job = m_jobs.value(id))
                    job->appendOutput(data, isStderr);
            });
    connect(m_worker, &SshWorker::execFinished, this,
            [this](quint64 id, int exitCode, const QString &error) {
                if (SshExecJob *job = m_jobs.take(id))
                    job->finish(exitCode, Error{error, {}, 0, 0});
            });
    connect(m_worker, &SshWorker::forwardReady, this,
            [this](const QString &remotePath, const QString &localPath) {
                m_forwards.insert(remotePath, localPath);
                Q_EMIT forwardReady(remotePath, localPath);
            });
    connect(m_worker, &SshWorker::forwardFailed, this,
            [this](const QString &remotePath, const QString &error) {
                m_forwards.remove(remotePath);
                Q_EMIT forwardFailed(remotePath, Error{error, {}, 0, 0});
            });
    connect(m_worker, &SshWorker::latencyMeasured, this, [this](double ms) {
        m_latencyMs = ms;
        Q_EMIT latencyMeasured(ms);
    });
    connect(m_worker, &SshWorker::latencyFailed, this, [this](const QString &error) {
        Q_EMIT latencyFailed(Error{error, {}, 0, 0});
    });
}

SshSession::~SshSession()
{
    // Jobs are our children: stop them from calling back into a dying session.
    for (const QPointer<SshExecJob> &job : std::as_const(m_jobs)) {
        if (job)
            job->m_cancel = nullptr;
    }
    if (m_thread->isRunning()) {
        SshWorker *worker = m_worker;
        QMetaObject::invokeMethod(
            worker, [worker] { worker->shutdown(); }, Qt::QueuedConnection);
        // Destruction only: shutdown() does no network waits, so this is short.
        m_thread->wait();
    }
    delete m_worker;
}

void SshSession::setState(State state)
{
    if (m_state == state)
        return;
    m_state = state;
    Q_EMIT stateChanged(state);
}

void SshSession::startWorker()
{
    if (!m_thread->isRunning())
        m_thread->start();
    SshWorker *worker = m_worker;
    const SshOptions options = m_options;
    QMetaObject::invokeMethod(
        worker, [worker, options] { worker->start(options); }, Qt::QueuedConnection);
}

void SshSession::connectToHost()
{
    if (m_state != State::Disconnected)
        return;
    setState(State::Connecting);
    if (m_stopping) {
        m_connectAfterStop = true;
        return;
    }
    startWorker();
}

void SshSession::acceptHostKey(bool persist)
{
    if (m_state != State::HostKeyDecision)
        return;
    setState(State::Connecting);
    SshWorker *worker = m_worker;
    QMetaObject::invokeMethod(
        worker, [worker, persist] { worker->decideHostKey(true, persist); }, Qt::QueuedConnection);
}

void SshSession::rejectHostKey()
{
    if (m_state != State::HostKeyDecision)
        return;
    SshWorker *worker = m_worker;
    QMetaObject::invokeMethod(
        worker, [worker] { worker->decideHostKey(false, false); }, Qt::QueuedConnection);
}

void SshSession::disconnectFromHost()
{
    m_connectAfterStop = false;
    if (!m_thread->isRunning() || m_stopping) {
        setState(State::Disconnected);
        return;
    }
    m_stopping = true;
    // Nothing may be started on the old connection from now on.
    setState(State::Disconnected);
    SshWorker *worker = m_worker;
    // shutdown() ends the thread's event loop itself, after its own work.
    QMetaObject::invokeMethod(
        worker, [worker] { worker->shutdown(); }, Qt::QueuedConnection);
}

void SshSession::onThreadFinished()
{
    m_stopping = false;
    m_forwards.clear();
    const bool wasConnected = m_wasConnected;
    m_wasConnected = false;
    if (m_connectAfterStop) {
        m_connectAfterStop = false;
        startWorker();
        return;
    }
    setState(State::Disconnected);
    if (wasConnected)
        Q_EMIT disconnected(Error{});
}

SshExecJob *SshSession::exec(const QString &command, int timeoutMs)
{
    const quint64 id = m_nextJobId++;
    auto *job = new SshExecJob(
        command, [this, id] { cancelExec(id); }, this);
    m_jobs.insert(id, job);
    if (!m_thread->isRunning() || m_stopping) {
        m_jobs.remove(id);
        // Reported from the event loop, like every other outcome.
        QMetaObject::invokeMethod(
            job,
            [job, where = m_options.describe()] {
                job->finish(
                    -1,
                    Error{
                        QStringLiteral("not connected to %1 (call connectToHost first)").arg(where),
                        {},
                        0,
                        0});
            },
            Qt::QueuedConnection);
        return job;
    }
    SshWorker *worker = m_worker;
    const QByteArray utf8 = command.toUtf8();
    QMetaObject::invokeMethod(
        worker, [worker, id, utf8, timeoutMs] { worker->startExec(id, utf8, timeoutMs); },
        Qt::QueuedConnection);
    return job;
}

void SshSession::cancelExec(quint64 id)
{
    if (!m_thread->isRunning())
        return;
    SshWorker *worker = m_worker;
    QMetaObject::invokeMethod(
        worker, [worker, id] { worker->cancelExec(id); }, Qt::QueuedConnection);
}

void SshSession::forwardUnixSocket(const QString &remotePath, int timeoutMs)
{
    if (!m_thread->isRunning() || m_stopping) {
        QMetaObject::invokeMethod(
            this,
            [this, remotePath] {
                Q_EMIT forwardFailed(remotePath, Error{QStringLiteral("not connected to %1 (call "
                                                                      "connectToHost first)")
                                                           .arg(m_options.describe()),
                                                       {},
                                                       0,
                                                       0});
            },
            Qt::QueuedConnection);
        return;
    }
    SshWorker *worker = m_worker;
    QMetaObject::invokeMethod(
        worker, [worker, remotePath, timeoutMs] { worker->startForward(remotePath, timeoutMs); },
        Qt::QueuedConnection);
}

void SshSession::stopForward(const QString &remotePath)
{
    m_forwards.remove(remotePath);
    if (!m_thread->isRunning())
        return;
    SshWorker *worker = m_worker;
    QMetaObject::invokeMethod(
        worker, [worker, remotePath] { worker->stopForward(remotePath); }, Qt::QueuedConnection);
}

void SshSession::measureLatency(int timeoutMs)
{
    if (!m_thread->isRunning() || m_stopping) {
        QMetaObject::invokeMethod(
            this,
            [this] {
                Q_EMIT latencyFailed(Error{
                    QStringLiteral("not connected to %1").arg(m_options.describe()), {}, 0, 0});
            },
            Qt::QueuedConnection);
        return;
    }
    SshWorker *worker = m_worker;
    QMetaObject::invokeMethod(
        worker, [worker, timeoutMs] { worker->measureLatency(timeoutMs); }, Qt::QueuedConnection);
}

} // namespace Pilothouse
