#include "app/cli/snapshotjson.h"

#include "models/findings.h"

#include <QJsonArray>

namespace Pilothouse::SnapshotJson {
namespace {

QJsonValue orNull(double v)
{
    return v < 0 ? QJsonValue() : QJsonValue(v);
}
QJsonValue orNull(qint64 v)
{
    return v < 0 ? QJsonValue() : QJsonValue(v);
}
QJsonValue orNull(const QString &s)
{
    return s.isEmpty() ? QJsonValue() : QJsonValue(s);
}

QJsonObject freshness(const Freshness &f, const QDateTime &now)
{
    return {
        {QStringLiteral("read_at"),
         f.readAt.isValid() ? QJsonValue(f.readAt.toString(Qt::ISODateWithMs)) : QJsonValue()},
        {QStringLiteral("age_seconds"),
         f.readAt.isValid() ? QJsonValue(f.readAt.msecsTo(now) / 1000.0) : QJsonValue()},
        {QStringLiteral("stale"), f.stale},
        {QStringLiteral("error"), orNull(f.error)},
    };
}

QJsonArray strings(const QStringList &list)
{
    return QJsonArray::fromStringList(list);
}

} // namespace

QJsonObject toJson(const ClusterSnapshot &s, const QDateTime &now)
{
    QJsonArray hosts;
    for (const HostState &h : s.hosts)
        hosts.append(QJsonObject{{QStringLiteral("name"), h.name},
                                 {QStringLiteral("address"), h.address},
                                 {QStringLiteral("reachable"), h.reachable},
                                 {QStringLiteral("ssh_latency_ms"),
                                  h.reachable ? QJsonValue(h.sshLatencyMs) : QJsonValue()},
                                 {QStringLiteral("freshness"), freshness(h.freshness, now)}});

    QJsonArray nodes;
    for (const SwarmNodeState &n : s.swarmNodes)
        nodes.append(QJsonObject{{QStringLiteral("id"), n.id},
                                 {QStringLiteral("hostname"), n.hostname},
                                 {QStringLiteral("state"), n.state},
                                 {QStringLiteral("availability"), n.availability},
                                 {QStringLiteral("manager"), n.manager},
                                 {QStringLiteral("leader"), n.leader},
                                 {QStringLiteral("reachability"), orNull(n.managerReachability)},
                                 {QStringLiteral("address"), n.address},
                                 {QStringLiteral("labels"), strings(n.labels)}});
    QJsonArray services;
    for (const ServiceState &sv : s.services)
        services.append(QJsonObject{{QStringLiteral("name"), sv.name},
                                    {QStringLiteral("mode"), sv.mode},
                                    {QStringLiteral("desired"), sv.desiredReplicas},
                                    {QStringLiteral("running"), sv.runningTasks},
                                    {QStringLiteral("image"), sv.image},
                                    {QStringLiteral("version"), double(sv.versionIndex)},
                                    {QStringLiteral("update_state"), orNull(sv.updateState)}});
    QJsonArray tasks;
    for (const TaskState &t : s.tasks)
        tasks.append(QJsonObject{{QStringLiteral("id"), t.id},
                                 {QStringLiteral("service"), t.service},
                                 {QStringLiteral("slot"), t.slot},
                                 {QStringLiteral("node"), t.hostname},
                                 {QStringLiteral("desired_state"), t.desiredState},
                                 {QStringLiteral("current_state"), t.currentState},
                                 {QStringLiteral("error"), orNull(t.error)},
                                 {QStringLiteral("container"), orNull(t.containerId)}});

    QJsonArray pgNodes;
    for (const PostgresNodeState &n : s.postgres) {
        QJsonArray replicas;
        for (const ReplicationLink &r : n.replicas)
            replicas.append(
                QJsonObject{{QStringLiteral("application_name"), r.applicationName},
                            {QStringLiteral("client_addr"), r.clientAddress},
                            {QStringLiteral("state"), r.state},
                            {QStringLiteral("sync_state"), r.syncState},
                            {QStringLiteral("write_lag_seconds"), orNull(r.writeLagSeconds)},
                            {QStringLiteral("flush_lag_seconds"), orNull(r.flushLagSeconds)},
                            {QStringLiteral("replay_lag_seconds"), orNull(r.replayLagSeconds)},
                            {QStringLiteral("lag_bytes"), orNull(r.lagBytes)}});
        QJsonArray repmgr;
        for (const RepmgrNodeView &r : n.repmgr)
            repmgr.append(
                QJsonObject{{QStringLiteral("node_id"), r.nodeId},
                            {QStringLiteral("name"), r.name},
                            {QStringLiteral("type"), r.type},
                            {QStringLiteral("active"), r.active},
                            {QStringLiteral("upstream_node_id"),
                             r.upstreamNodeId ? QJsonValue(r.upstreamNodeId) : QJsonValue()},
                            {QStringLiteral("priority"), r.priority}});
        pgNodes.append(QJsonObject{{QStringLiteral("name"), n.name},
                                   {QStringLiteral("host"), n.host},
                                   {QStringLiteral("reachable"), n.reachable},
                                   {QStringLiteral("role"), n.role},
                                   {QStringLiteral("timeline"), n.timeline},
                                   {QStringLiteral("current_lsn"), orNull(n.currentLsn)},
                                   {QStringLiteral("received_lsn"), orNull(n.receivedLsn)},
                                   {QStringLiteral("replayed_lsn"), orNull(n.replayedLsn)},
                                   {QStringLiteral("lag_bytes"), orNull(n.lagBytes)},
                                   {QStringLiteral("lag_seconds"), orNull(n.lagSeconds)},
                                   {QStringLiteral("upstream"), orNull(n.upstream)},
                                   {QStringLiteral("wal_receiver"), orNull(n.walReceiverStatus)},
                                   {QStringLiteral("replicas"), replicas},
                                   {QStringLiteral("repmgr"), repmgr},
                                   {QStringLiteral("repmgrd"), orNull(n.repmgrd)},
                                   {QStringLiteral("connections"), n.connections},
                                   {QStringLiteral("xact_commit"), double(n.xactCommit)},
                                   {QStringLiteral("freshness"), freshness(n.freshness, now)}});
    }

    QJsonArray pgpools;
    for (const PgpoolInstanceState &p : s.pgpools) {
        QJsonArray backends;
        for (const PgpoolBackend &b : p.backends)
            backends.append(
                QJsonObject{{QStringLiteral("node_id"), b.nodeId},
                            {QStringLiteral("node"), b.hostname},
                            {QStringLiteral("port"), b.port},
                            {QStringLiteral("status"), b.status},
                            {QStringLiteral("pg_status"), orNull(b.pgStatus)},
                            {QStringLiteral("role"), b.role},
                            {QStringLiteral("pg_role"), orNull(b.pgRole)},
                            {QStringLiteral("lb_weight"), b.lbWeight},
                            {QStringLiteral("select_cnt"), double(b.selectCount)},
                            {QStringLiteral("load_balance_node"), b.loadBalanceNode},
                            {QStringLiteral("replication_delay"), double(b.replicationDelay)},
                            {QStringLiteral("last_status_change"), orNull(b.lastStatusChange)}});
        pgpools.append(QJsonObject{{QStringLiteral("task"), p.task},
                                   {QStringLiteral("host"), p.host},
                                   {QStringLiteral("reachable"), p.reachable},
                                   {QStringLiteral("backends"), backends},
                                   {QStringLiteral("freshness"), freshness(p.freshness, now)}});
    }

    QJsonArray members;
    for (const EtcdMemberState &m : s.etcd.members)
        members.append(QJsonObject{{QStringLiteral("name"), m.name},
                                   {QStringLiteral("host"), m.host},
                                   {QStringLiteral("id"), m.memberId},
                                   {QStringLiteral("healthy"), m.healthy},
                                   {QStringLiteral("leader"), m.isLeader},
                                   {QStringLiteral("leader_id"), orNull(m.leaderId)},
                                   {QStringLiteral("raft_term"), double(m.raftTerm)},
                                   {QStringLiteral("raft_index"), double(m.raftIndex)},
                                   {QStringLiteral("version"), orNull(m.version)},
                                   {QStringLiteral("errors"), strings(m.errors)},
                                   {QStringLiteral("freshness"), freshness(m.freshness, now)}});

    QJsonArray routes;
    for (const ProxyRoute &r : s.routes) {
        QJsonArray backends;
        for (const ProxyBackend &b : r.backends)
            backends.append(QJsonObject{{QStringLiteral("name"), b.name},
                                        {QStringLiteral("up"), b.up},
                                        {QStringLiteral("detail"), orNull(b.detail)}});
        routes.append(QJsonObject{
            {QStringLiteral("host"), r.host},
            {QStringLiteral("via"), r.proxy},
            {QStringLiteral("service"), r.service},
            {QStringLiteral("backends"), backends},
            {QStringLiteral("status_code"), r.statusCode ? QJsonValue(r.statusCode) : QJsonValue()},
            {QStringLiteral("latency_ms"), orNull(r.latencyMs)},
            {QStringLiteral("error"), orNull(r.error)}});
    }
    QJsonArray replicas;
    for (const AppReplicaState &a : s.appReplicas)
        replicas.append(QJsonObject{{QStringLiteral("task"), a.task},
                                    {QStringLiteral("host"), a.host},
                                    {QStringLiteral("healthy"), a.healthy},
                                    {QStringLiteral("latency_ms"), orNull(a.latencyMs)},
                                    {QStringLiteral("detail"), orNull(a.detail)},
                                    {QStringLiteral("freshness"), freshness(a.freshness, now)}});
    QJsonArray certs;
    for (const CertificateState &c : s.certificates)
        certs.append(QJsonObject{{QStringLiteral("where"), c.where},
                                 {QStringLiteral("subject"), c.subject},
                                 {QStringLiteral("issuer"), c.issuer},
                                 {QStringLiteral("sans"), strings(c.subjectAltNames)},
                                 {QStringLiteral("not_after"), c.notAfter.toString(Qt::ISODate)},
                                 {QStringLiteral("days_left"), c.daysLeft}});
    QJsonArray findings;
    for (const Finding &f : s.findings)
        findings.append(
            QJsonObject{{QStringLiteral("severity"), Findings::severityName(f.severity)},
                        {QStringLiteral("code"), f.code},
                        {QStringLiteral("message"), f.message},
                        {QStringLiteral("objects"), strings(f.objects)}});

    return {
        {QStringLiteral("taken_at"), s.takenAt.toString(Qt::ISODateWithMs)},
        {QStringLiteral("hosts"), hosts},
        {QStringLiteral("swarm"), QJsonObject{{QStringLiteral("nodes"), nodes},
                                              {QStringLiteral("services"), services},
                                              {QStringLiteral("tasks"), tasks}}},
        {QStringLiteral("postgres"), QJsonObject{{QStringLiteral("nodes"), pgNodes}}},
        {QStringLiteral("pgpool"), pgpools},
        {QStringLiteral("etcd"), QJsonObject{{QStringLiteral("members"), members},
                                             {QStringLiteral("healthy"), s.etcd.healthyMembers},
                                             {QStringLiteral("size"), s.etcd.clusterSize},
                                             {QStringLiteral("quorum"), s.etcd.quorum}}},
        {QStringLiteral("proxy"), QJsonObject{{QStringLiteral("routes"), routes}}},
        {QStringLiteral("app"), QJsonObject{{QStringLiteral("replicas"), replicas}}},
        {QStringLiteral("certificates"), certs},
        {QStringLiteral("findings"), findings},
    };
}

} // namespace Pilothouse::SnapshotJson
