#pragma once
// Lives on the thread of its DockerClient.

#include "app/connectors/docker/dockertypes.h"

#include <QElapsedTimer>
#include <QObject>
#include <QPointer>
#include <QQueue>
#include <QSet>
#include <QTimer>

namespace Pilothouse {

class DockerClient;
class DockerReply;

// GET /events held open: the engine writes one JSON line per event for as
// long as the connection lives. When it breaks (engine restart, SSH forward
// down) the stream reconnects with exponential backoff and resumes with
// since= the last event it saw, so nothing in between is lost; the replayed
// overlap is dropped, so each event is emitted once.
//
// Scope: service and node events are swarm-wide (any manager sends all of
// them); container events are local: an engine sends only its own
// containers', so watching every host's containers takes one stream per engine.
class DockerEventStream final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(DockerEventStream)

public:
    explicit DockerEventStream(DockerClient *client, QObject *parent = nullptr);
    ~DockerEventStream() override;

    // Default: {"type": ["container", "service", "node"]}. Applies from the next (re)connect.
    void setFilters(const DockerFilters &filters) { m_filters = filters; }
    // Reconnect delays: first, doubled after each failure, capped at max.
    void setBackoff(int firstMs, int maxMs);

    void start();
    void stop();
    bool isRunning() const { return m_running; }
    bool isConnected() const { return m_connected; }
    // The engine's timestamp of the newest event seen; 0 before any.
    qint64 lastEventTimeNano() const { return m_lastNano; }

Q_SIGNALS:
    void received(const Pilothouse::DockerEvent &event);
    void connected();
    // The stream broke; it reconnects by itself after retryInMs.
    void disconnected(const QString &why, int retryInMs);

private:
    void open();
    void readLines();
    void closed();
    bool seenBefore(const DockerEvent &e);

    QPointer<DockerClient> m_client;
    QPointer<DockerReply> m_reply;
    DockerFilters m_filters;
    QTimer m_reconnect;
    QElapsedTimer m_connectedFor;
    QByteArray m_buffer;
    qint64 m_lastNano = 0;
    qint64 m_serverNowNano = 0; // the engine's clock when the stream opened (Date header)
    QSet<QString> m_recent;
    QQueue<QString> m_recentOrder;
    int m_firstBackoffMs = 500;
    int m_maxBackoffMs = 30000;
    int m_backoffMs = 500;
    bool m_running = false;
    bool m_connected = false;
};

} // namespace Pilothouse
