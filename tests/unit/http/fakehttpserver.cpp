#include "fakehttpserver.h"

#include <QPointer>
#include <QTcpSocket>
#include <QTimer>

FakeHttpServer::FakeHttpServer(QObject *parent)
    : QObject(parent)
{
    connect(&m_server, &QTcpServer::newConnection, this, &FakeHttpServer::onConnection);
}

FakeHttpServer::~FakeHttpServer()
{
    // Sockets must not report their end into members already destroyed.
    const QList<QTcpSocket *> sockets = m_buffers.keys();
    for (QTcpSocket *s : sockets) {
        s->disconnect(this);
        delete s;
    }
}

bool FakeHttpServer::listen()
{
    return m_server.listen(QHostAddress::LocalHost, 0);
}

void FakeHttpServer::dropConnections()
{
    const QList<QTcpSocket *> sockets = m_buffers.keys();
    for (QTcpSocket *s : sockets) {
        if (m_buffers.contains(s))
            s->abort();
    }
}

void FakeHttpServer::onConnection()
{
    while (QTcpSocket *s = m_server.nextPendingConnection()) {
        m_buffers.insert(s, {});
        connect(s, &QTcpSocket::readyRead, this, [this, s] { onReadyRead(s); });
        connect(s, &QTcpSocket::disconnected, this, [this, s] {
            m_buffers.remove(s);
            s->deleteLater();
        });
    }
}

void FakeHttpServer::onReadyRead(QTcpSocket *socket)
{
    QByteArray &buf = m_buffers[socket];
    buf += socket->readAll();
    for (;;) {
        const qsizetype end = buf.indexOf("\r\n\r\n");
        if (end < 0)
            return;
        Request r;
        const QList<QByteArray> lines = buf.left(end).split('\n');
        const QList<QByteArray> first = lines.value(0).trimmed().split(' ');
        r.method = first.value(0);
        r.path = first.value(1);
        for (qsizetype i = 1; i < lines.size(); ++i) {
            const qsizetype colon = lines.at(i).indexOf(':');
            if (colon > 0)
                r.headers.insert(lines.at(i).left(colon).trimmed().toLower(),
                                 lines.at(i).mid(colon + 1).trimmed());
        }
        const qsizetype length = r.headers.value("content-length", "0").toLongLong();
        if (buf.size() < end + 4 + length)
            return;
        r.body = buf.mid(end + 4, length);
        buf.remove(0, end + 4 + length);
        m_requests.append(r);
        respond(socket, r);
    }
}

void FakeHttpServer::respond(QTcpSocket *socket, const Request &request)
{
    const Response resp = m_handler ? m_handler(request) : Response{};
    if (resp.hang)
        return;
    QByteArray head = "HTTP/1.1 " + QByteArray::number(resp.status) + " Status\r\n";
    for (const auto &h : resp.headers)
        head += h.first + ": " + h.second + "\r\n";
    if (resp.chunks.isEmpty()) {
        head += "Content-Type: application/json\r\nContent-Length: " +
                QByteArray::number(resp.body.size()) + "\r\n\r\n";
        socket->write(head + resp.body);
        return;
    }
    head += "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
    socket->write(head);
    // Pieces go out one at a time from the event loop, so that the client
    // really sees them arrive separately.
    QPointer<QTcpSocket> s(socket);
    int delay = 0;
    for (const QByteArray &piece : resp.chunks) {
        delay += resp.chunkIntervalMs;
        QTimer::singleShot(delay, this, [s, piece] {
            if (s)
                s->write(QByteArray::number(piece.size(), 16) + "\r\n" + piece + "\r\n");
        });
    }
    if (resp.closeAfterChunks) {
        QTimer::singleShot(delay + resp.chunkIntervalMs, this, [s] {
            if (s) {
                s->write("0\r\n\r\n");
                s->disconnectFromHost();
            }
        });
    }
}
