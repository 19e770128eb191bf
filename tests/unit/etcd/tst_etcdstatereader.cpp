// EtcdState and findings from member probes built of the lab's captured answers.

#include "app/connectors/etcd/etcdjson.h"
#include "app/connectors/etcd/etcdstatereader.h"

#include <QFile>
#include <QTest>

using namespace Pilothouse;

namespace {

EtcdMemberProbe healthyProbe(int n)
{
    QFile f(QStringLiteral(PILOTHOUSE_SOURCE_DIR "/tests/fixtures/etcd/status-etcd%1.json").arg(n));
    if (!f.open(QIODevice::ReadOnly))
        qFatal("missing status fixture %d", n);
    EtcdMemberProbe p;
    p.name = QStringLiteral("etcd%1").arg(n);
    p.host = QStringLiteral("swarm-0%1").arg(n);
    p.health = EtcdHealth{true, 200, {}};
    p.status = EtcdJson::parseStatus(f.readAll()).value();
    p.readAt = QDateTime(QDate(2026, 11, 26), QTime(7, 0), Qt::UTC);
    return p;
}

QStringList codes(const EtcdReading &r)
{
    QStringList out;
    for (const Finding &f : r.findings)
        out.append(f.code);
    return out;
}

} // namespace

class TestEtcdStateReader final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void healthyCluster()
    {
        const EtcdReading r =
            EtcdStateReader::read({healthyProbe(1), healthyProbe(2), healthyProbe(3)}, 3);
        QCOMPARE(r.state.members.size(), 3);
        QCOMPARE(r.state.healthyMembers, 3);
        QCOMPARE(r.state.clusterSize, 3);
        QVERIFY(r.state.quorum);
        QVERIFY2(r.findings.isEmpty(), qPrintable(codes(r).join(u',')));
        int leaders = 0;
        for (const EtcdMemberState &m : r.state.members) {
            QCOMPARE(m.leaderId, QStringLiteral("13175292824932566427"));
            QVERIFY(!m.freshness.stale);
            leaders += m.isLeader ? 1 : 0;
        }
        QCOMPARE(leaders, 1);
        QVERIFY(r.state.members.at(0).isLeader); // etcd1 led when captured
        QCOMPARE(r.state.members.at(1).memberId, QStringLiteral("3781370828356667081"));
        QCOMPARE(r.state.members.at(1).raftTerm, 25u);
        QCOMPARE(r.state.members.at(1).version, QStringLiteral("3.4.23"));
        QCOMPARE(r.state.members.at(1).host, QStringLiteral("swarm-02"));
    }

    void oneDownKeepsQuorum()
    {
        EtcdMemberProbe down = healthyProbe(3);
        down.health.reset();
        down.status.reset();
        down.healthError =
            QStringLiteral("etcd etcd3 at 10.213.0.13:2379: /health: connection refused");
        down.statusError = down.healthError;
        const EtcdReading r = EtcdStateReader::read({healthyProbe(1), healthyProbe(2), down}, 3);
        QCOMPARE(r.state.healthyMembers, 2);
        QVERIFY(r.state.quorum);
        QCOMPARE(codes(r), QStringList{QStringLiteral("etcd-member-unhealthy")});
        QVERIFY(r.findings.at(0).objects.contains(QStringLiteral("etcd:etcd3")));
        QVERIFY(r.state.members.at(2).freshness.stale);
        QVERIFY(
            r.state.members.at(2).freshness.error.contains(QStringLiteral("connection refused")));
    }

    void twoDownLoseQuorum()
    {
        EtcdMemberProbe a = healthyProbe(2);
        a.health = EtcdHealth{false, 503, {}};
        a.status->leader = 0;
        EtcdMemberProbe b = healthyProbe(3);
        b.health.reset();
        b.status.reset();
        b.healthError = QStringLiteral("timeout");
        const EtcdReading r = EtcdStateReader::read({healthyProbe(1), a, b}, 3);
        QCOMPARE(r.state.healthyMembers, 1);
        QVERIFY(!r.state.quorum);
        const QStringList c = codes(r);
        QVERIFY(c.contains(QStringLiteral("etcd-no-quorum")));
        QVERIFY(c.contains(QStringLiteral("etcd-no-leader")));
        QCOMPARE(c.count(QStringLiteral("etcd-member-unhealthy")), 2);
    }

    void sizeFromMemberList()
    {
        // Two probed of a five-member cluster: 2 > 5/2 is false.
        const EtcdReading r = EtcdStateReader::read({healthyProbe(1), healthyProbe(2)}, 5);
        QCOMPARE(r.state.clusterSize, 5);
        QVERIFY(!r.state.quorum);
        // Unknown size: the probes count.
        QVERIFY(EtcdStateReader::read({healthyProbe(1), healthyProbe(2)}, 0).state.quorum);
    }

    void disagreements()
    {
        EtcdMemberProbe foreign = healthyProbe(3);
        foreign.status->header.clusterId = 42;
        EtcdMemberProbe other = healthyProbe(2);
        other.status->leader = other.status->header.memberId; // thinks it leads itself
        const EtcdReading r = EtcdStateReader::read({healthyProbe(1), other, foreign}, 3);
        const QStringList c = codes(r);
        QVERIFY(c.contains(QStringLiteral("etcd-cluster-id-mismatch")));
        QVERIFY(c.contains(QStringLiteral("etcd-leader-disagreement")));
        for (const Finding &f : r.findings) {
            if (f.code == QLatin1String("etcd-cluster-id-mismatch")) {
                QCOMPARE(f.severity, Severity::Critical);
                QVERIFY(f.objects.contains(QStringLiteral("etcd:etcd3")));
            }
        }
    }

    void alarmAndNoHealthProbe()
    {
        EtcdMemberProbe p = healthyProbe(1);
        p.health.reset(); // only status asked: healthy needs a leader and no alarm
        QVERIFY(EtcdStateReader::memberState(p).healthy);
        p.status->errors = {QStringLiteral("NOSPACE")};
        QVERIFY(!EtcdStateReader::memberState(p).healthy);
        const EtcdReading r = EtcdStateReader::read({p}, 1);
        QVERIFY(codes(r).contains(QStringLiteral("etcd-alarm")));
    }
};

QTEST_GUILESS_MAIN(TestEtcdStateReader)
#include "tst_etcdstatereader.moc"
