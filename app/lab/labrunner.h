#pragma once
// Lives on the thread that creates it (the GUI thread); never blocks it.

#include <QObject>
#include <QProcess>
#include <QStringList>
#include <QTimer>

namespace Pilothouse {

// Runs deploy-stacks/lab/lab asynchronously and reports its progress.
class LabRunner final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(LabRunner)

public:
    explicit LabRunner(QObject *parent = nullptr);
    ~LabRunner() override;

    // The lab script: $PILOTHOUSE_LAB_SCRIPT, else the source tree's, else the
    // installed one. Empty when none exists.
    static QString scriptPath();

    bool isRunning() const;
    // `lab up`: brings the lab up (idempotent), reporting each step.
    void up();
    // `lab status`: quick; tells whether a healthy lab exists and where its inventory is.
    void status();
    // Stops the running command; the lab script itself leaves no half state
    // that its next run cannot repair.
    void cancel();

    void setTimeout(int msec) { m_timeoutMs = msec; }

Q_SIGNALS:
    void stepStarted(int step, int total, const QString &name);
    void stepFinished(int step, int total, const QString &name, double seconds);
    void outputLine(const QString &line);
    // ok: exit code 0. inventory: the path the lab printed (may be empty).
    // error: what went wrong, for a person.
    void finished(bool ok, const QString &inventory, const QString &error);

private:
    void start(const QStringList &args, int timeoutMs);
    void readLines(QProcess::ProcessChannel channel);
    void onFinished(int exitCode, QProcess::ExitStatus status);

    QProcess *m_process = nullptr;
    QTimer m_deadline;
    QByteArray m_buffer[2];
    QString m_inventory;
    QString m_lastError;
    QString m_command;
    int m_timeoutMs = 0;
    bool m_timedOut = false;
};

} // namespace Pilothouse
