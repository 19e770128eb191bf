#include "app/cli/credentialscommand.h"

#include "app/cli/clioutput.h"
#include "app/cli/commandline.h"
#include "app/inventory/credentials.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <cstdio>

namespace Pilothouse::Cli::CredentialsCommand {
namespace {

constexpr int ExitDone = 0;
constexpr int ExitFailed = 1;

// Where Credentials::read finds each name now.
QJsonArray sources(const Inventory &inventory, const QStringList &inKeychain)
{
    QJsonArray out;
    for (const QString &name : Credentials::names()) {
        QString from = QStringLiteral("missing");
        if (inKeychain.contains(name))
            from = QStringLiteral("keychain");
        else if (!inventory.settings.secretsDir.isEmpty() &&
                 QFile::exists(inventory.settings.secretsDir + u'/' + name))
            from = QStringLiteral("file");
        out.append(QJsonObject{{QStringLiteral("name"), name}, {QStringLiteral("source"), from}});
    }
    return out;
}

} // namespace

bool matches(const QByteArray &command)
{
    return command == "credentials";
}

int run(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "pilothouse credentials import|list|forget --inventory FILE [--json]\n"
        "Keeps the cluster's passwords (the files of the inventory's secrets_dir) in the OS "
        "keychain (the Secret Service: GNOME Keyring, KWallet). Once imported, the console and "
        "every command read them from there; the files may then be deleted."));
    parser.addHelpOption();
    parser.addPositionalArgument(QStringLiteral("command"), QStringLiteral("credentials"));
    parser.addPositionalArgument(QStringLiteral("action"),
                                 QStringLiteral("import, list or forget"));
    const QCommandLineOption inventoryOption(QStringLiteral("inventory"),
                                             QStringLiteral("The cluster's inventory file."),
                                             QStringLiteral("FILE"));
    const QCommandLineOption jsonOption(QStringLiteral("json"), QStringLiteral("Print JSON."));
    parser.addOptions({inventoryOption, jsonOption});
    const QString command = QStringLiteral("credentials");
    if (const auto exit = parseCommandLine(parser, arguments, command))
        return *exit;
    const QString action = parser.positionalArguments().value(1);
    if (action != u"import" && action != u"list" && action != u"forget") {
        print(stderr, QStringLiteral("pilothouse credentials: the action must be import, list or "
                                     "forget (got \"%1\")\n")
                          .arg(action));
        return ExitUsage;
    }
    if (!haveRequired(parser, command, {{&inventoryOption, QStringLiteral("--inventory FILE")}}))
        return ExitUsage;
    const auto loaded = loadInventory(command, parser.value(inventoryOption));
    if (!loaded)
        return ExitUsage;
    const Inventory &inventory = *loaded;
    const bool json = parser.isSet(jsonOption);

    Keychain keychain;
    int code = ExitFailed;
    auto report = [&](const Result<QStringList> &r) {
        if (!r) {
            print(stderr, QStringLiteral("pilothouse credentials %1: %2\n")
                              .arg(action, r.error().toString()));
            code = ExitFailed;
        } else {
            const QStringList names = r.value();
            const QStringList inKeychain = action == u"forget" ? QStringList() : names;
            if (json) {
                print(stdout,
                      QString::fromUtf8(
                          QJsonDocument(
                              QJsonObject{
                                  {QStringLiteral("action"), action},
                                  {QStringLiteral("cluster"), Credentials::clusterKey(inventory)},
                                  {QStringLiteral("names"), QJsonArray::fromStringList(names)},
                                  {QStringLiteral("sources"), sources(inventory, inKeychain)}})
                              .toJson(QJsonDocument::Indented)));
            } else {
                const QString verb = action == u"import"   ? QStringLiteral("stored in")
                                     : action == u"forget" ? QStringLiteral("removed from")
                                                           : QStringLiteral("held by");
                print(stdout, QStringLiteral("%1: %2 %3 the keychain\n")
                                  .arg(Credentials::clusterKey(inventory),
                                       names.isEmpty() ? QStringLiteral("nothing")
                                                       : names.join(QStringLiteral(", ")),
                                       verb));
                for (const QJsonValue &v : sources(inventory, inKeychain)) {
                    const QJsonObject o = v.toObject();
                    print(stdout, QStringLiteral("  %1: read from %2\n")
                                      .arg(o.value(QStringLiteral("name")).toString(),
                                           o.value(QStringLiteral("source")).toString()));
                }
                if (action == u"import" && !inventory.settings.secretsDir.isEmpty())
                    print(stdout, QStringLiteral("The files in %1 are unchanged; delete them once "
                                                 "you no longer need them.\n")
                                      .arg(inventory.settings.secretsDir));
            }
            code = ExitDone;
        }
        QCoreApplication::exit(code);
    };
    if (action == u"import")
        keychain.importFiles(inventory, report);
    else if (action == u"forget")
        keychain.forget(inventory, report);
    else
        keychain.load(inventory, report);
    QCoreApplication::exec();
    return code;
}

} // namespace Pilothouse::Cli::CredentialsCommand
