// Certificate reads on a test chain made once with openssl (test CA + leaf;
// keys discarded, see tests/fixtures/http/README.md).

#include "app/connectors/http/certificatereader.h"

#include <QTest>

using namespace Pilothouse;

namespace {
const QString chainFile =
    QStringLiteral(PILOTHOUSE_SOURCE_DIR "/tests/fixtures/http/test-chain.pem");
const QDateTime leafExpiry(QDate(2036, 11, 23), QTime(7, 27, 42), Qt::UTC);
} // namespace

class TestCertificateReader final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void leafAndIssuer()
    {
        const auto certs = CertificateReader::loadPemFile(chainFile);
        QVERIFY(certs);
        QCOMPARE(certs.value().size(), 2);
        const QDateTime now(QDate(2026, 11, 26), QTime(7, 27, 42), Qt::UTC);
        const CertificateState leaf =
            CertificateReader::fromCertificate(certs.value().at(0), QStringLiteral("test"), now);
        QCOMPARE(leaf.where, QStringLiteral("test"));
        QCOMPARE(leaf.subject, QStringLiteral("CN=app.example.test, O=Pilothouse Test"));
        QCOMPARE(leaf.issuer, QStringLiteral("CN=Pilothouse Test CA, O=Pilothouse Test"));
        QStringList sans = leaf.subjectAltNames;
        sans.sort();
        QCOMPARE(sans, (QStringList{QStringLiteral("DNS:*.example.test"),
                                    QStringLiteral("DNS:app.example.test"),
                                    QStringLiteral("IP:127.0.0.1")}));
        QCOMPARE(leaf.notAfter, leafExpiry);
        QCOMPARE(leaf.daysLeft, 3650);
        // One second later the 3650th day is no longer whole.
        QCOMPARE(
            CertificateReader::fromCertificate(certs.value().at(0), {}, now.addSecs(1)).daysLeft,
            3649);

        const CertificateState ca =
            CertificateReader::fromCertificate(certs.value().at(1), QStringLiteral("test"), now);
        QCOMPARE(ca.subject, ca.issuer); // self-signed root
        QVERIFY(ca.subjectAltNames.isEmpty());
        QVERIFY(ca.notAfter > leaf.notAfter);
    }

    void expired()
    {
        const auto certs = CertificateReader::loadPemFile(chainFile);
        QVERIFY(certs);
        QCOMPARE(CertificateReader::fromCertificate(certs.value().at(0), {}, leafExpiry.addSecs(1))
                     .daysLeft,
                 -1);
        QCOMPARE(CertificateReader::fromCertificate(certs.value().at(0), {}, leafExpiry.addDays(10))
                     .daysLeft,
                 -10);
        QCOMPARE(CertificateReader::fromCertificate(certs.value().at(0), {}, leafExpiry).daysLeft,
                 0);
    }

    void badFiles()
    {
        auto r = CertificateReader::loadPemFile(QStringLiteral("/nonexistent/ca.pem"));
        QVERIFY(!r);
        QCOMPARE(r.error().file, QStringLiteral("/nonexistent/ca.pem"));
        r = CertificateReader::loadPemFile(
            QStringLiteral(PILOTHOUSE_SOURCE_DIR "/tests/fixtures/http/haproxy-stats-healthy.csv"));
        QVERIFY(!r);
        QVERIFY(r.error().message.contains(QStringLiteral("no PEM certificate")));
    }
};

QTEST_GUILESS_MAIN(TestCertificateReader)
#include "tst_certificatereader.moc"
