// `pilothouse certs` on the lab: every layer's certificates read where they
// live (the route by handshake through each HAProxy, HAProxy's PEM in each of
// its containers, the Swarm's root CA and each node's certificate), the
// layers without TLS said so, and no private key in what it prints.

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QElapsedTimer>
#include <QSet>
#include <QTest>

#include "tests/integration/labaccess.h"

class TestCertsLab : public QObject
{
    Q_OBJECT

    LabAccess m_lab;

    LabAccess::Run certs(const QStringList &extra)
    {
        return LabAccess::local(QStringLiteral(PILOTHOUSE_BINARY),
                                QStringList{QStringLiteral("certs")} + extra, 60000);
    }

private Q_SLOTS:
    void initTestCase()
    {
        // The lab may still be healing from an earlier fault test.
        QVERIFY2(m_lab.open(), qPrintable(m_lab.error()));
    }

    void everyLayerIsRead()
    {
        const LabAccess::Run r = certs({QStringLiteral("--inventory"), m_lab.inventory().path, QStringLiteral("--json")});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        QVERIFY2(!r.out.contains("PRIVATE KEY"), "a private key in the output");
        const QJsonArray list = QJsonDocument::fromJson(r.out).object().value(QStringLiteral("certificates")).toArray();
        QHash<QString, QList<QJsonObject>> byLayer;
        for (const QJsonValue &v : list)
            byLayer[v.toObject().value(QStringLiteral("layer")).toString()].append(v.toObject());

        const QStringList hosts{QStringLiteral("swarm-01"), QStringLiteral("swarm-02"), QStringLiteral("swarm-03")};
        // The route through each proxy instance, and the PEM each instance holds: the same certificate.
        QCOMPARE(byLayer.value(QStringLiteral("route")).size(), 3);
        QCOMPARE(byLayer.value(QStringLiteral("haproxy")).size(), 3);
        QSet<QString> notAfter;
        for (const QString &layer : {QStringLiteral("route"), QStringLiteral("haproxy")}) {
            for (const QJsonObject &e : byLayer.value(layer)) {
                QCOMPARE(e.value(QStringLiteral("status")).toString(), QStringLiteral("ok"));
                QVERIFY(e.value(QStringLiteral("subject_alt_names")).toArray().contains(
                    QString(QStringLiteral("DNS:") + m_lab.inventory().settings.domain)));
                notAfter.insert(e.value(QStringLiteral("not_after")).toString());
            }
        }
        QCOMPARE(notAfter.size(), 1);
        QCOMPARE(byLayer.value(QStringLiteral("swarm-ca")).size(), 1);
        QCOMPARE(byLayer.value(QStringLiteral("swarm-ca")).first().value(QStringLiteral("subject")).toString(),
                 QStringLiteral("CN=swarm-ca"));
        QCOMPARE(byLayer.value(QStringLiteral("swarm-node")).size(), 3);
        for (const QString &h : hosts) {
            const auto &nodes = byLayer.value(QStringLiteral("swarm-node"));
            QVERIFY2(std::any_of(nodes.cbegin(), nodes.cend(), [&h](const QJsonObject &e) {
                         return e.value(QStringLiteral("where")).toString().endsWith(QStringLiteral(" on ") + h) &&
                                e.value(QStringLiteral("issuer")).toString() == u"CN=swarm-ca";
                     }),
                     qPrintable(h));
        }
        // The lab runs PostgreSQL and etcd without TLS, and the radar says so.
        QCOMPARE(byLayer.value(QStringLiteral("postgres")).size(), 3);
        QCOMPARE(byLayer.value(QStringLiteral("etcd")).size(), 3);
        for (const QString &layer : {QStringLiteral("postgres"), QStringLiteral("etcd")})
            for (const QJsonObject &e : byLayer.value(layer))
                QCOMPARE(e.value(QStringLiteral("status")).toString(), QStringLiteral("no-tls"));
    }

    void badInventorySaysWhere()
    {
        const LabAccess::Run r = certs({QStringLiteral("--inventory"), QStringLiteral("/nonexistent/inventory.yaml")});
        QCOMPARE(r.exitCode, 2);
        QVERIFY2(r.err.contains("/nonexistent/inventory.yaml"), r.err.constData());
    }
};

QTEST_GUILESS_MAIN(TestCertsLab)
#include "tst_certs_lab.moc"
