#include "app/connectors/pg/pgconnection.h"

#include "app/connectors/pg/pgerror_p.h"

#include <QHostAddress>
#include <QHostInfo>
#include <QPointer>
#include <QSocketNotifier>
#include <QTimer>

#include <deque>
#include <iterator>
#include <libpq-fe.h>

namespace Pilothouse {

QString PgConnectOptions::where() const
{
    const QString endpoint =
        host + u':' + QString::number(port) + QStringLiteral(", db ") + database;
    if (label.isEmpty())
        return endpoint;
    return label + QStringLiteral(" (") + endpoint + u')';
}

namespace Internal {
namespace {

// libpq ends its messages with a newline and indents hints with "\n\t".
QString cleanLibpqMessage(const char *message)
{
    QString text = QString::fromUtf8(message).trimmed();
    text.replace(QStringLiteral("\n\t"), QStringLiteral(" "));
    text.replace(u'\n', QStringLiteral("; "));
    return text;
}

struct PendingQuery
{
    quint64 id = 0;
    QString sql;
    QList<std::optional<QString>> params;
    bool hasContext = false;
    QPointer<QObject> context;
    PgConnection::Callback callback;
    QTimer *timer = nullptr; // child of the connection
};

} // namespace

class PgConnectionPrivate final
{
public:
    explicit PgConnectionPrivate(PgConnection *q)
        : q(q)
    {
        m_connectTimer.setSingleShot(true);
    }

    ~PgConnectionPrivate() { teardown(); }

    void open(const PgConnectOptions &options);
    void startLibpq(quint64 attempt, const QString &hostAddress);
    void pollConnect();
    void onReadable();
    void onWritable();
    void flush();
    void startNext();
    void collectResults();
    void finishRunning();
    void onTimeout(quint64 id);
    bool cancel(quint64 id, const QString &why);

    // Ends the connection and fails every pending query with `error`.
    void drop(const Error &error);
    void teardown();
    void watchSocket(bool read, bool write);
    void deliver(PendingQuery &&p, const Result<PgReply> &result);
    Error makeError(const QString &what) const
    {
        return Internal::pgError(m_options.where() + u": " + what);
    }
    Error libpqError() const;

    static void noticeProcessor(void *arg, const char *message)
    {
        // Without this libpq prints server notices (such as the FATAL sent
        // before a terminated backend closes) on stderr; keep the last one for
        // the error message instead.
        static_cast<PgConnectionPrivate *>(arg)->m_lastNotice = cleanLibpqMessage(message);
    }

    PgConnection *q;
    PgConnectOptions m_options;
    PgConnection::State m_state = PgConnection::State::Disconnected;
    PGconn *m_conn = nullptr;
    int m_socket = -1;
    QSocketNotifier *m_readNotifier = nullptr;
    QSocketNotifier *m_writeNotifier = nullptr;
    QTimer m_connectTimer;
    int m_lookupId = -1;
    quint64 m_attempt = 0;            // bumped on every open/close; stale async steps compare it
    std::deque<PendingQuery> m_queue; // the front one is on the wire when m_running
    bool m_running = false;
    PgReply m_collected;
    std::optional<Error> m_firstError;
    bool m_mustDrop = false; // the reply put libpq in a state we do not handle (COPY)
    QString m_lastNotice;
    quint64 m_nextId = 1;
};

void PgConnectionPrivate::open(const PgConnectOptions &options)
{
    teardown();
    drop(makeError(QStringLiteral("connection reopened")));
    m_options = options;
    m_state = PgConnection::State::Connecting;
    m_lastNotice.clear();
    const quint64 attempt = ++m_attempt;
    m_connectTimer.start(qMax(1, options.connectTimeoutMs));

    // libpq resolves names with a blocking getaddrinfo(); resolve them here
    // asynchronously and hand libpq the address (hostaddr), keeping the name for TLS.
    const QHostAddress literal(options.host);
    if (!literal.isNull()) {
        QMetaObject::invokeMethod(
            q, [this, attempt, host = options.host] { startLibpq(attempt, host); },
            Qt::QueuedConnection);
        return;
    }
    m_lookupId = QHostInfo::lookupHost(options.host, q, [this, attempt](const QHostInfo &info) {
        if (attempt != m_attempt)
            return;
        m_lookupId = -1;
        if (info.error() != QHostInfo::NoError || info.addresses().isEmpty()) {
            const Error error =
                makeError(QStringLiteral("cannot resolve the host name: ") + info.errorString());
            teardown();
            drop(error);
            Q_EMIT q->connectFailed(error);
            return;
        }
        QHostAddress chosen = info.addresses().constFirst();
        for (const QHostAddress &a : info.addresses()) {
            if (a.protocol() == QAbstractSocket::IPv4Protocol) {
                chosen = a;
                break;
            }
        }
        startLibpq(attempt, chosen.toString());
    });
}

void PgConnectionPrivate::startLibpq(quint64 attempt, const QString &hostAddress)
{
    if (attempt != m_attempt || m_state != PgConnection::State::Connecting)
        return;
    const QByteArray serverOptions = m_options.serverCheckIntervalMs > 0
                                         ? "-c client_connection_check_interval=" +
                                               QByteArray::number(m_options.serverCheckIntervalMs)
                                         : QByteArray();
    const QByteArray values[] = {
        m_options.host.toUtf8(), hostAddress.toUtf8(), QByteArray::number(m_options.port),
        m_options.database.toUtf8(), m_options.user.toUtf8(), m_options.password.toUtf8(),
        m_options.applicationName.toUtf8(), m_options.sslMode.toUtf8(), QByteArrayLiteral("UTF8"),
        // No Kerberos here; skipping the GSS probe also saves a round trip.
        QByteArrayLiteral("disable"),
        // A peer that vanishes without a FIN is noticed within ~11 s even when idle.
        QByteArrayLiteral("1"), QByteArrayLiteral("5"), QByteArrayLiteral("2"),
        QByteArrayLiteral("3"),
        serverOptions, // empty: libpq ignores the keyword
    };
    const char *const keywords[] = {
        "host",
        "hostaddr",
        "port",
        "dbname",
        "user",
        "password",
        "application_name",
        "sslmode",
        "client_encoding",
        "gssencmode",
        "keepalives",
        "keepalives_idle",
        "keepalives_interval",
        "keepalives_count",
        "options",
        nullptr,
    };
    static_assert(std::size(keywords) == std::size(values) + 1);
    const char *valuePtrs[std::size(values) + 1];
    for (size_t i = 0; i < std::size(values); ++i)
        valuePtrs[i] = values[i].constData();
    valuePtrs[std::size(values)] = nullptr;

    m_conn = PQconnectStartParams(keywords, valuePtrs, 0);
    if (!m_conn || PQstatus(m_conn) == CONNECTION_BAD) {
        const Error error = m_conn ? libpqError() : makeError(QStringLiteral("out of memory"));
        teardown();
        drop(error);
        Q_EMIT q->connectFailed(error);
        return;
    }
    PQsetNoticeProcessor(m_conn, &PgConnectionPrivate::noticeProcessor, this);
    // libpq's documented start: act as if PQconnectPoll had asked to write.
    m_socket = -1;
    watchSocket(false, true);
}

void PgConnectionPrivate::watchSocket(bool read, bool write)
{
    const int fd = m_conn ? PQsocket(m_conn) : -1;
    if (fd != m_socket) {
        // libpq may open a new socket while trying another address.
        for (QSocketNotifier *n : {m_readNotifier, m_writeNotifier}) {
            if (n) {
                n->setEnabled(false);
                n->deleteLater(); // we may be inside its activated() signal
            }
        }
        m_readNotifier = m_writeNotifier = nullptr;
        m_socket = fd;
        if (fd >= 0) {
            m_readNotifier = new QSocketNotifier(fd, QSocketNotifier::Read, q);
            m_writeNotifier = new QSocketNotifier(fd, QSocketNotifier::Write, q);
            QObject::connect(m_readNotifier, &QSocketNotifier::activated, q,
                             [this] { onReadable(); });
            QObject::connect(m_writeNotifier, &QSocketNotifier::activated, q,
                             [this] { onWritable(); });
        }
    }
    if (m_readNotifier)
        m_readNotifier->setEnabled(read);
    if (m_writeNotifier)
        m_writeNotifier->setEnabled(write);
}

void PgConnectionPrivate::pollConnect()
{
    const PostgresPollingStatusType status = PQconnectPoll(m_conn);
    switch (status) {
    case PGRES_POLLING_READING:
        watchSocket(true, false);
        return;
    case PGRES_POLLING_WRITING:
        watchSocket(false, true);
        return;
    case PGRES_POLLING_OK: {
        m_connectTimer.stop();
        if (PQsetnonblocking(m_conn, 1) != 0) {
            const Error error = libpqError();
            teardown();
            drop(error);
            Q_EMIT q->connectFailed(error);
            return;
        }
        m_state = PgConnection::State::Connected;
        // Always read while connected: that is how a closed socket is noticed at once.
        watchSocket(true, false);
        const QPointer<PgConnection> alive(q);
        const quint64 attempt = m_attempt;
        Q_EMIT q->connected();
        if (alive && attempt == m_attempt)
            startNext();
        return;
    }
    case PGRES_POLLING_FAILED:
    case PGRES_POLLING_ACTIVE: {
        const Error error = libpqError();
        teardown();
        drop(error);
        Q_EMIT q->connectFailed(error);
        return;
    }
    }
}

Error PgConnectionPrivate::libpqError() const
{
    QString message = m_conn ? cleanLibpqMessage(PQerrorMessage(m_conn)) : QString();
    if (message.isEmpty())
        message = QStringLiteral("connection failed");
    if (!m_lastNotice.isEmpty() && !message.contains(m_lastNotice))
        message += QStringLiteral(" (server said: ") + m_lastNotice + u')';
    return makeError(message);
}

void PgConnectionPrivate::onReadable()
{
    if (m_state == PgConnection::State::Connecting) {
        pollConnect();
        return;
    }
    if (!m_conn)
        return;
    if (PQconsumeInput(m_conn) == 0 || PQstatus(m_conn) == CONNECTION_BAD) {
        const Error error = libpqError();
        teardown();
        drop(error);
        Q_EMIT q->connectionLost(error);
        return;
    }
    // Asynchronous notifications are not used; free them so they do not pile up.
    while (PGnotify *n = PQnotifies(m_conn))
        PQfreemem(n);
    if (m_writeNotifier && m_writeNotifier->isEnabled())
        flush();
    if (m_running)
        collectResults();
}

void PgConnectionPrivate::onWritable()
{
    if (m_state == PgConnection::State::Connecting)
        pollConnect();
    else
        flush();
}

void PgConnectionPrivate::flush()
{
    if (!m_conn)
        return;
    const int r = PQflush(m_conn);
    if (r < 0) {
        const Error error = libpqError();
        teardown();
        drop(error);
        Q_EMIT q->connectionLost(error);
        return;
    }
    // 1: libpq could not send everything; wait until the socket takes more.
    watchSocket(true, r == 1);
}

void PgConnectionPrivate::startNext()
{
    if (m_running || m_queue.empty() || m_state != PgConnection::State::Connected)
        return;
    const PendingQuery &p = m_queue.front();
    const QByteArray sql = p.sql.toUtf8();
    int sent = 0;
    if (p.params.isEmpty()) {
        sent = PQsendQuery(m_conn, sql.constData());
    } else {
        QList<QByteArray> storage;
        QList<const char *> values;
        storage.reserve(p.params.size());
        for (const auto &param : p.params) {
            if (param) {
                storage.append(param->toUtf8());
                values.append(storage.constLast().constData());
            } else {
                values.append(nullptr);
            }
        }
        sent = PQsendQueryParams(m_conn, sql.constData(), int(values.size()), nullptr,
                                 values.constData(), nullptr, nullptr, 0);
    }
    if (!sent) {
        const Error error = libpqError();
        teardown();
        drop(error);
        Q_EMIT q->connectionLost(error);
        return;
    }
    m_running = true;
    m_collected.clear();
    m_firstError.reset();
    m_mustDrop = false;
    flush();
}

void PgConnectionPrivate::collectResults()
{
    while (m_running && m_conn && !PQisBusy(m_conn)) {
        PGresult *res = PQgetResult(m_conn);
        if (!res) {
            finishRunning();
            return;
        }
        switch (PQresultStatus(res)) {
        case PGRES_TUPLES_OK:
        case PGRES_SINGLE_TUPLE:
        case PGRES_COMMAND_OK:
        case PGRES_EMPTY_QUERY: {
            PgRows rows;
            rows.commandTag = QString::fromUtf8(PQcmdStatus(res));
            const int columns = PQnfields(res);
            const int tuples = PQntuples(res);
            for (int c = 0; c < columns; ++c)
                rows.columns.append(QString::fromUtf8(PQfname(res, c)));
            rows.rows.reserve(tuples);
            for (int r = 0; r < tuples; ++r) {
                QList<PgRows::Value> row;
                row.reserve(columns);
                for (int c = 0; c < columns; ++c) {
                    if (PQgetisnull(res, r, c))
                        row.append(std::nullopt);
                    else
                        row.append(
                            QString::fromUtf8(PQgetvalue(res, r, c), PQgetlength(res, r, c)));
                }
                rows.rows.append(std::move(row));
            }
            m_collected.append(std::move(rows));
            break;
        }
        case PGRES_COPY_IN:
        case PGRES_COPY_OUT:
        case PGRES_COPY_BOTH:
            // libpq keeps returning this result until the copy is driven; we never do.
            if (!m_firstError)
                m_firstError = makeError(QStringLiteral("COPY is not supported here"));
            m_mustDrop = true;
            PQclear(res);
            finishRunning();
            return;
        default:
            if (!m_firstError)
                m_firstError = makeError(cleanLibpqMessage(PQresultErrorMessage(res)));
            break;
        }
        PQclear(res);
    }
}

void PgConnectionPrivate::finishRunning()
{
    PendingQuery p = std::move(m_queue.front());
    m_queue.pop_front();
    m_running = false;
    if (m_firstError)
        deliver(std::move(p), *m_firstError);
    else
        deliver(std::move(p), m_collected);
    m_collected.clear();
    m_firstError.reset();
    if (m_mustDrop || (m_conn && PQstatus(m_conn) == CONNECTION_BAD)) {
        const Error error =
            m_mustDrop ? makeError(QStringLiteral("connection dropped after COPY")) : libpqError();
        teardown();
        drop(error);
        Q_EMIT q->connectionLost(error);
        return;
    }
    startNext();
}

void PgConnectionPrivate::onTimeout(quint64 id)
{
    for (const PendingQuery &p : m_queue) {
        if (p.id == id) {
            cancel(id, QStringLiteral("query timed out after %1 ms")
                           .arg(p.timer ? p.timer->interval() : 0));
            return;
        }
    }
}

bool PgConnectionPrivate::cancel(quint64 id, const QString &why)
{
    for (auto it = m_queue.begin(); it != m_queue.end(); ++it) {
        if (it->id != id)
            continue;
        const bool onTheWire = m_running && it == m_queue.begin();
        PendingQuery p = std::move(*it);
        m_queue.erase(it);
        if (onTheWire)
            m_running = false;
        deliver(std::move(p), makeError(why));
        if (onTheWire) {
            // The server is still working on it: only closing the socket stops it
            // without a blocking cancel request.
            const Error error = makeError(QStringLiteral("connection dropped: ") + why);
            teardown();
            drop(error);
            Q_EMIT q->connectionLost(error);
        }
        return true;
    }
    return false;
}

void PgConnectionPrivate::deliver(PendingQuery &&p, const Result<PgReply> &result)
{
    if (p.timer) {
        p.timer->stop();
        p.timer->deleteLater(); // we may be inside its timeout()
        p.timer = nullptr;
    }
    if (!p.callback)
        return;
    QObject *target = p.hasContext ? p.context.data() : q;
    if (!target)
        return;
    // Always later, from the event loop: a callback may reopen, query or
    // destroy this connection, which must not happen in the middle of our own work.
    QMetaObject::invokeMethod(
        target, [callback = std::move(p.callback), result] { callback(result); },
        Qt::QueuedConnection);
}

void PgConnectionPrivate::drop(const Error &error)
{
    m_running = false;
    std::deque<PendingQuery> queue;
    queue.swap(m_queue);
    for (PendingQuery &p : queue)
        deliver(std::move(p), error);
}

void PgConnectionPrivate::teardown()
{
    ++m_attempt;
    m_connectTimer.stop();
    if (m_lookupId >= 0) {
        QHostInfo::abortHostLookup(m_lookupId);
        m_lookupId = -1;
    }
    for (QSocketNotifier *n : {m_readNotifier, m_writeNotifier}) {
        if (n) {
            n->setEnabled(false);
            n->deleteLater();
        }
    }
    m_readNotifier = m_writeNotifier = nullptr;
    m_socket = -1;
    if (m_conn) {
        // Non-blocking: libpq tries once to send Terminate, then closes.
        PQfinish(m_conn);
        m_conn = nullptr;
    }
    m_state = PgConnection::State::Disconnected;
}

} // namespace Internal

PgConnection::PgConnection(QObject *parent)
    : QObject(parent)
    , d(std::make_unique<Internal::PgConnectionPrivate>(this))
{
    connect(&d->m_connectTimer, &QTimer::timeout, this, [this] {
        if (d->m_state != State::Connecting)
            return;
        const Error error = d->makeError(
            QStringLiteral("connection timed out after %1 ms").arg(d->m_options.connectTimeoutMs));
        d->teardown();
        d->drop(error);
        Q_EMIT connectFailed(error);
    });
}

PgConnection::~PgConnection() = default;

void PgConnection::open(const PgConnectOptions &options)
{
    d->open(options);
}

void PgConnection::close()
{
    d->teardown();
    d->drop(d->makeError(QStringLiteral("connection closed")));
}

PgConnection::State PgConnection::state() const
{
    return d->m_state;
}

const PgConnectOptions &PgConnection::options() const
{
    return d->m_options;
}

int PgConnection::serverVersion() const
{
    return d->m_conn && d->m_state == State::Connected ? PQserverVersion(d->m_conn) : 0;
}

quint64 PgConnection::query(const QString &sql, const QList<std::optional<QString>> &params,
                            int timeoutMs, QObject *context, Callback callback)
{
    Internal::PendingQuery p;
    p.id = d->m_nextId++;
    p.sql = sql;
    p.params = params;
    p.hasContext = context != nullptr;
    p.context = context;
    p.callback = std::move(callback);
    const quint64 id = p.id;
    if (d->m_state == State::Disconnected) {
        d->deliver(std::move(p), d->makeError(QStringLiteral("not connected")));
        return id;
    }
    p.timer = new QTimer(this);
    p.timer->setSingleShot(true);
    connect(p.timer, &QTimer::timeout, this, [this, id] { d->onTimeout(id); });
    p.timer->start(qMax(1, timeoutMs));
    d->m_queue.push_back(std::move(p));
    d->startNext();
    return id;
}

bool PgConnection::cancel(quint64 id)
{
    return d->cancel(id, QStringLiteral("query cancelled"));
}

int PgConnection::pendingQueries() const
{
    return int(d->m_queue.size());
}

} // namespace Pilothouse
