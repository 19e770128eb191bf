#pragma once
// Lives on the thread that creates it (usually the GUI thread) and never blocks
// it: libpq runs in non-blocking mode, driven by QSocketNotifier.

#include "app/connectors/pg/pgrows.h"
#include "models/result.h"

#include <QObject>
#include <QString>
#include <QStringList>

#include <functional>
#include <memory>
#include <optional>

namespace Pilothouse {

struct PgConnectOptions
{
    QString host; // an address or a name; names are resolved asynchronously first
    int port = 5432;
    QString database;
    QString user;
    QString password; // kept in memory only; never logged nor put in an error message
    QString applicationName = QStringLiteral("pilothouse");
    int connectTimeoutMs = 5000;
    QString sslMode = QStringLiteral("prefer");
    QString label; // what error messages call this endpoint, e.g. "pg-1"; optional
    // PostgreSQL 14+: the server checks this often whether we are still there
    // while it runs a query, so that dropping the connection (our timeout and
    // cancel) also stops the server's work. 0: not set (pgpool: leave it 0).
    int serverCheckIntervalMs = 1000;

    // "pg-1 (10.213.0.11:5432, db app)": where, for error messages.
    QString where() const;
};

namespace Internal {
class PgConnectionPrivate;
}

// One libpq connection. Queries run one at a time in the order they were
// asked; each has its own timeout. A query that times out or is cancelled while
// the server works on it drops the connection (libpq's cancel request blocks;
// the server ends the backend within serverCheckIntervalMs of the socket
// closing), so every later query fails too and connectionLost() is emitted:
// reopen to go on.
class PgConnection final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(PgConnection)

public:
    enum class State { Disconnected, Connecting, Connected };
    Q_ENUM(State)

    using Callback = std::function<void(const Result<PgReply> &)>;

    explicit PgConnection(QObject *parent = nullptr);
    // Drops the connection. Pending callbacks are not called.
    ~PgConnection() override;

    // Starts connecting; emits connected() or connectFailed() later, never
    // from within this call. Closes a previous connection first (failing its
    // queries).
    void open(const PgConnectOptions &options);
    // Drops the connection at once, failing every pending query. Emits nothing else.
    void close();

    State state() const;
    bool isConnected() const { return state() == State::Connected; }
    const PgConnectOptions &options() const;
    // The server's version as libpq reports it, e.g. 150014; 0 when not connected.
    int serverVersion() const;

    // Runs `sql` and calls `callback` (in `context`'s thread, which must be this
    // one) with every result set, or with the first error. Without `params`
    // the simple protocol is used: several statements may be sent in one round
    // trip, and pgpool's SHOW commands work. With params, the extended protocol
    // ($1, $2...; a std::nullopt is NULL). Queries asked while connecting wait
    // for the connection; asked while disconnected they fail (asynchronously).
    // The callback is dropped when `context` is destroyed. `timeoutMs` counts
    // from this call. Returns an id for cancel().
    quint64 query(const QString &sql, const QList<std::optional<QString>> &params, int timeoutMs,
                  QObject *context, Callback callback);
    quint64 query(const QString &sql, int timeoutMs, QObject *context, Callback callback)
    {
        return query(sql, {}, timeoutMs, context, std::move(callback));
    }
    // Cancels a query: a waiting one is removed, a running one drops the
    // connection (see the class comment). Its callback gets an error. Returns
    // false when the query already finished.
    bool cancel(quint64 id);
    int pendingQueries() const;

Q_SIGNALS:
    void connected();
    // The connection could not be made (refused, authentication, timeout...).
    void connectFailed(const Pilothouse::Error &error);
    // An open connection ended: the server closed it, the socket broke, or a
    // query timed out. Emitted as soon as the socket reports it.
    void connectionLost(const Pilothouse::Error &error);

private:
    friend class Internal::PgConnectionPrivate;
    std::unique_ptr<Internal::PgConnectionPrivate> d;
};

} // namespace Pilothouse
