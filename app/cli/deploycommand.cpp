#include "app/cli/deploycommand.h"

#include "app/cli/clioutput.h"
#include "app/cli/commandline.h"
#include "app/deploy/stackdeploy.h"
#include "app/deploy/stackfile.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDateTime>
#include <QFile>
#include <QJsonDocument>
#include <QTextStream>

#include <cstdio>

namespace Pilothouse::Cli::DeployCommand {
namespace {

constexpr int ExitDone = 0;
constexpr int ExitFailed = 1;
constexpr int ExitRefused = 2;

} // namespace

bool matches(const QByteArray &command)
{
    return command == "deploy";
}

int run(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "pilothouse deploy --inventory FILE --stack FILE --name STACK [--reason TEXT] [--dry-run] "
        "[--json]\nDeploys a stack file through the Docker API of a Swarm manager, showing the plan "
        "first."));
    parser.addHelpOption();
    const QCommandLineOption inventoryOption({QStringLiteral("i"), QStringLiteral("inventory")},
                                             QStringLiteral("The cluster's inventory."), QStringLiteral("FILE"));
    const QCommandLineOption stackOption(QStringLiteral("stack"), QStringLiteral("The stack (Compose) file."),
                                         QStringLiteral("FILE"));
    const QCommandLineOption nameOption(QStringLiteral("name"), QStringLiteral("The stack's name."),
                                        QStringLiteral("STACK"));
    const QCommandLineOption reasonOption(QStringLiteral("reason"),
                                          QStringLiteral("Why (goes to the audit trail)."), QStringLiteral("TEXT"));
    const QCommandLineOption dryRunOption(QStringLiteral("dry-run"), QStringLiteral("Plan only; change nothing."));
    const QCommandLineOption jsonOption(QStringLiteral("json"), QStringLiteral("Print the report as JSON."));
    const QCommandLineOption convergeOption(QStringLiteral("converge-timeout"),
                                            QStringLiteral("Seconds a service may take to run its tasks (default 300)."),
                                            QStringLiteral("S"), QStringLiteral("300"));
    const QCommandLineOption secretFileOption(
        QStringLiteral("secret-file"),
        QStringLiteral("The value of an external secret that does not exist yet, read from FILE (repeatable)."),
        QStringLiteral("NAME=FILE"));
    const QCommandLineOption secretStdinOption(
        QStringLiteral("secret-stdin"),
        QStringLiteral("The value of an external secret that does not exist yet, one line read from standard "
                       "input (repeatable, in order)."),
        QStringLiteral("NAME"));
    parser.addOptions({inventoryOption, stackOption, nameOption, reasonOption, dryRunOption, jsonOption, convergeOption,
                       secretFileOption, secretStdinOption});
    parser.addPositionalArgument(QStringLiteral("deploy"), QStringLiteral("the command"));
    const QString command = QStringLiteral("deploy");
    if (const auto exit = parseCommandLine(parser, arguments, command))
        return *exit;
    const bool dryRun = parser.isSet(dryRunOption);
    QList<RequiredOption> required{{&inventoryOption, QStringLiteral("--inventory FILE")},
                                   {&stackOption, QStringLiteral("--stack FILE")},
                                   {&nameOption, QStringLiteral("--name STACK")}};
    if (!dryRun)
        required.append(
            {&reasonOption, QStringLiteral("--reason TEXT (what the audit trail records)")});
    if (!haveRequired(parser, command, required))
        return ExitUsage;
    bool ok = false;
    const int convergeSeconds = parser.value(convergeOption).toInt(&ok);
    if (!ok || convergeSeconds < 1) {
        print(stderr, QStringLiteral("pilothouse deploy: --converge-timeout takes seconds, e.g. 300\n"));
        return ExitUsage;
    }

    const auto inventory = loadInventory(command, parser.value(inventoryOption));
    if (!inventory)
        return ExitRefused;
    const Result<StackPlan> plan = StackFile::read(parser.value(stackOption), parser.value(nameOption),
                                                   StackFile::processEnvironment());
    if (!plan) {
        print(stderr, QStringLiteral("pilothouse deploy: %1\n").arg(plan.error().toString()));
        return ExitRefused;
    }

    StackDeployOptions options;
    for (const QString &pair : parser.values(secretFileOption)) {
        const QString name = pair.section(u'=', 0, 0);
        const QString path = pair.section(u'=', 1);
        QFile f(path);
        if (name.isEmpty() || path.isEmpty() || !f.open(QIODevice::ReadOnly)) {
            print(stderr, QStringLiteral("pilothouse deploy: --secret-file %1: %2\n")
                              .arg(pair, name.isEmpty() || path.isEmpty() ? QStringLiteral("give NAME=FILE")
                                                                          : f.errorString()));
            return ExitUsage;
        }
        options.secretValues.insert(name, f.readAll());
    }
    if (!parser.values(secretStdinOption).isEmpty()) {
        QTextStream in(stdin);
        for (const QString &name : parser.values(secretStdinOption)) {
            const QString line = in.readLine();
            if (line.isNull() || line.isEmpty()) {
                print(stderr, QStringLiteral("pilothouse deploy: --secret-stdin %1: no value on standard input\n").arg(name));
                return ExitUsage;
            }
            options.secretValues.insert(name, line.toUtf8());
        }
    }
    options.reason = parser.value(reasonOption);
    options.dryRun = dryRun;
    options.convergeTimeoutMs = convergeSeconds * 1000;
    const bool json = parser.isSet(jsonOption);
    StackDeploy deploy(inventory.value(), plan.value(), options);
    QObject::connect(&deploy, &StackDeploy::planReady, [](const StackDeployReport &r) {
        print(stderr, r.planText());
    });
    QObject::connect(&deploy, &StackDeploy::stepStarted, [](const QString &, const QString &name) {
        print(stderr, QStringLiteral("%1 %2 ...\n").arg(stamp(), name));
    });
    QObject::connect(&deploy, &StackDeploy::stepFinished,
                     [](const QString &path, bool ok, double seconds, const QString &message) {
                         if (path.count(u'/') == 0)
                             return; // the whole run: reported below
                         print(stderr, QStringLiteral("%1 %2 %3 (%4 s): %5\n")
                                           .arg(stamp(), ok ? QStringLiteral("ok  ") : QStringLiteral("FAIL"),
                                                path.section(u'/', -1), QString::number(seconds, 'f', 2), message));
                     });
    QObject::connect(&deploy, &StackDeploy::changeUpdated, [](const StackChange &c) {
        if (c.kind == u"service" && c.desiredTasks >= 0)
            print(stderr, QStringLiteral("%1   %2: %3/%4 tasks running%5\n")
                              .arg(stamp(), c.name).arg(c.runningTasks).arg(c.desiredTasks)
                              .arg(c.updateState.isEmpty() ? QString() : QStringLiteral(", update ") + c.updateState));
    });
    int exitCode = ExitFailed;
    QObject::connect(&deploy, &StackDeploy::finished, [&exitCode, json](const StackDeployReport &r) {
        if (json)
            print(stdout, QString::fromUtf8(QJsonDocument(r.toJson()).toJson(QJsonDocument::Indented)));
        if (r.ok) {
            print(stderr, r.dryRun ? QStringLiteral("dry run: nothing was changed\n")
                                   : (r.changesNothing() ? QStringLiteral("nothing changed: the Swarm already ran this file\n")
                                                         : QStringLiteral("deployed %1\n").arg(r.stack)));
            exitCode = ExitDone;
        } else {
            print(stderr, QStringLiteral("pilothouse deploy: %1\n").arg(r.error));
            // Refused before changing anything: a conflict, the lock, a changed plan.
            const RunbookStepReport *applied = nullptr;
            for (const RunbookStepReport &s : r.runbook.steps) {
                if (s.kind == RunbookStepReport::Kind::Step && s.startedSeconds >= 0 &&
                    (s.name.startsWith(u"network ") || s.name.startsWith(u"secret ") ||
                     s.name.startsWith(u"config ") || s.name.startsWith(u"service ")))
                    applied = &s;
            }
            exitCode = applied ? ExitFailed : ExitRefused;
        }
        QCoreApplication::exit(exitCode);
    });
    QMetaObject::invokeMethod(&deploy, [&deploy] { deploy.start(); }, Qt::QueuedConnection);
    QCoreApplication::exec();
    return exitCode;
}

} // namespace Pilothouse::Cli::DeployCommand
