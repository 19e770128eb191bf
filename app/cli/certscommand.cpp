#include "app/cli/certscommand.h"

#include "app/certs/certificateradar.h"
#include "app/certs/certificaterotation.h"
#include "app/cli/clioutput.h"
#include "app/cli/commandline.h"
#include "app/monitor/clustermonitor.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QFile>
#include <QJsonDocument>

#include <cstdio>

namespace Pilothouse::Cli::CertsCommand {
namespace {

constexpr int ExitFailed = 1;
constexpr int ExitUnreachable = 2;
constexpr int ExitRefused = 2;

// A file the operator named, read whole; the error says which and why.
Result<QByteArray> readInput(const QString &path, const QString &what)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return Error{QStringLiteral("%1 %2: %3").arg(what, path, f.errorString()), path, 0, 0};
    if (f.size() > 1024 * 1024)
        return Error{QStringLiteral("%1 %2: larger than 1 MiB, not a PEM bundle").arg(what, path), path, 0, 0};
    return f.readAll();
}

// `certs rotate` and `certs rollback`: the runbook, its progress and its report.
int runRotation(const Inventory &inventory, CertificateRotationOptions options, bool json)
{
    FILE *progress = json ? stderr : stdout;
    CertificateRotation rotation(inventory, std::move(options));
    print(progress, rotation.preflightText() + u'\n');
    QObject::connect(&rotation, &CertificateRotation::stepCompleted, &rotation,
                     [progress](const QString &path, bool ok, double seconds, const QString &message) {
                         printStep(progress, path, ok, seconds, message);
                     });
    int code = ExitFailed;
    QObject::connect(&rotation, &CertificateRotation::finished, &rotation,
                     [&code, json](const CertificateRotationResult &r) {
                         if (json)
                             print(stdout, QString::fromUtf8(QJsonDocument(certificateRotationReportJson(r))
                                                                 .toJson(QJsonDocument::Indented)));
                         else if (r.ok && r.dryRun)
                             print(stdout, QStringLiteral("dry run: nothing was changed\n"));
                         else if (r.ok)
                             print(stdout, QStringLiteral("%1 done in %2 s%3\n")
                                               .arg(r.mode)
                                               .arg(r.durationSeconds, 0, 'f', 1)
                                               .arg(r.secretName.isEmpty()
                                                        ? QString()
                                                        : QStringLiteral("; kept as secret %1 (name it as "
                                                                         "proxy_tls_pem's source at the next "
                                                                         "stack deploy)")
                                                              .arg(r.secretName)));
                         else
                             print(stdout, QStringLiteral("certificate %1 %2: %3\n")
                                               .arg(r.mode, r.refused ? QStringLiteral("refused") : QStringLiteral("FAILED"),
                                                    r.error));
                         code = r.ok ? 0 : (r.refused ? ExitRefused : ExitFailed);
                         QCoreApplication::exit(code);
                     });
    QMetaObject::invokeMethod(&rotation, [&rotation] { rotation.start(); }, Qt::QueuedConnection);
    QCoreApplication::exec();
    return code;
}

} // namespace

bool matches(const QByteArray &command)
{
    return command == "certs";
}

int run(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "pilothouse certs --inventory FILE [--json]\n"
        "  Every certificate the cluster depends on and its days left.\n"
        "pilothouse certs rotate --inventory FILE --cert PEM [--key PEM] --reason TEXT [--dry-run] [--json]\n"
        "  Serve a new certificate on every HAProxy without a reload: checked first (key, chain, "
        "dates, the inventory's domain), kept as a Docker secret, swapped in one HAProxy at a "
        "time, verified by a TLS handshake through each host, rolled back on failure.\n"
        "pilothouse certs rollback --inventory FILE --reason TEXT [--dry-run] [--json]\n"
        "  Serve again what each HAProxy served before the last change.\n"
        "Exit: certs 0 all > 30 days, 1 one expiring or unreadable, 2 unreachable; rotate and "
        "rollback 0 done, 1 failed (rolled back), 2 refused (nothing changed); 64 usage."));
    parser.addHelpOption();
    const QCommandLineOption inventoryOption({QStringLiteral("i"), QStringLiteral("inventory")},
                                             QStringLiteral("The cluster's inventory."), QStringLiteral("FILE"));
    const QCommandLineOption jsonOption(QStringLiteral("json"), QStringLiteral("Print JSON."));
    const QCommandLineOption certOption(QStringLiteral("cert"),
                                        QStringLiteral("rotate: the certificate, then any intermediates (PEM; "
                                                       "may hold the key too)."),
                                        QStringLiteral("PEM"));
    const QCommandLineOption keyOption(QStringLiteral("key"), QStringLiteral("rotate: its private key (PEM)."),
                                       QStringLiteral("PEM"));
    const QCommandLineOption reasonOption(QStringLiteral("reason"),
                                          QStringLiteral("rotate, rollback: why (kept with the operation)."),
                                          QStringLiteral("TEXT"));
    const QCommandLineOption dryRunOption(QStringLiteral("dry-run"),
                                          QStringLiteral("rotate, rollback: check and say; change nothing."));
    parser.addOptions({inventoryOption, jsonOption, certOption, keyOption, reasonOption, dryRunOption});
    parser.addPositionalArgument(QStringLiteral("certs"), QStringLiteral("the command"));
    parser.addPositionalArgument(QStringLiteral("action"), QStringLiteral("rotate or rollback (none: the radar)"),
                                 QStringLiteral("[action]"));
    const QString command = QStringLiteral("certs");
    if (const auto exit = parseCommandLine(parser, arguments, command))
        return *exit;
    if (!haveRequired(parser, command, {{&inventoryOption, QStringLiteral("--inventory FILE")}}))
        return ExitUsage;
    const QString action = parser.positionalArguments().value(1);
    if (!action.isEmpty() && action != u"rotate" && action != u"rollback") {
        print(stderr, QStringLiteral("pilothouse certs: unknown action '%1' (rotate, rollback)\n").arg(action));
        return ExitUsage;
    }
    if (!action.isEmpty()) {
        QStringList missing;
        if (parser.value(reasonOption).trimmed().isEmpty())
            missing.append(QStringLiteral("--reason TEXT"));
        if (action == u"rotate" && parser.value(certOption).isEmpty())
            missing.append(QStringLiteral("--cert PEM"));
        if (!missing.isEmpty()) {
            print(stderr, QStringLiteral("pilothouse certs %1: %2 required\n").arg(action, missing.join(QStringLiteral(", "))));
            return ExitUsage;
        }
    }
    const auto inventory = loadInventory(command, parser.value(inventoryOption));
    if (!inventory)
        return action.isEmpty() ? ExitUnreachable : ExitUsage;
    if (!action.isEmpty()) {
        CertificateRotationOptions options;
        options.mode = action == u"rotate" ? CertificateRotationOptions::Mode::Rotate
                                            : CertificateRotationOptions::Mode::Rollback;
        options.reason = parser.value(reasonOption).trimmed();
        options.dryRun = parser.isSet(dryRunOption);
        if (action == u"rotate") {
            const Result<QByteArray> cert = readInput(parser.value(certOption), QStringLiteral("certificate"));
            if (!cert) {
                print(stderr, QStringLiteral("pilothouse certs rotate: %1\n").arg(cert.error().message));
                return ExitUsage;
            }
            options.certificatePem = cert.value();
            options.certificateFile = parser.value(certOption);
            if (parser.isSet(keyOption)) {
                const Result<QByteArray> key = readInput(parser.value(keyOption), QStringLiteral("key"));
                if (!key) {
                    print(stderr, QStringLiteral("pilothouse certs rotate: %1\n").arg(key.error().message));
                    return ExitUsage;
                }
                options.keyPem = key.value();
                options.keyFile = parser.value(keyOption);
            }
        }
        return runRotation(inventory.value(), std::move(options), parser.isSet(jsonOption));
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
