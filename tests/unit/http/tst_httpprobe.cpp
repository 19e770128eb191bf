// HttpProbe and TlsProbe over real sockets to a loopback server.

#include "app/connectors/http/httpprobe.h"
#include "app/connectors/http/tlsprobe.h"

#include <QElapsedTimer>
#include <QTest>

#include "fakehttpserver.h"
#include "tests/testsupport.h"
#include <memory>

using namespace Pilothouse;

namespace {

template<typename T, typename Call> std::optional<Result<T>> await(Call call)
{
    return TestSupport::await<T>(std::move(call), 10000);
}

} // namespace

class TestHttpProbe final : public QObject
{
    Q_OBJECT

private:
    std::unique_ptr<FakeHttpServer> m_server;
    HttpProbe m_probe;

    HttpProbeRequest request(const char *path) const
    {
        HttpProbeRequest r;
        r.url = QUrl(
            QStringLiteral("http://127.0.0.1:%1%2").arg(m_server->port()).arg(QLatin1String(path)));
        return r;
    }

private Q_SLOTS:
    void init()
    {
        m_server = std::make_unique<FakeHttpServer>();
        QVERIFY(m_server->listen());
        m_server->setHandler([](const FakeHttpServer::Request &r) {
            FakeHttpServer::Response resp;
            if (r.path == "/healthz") {
                resp.body = QByteArray(2000, 'x');
            } else if (r.path == "/down") {
                resp.status = 503;
                resp.body = "no server is available";
            } else if (r.path == "/redirect") {
                resp.status = 301;
                resp.headers = {{"Location", "https://app.example.test/healthz"}};
            } else if (r.path == "/hang") {
                resp.hang = true;
            }
            return resp;
        });
    }
    void cleanup() { m_server.reset(); }

    void statusLatencyExcerpt()
    {
        HttpProbeRequest req = request("/healthz");
        req.maxBodyBytes = 100;
        const auto r = await<HttpProbeResult>([&](auto done) { m_probe.get(req, this, done); });
        QVERIFY(r && r->ok());
        const HttpProbeResult &v = r->value();
        QCOMPARE(v.statusCode, 200);
        QCOMPARE(v.body, QByteArray(100, 'x'));
        QCOMPARE(v.bodySize, 2000);
        QVERIFY(v.latencyMs > 0);
        QVERIFY(v.firstByteMs > 0 && v.firstByteMs <= v.latencyMs);
        QCOMPARE(v.contentType, QStringLiteral("application/json"));
        QCOMPARE(m_server->requests().at(0).method, QByteArray("GET"));
        // Each probe on its own connection, unless asked otherwise.
        QCOMPARE(m_server->requests().at(0).headers.value("connection"), QByteArray("close"));
        req.reuseConnection = true;
        const auto again = await<HttpProbeResult>([&](auto done) { m_probe.get(req, this, done); });
        QVERIFY(again && again->ok());
        QVERIFY(m_server->requests().at(1).headers.value("connection") != "close");
    }

    void connectAddressKeepsTheName()
    {
        // Like curl --resolve app.example.test:PORT:127.0.0.1.
        HttpProbeRequest req;
        req.url = QUrl(QStringLiteral("http://app.example.test:%1/healthz").arg(m_server->port()));
        req.connectAddress = QStringLiteral("127.0.0.1");
        const auto r = await<HttpProbeResult>([&](auto done) { m_probe.get(req, this, done); });
        QVERIFY2(r && r->ok(), r && !r->ok() ? qPrintable(r->error().message) : "");
        QCOMPARE(r->value().statusCode, 200);
        QCOMPARE(r->value().url, req.url);
        QCOMPARE(r->value().connectedTo, QStringLiteral("127.0.0.1:%1").arg(m_server->port()));
        const auto &seen = m_server->requests().at(0);
        QCOMPARE(seen.headers.value("host"),
                 "app.example.test:" + QByteArray::number(m_server->port()));
        QCOMPARE(seen.path, QByteArray("/healthz"));
    }

    void errorStatusIsAValue()
    {
        const auto r =
            await<HttpProbeResult>([&](auto done) { m_probe.get(request("/down"), this, done); });
        QVERIFY(r && r->ok());
        QCOMPARE(r->value().statusCode, 503);
        QCOMPARE(r->value().body, QByteArray("no server is available"));
    }

    void redirectIsReportedNotFollowed()
    {
        const auto r = await<HttpProbeResult>(
            [&](auto done) { m_probe.get(request("/redirect"), this, done); });
        QVERIFY(r && r->ok());
        QCOMPARE(r->value().statusCode, 301);
        QCOMPARE(r->value().location, QStringLiteral("https://app.example.test/healthz"));
        QCOMPARE(m_server->requests().size(), 1);
    }

    void timeoutAndCancel()
    {
        HttpProbeRequest req = request("/hang");
        req.timeoutMs = 300;
        QElapsedTimer clock;
        clock.start();
        auto r = await<HttpProbeResult>([&](auto done) { m_probe.get(req, this, done); });
        QVERIFY(r && !r->ok());
        QVERIFY(clock.elapsed() >= 250 && clock.elapsed() < 3000);
        QCOMPARE(r->error().message,
                 QStringLiteral("GET %1: no answer within 0.3 s").arg(req.url.toString()));

        req.timeoutMs = 5000;
        QString message;
        const auto id = m_probe.get(req, this, [&](Result<HttpProbeResult> res) {
            message = res ? QString() : res.error().message;
        });
        m_probe.cancel(id);
        QVERIFY2(message.endsWith(QStringLiteral(": cancelled")), qPrintable(message));
        QCOMPARE(m_probe.pendingCount(), 0);
    }

    void refused()
    {
        HttpProbeRequest req = request("/healthz");
        m_server.reset();
        const auto r = await<HttpProbeResult>([&](auto done) { m_probe.get(req, this, done); });
        QVERIFY(r && !r->ok());
        QVERIFY2(r->error().message.contains(QStringLiteral("connection refused")),
                 qPrintable(r->error().message));
    }

    void tlsProbeOnPlainHttpFails()
    {
        // Not a TLS server: the probe must end with an error, not hang or pass.
        TlsProbe tls;
        TlsProbeRequest req;
        req.address = QStringLiteral("127.0.0.1");
        req.port = m_server->port();
        req.serverName = QStringLiteral("app.example.test");
        req.timeoutMs = 3000;
        const auto r = await<TlsProbeResult>([&](auto done) { tls.probe(req, this, done); });
        QVERIFY(r && !r->ok());
        QVERIFY2(r->error().message.startsWith(
                     QStringLiteral("TLS app.example.test via 127.0.0.1:%1: ").arg(req.port)),
                 qPrintable(r->error().message));
        QCOMPARE(tls.pendingCount(), 0);
    }

    void tlsProbeRefused()
    {
        TlsProbe tls;
        TlsProbeRequest req;
        req.address = QStringLiteral("127.0.0.1");
        req.port = m_server->port();
        req.serverName = QStringLiteral("app.example.test");
        m_server.reset();
        const auto r = await<TlsProbeResult>([&](auto done) { tls.probe(req, this, done); });
        QVERIFY(r && !r->ok());
        QVERIFY2(r->error().message.contains(QStringLiteral("connection refused")),
                 qPrintable(r->error().message));
    }
};

QTEST_GUILESS_MAIN(TestHttpProbe)
#include "tst_httpprobe.moc"
