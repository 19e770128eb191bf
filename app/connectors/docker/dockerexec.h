#pragma once
// Lives on the thread of the DockerClient that made it.

#include "app/connectors/docker/dockerstreamdemuxer.h"
#include "app/connectors/docker/dockertypes.h"
#include "models/result.h"

#include <QObject>
#include <QPointer>
#include <QTimer>

#include <optional>

namespace Pilothouse {

class DockerClient;
class DockerReply;

// `docker exec` as three API calls: create the exec instance, start it
// attached (its output comes back multiplexed on the same connection, until
// the command exits), then inspect it for the exit code. One deadline covers
// all three. Made by DockerClient::exec(); emits finished() exactly once,
// never from inside exec(), then deletes itself.
//
// Docker has no call to stop an exec'd process: after a timeout or cancel()
// the command may go on running inside the container.
class DockerExec final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(DockerExec)

public:
    QString containerId() const { return m_containerId; }
    QStringList command() const { return m_command; }
    QString execId() const { return m_execId; } // empty until created
    bool isFinished() const { return m_result.has_value(); }
    // After finished(): the exit code and output, or why there are none. A
    // non-zero exit code is a result, not an error.
    Result<DockerExecResult> result() const;

    void cancel();

Q_SIGNALS:
    void finished();

private:
    friend class DockerClient;
    DockerExec(DockerClient *client, const QString &containerId, const QStringList &command,
               const DockerExecOptions &options);

    void create();
    void start();
    void inspect();
    int remainingMs() const;
    void fail(const QString &why);
    void succeed(int exitCode);
    QString what() const;

    QPointer<DockerClient> m_client;
    QString m_containerId;
    QStringList m_command;
    DockerExecOptions m_options;
    QString m_execId;
    QString m_engine;
    QPointer<DockerReply> m_current;
    QTimer m_deadline;
    QTimer m_retry;
    DockerStreamDemuxer m_demuxer;
    QByteArray m_startError; // body of a non-2xx answer to start
    int m_startStatus = 0;
    std::optional<Result<DockerExecResult>> m_result;
};

} // namespace Pilothouse
