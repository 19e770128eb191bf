#include "app/connectors/ssh/sshexecjob.h"

namespace Pilothouse {

SshExecJob::SshExecJob(const QString &command, std::function<void()> cancel, QObject *parent)
    : QObject(parent)
    , m_command(command)
    , m_cancel(std::move(cancel))
{}

SshExecJob::~SshExecJob()
{
    // A job dropped by its caller must not keep a remote command running.
    if (!m_finished && m_cancel)
        m_cancel();
}

void SshExecJob::cancel()
{
    if (!m_finished && m_cancel)
        m_cancel();
}

void SshExecJob::appendOutput(const QByteArray &data, bool isStderr)
{
    if (m_finished)
        return;
    if (isStderr) {
        m_stderr += data;
        Q_EMIT stderrData(data);
    } else {
        m_stdout += data;
        Q_EMIT stdoutData(data);
    }
}

void SshExecJob::finish(int exitCode, const Error &error)
{
    if (m_finished)
        return;
    m_finished = true;
    m_exitCode = exitCode;
    m_error = error;
    Q_EMIT finished(exitCode, error);
}

} // namespace Pilothouse
