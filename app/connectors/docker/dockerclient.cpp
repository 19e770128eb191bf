#include "app/connectors/docker/dockerclient.h"

#include "app/connectors/docker/dockererror_p.h"
#include "app/connectors/docker/dockerexec.h"
#include "app/connectors/docker/dockerreaders.h"
#include "app/connectors/docker/dockerreply.h"

#include <QFileInfo>
#include <QHash>
#include <QJsonDocument>
#include <QPointer>
#include <QSocketNotifier>
#include <QTimer>

#include <curl/curl.h>
#include <mutex>

namespace Pilothouse {
namespace Internal {
namespace {

// A runaway answer must not eat the machine; Docker's largest lists are a
// few MB even for big swarms.
constexpr qsizetype MaxBodyBytes = 64 * 1024 * 1024;

void initCurlOnce()
{
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

} // namespace

// One request on the wire.
struct Transfer
{
    DockerClientPrivate *d = nullptr;
    QPointer<DockerReply> reply;
    CURL *easy = nullptr;
    curl_slist *headers = nullptr;
    QByteArray url;
    QByteArray body;
    char errorText[CURL_ERROR_SIZE] = {};
    bool headersDone = false;
    bool bodyTooLarge = false;
    bool responseTimedOut = false;
    int timeoutMs = 0;
    int responseTimeoutMs = 0;
    QTimer *responseDeadline = nullptr;
};

// A request waiting for the API version to be negotiated.
struct WaitingRequest
{
    QPointer<DockerReply> reply;
    QString tail; // path without version, query included
    QByteArray body;
    DockerClient::RequestOptions options;
};

class DockerClientPrivate final
{
public:
    explicit DockerClientPrivate(DockerClient *q);
    ~DockerClientPrivate();

    void start(DockerReply *reply, const QString &pathAndQuery, const QByteArray &body,
               const DockerClient::RequestOptions &options);
    void abort(DockerReply *reply, const QString &why);
    void forget(DockerReply *reply);

    void socketAction(curl_socket_t fd, int events);
    void collectDone();
    void finishTransfer(Transfer *t, CURLcode code);
    QString describe(Transfer *t, CURLcode code) const;
    void cleanup(Transfer *t);

    static int onSocket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp);
    static int onTimer(CURLM *multi, long timeoutMs, void *userp);
    static size_t onHeader(char *data, size_t size, size_t count, void *userp);
    static size_t onBody(char *data, size_t size, size_t count, void *userp);

    struct Watch
    {
        QSocketNotifier *read = nullptr;
        QSocketNotifier *write = nullptr;
    };

    DockerClient *q;
    CURLM *multi = nullptr;
    QTimer curlTimer;
    QHash<curl_socket_t, Watch> watches;
    QHash<DockerReply *, Transfer *> transfers;
    QList<WaitingRequest> waiting;
};

DockerClientPrivate::DockerClientPrivate(DockerClient *q)
    : q(q)
{
    initCurlOnce();
    multi = curl_multi_init();
    curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, &DockerClientPrivate::onSocket);
    curl_multi_setopt(multi, CURLMOPT_SOCKETDATA, this);
    curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, &DockerClientPrivate::onTimer);
    curl_multi_setopt(multi, CURLMOPT_TIMERDATA, this);
    curlTimer.setSingleShot(true);
    QObject::connect(&curlTimer, &QTimer::timeout, q,
                     [this] { socketAction(CURL_SOCKET_TIMEOUT, 0); });
}

DockerClientPrivate::~DockerClientPrivate()
{
    const auto all = transfers.values();
    for (Transfer *t : all) {
        curl_multi_remove_handle(multi, t->easy);
        if (t->reply)
            t->reply->m_client = nullptr;
        cleanup(t);
    }
    transfers.clear();
    curl_multi_cleanup(multi);
    for (const Watch &w : std::as_const(watches)) {
        delete w.read;
        delete w.write;
    }
}

void DockerClientPrivate::start(DockerReply *reply, const QString &pathAndQuery,
                                const QByteArray &body, const DockerClient::RequestOptions &options)
{
    auto *t = new Transfer;
    t->d = this;
    t->reply = reply;
    t->easy = curl_easy_init();
    // The host part is never resolved: the socket is the destination. Docker
    // only needs a syntactically valid Host header.
    t->url = "http://docker" + pathAndQuery.toUtf8();
    t->body = body;
    t->timeoutMs = options.timeoutMs >= 0 ? options.timeoutMs : q->m_endpoint.requestTimeoutMs;
    t->responseTimeoutMs =
        options.responseTimeoutMs >= 0 ? options.responseTimeoutMs : t->timeoutMs;
    const QByteArray socketPath = q->m_endpoint.socketPath.toLocal8Bit();

    CURL *e = t->easy;
    curl_easy_setopt(e, CURLOPT_UNIX_SOCKET_PATH, socketPath.constData());
    curl_easy_setopt(e, CURLOPT_URL, t->url.constData());
    curl_easy_setopt(e, CURLOPT_PRIVATE, t);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->errorText);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &DockerClientPrivate::onHeader);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, t);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &DockerClientPrivate::onBody);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, long(q->m_endpoint.connectTimeoutMs));
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, long(t->timeoutMs));
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, nullptr);
    t->headers = curl_slist_append(t->headers, "Accept: application/json");
    // curl waits up to a second for "100 Continue" before big bodies; Docker
    // never sends one.
    t->headers = curl_slist_append(t->headers, "Expect:");
    if (reply->m_method == "GET") {
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    } else if (reply->m_method == "POST") {
        curl_easy_setopt(e, CURLOPT_POST, 1L);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, long(t->body.size()));
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, t->body.constData());
    } else {
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, reply->m_method.constData());
        if (!t->body.isEmpty()) {
            curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, long(t->body.size()));
            curl_easy_setopt(e, CURLOPT_POSTFIELDS, t->body.constData());
        }
    }
    if (!t->body.isEmpty())
        t->headers = curl_slist_append(t->headers, "Content-Type: application/json");
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);

    // Streams (events, exec output) may run for ever once open, yet must
    // open promptly: that part has its own deadline.
    if (t->responseTimeoutMs > 0 && (t->timeoutMs == 0 || t->responseTimeoutMs < t->timeoutMs)) {
        t->responseDeadline = new QTimer;
        t->responseDeadline->setSingleShot(true);
        QObject::connect(t->responseDeadline, &QTimer::timeout, q, [this, t] {
            t->responseTimedOut = true;
            if (t->reply)
                abort(t->reply, {});
        });
        t->responseDeadline->start(t->responseTimeoutMs);
    }

    transfers.insert(reply, t);
    const CURLMcode rc = curl_multi_add_handle(multi, e);
    if (rc != CURLM_OK) {
        transfers.remove(reply);
        cleanup(t);
        reply->finish(Internal::dockerError(reply->where() +
                                            QStringLiteral(": could not start the request (") +
                                            QString::fromUtf8(curl_multi_strerror(rc)) + u')'));
    }
}

void DockerClientPrivate::abort(DockerReply *reply, const QString &why)
{
    Transfer *t = transfers.take(reply);
    if (!t)
        return;
    curl_multi_remove_handle(multi, t->easy);
    const bool timedOut = t->responseTimedOut;
    const int waitedMs = t->responseTimeoutMs;
    cleanup(t);
    if (timedOut) {
        reply->finish(Internal::dockerError(
            reply->where() + QStringLiteral(": the engine accepted the connection but sent no "
                                            "answer within %1 s (timed out)")
                                 .arg(waitedMs / 1000.0, 0, 'f', 1)));
    } else {
        reply->finish(Internal::dockerError(reply->where() + u": " + why));
    }
}

void DockerClientPrivate::forget(DockerReply *reply)
{
    if (Transfer *t = transfers.take(reply)) {
        curl_multi_remove_handle(multi, t->easy);
        cleanup(t);
    }
    for (qsizetype i = waiting.size() - 1; i >= 0; --i) {
        if (waiting.at(i).reply == reply || !waiting.at(i).reply)
            waiting.removeAt(i);
    }
}

void DockerClientPrivate::cleanup(Transfer *t)
{
    curl_easy_cleanup(t->easy);
    curl_slist_free_all(t->headers);
    delete t->responseDeadline;
    delete t;
}

void DockerClientPrivate::socketAction(curl_socket_t fd, int events)
{
    int running = 0;
    curl_multi_socket_action(multi, fd, events, &running);
    collectDone();
}

void DockerClientPrivate::collectDone()
{
    // Finished transfers are taken out of curl here, outside every curl
    // callback; their replies tell the world later (queued), so no slot ever
    // runs inside curl.
    int left = 0;
    while (CURLMsg *msg = curl_multi_info_read(multi, &left)) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        Transfer *t = nullptr;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &t);
        const CURLcode code = msg->data.result;
        if (t)
            finishTransfer(t, code);
    }
}

void DockerClientPrivate::finishTransfer(Transfer *t, CURLcode code)
{
    curl_multi_remove_handle(multi, t->easy);
    DockerReply *reply = t->reply;
    if (reply)
        transfers.remove(reply);
    if (!reply) {
        cleanup(t);
        return;
    }
    if (code == CURLE_OK) {
        cleanup(t);
        reply->finish(reply->m_response);
        return;
    }
    const QString why = describe(t, code);
    cleanup(t);
    reply->finish(Internal::dockerError(reply->where() + u": " + why));
}

QString DockerClientPrivate::describe(Transfer *t, CURLcode code) const
{
    const QString detail =
        QString::fromUtf8(t->errorText[0] ? t->errorText : curl_easy_strerror(code));
    const QString &path = q->m_endpoint.socketPath;
    switch (code) {
    case CURLE_COULDNT_CONNECT:
        if (!QFileInfo::exists(path))
            return QStringLiteral("the Docker socket %1 does not exist (is the engine running, "
                                  "or the SSH forward to it up?)")
                .arg(path);
        return QStringLiteral("cannot connect to the Docker socket %1 (nothing listens there, "
                              "or no permission): %2")
            .arg(path, detail);
    case CURLE_OPERATION_TIMEDOUT:
        if (!t->headersDone)
            return QStringLiteral("no answer within %1 s (timed out): %2")
                .arg(t->timeoutMs / 1000.0, 0, 'f', 1)
                .arg(detail);
        return QStringLiteral("the answer did not complete within %1 s (timed out)")
            .arg(t->timeoutMs / 1000.0, 0, 'f', 1);
    case CURLE_GOT_NOTHING:
        return QStringLiteral("the engine closed the connection without answering");
    case CURLE_WRITE_ERROR:
        if (t->bodyTooLarge)
            return QStringLiteral("the answer is larger than %1 MiB; refused")
                .arg(MaxBodyBytes / (1024 * 1024));
        break;
    case CURLE_RECV_ERROR:
    case CURLE_PARTIAL_FILE:
        if (t->headersDone)
            return QStringLiteral("the connection broke while the answer was arriving: %1")
                .arg(detail);
        break;
    default:
        break;
    }
    return detail;
}

int DockerClientPrivate::onSocket(CURL *, curl_socket_t fd, int what, void *userp, void *)
{
    auto *d = static_cast<DockerClientPrivate *>(userp);
    Watch &w = d->watches[fd];
    // A notifier may be inside its own activated() right now (we are called
    // from socketAction): never delete one directly.
    auto drop = [](QSocketNotifier *&n) {
        if (n) {
            n->setEnabled(false);
            n->deleteLater();
            n = nullptr;
        }
    };
    auto make = [d, fd](QSocketNotifier::Type type) {
        auto *n = new QSocketNotifier(fd, type, d->q);
        const int event = type == QSocketNotifier::Read ? CURL_CSELECT_IN : CURL_CSELECT_OUT;
        QObject::connect(n, &QSocketNotifier::activated, d->q,
                         [d, fd, event] { d->socketAction(fd, event); });
        return n;
    };
    if (what == CURL_POLL_REMOVE) {
        drop(w.read);
        drop(w.write);
        d->watches.remove(fd);
        return 0;
    }
    const bool wantRead = what == CURL_POLL_IN || what == CURL_POLL_INOUT;
    const bool wantWrite = what == CURL_POLL_OUT || what == CURL_POLL_INOUT;
    if (wantRead && !w.read)
        w.read = make(QSocketNotifier::Read);
    else if (!wantRead)
        drop(w.read);
    if (wantWrite && !w.write)
        w.write = make(QSocketNotifier::Write);
    else if (!wantWrite)
        drop(w.write);
    return 0;
}

int DockerClientPrivate::onTimer(CURLM *, long timeoutMs, void *userp)
{
    auto *d = static_cast<DockerClientPrivate *>(userp);
    if (timeoutMs < 0)
        d->curlTimer.stop();
    else
        d->curlTimer.start(int(timeoutMs)); // 0: as soon as the event loop is back
    return 0;
}

size_t DockerClientPrivate::onHeader(char *data, size_t size, size_t count, void *userp)
{
    auto *t = static_cast<Transfer *>(userp);
    const size_t n = size * count;
    if (!t->reply)
        return n;
    const QByteArray line = QByteArray(data, qsizetype(n)).trimmed();
    DockerResponse &r = t->reply->m_response;
    if (line.startsWith("HTTP/")) {
        // A new header block (after 1xx) replaces the previous one.
        const QList<QByteArray> parts = line.split(' ');
        r.status = parts.size() > 1 ? parts.at(1).toInt() : 0;
        r.headers.clear();
    } else if (line.isEmpty()) {
        if (r.status >= 200 && !t->headersDone) {
            t->headersDone = true;
            if (t->responseDeadline)
                t->responseDeadline->stop();
            QPointer<DockerReply> reply = t->reply;
            const int status = r.status;
            QMetaObject::invokeMethod(
                reply.data(), [reply, status] { Q_EMIT reply->headersReceived(status); },
                Qt::QueuedConnection);
        }
    } else if (const qsizetype colon = line.indexOf(':'); colon > 0) {
        r.headers.append({line.left(colon).trimmed().toLower(), line.mid(colon + 1).trimmed()});
    }
    return n;
}

size_t DockerClientPrivate::onBody(char *data, size_t size, size_t count, void *userp)
{
    auto *t = static_cast<Transfer *>(userp);
    const size_t n = size * count;
    DockerReply *reply = t->reply;
    if (!reply)
        return n;
    if (reply->m_streaming) {
        const bool wasEmpty = reply->m_unread.isEmpty();
        reply->m_unread.append(data, qsizetype(n));
        if (wasEmpty) {
            QMetaObject::invokeMethod(
                reply,
                [reply] {
                    if (!reply->m_unread.isEmpty())
                        Q_EMIT reply->readyRead();
                },
                Qt::QueuedConnection);
        }
        return n;
    }
    if (reply->m_response.body.size() + qsizetype(n) > MaxBodyBytes) {
        t->bodyTooLarge = true;
        return 0;
    }
    reply->m_response.body.append(data, qsizetype(n));
    return n;
}

} // namespace Internal

using Internal::DockerClientPrivate;

DockerClient::DockerClient(DockerEndpoint endpoint, QObject *parent)
    : QObject(parent)
    , m_endpoint(std::move(endpoint))
    , d(std::make_unique<DockerClientPrivate>(this))
{}

DockerClient::DockerClient(const QString &socketPath, QObject *parent)
    : DockerClient(DockerEndpoint{socketPath, {}}, parent)
{}

DockerClient::~DockerClient()
{
    for (const auto &w : std::as_const(d->waiting)) {
        if (w.reply)
            w.reply->m_client = nullptr;
    }
    d.reset();
}

QString DockerClient::displayName() const
{
    if (m_endpoint.name.isEmpty())
        return m_endpoint.socketPath;
    return m_endpoint.name + QStringLiteral(" (") + m_endpoint.socketPath + u')';
}

DockerReply *DockerClient::send(const QByteArray &method, const QString &path,
                                const QUrlQuery &query, const QByteArray &body,
                                RequestOptions options)
{
    QString tail = path;
    if (!query.isEmpty())
        tail += u'?' + query.toString(QUrl::FullyEncoded);
    const bool versioned = options.versioned;
    const QString sentPath =
        versioned && !m_apiVersion.isEmpty() ? QString(u"/v" + m_apiVersion + tail) : tail;
    auto *reply = new DockerReply(this, method, sentPath, options.streaming);
    if (!versioned || !m_apiVersion.isEmpty()) {
        d->start(reply, reply->m_path, body, options);
        return reply;
    }
    d->waiting.append({reply, tail, body, options});
    if (!m_negotiating)
        startNegotiation();
    return reply;
}

DockerReply *DockerClient::get(const QString &path, const QUrlQuery &query, RequestOptions options)
{
    return send("GET", path, query, {}, options);
}

DockerReply *DockerClient::post(const QString &path, const QJsonObject &body,
                                const QUrlQuery &query, RequestOptions options)
{
    return send("POST", path, query, QJsonDocument(body).toJson(QJsonDocument::Compact), options);
}

DockerReply *DockerClient::remove(const QString &path, const QUrlQuery &query,
                                  RequestOptions options)
{
    return send("DELETE", path, query, {}, options);
}

DockerReply *DockerClient::ping()
{
    RequestOptions o;
    o.versioned = false;
    return get(QStringLiteral("/_ping"), {}, o);
}

DockerReply *DockerClient::version()
{
    return get(QStringLiteral("/version"));
}

DockerReply *DockerClient::info()
{
    return get(QStringLiteral("/info"));
}

DockerReply *DockerClient::nodes()
{
    return get(QStringLiteral("/nodes"));
}

DockerReply *DockerClient::services()
{
    QUrlQuery q;
    q.addQueryItem(QStringLiteral("status"), QStringLiteral("true"));
    return get(QStringLiteral("/services"), q);
}

DockerReply *DockerClient::tasks(const DockerFilters &filters)
{
    QUrlQuery q;
    if (!filters.isEmpty()) {
        q.addQueryItem(QStringLiteral("filters"),
                       QString::fromUtf8(QUrl::toPercentEncoding(
                           QString::fromUtf8(DockerReaders::encodeFilters(filters)))));
    }
    return get(QStringLiteral("/tasks"), q);
}

DockerReply *DockerClient::containers(const DockerFilters &filters, bool all)
{
    QUrlQuery q;
    if (all)
        q.addQueryItem(QStringLiteral("all"), QStringLiteral("true"));
    if (!filters.isEmpty()) {
        q.addQueryItem(QStringLiteral("filters"),
                       QString::fromUtf8(QUrl::toPercentEncoding(
                           QString::fromUtf8(DockerReaders::encodeFilters(filters)))));
    }
    return get(QStringLiteral("/containers/json"), q);
}

DockerExec *DockerClient::exec(const QString &containerId, const QStringList &command,
                               const DockerExecOptions &options)
{
    return new DockerExec(this, containerId, command, options);
}

void DockerClient::startNegotiation()
{
    m_negotiating = true;
    DockerReply *p = ping();
    connect(p, &DockerReply::finished, this, [this, p] { negotiationFinished(p); });
}

void DockerClient::negotiationFinished(DockerReply *ping)
{
    const auto r = ping->result();
    if (!r) {
        failWaiting(r.error().message);
        return;
    }
    const QByteArray header = r.value().header("api-version");
    if (header.isEmpty()) {
        // Something between us and the engine dropped the header: ask /version.
        RequestOptions o;
        o.versioned = false;
        DockerReply *v = get(QStringLiteral("/version"), {}, o);
        connect(v, &DockerReply::finished, this, [this, v] { versionFallbackFinished(v); });
        return;
    }
    const auto version =
        DockerReaders::negotiateApiVersion(QString::fromLatin1(header), MaxApiMinor, MinApiMinor);
    if (!version) {
        failWaiting(displayName() + u": " + version.error().message);
        return;
    }
    setNegotiated(version.value());
}

void DockerClient::versionFallbackFinished(DockerReply *version)
{
    const auto doc = version->json();
    if (!doc) {
        failWaiting(doc.error().message);
        return;
    }
    const auto server = DockerReaders::readVersionApi(doc.value());
    const auto negotiated =
        server ? DockerReaders::negotiateApiVersion(server.value(), MaxApiMinor, MinApiMinor)
               : Result<QString>(server.error());
    if (!negotiated) {
        failWaiting(displayName() + u": " + negotiated.error().message);
        return;
    }
    setNegotiated(negotiated.value());
}

void DockerClient::setNegotiated(const QString &version)
{
    m_negotiating = false;
    m_apiVersion = version;
    const QList<Internal::WaitingRequest> waiting = std::exchange(d->waiting, {});
    for (const auto &w : waiting) {
        if (!w.reply)
            continue;
        w.reply->m_path = u"/v" + m_apiVersion + w.tail;
        d->start(w.reply, w.reply->m_path, w.body, w.options);
    }
    Q_EMIT apiVersionNegotiated(m_apiVersion);
}

void DockerClient::failWaiting(const QString &why)
{
    m_negotiating = false;
    const QList<Internal::WaitingRequest> waiting = std::exchange(d->waiting, {});
    for (const auto &w : waiting) {
        if (w.reply)
            w.reply->finish(Internal::dockerError(
                w.reply->where() + QStringLiteral(": the API version could not be negotiated: ") +
                why));
    }
}

void DockerClient::abortReply(DockerReply *reply)
{
    for (qsizetype i = 0; i < d->waiting.size(); ++i) {
        if (d->waiting.at(i).reply == reply) {
            d->waiting.removeAt(i);
            reply->finish(Internal::dockerError(reply->where() + QStringLiteral(": cancelled")));
            return;
        }
    }
    d->abort(reply, QStringLiteral("cancelled"));
}

void DockerClient::detachReply(DockerReply *reply)
{
    d->forget(reply);
}

} // namespace Pilothouse
