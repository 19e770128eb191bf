#pragma once
// Lives on the thread that creates it (usually the GUI thread) and never
// blocks it: every call returns at once and answers later on that thread.

#include "app/connectors/etcd/etcdtypes.h"
#include "models/result.h"

#include <QHash>
#include <QObject>
#include <QPointer>
#include <QUrl>

#include <functional>

class QNetworkAccessManager;
class QNetworkReply;

namespace Pilothouse {

class EtcdWatch;

// One etcd member's v3 JSON gateway (http://host:2379). Each call takes a
// context object and a callback: the callback runs exactly once on this
// object's thread, unless the context is destroyed first, with either the
// parsed answer or an Error that names the member, the call and what to do.
// Each call has a deadline (setTimeout) and can be cancelled by its id; no
// callback runs once the client is destroyed.
class EtcdClient final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(EtcdClient)

public:
    using RequestId = quint64;
    template<typename T> using Callback = std::function<void(Result<T>)>;

    static constexpr int DefaultTimeoutMs = 5000;

    // `endpoint`: the member's client URL, e.g. http://10.213.0.11:2379.
    // `memberName` (e.g. "etcd1") only names the member in errors.
    explicit EtcdClient(const QUrl &endpoint, const QString &memberName = {},
                        QObject *parent = nullptr);
    ~EtcdClient() override;

    QUrl endpoint() const { return m_endpoint; }
    QString memberName() const { return m_memberName; }
    void setTimeout(int msec) { m_timeoutMs = msec; }
    int timeout() const { return m_timeoutMs; }

    // GET /health. An unhealthy member (HTTP 503 with {"health":"false"}) is
    // a value with healthy == false, not an error.
    RequestId health(QObject *context, Callback<EtcdHealth> done);
    RequestId status(QObject *context, Callback<EtcdStatus> done);
    RequestId memberList(QObject *context, Callback<EtcdMemberList> done);

    RequestId range(const EtcdRangeRequest &request, QObject *context,
                    Callback<EtcdRangeResult> done);
    RequestId put(const EtcdPutRequest &request, QObject *context, Callback<EtcdPutResult> done);
    RequestId deleteRange(const EtcdDeleteRequest &request, QObject *context,
                          Callback<EtcdDeleteResult> done);
    RequestId txn(const EtcdTxn &txn, QObject *context, Callback<EtcdTxnResult> done);

    RequestId leaseGrant(qint64 ttlSeconds, QObject *context, Callback<EtcdLease> done);
    // One keepalive round; the answer's ttl is 0 when the lease is gone.
    // Callers keeping a lock send one every ttl/3 seconds.
    RequestId leaseKeepAlive(qint64 leaseId, QObject *context, Callback<EtcdLease> done);
    RequestId leaseRevoke(qint64 leaseId, QObject *context, Callback<EtcdHeader> done);

    // Starts a watch; the caller owns the returned object (parent). The
    // stream stays open until EtcdWatch::cancel(), its destruction, or a failure.
    EtcdWatch *watch(const EtcdWatchRequest &request, QObject *parent);

    // The callback of `id` runs at once with an Error saying it was cancelled.
    // Unknown or finished ids are ignored.
    void cancel(RequestId id);
    void cancelAll();
    int pendingCount() const { return static_cast<int>(m_pending.size()); }

    // "etcd etcd1 at 10.213.0.11:2379": how errors name this member.
    QString describe() const;

private:
    struct Answer
    {
        int httpStatus = 0;
        QByteArray body;
    };
    using RawCallback = std::function<void(Result<Answer>)>;

    RequestId send(const QString &path, const QByteArray &body, QObject *context, RawCallback done);
    template<typename T>
    RequestId call(const QString &path, const QJsonObject &body, QObject *context, Callback<T> done,
                   Result<T> (*parse)(const QByteArray &));
    void onFinished(RequestId id);

    struct Pending
    {
        QNetworkReply *reply = nullptr;
        QString path;
        QPointer<QObject> context;
        bool hasContext = false;
        RawCallback done;
        bool timedOut = false;
        bool cancelled = false;
    };

    QNetworkAccessManager *m_network = nullptr;
    QUrl m_endpoint;
    QString m_memberName;
    int m_timeoutMs = DefaultTimeoutMs;
    RequestId m_nextId = 1;
    QHash<RequestId, Pending> m_pending;
};

} // namespace Pilothouse
