// PgpoolRepair::disagreements: each pgpool instance against what the servers
// say of themselves. Snapshots are built by hand in the shapes the lab
// showed (session 11: a pgpool with a streaming standby detached; session 9:
// one naming the old primary after a switchover).

#include "app/operations/pgpoolrepair.h"

#include <QTest>

using namespace Pilothouse;

namespace {

PostgresNodeState server(const QString &name, const QString &role, const QString &upstream = {})
{
    PostgresNodeState n;
    n.name = name;
    n.reachable = true;
    n.role = role;
    if (role == u"standby") {
        n.walReceiverStatus = QStringLiteral("streaming");
        n.upstream = upstream;
    }
    return n;
}

PgpoolBackend backend(int id, const QString &name, const QString &status, const QString &role)
{
    PgpoolBackend b;
    b.nodeId = id;
    b.hostname = name;
    b.status = status;
    b.role = role;
    return b;
}

PgpoolInstanceState pgpool(const QString &host, const QList<PgpoolBackend> &backends)
{
    PgpoolInstanceState p;
    p.host = host;
    p.reachable = true;
    p.backends = backends;
    return p;
}

ClusterSnapshot healthy()
{
    ClusterSnapshot s;
    s.postgres = {
        server(QStringLiteral("pg-1"), QStringLiteral("primary")),
        server(QStringLiteral("pg-2"), QStringLiteral("standby"), QStringLiteral("pg-1")),
        server(QStringLiteral("pg-3"), QStringLiteral("standby"), QStringLiteral("pg-1"))};
    const QList<PgpoolBackend> agree{
        backend(0, QStringLiteral("pg-1"), QStringLiteral("up"), QStringLiteral("primary")),
        backend(1, QStringLiteral("pg-2"), QStringLiteral("up"), QStringLiteral("standby")),
        backend(2, QStringLiteral("pg-3"), QStringLiteral("waiting"), QStringLiteral("standby"))};
    s.pgpools = {pgpool(QStringLiteral("swarm-02"), agree),
                 pgpool(QStringLiteral("swarm-03"), agree)};
    return s;
}

} // namespace

class TestPgpoolRepair final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void agreeingInstancesHaveNoProblems()
    {
        QString primary;
        const auto found =
            PgpoolRepair::disagreements(healthy(), QStringLiteral("pgpool"), &primary);
        QCOMPARE(primary, QStringLiteral("pg-1"));
        QCOMPARE(found.size(), 2);
        QCOMPARE(found.at(0).pgpool, QStringLiteral("pgpool@swarm-02"));
        for (const PgpoolDisagreement &d : found) {
            QVERIFY2(d.problems.isEmpty(), qPrintable(d.problems.join(QStringLiteral("; "))));
            QVERIFY(d.attach.isEmpty());
            QCOMPARE(d.promote, -1);
        }
    }

    void aDetachedStreamingStandbyIsToBeAttached()
    {
        ClusterSnapshot s = healthy();
        s.pgpools[1].backends[1].status = QStringLiteral("down");
        const auto found = PgpoolRepair::disagreements(s, QStringLiteral("pgpool"), nullptr);
        QVERIFY(found.at(0).problems.isEmpty());
        QCOMPARE(found.at(1).attach, QList<int>{1});
        QCOMPARE(found.at(1).problems,
                 QStringList{QStringLiteral("pg-2 is down here but is a serving standby")});
    }

    void aDownServerIsLeftDetached()
    {
        ClusterSnapshot s = healthy();
        s.postgres[2].reachable = false;
        s.pgpools[0].backends[2].status = QStringLiteral("down");
        const auto found = PgpoolRepair::disagreements(s, QStringLiteral("pgpool"), nullptr);
        QVERIFY2(found.at(0).problems.isEmpty(),
                 qPrintable(found.at(0).problems.join(QStringLiteral("; "))));
        QVERIFY(found.at(0).attach.isEmpty());
    }

    void aStalePrimaryIsNamedAndTheRealOnePromoted()
    {
        ClusterSnapshot s = healthy();
        s.pgpools[0].backends[0].role = QStringLiteral("standby");
        s.pgpools[0].backends[1].role = QStringLiteral("primary");
        const auto found = PgpoolRepair::disagreements(s, QStringLiteral("pgpool"), nullptr);
        QCOMPARE(found.at(0).promote, 0);
        QCOMPARE(found.at(0).problems,
                 (QStringList{QStringLiteral("names pg-1 standby, but it is the primary"),
                              QStringLiteral("sends writes to pg-2, but the primary is pg-1")}));
    }

    void anInstanceThatDoesNotAnswerSaysWhy()
    {
        ClusterSnapshot s = healthy();
        s.pgpools[1].reachable = false;
        s.pgpools[1].freshness.error = QStringLiteral("FATAL:  Sorry, too many clients already");
        const auto found = PgpoolRepair::disagreements(s, QStringLiteral("pgpool"), nullptr);
        QCOMPARE(found.at(1).problems,
                 QStringList{
                     QStringLiteral("does not answer: FATAL:  Sorry, too many clients already")});
    }

    void twoPrimariesLeaveNoPrimaryToFollow()
    {
        ClusterSnapshot s = healthy();
        s.postgres[1] = server(QStringLiteral("pg-2"), QStringLiteral("primary"));
        QString primary = QStringLiteral("unset");
        PgpoolRepair::disagreements(s, QStringLiteral("pgpool"), &primary);
        QVERIFY(primary.isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestPgpoolRepair)
#include "tst_pgpoolrepair.moc"
