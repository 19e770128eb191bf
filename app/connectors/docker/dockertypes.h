#pragma once
// Value types of the Docker connector, usable on any thread.

#include <QByteArray>
#include <QDateTime>
#include <QList>
#include <QMap>
#include <QMetaType>
#include <QPair>
#include <QString>
#include <QStringList>

namespace Pilothouse {

// Where one engine's API is reached. Locally that is the engine's own socket;
// over SSH it is the local end of a forward of the host's /var/run/docker.sock.
struct DockerEndpoint
{
    QString socketPath;
    QString name; // for messages, e.g. "swarm-01"; the path when empty
    int connectTimeoutMs = 3000;
    int requestTimeoutMs = 10000; // default for requests that do not set their own
};

struct DockerRequestOptions
{
    int timeoutMs = -1;         // whole exchange; -1: the endpoint's default, 0: none
    int responseTimeoutMs = -1; // until the status line; -1: the same as timeoutMs
    bool streaming = false;     // body delivered through readyRead(), not kept
    bool versioned = true;      // prefix the negotiated "/v1.NN"
};

// Docker's `filters` query argument: key -> accepted values, e.g.
// {"service": ["pilothouse_pg-1"], "desired-state": ["running"]}.
using DockerFilters = QMap<QString, QStringList>;

// One HTTP exchange with the engine, as it answered.
struct DockerResponse
{
    int status = 0;
    QList<QPair<QByteArray, QByteArray>> headers; // names lower-cased, in order
    QByteArray body; // empty for streaming requests (read as it arrives)

    QByteArray header(const QByteArray &lowerCaseName) const
    {
        for (const auto &h : headers) {
            if (h.first == lowerCaseName)
                return h.second;
        }
        return {};
    }
};

// One line of GET /events.
struct DockerEvent
{
    QString type;   // container, service, node, network, ...
    QString action; // create, start, die, update, exec_start: sh -c ..., ...
    QString actorId;
    QMap<QString, QString> attributes; // name, image, com.docker.swarm.service.name, ...
    QString scope;                     // local, swarm
    qint64 timeNano = 0;               // Unix time in ns, as the engine stamped it
    QDateTime time;                    // the same, UTC, ms precision

    // The actor's name: a container's or service's name, a node's hostname.
    QString name() const { return attributes.value(QStringLiteral("name")); }
};

struct DockerExecOptions
{
    QString user;          // empty: the container's user
    QString workingDir;    // empty: the container's
    QStringList env;       // "KEY=value"
    int timeoutMs = 30000; // the whole job: create, run, read the exit code
};

struct DockerExecResult
{
    int exitCode = -1;
    QByteArray stdOut;
    QByteArray stdErr;
};

} // namespace Pilothouse

Q_DECLARE_METATYPE(Pilothouse::DockerEvent)
