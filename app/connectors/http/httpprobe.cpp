#include "app/connectors/http/httpprobe.h"

#include "app/connectors/http/httperror_p.h"

#include <QCryptographicHash>
#include <QElapsedTimer>
#include <QNetworkAccessManager>
#include <QNetworkProxy>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QSslConfiguration>
#include <QTimer>

#include <algorithm>

namespace Pilothouse {
namespace {

// One monotonic clock for all latencies of this process.
qint64 nowNs()
{
    static QElapsedTimer clock;
    if (!clock.isValid())
        clock.start();
    return clock.nsecsElapsed();
}

int defaultPort(const QUrl &url)
{
    return url.port(url.scheme() == QLatin1String("https") ? 443 : 80);
}

QString transportHint(QNetworkReply::NetworkError e)
{
    switch (e) {
    case QNetworkReply::ConnectionRefusedError:
        return QStringLiteral("connection refused: is the proxy running on that host and its "
                              "port published?");
    case QNetworkReply::HostNotFoundError:
        return QStringLiteral("host not found: the name does not resolve here; give the "
                              "address to connect to");
    case QNetworkReply::RemoteHostClosedError:
        return QStringLiteral("the server closed the connection before answering");
    case QNetworkReply::SslHandshakeFailedError:
        return QStringLiteral("TLS handshake failed");
    default:
        return {};
    }
}

} // namespace

HttpProbe::HttpProbe(QObject *parent)
    : QObject(parent)
{}

QNetworkAccessManager *HttpProbe::networkFor(const QList<QSslCertificate> &caCertificates)
{
    QList<QByteArray> digests;
    for (const QSslCertificate &c : caCertificates)
        digests.append(c.digest(QCryptographicHash::Sha256));
    std::sort(digests.begin(), digests.end());
    const QByteArray key = digests.join(',');
    QNetworkAccessManager *&network = m_networks[key];
    if (!network) {
        network = new QNetworkAccessManager(this);
        // The cluster's addresses are reached directly (or through SSH), never
        // through a system HTTP proxy; and no proxy lookup per request.
        network->setProxy(QNetworkProxy::NoProxy);
    }
    return network;
}

HttpProbe::~HttpProbe()
{
    for (auto &p : m_pending) {
        p.reply->disconnect(this);
        p.reply->abort();
    }
}

QString HttpProbe::describe(const HttpProbeRequest &request)
{
    QString text =
        QString::fromLatin1(request.method) + u' ' + request.url.toString(QUrl::RemoveUserInfo);
    if (!request.connectAddress.isEmpty())
        text +=
            QStringLiteral(" via %1:%2").arg(request.connectAddress).arg(defaultPort(request.url));
    return text;
}

HttpProbe::RequestId HttpProbe::get(const HttpProbeRequest &request, QObject *context,
                                    Callback done)
{
    QUrl target = request.url;
    if (!request.connectAddress.isEmpty())
        target.setHost(request.connectAddress);
    QNetworkRequest r(target);
    r.setAttribute(QNetworkRequest::CacheLoadControlAttribute, QNetworkRequest::AlwaysNetwork);
    // HTTP/2 would carry the name as :authority from the URL (the address);
    // HTTP/1.1 sends our Host header as given.
    r.setAttribute(QNetworkRequest::Http2AllowedAttribute, false);
    r.setAttribute(QNetworkRequest::RedirectPolicyAttribute,
                   request.followRedirects ? QNetworkRequest::NoLessSafeRedirectPolicy
                                           : QNetworkRequest::ManualRedirectPolicy);
    if (!request.reuseConnection)
        r.setRawHeader("Connection", "close");
    if (!request.connectAddress.isEmpty()) {
        QByteArray host = request.url.host(QUrl::FullyEncoded).toLatin1();
        const int schemePort = request.url.scheme() == QLatin1String("https") ? 443 : 80;
        if (request.url.port() > 0 && request.url.port() != schemePort)
            host += ':' + QByteArray::number(request.url.port());
        r.setRawHeader("Host", host);
        r.setPeerVerifyName(request.url.host());
    }
    if (request.url.scheme() == QLatin1String("https")) {
        QSslConfiguration ssl = QSslConfiguration::defaultConfiguration();
        if (!request.caCertificates.isEmpty())
            ssl.addCaCertificates(request.caCertificates);
        r.setSslConfiguration(ssl);
    }
    QNetworkReply *reply = networkFor(request.caCertificates)->sendCustomRequest(r, request.method);

    const RequestId id = m_nextId++;
    Pending p;
    p.reply = reply;
    p.request = request;
    p.context = context;
    p.hasContext = context != nullptr;
    p.done = std::move(done);
    p.startedNs = nowNs();
    m_pending.insert(id, std::move(p));

    auto *deadline = new QTimer(reply);
    deadline->setSingleShot(true);
    connect(deadline, &QTimer::timeout, this, [this, id] {
        auto it = m_pending.find(id);
        if (it == m_pending.end())
            return;
        it->timedOut = true;
        it->reply->abort();
    });
    deadline->start(request.timeoutMs);
    connect(reply, &QNetworkReply::metaDataChanged, this, [this, id] {
        auto it = m_pending.find(id);
        if (it != m_pending.end() && it->firstByteNs == 0)
            it->firstByteNs = nowNs();
    });
    connect(reply, &QNetworkReply::sslErrors, this, [this, id](const QList<QSslError> &errors) {
        auto it = m_pending.find(id);
        if (it == m_pending.end())
            return;
        for (const QSslError &e : errors)
            it->sslErrors.append(e.errorString());
    });
    connect(reply, &QNetworkReply::readyRead, this, [this, id] { onReadyRead(id); });
    connect(reply, &QNetworkReply::finished, this, [this, id] { onFinished(id); });
    return id;
}

void HttpProbe::onReadyRead(RequestId id)
{
    auto it = m_pending.find(id);
    if (it == m_pending.end() || !it->reply->isOpen())
        return;
    const QByteArray chunk = it->reply->readAll();
    it->bodySize += chunk.size();
    const qsizetype room = it->request.maxBodyBytes - it->body.size();
    if (room > 0)
        it->body += chunk.left(room);
}

void HttpProbe::onFinished(RequestId id)
{
    auto it = m_pending.find(id);
    if (it == m_pending.end())
        return;
    onReadyRead(id);
    it = m_pending.find(id);
    Pending p = std::move(*it);
    m_pending.erase(it);
    p.reply->deleteLater();

    const qint64 endNs = nowNs();
    const QString what = describe(p.request);
    const QVariant status = p.reply->attribute(QNetworkRequest::HttpStatusCodeAttribute);
    Result<HttpProbeResult> result = HttpProbeResult{};
    if (p.cancelled) {
        result = makeError(what + QStringLiteral(": cancelled"));
    } else if (p.timedOut) {
        result = makeError(QStringLiteral("%1: no answer within %2 s")
                               .arg(what)
                               .arg(p.request.timeoutMs / 1000.0, 0, 'f', 1));
    } else if (!status.isValid()) {
        QString why = transportHint(p.reply->error());
        if (why.isEmpty())
            why = p.reply->errorString();
        if (!p.sslErrors.isEmpty())
            why += QStringLiteral(": ") + p.sslErrors.join(QStringLiteral("; ")) +
                   QStringLiteral(" (trust the server's CA, or check the name it is reached by)");
        result = makeError(what + QStringLiteral(": ") + why);
    } else {
        HttpProbeResult r;
        r.url = p.request.url;
        const QUrl target = p.reply->url();
        r.connectedTo = target.host() + u':' + QString::number(defaultPort(target));
        r.statusCode = status.toInt();
        r.reason = p.reply->attribute(QNetworkRequest::HttpReasonPhraseAttribute).toString();
        r.location = QString::fromUtf8(p.reply->rawHeader("Location"));
        r.contentType = QString::fromUtf8(p.reply->rawHeader("Content-Type"));
        r.latencyMs = (endNs - p.startedNs) / 1e6;
        r.firstByteMs = ((p.firstByteNs ? p.firstByteNs : endNs) - p.startedNs) / 1e6;
        r.body = std::move(p.body);
        r.bodySize = p.bodySize;
        result = std::move(r);
    }
    if (p.hasContext && !p.context)
        return;
    p.done(std::move(result));
}

void HttpProbe::cancel(RequestId id)
{
    auto it = m_pending.find(id);
    if (it == m_pending.end())
        return;
    it->cancelled = true;
    it->reply->abort(); // finishes synchronously: the callback runs now
    if (m_pending.contains(id))
        onFinished(id);
}

void HttpProbe::cancelAll()
{
    const QList<RequestId> ids = m_pending.keys();
    for (RequestId id : ids)
        cancel(id);
}

} // namespace Pilothouse
