#pragma once
// Lives on the thread of the SshSession that created it (the caller's thread).

#include "models/result.h"

#include <QByteArray>
#include <QObject>
#include <QString>

#include <functional>

namespace Pilothouse {

// One remote command run by SshSession::exec(). Output is streamed as it
// arrives; finished() comes exactly once. The session owns the job (it is
// its child); a caller may delete it at any time, which cancels it.
class SshExecJob final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SshExecJob)

public:
    ~SshExecJob() override;

    QString command() const { return m_command; }
    bool isFinished() const { return m_finished; }
    // The remote exit status; -1 until finished, and when there was none
    // (timeout, cancel, killed by a signal, lost connection).
    int exitCode() const { return m_exitCode; }
    // Empty message unless the command could not run to its end.
    const Error &error() const { return m_error; }
    // Everything received so far.
    QByteArray standardOutput() const { return m_stdout; }
    QByteArray standardError() const { return m_stderr; }

    // Stops the command (TERM, then the channel is closed); finished() follows
    // with an error saying it was cancelled.
    void cancel();

Q_SIGNALS:
    void stdoutData(const QByteArray &data);
    void stderrData(const QByteArray &data);
    void finished(int exitCode, const Pilothouse::Error &error);

private:
    friend class SshSession;
    SshExecJob(const QString &command, std::function<void()> cancel, QObject *parent);
    void appendOutput(const QByteArray &data, bool isStderr);
    void finish(int exitCode, const Error &error);

    QString m_command;
    std::function<void()> m_cancel;
    QByteArray m_stdout;
    QByteArray m_stderr;
    Error m_error;
    int m_exitCode = -1;
    bool m_finished = false;
};

} // namespace Pilothouse
