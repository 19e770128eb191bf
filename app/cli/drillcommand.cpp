#include "app/cli/drillcommand.h"

#include "app/cli/clioutput.h"
#include "app/cli/commandline.h"
#include "app/cli/interrupt.h"
#include "app/connectors/etcd/etcdclusterprobe.h"
#include "app/operations/audittrail.h"
#include "app/operations/drill.h"
#include "app/operations/operationlock.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDateTime>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>
#include <QTimer>

#include <csignal>
#include <cstdio>

namespace Pilothouse::Cli::DrillCommand {
namespace {

constexpr int ExitDone = 0;
constexpr int ExitFailed = 1;
constexpr int ExitRefused = 2;

QString seconds(double v)
{
    return v < 0 ? QStringLiteral("-") : QString::number(v, 'f', 2) + QStringLiteral(" s");
}

QString summary(const DrillReport &r)
{
    QString text = QStringLiteral("drill %1: %2%3\n")
                       .arg(r.scenario, r.outcome,
                            r.error.isEmpty() ? QString() : QStringLiteral(" (") + r.error + u')');
    text += QStringLiteral("primary %1 -> %2; fault %3 on %4 at +%5 s, restored at +%6 s\n")
                .arg(r.oldPrimary, r.newPrimary, r.fault.kind, r.fault.target)
                .arg(r.fault.injectedAt, 0, 'f', 2)
                .arg(r.fault.restoredAt, 0, 'f', 2);
    text += QStringLiteral("RTO %1 (through pgpool %2, through the app %3); RPO %4 writes; two "
                           "primaries %5; healthy after: %6 (+%7)\n")
                .arg(seconds(r.rtoSeconds), seconds(r.rtoPgpoolSeconds), seconds(r.rtoAppSeconds))
                .arg(r.rpoWrites)
                .arg(seconds(r.twoPrimariesSeconds),
                     r.healthyAfter ? QStringLiteral("yes") : QStringLiteral("NO"),
                     seconds(r.healthyAfterSeconds));
    if (r.oldPrimaryWritesAfterPromotion >= 0)
        text += QStringLiteral("writes acknowledged by the old primary after the promotion: %1\n")
                    .arg(r.oldPrimaryWritesAfterPromotion);
    text += QStringLiteral("predicted %1 (slowest layer: %2)\n")
                .arg(seconds(r.prediction.seconds), r.prediction.slowestLayer);
    for (const QString &l : r.prediction.lines)
        text += QStringLiteral("  %1\n").arg(l);
    text += QStringLiteral("phases:\n");
    for (const DrillReport::Phase &p : r.phases)
        text += QStringLiteral("  +%1 s  %2  %3\n")
                    .arg(p.startedAt, 7, 'f', 2)
                    .arg(seconds(p.seconds), 8)
                    .arg(p.name);
    text += QStringLiteral("writers:\n");
    for (const DrillReport::Writer &w : r.writers)
        text +=
            QStringLiteral("  %1: %2 sent, %3 acknowledged, %4 failed, %5 lost, longest gap %6\n")
                .arg(w.path)
                .arg(w.attempts)
                .arg(w.acknowledged)
                .arg(w.failed)
                .arg(w.lost)
                .arg(seconds(w.writeGapSeconds));
    return text;
}

} // namespace

bool matches(const QByteArray &command)
{
    return command == "drill";
}

int run(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral(
            "pilothouse drill --scenario NAME --inventory FILE --reason TEXT [--json] "
            "[--out FILE]\nRuns a guided failover drill and reports RTO, RPO, phases "
            "and any time with two primaries.\nScenarios: %1.\nExit 0 succeeded, 1 "
            "failed, 2 refused (lock held, cluster unhealthy, no etcd quorum), 64 usage.")
            .arg(Drill::scenarios().join(QStringLiteral(", "))));
    parser.addHelpOption();
    const QCommandLineOption scenarioOption(
        QStringLiteral("scenario"), QStringLiteral("What to break."), QStringLiteral("NAME"));
    const QCommandLineOption inventoryOption(
        {QStringLiteral("i"), QStringLiteral("inventory")},
        QStringLiteral("The cluster's Ansible YAML inventory."), QStringLiteral("FILE"));
    const QCommandLineOption reasonOption(QStringLiteral("reason"),
                                          QStringLiteral("Why (kept in the audit trail)."),
                                          QStringLiteral("TEXT"));
    const QCommandLineOption jsonOption(QStringLiteral("json"),
                                        QStringLiteral("Print the report as JSON on stdout."));
    const QCommandLineOption outOption(QStringLiteral("out"),
                                       QStringLiteral("Also write the JSON report to FILE."),
                                       QStringLiteral("FILE"));
    const QCommandLineOption noAppOption(QStringLiteral("no-app"),
                                         QStringLiteral("Do not write through the app."));
    const QCommandLineOption intervalOption(
        QStringLiteral("interval"), QStringLiteral("Heartbeat interval in ms (default 100)."),
        QStringLiteral("MS"), QStringLiteral("100"));
    const QCommandLineOption monitorOption(
        QStringLiteral("monitor-interval"),
        QStringLiteral("How often every layer is read, in ms (default 300)."), QStringLiteral("MS"),
        QStringLiteral("300"));
    const QCommandLineOption finalOption(
        QStringLiteral("final-primary"),
        QStringLiteral("Switch over back to NODE at the end (default pg-1; 'none' to leave it)."),
        QStringLiteral("NODE"), QStringLiteral("pg-1"));
    const QCommandLineOption auditOption(
        QStringLiteral("audit-file"),
        QStringLiteral("The audit trail's file (default: the cluster's in the user's data dir)."),
        QStringLiteral("PATH"));
    const QCommandLineOption writesOption(
        QStringLiteral("writes"),
        QStringLiteral(
            "Write every heartbeat attempt to FILE (JSON lines: a header with the run id, "
            "then path, seq, sent_ms, acked_ms, error), to check the report against."),
        QStringLiteral("FILE"));
    parser.addOptions({scenarioOption, inventoryOption, reasonOption, jsonOption, outOption,
                       noAppOption, intervalOption, monitorOption, finalOption, auditOption,
                       writesOption});
    parser.addPositionalArgument(QStringLiteral("command"), QStringLiteral("drill"));
    const QString command = QStringLiteral("drill");
    if (const auto exit = parseCommandLine(parser, arguments, command))
        return *exit;
    if (!haveRequired(parser, command,
                      {{&scenarioOption, QStringLiteral("--scenario NAME")},
                       {&inventoryOption, QStringLiteral("--inventory FILE")},
                       {&reasonOption, QStringLiteral("--reason TEXT")}}))
        return ExitUsage;
    const QString scenario = parser.value(scenarioOption);
    if (!Drill::scenarios().contains(scenario)) {
        print(stderr, QStringLiteral("pilothouse drill: unknown scenario '%1' (one of: %2)\n")
                          .arg(scenario, Drill::scenarios().join(QStringLiteral(", "))));
        return ExitUsage;
    }
    bool okInterval = false;
    const int interval = parser.value(intervalOption).toInt(&okInterval);
    bool okMonitor = false;
    const int monitorInterval = parser.value(monitorOption).toInt(&okMonitor);
    if (!okInterval || interval < 20 || !okMonitor || monitorInterval < 100) {
        print(stderr, QStringLiteral("pilothouse drill: --interval must be >= 20 ms and "
                                     "--monitor-interval >= 100 ms\n"));
        return ExitUsage;
    }
    const auto loaded = loadInventory(command, parser.value(inventoryOption));
    if (!loaded)
        return ExitUsage;
    const Inventory &inventory = *loaded;
    const bool json = parser.isSet(jsonOption);

    DrillOptions options;
    options.scenario = scenario;
    options.reason = parser.value(reasonOption).trimmed();
    options.writerIntervalMs = interval;
    options.monitorIntervalMs = monitorInterval;
    options.withApp = !parser.isSet(noAppOption);
    options.finalPrimary =
        parser.value(finalOption) == u"none" ? QString() : parser.value(finalOption);

    const QString auditPath = parser.isSet(auditOption) ? parser.value(auditOption)
                                                        : AuditTrail::defaultFilePath(inventory);
    AuditTrail audit(auditPath);
    audit.setMirror(EtcdClusterProbe::membersOf(inventory),
                    AuditTrail::etcdPrefix(inventory.settings.stack));
    OperationLock lock(
        EtcdClusterProbe::membersOf(inventory), OperationLock::keyFor(inventory.settings.stack),
        OperationLockHolder::current(QStringLiteral("drill ") + scenario, options.reason));

    Drill drill(inventory, options, &audit, &lock);
    print(stderr, drill.preflightText());
    QObject::connect(&drill, &Drill::stepStarted, &drill, [](const QString &path, const QString &) {
        print(stderr, QStringLiteral("%1 %2 ...\n").arg(stamp(), path));
    });
    QObject::connect(
        &drill, &Drill::stepFinished, &drill,
        [](const QString &path, bool ok, double secs, const QString &message) {
            print(stderr,
                  QStringLiteral("%1 %2 %3 (%4 s)%5\n")
                      .arg(stamp(), ok ? QStringLiteral("ok") : QStringLiteral("FAILED"), path)
                      .arg(secs, 0, 'f', 2)
                      .arg(message.isEmpty() ? QString() : QStringLiteral(": ") + message));
        });
    QObject::connect(&drill, &Drill::observed, &drill, [](const QString &layer, const QString &text) {
        print(stderr, QStringLiteral("%1   [%2] %3\n").arg(stamp(), layer, text));
    });
    const QString outPath = parser.value(outOption);
    const QString writesPath = parser.value(writesOption);
    QObject::connect(&drill, &Drill::finished, &drill, [&](const DrillReport &report) {
        const QByteArray bytes = QJsonDocument(report.toJson()).toJson(QJsonDocument::Indented);
        int code = report.succeeded() ? ExitDone : (drill.refused() ? ExitRefused : ExitFailed);
        if (!outPath.isEmpty()) {
            QSaveFile f(outPath);
            if (!f.open(QIODevice::WriteOnly) || f.write(bytes) != bytes.size() || !f.commit()) {
                print(stderr, QStringLiteral("pilothouse drill: cannot write %1: %2\n")
                                  .arg(outPath, f.errorString()));
                if (code == ExitDone)
                    code = ExitFailed;
            }
        }
        if (!writesPath.isEmpty() && drill.writer()) {
            QSaveFile f(writesPath);
            bool written = f.open(QIODevice::WriteOnly);
            const HeartbeatWriter *w = drill.writer();
            QJsonArray paths;
            for (const HeartbeatPath &p : w->options().paths)
                paths.append(QJsonObject{{QStringLiteral("name"), p.name},
                                         {QStringLiteral("kind"), p.kind == HeartbeatPath::Kind::App
                                                                      ? QStringLiteral("app")
                                                                      : QStringLiteral("sql")}});
            QJsonObject header{
                {QStringLiteral("run_id"), w->runId()},
                {QStringLiteral("table"), w->options().table},
                {QStringLiteral("started_ms"), drill.writersStartedMs()},
                {QStringLiteral("stopped_ms"), drill.writersStoppedMs()},
                {QStringLiteral("drill_started_ms"), report.startedAt.toMSecsSinceEpoch()},
                {QStringLiteral("paths"), paths}};
            written =
                written && f.write(QJsonDocument(header).toJson(QJsonDocument::Compact) + '\n') > 0;
            for (const HeartbeatWrite &hw : w->writes()) {
                const QJsonObject line{{QStringLiteral("path"), hw.path},
                                       {QStringLiteral("seq"), hw.seq},
                                       {QStringLiteral("sent_ms"), hw.sentMs},
                                       {QStringLiteral("acked_ms"), hw.ackedMs},
                                       {QStringLiteral("app_id"), hw.appId},
                                       {QStringLiteral("error"), hw.error}};
                written = written &&
                          f.write(QJsonDocument(line).toJson(QJsonDocument::Compact) + '\n') > 0;
            }
            if (!written || !f.commit())
                print(stderr,
                      QStringLiteral("pilothouse drill: cannot write %1\n").arg(writesPath));
        }
        if (json)
            print(stdout, QString::fromUtf8(bytes));
        else
            print(stdout, summary(report));
        // Let the audit trail's etcd mirror catch up (bounded), then exit.
        audit.flush(&drill, [code](Result<int>) { QCoreApplication::exit(code); });
        QTimer::singleShot(5000, &drill, [code] { QCoreApplication::exit(code); });
    });
    // Cancelled, a drill still restores what it broke before it ends.
    cancelOnInterrupt(&drill, [&drill](const QString &why) { drill.cancel(why); });
    QTimer::singleShot(0, &drill, [&drill] { drill.start(); });
    return QCoreApplication::exec();
}

} // namespace Pilothouse::Cli::DrillCommand
