#include "app/connectors/docker/dockerexec.h"

#include "app/connectors/docker/dockerclient.h"
#include "app/connectors/docker/dockererror_p.h"
#include "app/connectors/docker/dockerreply.h"

#include <QJsonArray>
#include <QJsonObject>

namespace Pilothouse {
namespace {
// The stream ends when the command exits, but the engine records the exit
// code a moment later; ask again this often until it is there.
constexpr int InspectRetryMs = 50;
} // namespace

DockerExec::DockerExec(DockerClient *client, const QString &containerId, const QStringList &command,
                       const DockerExecOptions &options)
    : QObject(client)
    , m_client(client)
    , m_containerId(containerId)
    , m_command(command)
    , m_options(options)
    , m_engine(client->displayName())
{
    m_deadline.setSingleShot(true);
    connect(&m_deadline, &QTimer::timeout, this, [this] {
        fail(QStringLiteral("did not finish within %1 s (timed out; the command may still be "
                            "running in the container)")
                 .arg(m_options.timeoutMs / 1000.0, 0, 'f', 1));
    });
    m_retry.setSingleShot(true);
    connect(&m_retry, &QTimer::timeout, this, &DockerExec::inspect);
    if (m_options.timeoutMs > 0)
        m_deadline.start(m_options.timeoutMs);
    // Start from the event loop so that finished() never comes from inside exec().
    QMetaObject::invokeMethod(this, &DockerExec::create, Qt::QueuedConnection);
}

Result<DockerExecResult> DockerExec::result() const
{
    if (!m_result)
        return Internal::dockerError(what() + QStringLiteral(": not finished yet"));
    return *m_result;
}

void DockerExec::cancel()
{
    fail(QStringLiteral("cancelled (the command may still be running in the container)"));
}

QString DockerExec::what() const
{
    return QStringLiteral("exec `%1` in container %2 on %3")
        .arg(m_command.join(u' '), m_containerId.left(12), m_engine);
}

int DockerExec::remainingMs() const
{
    if (m_options.timeoutMs <= 0)
        return 0; // no limit
    return qMax(1, m_deadline.remainingTime());
}

void DockerExec::create()
{
    if (m_result)
        return;
    if (!m_client) {
        fail(QStringLiteral("the Docker client is gone"));
        return;
    }
    QJsonObject body{
        {QStringLiteral("AttachStdin"), false},
        {QStringLiteral("AttachStdout"), true},
        {QStringLiteral("AttachStderr"), true},
        {QStringLiteral("Tty"), false},
        {QStringLiteral("Cmd"), QJsonArray::fromStringList(m_command)},
    };
    if (!m_options.user.isEmpty())
        body.insert(QStringLiteral("User"), m_options.user);
    if (!m_options.workingDir.isEmpty())
        body.insert(QStringLiteral("WorkingDir"), m_options.workingDir);
    if (!m_options.env.isEmpty())
        body.insert(QStringLiteral("Env"), QJsonArray::fromStringList(m_options.env));
    DockerClient::RequestOptions o;
    o.timeoutMs = remainingMs();
    DockerReply *r = m_client->post(u"/containers/" + m_containerId + u"/exec", body, {}, o);
    m_current = r;
    connect(r, &DockerReply::finished, this, [this, r] {
        m_current = nullptr;
        if (m_result)
            return;
        const auto doc = r->json();
        if (!doc) {
            fail(doc.error().message);
            return;
        }
        m_execId = doc.value().object().value(QStringLiteral("Id")).toString();
        if (m_execId.isEmpty()) {
            fail(QStringLiteral("the engine created no exec instance (no Id in its answer)"));
            return;
        }
        start();
    });
}

void DockerExec::start()
{
    DockerClient::RequestOptions o;
    o.timeoutMs = remainingMs();
    o.streaming = true;
    DockerReply *r = m_client->post(
        u"/exec/" + m_execId + u"/start",
        QJsonObject{{QStringLiteral("Detach"), false}, {QStringLiteral("Tty"), false}}, {}, o);
    m_current = r;
    connect(r, &DockerReply::headersReceived, this, [this](int status) { m_startStatus = status; });
    connect(r, &DockerReply::readyRead, this, [this, r] {
        const QByteArray bytes = r->readAll();
        if (m_startStatus >= 200 && m_startStatus <= 299)
            m_demuxer.feed(bytes);
        else
            m_startError += bytes;
    });
    connect(r, &DockerReply::finished, this, [this, r] {
        m_current = nullptr;
        if (m_result)
            return;
        const auto response = r->result();
        if (!response) {
            fail(response.error().message);
            return;
        }
        const int status = response.value().status;
        if (status < 200 || status > 299) {
            fail(QStringLiteral("starting it failed with HTTP %1: %2")
                     .arg(status)
                     .arg(QString::fromUtf8(m_startError.left(300)).trimmed()));
            return;
        }
        if (!m_demuxer.error().isEmpty()) {
            fail(m_demuxer.error());
            return;
        }
        inspect();
    });
}

void DockerExec::inspect()
{
    if (m_result)
        return;
    if (!m_client) {
        fail(QStringLiteral("the Docker client is gone"));
        return;
    }
    DockerClient::RequestOptions o;
    o.timeoutMs = remainingMs();
    DockerReply *r = m_client->get(u"/exec/" + m_execId + u"/json", {}, o);
    m_current = r;
    connect(r, &DockerReply::finished, this, [this, r] {
        m_current = nullptr;
        if (m_result)
            return;
        const auto doc = r->json();
        if (!doc) {
            fail(doc.error().message);
            return;
        }
        const QJsonObject o = doc.value().object();
        const QJsonValue code = o.value(QStringLiteral("ExitCode"));
        if (o.value(QStringLiteral("Running")).toBool() || !code.isDouble()) {
            m_retry.start(InspectRetryMs);
            return;
        }
        succeed(code.toInt());
    });
}

void DockerExec::fail(const QString &why)
{
    if (m_result)
        return;
    m_result = Internal::dockerError(what() + u": " + why);
    m_deadline.stop();
    m_retry.stop();
    if (m_current)
        m_current->abort();
    QMetaObject::invokeMethod(
        this,
        [this] {
            Q_EMIT finished();
            deleteLater();
        },
        Qt::QueuedConnection);
}

void DockerExec::succeed(int exitCode)
{
    if (m_result)
        return;
    m_result = DockerExecResult{exitCode, m_demuxer.stdOut(), m_demuxer.stdErr()};
    m_deadline.stop();
    QMetaObject::invokeMethod(
        this,
        [this] {
            Q_EMIT finished();
            deleteLater();
        },
        Qt::QueuedConnection);
}

} // namespace Pilothouse
