#include "app/operations/drillprediction.h"

#include <QList>
#include <QRegularExpression>

#include <algorithm>

namespace Pilothouse {

namespace {

QMap<QString, QString> keyValues(const QByteArray &text)
{
    QMap<QString, QString> out;
    const QList<QByteArray> lines = text.split('\n');
    for (const QByteArray &raw : lines) {
        QString line = QString::fromUtf8(raw).trimmed();
        if (line.isEmpty() || line.startsWith(u'#'))
            continue;
        const qsizetype eq = line.indexOf(u'=');
        if (eq <= 0)
            continue;
        const QString key = line.left(eq).trimmed();
        QString value = line.mid(eq + 1).trimmed();
        if (value.size() >= 2 && value.startsWith(u'\'')) {
            const qsizetype end = value.indexOf(u'\'', 1);
            value = value.mid(1, end > 0 ? end - 1 : -1);
        } else {
            const qsizetype hash = value.indexOf(u'#');
            if (hash >= 0)
                value = value.left(hash).trimmed();
        }
        out.insert(key, value);
    }
    return out;
}

double number(const QMap<QString, QString> &kv, const QString &key, double fallback)
{
    bool ok = false;
    const double v = kv.value(key).toDouble(&ok);
    return ok ? v : fallback;
}

// The value, or the image's default with a note that it was not read.
double orDefault(double value, double fallback, QStringList *notes, const QString &what)
{
    if (value >= 0)
        return value;
    notes->append(QStringLiteral("%1 not read; assumed %2").arg(what).arg(fallback));
    return fallback;
}

QString secs(double v)
{
    return QString::number(v, 'f', 1) + QStringLiteral(" s");
}

} // namespace

void DrillSettings::readRepmgrConf(const QByteArray &text)
{
    const auto kv = keyValues(text);
    repmgrFailover = kv.value(QStringLiteral("failover"));
    repmgrMonitorInterval = number(kv, QStringLiteral("monitor_interval_secs"), -1);
    repmgrReconnectAttempts = int(number(kv, QStringLiteral("reconnect_attempts"), -1));
    repmgrReconnectInterval = number(kv, QStringLiteral("reconnect_interval"), -1);
    childNodesDisconnectTimeout = number(kv, QStringLiteral("child_nodes_disconnect_timeout"), -1);
    static const QRegularExpression connectTimeout(QStringLiteral("connect_timeout=(\\d+)"));
    const auto m = connectTimeout.match(kv.value(QStringLiteral("conninfo")));
    if (m.hasMatch())
        repmgrConnectTimeout = m.captured(1).toDouble();
}

void DrillSettings::readPgpoolConf(const QByteArray &text)
{
    const auto kv = keyValues(text);
    pgpoolHealthCheckPeriod = number(kv, QStringLiteral("health_check_period"), -1);
    pgpoolHealthCheckTimeout = number(kv, QStringLiteral("health_check_timeout"), -1);
    pgpoolHealthCheckRetries = int(number(kv, QStringLiteral("health_check_max_retries"), -1));
    pgpoolHealthCheckRetryDelay = number(kv, QStringLiteral("health_check_retry_delay"), -1);
    pgpoolSrCheckPeriod = number(kv, QStringLiteral("sr_check_period"), -1);
    pgpoolFailoverCommand = kv.value(QStringLiteral("failover_command"));
    pgpoolFailoverOnShutdown =
        kv.value(QStringLiteral("failover_on_backend_shutdown")).toLower() == u"on";
}

void DrillSettings::readEtcdEnvironment(const QByteArray &text)
{
    const auto kv = keyValues(text);
    const double ms = number(kv, QStringLiteral("ETCD_ELECTION_TIMEOUT"), -1);
    if (ms >= 0)
        etcdElectionTimeout = ms / 1000.0;
}

DrillReport::Prediction predictDrill(const QString &scenario, const DrillSettings &s)
{
    DrillReport::Prediction p;
    QStringList notes;

    const double monitor = orDefault(s.repmgrMonitorInterval, 2, &notes,
                                     QStringLiteral("repmgr monitor_interval_secs"));
    const int attempts = s.repmgrReconnectAttempts >= 0 ? s.repmgrReconnectAttempts : 3;
    if (s.repmgrReconnectAttempts < 0)
        notes.append(QStringLiteral("repmgr reconnect_attempts not read; assumed 3"));
    const double interval = orDefault(s.repmgrReconnectInterval, 2, &notes,
                                      QStringLiteral("repmgr reconnect_interval"));
    const double connectTimeout =
        orDefault(s.repmgrConnectTimeout, 2, &notes, QStringLiteral("repmgr connect_timeout"));
    const double hcPeriod = orDefault(s.pgpoolHealthCheckPeriod, 1, &notes,
                                      QStringLiteral("pgpool health_check_period"));
    const double hcTimeout = orDefault(s.pgpoolHealthCheckTimeout, 2, &notes,
                                       QStringLiteral("pgpool health_check_timeout"));
    const int hcRetries = s.pgpoolHealthCheckRetries >= 0 ? s.pgpoolHealthCheckRetries : 2;
    const double hcDelay = orDefault(s.pgpoolHealthCheckRetryDelay, 1, &notes,
                                     QStringLiteral("pgpool health_check_retry_delay"));
    const double election =
        orDefault(s.etcdElectionTimeout, 1, &notes, QStringLiteral("etcd election timeout"));

    // repmgrd notices at its next check (up to one monitor interval), tries
    // again at once and then every reconnect interval, and decides after the
    // last attempt: (attempts - 1) intervals after its first failed ping (as
    // its log shows on the lab). A refused connection fails at once; on a
    // silent host the failed ping, every attempt and the promote command's
    // own look at the old primary each wait the connect timeout. Promotion
    // itself takes about a second.
    const double promoteCost = 1.0;
    auto repmgrTime = [&](bool silentHost) {
        const double retries = std::max(0, attempts - 1) * interval;
        if (!silentHost)
            return monitor + retries + promoteCost;
        return monitor + connectTimeout + attempts * connectTimeout + retries + connectTimeout +
               promoteCost;
    };
    // pgpool detaches the dead primary before repmgr promotes (its health
    // check gives up sooner), then looks for a primary once a second: up to
    // a second after the promotion. The lab's failover_command
    // (pgpool_await_primary.py) asks the backends every 0.1 s instead and
    // returns as soon as one is primary, so that the first look finds it.
    // pgpool then needs ~0.3 s to finish its failover (measured).
    const bool awaits = s.pgpoolFailoverCommand.contains(QLatin1String("pgpool_await_primary"));
    const double pgpoolSearch = awaits ? 0.1 : 1.0;
    const double pgpoolAfterPromotion = pgpoolSearch + 0.3;

    if (scenario == u"kill-primary" || scenario == u"stop-primary-host" ||
        scenario == u"partition-primary") {
        const bool silent = scenario == u"partition-primary";
        const double repmgr = repmgrTime(silent);
        const QString failover =
            s.repmgrFailover.isEmpty() ? QStringLiteral("?") : s.repmgrFailover;
        p.lines.append(
            silent ? QStringLiteral("repmgr: failover=%1; monitor %2 + the failed ping's connect "
                                    "timeout %3 + %4 attempts × %3 + %5 × reconnect %6 + the "
                                    "promote command's look at the old primary %3 + promote ~%7 "
                                    "= %8")
                         .arg(failover, secs(monitor), secs(connectTimeout))
                         .arg(attempts)
                         .arg(std::max(0, attempts - 1))
                         .arg(secs(interval), secs(promoteCost), secs(repmgr))
                   : QStringLiteral("repmgr: failover=%1; monitor %2 + %3 × reconnect %4 (the "
                                    "first attempt at once) + promote ~%5 = %6")
                         .arg(failover, secs(monitor))
                         .arg(std::max(0, attempts - 1))
                         .arg(secs(interval), secs(promoteCost), secs(repmgr)));
        // pgpool's own detection runs in parallel with repmgr's and is not on
        // the write path once repmgr promotes: writes through it resume at
        // its next check of who is primary.
        const double pgpoolDetect = hcPeriod + (hcRetries + 1) * hcTimeout + hcRetries * hcDelay;
        p.lines.append(
            QStringLiteral("pgpool: health check every %1 (timeout %2, %3 retries %4 apart"
                           "; failover_command %5%6): detects a silent backend in ≤ %7; "
                           "sees the new primary ≤ %8 after it is promoted")
                .arg(secs(hcPeriod), secs(hcTimeout))
                .arg(hcRetries)
                .arg(secs(hcDelay),
                     s.pgpoolFailoverCommand.isEmpty()
                         ? QStringLiteral("empty: repmgr decides, pgpool looks once a second")
                         : (awaits ? QStringLiteral("waits for repmgr's new primary, asking "
                                                    "every 0.1 s")
                                   : QStringLiteral("set")),
                     s.pgpoolFailoverOnShutdown ? QStringLiteral(", failover on shutdown")
                                                : QString(),
                     secs(pgpoolDetect), secs(pgpoolAfterPromotion)));
        p.seconds = repmgr + pgpoolAfterPromotion;
        p.slowestLayer =
            repmgr >= pgpoolAfterPromotion ? QStringLiteral("repmgr") : QStringLiteral("pgpool");
        if (silent) {
            const double fence = 5.0 + std::max(0.0, s.childNodesDisconnectTimeout) + 1.0;
            p.lines.append(
                QStringLiteral("fencing: the isolated primary stops after wal_sender_timeout"
                               " 5 s + child_nodes_disconnect_timeout %1 + check 1 s ≈ %2"
                               " (%3 the promotion at ≈ %4)")
                    .arg(secs(std::max(0.0, s.childNodesDisconnectTimeout)), secs(fence),
                         fence < repmgr ? QStringLiteral("before") : QStringLiteral("AFTER"),
                         secs(repmgr)));
        }
        if (s.restartDelays.contains(QStringLiteral("pg-1")))
            p.lines.append(
                QStringLiteral("swarm: the old primary's task restarts after %1 (must be "
                               "longer than the promotion, or it may come back first)")
                    .arg(secs(s.restartDelays.value(QStringLiteral("pg-1")))));
    } else if (scenario == u"kill-pgpool") {
        const double delay = s.restartDelays.value(QStringLiteral("pgpool"), -1);
        const double restart = orDefault(delay, 5, &notes, QStringLiteral("pgpool restart delay"));
        const double start = 2.0 + hcPeriod;
        p.seconds = restart + start;
        p.slowestLayer = QStringLiteral("swarm");
        p.lines.append(
            QStringLiteral("swarm: the killed pgpool task restarts after %1; pgpool starts "
                           "and checks its backends in ~%2: clients of that instance "
                           "write again after ≈ %3")
                .arg(secs(restart), secs(start), secs(p.seconds)));
        p.lines.append(
            QStringLiteral("app: reaches pgpool by tasks.<service> DNS and reconnects to "
                           "the other instance: ≈ 0-1 s"));
    } else if (scenario == u"stop-etcd-member") {
        p.seconds = 0;
        p.slowestLayer = QStringLiteral("etcd");
        p.lines.append(QStringLiteral("etcd: a new leader within the election timeout %1 if the "
                                      "leader stopped; quorum stays (2 of 3)")
                           .arg(secs(election)));
        p.lines.append(
            QStringLiteral("database writes do not depend on etcd: expected write gap 0 s"));
    } else if (scenario == u"lose-etcd-quorum") {
        p.seconds = 0;
        p.slowestLayer = QStringLiteral("etcd");
        p.lines.append(
            QStringLiteral("etcd: no quorum while two members are down: the console's lock "
                           "and audit mirror cannot be written; a leader again within "
                           "~%1 once a second member is back")
                .arg(secs(election)));
        p.lines.append(
            QStringLiteral("database writes do not depend on etcd: expected write gap 0 s"));
    } else {
        p.lines.append(QStringLiteral("no model for scenario %1").arg(scenario));
    }
    p.lines.append(notes);
    return p;
}

} // namespace Pilothouse
