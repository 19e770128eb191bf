#include "app/cli/provisioncommand.h"

#include "app/cli/clioutput.h"
#include "app/cli/commandline.h"
#include "app/provision/provisioning.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QJsonDocument>

namespace Pilothouse::Cli::ProvisionCommand {
namespace {

constexpr int ExitFailed = 1;
constexpr int ExitRefused = 2;

// The end of a run as an operator reads it: per host what changed (or would),
// then the cluster's part, then the verdict.
QString summaryText(const ProvisionResult &r)
{
    QString out;
    for (const ProvisionHostReport &h : r.hosts) {
        const QString ports =
            h.sshPortBefore == 0 ? QStringLiteral("not reached")
            : h.sshPortBefore == h.sshPortAfter
                ? QStringLiteral("ssh port %1").arg(h.sshPortAfter)
                : QStringLiteral("ssh port %1 -> %2").arg(h.sshPortBefore).arg(h.sshPortAfter);
        out += QStringLiteral("%1 (%2)%3\n")
                   .arg(h.host, ports,
                        h.error.isEmpty() ? QString() : QStringLiteral(": STOPPED at ") + h.error);
        for (const QString &c : h.changed)
            out += QStringLiteral("  changed  %1\n").arg(c);
        for (const QString &w : h.would)
            out += QStringLiteral("  would    %1\n").arg(w);
        if (h.changed.isEmpty() && h.would.isEmpty() && h.error.isEmpty())
            out +=
                QStringLiteral("  unchanged (%1 check(s) found it as wanted)\n").arg(h.ok.size());
    }
    out += QStringLiteral("cluster\n");
    for (const QString &c : r.clusterChanged)
        out += QStringLiteral("  changed  %1\n").arg(c);
    for (const QString &w : r.clusterWould)
        out += QStringLiteral("  would    %1\n").arg(w);
    if (r.clusterChanged.isEmpty() && r.clusterWould.isEmpty())
        out += r.clusterOk.isEmpty()
                   ? QStringLiteral("  not started (it waits for every host)\n")
                   : QStringLiteral("  unchanged (%1 check(s) found it as wanted)\n")
                         .arg(r.clusterOk.size());
    if (r.ok && r.dryRun)
        out += QStringLiteral("dry run: nothing was changed\n");
    else if (r.nothingChanged())
        out += QStringLiteral(
                   "provisioned: nothing to change, every host and the swarm were already as "
                   "wanted (%1 s)\n")
                   .arg(r.durationSeconds, 0, 'f', 1);
    else if (r.ok)
        out += QStringLiteral("provisioned: %1 change(s) in %2 s\n")
                   .arg(r.changeCount())
                   .arg(r.durationSeconds, 0, 'f', 1);
    else
        out += QStringLiteral("provision %1: %2\n%3")
                   .arg(r.refused ? QStringLiteral("refused") : QStringLiteral("FAILED"), r.error,
                        r.refused
                            ? QString()
                            : QStringLiteral("what is done stays done; run the same command again "
                                             "to resume (state: %1)\n")
                                  .arg(r.stateFile));
    return out;
}

} // namespace

bool matches(const QByteArray &command)
{
    return command == "provision";
}

int run(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "pilothouse provision --inventory FILE [--reason TEXT] [--dry-run] [--json]\n"
        "Takes the inventory's bare Debian 12 hosts to a Swarm over SSH: operator user, Docker, "
        "sshd on the inventory's port, the nftables firewall, the Swarm with every host a manager, "
        "node labels, overlay networks, images loaded from the archive. Every step looks first: "
        "a second run changes nothing; after a failure the same command resumes.\n"
        "Exit: 0 done, 1 failed (run again to resume), 2 refused (nothing changed), 64 usage."));
    parser.addHelpOption();
    const QCommandLineOption inventoryOption(
        {QStringLiteral("i"), QStringLiteral("inventory")},
        QStringLiteral("The cluster's inventory (with a pilothouse.provision "
                       "section)."),
        QStringLiteral("FILE"));
    const QCommandLineOption reasonOption(
        QStringLiteral("reason"), QStringLiteral("Why (goes to the audit trail)."),
        QStringLiteral("TEXT"), QStringLiteral("provision the cluster's hosts"));
    const QCommandLineOption dryRunOption(
        QStringLiteral("dry-run"),
        QStringLiteral("Look at every host and say what would change; change "
                       "nothing."));
    const QCommandLineOption jsonOption(QStringLiteral("json"),
                                        QStringLiteral("Print the report as JSON."));
    parser.addOptions({inventoryOption, reasonOption, dryRunOption, jsonOption});
    parser.addPositionalArgument(QStringLiteral("provision"), QStringLiteral("the command"));
    const QString command = QStringLiteral("provision");
    if (const auto exit = parseCommandLine(parser, arguments, command))
        return *exit;
    if (!haveRequired(parser, command, {{&inventoryOption, QStringLiteral("--inventory FILE")}}))
        return ExitUsage;
    const auto inventory = loadInventory(command, parser.value(inventoryOption));
    if (!inventory)
        return ExitUsage;
    ProvisionOptions options;
    options.reason = parser.value(reasonOption).trimmed();
    options.dryRun = parser.isSet(dryRunOption);
    const bool json = parser.isSet(jsonOption);
    FILE *progress = json ? stderr : stdout;
    Provisioning provisioning(inventory.value(), std::move(options));
    QObject::connect(
        &provisioning, &Provisioning::stepCompleted, &provisioning,
        [progress](const QString &path, bool ok, double seconds, const QString &message) {
            printStep(progress, path, ok, seconds, message);
        });
    int code = ExitFailed;
    QObject::connect(
        &provisioning, &Provisioning::finished, &provisioning,
        [&code, json](const ProvisionResult &r) {
            if (json)
                print(stdout,
                      QString::fromUtf8(
                          QJsonDocument(provisionReportJson(r)).toJson(QJsonDocument::Indented)));
            else
                print(stdout, summaryText(r));
            code = r.ok ? 0 : (r.refused ? ExitRefused : ExitFailed);
            QCoreApplication::exit(code);
        });
    if (!json)
        print(progress,
              QStringLiteral("%1provisioning %2 host(s) of %3%4\n")
                  .arg(parser.isSet(dryRunOption) ? QStringLiteral("plan: ") : QString())
                  .arg(inventory.value().hosts.size())
                  .arg(inventory.value().path, parser.isSet(dryRunOption)
                                                   ? QStringLiteral(" (dry run: nothing changes)")
                                                   : QString()));
    QMetaObject::invokeMethod(
        &provisioning, [&provisioning] { provisioning.start(); }, Qt::QueuedConnection);
    QCoreApplication::exec();
    return code;
}

} // namespace Pilothouse::Cli::ProvisionCommand
