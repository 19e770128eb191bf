#include "models/findings.h"

#include <QMap>
#include <QSet>

#include <algorithm>

namespace Pilothouse::Findings {
namespace {

QString pgKey(const QString &name)
{
    return QStringLiteral("pg:") + name;
}
QStringList pgKeys(const QStringList &names)
{
    QStringList out;
    for (const QString &n : names)
        out.append(pgKey(n));
    return out;
}
QString pgpoolKey(const PgpoolInstanceState &p)
{
    return QStringLiteral("pgpool:") + p.task;
}

class Collector
{
public:
    void add(Severity severity, const char *code, const QString &message, QStringList objects)
    {
        m_out.append({severity, QString::fromLatin1(code), message, std::move(objects)});
    }
    QList<Finding> take()
    {
        std::stable_sort(m_out.begin(), m_out.end(), [](const Finding &a, const Finding &b) {
            return int(a.severity) > int(b.severity);
        });
        return std::move(m_out);
    }

private:
    QList<Finding> m_out;
};

void hostsAndSwarm(const ClusterSnapshot &s, Collector &c)
{
    for (const HostState &h : s.hosts) {
        if (!h.reachable)
            c.add(Severity::Critical, "host-unreachable",
                  QObject::tr("Host %1 (%2) does not answer over SSH%3.")
                      .arg(h.name, h.address,
                           h.freshness.error.isEmpty() ? QString()
                                                       : QStringLiteral(": ") + h.freshness.error),
                  {QStringLiteral("host:") + h.name});
    }
    for (const SwarmNodeState &n : s.swarmNodes) {
        if (n.state != u"ready")
            c.add(Severity::Critical, "swarm-node-down",
                  QObject::tr("Swarm node %1 is %2.").arg(n.hostname, n.state),
                  {QStringLiteral("host:") + n.hostname});
        else if (n.manager && n.managerReachability == u"unreachable")
            c.add(Severity::Critical, "swarm-manager-unreachable",
                  QObject::tr("Swarm manager %1 is unreachable by the other managers.")
                      .arg(n.hostname),
                  {QStringLiteral("host:") + n.hostname});
        if (n.availability != u"active" && !n.availability.isEmpty())
            c.add(Severity::Info, "swarm-node-not-active",
                  QObject::tr("Swarm node %1 is set to %2.").arg(n.hostname, n.availability),
                  {QStringLiteral("host:") + n.hostname});
    }
}

// Automatic failover needs repmgrd on the nodes, running and not paused. Only
// nodes that answer say; when every one that says is off, nothing fails over.
void repmgrd(const ClusterSnapshot &s, Collector &c)
{
    QStringList known, paused, notRunning;
    for (const PostgresNodeState &n : s.postgres) {
        if (!n.reachable || n.repmgrd.isEmpty())
            continue;
        known.append(n.name);
        if (n.repmgrd == u"paused")
            paused.append(n.name);
        else if (n.repmgrd == u"not running")
            notRunning.append(n.name);
    }
    const bool allOff = !known.isEmpty() && paused.size() + notRunning.size() == known.size();
    const Severity severity = allOff ? Severity::Critical : Severity::Warning;
    if (!paused.isEmpty())
        c.add(severity, "repmgrd-paused",
              QObject::tr("Automatic failover is %1: repmgrd is paused on %2. A switchover "
                          "pauses it while it runs; one that was killed leaves it so until "
                          "the stack's supervisor unpauses it, a minute after the operation's "
                          "lock is gone. Resume now: repmgr service unpause (on any node).")
                  .arg(allOff ? QObject::tr("off") : QObject::tr("partly off"),
                       paused.join(QStringLiteral(", "))),
              pgKeys(paused));
    if (!notRunning.isEmpty())
        c.add(severity, "repmgrd-not-running",
              QObject::tr("repmgrd does not run on %1: %2.")
                  .arg(notRunning.join(QStringLiteral(", ")),
                       allOff ? QObject::tr("no node fails over automatically")
                              : QObject::tr("those nodes take no part in automatic failover")),
              pgKeys(notRunning));
}

const PostgresNodeState *primaryOf(const ClusterSnapshot &s, const QStringList &primaries)
{
    if (primaries.size() != 1)
        return nullptr;
    for (const PostgresNodeState &n : s.postgres) {
        if (n.name == primaries.first())
            return &n;
    }
    return nullptr;
}

void postgres(const ClusterSnapshot &s, const Thresholds &t, Collector &c)
{
    QStringList primaries;
    for (const PostgresNodeState &n : s.postgres) {
        if (n.reachable && n.role == u"primary")
            primaries.append(n.name);
    }
    if (primaries.size() > 1) {
        c.add(Severity::Critical, "two-primaries",
              QObject::tr("Split brain: %1 all accept writes as primary.")
                  .arg(primaries.join(QStringLiteral(", "))),
              pgKeys(primaries));
    } else if (primaries.isEmpty() && !s.postgres.isEmpty()) {
        c.add(Severity::Critical, "no-primary", QObject::tr("No PostgreSQL node accepts writes."),
              {});
    }

    for (const PostgresNodeState &n : s.postgres) {
        if (!n.reachable) {
            // A running task whose database does not answer is worse than a stopped one:
            // the orchestrator believes it is fine.
            const bool taskRunning =
                std::any_of(s.tasks.cbegin(), s.tasks.cend(), [&](const TaskState &task) {
                    return task.service == n.name && task.currentState == u"running";
                });
            if (taskRunning)
                c.add(Severity::Critical, "task-running-database-down",
                      QObject::tr("%1: the Swarm task is running but PostgreSQL does not answer%2.")
                          .arg(n.name, n.freshness.error.isEmpty()
                                           ? QString()
                                           : QStringLiteral(" (") + n.freshness.error + u')'),
                      {pgKey(n.name)});
            else
                c.add(Severity::Critical, "database-down",
                      QObject::tr("%1 on %2 does not answer.").arg(n.name, n.host),
                      {pgKey(n.name)});
            continue;
        }
        if (n.role != u"standby")
            continue;
        if (n.walReceiverStatus != u"streaming") {
            c.add(Severity::Critical, "standby-not-streaming",
                  QObject::tr("Standby %1 is not streaming from a primary (receiver: %2).")
                      .arg(n.name, n.walReceiverStatus.isEmpty() ? QObject::tr("none")
                                                                 : n.walReceiverStatus),
                  {pgKey(n.name)});
        } else if (const double seconds = replayDelaySeconds(primaryOf(s, primaries), n);
                   (n.lagBytes >= 0 && n.lagBytes > t.lagBytesWarning) ||
                   (seconds >= 0 && seconds > t.lagSecondsWarning)) {
            c.add(Severity::Warning, "standby-lagging",
                  seconds >= 0 ? QObject::tr("Standby %1 lags %2 bytes / %3 s behind the primary.")
                                     .arg(n.name)
                                     .arg(n.lagBytes)
                                     .arg(seconds, 0, 'f', 1)
                               : QObject::tr("Standby %1 lags %2 bytes behind the primary.")
                                     .arg(n.name)
                                     .arg(n.lagBytes),
                  {pgKey(n.name)});
        }
        if (primaries.size() == 1 && !n.upstream.isEmpty() &&
            !n.upstream.startsWith(primaries.first()))
            c.add(Severity::Warning, "standby-wrong-upstream",
                  QObject::tr("Standby %1 streams from %2, not from the primary %3.")
                      .arg(n.name, n.upstream, primaries.first()),
                  {pgKey(n.name)});
    }
    repmgrd(s, c);
}

// pgpool names backends by host name (pg-1) or address; match by prefix of the node name.
QString backendNode(const PgpoolBackend &b, const ClusterSnapshot &s)
{
    for (const PostgresNodeState &n : s.postgres) {
        if (b.hostname == n.name || b.hostname.startsWith(n.name + u'.'))
            return n.name;
    }
    return b.hostname;
}

void pgpool(const ClusterSnapshot &s, Collector &c)
{
    QString dbPrimary;
    int primaries = 0;
    for (const PostgresNodeState &n : s.postgres) {
        if (n.reachable && n.role == u"primary") {
            dbPrimary = n.name;
            ++primaries;
        }
    }
    QMap<QString, QStringList> primaryViews; // pgpool's primary -> pgpools that think so
    for (const PgpoolInstanceState &p : s.pgpools) {
        if (!p.reachable) {
            c.add(Severity::Critical, "pgpool-unreachable",
                  QObject::tr("pgpool %1 on %2 does not answer.").arg(p.task, p.host),
                  {pgpoolKey(p)});
            continue;
        }
        QString pgpoolPrimary;
        for (const PgpoolBackend &b : p.backends) {
            const QString node = backendNode(b, s);
            if (b.role == u"primary" && b.status != u"down")
                pgpoolPrimary = node;
            if (!b.pgRole.isEmpty() && b.role != b.pgRole) {
                const bool writesFail = b.role == u"primary" && b.pgRole == u"standby";
                c.add(writesFail ? Severity::Critical : Severity::Warning, "pgpool-stale-role",
                      writesFail ? QObject::tr("pgpool %1 sends writes to %2, which is a standby: "
                                               "writes through it fail.")
                                       .arg(p.task, node)
                                 : QObject::tr("pgpool %1 thinks %2 is %3, but it is %4.")
                                       .arg(p.task, node, b.role, b.pgRole),
                      {pgpoolKey(p), pgKey(node)});
            }
            const PostgresNodeState *db = nullptr;
            for (const PostgresNodeState &n : s.postgres) {
                if (n.name == node)
                    db = &n;
            }
            if (db && db->reachable && b.status == u"down")
                c.add(Severity::Warning, "pgpool-backend-detached",
                      QObject::tr("pgpool %1 has %2 detached although the database answers.")
                          .arg(p.task, node),
                      {pgpoolKey(p), pgKey(node)});
        }
        primaryViews[pgpoolPrimary].append(p.task);
        if (primaries == 1 && pgpoolPrimary != dbPrimary)
            c.add(Severity::Critical, "pgpool-primary-mismatch",
                  QObject::tr("pgpool %1 routes writes to %2, but the primary is %3.")
                      .arg(p.task, pgpoolPrimary.isEmpty() ? QObject::tr("no node") : pgpoolPrimary,
                           dbPrimary),
                  {pgpoolKey(p), pgKey(dbPrimary)});
    }
    if (primaryViews.size() > 1) {
        QStringList parts;
        QStringList objects;
        for (auto it = primaryViews.cbegin(); it != primaryViews.cend(); ++it) {
            parts.append(QObject::tr("%1 say %2")
                             .arg(it.value().join(QStringLiteral(", ")),
                                  it.key().isEmpty() ? QObject::tr("none") : it.key()));
            for (const QString &task : it.value())
                objects.append(QStringLiteral("pgpool:") + task);
        }
        c.add(Severity::Warning, "pgpools-disagree",
              QObject::tr("The pgpool instances disagree on the primary: %1.")
                  .arg(parts.join(QStringLiteral("; "))),
              objects);
    }
}

void etcd(const ClusterSnapshot &s, Collector &c)
{
    const EtcdState &e = s.etcd;
    if (e.members.isEmpty())
        return;
    if (!e.quorum) {
        c.add(Severity::Critical, "etcd-no-quorum",
              QObject::tr("etcd has no quorum: %1 of %2 members healthy. Locks and the audit trail "
                          "are unavailable.")
                  .arg(e.healthyMembers)
                  .arg(e.clusterSize),
              {QStringLiteral("etcd")});
    }
    QMap<QString, QStringList> leaderViews;
    for (const EtcdMemberState &m : e.members) {
        if (!m.healthy) {
            c.add(Severity::Warning, "etcd-member-unhealthy",
                  QObject::tr("etcd member %1 on %2 is not healthy.").arg(m.name, m.host),
                  {QStringLiteral("etcd:") + m.name});
            continue;
        }
        leaderViews[m.leaderId].append(m.name);
    }
    if (leaderViews.size() > 1) {
        QStringList objects;
        QStringList parts;
        for (auto it = leaderViews.cbegin(); it != leaderViews.cend(); ++it) {
            parts.append(QObject::tr("%1 see leader %2")
                             .arg(it.value().join(QStringLiteral(", ")), it.key()));
            for (const QString &m : it.value())
                objects.append(QStringLiteral("etcd:") + m);
        }
        c.add(Severity::Warning, "etcd-split-leader",
              QObject::tr("etcd members disagree on the leader: %1.")
                  .arg(parts.join(QStringLiteral("; "))),
              objects);
    }
}

void proxy(const ClusterSnapshot &s, Collector &c)
{
    for (const ProxyRoute &r : s.routes) {
        const QString object = QStringLiteral("route:") + r.host + u'@' + r.proxy;
        if (r.statusCode == 0 || r.statusCode >= 500)
            c.add(Severity::Critical, "route-failing",
                  r.statusCode
                      ? QObject::tr("https://%1 through the proxy on %2 answers %3.")
                            .arg(r.host, r.proxy)
                            .arg(r.statusCode)
                      : QObject::tr("https://%1 through the proxy on %2 does not answer%3.")
                            .arg(r.host, r.proxy,
                                 r.error.isEmpty() ? QString() : QStringLiteral(": ") + r.error),
                  {object});
        const auto up = std::count_if(r.backends.cbegin(), r.backends.cend(),
                                      [](const ProxyBackend &b) { return b.up; });
        if (!r.backends.isEmpty() && up < r.backends.size())
            c.add(up == 0 ? Severity::Critical : Severity::Warning, "route-backends-down",
                  QObject::tr("The proxy on %1 sees %2 of %3 %4 backends up.")
                      .arg(r.proxy)
                      .arg(up)
                      .arg(r.backends.size())
                      .arg(r.service),
                  {object});
    }
}

void certificates(const ClusterSnapshot &s, const QDateTime &now, const Thresholds &t, Collector &c)
{
    for (const CertificateState &cert : s.certificates) {
        const qint64 days = now.daysTo(cert.notAfter);
        const QString object = QStringLiteral("cert:") + cert.where;
        if (now >= cert.notAfter)
            c.add(Severity::Critical, "certificate-expired",
                  QObject::tr("The certificate of %1 (%2) has expired.")
                      .arg(cert.where, cert.subject),
                  {object});
        else if (days <= t.certCriticalDays)
            c.add(
                Severity::Critical, "certificate-expiring",
                QObject::tr("The certificate of %1 expires in %2 days.").arg(cert.where).arg(days),
                {object});
        else if (days <= t.certWarningDays)
            c.add(
                Severity::Warning, "certificate-expiring",
                QObject::tr("The certificate of %1 expires in %2 days.").arg(cert.where).arg(days),
                {object});
        else if (days <= t.certInfoDays)
            c.add(
                Severity::Info, "certificate-expiring",
                QObject::tr("The certificate of %1 expires in %2 days.").arg(cert.where).arg(days),
                {object});
    }
}

void staleness(const ClusterSnapshot &s, const QDateTime &now, Collector &c)
{
    const auto check = [&](const Freshness &f, const QString &what, const QString &object) {
        if (!f.stale)
            return;
        const QString age = f.readAt.isValid() ? QObject::tr("%1 s old").arg(f.readAt.secsTo(now))
                                               : QObject::tr("never read");
        c.add(Severity::Warning, "stale-value",
              QObject::tr("%1: showing last-known values (%2)%3.")
                  .arg(what, age, f.error.isEmpty() ? QString() : QStringLiteral(": ") + f.error),
              {object});
    };
    for (const PostgresNodeState &n : s.postgres)
        check(n.freshness, n.name, pgKey(n.name));
    for (const PgpoolInstanceState &p : s.pgpools)
        check(p.freshness, QStringLiteral("pgpool ") + p.task, pgpoolKey(p));
    for (const EtcdMemberState &m : s.etcd.members)
        check(m.freshness, m.name, QStringLiteral("etcd:") + m.name);
    for (const AppReplicaState &a : s.appReplicas)
        check(a.freshness, QStringLiteral("app ") + a.task, QStringLiteral("app:") + a.task);
}

} // namespace

QList<Finding> compute(const ClusterSnapshot &snapshot, const QDateTime &now,
                       const Thresholds &thresholds)
{
    Collector c;
    hostsAndSwarm(snapshot, c);
    postgres(snapshot, thresholds, c);
    pgpool(snapshot, c);
    etcd(snapshot, c);
    proxy(snapshot, c);
    certificates(snapshot, now, thresholds, c);
    staleness(snapshot, now, c);
    return c.take();
}

double replayDelaySeconds(const PostgresNodeState *upstream, const PostgresNodeState &standby)
{
    if (upstream) {
        for (const ReplicationLink &link : upstream->replicas) {
            if (link.applicationName != standby.name)
                continue;
            if (link.replayLagSeconds >= 0)
                return link.replayLagSeconds;
            return standby.lagBytes == 0 ? 0 : -1;
        }
    }
    return standby.lagSeconds;
}

Counts Counts::of(const QList<Finding> &findings)
{
    Counts c;
    for (const Finding &f : findings) {
        switch (f.severity) {
        case Severity::Critical:
            ++c.critical;
            break;
        case Severity::Warning:
            ++c.warning;
            break;
        case Severity::Info:
            ++c.info;
            break;
        }
    }
    return c;
}

Severity Counts::worst() const
{
    if (critical > 0)
        return Severity::Critical;
    return warning > 0 ? Severity::Warning : Severity::Info;
}

QString severityName(Severity severity)
{
    switch (severity) {
    case Severity::Info:
        return QStringLiteral("info");
    case Severity::Warning:
        return QStringLiteral("warning");
    case Severity::Critical:
        return QStringLiteral("critical");
    }
    return {};
}

QString suggestedOperation(const QString &code)
{
    static const QStringList pgpool{
        QStringLiteral("pgpool-stale-role"), QStringLiteral("pgpool-backend-detached"),
        QStringLiteral("pgpool-primary-mismatch"), QStringLiteral("pgpools-disagree")};
    static const QStringList rejoin{QStringLiteral("two-primaries"),
                                    QStringLiteral("standby-not-streaming"),
                                    QStringLiteral("standby-wrong-upstream")};
    if (pgpool.contains(code))
        return QStringLiteral("pgpool-repair");
    if (rejoin.contains(code))
        return QStringLiteral("rejoin");
    if (code == u"certificate-expired" || code == u"certificate-expiring")
        return QStringLiteral("certificate");
    return {};
}

} // namespace Pilothouse::Findings
