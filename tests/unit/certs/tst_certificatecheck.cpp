// The bundle check a certificate rotation starts with. The certificates and
// keys are made by the openssl command line (the real program) in a temporary
// directory at the start of the run; no key is kept in the repository.

#include "app/certs/certificaterotation.h"

#include <QFile>
#include <QProcess>
#include <QSslCertificate>
#include <QTemporaryDir>
#include <QTest>

using namespace Pilothouse;

class TestCertificateCheck final : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QDateTime m_now;

    QString path(const QString &name) const { return m_dir.filePath(name); }

    QByteArray file(const QString &name) const
    {
        QFile f(path(name));
        return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
    }

    bool openssl(const QStringList &arguments)
    {
        QProcess p;
        p.setWorkingDirectory(m_dir.path());
        p.start(QStringLiteral("openssl"), arguments);
        if (!p.waitForFinished(30000) || p.exitCode() != 0) {
            qWarning() << "openssl" << arguments << p.readAllStandardError();
            return false;
        }
        return true;
    }

    bool write(const QString &name, const QByteArray &content)
    {
        QFile f(path(name));
        return f.open(QIODevice::WriteOnly) && f.write(content) == content.size();
    }

    CertificateBundle check(const QString &cert, const QString &key,
                            const QStringList &names = {QStringLiteral("app.example.test")},
                            const QDateTime &now = {})
    {
        return CertificateCheck::check(file(cert), cert, key.isEmpty() ? QByteArray() : file(key),
                                       key, names, now.isValid() ? now : m_now);
    }

    static bool anyContains(const QStringList &lines, const QString &part)
    {
        for (const QString &l : lines) {
            if (l.contains(part))
                return true;
        }
        qWarning() << "no line has" << part << "in" << lines;
        return false;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        const QStringList ec{
            QStringLiteral("-newkey"), QStringLiteral("ec"), QStringLiteral("-pkeyopt"),
            QStringLiteral("ec_paramgen_curve:prime256v1"), QStringLiteral("-nodes")};
        // A CA, and a 90-day leaf it signs for app.example.test and *.apps.example.test.
        QVERIFY(openssl(QStringList{QStringLiteral("req"), QStringLiteral("-x509")} + ec +
                        QStringList{QStringLiteral("-days"), QStringLiteral("3650"),
                                    QStringLiteral("-subj"), QStringLiteral("/CN=Test CA"),
                                    QStringLiteral("-keyout"), QStringLiteral("ca.key"),
                                    QStringLiteral("-out"), QStringLiteral("ca.crt")}));
        QVERIFY(openssl(QStringList{QStringLiteral("req")} + ec +
                        QStringList{QStringLiteral("-subj"), QStringLiteral("/CN=app.example.test"),
                                    QStringLiteral("-keyout"), QStringLiteral("leaf.key"),
                                    QStringLiteral("-out"), QStringLiteral("leaf.csr")}));
        QVERIFY(write(QStringLiteral("san.ext"),
                      "subjectAltName=DNS:app.example.test,DNS:*.apps.example.test\n"));
        QVERIFY(openssl(
            {QStringLiteral("x509"), QStringLiteral("-req"), QStringLiteral("-in"),
             QStringLiteral("leaf.csr"), QStringLiteral("-CA"), QStringLiteral("ca.crt"),
             QStringLiteral("-CAkey"), QStringLiteral("ca.key"), QStringLiteral("-CAcreateserial"),
             QStringLiteral("-days"), QStringLiteral("90"), QStringLiteral("-extfile"),
             QStringLiteral("san.ext"), QStringLiteral("-out"), QStringLiteral("leaf.crt")}));
        // Another key, the leaf's key encrypted, and a 20-day RSA certificate for another host.
        QVERIFY(openssl(QStringList{QStringLiteral("genpkey"), QStringLiteral("-algorithm"),
                                    QStringLiteral("EC"), QStringLiteral("-pkeyopt"),
                                    QStringLiteral("ec_paramgen_curve:prime256v1"),
                                    QStringLiteral("-out"), QStringLiteral("other.key")}));
        QVERIFY(openssl({QStringLiteral("pkey"), QStringLiteral("-in"), QStringLiteral("leaf.key"),
                         QStringLiteral("-aes256"), QStringLiteral("-passout"),
                         QStringLiteral("pass:not-given"), QStringLiteral("-out"),
                         QStringLiteral("leaf-encrypted.key")}));
        QVERIFY(openssl({QStringLiteral("req"), QStringLiteral("-x509"), QStringLiteral("-newkey"),
                         QStringLiteral("rsa:2048"), QStringLiteral("-nodes"),
                         QStringLiteral("-days"), QStringLiteral("20"), QStringLiteral("-subj"),
                         QStringLiteral("/CN=other.test"), QStringLiteral("-addext"),
                         QStringLiteral("subjectAltName=DNS:other.test"), QStringLiteral("-keyout"),
                         QStringLiteral("rsa.key"), QStringLiteral("-out"),
                         QStringLiteral("rsa.crt")}));
        QVERIFY(write(QStringLiteral("chain.crt"),
                      file(QStringLiteral("leaf.crt")) + file(QStringLiteral("ca.crt"))));
        QVERIFY(write(QStringLiteral("combined.pem"),
                      file(QStringLiteral("leaf.crt")) + file(QStringLiteral("leaf.key"))));
        QVERIFY(write(QStringLiteral("wrong-chain.crt"),
                      file(QStringLiteral("leaf.crt")) + file(QStringLiteral("rsa.crt"))));
        QVERIFY(write(QStringLiteral("two.key"),
                      file(QStringLiteral("leaf.key")) + file(QStringLiteral("other.key"))));
        m_now = QDateTime::currentDateTimeUtc();
    }

    void aChainWithItsKeyIsServedLeafFirst()
    {
        const CertificateBundle b =
            check(QStringLiteral("chain.crt"), QStringLiteral("leaf.key"),
                  {QStringLiteral("app.example.test"), QStringLiteral("x.apps.example.test")});
        QVERIFY2(b.ok, qPrintable(b.refusals.join(u'\n')));
        QVERIFY(b.refusals.isEmpty());
        QVERIFY(b.warnings.isEmpty());
        QCOMPARE(b.chainLength, 2);
        QCOMPARE(b.keyType, QStringLiteral("EC 256 bits"));
        QVERIFY(b.leaf.daysLeft >= 89 && b.leaf.daysLeft <= 90);
        // What HAProxy gets: the leaf, the CA, then the key.
        const QList<QSslCertificate> served = QSslCertificate::fromData(b.pem, QSsl::Pem);
        QCOMPARE(served.size(), 2);
        QCOMPARE(served.at(0),
                 QSslCertificate::fromData(file(QStringLiteral("leaf.crt"))).value(0));
        QVERIFY(b.pem.indexOf("PRIVATE KEY") > b.pem.lastIndexOf("END CERTIFICATE"));
        QCOMPARE(b.sha256,
                 QString::fromLatin1(served.at(0).digest(QCryptographicHash::Sha256).toHex()));
    }

    void theKeyMayTravelInTheCertificateFile()
    {
        const CertificateBundle b = check(QStringLiteral("combined.pem"), QString());
        QVERIFY2(b.ok, qPrintable(b.refusals.join(u'\n')));
        QCOMPARE(b.chainLength, 1);
    }

    void refusals_data()
    {
        QTest::addColumn<QString>("cert");
        QTest::addColumn<QString>("key");
        QTest::addColumn<QString>("because");
        QTest::newRow("a key of another certificate")
            << "leaf.crt"
            << "other.key"
            << "other.key does not belong to the certificate in leaf.crt";
        QTest::newRow("another host")
            << "rsa.crt"
            << "rsa.key"
            << "rsa.crt: the certificate does not cover app.example.test (it names DNS:other.test)";
        QTest::newRow("an encrypted key") << "leaf.crt"
                                          << "leaf-encrypted.key"
                                          << "leaf-encrypted.key: the private key is encrypted";
        QTest::newRow("a chain link that did not sign")
            << "wrong-chain.crt"
            << "leaf.key"
            << "certificate 2 of the chain did not sign certificate 1";
        QTest::newRow("no certificate") << "leaf.key"
                                        << "leaf.key"
                                        << "leaf.key: no PEM certificate";
        QTest::newRow("no key") << "leaf.crt"
                                << ""
                                << "leaf.crt: no private key in it";
        QTest::newRow("two keys") << "leaf.crt"
                                  << "two.key"
                                  << "two.key: 2 private keys";
        QTest::newRow("the key twice") << "combined.pem"
                                       << "leaf.key"
                                       << "combined.pem and leaf.key both hold a private key";
        QTest::newRow("junk") << "san.ext"
                              << "leaf.key"
                              << "san.ext: no PEM certificate";
    }

    void refusals()
    {
        QFETCH(QString, cert);
        QFETCH(QString, key);
        QFETCH(QString, because);
        const CertificateBundle b = check(cert, key);
        QVERIFY(!b.ok);
        QVERIFY(b.pem.isEmpty());
        QVERIFY(anyContains(b.refusals, because));
    }

    void datesAreCheckedAgainstNow()
    {
        QVERIFY(anyContains(
            check(QStringLiteral("leaf.crt"), QStringLiteral("leaf.key"), {}, m_now.addDays(91))
                .refusals,
            QStringLiteral("leaf.crt: the certificate expired on")));
        QVERIFY(anyContains(
            check(QStringLiteral("leaf.crt"), QStringLiteral("leaf.key"), {}, m_now.addDays(-1))
                .refusals,
            QStringLiteral("leaf.crt: the certificate is not valid before")));
        const CertificateBundle soon = check(QStringLiteral("rsa.crt"), QStringLiteral("rsa.key"),
                                             {QStringLiteral("other.test")});
        QVERIFY2(soon.ok, qPrintable(soon.refusals.join(u'\n')));
        QCOMPARE(soon.keyType, QStringLiteral("RSA 2048 bits"));
        QVERIFY(anyContains(soon.warnings, QStringLiteral("the certificate expires in")));
    }

    void theSecretNameFollowsTheCertificate()
    {
        QCOMPARE(CertificateRotation::secretNameFor(QStringLiteral("05ed7a890ec634596c62e960")),
                 QStringLiteral("proxy_tls_pem-05ed7a890ec6"));
    }
};

QTEST_GUILESS_MAIN(TestCertificateCheck)
#include "tst_certificatecheck.moc"
