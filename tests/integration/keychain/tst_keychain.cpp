// Credentials in a real OS keychain: GNOME Keyring's Secret Service in a
// private D-Bus session (tests/support/with-keyring.sh starts it). Imports a
// cluster's credential files, reads them back after the files are gone, and
// checks `pilothouse credentials` never prints a value.

#include "app/inventory/credentials.h"
#include "app/inventory/inventoryloader.h"

#include <QFile>
#include <QProcess>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <optional>

using namespace Pilothouse;

namespace {

Result<QStringList> wait(const std::function<void(Keychain::Done)> &start)
{
    std::optional<Result<QStringList>> out;
    start([&out](const Result<QStringList> &r) { out = r; });
    if (!QTest::qWaitFor([&out] { return out.has_value(); }, 15000))
        return Error{QStringLiteral("the keychain call never finished"), {}, 0, 0};
    return *out;
}

QStringList sorted(QStringList l)
{
    l.sort();
    return l;
}

} // namespace

class TestKeychain final : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    Inventory m_inventory;
    Keychain m_keychain;

    bool writeFile(const QString &name, const QByteArray &content)
    {
        QFile f(m_dir.filePath(QStringLiteral("secrets/") + name));
        return f.open(QIODevice::WriteOnly) && f.write(content) == content.size();
    }

    QProcess::ExitStatus cli(const QStringList &args, QByteArray *out, int *code)
    {
        QProcess p;
        p.start(QStringLiteral(PILOTHOUSE_BINARY), args);
        p.waitForFinished(30000);
        *out = p.readAllStandardOutput() + p.readAllStandardError();
        *code = p.exitCode();
        return p.exitStatus();
    }

private Q_SLOTS:
    void initTestCase()
    {
        QString why;
        QVERIFY2(Keychain::available(&why),
                 qPrintable(why + QStringLiteral(": run through tests/support/with-keyring.sh")));
        QVERIFY(m_dir.isValid());
        QVERIFY(QDir(m_dir.path()).mkpath(QStringLiteral("secrets")));
        // The lab's inventory shape, its own stack name and secrets_dir.
        QFile lab(QStringLiteral(PILOTHOUSE_SOURCE_DIR "/tests/fixtures/inventories/lab.yaml"));
        QVERIFY(lab.open(QIODevice::ReadOnly));
        QString text = QString::fromUtf8(lab.readAll());
        text.replace(QStringLiteral("stack: pilothouse"), QStringLiteral("stack: keychaintest"));
        text.replace(QStringLiteral("secrets_dir: /var/lib/pilothouse-lab/secrets"),
                     QStringLiteral("secrets_dir: ") + m_dir.filePath(QStringLiteral("secrets")));
        QFile inventory(m_dir.filePath(QStringLiteral("inventory.yaml")));
        QVERIFY(inventory.open(QIODevice::WriteOnly));
        inventory.write(text.toUtf8());
        inventory.close();
        const auto loaded = InventoryLoader::loadFile(inventory.fileName());
        QVERIFY2(loaded, loaded ? "" : qPrintable(loaded.error().toString()));
        m_inventory = loaded.value();
        QCOMPARE(Credentials::clusterKey(m_inventory), QStringLiteral("keychaintest@10.213.0.11"));
        const auto cleared = wait([this](Keychain::Done d) { m_keychain.forget(m_inventory, d); });
        QVERIFY2(cleared, cleared ? "" : qPrintable(cleared.error().toString()));
    }

    void filesAreReadWhileTheKeychainIsEmpty()
    {
        QVERIFY(writeFile(QStringLiteral("pg_monitor_password"), "monitor-s3cret-1\n"));
        QVERIFY(writeFile(QStringLiteral("pg_app_password"), "app-s3cret-2"));
        const auto none = wait([this](Keychain::Done d) { m_keychain.load(m_inventory, d); });
        QVERIFY(none);
        QVERIFY(none.value().isEmpty());
        const auto monitor = Credentials::read(m_inventory, QStringLiteral("pg_monitor_password"));
        QVERIFY(monitor);
        QCOMPARE(monitor.value(), QStringLiteral("monitor-s3cret-1"));
    }

    void importedCredentialsOutliveTheirFiles()
    {
        const auto stored =
            wait([this](Keychain::Done d) { m_keychain.importFiles(m_inventory, d); });
        QVERIFY2(stored, stored ? "" : qPrintable(stored.error().toString()));
        QCOMPARE(sorted(stored.value()), (QStringList{QStringLiteral("pg_app_password"),
                                                      QStringLiteral("pg_monitor_password")}));
        // The operator deletes the files; a new process has nothing cached.
        QVERIFY(QFile::remove(m_dir.filePath(QStringLiteral("secrets/pg_monitor_password"))));
        QVERIFY(QFile::remove(m_dir.filePath(QStringLiteral("secrets/pg_app_password"))));
        Credentials::forgetLoaded(Credentials::clusterKey(m_inventory));
        const auto gone = Credentials::read(m_inventory, QStringLiteral("pg_monitor_password"));
        QVERIFY(!gone);
        QVERIFY2(gone.error().message.contains(u"not in the keychain"),
                 qPrintable(gone.error().message));

        const auto loaded = wait([this](Keychain::Done d) { m_keychain.load(m_inventory, d); });
        QVERIFY(loaded);
        QCOMPARE(sorted(loaded.value()), (QStringList{QStringLiteral("pg_app_password"),
                                                      QStringLiteral("pg_monitor_password")}));
        QCOMPARE(Credentials::read(m_inventory, QStringLiteral("pg_monitor_password")).value(),
                 QStringLiteral("monitor-s3cret-1"));
        QCOMPARE(Credentials::read(m_inventory, QStringLiteral("pg_app_password")).value(),
                 QStringLiteral("app-s3cret-2"));
        QVERIFY(Credentials::loadedValues(m_inventory).contains(QStringLiteral("app-s3cret-2")));
    }

    void theCommandLineNamesButNeverShowsThem()
    {
        QByteArray out;
        int code = -1;
        const QString inventory = m_dir.filePath(QStringLiteral("inventory.yaml"));
        QCOMPARE(cli({QStringLiteral("credentials"), QStringLiteral("list"),
                      QStringLiteral("--inventory"), inventory},
                     &out, &code),
                 QProcess::NormalExit);
        QVERIFY2(code == 0, out.constData());
        QVERIFY2(out.contains("pg_monitor_password: read from keychain"), out.constData());
        QVERIFY2(out.contains("pg_repmgr_password: read from missing"), out.constData());
        QVERIFY(!out.contains("s3cret"));

        QCOMPARE(cli({QStringLiteral("credentials"), QStringLiteral("forget"),
                      QStringLiteral("--inventory"), inventory, QStringLiteral("--json")},
                     &out, &code),
                 QProcess::NormalExit);
        QVERIFY2(code == 0, out.constData());
        QVERIFY(!out.contains("s3cret"));
        const auto after = wait([this](Keychain::Done d) { m_keychain.load(m_inventory, d); });
        QVERIFY(after);
        QVERIFY(after.value().isEmpty());
    }

    void aMissingSecretsDirIsSaid()
    {
        QCOMPARE(m_keychain.available(), true);
        Inventory bare = m_inventory;
        bare.settings.secretsDir.clear();
        const auto r = wait([this, bare](Keychain::Done d) { m_keychain.importFiles(bare, d); });
        QVERIFY(!r);
        QVERIFY2(r.error().message.contains(u"no secrets_dir"), qPrintable(r.error().message));
    }
};

QTEST_GUILESS_MAIN(TestKeychain)
#include "tst_keychain.moc"
