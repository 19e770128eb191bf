// EtcdClient and EtcdWatch over a real socket: a loopback server replays
// answers captured from the lab's etcd, whole or in small pieces.

#include "app/connectors/etcd/etcdclient.h"
#include "app/connectors/etcd/etcdjson.h"
#include "app/connectors/etcd/etcdlock.h"
#include "app/connectors/etcd/etcdwatch.h"

#include <QElapsedTimer>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

#include "tests/testsupport.h"
#include "tests/unit/http/fakehttpserver.h"
#include <memory>

using namespace Pilothouse;

namespace {

QByteArray fixture(const char *name)
{
    return TestSupport::fixture("etcd", name);
}

QList<QByteArray> pieces(const QByteArray &data, int size)
{
    QList<QByteArray> out;
    for (qsizetype i = 0; i < data.size(); i += size)
        out.append(data.mid(i, size));
    return out;
}

} // namespace

class TestEtcdClient final : public QObject
{
    Q_OBJECT

private:
    std::unique_ptr<FakeHttpServer> m_server;
    std::unique_ptr<EtcdClient> m_client;

    QUrl url() const { return QUrl(QStringLiteral("http://127.0.0.1:%1").arg(m_server->port())); }

private Q_SLOTS:
    void init()
    {
        m_server = std::make_unique<FakeHttpServer>();
        QVERIFY(m_server->listen());
        m_client = std::make_unique<EtcdClient>(url(), QStringLiteral("etcd1"));
    }
    void cleanup()
    {
        m_client.reset();
        m_server.reset();
    }

    void statusRoundTrip()
    {
        m_server->setHandler([](const FakeHttpServer::Request &r) {
            FakeHttpServer::Response resp;
            if (r.path == "/v3/maintenance/status")
                resp.body = fixture("status-etcd1.json");
            else if (r.path == "/v3/cluster/member/list")
                resp.body = fixture("member-list.json");
            else
                resp.status = 404;
            return resp;
        });
        std::optional<EtcdStatus> status;
        std::optional<EtcdMemberList> members;
        m_client->status(this, [&](Result<EtcdStatus> r) {
            QVERIFY(r);
            status = r.value();
        });
        m_client->memberList(this, [&](Result<EtcdMemberList> r) {
            QVERIFY(r);
            members = r.value();
        });
        QCOMPARE(m_client->pendingCount(), 2);
        QTRY_VERIFY(status && members);
        QCOMPARE(status->leader, Q_UINT64_C(13175292824932566427));
        QCOMPARE(members->members.size(), 3);
        QCOMPARE(m_client->pendingCount(), 0);
        const auto &req = m_server->requests().at(0);
        QCOMPARE(req.method, QByteArray("POST"));
        QCOMPARE(req.headers.value("content-type"), QByteArray("application/json"));
        QCOMPARE(req.body, QByteArray("{}"));
    }

    void requestBodies()
    {
        m_server->setHandler([](const FakeHttpServer::Request &) {
            FakeHttpServer::Response resp;
            resp.body = fixture("txn-lock-won.json");
            return resp;
        });
        std::optional<EtcdTxnResult> txn;
        m_client->txn(EtcdJson::lockTxn("/l", "me", 7), this, [&](Result<EtcdTxnResult> r) {
            QVERIFY(r);
            txn = r.value();
        });
        QTRY_VERIFY(txn);
        QVERIFY(txn->succeeded);
        const QJsonObject sent = QJsonDocument::fromJson(m_server->requests().at(0).body).object();
        QCOMPARE(sent, EtcdJson::txnRequest(EtcdJson::lockTxn("/l", "me", 7)));
        QCOMPARE(m_server->requests().at(0).path, QByteArray("/v3/kv/txn"));
    }

    void gatewayErrorBecomesError()
    {
        m_server->setHandler([](const FakeHttpServer::Request &) {
            FakeHttpServer::Response resp;
            resp.status = 404;
            resp.body = fixture("error-lease-not-found.json");
            return resp;
        });
        QString message;
        m_client->leaseRevoke(5015780827956757514, this, [&](Result<EtcdHeader> r) {
            QVERIFY(!r);
            message = r.error().message;
        });
        QTRY_VERIFY(!message.isEmpty());
        const QString expected =
            QStringLiteral("etcd etcd1 at 127.0.0.1:%1: /v3/lease/revoke: etcdserver: requested "
                           "lease not found (gRPC NOT_FOUND): the lease expired or was revoked; "
                           "grant a new lease")
                .arg(m_server->port());
        QCOMPARE(message, expected);
    }

    void httpErrorWithoutJson()
    {
        m_server->setHandler([](const FakeHttpServer::Request &) {
            FakeHttpServer::Response resp;
            resp.status = 502;
            resp.body = "<html>bad gateway</html>";
            return resp;
        });
        QString message;
        m_client->range({"k", {}, 0, 0, false, false}, this, [&](Result<EtcdRangeResult> r) {
            QVERIFY(!r);
            message = r.error().message;
        });
        QTRY_VERIFY(!message.isEmpty());
        QVERIFY2(message.contains(QStringLiteral("/v3/kv/range: HTTP 502")), qPrintable(message));
    }

    void unhealthyIsAValue()
    {
        m_server->setHandler([](const FakeHttpServer::Request &r) {
            FakeHttpServer::Response resp;
            resp.status = 503;
            resp.body = R"({"health":"false"})";
            if (r.method != "GET" || r.path != "/health")
                resp.status = 400;
            return resp;
        });
        std::optional<EtcdHealth> health;
        m_client->health(this, [&](Result<EtcdHealth> r) {
            QVERIFY(r);
            health = r.value();
        });
        QTRY_VERIFY(health);
        QVERIFY(!health->healthy);
        QCOMPARE(health->httpStatus, 503);
    }

    void timeout()
    {
        m_server->setHandler([](const FakeHttpServer::Request &) {
            FakeHttpServer::Response resp;
            resp.hang = true;
            return resp;
        });
        m_client->setTimeout(300);
        QString message;
        QElapsedTimer clock;
        clock.start();
        m_client->status(this, [&](Result<EtcdStatus> r) {
            QVERIFY(!r);
            message = r.error().message;
        });
        QTRY_VERIFY_WITH_TIMEOUT(!message.isEmpty(), 5000);
        QVERIFY(clock.elapsed() >= 250);
        QVERIFY(clock.elapsed() < 3000);
        QVERIFY2(message.contains(QStringLiteral("no answer within 0.3 s")), qPrintable(message));
        QCOMPARE(m_client->pendingCount(), 0);
    }

    void cancel()
    {
        m_server->setHandler([](const FakeHttpServer::Request &) {
            FakeHttpServer::Response resp;
            resp.hang = true;
            return resp;
        });
        QString message;
        const auto id = m_client->status(this, [&](Result<EtcdStatus> r) {
            QVERIFY(!r);
            message = r.error().message;
        });
        m_client->cancel(id);
        QVERIFY2(message.endsWith(QStringLiteral("/v3/maintenance/status: cancelled")),
                 qPrintable(message));
        QCOMPARE(m_client->pendingCount(), 0);
        m_client->cancel(id); // finished ids are ignored
    }

    void deadContextGetsNoCallback()
    {
        m_server->setHandler([](const FakeHttpServer::Request &) {
            FakeHttpServer::Response resp;
            resp.body = fixture("status-etcd1.json");
            return resp;
        });
        bool called = false;
        auto *context = new QObject;
        m_client->status(context, [&](Result<EtcdStatus>) { called = true; });
        delete context;
        bool second = false;
        m_client->status(this, [&](Result<EtcdStatus>) { second = true; });
        QTRY_VERIFY(second);
        QTRY_COMPARE(m_client->pendingCount(), 0);
        QVERIFY(!called);
    }

    void connectionRefused()
    {
        const QUrl gone = url();
        m_server.reset(); // nothing listens there any more
        EtcdClient client(gone, QStringLiteral("etcd2"));
        QString message;
        client.status(this, [&](Result<EtcdStatus> r) {
            QVERIFY(!r);
            message = r.error().message;
        });
        QTRY_VERIFY(!message.isEmpty());
        QVERIFY2(message.startsWith(QStringLiteral("etcd etcd2 at 127.0.0.1:")),
                 qPrintable(message));
        QVERIFY2(message.contains(QStringLiteral("connection refused")), qPrintable(message));
    }

    void watchParsesPiecesIncrementally()
    {
        const QByteArray stream = fixture("watch-stream.ndjson");
        m_server->setHandler([&](const FakeHttpServer::Request &) {
            FakeHttpServer::Response resp;
            resp.chunks = pieces(stream, 37); // splits messages mid-line
            resp.chunkIntervalMs = 2;
            return resp;
        });
        EtcdWatchRequest req;
        req.key = "/pilothouse-fixture/";
        req.rangeEnd = EtcdJson::prefixRangeEnd(req.key);
        req.prevKv = true;
        EtcdWatch *watch = m_client->watch(req, this);
        qint64 createdAt = -1;
        QList<EtcdEvent> events;
        QList<qint64> revisions;
        QString failure;
        connect(watch, &EtcdWatch::created, this, [&](qint64 rev) { createdAt = rev; });
        connect(watch, &EtcdWatch::eventReceived, this, [&](const EtcdEvent &e, qint64 rev) {
            QVERIFY(createdAt >= 0); // created comes first
            events.append(e);
            revisions.append(rev);
        });
        connect(watch, &EtcdWatch::failed, this, [&](const Error &e) { failure = e.message; });
        QTRY_COMPARE(events.size(), 6);
        QCOMPARE(createdAt, 1);
        QCOMPARE(revisions, (QList<qint64>{2, 3, 4, 5, 6, 7}));
        QCOMPARE(events.at(0).kv.value, QByteArray("hello"));
        QCOMPARE(events.at(1).prevKv->value, QByteArray("hello"));
        QCOMPARE(events.at(4).type, EtcdEvent::Type::Delete);
        QCOMPARE(watch->revision(), 7);
        QVERIFY(watch->isActive());
        QVERIFY(failure.isEmpty());
        const QJsonObject sent = QJsonDocument::fromJson(m_server->requests().at(0).body).object();
        QCOMPARE(sent, EtcdJson::watchCreateRequest(req));

        // The caller's cancel is quiet, even when the server then goes away.
        watch->cancel();
        QVERIFY(!watch->isActive());
        m_server->dropConnections();
        QTest::qWait(50); // nothing may arrive; there is no event to wait for
        QVERIFY(failure.isEmpty());
    }

    void watchFailsWhenMemberGoes()
    {
        m_server->setHandler([](const FakeHttpServer::Request &) {
            FakeHttpServer::Response resp;
            resp.chunks = {fixture("watch-stream.ndjson").split('\n').at(0) + '\n'};
            return resp;
        });
        EtcdWatch *watch = m_client->watch({"/p/", "/p0", 0, false}, this);
        QString failure;
        connect(watch, &EtcdWatch::failed, this, [&](const Error &e) { failure = e.message; });
        QTRY_VERIFY(watch->isCreated());
        m_server->dropConnections();
        QTRY_VERIFY(!failure.isEmpty());
        QVERIFY2(failure.startsWith(QStringLiteral("etcd etcd1 at 127.0.0.1:")),
                 qPrintable(failure));
        QVERIFY(!watch->isActive());
    }

    void watchCancelledByEtcd()
    {
        m_server->setHandler([](const FakeHttpServer::Request &) {
            FakeHttpServer::Response resp;
            resp.chunks = {
                R"({"result":{"header":{"revision":"90"},"created":true}})"
                "\n",
                R"({"result":{"header":{"revision":"90"},"canceled":true,"compact_revision":"50"}})"
                "\n"};
            return resp;
        });
        EtcdWatch *watch = m_client->watch({"/p/", "/p0", 3, false}, this);
        QString failure;
        connect(watch, &EtcdWatch::failed, this, [&](const Error &e) { failure = e.message; });
        QTRY_VERIFY(!failure.isEmpty());
        QVERIFY2(failure.contains(QStringLiteral("revisions before 50 were compacted")),
                 qPrintable(failure));
    }

    void watchNotConfirmedInTime()
    {
        m_server->setHandler([](const FakeHttpServer::Request &) {
            FakeHttpServer::Response resp;
            resp.hang = true;
            return resp;
        });
        m_client->setTimeout(200);
        EtcdWatch *watch = m_client->watch({"/p/", "/p0", 0, false}, this);
        QString failure;
        connect(watch, &EtcdWatch::failed, this, [&](const Error &e) { failure = e.message; });
        QTRY_VERIFY(!failure.isEmpty());
        QVERIFY2(failure.contains(QStringLiteral("did not confirm the watch within 0.2 s")),
                 qPrintable(failure));
    }

    void lockBusyThenWon()
    {
        // Replays the lab's answers: the first txn loses to "holder-1", the second wins.
        int txns = 0;
        m_server->setHandler([&txns](const FakeHttpServer::Request &r) {
            FakeHttpServer::Response resp;
            if (r.path == "/v3/lease/grant")
                resp.body = fixture("lease-grant.json");
            else if (r.path == "/v3/kv/txn")
                resp.body = fixture(txns++ == 0 ? "txn-lock-lost.json" : "txn-lock-won.json");
            else if (r.path == "/v3/lease/revoke")
                resp.body = fixture("lease-revoke.json");
            else if (r.path == "/v3/lease/keepalive")
                resp.body = fixture("lease-keepalive.json");
            else
                resp.status = 404;
            return resp;
        });
        EtcdLock lock(m_client.get(), "/pilothouse/lock", "console-2", 3);
        QByteArray holder;
        qint64 holderLease = 0;
        qint64 acquiredAt = 0;
        bool released = false;
        connect(&lock, &EtcdLock::busy, this, [&](const QByteArray &h, qint64 l) {
            holder = h;
            holderLease = l;
        });
        connect(&lock, &EtcdLock::acquired, this, [&](qint64 rev) { acquiredAt = rev; });
        connect(&lock, &EtcdLock::released, this, [&] { released = true; });
        lock.acquire();
        QCOMPARE(lock.state(), EtcdLock::State::Acquiring);
        QTRY_COMPARE(holder, QByteArray("holder-1"));
        QCOMPARE(holderLease, Q_INT64_C(5015780827956757514));
        QCOMPARE(lock.state(), EtcdLock::State::Idle);
        // The loser gives its own lease back at once.
        QTRY_COMPARE(m_server->requests().last().path, QByteArray("/v3/lease/revoke"));

        lock.acquire();
        QTRY_COMPARE(acquiredAt, 5);
        QCOMPARE(lock.state(), EtcdLock::State::Held);
        QCOMPARE(lock.lease(), Q_INT64_C(5015780827956757514));
        const QJsonObject sent =
            QJsonDocument::fromJson(m_server->requests().at(m_server->requests().size() - 1).body)
                .object();
        QCOMPARE(sent, EtcdJson::txnRequest(
                           EtcdJson::lockTxn("/pilothouse/lock", "console-2", lock.lease())));
        // Kept alive every ttl/3 = 1 s while held.
        QTRY_VERIFY_WITH_TIMEOUT(m_server->requests().last().path == "/v3/lease/keepalive", 3000);
        lock.release();
        QTRY_VERIFY(released);
        QCOMPARE(lock.state(), EtcdLock::State::Idle);
        QCOMPARE(m_server->requests().last().path, QByteArray("/v3/lease/revoke"));
    }

    void lockLostWhenLeaseGone()
    {
        m_server->setHandler([](const FakeHttpServer::Request &r) {
            FakeHttpServer::Response resp;
            if (r.path == "/v3/lease/grant")
                resp.body = fixture("lease-grant.json");
            else if (r.path == "/v3/kv/txn")
                resp.body = fixture("txn-lock-won.json");
            else if (r.path == "/v3/lease/keepalive")
                resp.body = fixture("lease-keepalive-gone.json");
            else
                resp.body = fixture("lease-revoke.json");
            return resp;
        });
        EtcdLock lock(m_client.get(), "/pilothouse/lock", "console-1", 2);
        QString lost;
        connect(&lock, &EtcdLock::lost, this, [&](const Error &e) { lost = e.message; });
        lock.acquire();
        QTRY_COMPARE(lock.state(), EtcdLock::State::Held);
        QTRY_VERIFY_WITH_TIMEOUT(!lost.isEmpty(), 3000);
        QVERIFY2(lost.contains(QStringLiteral("expired")), qPrintable(lost));
        QCOMPARE(lock.state(), EtcdLock::State::Idle);
    }
};

QTEST_GUILESS_MAIN(TestEtcdClient)
#include "tst_etcdclient.moc"
