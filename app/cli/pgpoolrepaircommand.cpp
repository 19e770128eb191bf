#include "app/cli/pgpoolrepaircommand.h"

#include "app/cli/clioutput.h"
#include "app/cli/commandline.h"
#include "app/cli/interrupt.h"
#include "app/operations/pgpoolrepair.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <cstdio>

namespace Pilothouse::Cli::PgpoolRepairCommand {
namespace {

constexpr int ExitDone = 0;
constexpr int ExitFailed = 1;
constexpr int ExitRefused = 2;

} // namespace

bool matches(const QByteArray &command)
{
    return command == "pgpool-repair";
}

int run(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "pilothouse pgpool-repair --inventory FILE --reason TEXT [--dry-run] [--json]\n"
        "Brings every pgpool instance back in line with the databases: detached backends that "
        "serve are attached, the real primary is named, and an instance whose sessions fail "
        "(pgpool 4.3 \"kind does not match\") has its backends detached and attached one at a "
        "time. The databases are not touched.\n"
        "Exit 0 done (or nothing to repair, or the dry run's report), 1 failed, 2 refused, 64 "
        "usage."));
    parser.addHelpOption();
    const QCommandLineOption inventoryOption(
        {QStringLiteral("i"), QStringLiteral("inventory")},
        QStringLiteral("The cluster's Ansible YAML inventory."), QStringLiteral("FILE"));
    const QCommandLineOption reasonOption(QStringLiteral("reason"),
                                          QStringLiteral("Why (kept with the operation)."),
                                          QStringLiteral("TEXT"));
    const QCommandLineOption dryRunOption(
        QStringLiteral("dry-run"),
        QStringLiteral("Say what each pgpool gets wrong; change nothing."));
    const QCommandLineOption jsonOption(
        QStringLiteral("json"), QStringLiteral("Print the report as JSON (progress on stderr)."));
    parser.addOptions({inventoryOption, reasonOption, dryRunOption, jsonOption});
    parser.addPositionalArgument(QStringLiteral("command"), QStringLiteral("pgpool-repair"));
    const QString command = QStringLiteral("pgpool-repair");
    if (const auto exit = parseCommandLine(parser, arguments, command))
        return *exit;
    if (!haveRequired(parser, command,
                      {{&inventoryOption, QStringLiteral("--inventory FILE")},
                       {&reasonOption, QStringLiteral("--reason TEXT")}}))
        return ExitUsage;
    const auto inventory = loadInventory(command, parser.value(inventoryOption));
    if (!inventory)
        return ExitUsage;
    const bool json = parser.isSet(jsonOption);
    FILE *progress = json ? stderr : stdout;

    PgpoolRepairOptions options;
    options.reason = parser.value(reasonOption).trimmed();
    options.dryRun = parser.isSet(dryRunOption);
    PgpoolRepair repair(*inventory, options);
    print(progress, repair.preflightText() + u'\n');
    QObject::connect(
        &repair, &PgpoolRepair::stepCompleted, &repair,
        [progress](const QString &path, bool ok, double seconds, const QString &message) {
            printStep(progress, path, ok, seconds, message);
        });
    QObject::connect(
        &repair, &PgpoolRepair::finished, &repair, [&, json](const PgpoolRepairResult &r) {
            if (json) {
                print(stdout, QString::fromUtf8(QJsonDocument(pgpoolRepairReportJson(r, options))
                                                    .toJson(QJsonDocument::Indented)));
            } else if (r.ok) {
                print(stdout, r.dryRun ? QStringLiteral("dry run: nothing was changed\n")
                              : r.repairs.isEmpty()
                                  ? QStringLiteral("every pgpool agrees: nothing to repair\n")
                                  : QStringLiteral("repaired in %1 s: %2\n")
                                        .arg(r.durationSeconds, 0, 'f', 1)
                                        .arg(r.repairs.join(QStringLiteral("; "))));
            } else {
                print(stdout,
                      QStringLiteral("pgpool repair %1: %2\n")
                          .arg(r.refused ? QStringLiteral("refused") : QStringLiteral("FAILED"),
                               r.error));
            }
            QCoreApplication::exit(r.ok ? ExitDone : (r.refused ? ExitRefused : ExitFailed));
        });
    cancelOnInterrupt(&repair, [&repair](const QString &why) { repair.cancel(why); });
    repair.start();
    return QCoreApplication::exec();
}

} // namespace Pilothouse::Cli::PgpoolRepairCommand
