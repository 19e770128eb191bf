// The local lab is the cluster the foundation issue asks for. Everything is
// asked of the real programs: Swarm through each host's own engine over SSH,
// PostgreSQL and pgpool through libpq as the monitoring role, etcd through
// its v3 JSON gateway, the app through HAProxy over HTTPS.

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSet>
#include <QTest>

#include "labaccess.h"
#include <libpq-fe.h>
#include <memory>

namespace {

struct PgDeleter
{
    void operator()(PGconn *c) const { PQfinish(c); }
};
using Conn = std::unique_ptr<PGconn, PgDeleter>;

// Rows of a query as text; fails the test on error.
QList<QStringList> query(PGconn *conn, const char *sql)
{
    PGresult *res = PQexec(conn, sql);
    const auto status = PQresultStatus(res);
    QList<QStringList> rows;
    if (status != PGRES_TUPLES_OK) {
        qWarning("query failed: %s: %s", sql, PQresultErrorMessage(res));
        PQclear(res);
        return rows;
    }
    for (int r = 0; r < PQntuples(res); ++r) {
        QStringList row;
        for (int c = 0; c < PQnfields(res); ++c)
            row.append(QString::fromUtf8(PQgetvalue(res, r, c)));
        rows.append(row);
    }
    PQclear(res);
    return rows;
}

} // namespace

class TestLabCluster final : public QObject
{
    Q_OBJECT

private:
    LabAccess m_lab;

    Conn connect(const QString &address, int port, QString database = {}) const
    {
        const auto &s = m_lab.inventory().settings;
        if (database.isEmpty())
            database = s.database;
        const QByteArray conninfo =
            QStringLiteral("host=%1 port=%2 dbname=%3 user=%4 password=%5 "
                           "connect_timeout=5 application_name=pilothouse-test")
                .arg(address)
                .arg(port)
                .arg(database, s.monitorUser, m_lab.secret(QStringLiteral("pg_monitor_password")))
                .toUtf8();
        return Conn(PQconnectdb(conninfo.constData()));
    }

    QString addressOf(const QString &host) const
    {
        const auto *h = m_lab.inventory().host(host);
        return h ? h->address : QString();
    }

    // pg-N -> "t"/"f" for pg_is_in_recovery(), asked of each node directly.
    QMap<QString, QString> recoveryByNode() const
    {
        QMap<QString, QString> out;
        const auto &nodes = m_lab.inventory().settings.postgresNodes;
        for (auto it = nodes.cbegin(); it != nodes.cend(); ++it) {
            Conn c = connect(addressOf(it.value()), m_lab.inventory().settings.postgresPort);
            if (PQstatus(c.get()) != CONNECTION_OK) {
                qWarning("%s: %s", qPrintable(it.key()), PQerrorMessage(c.get()));
                continue;
            }
            const auto rows = query(c.get(), "select pg_is_in_recovery()");
            if (!rows.isEmpty())
                out.insert(it.key(), rows.first().first());
        }
        return out;
    }

    QString primaryNode() const
    {
        const auto roles = recoveryByNode();
        return roles.key(QStringLiteral("f"));
    }

private Q_SLOTS:
    void initTestCase() { QVERIFY2(m_lab.open(), qPrintable(m_lab.error())); }

    void eachHostIsItselfWithItsOwnEngine()
    {
        for (const auto &h : m_lab.inventory().hosts) {
            const auto r = m_lab.ssh(
                h.name,
                QStringLiteral(
                    "hostname; docker info --format '{{.Name}} {{.Swarm.LocalNodeState}}'"));
            QVERIFY2(r.ok(), r.err.constData());
            const QList<QByteArray> lines = r.out.trimmed().split('\n');
            QCOMPARE(lines.size(), 2);
            QCOMPARE(QString::fromUtf8(lines.at(0)), h.name);
            QCOMPARE(QString::fromUtf8(lines.at(1)), h.name + QStringLiteral(" active"));
        }
    }

    void threeManagersReady()
    {
        for (const auto &h : m_lab.inventory().hosts) {
            const auto r = m_lab.ssh(
                h.name, QStringLiteral("docker node ls --format '{{.Hostname}} {{.Status}} "
                                       "{{.Availability}} {{.ManagerStatus}}'"));
            QVERIFY2(r.ok(), r.err.constData());
            const QList<QByteArray> lines = r.out.trimmed().split('\n');
            QCOMPARE(lines.size(), 3);
            int leaders = 0;
            QSet<QString> names;
            for (const QByteArray &line : lines) {
                const QStringList f = QString::fromUtf8(line).split(u' ');
                QCOMPARE(f.size(), 4);
                names.insert(f.at(0));
                QCOMPARE(f.at(1), QStringLiteral("Ready"));
                QCOMPARE(f.at(2), QStringLiteral("Active"));
                QVERIFY2(f.at(3) == u"Leader" || f.at(3) == u"Reachable", line.constData());
                leaders += f.at(3) == u"Leader";
            }
            QCOMPARE(leaders, 1);
            QCOMPARE(names, QSet<QString>({QStringLiteral("swarm-01"), QStringLiteral("swarm-02"),
                                           QStringLiteral("swarm-03")}));
        }
        const auto labels = m_lab.ssh(
            QStringLiteral("swarm-01"),
            QStringLiteral(
                "for n in $(docker node ls -q); do docker node inspect -f "
                "'{{.Description.Hostname}}={{index .Spec.Labels \"pilothouse.node\"}}' $n; done"));
        QVERIFY2(labels.ok(), labels.err.constData());
        for (const QByteArray &line : labels.out.trimmed().split('\n')) {
            const QList<QByteArray> kv = line.split('=');
            QCOMPARE(kv.value(0), kv.value(1));
        }
    }

    void onePrimaryTwoStreamingStandbysOnThreeHosts()
    {
        const auto &s = m_lab.inventory().settings;
        QCOMPARE(s.postgresNodes.size(), 3);
        // Each pg-N runs on the host it is pinned to.
        for (auto it = s.postgresNodes.cbegin(); it != s.postgresNodes.cend(); ++it)
            QCOMPARE(m_lab.nodesOf(it.key()), QStringList{it.value()});

        const auto roles = recoveryByNode();
        QCOMPARE(roles.size(), 3);
        QCOMPARE(roles.values().count(QStringLiteral("f")), 1);
        QCOMPARE(roles.values().count(QStringLiteral("t")), 2);

        const QString primary = roles.key(QStringLiteral("f"));
        Conn c = connect(addressOf(s.postgresNodes.value(primary)), s.postgresPort);
        QCOMPARE(PQstatus(c.get()), CONNECTION_OK);
        const auto rows = query(c.get(), "select application_name, state from pg_stat_replication "
                                         "order by application_name");
        QCOMPARE(rows.size(), 2);
        for (const QStringList &row : rows) {
            QVERIFY2(row.at(0) != primary, qPrintable(row.join(u' ')));
            QCOMPARE(row.at(1), QStringLiteral("streaming"));
        }
        // repmgr agrees: one active primary, two standbys following it.
        Conn r =
            connect(addressOf(s.postgresNodes.value(primary)), s.postgresPort, s.repmgrDatabase);
        QCOMPARE(PQstatus(r.get()), CONNECTION_OK);
        const auto nodes =
            query(r.get(), "select node_name, type, active from repmgr.nodes order by node_name");
        QCOMPARE(nodes.size(), 3);
        for (const QStringList &n : nodes) {
            QCOMPARE(n.at(1),
                     n.at(0) == primary ? QStringLiteral("primary") : QStringLiteral("standby"));
            QCOMPARE(n.at(2), QStringLiteral("t"));
        }
    }

    void everyPgpoolSeesThreeBackendsAndTheSamePrimary()
    {
        const auto &s = m_lab.inventory().settings;
        const QStringList hosts = m_lab.nodesOf(s.pgpoolService);
        QCOMPARE(hosts.size(), 2);
        QCOMPARE(QSet<QString>(hosts.cbegin(), hosts.cend()).size(), 2);
        const QString primary = primaryNode();
        QVERIFY(!primary.isEmpty());
        for (const QString &host : hosts) {
            Conn c = connect(addressOf(host), s.pgpoolPort);
            QVERIFY2(PQstatus(c.get()) == CONNECTION_OK, PQerrorMessage(c.get()));
            PGresult *res = PQexec(c.get(), "SHOW POOL_NODES");
            QCOMPARE(PQresultStatus(res), PGRES_TUPLES_OK);
            const int hostCol = PQfnumber(res, "hostname");
            const int statusCol = PQfnumber(res, "status");
            const int roleCol = PQfnumber(res, "role");
            const int pgRoleCol = PQfnumber(res, "pg_role");
            QVERIFY(hostCol >= 0 && statusCol >= 0 && roleCol >= 0 && pgRoleCol >= 0);
            QCOMPARE(PQntuples(res), 3);
            int primaries = 0;
            for (int r = 0; r < PQntuples(res); ++r) {
                const QString backend = QString::fromUtf8(PQgetvalue(res, r, hostCol));
                const QString status = QString::fromUtf8(PQgetvalue(res, r, statusCol));
                const QString role = QString::fromUtf8(PQgetvalue(res, r, roleCol));
                QVERIFY2(status == u"up" || status == u"waiting",
                         qPrintable(host + u' ' + backend + u' ' + status));
                QCOMPARE(role, QString::fromUtf8(PQgetvalue(res, r, pgRoleCol)));
                if (role == u"primary") {
                    ++primaries;
                    QVERIFY2(backend.startsWith(primary),
                             qPrintable(host + QStringLiteral(": pgpool's primary ") + backend +
                                        QStringLiteral(", databases say ") + primary));
                }
            }
            QCOMPARE(primaries, 1);
            PQclear(res);
        }
    }

    void etcdMembersAgreeOnOneLeader()
    {
        const auto &s = m_lab.inventory().settings;
        QSet<QString> leaders;
        QSet<QString> memberIds;
        for (auto it = s.etcdMembers.cbegin(); it != s.etcdMembers.cend(); ++it) {
            const auto r =
                m_lab.ssh(it.value(), QStringLiteral("curl -sS --max-time 5 -X POST -d '{}' "
                                                     "http://127.0.0.1:%1/v3/maintenance/status")
                                          .arg(s.etcdClientPort));
            QVERIFY2(r.ok(), qPrintable(it.key() + u' ' + QString::fromUtf8(r.err)));
            const QJsonObject status = QJsonDocument::fromJson(r.out).object();
            const QString leader = status.value(QStringLiteral("leader")).toString();
            QVERIFY2(!leader.isEmpty() && leader != u"0", r.out.constData());
            leaders.insert(leader);
            memberIds.insert(status.value(QStringLiteral("header"))
                                 .toObject()
                                 .value(QStringLiteral("member_id"))
                                 .toString());
        }
        QCOMPARE(leaders.size(), 1);
        QCOMPARE(memberIds.size(), 3);
        QVERIFY(memberIds.contains(*leaders.cbegin()));

        const auto members = m_lab.ssh(
            QStringLiteral("swarm-01"),
            QStringLiteral(
                "curl -sS --max-time 5 -X POST -d '{}' http://127.0.0.1:%1/v3/cluster/member/list")
                .arg(s.etcdClientPort));
        QVERIFY(members.ok());
        QCOMPARE(QJsonDocument::fromJson(members.out)
                     .object()
                     .value(QStringLiteral("members"))
                     .toArray()
                     .size(),
                 3);
    }

    void httpsThroughTheProxyReachesTheAppAndWritesLandOnThePrimary()
    {
        const auto &s = m_lab.inventory().settings;
        const QString host = QStringLiteral("swarm-01");
        const QString resolve = QStringLiteral("%1:443:%2").arg(s.domain, addressOf(host));
        const QString base = QStringLiteral("https://") + s.domain;

        // Plain HTTP is redirected to HTTPS.
        auto r = LabAccess::local(
            QStringLiteral("curl"),
            {QStringLiteral("-sS"), QStringLiteral("--max-time"), QStringLiteral("10"),
             QStringLiteral("-o"), QStringLiteral("/dev/null"), QStringLiteral("-w"),
             QStringLiteral("%{http_code} %{redirect_url}"), QStringLiteral("--resolve"),
             QStringLiteral("%1:80:%2").arg(s.domain, addressOf(host)),
             QStringLiteral("http://") + s.domain + QStringLiteral("/healthz")});
        QVERIFY2(r.ok(), r.err.constData());
        QVERIFY2(r.out.startsWith("30") && r.out.contains("https://"), r.out.constData());

        // The lab's certificate is self-signed: trust exactly it, not "-k".
        r = LabAccess::local(
            QStringLiteral("curl"),
            {QStringLiteral("-sS"), QStringLiteral("--max-time"), QStringLiteral("10"),
             QStringLiteral("--cacert"), s.secretsDir + QStringLiteral("/proxy_tls_cert.pem"),
             QStringLiteral("--resolve"), resolve, base + QStringLiteral("/healthz")});
        QVERIFY2(r.ok(), qPrintable(QString::fromUtf8(r.err)));

        r = LabAccess::local(
            QStringLiteral("curl"),
            {QStringLiteral("-sS"), QStringLiteral("--max-time"), QStringLiteral("10"),
             QStringLiteral("--fail"), QStringLiteral("--cacert"),
             s.secretsDir + QStringLiteral("/proxy_tls_cert.pem"), QStringLiteral("-X"),
             QStringLiteral("POST"), QStringLiteral("--resolve"), resolve,
             base + QStringLiteral("/api/write")});
        QVERIFY2(r.ok(), qPrintable(QString::fromUtf8(r.out + r.err)));
        const QJsonObject written = QJsonDocument::fromJson(r.out).object();
        const qint64 id = written.value(QStringLiteral("id")).toVariant().toLongLong();
        QVERIFY2(id > 0, r.out.constData());
        QCOMPARE(written.value(QStringLiteral("in_recovery")).toBool(true), false);

        // Ask the primary itself: the row is there.
        const QString primary = primaryNode();
        Conn c = connect(addressOf(s.postgresNodes.value(primary)), s.postgresPort);
        QCOMPARE(PQstatus(c.get()), CONNECTION_OK);
        const QByteArray sql =
            "select count(*) from heartbeat where id = " + QByteArray::number(id);
        const auto rows = query(c.get(), sql.constData());
        QCOMPARE(rows.value(0).value(0), QStringLiteral("1"));
    }
};

QTEST_GUILESS_MAIN(TestLabCluster)
#include "tst_lab_cluster.moc"
