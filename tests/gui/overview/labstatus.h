#pragma once
// Test helper, main thread only: reads what `pilothouse status --json` printed
// on the lab back into a ClusterSnapshot, so that the overview can be checked
// on values the real cluster produced.
//
// fixtures/lab-status.json: `build/app/pilothouse status --inventory
// /var/lib/pilothouse-lab/inventory.yaml --json` on the local lab, healthy,
// 2026-11-26 09:49 UTC (pg-1 primary on timeline 5, leader swarm-03 / etcd3).

#include "models/clustersnapshot.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace Pilothouse::TestSupport {

inline QDateTime jsonTime(const QJsonValue &v)
{
    return QDateTime::fromString(v.toString(), Qt::ISODateWithMs).toUTC();
}

inline Freshness jsonFreshness(const QJsonValue &v)
{
    const QJsonObject o = v.toObject();
    return Freshness{jsonTime(o.value(u"read_at")), o.value(u"stale").toBool(),
                     o.value(u"error").toString()};
}

inline QStringList jsonStrings(const QJsonValue &v)
{
    QStringList out;
    for (const QJsonValue &s : v.toArray())
        out.append(s.toString());
    return out;
}

inline ClusterSnapshot labStatus(const QString &path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        qFatal("missing fixture %s", qPrintable(path));
    const QJsonObject root = QJsonDocument::fromJson(f.readAll()).object();
    ClusterSnapshot s;
    s.takenAt = jsonTime(root.value(u"taken_at"));

    for (const QJsonValue &v : root.value(u"hosts").toArray()) {
        const QJsonObject o = v.toObject();
        s.hosts.append({o.value(u"name").toString(), o.value(u"address").toString(),
                        o.value(u"reachable").toBool(), o.value(u"ssh_latency_ms").toDouble(),
                        jsonFreshness(o.value(u"freshness"))});
    }
    const QJsonObject swarm = root.value(u"swarm").toObject();
    for (const QJsonValue &v : swarm.value(u"nodes").toArray()) {
        const QJsonObject o = v.toObject();
        SwarmNodeState n;
        n.id = o.value(u"id").toString();
        n.hostname = o.value(u"hostname").toString();
        n.state = o.value(u"state").toString();
        n.availability = o.value(u"availability").toString();
        n.manager = o.value(u"manager").toBool();
        n.leader = o.value(u"leader").toBool();
        n.managerReachability = o.value(u"reachability").toString();
        n.address = o.value(u"address").toString();
        n.labels = jsonStrings(o.value(u"labels"));
        s.swarmNodes.append(n);
    }
    for (const QJsonValue &v : swarm.value(u"tasks").toArray()) {
        const QJsonObject o = v.toObject();
        TaskState t;
        t.id = o.value(u"id").toString();
        t.service = o.value(u"service").toString();
        t.slot = o.value(u"slot").toInt();
        t.hostname = o.value(u"node").toString();
        t.desiredState = o.value(u"desired_state").toString();
        t.currentState = o.value(u"current_state").toString();
        t.error = o.value(u"error").toString();
        t.containerId = o.value(u"container").toString();
        s.tasks.append(t);
    }
    for (const QJsonValue &v : root.value(u"postgres").toObject().value(u"nodes").toArray()) {
        const QJsonObject o = v.toObject();
        PostgresNodeState n;
        n.name = o.value(u"name").toString();
        n.host = o.value(u"host").toString();
        n.reachable = o.value(u"reachable").toBool();
        n.role = o.value(u"role").toString();
        n.timeline = o.value(u"timeline").toInt();
        n.currentLsn = o.value(u"current_lsn").toString();
        n.receivedLsn = o.value(u"received_lsn").toString();
        n.replayedLsn = o.value(u"replayed_lsn").toString();
        n.lagBytes = o.value(u"lag_bytes").toInteger(-1);
        n.lagSeconds = o.value(u"lag_seconds").toDouble(-1);
        n.upstream = o.value(u"upstream").toString();
        n.walReceiverStatus = o.value(u"wal_receiver").toString();
        n.connections = o.value(u"connections").toInt();
        n.xactCommit = o.value(u"xact_commit").toInteger();
        n.freshness = jsonFreshness(o.value(u"freshness"));
        for (const QJsonValue &r : o.value(u"replicas").toArray()) {
            const QJsonObject l = r.toObject();
            ReplicationLink link;
            link.applicationName = l.value(u"application_name").toString();
            link.clientAddress = l.value(u"client_addr").toString();
            link.state = l.value(u"state").toString();
            link.syncState = l.value(u"sync_state").toString();
            link.writeLagSeconds = l.value(u"write_lag_seconds").toDouble(-1);
            link.flushLagSeconds = l.value(u"flush_lag_seconds").toDouble(-1);
            link.replayLagSeconds = l.value(u"replay_lag_seconds").toDouble(-1);
            link.lagBytes = l.value(u"lag_bytes").toInteger(-1);
            n.replicas.append(link);
        }
        for (const QJsonValue &r : o.value(u"repmgr").toArray()) {
            const QJsonObject m = r.toObject();
            n.repmgr.append({m.value(u"node_id").toInt(),
                             m.value(u"name").toString(),
                             m.value(u"type").toString(),
                             m.value(u"active").toBool(),
                             m.value(u"upstream_node_id").toInt(),
                             m.value(u"priority").toInt(),
                             {}});
        }
        s.postgres.append(n);
    }
    const QJsonObject etcd = root.value(u"etcd").toObject();
    s.etcd.clusterSize = etcd.value(u"size").toInt();
    s.etcd.healthyMembers = etcd.value(u"healthy").toInt();
    s.etcd.quorum = etcd.value(u"quorum").toBool();
    for (const QJsonValue &v : etcd.value(u"members").toArray()) {
        const QJsonObject o = v.toObject();
        EtcdMemberState m;
        m.name = o.value(u"name").toString();
        m.host = o.value(u"host").toString();
        m.memberId = o.value(u"id").toString();
        m.healthy = o.value(u"healthy").toBool();
        m.leaderId = o.value(u"leader_id").toString();
        m.isLeader = o.value(u"leader").toBool();
        m.raftTerm = quint64(o.value(u"raft_term").toInteger());
        m.raftIndex = quint64(o.value(u"raft_index").toInteger());
        m.version = o.value(u"version").toString();
        m.errors = jsonStrings(o.value(u"errors"));
        m.freshness = jsonFreshness(o.value(u"freshness"));
        s.etcd.members.append(m);
    }
    for (const QJsonValue &v : root.value(u"pgpool").toArray()) {
        const QJsonObject o = v.toObject();
        PgpoolInstanceState p;
        p.task = o.value(u"task").toString();
        p.host = o.value(u"host").toString();
        p.reachable = o.value(u"reachable").toBool();
        p.freshness = jsonFreshness(o.value(u"freshness"));
        for (const QJsonValue &b : o.value(u"backends").toArray()) {
            const QJsonObject j = b.toObject();
            PgpoolBackend k;
            k.nodeId = j.value(u"node_id").toInt();
            k.hostname = j.value(u"node").toString();
            k.port = j.value(u"port").toInt();
            k.status = j.value(u"status").toString();
            k.pgStatus = j.value(u"pg_status").toString();
            k.lbWeight = j.value(u"lb_weight").toDouble();
            k.role = j.value(u"role").toString();
            k.pgRole = j.value(u"pg_role").toString();
            k.selectCount = j.value(u"select_cnt").toInteger();
            k.loadBalanceNode = j.value(u"load_balance_node").toBool();
            k.replicationDelay = j.value(u"replication_delay").toInteger();
            k.lastStatusChange = j.value(u"last_status_change").toString();
            p.backends.append(k);
        }
        s.pgpools.append(p);
    }
    for (const QJsonValue &v : root.value(u"proxy").toObject().value(u"routes").toArray()) {
        const QJsonObject o = v.toObject();
        ProxyRoute r;
        r.host = o.value(u"host").toString();
        r.service = o.value(u"service").toString();
        r.proxy = o.value(u"via").toString();
        r.statusCode = o.value(u"status_code").toInt();
        r.latencyMs = o.value(u"latency_ms").toDouble(-1);
        r.error = o.value(u"error").toString();
        r.freshness = Freshness{s.takenAt, false, {}}; // the JSON has none per route
        for (const QJsonValue &b : o.value(u"backends").toArray()) {
            const QJsonObject j = b.toObject();
            r.backends.append({j.value(u"name").toString(), j.value(u"up").toBool(),
                               j.value(u"detail").toString()});
        }
        s.routes.append(r);
    }
    for (const QJsonValue &v : root.value(u"app").toObject().value(u"replicas").toArray()) {
        const QJsonObject o = v.toObject();
        s.appReplicas.append({o.value(u"task").toString(), o.value(u"host").toString(),
                              o.value(u"healthy").toBool(), o.value(u"latency_ms").toDouble(-1),
                              o.value(u"detail").toString(), jsonFreshness(o.value(u"freshness"))});
    }
    for (const QJsonValue &v : root.value(u"certificates").toArray()) {
        const QJsonObject o = v.toObject();
        CertificateState c;
        c.where = o.value(u"where").toString();
        c.subject = o.value(u"subject").toString();
        c.issuer = o.value(u"issuer").toString();
        c.subjectAltNames = jsonStrings(o.value(u"sans"));
        c.notAfter = jsonTime(o.value(u"not_after"));
        c.daysLeft = o.value(u"days_left").toInt();
        s.certificates.append(c);
    }
    return s;
}

} // namespace Pilothouse::TestSupport
