// `pilothouse certs rotate` and `certs rollback` on the lab, with a writer
// hitting the route through every HAProxy (a new TCP and TLS connection per
// request): no request fails while the certificate is swapped; a key of
// another certificate or a certificate for another host is refused before
// anything changes; a HAProxy task that restarts keeps the rotated
// certificate; the audit trail holds no key; rollback serves the old one.
// The certificates are made by openssl in a temporary directory.

#include "app/connectors/http/httpprobe.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QSslCertificate>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

#include "tests/integration/labaccess.h"

using namespace Pilothouse;

namespace {

const QStringList Hosts{QStringLiteral("swarm-01"), QStringLiteral("swarm-02"),
                        QStringLiteral("swarm-03")};

// POSTs /api/write through each host's HAProxy in turn until stopped, and
// counts what failed (trusting the lab's certificate and the new one).
class Writer final : public QObject
{
public:
    Writer(QStringList addresses, QString domain, QList<QSslCertificate> trusted)
        : m_addresses(std::move(addresses))
        , m_domain(std::move(domain))
        , m_trusted(std::move(trusted))
    {}
    void start()
    {
        m_running = true;
        next();
    }
    void stop() { m_running = false; }
    bool idle() const { return !m_inFlight; }
    int total = 0;
    QStringList failures;

private:
    void next()
    {
        if (!m_running)
            return;
        HttpProbeRequest r;
        r.url = QUrl(QStringLiteral("https://%1/api/write").arg(m_domain));
        r.connectAddress = m_addresses.at(total % m_addresses.size());
        r.caCertificates = m_trusted;
        r.method = "POST";
        r.timeoutMs = 5000;
        m_inFlight = true;
        m_probe.get(r, this, [this, address = r.connectAddress](Result<HttpProbeResult> result) {
            m_inFlight = false;
            ++total;
            if (!result)
                failures.append(address + QStringLiteral(": ") + result.error().toString());
            else if (result.value().statusCode / 100 != 2)
                failures.append(
                    QStringLiteral("%1: HTTP %2").arg(address).arg(result.value().statusCode));
            QTimer::singleShot(20, this, [this] { next(); });
        });
    }

    HttpProbe m_probe;
    QStringList m_addresses;
    QString m_domain;
    QList<QSslCertificate> m_trusted;
    bool m_running = false;
    bool m_inFlight = false;
};

} // namespace

class TestCertRotationLab : public QObject
{
    Q_OBJECT

    LabAccess m_lab;
    QTemporaryDir m_dir;
    QString m_original; // sha256 the lab serves at the start
    QString m_new;      // of new.crt
    QHash<QString, QString> m_addresses;

    QString path(const QString &name) const { return m_dir.filePath(name); }

    bool openssl(const QStringList &arguments)
    {
        const LabAccess::Run r = LabAccess::local(QStringLiteral("openssl"), arguments, 60000);
        if (!r.ok())
            qWarning() << "openssl" << arguments << r.err;
        return r.ok();
    }

    // The sha256 of the leaf a TLS handshake through `host`'s HAProxy shows.
    QString served(const QString &host) const
    {
        return LabAccess::servedSha256(m_addresses.value(host), m_lab.inventory().settings.domain);
    }

    QStringList servedEverywhere() const
    {
        QStringList out;
        for (const QString &h : Hosts)
            out.append(served(h));
        return out;
    }

    // The console's CLI with its own audit trail under the temporary directory.
    QProcess *startCli(const QStringList &arguments)
    {
        auto *p = new QProcess(this);
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("XDG_DATA_HOME"), path(QStringLiteral("data")));
        env.insert(QStringLiteral("XDG_CONFIG_HOME"), path(QStringLiteral("config")));
        p->setProcessEnvironment(env);
        p->start(QStringLiteral(PILOTHOUSE_BINARY),
                 QStringList{QStringLiteral("certs")} + arguments +
                     QStringList{QStringLiteral("--inventory"), m_lab.inventory().path,
                                 QStringLiteral("--reason"), QStringLiteral("tst_certrotation_lab"),
                                 QStringLiteral("--json")});
        return p;
    }

    // Runs the CLI to its end with events processed (a writer may be running).
    LabAccess::Run cli(const QStringList &arguments, int timeoutMs = 180000)
    {
        QProcess *p = startCli(arguments);
        LabAccess::waitUntil([p] { return p->state() == QProcess::NotRunning; }, timeoutMs, 100);
        LabAccess::Run r;
        if (p->state() != QProcess::NotRunning) {
            p->kill();
            p->waitForFinished(5000);
            r.err = "timed out";
        } else {
            r.exitCode = p->exitStatus() == QProcess::NormalExit ? p->exitCode() : -1;
        }
        r.out = p->readAllStandardOutput();
        r.err += p->readAllStandardError();
        delete p;
        return r;
    }

    QStringList secrets() const
    {
        return QString::fromUtf8(
                   m_lab.ssh(Hosts.first(), QStringLiteral("docker secret ls --format '{{.Name}}'"))
                       .out)
            .split(u'\n', Qt::SkipEmptyParts);
    }

    // Runs `arguments` with a writer going through all three hosts; returns the CLI's run.
    LabAccess::Run withWriter(const QStringList &arguments, Writer &writer)
    {
        writer.start();
        LabAccess::waitUntil([&writer] { return writer.total >= 6; }, 20000, 50);
        const LabAccess::Run r = cli(arguments);
        const int atEnd = writer.total;
        LabAccess::waitUntil([&writer, atEnd] { return writer.total >= atEnd + 6; }, 20000, 50);
        writer.stop();
        LabAccess::waitUntil([&writer] { return writer.idle(); }, 10000, 50);
        return r;
    }

    QList<QSslCertificate> trusted() const
    {
        QList<QSslCertificate> out = QSslCertificate::fromPath(
            m_lab.inventory().settings.secretsDir + QStringLiteral("/proxy_tls_cert.pem"));
        out += QSslCertificate::fromPath(path(QStringLiteral("new.crt")));
        return out;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY2(m_lab.open(), qPrintable(m_lab.error()));
        QVERIFY(m_dir.isValid());
        for (const InventoryHost &h : m_lab.inventory().hosts)
            m_addresses.insert(h.name, h.address);
        const QString domain = m_lab.inventory().settings.domain;
        const QStringList ec{
            QStringLiteral("-newkey"),  QStringLiteral("ec"),
            QStringLiteral("-pkeyopt"), QStringLiteral("ec_paramgen_curve:prime256v1"),
            QStringLiteral("-nodes"),   QStringLiteral("-days"),
            QStringLiteral("90")};
        auto make = [&](const QString &name, const QString &host) {
            return openssl(
                QStringList{QStringLiteral("req"), QStringLiteral("-x509")} + ec +
                QStringList{QStringLiteral("-subj"),
                            QStringLiteral("/CN=%1/O=Rotation test").arg(host),
                            QStringLiteral("-addext"), QStringLiteral("subjectAltName=DNS:") + host,
                            QStringLiteral("-keyout"), path(name + QStringLiteral(".key")),
                            QStringLiteral("-out"), path(name + QStringLiteral(".crt"))});
        };
        QVERIFY(make(QStringLiteral("new"), domain));
        QVERIFY(make(QStringLiteral("other"), domain));
        QVERIFY(make(QStringLiteral("wrong"), QStringLiteral("other.pilothouse.lab")));
        const QList<QSslCertificate> fresh =
            QSslCertificate::fromPath(path(QStringLiteral("new.crt")));
        QCOMPARE(fresh.size(), 1);
        m_new = QString::fromLatin1(fresh.first().digest(QCryptographicHash::Sha256).toHex());

        const QStringList before = servedEverywhere();
        QCOMPARE(before.size(), 3);
        QVERIFY2(!before.first().isEmpty(), "no handshake through swarm-01");
        QCOMPARE(before.count(before.first()), 3);
        m_original = before.first();
        QVERIFY(m_original != m_new);
    }

    void aKeyOfAnotherCertificateIsRefused()
    {
        const LabAccess::Run r = cli({QStringLiteral("rotate"), QStringLiteral("--cert"),
                                      path(QStringLiteral("new.crt")), QStringLiteral("--key"),
                                      path(QStringLiteral("other.key"))});
        QVERIFY2(r.exitCode == 2, QByteArray(r.out + r.err).constData());
        const QJsonObject report = QJsonDocument::fromJson(r.out).object();
        QCOMPARE(report.value(QStringLiteral("refused")).toBool(), true);
        QVERIFY2(report.value(QStringLiteral("error"))
                     .toString()
                     .contains(QStringLiteral("other.key does not belong to the certificate in")),
                 r.out.constData());
        QCOMPARE(servedEverywhere(), QStringList(3, m_original));
        QVERIFY(!secrets().contains(QStringLiteral("proxy_tls_pem-") + m_new.left(12)));
    }

    void aCertificateForAnotherHostIsRefused()
    {
        const LabAccess::Run r = cli({QStringLiteral("rotate"), QStringLiteral("--cert"),
                                      path(QStringLiteral("wrong.crt")), QStringLiteral("--key"),
                                      path(QStringLiteral("wrong.key"))});
        QVERIFY2(r.exitCode == 2, QByteArray(r.out + r.err).constData());
        QVERIFY2(
            QJsonDocument::fromJson(r.out)
                .object()
                .value(QStringLiteral("error"))
                .toString()
                .contains(
                    QStringLiteral("does not cover %1").arg(m_lab.inventory().settings.domain)),
            r.out.constData());
        QCOMPARE(servedEverywhere(), QStringList(3, m_original));
    }

    void aDryRunChangesNothing()
    {
        const LabAccess::Run r = cli({QStringLiteral("rotate"), QStringLiteral("--dry-run"),
                                      QStringLiteral("--cert"), path(QStringLiteral("new.crt")),
                                      QStringLiteral("--key"), path(QStringLiteral("new.key"))});
        QVERIFY2(r.exitCode == 0, QByteArray(r.out + r.err).constData());
        const QJsonObject report = QJsonDocument::fromJson(r.out).object();
        QCOMPARE(report.value(QStringLiteral("instances")).toArray().size(), 3);
        for (const QJsonValue &v : report.value(QStringLiteral("instances")).toArray())
            QVERIFY2(v.toObject().value(QStringLiteral("before")).toString().startsWith(m_original),
                     r.out);
        QCOMPARE(servedEverywhere(), QStringList(3, m_original));
        QVERIFY(!secrets().contains(QStringLiteral("proxy_tls_pem-") + m_new.left(12)));
    }

    void rotationDropsNoRequest()
    {
        Writer writer(m_addresses.values(), m_lab.inventory().settings.domain, trusted());
        const LabAccess::Run r = withWriter(
            {QStringLiteral("rotate"), QStringLiteral("--cert"), path(QStringLiteral("new.crt")),
             QStringLiteral("--key"), path(QStringLiteral("new.key"))},
            writer);
        QVERIFY2(r.exitCode == 0, QByteArray(r.out + r.err).constData());
        const QJsonObject report = QJsonDocument::fromJson(r.out).object();
        QCOMPARE(report.value(QStringLiteral("certificate"))
                     .toObject()
                     .value(QStringLiteral("sha256"))
                     .toString(),
                 m_new);
        const QJsonArray instances = report.value(QStringLiteral("instances")).toArray();
        QCOMPARE(instances.size(), 3);
        for (const QJsonValue &v : instances) {
            QCOMPARE(v.toObject().value(QStringLiteral("changed")).toBool(), true);
            QCOMPARE(v.toObject().value(QStringLiteral("served_after_sha256")).toString(), m_new);
        }
        QCOMPARE(servedEverywhere(), QStringList(3, m_new));
        QVERIFY(secrets().contains(QStringLiteral("proxy_tls_pem-") + m_new.left(12)));
        qInfo("writer: %d requests through the three HAProxies, %lld failed", writer.total,
              qlonglong(writer.failures.size()));
        QVERIFY2(writer.failures.isEmpty(), qPrintable(writer.failures.join(u'\n')));
        QVERIFY2(writer.total >= 12, qPrintable(QString::number(writer.total)));
    }

    void aSecondRotationToTheSameCertificateChangesNothing()
    {
        const LabAccess::Run r = cli({QStringLiteral("rotate"), QStringLiteral("--cert"),
                                      path(QStringLiteral("new.crt")), QStringLiteral("--key"),
                                      path(QStringLiteral("new.key"))});
        QVERIFY2(r.exitCode == 0, QByteArray(r.out + r.err).constData());
        for (const QJsonValue &v :
             QJsonDocument::fromJson(r.out).object().value(QStringLiteral("instances")).toArray())
            QCOMPARE(v.toObject().value(QStringLiteral("changed")).toBool(), false);
    }

    void aRestartedHaproxyKeepsTheRotatedCertificate()
    {
        const LabAccess::Run killed =
            m_lab.ssh(QStringLiteral("swarm-02"),
                      QStringLiteral("docker kill $(docker ps -q -f name=pilothouse_haproxy)"));
        QVERIFY2(killed.ok(), killed.err.constData());
        // The task comes back (restart delay 5 s) and serves from its store.
        QString seen;
        LabAccess::waitUntil(
            [&] {
                seen = served(QStringLiteral("swarm-02"));
                return !seen.isEmpty();
            },
            90000, 1000);
        QCOMPARE(seen, m_new);
        // Swarm calls the task running once its health check passed: wait for it, as an
        // operator would before the next change (a rotation refuses a HAProxy that is starting).
        QVERIFY2(LabAccess::waitUntil(
                     [this] {
                         const QByteArray states =
                             m_lab
                                 .ssh(Hosts.first(),
                                      QStringLiteral("docker service ps pilothouse_haproxy "
                                                     "--filter desired-state=running "
                                                     "--format '{{.CurrentState}}'"))
                                 .out;
                         return states.count("Running") == 3;
                     },
                     90000, 2000),
                 "the restarted HAProxy task did not become healthy");
    }

    void theAuditTrailHoldsNoKey()
    {
        QDir audit(path(QStringLiteral("data/Pilothouse/audit")));
        const QStringList files = audit.entryList({QStringLiteral("*.jsonl")}, QDir::Files);
        QVERIFY2(!files.isEmpty(), qPrintable(audit.path()));
        QFile f(audit.filePath(files.first()));
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QByteArray trail = f.readAll();
        QVERIFY(trail.contains("PUT /containers/"));
        QVERIFY(trail.contains("ph-haproxy-cert apply"));
        QVERIFY(!trail.contains("PRIVATE KEY"));
        QFile key(path(QStringLiteral("new.key")));
        QVERIFY(key.open(QIODevice::ReadOnly));
        const QList<QByteArray> lines = key.readAll().split('\n');
        QVERIFY(lines.size() > 2);
        QVERIFY2(!trail.contains(lines.at(1)), "a line of the private key is in the audit trail");
    }

    void rollbackServesTheOldCertificateAgain()
    {
        Writer writer(m_addresses.values(), m_lab.inventory().settings.domain, trusted());
        const LabAccess::Run r = withWriter({QStringLiteral("rollback")}, writer);
        QVERIFY2(r.exitCode == 0, QByteArray(r.out + r.err).constData());
        QCOMPARE(servedEverywhere(), QStringList(3, m_original));
        QVERIFY2(writer.failures.isEmpty(), qPrintable(writer.failures.join(u'\n')));
    }

    void cleanupTestCase()
    {
        // Whatever failed above, the lab serves its own certificate again.
        if (!m_original.isEmpty() && servedEverywhere().contains(m_new))
            cli({QStringLiteral("rollback")});
        m_lab.ssh(Hosts.first(),
                  QStringLiteral("docker secret rm proxy_tls_pem-%1 2>/dev/null; true")
                      .arg(m_new.left(12)));
    }
};

QTEST_GUILESS_MAIN(TestCertRotationLab)
#include "tst_certrotation_lab.moc"
