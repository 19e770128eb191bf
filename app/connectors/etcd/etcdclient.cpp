#include "app/connectors/etcd/etcdclient.h"

#include "app/connectors/etcd/etcderror_p.h"
#include "app/connectors/etcd/etcdjson.h"
#include "app/connectors/etcd/etcdwatch.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkProxy>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QTimer>

namespace Pilothouse {
namespace {

// What a person can do when no HTTP answer came at all.
QString transportHint(QNetworkReply::NetworkError e)
{
    switch (e) {
    case QNetworkReply::ConnectionRefusedError:
        return QStringLiteral("connection refused: is the etcd task running on that host and "
                              "its client port published?");
    case QNetworkReply::HostNotFoundError:
        return QStringLiteral("host not found: check the member's address in the inventory");
    case QNetworkReply::RemoteHostClosedError:
        return QStringLiteral("the member closed the connection before answering");
    case QNetworkReply::NetworkSessionFailedError:
    case QNetworkReply::UnknownNetworkError:
        return QStringLiteral("the network to the member is down: check the route to its host");
    default:
        return {};
    }
}

} // namespace

EtcdClient::EtcdClient(const QUrl &endpoint, const QString &memberName, QObject *parent)
    : QObject(parent)
    , m_network(new QNetworkAccessManager(this))
    , m_endpoint(endpoint)
    , m_memberName(memberName)
{
    // Nothing of etcd's may be cached or redirected behind our back.
    m_network->setRedirectPolicy(QNetworkRequest::ManualRedirectPolicy);
    m_network->setProxy(QNetworkProxy::NoProxy); // etcd is reached directly, never via a proxy
}

EtcdClient::~EtcdClient()
{
    // Callbacks must not run into a half-destroyed client.
    for (auto &p : m_pending) {
        p.reply->disconnect(this);
        p.reply->abort();
    }
}

QString EtcdClient::describe() const
{
    const QString address = m_endpoint.host() + u':' + QString::number(m_endpoint.port(2379));
    return m_memberName.isEmpty() ? QStringLiteral("etcd at %1").arg(address)
                                  : QStringLiteral("etcd %1 at %2").arg(m_memberName, address);
}

EtcdClient::RequestId EtcdClient::send(const QString &path, const QByteArray &body,
                                       QObject *context, RawCallback done)
{
    QUrl url = m_endpoint;
    url.setPath(path);
    QNetworkRequest request(url);
    request.setAttribute(QNetworkRequest::CacheLoadControlAttribute,
                         QNetworkRequest::AlwaysNetwork);
    QNetworkReply *reply = nullptr;
    if (body.isNull()) {
        reply = m_network->get(request);
    } else {
        request.setHeader(QNetworkRequest::ContentTypeHeader,
                          QByteArrayLiteral("application/json"));
        reply = m_network->post(request, body);
    }
    const RequestId id = m_nextId++;
    Pending p;
    p.reply = reply;
    p.path = path;
    p.context = context;
    p.hasContext = context != nullptr;
    p.done = std::move(done);
    m_pending.insert(id, std::move(p));

    // Our own deadline covers the whole call (connect + answer), which
    // QNetworkRequest::setTransferTimeout (an idle timeout) does not.
    auto *deadline = new QTimer(reply);
    deadline->setSingleShot(true);
    connect(deadline, &QTimer::timeout, this, [this, id] {
        auto it = m_pending.find(id);
        if (it == m_pending.end())
            return;
        it->timedOut = true;
        it->reply->abort();
    });
    deadline->start(m_timeoutMs);
    connect(reply, &QNetworkReply::finished, this, [this, id] { onFinished(id); });
    return id;
}

void EtcdClient::onFinished(RequestId id)
{
    auto it = m_pending.find(id);
    if (it == m_pending.end())
        return;
    Pending p = std::move(*it);
    m_pending.erase(it);
    p.reply->deleteLater();

    const QString what = describe() + QStringLiteral(": ") + p.path;
    const QVariant status = p.reply->attribute(QNetworkRequest::HttpStatusCodeAttribute);
    Result<Answer> result = Answer{};
    if (p.cancelled) {
        result = makeError(what + QStringLiteral(": cancelled"));
    } else if (p.timedOut) {
        result =
            makeError(QStringLiteral("%1: no answer within %2 s: the member may be overloaded, "
                                     "partitioned or down")
                          .arg(what)
                          .arg(m_timeoutMs / 1000.0, 0, 'f', 1));
    } else if (!status.isValid()) {
        const QString h = transportHint(p.reply->error());
        result =
            makeError(what + QStringLiteral(": ") + (h.isEmpty() ? p.reply->errorString() : h));
    } else {
        result = Answer{status.toInt(), p.reply->readAll()};
    }
    if (p.hasContext && !p.context)
        return;
    p.done(std::move(result));
}

void EtcdClient::cancel(RequestId id)
{
    auto it = m_pending.find(id);
    if (it == m_pending.end())
        return;
    it->cancelled = true;
    it->reply->abort(); // finishes synchronously: the callback runs now
    if (m_pending.contains(id))
        onFinished(id);
}

void EtcdClient::cancelAll()
{
    const QList<RequestId> ids = m_pending.keys();
    for (RequestId id : ids)
        cancel(id);
}

template<typename T>
EtcdClient::RequestId EtcdClient::call(const QString &path, const QJsonObject &body,
                                       QObject *context, Callback<T> done,
                                       Result<T> (*parse)(const QByteArray &))
{
    const QString what = describe() + QStringLiteral(": ") + path;
    return send(path, QJsonDocument(body).toJson(QJsonDocument::Compact), context,
                [what, done = std::move(done), parse](Result<Answer> answer) {
                    if (!answer) {
                        done(answer.error());
                        return;
                    }
                    const Answer &a = answer.value();
                    if (auto e = EtcdJson::gatewayError(a.body, what)) {
                        done(*e);
                        return;
                    }
                    if (a.httpStatus != 200) {
                        done(makeError(QStringLiteral("%1: HTTP %2: %3")
                                           .arg(what)
                                           .arg(a.httpStatus)
                                           .arg(QString::fromUtf8(a.body.left(200)).simplified())));
                        return;
                    }
                    Result<T> parsed = parse(a.body);
                    if (!parsed) {
                        done(makeError(what + QStringLiteral(": ") + parsed.error().message));
                        return;
                    }
                    done(std::move(parsed));
                });
}

EtcdClient::RequestId EtcdClient::health(QObject *context, Callback<EtcdHealth> done)
{
    const QString what = describe() + QStringLiteral(": /health");
    return send(QStringLiteral("/health"), QByteArray(), context,
                [what, done = std::move(done)](Result<Answer> answer) {
                    if (!answer) {
                        done(answer.error());
                        return;
                    }
                    // etcd answers 503 with a body when unhealthy: still a reading.
                    auto parsed =
                        EtcdJson::parseHealth(answer.value().httpStatus, answer.value().body);
                    if (!parsed) {
                        done(makeError(QStringLiteral("%1: HTTP %2: %3")
                                           .arg(what)
                                           .arg(answer.value().httpStatus)
                                           .arg(parsed.error().message)));
                        return;
                    }
                    done(std::move(parsed));
                });
}

EtcdClient::RequestId EtcdClient::status(QObject *context, Callback<EtcdStatus> done)
{
    return call<EtcdStatus>(QStringLiteral("/v3/maintenance/status"), QJsonObject(), context,
                            std::move(done), &EtcdJson::parseStatus);
}

EtcdClient::RequestId EtcdClient::memberList(QObject *context, Callback<EtcdMemberList> done)
{
    return call<EtcdMemberList>(QStringLiteral("/v3/cluster/member/list"), QJsonObject(), context,
                                std::move(done), &EtcdJson::parseMemberList);
}

EtcdClient::RequestId EtcdClient::range(const EtcdRangeRequest &request, QObject *context,
                                        Callback<EtcdRangeResult> done)
{
    return call<EtcdRangeResult>(QStringLiteral("/v3/kv/range"), EtcdJson::rangeRequest(request),
                                 context, std::move(done), &EtcdJson::parseRange);
}

EtcdClient::RequestId EtcdClient::put(const EtcdPutRequest &request, QObject *context,
                                      Callback<EtcdPutResult> done)
{
    return call<EtcdPutResult>(QStringLiteral("/v3/kv/put"), EtcdJson::putRequest(request), context,
                               std::move(done), &EtcdJson::parsePut);
}

EtcdClient::RequestId EtcdClient::deleteRange(const EtcdDeleteRequest &request, QObject *context,
                                              Callback<EtcdDeleteResult> done)
{
    return call<EtcdDeleteResult>(QStringLiteral("/v3/kv/deleterange"),
                                  EtcdJson::deleteRequest(request), context, std::move(done),
                                  &EtcdJson::parseDelete);
}

EtcdClient::RequestId EtcdClient::txn(const EtcdTxn &txn, QObject *context,
                                      Callback<EtcdTxnResult> done)
{
    return call<EtcdTxnResult>(QStringLiteral("/v3/kv/txn"), EtcdJson::txnRequest(txn), context,
                               std::move(done), &EtcdJson::parseTxn);
}

EtcdClient::RequestId EtcdClient::leaseGrant(qint64 ttlSeconds, QObject *context,
                                             Callback<EtcdLease> done)
{
    return call<EtcdLease>(QStringLiteral("/v3/lease/grant"),
                           EtcdJson::leaseGrantRequest(ttlSeconds), context, std::move(done),
                           &EtcdJson::parseLeaseGrant);
}

EtcdClient::RequestId EtcdClient::leaseKeepAlive(qint64 leaseId, QObject *context,
                                                 Callback<EtcdLease> done)
{
    return call<EtcdLease>(QStringLiteral("/v3/lease/keepalive"), EtcdJson::leaseIdRequest(leaseId),
                           context, std::move(done), &EtcdJson::parseLeaseKeepAlive);
}

EtcdClient::RequestId EtcdClient::leaseRevoke(qint64 leaseId, QObject *context,
                                              Callback<EtcdHeader> done)
{
    return call<EtcdHeader>(QStringLiteral("/v3/lease/revoke"), EtcdJson::leaseIdRequest(leaseId),
                            context, std::move(done), &EtcdJson::parseLeaseRevoke);
}

EtcdWatch *EtcdClient::watch(const EtcdWatchRequest &request, QObject *parent)
{
    QUrl url = m_endpoint;
    url.setPath(QStringLiteral("/v3/watch"));
    QNetworkRequest r(url);
    r.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
    QNetworkReply *reply = m_network->post(
        r, QJsonDocument(EtcdJson::watchCreateRequest(request)).toJson(QJsonDocument::Compact));
    return new EtcdWatch(reply, describe() + QStringLiteral(": /v3/watch"), m_timeoutMs, parent);
}

} // namespace Pilothouse
