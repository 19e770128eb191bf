#include "app/cli/certscommand.h"

#include "app/cli/clioutput.h"
#include "app/certs/certificateradar.h"
#include "app/inventory/inventoryloader.h"
#include "app/monitor/clustermonitor.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QJsonDocument>

#include <cstdio>

namespace Pilothouse::Cli::CertsCommand {
namespace {

constexpr int ExitUnreachable = 2;
constexpr int ExitUsage = 64;

} // namespace

bool matches(const QByteArray &command)
{
    return command == "certs";
}

int run(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "pilothouse certs --inventory FILE [--json]\nEvery certificate the cluster depends on and its days left."));
    parser.addHelpOption();
    const QCommandLineOption inventoryOption({QStringLiteral("i"), QStringLiteral("inventory")},
                                             QStringLiteral("The cluster's inventory."), QStringLiteral("FILE"));
    const QCommandLineOption jsonOption(QStringLiteral("json"), QStringLiteral("Print JSON."));
    parser.addOptions({inventoryOption, jsonOption});
    parser.addPositionalArgument(QStringLiteral("certs"), QStringLiteral("the command"));
    if (!parser.parse(arguments)) {
        print(stderr, QStringLiteral("pilothouse certs: %1\n").arg(parser.errorText()));
        return ExitUsage;
    }
    if (parser.isSet(QStringLiteral("help"))) {
        print(stdout, parser.helpText());
        return 0;
    }
    if (!parser.isSet(inventoryOption)) {
        print(stderr, QStringLiteral("pilothouse certs: --inventory FILE is required\n"));
        return ExitUsage;
    }
    const Result<Inventory> inventory = InventoryLoader::loadFile(parser.value(inventoryOption));
    if (!inventory) {
        print(stderr, QStringLiteral("pilothouse certs: %1\n").arg(inventory.error().toString()));
        return ExitUnreachable;
    }
    const Result<QString> password = ClusterMonitor::readMonitorPassword(inventory.value());
    if (!password) {
        print(stderr, QStringLiteral("pilothouse certs: %1\n").arg(password.error().toString()));
        return ExitUnreachable;
    }
    const bool json = parser.isSet(jsonOption);
    CertificateRadar radar(inventory.value(), password.value());
    int code = ExitUnreachable;
    QObject::connect(&radar, &CertificateRadar::finished, [&code, json](const CertificateRadarReport &r) {
        print(stdout, json ? QString::fromUtf8(QJsonDocument(r.toJson()).toJson(QJsonDocument::Indented)) : r.toText());
        code = r.exitCode();
        QCoreApplication::exit(code);
    });
    QMetaObject::invokeMethod(&radar, [&radar] { radar.start(); }, Qt::QueuedConnection);
    QCoreApplication::exec();
    return code;
}

} // namespace Pilothouse::Cli::CertsCommand
