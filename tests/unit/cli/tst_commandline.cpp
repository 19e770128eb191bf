// What every command does with its command line before its own work
// (app/cli/commandline.h), and the executable's answer to a command line that
// lacks what it needs: exit 64, one line naming the command and every missing
// option, nothing done.

#include "app/cli/commandline.h"

#include <QProcess>
#include <QTest>

using namespace Pilothouse;
using namespace Pilothouse::Cli;

namespace {

QString fixture(const QString &name)
{
    return QStringLiteral(PILOTHOUSE_SOURCE_DIR "/tests/fixtures/inventories/") + name;
}

} // namespace

class TestCommandLine : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void parseEndsOnUsageErrorsAndHelp()
    {
        const QCommandLineOption node(QStringLiteral("node"), QString(), QStringLiteral("NODE"));
        {
            QCommandLineParser parser;
            parser.addHelpOption();
            parser.addOption(node);
            QCOMPARE(parseCommandLine(parser, {QStringLiteral("pilothouse"), QStringLiteral("x"),
                                               QStringLiteral("--bogus")},
                                      QStringLiteral("x")),
                     std::optional<int>(ExitUsage));
        }
        {
            QCommandLineParser parser;
            parser.addHelpOption();
            parser.addOption(node);
            QCOMPARE(parseCommandLine(parser, {QStringLiteral("pilothouse"), QStringLiteral("x"),
                                               QStringLiteral("--help")},
                                      QStringLiteral("x")),
                     std::optional<int>(0));
        }
        QCommandLineParser parser;
        parser.addHelpOption();
        parser.addOption(node);
        QCOMPARE(parseCommandLine(parser, {QStringLiteral("pilothouse"), QStringLiteral("x"),
                                           QStringLiteral("--node"), QStringLiteral("pg-1")},
                                  QStringLiteral("x")),
                 std::nullopt);
        QCOMPARE(parser.value(node), QStringLiteral("pg-1"));
    }

    void blankCountsAsMissing()
    {
        const QCommandLineOption node(QStringLiteral("node"), QString(), QStringLiteral("NODE"));
        const QCommandLineOption reason(QStringLiteral("reason"), QString(),
                                        QStringLiteral("TEXT"));
        QCommandLineParser parser;
        parser.addOptions({node, reason});
        QVERIFY(parser.parse({QStringLiteral("pilothouse"), QStringLiteral("--node"),
                              QStringLiteral("pg-1"), QStringLiteral("--reason"),
                              QStringLiteral("   ")}));
        QVERIFY(haveRequired(parser, QStringLiteral("x"), {{&node, QStringLiteral("--node NODE")}}));
        QVERIFY(!haveRequired(parser, QStringLiteral("x"),
                              {{&node, QStringLiteral("--node NODE")},
                               {&reason, QStringLiteral("--reason TEXT")}}));
    }

    void inventoryIsReadOrRefused()
    {
        const auto good = loadInventory(QStringLiteral("x"), fixture(QStringLiteral("lab.yaml")));
        QVERIFY(good);
        QCOMPARE(good->hosts.size(), 3);
        QVERIFY(!loadInventory(QStringLiteral("x"), fixture(QStringLiteral("bad-port.yaml"))));
        QVERIFY(!loadInventory(QStringLiteral("x"), fixture(QStringLiteral("no-such-file.yaml"))));
    }

    void everyCommandNamesWhatIsMissing_data()
    {
        QTest::addColumn<QStringList>("arguments");
        QTest::addColumn<QString>("message");
        QTest::newRow("status") << QStringList{QStringLiteral("status")}
                                << QStringLiteral("pilothouse status: --inventory FILE required");
        QTest::newRow("switchover")
            << QStringList{QStringLiteral("switchover"), QStringLiteral("--to"),
                           QStringLiteral("pg-2")}
            << QStringLiteral("pilothouse switchover: --inventory FILE, --reason TEXT required");
        QTest::newRow("drill") << QStringList{QStringLiteral("drill")}
                               << QStringLiteral("pilothouse drill: --scenario NAME, --inventory "
                                                 "FILE, --reason TEXT required");
        QTest::newRow("rejoin")
            << QStringList{QStringLiteral("rejoin"), QStringLiteral("--reason"),
                           QStringLiteral(" ")}
            << QStringLiteral(
                   "pilothouse rejoin: --node NODE, --inventory FILE, --reason TEXT required");
        QTest::newRow("pgpool-repair")
            << QStringList{QStringLiteral("pgpool-repair")}
            << QStringLiteral("pilothouse pgpool-repair: --inventory FILE, --reason TEXT required");
        QTest::newRow("deploy dry run")
            << QStringList{QStringLiteral("deploy"), QStringLiteral("--dry-run")}
            << QStringLiteral(
                   "pilothouse deploy: --inventory FILE, --stack FILE, --name STACK required");
        QTest::newRow("provision") << QStringList{QStringLiteral("provision")}
                                   << QStringLiteral("pilothouse provision: --inventory FILE "
                                                     "required");
        QTest::newRow("certs") << QStringList{QStringLiteral("certs")}
                               << QStringLiteral("pilothouse certs: --inventory FILE required");
        QTest::newRow("audit verify")
            << QStringList{QStringLiteral("audit"), QStringLiteral("verify")}
            << QStringLiteral("pilothouse audit verify: --inventory FILE required");
        QTest::newRow("unknown option")
            << QStringList{QStringLiteral("drill"), QStringLiteral("--scenery"),
                           QStringLiteral("x")}
            << QStringLiteral("pilothouse drill: Unknown option 'scenery'.");
        QTest::newRow("bad inventory")
            << QStringList{QStringLiteral("pgpool-repair"), QStringLiteral("--reason"),
                           QStringLiteral("r"), QStringLiteral("--inventory"),
                           fixture(QStringLiteral("bad-port.yaml"))}
            << QStringLiteral("pilothouse pgpool-repair: ") + fixture(QStringLiteral("bad-port.yaml"));
    }

    void everyCommandNamesWhatIsMissing()
    {
        QFETCH(QStringList, arguments);
        QFETCH(QString, message);
        QProcess p;
        p.start(QStringLiteral(PILOTHOUSE_BINARY), arguments);
        QVERIFY(p.waitForFinished(20000));
        const QString err = QString::fromUtf8(p.readAllStandardError());
        QVERIFY2(err.startsWith(message), qPrintable(err));
        QCOMPARE(err.count(u'\n'), 1); // one line
        QCOMPARE(p.readAllStandardOutput(), QByteArray());
        QCOMPARE(p.exitCode(), ExitUsage);
    }
};

QTEST_GUILESS_MAIN(TestCommandLine)
#include "tst_commandline.moc"
