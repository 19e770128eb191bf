#include "app/inventory/inventoryloader.h"

#include <QDir>
#include <QTest>

using namespace Pilothouse;

class TestInventoryLoader final : public QObject
{
    Q_OBJECT

private:
    static QString fixture(const char *name)
    {
        return QStringLiteral(PILOTHOUSE_SOURCE_DIR "/tests/fixtures/inventories/") +
               QLatin1String(name);
    }

private Q_SLOTS:
    void labInventory()
    {
        const auto r = InventoryLoader::loadFile(fixture("lab.yaml"));
        QVERIFY2(r.ok(), qPrintable(r ? QString() : r.error().toString()));
        const Inventory &inv = r.value();
        QCOMPARE(inv.hosts.size(), 3);
        QCOMPARE(inv.hosts.at(0).name, QStringLiteral("swarm-01"));
        QCOMPARE(inv.hosts.at(2).address, QStringLiteral("10.213.0.13"));
        QCOMPARE(inv.hosts.at(1).sshPort, 15122);
        QCOMPARE(inv.hosts.at(1).user, QStringLiteral("root"));
        QCOMPARE(inv.hosts.at(1).groups,
                 QStringList({QStringLiteral("all"), QStringLiteral("swarm_managers")}));
        QCOMPARE(inv.settings.stack, QStringLiteral("pilothouse"));
        QCOMPARE(inv.settings.proxy, QStringLiteral("haproxy"));
        QCOMPARE(inv.settings.postgresNodes.value(QStringLiteral("pg-2")),
                 QStringLiteral("swarm-02"));
        QCOMPARE(inv.settings.repmgrDatabase, QStringLiteral("repmgr"));
        QCOMPARE(inv.settings.etcdMembers.size(), 3);
        QCOMPARE(inv.settings.pgpoolPort, 9999);
        QCOMPARE(inv.settings.appReplicas, 6);
        QCOMPARE(inv.settings.glusterMount, QStringLiteral("/mnt/glusterfs"));
        QCOMPARE(inv.settings.glusterBricks.value(QStringLiteral("swarm-02")), QStringLiteral("/b2"));
        QCOMPARE(inv.displayName(), QStringLiteral("lab"));
    }

    void seedShapeWithGroupVars()
    {
        const auto r = InventoryLoader::loadFile(fixture("ansible-seed.yaml"));
        QVERIFY2(r.ok(), qPrintable(r ? QString() : r.error().toString()));
        const Inventory &inv = r.value();
        QCOMPARE(inv.hosts.size(), 3); // swarm-01..03 once each, though listed twice
        const InventoryHost *h1 = inv.host(QStringLiteral("swarm-01"));
        QVERIFY(h1);
        QCOMPARE(h1->sshPort, 15122);
        QCOMPARE(h1->user, QStringLiteral("devops"));
        QVERIFY(h1->groups.contains(QStringLiteral("managers")));
        QVERIFY(h1->groups.contains(QStringLiteral("postgres")));
        // Relative key files are anchored at the inventory's folder.
        QCOMPARE(h1->keyFile, QDir::cleanPath(fixture("keys/devops_ed25519")));
        // A group's vars override the ones it inherits.
        QCOMPARE(inv.host(QStringLiteral("swarm-03"))->user, QStringLiteral("ops"));
        QCOMPARE(inv.settings.proxy, QStringLiteral("traefik"));
        QCOMPARE(inv.displayName(), QStringLiteral("ansible-seed"));
    }

    void errorsNamePlace_data()
    {
        QTest::addColumn<QString>("file");
        QTest::addColumn<int>("line");
        QTest::addColumn<int>("column");
        QTest::addColumn<QString>("says");
        QTest::newRow("syntax") << "bad-syntax.yaml" << 6 << 1 << "not valid YAML";
        QTest::newRow("port") << "bad-port.yaml" << 5 << 21 << "from 1 to 65535, found '99999'";
        QTest::newRow("type") << "bad-type.yaml" << 3 << 5
                              << "group 'all' hosts must be a mapping, found a list";
        QTest::newRow("duplicate") << "bad-duplicate.yaml" << 5 << 5 << "duplicate key 'swarm-01'";
        QTest::newRow("no section")
            << "bad-missing-section.yaml" << 1 << 1 << "no 'pilothouse:' section";
        QTest::newRow("unknown host") << "bad-unknown-host.yaml" << 6 << 7 << "host 'swarm-09'";
        QTest::newRow("proxy") << "bad-proxy.yaml" << 7 << 14 << "must be 'haproxy' or 'traefik'";
        QTest::newRow("binary") << "bad-binary.yaml" << 0 << 0 << "binary";
    }

    void errorsNamePlace()
    {
        QFETCH(QString, file);
        QFETCH(int, line);
        QFETCH(int, column);
        QFETCH(QString, says);
        const auto r = InventoryLoader::loadFile(fixture(file.toLatin1().constData()));
        QVERIFY(!r.ok());
        const Error &e = r.error();
        QVERIFY2(e.message.contains(says), qPrintable(e.toString()));
        QCOMPARE(e.file, fixture(file.toLatin1().constData()));
        QCOMPARE(e.line, line);
        QCOMPARE(e.column, column);
        if (line > 0)
            QVERIFY(e.toString().startsWith(e.file + u':' + QString::number(line) + u':'));
    }

    void missingFile()
    {
        const auto r = InventoryLoader::loadFile(fixture("does-not-exist.yaml"));
        QVERIFY(!r.ok());
        QVERIFY2(r.error().message.startsWith(QStringLiteral("cannot read the inventory")),
                 qPrintable(r.error().toString()));
    }

    void emptyAndScalarDocuments()
    {
        for (const QByteArray &doc :
             {QByteArray(""), QByteArray("just text\n"), QByteArray("[1, 2]\n")}) {
            const auto r = InventoryLoader::loadBytes(doc, QStringLiteral("x.yaml"));
            QVERIFY2(!r.ok(), doc.constData());
            QCOMPARE(r.error().file, QStringLiteral("x.yaml"));
        }
    }

    void conflictingAddressesForOneHost()
    {
        const QByteArray doc = "all:\n"
                               "  children:\n"
                               "    a:\n"
                               "      hosts:\n"
                               "        h1: {ansible_host: 10.0.0.1}\n"
                               "    b:\n"
                               "      hosts:\n"
                               "        h1: {ansible_host: 10.0.0.2}\n"
                               "pilothouse: {stack: s}\n";
        const auto r = InventoryLoader::loadBytes(doc, QStringLiteral("x.yaml"));
        QVERIFY(!r.ok());
        QCOMPARE(r.error().line, 8);
        QVERIFY(r.error().message.contains(QStringLiteral("listed again with address 10.0.0.2")));
    }

    void sameAddressTwice()
    {
        const QByteArray doc = "all:\n"
                               "  hosts:\n"
                               "    h1: {ansible_host: 10.0.0.1}\n"
                               "    h2: {ansible_host: 10.0.0.1}\n"
                               "  vars: {pilothouse: {stack: s}}\n";
        const auto r = InventoryLoader::loadBytes(doc, QStringLiteral("x.yaml"));
        QVERIFY(!r.ok());
        QCOMPARE(r.error().line, 4);
        QVERIFY(r.error().message.contains(QStringLiteral("same address and port")));
    }
};

QTEST_GUILESS_MAIN(TestInventoryLoader)
#include "tst_inventoryloader.moc"
