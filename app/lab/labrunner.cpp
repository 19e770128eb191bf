#include "app/lab/labrunner.h"

#include "app/lab/labprogress.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>

namespace Pilothouse {
namespace {
constexpr int UpTimeoutMs = 10 * 60 * 1000; // a first `up` builds images: minutes
constexpr int StatusTimeoutMs = 60 * 1000;
} // namespace

LabRunner::LabRunner(QObject *parent)
    : QObject(parent)
{
    m_deadline.setSingleShot(true);
    connect(&m_deadline, &QTimer::timeout, this, [this] {
        m_timedOut = true;
        if (m_process)
            m_process->kill();
    });
}

LabRunner::~LabRunner()
{
    if (m_process) {
        m_process->disconnect(this);
        m_process->kill();
        m_process->waitForFinished(2000); // destructor only: the app is quitting
    }
}

QString LabRunner::scriptPath()
{
    const QString fromEnv = qEnvironmentVariable("PILOTHOUSE_LAB_SCRIPT");
    if (!fromEnv.isEmpty())
        return QFileInfo(fromEnv).isExecutable() ? fromEnv : QString();
    const QStringList candidates{
        QStringLiteral(PILOTHOUSE_SOURCE_DIR "/deploy-stacks/lab/lab"),
        QCoreApplication::applicationDirPath() +
            QStringLiteral("/../share/pilothouse/deploy-stacks/lab/lab"),
    };
    for (const QString &c : candidates) {
        if (QFileInfo(c).isExecutable())
            return QDir::cleanPath(c);
    }
    return {};
}

bool LabRunner::isRunning() const
{
    return m_process != nullptr;
}

void LabRunner::up()
{
    start({QStringLiteral("up")}, m_timeoutMs > 0 ? m_timeoutMs : UpTimeoutMs);
}

void LabRunner::status()
{
    start({QStringLiteral("status")}, m_timeoutMs > 0 ? m_timeoutMs : StatusTimeoutMs);
}

void LabRunner::cancel()
{
    if (m_process)
        m_process->terminate();
}

void LabRunner::start(const QStringList &args, int timeoutMs)
{
    if (m_process) {
        Q_EMIT finished(false, {}, tr("the lab is already busy with `%1`").arg(m_command));
        return;
    }
    const QString script = scriptPath();
    m_command = QStringLiteral("lab ") + args.join(u' ');
    if (script.isEmpty()) {
        // Deliver asynchronously like every other outcome.
        QMetaObject::invokeMethod(
            this,
            [this] {
                Q_EMIT finished(false, {},
                                tr("the lab script was not found (set PILOTHOUSE_LAB_SCRIPT)"));
            },
            Qt::QueuedConnection);
        return;
    }
    m_inventory.clear();
    m_lastError.clear();
    m_buffer[0].clear();
    m_buffer[1].clear();
    m_timedOut = false;
    m_process = new QProcess(this);
    connect(m_process, &QProcess::readyReadStandardOutput, this,
            [this] { readLines(QProcess::StandardOutput); });
    connect(m_process, &QProcess::readyReadStandardError, this,
            [this] { readLines(QProcess::StandardError); });
    connect(m_process, &QProcess::finished, this, &LabRunner::onFinished);
    connect(m_process, &QProcess::errorOccurred, this, [this](QProcess::ProcessError e) {
        if (e == QProcess::FailedToStart)
            onFinished(-1, QProcess::CrashExit);
    });
    m_deadline.start(timeoutMs);
    m_process->start(script, args);
}

void LabRunner::readLines(QProcess::ProcessChannel channel)
{
    m_process->setReadChannel(channel);
    QByteArray &buffer = m_buffer[channel == QProcess::StandardOutput ? 0 : 1];
    buffer += m_process->readAll();
    qsizetype nl;
    while ((nl = buffer.indexOf('\n')) >= 0) {
        const QString line = QString::fromUtf8(buffer.left(nl));
        buffer.remove(0, nl + 1);
        Q_EMIT outputLine(line);
        const auto parsed = LabProgress::parse(line);
        if (!parsed)
            continue;
        using Kind = LabProgress::Line::Kind;
        switch (parsed->kind) {
        case Kind::StepStarted:
            Q_EMIT stepStarted(parsed->step, parsed->total, parsed->text);
            break;
        case Kind::StepFinished:
            Q_EMIT stepFinished(parsed->step, parsed->total, parsed->text, parsed->seconds);
            break;
        case Kind::Inventory:
            m_inventory = parsed->text;
            break;
        case Kind::Error:
            m_lastError = parsed->text;
            break;
        }
    }
}

void LabRunner::onFinished(int exitCode, QProcess::ExitStatus status)
{
    if (!m_process)
        return;
    m_deadline.stop();
    QString error;
    if (m_process->error() == QProcess::FailedToStart)
        error = tr("could not start `%1`: %2").arg(m_command, m_process->errorString());
    else if (m_timedOut)
        error = tr("`%1` did not finish in %2 s and was stopped")
                    .arg(m_command)
                    .arg(m_deadline.interval() / 1000);
    else if (status == QProcess::CrashExit)
        error = tr("`%1` was stopped").arg(m_command);
    else if (exitCode != 0)
        error = m_lastError.isEmpty()
                    ? tr("`%1` failed with exit code %2").arg(m_command).arg(exitCode)
                    : m_lastError;
    m_process->deleteLater();
    m_process = nullptr;
    Q_EMIT finished(error.isEmpty(), m_inventory, error);
}

} // namespace Pilothouse
