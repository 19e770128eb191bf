#pragma once
// Test helper; lives on the test's main thread.

#include <QHash>
#include <QList>
#include <QObject>
#include <QStringList>
#include <QTcpServer>

#include <functional>
#include <optional>

class QTcpSocket;

// Stands in for a PostgreSQL server in unit tests of our own libpq driving:
// just enough of protocol 3 (no SSL, trust authentication, simple queries)
// to check what PgConnection does with a reply, a silence or a closed socket.
// It is not PostgreSQL, and says nothing about how PostgreSQL behaves: the
// integration tests do that against the lab.
class FakePgServer final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(FakePgServer)

public:
    enum class Mode {
        Answer,       // queries get `columns`/`rows` (one result set per ';'-separated statement)
        NeverAnswer,  // queries are read and ignored
        SilentStartup // the startup packet is read and never answered
    };

    explicit FakePgServer(Mode mode, QObject *parent = nullptr);
    quint16 port() const { return m_server.serverPort(); }
    int queriesReceived() const { return m_queries.size(); }
    QStringList queries() const { return m_queries; }
    int openConnections() const { return int(m_buffers.size()); }
    // The parameters of the last startup packet (user, database, options...).
    QHash<QByteArray, QByteArray> startupParameters() const { return m_startup; }

    struct ResultSet
    {
        QStringList columns;
        QList<QList<std::optional<QByteArray>>> rows;
    };
    // Default answer: one set per ';'-separated statement, each `columns`/`rows`.
    QStringList columns{QStringLiteral("a"), QStringLiteral("b")};
    QList<QList<std::optional<QByteArray>>> rows;
    // When set, answers instead: the sets for a query (none: an empty query reply).
    std::function<QList<ResultSet>(const QString &sql)> responder;

    // What a backend does on pg_terminate_backend(): FATAL 57P01, then close.
    void terminateAll();

private:
    void onData(QTcpSocket *socket);
    void answer(QTcpSocket *socket, const QByteArray &sql);

    Mode m_mode;
    QHash<QTcpSocket *, QByteArray> m_buffers;
    QHash<QTcpSocket *, bool> m_started;
    QStringList m_queries;
    QHash<QByteArray, QByteArray> m_startup;
    // Last: destroyed first, while the sockets' disconnected() handlers can still run.
    QTcpServer m_server;
};
