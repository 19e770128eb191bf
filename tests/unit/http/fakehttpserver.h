#pragma once
// Test helper; lives on the test's main thread.

#include <QByteArray>
#include <QList>
#include <QMap>
#include <QObject>
#include <QPair>
#include <QTcpServer>

#include <functional>

// A tiny HTTP/1.1 server on 127.0.0.1 that answers what the test tells it:
// a whole body, a chunked stream written piece by piece, or nothing at all
// (to exercise timeouts). It stands in for etcd's gateway or a web app when
// a unit test needs the client's real network path without the lab.
class FakeHttpServer final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(FakeHttpServer)

public:
    struct Request
    {
        QByteArray method;
        QByteArray path;
        QMap<QByteArray, QByteArray> headers; // lower-case names
        QByteArray body;
    };

    struct Response
    {
        int status = 200;
        QByteArray body;
        QList<QPair<QByteArray, QByteArray>> headers;
        // Streaming: written with chunked encoding, one piece per interval;
        // the connection stays open afterwards unless closeAfterChunks.
        QList<QByteArray> chunks;
        int chunkIntervalMs = 5;
        bool closeAfterChunks = false;
        bool hang = false; // read the request, never answer
    };

    explicit FakeHttpServer(QObject *parent = nullptr);
    ~FakeHttpServer() override;

    bool listen();
    quint16 port() const { return m_server.serverPort(); }
    void setHandler(std::function<Response(const Request &)> handler)
    {
        m_handler = std::move(handler);
    }
    const QList<Request> &requests() const { return m_requests; }
    // Closes every open connection (ends a streaming answer abruptly).
    void dropConnections();

private:
    void onConnection();
    void onReadyRead(QTcpSocket *socket);
    void respond(QTcpSocket *socket, const Request &request);

    QTcpServer m_server;
    std::function<Response(const Request &)> m_handler;
    QList<Request> m_requests;
    QMap<QTcpSocket *, QByteArray> m_buffers;
};
