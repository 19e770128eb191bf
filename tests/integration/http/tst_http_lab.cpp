// The HTTP connector against the lab: the app through HAProxy on every host
// with the lab's self-signed certificate trusted (as curl --cacert
// --resolve would), the HTTP->HTTPS redirect, a TLS handshake reading the
// certificate, and HAProxy's stats CSV.

#include "app/connectors/http/certificatereader.h"
#include "app/connectors/http/haproxystats.h"
#include "app/connectors/http/httpprobe.h"
#include "app/connectors/http/tlsprobe.h"

#include <QElapsedTimer>
#include <QTest>

#include "tests/integration/labaccess.h"
#include "tests/testsupport.h"

using namespace Pilothouse;

namespace {

template<typename T, typename Call> std::optional<Result<T>> await(Call call)
{
    return TestSupport::await<T>(std::move(call), 15000);
}

} // namespace

class TestHttpLab final : public QObject
{
    Q_OBJECT

private:
    LabAccess m_lab;
    QList<QSslCertificate> m_ca;
    QString m_domain;
    HttpProbe m_http;
    TlsProbe m_tls;

    QStringList addresses() const
    {
        QStringList out;
        for (const InventoryHost &h : m_lab.inventory().hosts)
            out.append(h.address);
        return out;
    }

    HttpProbeRequest appRequest(const QString &address, bool trustLab = true) const
    {
        HttpProbeRequest r;
        r.url = QUrl(QStringLiteral("https://%1/healthz").arg(m_domain));
        r.connectAddress = address;
        if (trustLab)
            r.caCertificates = m_ca;
        return r;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY2(m_lab.open(), qPrintable(m_lab.error()));
        m_domain = m_lab.inventory().settings.domain;
        QVERIFY(!m_domain.isEmpty());
        const auto ca = CertificateReader::loadPemFile(m_lab.inventory().settings.secretsDir +
                                                       QStringLiteral("/proxy_tls_cert.pem"));
        QVERIFY2(ca, ca ? "" : qPrintable(ca.error().toString()));
        m_ca = ca.value();
    }

    void httpsThroughProxyOnEveryHost()
    {
        for (const QString &address : addresses()) {
            const auto r = await<HttpProbeResult>(
                [&](auto done) { m_http.get(appRequest(address), this, done); });
            REQUIRE_OK(r);
            const HttpProbeResult &v = r->value();
            QVERIFY2(v.statusCode == 200, qPrintable(QStringLiteral("%1: HTTP %2 %3")
                                                         .arg(address)
                                                         .arg(v.statusCode)
                                                         .arg(QString::fromUtf8(v.body))));
            QCOMPARE(v.connectedTo, address + QStringLiteral(":443"));
            QVERIFY(v.latencyMs > 0 && v.latencyMs < 5000);
            QVERIFY(!v.body.isEmpty());
            qInfo("https://%s/healthz via %s: %d in %.1f ms (first byte %.1f ms)",
                  qPrintable(m_domain), qPrintable(address), v.statusCode, v.latencyMs,
                  v.firstByteMs);
        }
    }

    void untrustedCertificateIsRefused()
    {
        // Verification stays on: without the lab's certificate the probe fails.
        const auto r = await<HttpProbeResult>(
            [&](auto done) { m_http.get(appRequest(addresses().at(0), false), this, done); });
        QVERIFY(r && !r->ok());
        QVERIFY2(
            r->error().message.contains(QStringLiteral("self signed"), Qt::CaseInsensitive) ||
                r->error().message.contains(QStringLiteral("self-signed"), Qt::CaseInsensitive),
            qPrintable(r->error().message));
        QVERIFY(r->error().message.contains(addresses().at(0)));
    }

    void httpRedirectsToHttps()
    {
        HttpProbeRequest req;
        req.url = QUrl(QStringLiteral("http://%1/healthz").arg(m_domain));
        req.connectAddress = addresses().at(1);
        const auto r = await<HttpProbeResult>([&](auto done) { m_http.get(req, this, done); });
        REQUIRE_OK(r);
        QVERIFY2(r->value().statusCode >= 301 && r->value().statusCode <= 308,
                 qPrintable(QString::number(r->value().statusCode)));
        QCOMPARE(r->value().location, QStringLiteral("https://%1/healthz").arg(m_domain));
    }

    void tlsProbeReadsTheCertificate()
    {
        TlsProbeRequest req;
        req.address = addresses().at(0);
        req.serverName = m_domain;
        req.caCertificates = m_ca;
        auto r = await<TlsProbeResult>([&](auto done) { m_tls.probe(req, this, done); });
        REQUIRE_OK(r);
        const TlsProbeResult &v = r->value();
        QVERIFY2(v.trusted, qPrintable(v.trustErrors.join(u';')));
        QVERIFY(!v.chain.isEmpty());
        const CertificateState &leaf = v.chain.at(0);
        QVERIFY2(leaf.subject.contains(QStringLiteral("CN=") + m_domain), qPrintable(leaf.subject));
        QVERIFY2(leaf.subjectAltNames.contains(QStringLiteral("DNS:") + m_domain),
                 qPrintable(leaf.subjectAltNames.join(u',')));
        QVERIFY(leaf.daysLeft > 0);
        QCOMPARE(v.certificates.at(0), m_ca.at(0)); // the one the lab made
        QVERIFY(v.protocol.startsWith(QStringLiteral("TLSv1.")));
        qInfo("TLS %s via %s: %s %s, handshake %.1f ms, %d days left", qPrintable(m_domain),
              qPrintable(req.address), qPrintable(v.protocol), qPrintable(v.cipher), v.handshakeMs,
              leaf.daysLeft);

        // Without the CA the chain is still read; the trust result says no.
        req.caCertificates.clear();
        r = await<TlsProbeResult>([&](auto done) { m_tls.probe(req, this, done); });
        REQUIRE_OK(r);
        QVERIFY(!r->value().trusted);
        QVERIFY(!r->value().trustErrors.isEmpty());
        QCOMPARE(r->value().chain.at(0).subject, leaf.subject);
    }

    void haproxyStatsShowTheAppUp()
    {
        const int replicas = m_lab.inventory().settings.appReplicas;
        QVERIFY(replicas > 0);
        for (const QString &address : addresses()) {
            HttpProbeRequest req;
            req.url = QUrl(QStringLiteral("http://%1:8404/stats;csv").arg(address));
            req.maxBodyBytes = 1 << 20;
            // Checks run every second: give a just-restarted task a few to pass.
            int up = -1;
            QString details;
            QElapsedTimer clock;
            clock.start();
            while (up != replicas && clock.elapsed() < 20000) {
                const auto r =
                    await<HttpProbeResult>([&](auto done) { m_http.get(req, this, done); });
                REQUIRE_OK(r);
                QCOMPARE(r->value().statusCode, 200);
                const auto rows = HaproxyStats::parseCsv(r->value().body);
                QVERIFY2(rows, rows ? "" : qPrintable(rows.error().message));
                const QList<ProxyRoute> routes = HaproxyStats::routes(
                    rows.value(), {{m_lab.inventory().settings.appService, m_domain}});
                up = 0;
                details.clear();
                for (const ProxyRoute &route : routes) {
                    if (route.host != m_domain)
                        continue;
                    for (const ProxyBackend &b : route.backends) {
                        up += b.up ? 1 : 0;
                        details += b.name + QStringLiteral(": ") + b.detail + u'\n';
                    }
                }
                if (up != replicas)
                    QTest::qWait(1000); // HAProxy's check interval; nothing to wait on
            }
            QVERIFY2(up == replicas, qPrintable(address + u'\n' + details));
        }
    }
};

QTEST_GUILESS_MAIN(TestHttpLab)
#include "tst_http_lab.moc"
