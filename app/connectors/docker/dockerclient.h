#pragma once
// Lives on the thread that creates it (normally the GUI thread), which must
// run an event loop; it never blocks that thread.

#include "app/connectors/docker/dockertypes.h"

#include <QJsonObject>
#include <QObject>
#include <QUrlQuery>

#include <memory>

namespace Pilothouse {

class DockerExec;
class DockerReply;

namespace Internal {
class DockerClientPrivate;
}

// The Docker Engine API of one engine, over a Unix socket (the engine's own,
// or the local end of an SSH forward of it). HTTP is libcurl's, driven by
// this thread's event loop through curl's multi-socket interface: many
// requests run at once, each with its own timeout, each cancellable.
//
// Paths are given without the API version ("/nodes"); the client negotiates
// the version on first use (GET /_ping) and prefixes every path with it.
class DockerClient final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(DockerClient)

public:
    // The newest API this client was written against, and the oldest it can
    // use (Swarm service status and filters it relies on).
    static constexpr int MaxApiMinor = 43; // 1.43, Docker 24
    static constexpr int MinApiMinor = 30; // 1.30, Docker 17.06

    using RequestOptions = DockerRequestOptions;

    explicit DockerClient(DockerEndpoint endpoint, QObject *parent = nullptr);
    explicit DockerClient(const QString &socketPath, QObject *parent = nullptr);
    ~DockerClient() override;

    const DockerEndpoint &endpoint() const { return m_endpoint; }
    // "swarm-01 (/run/.../docker.sock)": how errors name this engine.
    QString displayName() const;
    // "1.41" once negotiated; empty before.
    QString apiVersion() const { return m_apiVersion; }
    // Forgets the negotiated version, e.g. after the engine was upgraded.
    void resetApiVersion() { m_apiVersion.clear(); }

    // The general request. `body`, when not empty, is sent as JSON.
    DockerReply *send(const QByteArray &method, const QString &path, const QUrlQuery &query = {},
                      const QByteArray &body = {}, RequestOptions options = {});
    DockerReply *get(const QString &path, const QUrlQuery &query = {}, RequestOptions options = {});
    DockerReply *post(const QString &path, const QJsonObject &body, const QUrlQuery &query = {},
                      RequestOptions options = {});
    DockerReply *remove(const QString &path, const QUrlQuery &query = {},
                        RequestOptions options = {});

    // The engine API Pilothouse uses. Each reply's json() is the engine's
    // document; DockerReaders turns it into model values.
    DockerReply *ping(); // unversioned; the API-Version header says what the engine speaks
    DockerReply *version();
    DockerReply *info();
    DockerReply *nodes();
    DockerReply *services(); // with ServiceStatus (running/desired task counts)
    DockerReply *tasks(const DockerFilters &filters = {});
    DockerReply *containers(const DockerFilters &filters = {}, bool all = false);

    // Runs a command in a running container and collects its output and exit
    // code. The job is owned by this client and deletes itself after finished().
    DockerExec *exec(const QString &containerId, const QStringList &command,
                     const DockerExecOptions &options = {});

Q_SIGNALS:
    void apiVersionNegotiated(const QString &version);

private:
    friend class DockerReply;
    friend class Internal::DockerClientPrivate;

    void startNegotiation();
    void negotiationFinished(DockerReply *ping);
    void versionFallbackFinished(DockerReply *version);
    void setNegotiated(const QString &version);
    void failWaiting(const QString &why);
    void abortReply(DockerReply *reply);
    void detachReply(DockerReply *reply);

    DockerEndpoint m_endpoint;
    QString m_apiVersion;
    bool m_negotiating = false;
    std::unique_ptr<Internal::DockerClientPrivate> d;
};

} // namespace Pilothouse
