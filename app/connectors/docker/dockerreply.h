#pragma once
// Lives on the thread of the DockerClient that made it.

#include "app/connectors/docker/dockertypes.h"
#include "models/result.h"

#include <QJsonDocument>
#include <QObject>
#include <QPointer>

#include <optional>

namespace Pilothouse {

class DockerClient;
namespace Internal {
class DockerClientPrivate;
}

// One request to a Docker engine. Made by DockerClient, which owns it; it
// emits finished() exactly once (never from inside the call that made it)
// and then deletes itself, so take what you need in the slot.
class DockerReply final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(DockerReply)

public:
    ~DockerReply() override;

    QByteArray method() const { return m_method; }
    // The path as sent, e.g. "/v1.41/nodes"; without the version until negotiated.
    QString path() const { return m_path; }
    bool isStreaming() const { return m_streaming; }
    bool isFinished() const { return m_result.has_value(); }
    // "GET /v1.41/nodes on swarm-01 (/path/docker.sock)": how errors name it.
    QString where() const;
    // The status and headers so far (0 before headersReceived()).
    int status() const { return m_response.status; }
    QByteArray header(const QByteArray &lowerCaseName) const
    {
        return m_response.header(lowerCaseName);
    }

    // After finished(): what the engine answered (any HTTP status), or why
    // there is no answer (socket missing, timeout, cancelled, ...).
    Result<DockerResponse> result() const;
    // After finished(): the body as JSON when the status is 2xx; otherwise an
    // Error carrying the engine's own message ("No such container: ...").
    Result<QJsonDocument> json() const;

    // Streaming requests: body bytes received since the last call.
    QByteArray readAll();

    // Stops the request; finished() follows with a "cancelled" error.
    void abort();

Q_SIGNALS:
    // The status line and headers arrived (streams: the stream is open).
    void headersReceived(int status);
    // Streaming requests: more body bytes are available through readAll().
    void readyRead();
    void finished();

private:
    friend class DockerClient;
    friend class Internal::DockerClientPrivate;
    DockerReply(DockerClient *client, const QByteArray &method, const QString &path,
                bool streaming);

    void finish(Result<DockerResponse> result);

    QPointer<DockerClient> m_client;
    QByteArray m_method;
    QString m_path;
    QString m_endpointName;
    bool m_streaming = false;
    DockerResponse m_response;
    QByteArray m_unread; // streaming: body bytes not yet taken by readAll()
    std::optional<Result<DockerResponse>> m_result;
};

} // namespace Pilothouse
