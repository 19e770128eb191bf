#include "app/cli/cli.h"

#include "app/cli/auditcommand.h"
#include "app/cli/certscommand.h"
#include "app/cli/clioutput.h"
#include "app/cli/commandline.h"
#include "app/cli/credentialscommand.h"
#include "app/cli/deploycommand.h"
#include "app/cli/drillcommand.h"
#include "app/cli/pgpoolrepaircommand.h"
#include "app/cli/provisioncommand.h"
#include "app/cli/rejoincommand.h"
#include "app/cli/snapshotjson.h"
#include "app/cli/statustable.h"
#include "app/cli/switchovercommand.h"
#include "app/inventory/credentials.h"
#include "app/inventory/inventoryloader.h"
#include "app/monitor/clustermonitor.h"
#include "models/snapshotdiff.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QJsonDocument>

#include <cstdio>

namespace Pilothouse::Cli {
namespace {

constexpr int ExitHealthy = 0;
constexpr int ExitFindings = 1;
constexpr int ExitUnreachable = 2;

struct Common
{
    Inventory inventory;
    QString password;
};

// Parses the options every cluster command takes; prints why on failure.
std::optional<Common> loadCommon(QCommandLineParser &parser,
                                 const QCommandLineOption &inventoryOption)
{
    const QString command = parser.positionalArguments().value(0);
    if (!haveRequired(parser, command, {{&inventoryOption, QStringLiteral("--inventory FILE")}}))
        return std::nullopt;
    auto loaded = loadInventory(command, parser.value(inventoryOption));
    if (!loaded)
        return std::nullopt;
    const auto password = ClusterMonitor::readMonitorPassword(*loaded);
    if (!password) {
        print(stderr,
              QStringLiteral("pilothouse %1: %2\n").arg(command, password.error().toString()));
        return std::nullopt;
    }
    return Common{std::move(*loaded), password.value()};
}

int exitCodeFor(const ClusterSnapshot &s)
{
    const bool anyHost = std::any_of(s.hosts.cbegin(), s.hosts.cend(),
                                     [](const HostState &h) { return h.reachable; });
    const bool anyPg = std::any_of(s.postgres.cbegin(), s.postgres.cend(),
                                   [](const PostgresNodeState &n) { return n.reachable; });
    if (!anyHost && !anyPg)
        return ExitUnreachable;
    const bool serious = std::any_of(s.findings.cbegin(), s.findings.cend(),
                                     [](const Finding &f) { return f.severity != Severity::Info; });
    return serious ? ExitFindings : ExitHealthy;
}

int status(const Common &common, bool json)
{
    ClusterMonitor::Options options;
    options.monitorPassword = common.password;
    ClusterMonitor monitor(common.inventory, options);
    int code = ExitUnreachable;
    QObject::connect(&monitor, &ClusterMonitor::firstRoundFinished, &monitor, [&] {
        const ClusterSnapshot &s = monitor.snapshot();
        const QDateTime now = QDateTime::currentDateTimeUtc();
        if (json)
            print(stdout,
                  QString::fromUtf8(
                      QJsonDocument(SnapshotJson::toJson(s, now)).toJson(QJsonDocument::Indented)));
        else
            print(stdout, StatusTable::render(s, now));
        code = exitCodeFor(s);
        monitor.stop();
        QCoreApplication::exit(code);
    });
    monitor.start();
    return QCoreApplication::exec();
}

int watch(const Common &common, int intervalMs)
{
    ClusterMonitor::Options options;
    options.monitorPassword = common.password;
    options.intervalMs = intervalMs;
    ClusterMonitor monitor(common.inventory, options);
    ClusterSnapshot previous;
    bool first = true;
    QObject::connect(
        &monitor, &ClusterMonitor::snapshotChanged, &monitor, [&](const ClusterSnapshot &s) {
            if (!monitor.firstRoundDone())
                return; // announce the cluster once it has been seen whole
            const QString stamp = s.takenAt.toLocalTime().toString(QStringLiteral("HH:mm:ss.zzz"));
            if (first) {
                first = false;
                print(stdout, StatusTable::render(s, s.takenAt));
                print(stdout, QStringLiteral("%1 watching; one line per change (Ctrl+C to stop)\n")
                                  .arg(stamp));
            } else {
                for (const auto &change : SnapshotDiff::diff(previous, s))
                    print(stdout, stamp + u' ' + SnapshotDiff::describe(change) + u'\n');
            }
            previous = s;
        });
    monitor.start();
    return QCoreApplication::exec();
}

// The inventory a command names (--inventory F, --inventory=F, -i F), if any.
QString inventoryArgument(const QStringList &arguments)
{
    for (int i = 2; i < arguments.size(); ++i) {
        const QString &a = arguments.at(i);
        if ((a == u"--inventory" || a == u"-i") && i + 1 < arguments.size())
            return arguments.at(i + 1);
        if (a.startsWith(u"--inventory="))
            return a.mid(12);
    }
    return {};
}

// Every command reads the cluster's credentials through Credentials::read:
// put the keychain's copies in front of the secrets_dir files first. No
// keychain (no session bus) costs nothing; a failing one is said once.
void preloadKeychain(const QStringList &arguments)
{
    const QString path = inventoryArgument(arguments);
    if (path.isEmpty() || !Keychain::available())
        return;
    const auto inventory = InventoryLoader::loadFile(path);
    if (!inventory)
        return; // the command itself says what is wrong with it
    const auto loaded = Keychain::loadAndWait(inventory.value());
    if (!loaded)
        print(stderr, QStringLiteral("pilothouse: keychain: %1; reading the secrets_dir files\n")
                          .arg(loaded.error().message));
}

} // namespace

bool isCommand(int argc, char **argv)
{
    if (argc < 2)
        return false;
    const QByteArray command(argv[1]);
    if (SwitchoverCommand::matches(command))
        return true;
    if (AuditCommand::matches(command))
        return true;
    if (RejoinCommand::matches(command))
        return true;
    if (PgpoolRepairCommand::matches(command))
        return true;
    if (DrillCommand::matches(command))
        return true;
    if (DeployCommand::matches(command))
        return true;
    if (ProvisionCommand::matches(command))
        return true;
    if (CertsCommand::matches(command))
        return true;
    if (CredentialsCommand::matches(command))
        return true;
    return command == "status" || command == "watch";
}

int run(const QStringList &arguments)
{
    if (CredentialsCommand::matches(arguments.value(1).toUtf8()))
        return CredentialsCommand::run(arguments);
    preloadKeychain(arguments);
    if (SwitchoverCommand::matches(arguments.value(1).toUtf8()))
        return SwitchoverCommand::run(arguments);
    if (AuditCommand::matches(arguments.value(1).toUtf8()))
        return AuditCommand::run(arguments);
    if (RejoinCommand::matches(arguments.value(1).toUtf8()))
        return RejoinCommand::run(arguments);
    if (PgpoolRepairCommand::matches(arguments.value(1).toUtf8()))
        return PgpoolRepairCommand::run(arguments);
    if (DrillCommand::matches(arguments.value(1).toUtf8()))
        return DrillCommand::run(arguments);
    if (DeployCommand::matches(arguments.value(1).toUtf8()))
        return DeployCommand::run(arguments);
    if (CertsCommand::matches(arguments.value(1).toUtf8()))
        return CertsCommand::run(arguments);
    if (ProvisionCommand::matches(arguments.value(1).toUtf8()))
        return ProvisionCommand::run(arguments);
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "pilothouse status --inventory FILE [--json]   every layer's view, once; exit 0 healthy, 1 "
        "findings, 2 unreachable\n"
        "pilothouse watch --inventory FILE              one line per change until interrupted"));
    parser.addHelpOption();
    const QCommandLineOption inventoryOption(
        {QStringLiteral("i"), QStringLiteral("inventory")},
        QStringLiteral("The cluster's Ansible YAML inventory."), QStringLiteral("FILE"));
    const QCommandLineOption jsonOption(QStringLiteral("json"),
                                        QStringLiteral("Print JSON instead of tables."));
    const QCommandLineOption intervalOption(
        QStringLiteral("interval"),
        QStringLiteral("watch: probe interval in milliseconds (default 1000)."),
        QStringLiteral("MS"), QStringLiteral("1000"));
    parser.addOption(inventoryOption);
    parser.addOption(jsonOption);
    parser.addOption(intervalOption);
    parser.addPositionalArgument(QStringLiteral("command"), QStringLiteral("status or watch"));
    if (const auto exit = parseCommandLine(parser, arguments, QStringLiteral("status")))
        return *exit;
    const QString command = parser.positionalArguments().value(0);
    const auto common = loadCommon(parser, inventoryOption);
    if (!common)
        return ExitUsage;
    if (command == u"status")
        return status(*common, parser.isSet(jsonOption));
    bool ok = false;
    const int interval = parser.value(intervalOption).toInt(&ok);
    if (!ok || interval < 100) {
        print(stderr,
              QStringLiteral(
                  "pilothouse watch: --interval must be a number of milliseconds >= 100\n"));
        return ExitUsage;
    }
    return watch(*common, interval);
}

} // namespace Pilothouse::Cli
