#include "app/cli/switchovercommand.h"

#include "app/cli/clioutput.h"
#include "app/cli/commandline.h"
#include "app/cli/interrupt.h"
#include "app/operations/heartbeatwriter.h"
#include "app/operations/switchover.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTimer>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <optional>

namespace Pilothouse::Cli::SwitchoverCommand {
namespace {

constexpr int ExitDone = 0;
constexpr int ExitFailed = 1;
constexpr int ExitRefused = 2;
constexpr int ExitWritesLost = 3;

QJsonValue isoOrNull(qint64 ms)
{
    if (ms <= 0)
        return QJsonValue::Null;
    return QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC).toString(Qt::ISODateWithMs);
}

double round3(double v)
{
    return double(qRound64(v * 1000.0)) / 1000.0;
}

struct Outcome
{
    SwitchoverResult result;
    QList<HeartbeatPathReport> paths;
    QList<HeartbeatPath> pathKinds;
    int ackedWrites = 0;
    std::optional<Result<QList<HeartbeatWrite>>> lost;
    QString lostCheckedOn;
};

double worstGap(const Outcome &o, HeartbeatPath::Kind kind, bool *any)
{
    double worst = 0;
    *any = false;
    for (const HeartbeatPathReport &r : o.paths) {
        for (const HeartbeatPath &p : o.pathKinds) {
            if (p.name == r.path && p.kind == kind) {
                *any = true;
                worst = std::max(worst, r.writeGapSeconds);
            }
        }
    }
    return worst;
}

QJsonObject toJson(const Outcome &o, const SwitchoverOptions &options)
{
    const SwitchoverResult &r = o.result;
    QJsonObject j;
    j.insert(QStringLiteral("ok"), r.ok);
    j.insert(QStringLiteral("refused"), r.refused);
    j.insert(QStringLiteral("error"), r.error.isEmpty() ? QJsonValue() : QJsonValue(r.error));
    j.insert(QStringLiteral("target"), options.target);
    j.insert(QStringLiteral("reason"), options.reason);
    j.insert(QStringLiteral("method"), options.method == SwitchoverOptions::Method::Repmgr
                                           ? QStringLiteral("repmgr")
                                           : QStringLiteral("orchestrated"));
    j.insert(QStringLiteral("old_primary"), r.oldPrimary);
    j.insert(QStringLiteral("new_primary"), r.ok ? r.newPrimary : QString());
    j.insert(QStringLiteral("timeline_before"), r.timelineBefore);
    j.insert(QStringLiteral("timeline_after"), r.timelineAfter);
    j.insert(QStringLiteral("duration_seconds"), round3(r.durationSeconds));
    j.insert(QStringLiteral("old_primary_stopped_at"), isoOrNull(r.oldPrimaryStoppedMs));
    j.insert(QStringLiteral("promoted_at"), isoOrNull(r.promotedMs));
    j.insert(QStringLiteral("pgpools_switched_at"), isoOrNull(r.pgpoolsSwitchedMs));
    QJsonObject gaps;
    bool any = false;
    const double pg = worstGap(o, HeartbeatPath::Kind::Pgpool, &any);
    gaps.insert(QStringLiteral("pgpool"), any ? QJsonValue(round3(pg)) : QJsonValue());
    const double app = worstGap(o, HeartbeatPath::Kind::App, &any);
    gaps.insert(QStringLiteral("app"), any ? QJsonValue(round3(app)) : QJsonValue());
    j.insert(QStringLiteral("write_gap_seconds"), gaps);
    QJsonArray paths;
    for (const HeartbeatPathReport &p : o.paths) {
        QJsonObject pj;
        pj.insert(QStringLiteral("path"), p.path);
        pj.insert(QStringLiteral("sent"), p.sent);
        pj.insert(QStringLiteral("acked"), p.acked);
        pj.insert(QStringLiteral("failed"), p.failed);
        pj.insert(QStringLiteral("write_gap_seconds"), round3(p.writeGapSeconds));
        pj.insert(QStringLiteral("gap_from"), isoOrNull(p.gapFromMs));
        pj.insert(QStringLiteral("gap_to"), isoOrNull(p.gapToMs));
        pj.insert(QStringLiteral("first_failure"), isoOrNull(p.firstFailureMs));
        pj.insert(QStringLiteral("first_error"),
                  p.firstError.isEmpty() ? QJsonValue() : QJsonValue(p.firstError));
        pj.insert(QStringLiteral("first_success_after"), isoOrNull(p.firstSuccessAfterMs));
        paths.append(pj);
    }
    j.insert(QStringLiteral("paths"), paths);
    j.insert(QStringLiteral("acknowledged_writes"), o.ackedWrites);
    if (o.lost && o.lost->ok()) {
        j.insert(QStringLiteral("lost_writes"), int(o.lost->value().size()));
        QJsonArray lost;
        for (const HeartbeatWrite &w : o.lost->value())
            lost.append(QJsonObject{{QStringLiteral("path"), w.path},
                                    {QStringLiteral("seq"), w.seq},
                                    {QStringLiteral("acked_at"), isoOrNull(w.ackedMs)}});
        j.insert(QStringLiteral("lost"), lost);
        j.insert(QStringLiteral("lost_checked_on"), o.lostCheckedOn);
    } else {
        j.insert(QStringLiteral("lost_writes"), QJsonValue());
        j.insert(QStringLiteral("lost_check_error"),
                 o.lost ? o.lost->error().message : QStringLiteral("not checked"));
    }
    QJsonArray steps;
    for (const SwitchoverStep &s : r.steps)
        steps.append(QJsonObject{{QStringLiteral("phase"), s.phase},
                                 {QStringLiteral("name"), s.name},
                                 {QStringLiteral("ok"), s.ok},
                                 {QStringLiteral("seconds"), round3(s.seconds)},
                                 {QStringLiteral("started_at"), isoOrNull(s.startedMs)},
                                 {QStringLiteral("detail"), s.detail}});
    j.insert(QStringLiteral("steps"), steps);
    j.insert(QStringLiteral("refusals"), QJsonArray::fromStringList(r.refusals));
    j.insert(QStringLiteral("pgpool_repairs"), QJsonArray::fromStringList(r.pgpoolRepairs));
    j.insert(QStringLiteral("runbook"), r.runbook.toJson());
    return j;
}

QString summary(const Outcome &o)
{
    const SwitchoverResult &r = o.result;
    QString text;
    if (r.ok)
        text += QStringLiteral("switchover %1 -> %2 done in %3 s, timeline %4 -> %5\n")
                    .arg(r.oldPrimary, r.newPrimary)
                    .arg(r.durationSeconds, 0, 'f', 1)
                    .arg(r.timelineBefore)
                    .arg(r.timelineAfter);
    else if (r.refused && !r.refusals.isEmpty())
        text += QStringLiteral("switchover refused, nothing was changed:\n  - %1\n")
                    .arg(r.refusals.join(QStringLiteral("\n  - ")));
    else
        text += QStringLiteral("switchover %1: %2\n")
                    .arg(r.refused ? QStringLiteral("refused") : QStringLiteral("FAILED"), r.error);
    for (const QString &repair : r.pgpoolRepairs)
        text += QStringLiteral("pgpool repaired: %1\n").arg(repair);
    if (r.oldPrimaryStoppedMs > 0 && r.promotedMs > 0)
        text +=
            QStringLiteral("old primary stopped -> promoted: %1 s; -> every pgpool switched: "
                           "%2 s\n")
                .arg(double(r.promotedMs - r.oldPrimaryStoppedMs) / 1000.0, 0, 'f', 3)
                .arg(r.pgpoolsSwitchedMs > 0
                         ? QString::number(
                               double(r.pgpoolsSwitchedMs - r.oldPrimaryStoppedMs) / 1000.0, 'f', 3)
                         : QStringLiteral("-"));
    for (const HeartbeatPathReport &p : o.paths)
        text += QStringLiteral("write gap %1: %2 s (%3 sent, %4 acknowledged, %5 failed%6)\n")
                    .arg(p.path)
                    .arg(p.writeGapSeconds, 0, 'f', 3)
                    .arg(p.sent)
                    .arg(p.acked)
                    .arg(p.failed)
                    .arg(p.firstError.isEmpty() ? QString()
                                                : QStringLiteral("; first error: ") + p.firstError);
    if (o.lost && o.lost->ok())
        text += QStringLiteral("acknowledged writes lost: %1 of %2 (read back from %3)\n")
                    .arg(o.lost->value().size())
                    .arg(o.ackedWrites)
                    .arg(o.lostCheckedOn);
    else if (o.lost)
        text +=
            QStringLiteral("acknowledged writes lost: unknown (%1)\n").arg(o.lost->error().message);
    return text;
}

} // namespace

bool matches(const QByteArray &command)
{
    return command == "switchover";
}

int run(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "pilothouse switchover --to NODE --inventory FILE --reason TEXT [--json]\n"
        "Planned switchover to a standby, with a heartbeat writer through every pgpool and the "
        "app.\nExit 0 done, 1 failed, 2 refused (preflight, or the operation lock is held: who and "
        "since when are named), 3 done but acknowledged writes lost."));
    parser.addHelpOption();
    const QCommandLineOption toOption(QStringLiteral("to"),
                                      QStringLiteral("The standby to promote, e.g. pg-2."),
                                      QStringLiteral("NODE"));
    const QCommandLineOption inventoryOption(
        {QStringLiteral("i"), QStringLiteral("inventory")},
        QStringLiteral("The cluster's Ansible YAML inventory."), QStringLiteral("FILE"));
    const QCommandLineOption reasonOption(QStringLiteral("reason"),
                                          QStringLiteral("Why (kept with the operation)."),
                                          QStringLiteral("TEXT"));
    const QCommandLineOption jsonOption(
        QStringLiteral("json"), QStringLiteral("Print the report as JSON (progress on stderr)."));
    const QCommandLineOption methodOption(
        QStringLiteral("method"),
        QStringLiteral("orchestrated (default: Pilothouse runs each step) or repmgr "
                       "(repmgr standby switchover --siblings-follow)."),
        QStringLiteral("METHOD"), QStringLiteral("orchestrated"));
    const QCommandLineOption pgpoolSearchOption(
        QStringLiteral("pgpool-search"),
        QStringLiteral("Let each pgpool find the new primary by itself instead of telling it "
                       "before the old primary stops."));
    const QCommandLineOption noAppOption(QStringLiteral("no-app"),
                                         QStringLiteral("Do not write through the app."));
    const QCommandLineOption intervalOption(
        QStringLiteral("interval"), QStringLiteral("Heartbeat interval in ms (default 100)."),
        QStringLiteral("MS"), QStringLiteral("100"));
    const QCommandLineOption explainOption(
        QStringLiteral("explain"),
        QStringLiteral("Print what would happen, what is checked and the expected downtime; "
                       "change nothing."));
    QCommandLineOption leaveStoppedOption(
        QStringLiteral("leave-old-primary-stopped"),
        QStringLiteral("Do not rejoin the old primary: leave it stopped, its supervisor held "
                       "(tests and drills; rejoin it with pilothouse rejoin)."));
    leaveStoppedOption.setFlags(QCommandLineOption::HiddenFromHelp);
    QCommandLineOption stopViaExecOption(
        QStringLiteral("stop-via-exec"),
        QStringLiteral("Ask the old primary to stop through docker exec only, not over its SQL "
                       "session (to compare the write gaps)."));
    stopViaExecOption.setFlags(QCommandLineOption::HiddenFromHelp);
    parser.addOptions({toOption, inventoryOption, reasonOption, jsonOption, methodOption,
                       noAppOption, intervalOption, pgpoolSearchOption, explainOption,
                       leaveStoppedOption, stopViaExecOption});
    parser.addPositionalArgument(QStringLiteral("command"), QStringLiteral("switchover"));
    const QString command = QStringLiteral("switchover");
    if (const auto exit = parseCommandLine(parser, arguments, command))
        return *exit;
    if (!haveRequired(parser, command,
                      {{&toOption, QStringLiteral("--to NODE")},
                       {&inventoryOption, QStringLiteral("--inventory FILE")},
                       {&reasonOption, QStringLiteral("--reason TEXT")}}))
        return ExitUsage;
    const QString method = parser.value(methodOption);
    if (method != u"orchestrated" && method != u"repmgr") {
        print(stderr, QStringLiteral("pilothouse switchover: --method must be orchestrated or "
                                     "repmgr\n"));
        return ExitUsage;
    }
    bool intervalOk = false;
    const int interval = parser.value(intervalOption).toInt(&intervalOk);
    if (!intervalOk || interval < 20) {
        print(stderr, QStringLiteral("pilothouse switchover: --interval must be >= 20 ms\n"));
        return ExitUsage;
    }
    const auto loaded = loadInventory(command, parser.value(inventoryOption));
    if (!loaded)
        return ExitUsage;
    const Inventory &inventory = *loaded;
    const bool json = parser.isSet(jsonOption);
    const bool withApp = !parser.isSet(noAppOption);
    FILE *progress = json ? stderr : stdout;

    SwitchoverOptions options;
    options.target = parser.value(toOption);
    options.reason = parser.value(reasonOption).trimmed();
    options.method = method == u"repmgr" ? SwitchoverOptions::Method::Repmgr
                                         : SwitchoverOptions::Method::Orchestrated;
    options.pgpoolFirst = !parser.isSet(pgpoolSearchOption);
    options.rejoinOldPrimary = !parser.isSet(leaveStoppedOption);
    options.stopThroughSql = !parser.isSet(stopViaExecOption);
    Switchover switchover(inventory, options);
    std::unique_ptr<HeartbeatWriter> writer;

    switchover.addStepBeforeAct(
        QStringLiteral("start the heartbeat writer (every pgpool%1, every %2 ms)")
            .arg(withApp ? QStringLiteral(" and the app") : QString())
            .arg(interval),
        15000, [&](std::function<void(bool, QString)> done) {
            const ClusterSnapshot s = switchover.lastSnapshot();
            QStringList pgpoolHosts;
            for (const PgpoolInstanceState &p : s.pgpools)
                pgpoolHosts.append(p.host);
            pgpoolHosts.removeDuplicates();
            QStringList proxyHosts;
            if (withApp && !inventory.hosts.isEmpty())
                proxyHosts.append(inventory.hosts.constFirst().name);
            auto o = HeartbeatWriterOptions::fromInventory(inventory, pgpoolHosts, proxyHosts);
            if (!o) {
                done(false, o.error().toString());
                return;
            }
            HeartbeatWriterOptions wo = o.value();
            wo.intervalMs = interval;
            writer = std::make_unique<HeartbeatWriter>(wo);
            HeartbeatWriter *w = writer.get();
            QObject::connect(
                w, &HeartbeatWriter::pathFailed, w,
                [progress](const QString &path, const QString &error) {
                    print(
                        progress,
                        QStringLiteral("%1 heartbeat %2 failing: %3\n").arg(stamp(), path, error));
                });
            QObject::connect(
                w, &HeartbeatWriter::pathRecovered, w, [progress](const QString &path, double gap) {
                    print(progress, QStringLiteral("%1 heartbeat %2 writes again after %3 s\n")
                                        .arg(stamp(), path)
                                        .arg(gap, 0, 'f', 3));
                });
            QObject::connect(w, &HeartbeatWriter::startFailed, w,
                             [done](const Error &e) { done(false, e.message); });
            QObject::connect(w, &HeartbeatWriter::started, w, [w, done] {
                // Go on once every path has written, or say which did not.
                auto *poll = new QTimer(w);
                auto waited = std::make_shared<int>(0);
                QObject::connect(poll, &QTimer::timeout, w, [w, poll, waited, done] {
                    QStringList silent;
                    for (const HeartbeatPathReport &r : w->report()) {
                        if (r.acked == 0)
                            silent.append(r.path +
                                          (r.firstError.isEmpty()
                                               ? QString()
                                               : QStringLiteral(" (") + r.firstError + u')'));
                    }
                    *waited += 100;
                    if (silent.isEmpty() || *waited >= 8000) {
                        poll->deleteLater();
                        if (silent.isEmpty())
                            done(true, QStringLiteral("writing on %1 paths, run %2")
                                           .arg(w->options().paths.size())
                                           .arg(w->runId()));
                        else
                            done(false, QStringLiteral("no acknowledged write on %1")
                                            .arg(silent.join(QStringLiteral(", "))));
                    }
                });
                poll->start(100);
            });
            w->start();
        });

    QObject::connect(&switchover, &Switchover::stepStarted, &switchover,
                     [progress](const QString &path, const QString &name) {
                         // Leaves and groups below the root: "[act] checkpoint the primary".
                         const QStringList parts = path.split(u'/');
                         if (parts.size() < 2)
                             return;
                         const QString phase = parts.size() > 2 ? parts.at(1) : QStringLiteral("lock");
                         if (parts.size() == 2 && phase != u"take the operation lock" &&
                             phase != u"the operation lock" && phase != u"open the audit trail")
                             return; // a phase starting: its steps follow
                         print(progress,
                               QStringLiteral("%1 [%2] %3 ...\n").arg(stamp(), phase, name));
                     });
    QObject::connect(
        &switchover, &Switchover::stepFinished, &switchover, [progress](const SwitchoverStep &s) {
            const bool skipped = !s.ok && s.detail.startsWith(u"not started");
            if (skipped && s.phase != u"act")
                return; // the failed step said why; the act steps are listed as not run
            print(progress, QStringLiteral("%1 [%2] %3 %4 (%5 s): %6\n")
                                .arg(stamp(), s.phase,
                                     s.ok ? QStringLiteral("ok")
                                          : (skipped ? QStringLiteral("skipped")
                                                     : QStringLiteral("FAILED")),
                                     s.name)
                                .arg(s.seconds, 0, 'f', 2)
                                .arg(s.detail));
        });

    if (parser.isSet(explainOption)) {
        print(stdout, switchover.preflightText());
        return ExitDone;
    }
    print(progress, switchover.preflightText() + u'\n');

    auto outcome = std::make_shared<Outcome>();
    auto report = [&, outcome] {
        if (json)
            print(stdout,
                  QString::fromUtf8(
                      QJsonDocument(toJson(*outcome, options)).toJson(QJsonDocument::Indented)));
        else
            print(stdout, summary(*outcome));
        const SwitchoverResult &r = outcome->result;
        int code = r.ok ? ExitDone : (r.refused ? ExitRefused : ExitFailed);
        if (code == ExitDone && outcome->lost && outcome->lost->ok() &&
            !outcome->lost->value().isEmpty())
            code = ExitWritesLost;
        QCoreApplication::exit(code);
    };
    QObject::connect(
        &switchover, &Switchover::finished, &switchover,
        [&, outcome, report](const SwitchoverResult &result) {
            outcome->result = result;
            if (!writer) {
                report();
                return;
            }
            writer->stop();
            outcome->paths = writer->report();
            outcome->pathKinds = writer->options().paths;
            for (const HeartbeatWrite &w : writer->writes())
                outcome->ackedWrites += w.acked() ? 1 : 0;
            // Read back from whichever node is primary now.
            QString primary = result.ok ? result.newPrimary : QString();
            if (primary.isEmpty()) {
                for (const PostgresNodeState &n : switchover.lastSnapshot().postgres) {
                    if (n.reachable && n.role == u"primary")
                        primary = n.name;
                }
            }
            if (primary.isEmpty()) {
                outcome->lost = Result<QList<HeartbeatWrite>>(
                    Error{QStringLiteral("no primary to read the heartbeats back from"), {}, 0, 0});
                report();
                return;
            }
            PgConnectOptions where;
            const InventoryHost *host =
                inventory.host(inventory.settings.postgresNodes.value(primary));
            where.host = host ? host->address : primary;
            where.port = inventory.settings.postgresPort;
            where.label = primary;
            outcome->lostCheckedOn = primary;
            writer->lostWrites(where, 15000, &switchover,
                               [outcome, report](const Result<QList<HeartbeatWrite>> &r) {
                                   outcome->lost = r;
                                   report();
                               });
        });
    cancelOnInterrupt(&switchover, [&switchover](const QString &why) { switchover.cancel(why); });
    switchover.start();
    return QCoreApplication::exec();
}

} // namespace Pilothouse::Cli::SwitchoverCommand
