#include "models/snapshotdiff.h"

#include "models/findings.h"

namespace Pilothouse::SnapshotDiff {
namespace {

QString yesNo(bool b)
{
    return b ? QStringLiteral("yes") : QStringLiteral("no");
}

} // namespace

QMap<QString, QString> flatten(const ClusterSnapshot &s)
{
    QMap<QString, QString> out;
    const auto put = [&out](const QString &object, const char *field, const QString &value) {
        out.insert(object + u'.' + QLatin1String(field), value);
    };
    for (const HostState &h : s.hosts) {
        const QString o = QStringLiteral("host:") + h.name;
        put(o, "reachable", yesNo(h.reachable));
        put(o, "stale", yesNo(h.freshness.stale));
    }
    for (const SwarmNodeState &n : s.swarmNodes) {
        const QString o = QStringLiteral("swarm:") + n.hostname;
        put(o, "state", n.state);
        put(o, "availability", n.availability);
        put(o, "leader", yesNo(n.leader));
        put(o, "reachability", n.managerReachability);
    }
    for (const TaskState &t : s.tasks) {
        if (t.desiredState != u"running")
            continue; // history of shut-down tasks is not news
        const QString o = QStringLiteral("task:") + t.service + u'.' + QString::number(t.slot) +
                          u'@' + t.hostname;
        put(o, "state", t.currentState);
    }
    for (const PostgresNodeState &n : s.postgres) {
        const QString o = QStringLiteral("pg:") + n.name;
        put(o, "reachable", yesNo(n.reachable));
        put(o, "role", n.role);
        put(o, "timeline", QString::number(n.timeline));
        put(o, "upstream", n.upstream);
        put(o, "receiver", n.walReceiverStatus);
        put(o, "repmgrd", n.repmgrd);
        put(o, "stale", yesNo(n.freshness.stale));
    }
    for (const EtcdMemberState &m : s.etcd.members) {
        const QString o = QStringLiteral("etcd:") + m.name;
        put(o, "healthy", yesNo(m.healthy));
        put(o, "leader", yesNo(m.isLeader));
        put(o, "term", QString::number(m.raftTerm));
    }
    if (!s.etcd.members.isEmpty())
        out.insert(QStringLiteral("etcd.quorum"),
                   QStringLiteral("%1/%2 %3")
                       .arg(s.etcd.healthyMembers)
                       .arg(s.etcd.clusterSize)
                       .arg(s.etcd.quorum ? QStringLiteral("ok") : QStringLiteral("lost")));
    for (const PgpoolInstanceState &p : s.pgpools) {
        const QString o = QStringLiteral("pgpool:") + p.task;
        put(o, "reachable", yesNo(p.reachable));
        for (const PgpoolBackend &b : p.backends) {
            const QString bo = o + QStringLiteral(".backend.") + b.hostname;
            put(bo, "status", b.status);
            put(bo, "role", b.role);
            put(bo, "pg_role", b.pgRole);
        }
    }
    for (const ProxyRoute &r : s.routes) {
        const QString o = QStringLiteral("route:") + r.host + QStringLiteral("@") + r.proxy;
        put(o, "answers", r.statusCode ? QString::number(r.statusCode) : QStringLiteral("no"));
        for (const ProxyBackend &b : r.backends)
            put(o + u'/' + b.name, "up", yesNo(b.up));
    }
    for (const AppReplicaState &a : s.appReplicas)
        put(QStringLiteral("app:") + a.task, "healthy", yesNo(a.healthy));
    for (const CertificateState &c : s.certificates)
        put(QStringLiteral("cert:") + c.where, "days_left", QString::number(c.daysLeft));
    for (const Finding &f : s.findings) {
        const QString o = QStringLiteral("finding:") + f.code + u'[' + f.objects.join(u',') + u']';
        out.insert(o, Findings::severityName(f.severity) + QStringLiteral(": ") + f.message);
    }
    return out;
}

QList<Change> diff(const ClusterSnapshot &before, const ClusterSnapshot &after)
{
    const QMap<QString, QString> a = flatten(before);
    const QMap<QString, QString> b = flatten(after);
    QList<Change> out;
    auto ia = a.cbegin();
    auto ib = b.cbegin();
    // Both maps are sorted by key: one merge pass.
    while (ia != a.cend() || ib != b.cend()) {
        if (ib == b.cend() || (ia != a.cend() && ia.key() < ib.key())) {
            out.append({ia.key(), ia.value(), {}});
            ++ia;
        } else if (ia == a.cend() || ib.key() < ia.key()) {
            out.append({ib.key(), {}, ib.value()});
            ++ib;
        } else {
            if (ia.value() != ib.value())
                out.append({ia.key(), ia.value(), ib.value()});
            ++ia;
            ++ib;
        }
    }
    return out;
}

QString describe(const Change &c)
{
    if (c.before.isEmpty() && !c.after.isEmpty())
        return QStringLiteral("+ ") + c.key + QStringLiteral(": ") + c.after;
    if (c.after.isEmpty() && !c.before.isEmpty())
        return QStringLiteral("- ") + c.key + QStringLiteral(" (was ") + c.before + u')';
    return c.key + QStringLiteral(": ") + c.before + QStringLiteral(" -> ") + c.after;
}

} // namespace Pilothouse::SnapshotDiff
