// The drill's pure parts: reading repmgr.conf / pgpool.conf / etcd's
// environment (lines as the lab's images write them), the prediction per
// scenario, the write gaps of a path, and the health verdict on a snapshot.

#include "app/operations/drill.h"
#include "app/operations/drillprediction.h"

#include <QTest>

using namespace Pilothouse;

namespace {

// As `grep` in the drill reads them from the lab's ph-postgres / ph-pgpool output.
const QByteArray RepmgrConf = "failover=automatic\n"
                              "monitor_interval_secs=2\n"
                              "reconnect_attempts=3\n"
                              "reconnect_interval=2\n"
                              "child_nodes_disconnect_timeout=0\n"
                              "conninfo=connect_timeout=2\n";
const QByteArray PgpoolConf = "health_check_period = 1\n"
                              "health_check_timeout = 2\n"
                              "health_check_max_retries = 2\n"
                              "health_check_retry_delay = 1\n"
                              "sr_check_period = 1\n"
                              "failover_command = ''\n"
                              "failover_on_backend_shutdown = on\n";

ClusterSnapshot healthy()
{
    ClusterSnapshot s;
    for (int i = 1; i <= 3; ++i) {
        PostgresNodeState n;
        n.name = QStringLiteral("pg-%1").arg(i);
        n.host = QStringLiteral("swarm-0%1").arg(i);
        n.reachable = true;
        n.role = i == 1 ? QStringLiteral("primary") : QStringLiteral("standby");
        if (i != 1) {
            n.upstream = QStringLiteral("pg-1");
            n.walReceiverStatus = QStringLiteral("streaming");
        }
        s.postgres.append(n);
        HostState h;
        h.name = n.host;
        h.reachable = true;
        s.hosts.append(h);
    }
    for (int i = 2; i <= 3; ++i) {
        PgpoolInstanceState p;
        p.host = QStringLiteral("swarm-0%1").arg(i);
        p.reachable = true;
        for (int b = 1; b <= 3; ++b) {
            PgpoolBackend backend;
            backend.hostname = QStringLiteral("pg-%1").arg(b);
            backend.status = QStringLiteral("up");
            backend.role = b == 1 ? QStringLiteral("primary") : QStringLiteral("standby");
            p.backends.append(backend);
        }
        s.pgpools.append(p);
    }
    ServiceState pgpool;
    pgpool.name = QStringLiteral("pgpool");
    pgpool.desiredReplicas = 2;
    s.services.append(pgpool);
    s.etcd.clusterSize = 3;
    s.etcd.healthyMembers = 3;
    s.etcd.quorum = true;
    return s;
}

HeartbeatWrite write(qint64 seq, qint64 sent, qint64 acked)
{
    HeartbeatWrite w;
    w.seq = seq;
    w.path = QStringLiteral("pgpool@swarm-02");
    w.sentMs = sent;
    w.ackedMs = acked;
    return w;
}

} // namespace

class TestDrillPrediction final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void readsTheLabSettings()
    {
        DrillSettings s;
        s.readRepmgrConf(RepmgrConf);
        s.readPgpoolConf(PgpoolConf);
        s.readEtcdEnvironment("ETCD_ELECTION_TIMEOUT=1000\nETCD_HEARTBEAT_INTERVAL=100\n");
        QCOMPARE(s.repmgrFailover, QStringLiteral("automatic"));
        QCOMPARE(s.repmgrMonitorInterval, 2.0);
        QCOMPARE(s.repmgrReconnectAttempts, 3);
        QCOMPARE(s.repmgrReconnectInterval, 2.0);
        QCOMPARE(s.repmgrConnectTimeout, 2.0);
        QCOMPARE(s.pgpoolHealthCheckPeriod, 1.0);
        QCOMPARE(s.pgpoolHealthCheckRetries, 2);
        QCOMPARE(s.pgpoolFailoverCommand, QString());
        QVERIFY(s.pgpoolFailoverOnShutdown);
        QCOMPARE(s.etcdElectionTimeout, 1.0);
    }

    void predictsKillPrimaryFromRepmgrAndPgpool()
    {
        DrillSettings s;
        s.readRepmgrConf(RepmgrConf);
        s.readPgpoolConf(PgpoolConf);
        s.restartDelays.insert(QStringLiteral("pg-1"), 15);
        const DrillReport::Prediction p = predictDrill(QStringLiteral("kill-primary"), s);
        // monitor 2 + (3 - 1) × 2 + promote 1, then pgpool's once-a-second
        // search 1 + its failover 0.3.
        QCOMPARE(p.seconds, 8.3);
        QCOMPARE(p.slowestLayer, QStringLiteral("repmgr"));
        QVERIFY(p.lines.join(u'\n').contains(QStringLiteral("restarts after 15.0 s")));
        // A silent host costs the connect timeout on the failed ping, each of
        // the 3 attempts and the promote command's check: 2 + 2 + 3 × 2 +
        // 2 × 2 + 2 + 1, then pgpool 1.3.
        QCOMPARE(predictDrill(QStringLiteral("partition-primary"), s).seconds, 18.3);
    }

    void predictsPgpoolWaitingForTheNewPrimary()
    {
        // The lab's failover_command asks every 0.1 s instead of pgpool's
        // once-a-second search (as ph-pgpool writes it).
        DrillSettings s;
        s.readRepmgrConf(RepmgrConf);
        s.readPgpoolConf(QByteArray(PgpoolConf).replace(
            "failover_command = ''",
            "failover_command = 'python3 /usr/local/lib/pilothouse/pgpool_await_primary.py "
            "/run/pgpool/etc/await-primary.json %d %P'"));
        const DrillReport::Prediction p = predictDrill(QStringLiteral("kill-primary"), s);
        QCOMPARE(p.seconds, 7.4);
        QVERIFY(p.lines.join(u'\n').contains(QStringLiteral("asking every 0.1 s")));
    }

    void saysWhatItAssumed()
    {
        const DrillReport::Prediction p =
            predictDrill(QStringLiteral("kill-primary"), DrillSettings{});
        QCOMPARE(p.seconds, 8.3);
        QVERIFY(p.lines.join(u'\n').contains(QStringLiteral("reconnect_attempts not read")));
        QCOMPARE(predictDrill(QStringLiteral("stop-etcd-member"), DrillSettings{}).seconds, 0.0);
        QCOMPARE(predictDrill(QStringLiteral("kill-pgpool"), DrillSettings{}).slowestLayer,
                 QStringLiteral("swarm"));
    }

    void gapsBetweenAcknowledgements()
    {
        const QList<HeartbeatWrite> writes = {write(1, 1000, 1010), write(2, 1100, 1110),
                                              write(3, 1200, -1),   write(4, 2200, -1),
                                              write(5, 3300, 3310), write(6, 3400, -1)};
        const auto gaps =
            Drill::gapsOf(writes, QStringLiteral("pgpool@swarm-02"), 1000, 5000, 0, 0.5);
        QCOMPARE(gaps.size(), 2);
        QCOMPARE(gaps[0].from, 1.110);
        QCOMPARE(gaps[0].to, 3.310);
        QCOMPARE(gaps[1].from, 3.310); // failing at the stop
        QCOMPARE(gaps[1].to, 5.0);
        QVERIFY(Drill::gapsOf(writes, QStringLiteral("app"), 1000, 1000, 0, 0.5).isEmpty());
        QCOMPARE(Drill::longestGap(writes, QStringLiteral("pgpool@swarm-02"), 5000), 2.2);
        QCOMPARE(Drill::longestGap(writes, QStringLiteral("pgpool@swarm-02"), 6000), 2.69);
        QCOMPARE(Drill::longestGap(writes, QStringLiteral("app"), 6000), -1.0);
    }

    void healthVerdict()
    {
        ClusterSnapshot s = healthy();
        QVERIFY(Drill::unhealthy(s).isEmpty());
        QVERIFY(Drill::unhealthy(s, QStringLiteral("pg-1")).isEmpty());
        QCOMPARE(Drill::unhealthy(s, QStringLiteral("pg-2")).size(), 1);

        s.postgres[1].role = QStringLiteral("primary");
        s.postgres[1].walReceiverStatus.clear();
        const QString twoPrimaries = Drill::unhealthy(s).join(u';');
        QVERIFY2(twoPrimaries.contains(QStringLiteral("2 primaries")), qPrintable(twoPrimaries));

        s = healthy();
        s.pgpools[0].backends[0].role = QStringLiteral("standby");
        s.pgpools[0].backends[1].role = QStringLiteral("primary");
        QVERIFY(Drill::unhealthy(s).join(u';').contains(QStringLiteral("routes writes to 'pg-2'")));

        s = healthy();
        s.etcd.healthyMembers = 1;
        s.etcd.quorum = false;
        QVERIFY(Drill::unhealthy(s).join(u';').contains(QStringLiteral("no quorum")));

        s = healthy();
        s.pgpools.removeLast();
        QVERIFY(Drill::unhealthy(s).join(u';').contains(QStringLiteral("1 of 2 pgpool")));
    }
};

QTEST_GUILESS_MAIN(TestDrillPrediction)
#include "tst_drillprediction.moc"
