// `pilothouse status` output, table and JSON, from a snapshot of a known shape.

#include "app/cli/snapshotjson.h"
#include "app/cli/statustable.h"
#include "models/findings.h"

#include <QJsonArray>
#include <QTest>

using namespace Pilothouse;

namespace {

const QDateTime Now = QDateTime(QDate(2026, 11, 26), QTime(12, 0), Qt::UTC);

ClusterSnapshot sample()
{
    ClusterSnapshot s;
    s.takenAt = Now;
    s.hosts.append(
        {QStringLiteral("swarm-01"), QStringLiteral("10.213.0.11"), true, 1.5, {Now, false, {}}});
    s.hosts.append({QStringLiteral("swarm-02"),
                    QStringLiteral("10.213.0.12"),
                    false,
                    0,
                    {Now.addSecs(-7), true, QStringLiteral("connection timed out")}});
    PostgresNodeState p;
    p.name = QStringLiteral("pg-1");
    p.host = QStringLiteral("swarm-01");
    p.reachable = true;
    p.role = QStringLiteral("primary");
    p.timeline = 3;
    PostgresNodeState st = p;
    st.name = QStringLiteral("pg-2");
    st.host = QStringLiteral("swarm-02");
    st.role = QStringLiteral("standby");
    st.upstream = QStringLiteral("pg-1");
    st.walReceiverStatus = QStringLiteral("streaming");
    st.lagBytes = 2048;
    st.lagSeconds = -1;
    s.postgres = {p, st};
    PgpoolInstanceState pool;
    pool.task = QStringLiteral("k3jx9");
    pool.host = QStringLiteral("swarm-01");
    pool.reachable = true;
    PgpoolBackend b;
    b.hostname = QStringLiteral("pg-2");
    b.status = QStringLiteral("up");
    b.role = QStringLiteral("primary");
    b.pgRole = QStringLiteral("standby");
    pool.backends.append(b);
    s.pgpools.append(pool);
    EtcdMemberState m;
    m.name = QStringLiteral("etcd1");
    m.host = QStringLiteral("swarm-01");
    m.healthy = true;
    m.isLeader = true;
    m.raftTerm = 4;
    s.etcd.members.append(m);
    s.etcd.healthyMembers = 1;
    s.etcd.clusterSize = 3;
    s.etcd.quorum = false;
    s.findings = Findings::compute(s, Now);
    return s;
}

} // namespace

class TestStatusOutput final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void json()
    {
        const QJsonObject j = SnapshotJson::toJson(sample(), Now);
        const QJsonArray hosts = j.value(QStringLiteral("hosts")).toArray();
        QCOMPARE(hosts.size(), 2);
        QCOMPARE(hosts.at(1).toObject().value(QStringLiteral("reachable")).toBool(true), false);
        const QJsonObject fresh =
            hosts.at(1).toObject().value(QStringLiteral("freshness")).toObject();
        QCOMPARE(fresh.value(QStringLiteral("stale")).toBool(), true);
        QCOMPARE(fresh.value(QStringLiteral("age_seconds")).toDouble(), 7.0);

        const QJsonArray nodes =
            j.value(QStringLiteral("postgres")).toObject().value(QStringLiteral("nodes")).toArray();
        QCOMPARE(nodes.size(), 2);
        const QJsonObject standby = nodes.at(1).toObject();
        for (const char *key : {"name", "host", "role", "timeline", "lag_bytes", "upstream"})
            QVERIFY2(standby.contains(QLatin1String(key)), key);
        QCOMPARE(standby.value(QStringLiteral("lag_bytes")).toInt(), 2048);
        QVERIFY(standby.value(QStringLiteral("lag_seconds")).isNull()); // unknown, not 0 or -1
        QVERIFY(nodes.at(0).toObject().value(QStringLiteral("upstream")).isNull());

        const QJsonObject backend = j.value(QStringLiteral("pgpool"))
                                        .toArray()
                                        .at(0)
                                        .toObject()
                                        .value(QStringLiteral("backends"))
                                        .toArray()
                                        .at(0)
                                        .toObject();
        QCOMPARE(backend.value(QStringLiteral("node")).toString(), QStringLiteral("pg-2"));
        QCOMPARE(backend.value(QStringLiteral("role")).toString(), QStringLiteral("primary"));
        QCOMPARE(backend.value(QStringLiteral("pg_role")).toString(), QStringLiteral("standby"));

        const QJsonObject etcd = j.value(QStringLiteral("etcd")).toObject();
        QCOMPARE(etcd.value(QStringLiteral("quorum")).toBool(true), false);
        QCOMPARE(etcd.value(QStringLiteral("members"))
                     .toArray()
                     .at(0)
                     .toObject()
                     .value(QStringLiteral("leader"))
                     .toBool(),
                 true);

        const QJsonArray findings = j.value(QStringLiteral("findings")).toArray();
        QVERIFY(!findings.isEmpty());
        QStringList codes;
        for (const QJsonValue &f : findings) {
            const QJsonObject o = f.toObject();
            QVERIFY(o.value(QStringLiteral("objects")).isArray());
            codes.append(o.value(QStringLiteral("code")).toString());
        }
        QVERIFY(codes.contains(QStringLiteral("etcd-no-quorum")));
        QVERIFY(codes.contains(QStringLiteral("pgpool-stale-role")));
        QVERIFY(codes.contains(QStringLiteral("host-unreachable")));
        for (const char *key : {"swarm", "proxy", "app", "certificates"})
            QVERIFY2(j.contains(QLatin1String(key)), key);
    }

    void table()
    {
        const QString text = StatusTable::render(sample(), Now);
        QVERIFY2(text.contains(QStringLiteral("UNREACHABLE (stale, 7 s old)")), qPrintable(text));
        QVERIFY(text.contains(QStringLiteral("2.0 KiB / -")));
        QVERIFY(text.contains(QStringLiteral("<- DISAGREES")));
        QVERIFY(text.contains(QStringLiteral("etcd: 1/3 healthy, quorum LOST")));
        QVERIFY(text.contains(QStringLiteral("CRITICAL  etcd-no-quorum")));
        // Columns line up: every row of the PostgreSQL table starts its ROLE column at the same
        // offset.
        const QStringList lines = text.split(u'\n');
        const qsizetype header =
            lines.indexOf(QRegularExpression(QStringLiteral("^  NODE +HOST +ROLE.*")));
        QVERIFY(header >= 0);
        const qsizetype roleColumn = lines.at(header).indexOf(QStringLiteral("ROLE"));
        QCOMPARE(lines.at(header + 1).indexOf(QStringLiteral("primary")), roleColumn);
        QCOMPARE(lines.at(header + 2).indexOf(QStringLiteral("standby")), roleColumn);
    }
};

QTEST_GUILESS_MAIN(TestStatusOutput)
#include "tst_statusoutput.moc"
