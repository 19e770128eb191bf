#include "app/cli/statustable.h"

#include "models/findings.h"

namespace Pilothouse::StatusTable {
namespace {

// Columns padded to their widest cell; the last column is not padded.
class Table
{
public:
    explicit Table(QStringList header) { m_rows.append(std::move(header)); }
    void add(QStringList row) { m_rows.append(std::move(row)); }

    QString render(const QString &title) const
    {
        QList<qsizetype> widths;
        for (const QStringList &row : m_rows) {
            for (qsizetype c = 0; c < row.size(); ++c) {
                if (widths.size() <= c)
                    widths.append(0);
                widths[c] = std::max(widths[c], row.at(c).size());
            }
        }
        QString out = title + u'\n';
        for (const QStringList &row : m_rows) {
            QString line = QStringLiteral("  ");
            for (qsizetype c = 0; c < row.size(); ++c)
                line += c + 1 < row.size() ? row.at(c).leftJustified(widths.at(c) + 2) : row.at(c);
            out += line.trimmed().isEmpty() ? QString() : line + u'\n';
        }
        return out + u'\n';
    }

private:
    QList<QStringList> m_rows;
};

QString yesNo(bool b)
{
    return b ? QStringLiteral("yes") : QStringLiteral("NO");
}

QString age(const Freshness &f, const QDateTime &now)
{
    if (!f.stale)
        return {};
    if (!f.readAt.isValid())
        return QStringLiteral(" (never read)");
    return QStringLiteral(" (stale, %1 s old)").arg(f.readAt.secsTo(now));
}

QString bytes(qint64 b)
{
    if (b < 0)
        return QStringLiteral("-");
    if (b < 1024)
        return QString::number(b) + QStringLiteral(" B");
    if (b < 1024 * 1024)
        return QString::number(b / 1024.0, 'f', 1) + QStringLiteral(" KiB");
    return QString::number(b / (1024.0 * 1024.0), 'f', 1) + QStringLiteral(" MiB");
}

QString seconds(double s)
{
    return s < 0 ? QStringLiteral("-") : QString::number(s, 'f', 1) + u's';
}

} // namespace

QString render(const ClusterSnapshot &s, const QDateTime &now)
{
    QString out;

    Table hosts({QStringLiteral("HOST"), QStringLiteral("ADDRESS"), QStringLiteral("SSH"),
                 QStringLiteral("LATENCY")});
    for (const HostState &h : s.hosts)
        hosts.add({h.name, h.address,
                   h.reachable ? QStringLiteral("ok")
                               : QStringLiteral("UNREACHABLE") + age(h.freshness, now),
                   h.reachable ? QString::number(h.sshLatencyMs, 'f', 1) + QStringLiteral(" ms")
                               : QStringLiteral("-")});
    out += hosts.render(QStringLiteral("Hosts"));

    Table swarm({QStringLiteral("NODE"), QStringLiteral("STATE"), QStringLiteral("AVAILABILITY"),
                 QStringLiteral("MANAGER")});
    for (const SwarmNodeState &n : s.swarmNodes)
        swarm.add({n.hostname, n.state, n.availability,
                   n.leader    ? QStringLiteral("leader")
                   : n.manager ? n.managerReachability
                               : QStringLiteral("-")});
    out += swarm.render(QStringLiteral("Swarm"));

    Table services({QStringLiteral("SERVICE"), QStringLiteral("TASKS"), QStringLiteral("WHERE")});
    for (const ServiceState &sv : s.services) {
        QStringList where;
        for (const TaskState &t : s.tasks) {
            if (t.service == sv.name && t.desiredState == u"running")
                where.append(t.hostname + u':' + t.currentState);
        }
        services.add({sv.name,
                      QStringLiteral("%1/%2")
                          .arg(sv.runningTasks)
                          .arg(sv.mode == u"global" ? QStringLiteral("global")
                                                    : QString::number(sv.desiredReplicas)),
                      where.join(QStringLiteral(" "))});
    }
    out += services.render(QStringLiteral("Services"));

    Table pg({QStringLiteral("NODE"), QStringLiteral("HOST"), QStringLiteral("ROLE"),
              QStringLiteral("TL"), QStringLiteral("UPSTREAM"), QStringLiteral("LAG"),
              QStringLiteral("REPMGR")});
    for (const PostgresNodeState &n : s.postgres) {
        QString repmgr;
        for (const RepmgrNodeView &r : n.repmgr) {
            if (r.name == n.name)
                repmgr = r.type + (r.active ? QString() : QStringLiteral(" (inactive)"));
        }
        // Only news is printed: a running repmgrd is what the cluster expects.
        if (!n.repmgrd.isEmpty() && n.repmgrd != u"running")
            repmgr += (repmgr.isEmpty() ? QString() : QStringLiteral(", ")) +
                      QStringLiteral("repmgrd ") + n.repmgrd;
        pg.add(
            {n.name, n.host, n.reachable ? n.role : QStringLiteral("DOWN") + age(n.freshness, now),
             n.timeline ? QString::number(n.timeline) : QStringLiteral("-"),
             n.role == u"standby" ? n.upstream + u' ' + n.walReceiverStatus : QStringLiteral("-"),
             n.role == u"standby"
                 ? bytes(n.lagBytes) + QStringLiteral(" / ") + seconds(n.lagSeconds)
                 : QStringLiteral("-"),
             repmgr.isEmpty() ? QStringLiteral("-") : repmgr});
    }
    out += pg.render(QStringLiteral("PostgreSQL"));

    Table pools({QStringLiteral("PGPOOL"), QStringLiteral("BACKEND"), QStringLiteral("STATUS"),
                 QStringLiteral("ROLE"), QStringLiteral("PG_ROLE"), QStringLiteral("SELECTS")});
    for (const PgpoolInstanceState &p : s.pgpools) {
        const QString name = p.task.left(12) + u'@' + p.host;
        if (!p.reachable) {
            pools.add(
                {name, QStringLiteral("-"), QStringLiteral("UNREACHABLE") + age(p.freshness, now)});
            continue;
        }
        for (const PgpoolBackend &b : p.backends)
            pools.add({name, b.hostname, b.status, b.role,
                       b.pgRole + (b.pgRole.isEmpty() || b.pgRole == b.role
                                       ? QString()
                                       : QStringLiteral("  <- DISAGREES")),
                       QString::number(b.selectCount)});
    }
    out += pools.render(QStringLiteral("PgPool (each instance asked directly)"));

    Table etcd({QStringLiteral("MEMBER"), QStringLiteral("HOST"), QStringLiteral("HEALTHY"),
                QStringLiteral("LEADER"), QStringLiteral("TERM"), QStringLiteral("INDEX")});
    for (const EtcdMemberState &m : s.etcd.members)
        etcd.add({m.name, m.host, yesNo(m.healthy) + age(m.freshness, now),
                  m.isLeader ? QStringLiteral("leader") : QStringLiteral("-"),
                  QString::number(m.raftTerm), QString::number(m.raftIndex)});
    out += etcd.render(QStringLiteral("etcd: %1/%2 healthy, quorum %3")
                           .arg(s.etcd.healthyMembers)
                           .arg(s.etcd.clusterSize)
                           .arg(s.etcd.quorum ? QStringLiteral("ok") : QStringLiteral("LOST")));

    Table routes({QStringLiteral("ROUTE"), QStringLiteral("VIA"), QStringLiteral("SERVICE"),
                  QStringLiteral("BACKENDS UP"), QStringLiteral("HTTPS")});
    for (const ProxyRoute &r : s.routes) {
        const auto up = std::count_if(r.backends.cbegin(), r.backends.cend(),
                                      [](const ProxyBackend &b) { return b.up; });
        const QString https =
            r.statusCode
                ? QStringLiteral("%1 in %2 ms").arg(r.statusCode).arg(r.latencyMs, 0, 'f', 1)
                : QStringLiteral("NO ANSWER ") + r.error;
        routes.add({r.host, r.proxy, r.service,
                    QStringLiteral("%1/%2").arg(up).arg(r.backends.size()), https});
    }
    out += routes.render(QStringLiteral("Proxy routes"));

    Table app({QStringLiteral("REPLICA"), QStringLiteral("HOST"), QStringLiteral("HEALTH"),
               QStringLiteral("LATENCY")});
    for (const AppReplicaState &a : s.appReplicas)
        app.add({a.task, a.host,
                 a.healthy ? QStringLiteral("ok")
                           : QStringLiteral("FAILING ") + a.detail + age(a.freshness, now),
                 a.latencyMs < 0 ? QStringLiteral("-")
                                 : QString::number(a.latencyMs, 'f', 1) + QStringLiteral(" ms")});
    out += app.render(QStringLiteral("App replicas"));

    if (!s.certificates.isEmpty()) {
        Table certs({QStringLiteral("WHERE"), QStringLiteral("SUBJECT"), QStringLiteral("ISSUER"),
                     QStringLiteral("DAYS LEFT")});
        for (const CertificateState &c : s.certificates)
            certs.add({c.where, c.subject, c.issuer, QString::number(c.daysLeft)});
        out += certs.render(QStringLiteral("Certificates"));
    }

    if (s.findings.isEmpty()) {
        out += QStringLiteral("Findings: none, every layer agrees.\n");
    } else {
        out += QStringLiteral("Findings\n");
        for (const Finding &f : s.findings)
            out += QStringLiteral("  %1  %2  %3\n")
                       .arg(Findings::severityName(f.severity).toUpper().leftJustified(8), f.code,
                            f.message);
    }
    return out;
}

} // namespace Pilothouse::StatusTable
