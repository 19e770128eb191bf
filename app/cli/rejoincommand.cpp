#include "app/cli/rejoincommand.h"

#include "app/cli/clioutput.h"
#include "app/cli/commandline.h"
#include "app/cli/interrupt.h"
#include "app/operations/rejoin.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <cstdio>

namespace Pilothouse::Cli::RejoinCommand {
namespace {

constexpr int ExitDone = 0;
constexpr int ExitFailed = 1;
constexpr int ExitRefused = 2;

} // namespace

bool matches(const QByteArray &command)
{
    return command == "rejoin";
}

int run(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "pilothouse rejoin --node NODE --inventory FILE --reason TEXT [--dry-run] [--json]\n"
        "Rejoins a diverged former primary (or any node that does not stream) as a standby of "
        "the primary: shows the timeline fork and the WAL at risk first, then pg_rewind, or a "
        "re-clone when a rewind cannot work.\n"
        "Exit 0 done (or the dry run's report), 1 failed, 2 refused, 64 usage."));
    parser.addHelpOption();
    const QCommandLineOption nodeOption(QStringLiteral("node"),
                                        QStringLiteral("The node to rejoin, e.g. pg-1."),
                                        QStringLiteral("NODE"));
    const QCommandLineOption inventoryOption(
        {QStringLiteral("i"), QStringLiteral("inventory")},
        QStringLiteral("The cluster's Ansible YAML inventory."), QStringLiteral("FILE"));
    const QCommandLineOption reasonOption(QStringLiteral("reason"),
                                          QStringLiteral("Why (kept with the operation)."),
                                          QStringLiteral("TEXT"));
    const QCommandLineOption dryRunOption(
        QStringLiteral("dry-run"),
        QStringLiteral("Show the fork, the WAL at risk and the plan; change nothing."));
    const QCommandLineOption noRecloneOption(
        QStringLiteral("no-reclone"),
        QStringLiteral("Fail rather than re-clone when pg_rewind cannot work."));
    const QCommandLineOption jsonOption(
        QStringLiteral("json"), QStringLiteral("Print the report as JSON (progress on stderr)."));
    parser.addOptions(
        {nodeOption, inventoryOption, reasonOption, dryRunOption, noRecloneOption, jsonOption});
    parser.addPositionalArgument(QStringLiteral("command"), QStringLiteral("rejoin"));
    const QString command = QStringLiteral("rejoin");
    if (const auto exit = parseCommandLine(parser, arguments, command))
        return *exit;
    if (!haveRequired(parser, command,
                      {{&nodeOption, QStringLiteral("--node NODE")},
                       {&inventoryOption, QStringLiteral("--inventory FILE")},
                       {&reasonOption, QStringLiteral("--reason TEXT")}}))
        return ExitUsage;
    const auto inventory = loadInventory(command, parser.value(inventoryOption));
    if (!inventory)
        return ExitUsage;
    const bool json = parser.isSet(jsonOption);
    FILE *progress = json ? stderr : stdout;

    RejoinOptions options;
    options.node = parser.value(nodeOption);
    options.reason = parser.value(reasonOption).trimmed();
    options.dryRun = parser.isSet(dryRunOption);
    options.allowReclone = !parser.isSet(noRecloneOption);
    Rejoin rejoin(*inventory, options);
    print(progress, rejoin.preflightText() + u'\n');

    QObject::connect(&rejoin, &Rejoin::stepStarted, &rejoin,
                     [progress](const QString &path, const QString &name) {
                         if (path.count(u'/') < 1 || path.endsWith(u"/preflight") ||
                             path.endsWith(u"/fork") || path.endsWith(u"/act") ||
                             path.endsWith(u"/verify"))
                             return;
                         print(progress, QStringLiteral("%1 %2 ...\n").arg(stamp(), name));
                     });
    QObject::connect(
        &rejoin, &Rejoin::stepCompleted, &rejoin,
        [progress](const QString &path, bool ok, double seconds, const QString &message) {
            printStep(progress, path, ok, seconds, message);
        });
    auto shown = std::make_shared<bool>(false);
    QObject::connect(&rejoin, &Rejoin::forkRead, &rejoin,
                     [progress, shown](const TimelineFork &fork) {
                         // Once with the history, once more with pg_rewind's verdict.
                         print(progress, QStringLiteral("\n%1\n").arg(fork.toText()));
                         *shown = true;
                     });
    QObject::connect(&rejoin, &Rejoin::finished, &rejoin, [&, json](const RejoinResult &r) {
        if (json)
            print(stdout,
                  QString::fromUtf8(
                      QJsonDocument(rejoinReportJson(r, options)).toJson(QJsonDocument::Indented)));
        else if (r.ok)
            print(stdout, r.dryRun ? QStringLiteral("dry run: nothing was changed\n")
                                   : QStringLiteral("%1 rejoined (%2) in %3 s\n")
                                         .arg(options.node, r.method)
                                         .arg(r.durationSeconds, 0, 'f', 1));
        else
            print(stdout, QStringLiteral("rejoin %1: %2\n")
                              .arg(r.refused ? QStringLiteral("refused") : QStringLiteral("FAILED"),
                                   r.error));
        QCoreApplication::exit(r.ok ? ExitDone : (r.refused ? ExitRefused : ExitFailed));
    });
    cancelOnInterrupt(&rejoin, [&rejoin](const QString &why) { rejoin.cancel(why); });
    rejoin.start();
    return QCoreApplication::exec();
}

} // namespace Pilothouse::Cli::RejoinCommand
