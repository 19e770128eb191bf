#include "app/connectors/etcd/etcdstatereader.h"

#include <QMap>

namespace Pilothouse::EtcdStateReader {
namespace {

QString key(const EtcdMemberProbe &p)
{
    return QStringLiteral("etcd:") + p.name;
}

QString hex(quint64 id)
{
    return QString::number(id, 16);
}

} // namespace

EtcdMemberState memberState(const EtcdMemberProbe &probe)
{
    EtcdMemberState m;
    m.name = probe.name;
    m.host = probe.host;
    m.freshness.readAt = probe.readAt;
    QStringList problems;
    if (!probe.healthError.isEmpty())
        problems.append(probe.healthError);
    if (!probe.statusError.isEmpty())
        problems.append(probe.statusError);
    if (probe.status) {
        const EtcdStatus &s = *probe.status;
        m.memberId = QString::number(s.header.memberId);
        m.leaderId = s.leader == 0 ? QString() : QString::number(s.leader);
        m.isLeader = s.leader != 0 && s.leader == s.header.memberId;
        m.raftTerm = s.raftTerm;
        m.raftIndex = s.raftIndex;
        m.version = s.version;
        m.dbSize = s.dbSize;
        m.errors = s.errors;
    }
    if (probe.health)
        m.healthy = probe.health->healthy;
    else
        m.healthy = probe.status && probe.status->leader != 0 && probe.status->errors.isEmpty();
    if (probe.health && !probe.health->healthy)
        problems.append(probe.health->reason.isEmpty()
                            ? QStringLiteral("/health answers false")
                            : QStringLiteral("/health answers false: ") + probe.health->reason);
    m.freshness.stale = !problems.isEmpty();
    m.freshness.error = problems.join(QStringLiteral("; "));
    return m;
}

EtcdReading read(const QList<EtcdMemberProbe> &probes, int clusterSize)
{
    EtcdReading r;
    QMap<quint64, QStringList> byCluster; // cluster_id -> members reporting it
    QMap<quint64, QStringList> byLeader;  // leader id -> members seeing it
    for (const EtcdMemberProbe &p : probes) {
        const EtcdMemberState m = memberState(p);
        r.state.members.append(m);
        if (m.healthy)
            ++r.state.healthyMembers;
        else
            r.findings.append(
                Finding{Severity::Warning,
                        QStringLiteral("etcd-member-unhealthy"),
                        QStringLiteral("etcd member %1 on %2 is not healthy: %3")
                            .arg(p.name, p.host,
                                 m.freshness.error.isEmpty() ? QStringLiteral("no answer")
                                                             : m.freshness.error),
                        {key(p), QStringLiteral("host:") + p.host}});
        if (!p.status)
            continue;
        byCluster[p.status->header.clusterId].append(p.name);
        if (p.status->leader == 0)
            r.findings.append(Finding{Severity::Critical,
                                      QStringLiteral("etcd-no-leader"),
                                      QStringLiteral("etcd member %1 sees no leader").arg(p.name),
                                      {key(p)}});
        else
            byLeader[p.status->leader].append(p.name);
        if (!p.status->errors.isEmpty())
            r.findings.append(Finding{Severity::Warning,
                                      QStringLiteral("etcd-alarm"),
                                      QStringLiteral("etcd member %1 reports: %2")
                                          .arg(p.name, p.status->errors.join(QStringLiteral(", "))),
                                      {key(p)}});
    }
    r.state.clusterSize = clusterSize > 0 ? clusterSize : static_cast<int>(probes.size());
    r.state.quorum = r.state.healthyMembers > r.state.clusterSize / 2;
    if (!r.state.quorum)
        r.findings.append(Finding{Severity::Critical,
                                  QStringLiteral("etcd-no-quorum"),
                                  QStringLiteral("etcd has no quorum: %1 of %2 members healthy, "
                                                 "%3 needed; writes and locks will fail")
                                      .arg(r.state.healthyMembers)
                                      .arg(r.state.clusterSize)
                                      .arg(r.state.clusterSize / 2 + 1),
                                  {}});
    if (byCluster.size() > 1) {
        QStringList parts;
        QStringList objects;
        for (auto it = byCluster.cbegin(); it != byCluster.cend(); ++it) {
            parts.append(QStringLiteral("%1 (%2)").arg(hex(it.key()), it.value().join(u',')));
            for (const QString &n : it.value())
                objects.append(QStringLiteral("etcd:") + n);
        }
        r.findings.append(Finding{Severity::Critical, QStringLiteral("etcd-cluster-id-mismatch"),
                                  QStringLiteral("etcd members belong to different clusters: %1; "
                                                 "the inventory may point at the wrong hosts")
                                      .arg(parts.join(QStringLiteral(", "))),
                                  objects});
    }
    if (byLeader.size() > 1) {
        QStringList parts;
        QStringList objects;
        for (auto it = byLeader.cbegin(); it != byLeader.cend(); ++it) {
            parts.append(QStringLiteral("%1 sees %2").arg(it.value().join(u','), hex(it.key())));
            for (const QString &n : it.value())
                objects.append(QStringLiteral("etcd:") + n);
        }
        r.findings.append(Finding{Severity::Warning, QStringLiteral("etcd-leader-disagreement"),
                                  QStringLiteral("etcd members disagree on the leader: %1 "
                                                 "(an election may be in progress)")
                                      .arg(parts.join(QStringLiteral("; "))),
                                  objects});
    }
    return r;
}

} // namespace Pilothouse::EtcdStateReader
