// `pilothouse status --json` agrees with what each program says for itself:
// docker node ls and docker service ps (each host's engine, over SSH),
// repmgr cluster show (inside the pg container), etcdctl endpoint status
// (inside an etcd container), SHOW POOL_NODES on each pgpool.

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QSet>
#include <QTest>

#include "tests/integration/labaccess.h"
#include <libpq-fe.h>

class TestStatusCli final : public QObject
{
    Q_OBJECT

private:
    LabAccess m_lab;
    QJsonObject m_status;
    int m_exitCode = -1;

    static QJsonObject findByName(const QJsonArray &array, const char *key, const QString &name)
    {
        for (const QJsonValue &v : array) {
            if (v.toObject().value(QLatin1String(key)).toString() == name)
                return v.toObject();
        }
        return {};
    }

    QString dockerOn(const QString &host, const QString &command)
    {
        const auto r = m_lab.ssh(host, command);
        if (!r.ok())
            qWarning("%s: %s: %s", qPrintable(host), qPrintable(command), r.err.constData());
        return QString::fromUtf8(r.out).trimmed();
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY2(m_lab.open(), qPrintable(m_lab.error()));
        const auto run = LabAccess::local(QStringLiteral(PILOTHOUSE_BINARY),
                                          {QStringLiteral("status"), QStringLiteral("--json"),
                                           QStringLiteral("--inventory"), m_lab.inventory().path},
                                          60000);
        m_exitCode = run.exitCode;
        QJsonParseError error;
        m_status = QJsonDocument::fromJson(run.out, &error).object();
        QVERIFY2(error.error == QJsonParseError::NoError,
                 qPrintable(error.errorString() + QString::fromUtf8(run.err)));
    }

    void healthyLabExitsZeroWithoutFindings()
    {
        QVERIFY2(m_exitCode == 0,
                 QJsonDocument(m_status.value(QStringLiteral("findings")).toArray())
                     .toJson()
                     .constData());
        QCOMPARE(m_status.value(QStringLiteral("findings")).toArray().size(), 0);
        const QJsonArray hosts = m_status.value(QStringLiteral("hosts")).toArray();
        QCOMPARE(hosts.size(), 3);
        for (const QJsonValue &h : hosts)
            QVERIFY(h.toObject().value(QStringLiteral("reachable")).toBool());
    }

    void swarmNodesAsDockerNodeLsSaysThem()
    {
        const QJsonArray nodes = m_status.value(QStringLiteral("swarm"))
                                     .toObject()
                                     .value(QStringLiteral("nodes"))
                                     .toArray();
        const QString ls =
            dockerOn(QStringLiteral("swarm-02"),
                     QStringLiteral("docker node ls --format '{{.Hostname}} {{.Status}} "
                                    "{{.Availability}} {{.ManagerStatus}}'"));
        const QStringList lines = ls.split(u'\n');
        QCOMPARE(nodes.size(), lines.size());
        for (const QString &line : lines) {
            const QStringList f = line.split(u' ');
            const QJsonObject n = findByName(nodes, "hostname", f.at(0));
            QVERIFY2(!n.isEmpty(), qPrintable(line));
            QCOMPARE(n.value(QStringLiteral("state")).toString(), f.at(1).toLower());
            QCOMPARE(n.value(QStringLiteral("availability")).toString(), f.at(2).toLower());
            QCOMPARE(n.value(QStringLiteral("leader")).toBool(), f.value(3) == u"Leader");
            QCOMPARE(n.value(QStringLiteral("manager")).toBool(), !f.value(3).isEmpty());
        }
    }

    void tasksAsDockerServicePsSaysThem()
    {
        const QString stack = m_lab.inventory().settings.stack;
        const QJsonArray tasks = m_status.value(QStringLiteral("swarm"))
                                     .toObject()
                                     .value(QStringLiteral("tasks"))
                                     .toArray();
        for (const QString &service :
             {QStringLiteral("pg-1"), QStringLiteral("pg-2"), QStringLiteral("pg-3"),
              QStringLiteral("pgpool"), QStringLiteral("app")}) {
            const QString ps = dockerOn(
                QStringLiteral("swarm-03"),
                QStringLiteral(
                    "docker service ps -f desired-state=running --format '{{.Node}}' %1_%2")
                    .arg(stack, service));
            QStringList expected = ps.split(u'\n');
            QStringList actual;
            for (const QJsonValue &t : tasks) {
                if (t.toObject().value(QStringLiteral("service")).toString() == service)
                    actual.append(t.toObject().value(QStringLiteral("node")).toString());
            }
            expected.sort();
            actual.sort();
            QCOMPARE(actual, expected);
        }
    }

    void postgresRolesAsRepmgrSaysThem()
    {
        const QJsonArray nodes = m_status.value(QStringLiteral("postgres"))
                                     .toObject()
                                     .value(QStringLiteral("nodes"))
                                     .toArray();
        QCOMPARE(nodes.size(), 3);
        // repmgr's own table, from inside pg-2's container (any node's copy will do).
        const QString show = dockerOn(
            QStringLiteral("swarm-02"),
            QStringLiteral("docker exec -u postgres $(docker ps -q -f "
                           "label=com.docker.swarm.service.name=%1_pg-2) repmgr cluster show")
                .arg(m_lab.inventory().settings.stack));
        int rows = 0;
        for (const QString &line : show.split(u'\n')) {
            const QStringList f = line.split(u'|');
            if (f.size() < 8 || f.at(0).trimmed() == u"ID" || !f.at(0).trimmed().front().isDigit())
                continue;
            ++rows;
            const QString name = f.at(1).trimmed();
            const QString role = f.at(2).trimmed();
            const QString upstream = f.at(4).trimmed();
            const QJsonObject n = findByName(nodes, "name", name);
            QVERIFY2(!n.isEmpty(), qPrintable(name));
            QCOMPARE(n.value(QStringLiteral("role")).toString(), role);
            // repmgr shows the timeline of the last checkpoint, which lags one behind
            // after a promotion until the next checkpoint; Pilothouse reads the
            // current one (the WAL being written or received).
            const int ours = n.value(QStringLiteral("timeline")).toInt();
            const int repmgrs = f.at(7).trimmed().toInt();
            QVERIFY2(ours == repmgrs || ours == repmgrs + 1,
                     qPrintable(QStringLiteral("%1: timeline %2, repmgr says %3").arg(name).arg(ours).arg(repmgrs)));
            if (role == u"standby")
                QCOMPARE(n.value(QStringLiteral("upstream")).toString(), upstream);
        }
        QCOMPARE(rows, 3);
    }

    void etcdAsEtcdctlSaysIt()
    {
        const QJsonObject etcd = m_status.value(QStringLiteral("etcd")).toObject();
        QCOMPARE(etcd.value(QStringLiteral("quorum")).toBool(), true);
        const QString out = dockerOn(
            QStringLiteral("swarm-01"),
            QStringLiteral(
                "docker exec $(docker ps -q -f label=com.docker.swarm.service.name=%1_etcd1) "
                "etcdctl --endpoints=http://127.0.0.1:2379 endpoint status --cluster -w json")
                .arg(m_lab.inventory().settings.stack));
        const QJsonArray status = QJsonDocument::fromJson(out.toUtf8()).array();
        QCOMPARE(status.size(), 3);
        // etcdctl prints ids as JSON numbers beyond double precision: read them from the text.
        const QRegularExpression leaderRe(QStringLiteral("\"leader\":(\\d+)"));
        const QString leaderId = leaderRe.match(out).captured(1);
        QVERIFY(!leaderId.isEmpty());
        const QJsonArray members = etcd.value(QStringLiteral("members")).toArray();
        int leaders = 0;
        for (const QJsonValue &m : members) {
            const QJsonObject o = m.toObject();
            if (o.value(QStringLiteral("leader")).toBool()) {
                ++leaders;
                QCOMPARE(o.value(QStringLiteral("id")).toString(), leaderId);
            }
            QCOMPARE(o.value(QStringLiteral("leader_id")).toString(), leaderId);
            QVERIFY(out.contains(QStringLiteral("\"member_id\":") +
                                 o.value(QStringLiteral("id")).toString()));
        }
        QCOMPARE(leaders, 1);
    }

    void proxyRoutesAndAppReplicasAsHaproxySaysThem()
    {
        const auto &s = m_lab.inventory().settings;
        const QJsonArray routes = m_status.value(QStringLiteral("proxy"))
                                      .toObject()
                                      .value(QStringLiteral("routes"))
                                      .toArray();
        const QString proxyHosts = dockerOn(
            QStringLiteral("swarm-01"),
            QStringLiteral("docker service ps -f desired-state=running --format '{{.Node}}' %1_%2")
                .arg(s.stack, s.proxy));
        QCOMPARE(routes.size(), proxyHosts.split(u'\n').size());
        for (const QJsonValue &v : routes) {
            const QJsonObject route = v.toObject();
            QCOMPARE(route.value(QStringLiteral("host")).toString(), s.domain);
            QCOMPARE(route.value(QStringLiteral("status_code")).toInt(), 200);
            // HAProxy's own stats page on that instance, read here with curl.
            const auto *host =
                m_lab.inventory().host(route.value(QStringLiteral("via")).toString());
            QVERIFY(host);
            const auto csv = LabAccess::local(
                QStringLiteral("curl"),
                {QStringLiteral("-sS"), QStringLiteral("--max-time"), QStringLiteral("5"),
                 QStringLiteral("http://%1:8404/stats;csv").arg(host->address)});
            QVERIFY(csv.ok());
            int up = 0;
            for (const QByteArray &line : csv.out.split('\n')) {
                const QList<QByteArray> f = line.split(',');
                if (f.size() > 17 && f.at(0) == s.appService.toUtf8() && f.at(1) != "BACKEND" &&
                    f.at(17) == "UP")
                    ++up;
            }
            int reportedUp = 0;
            for (const QJsonValue &b : route.value(QStringLiteral("backends")).toArray())
                reportedUp += b.toObject().value(QStringLiteral("up")).toBool();
            QCOMPARE(reportedUp, up);
        }
        const QJsonArray replicas = m_status.value(QStringLiteral("app"))
                                        .toObject()
                                        .value(QStringLiteral("replicas"))
                                        .toArray();
        QCOMPARE(replicas.size(), s.appReplicas);
        for (const QJsonValue &r : replicas)
            QVERIFY(r.toObject().value(QStringLiteral("healthy")).toBool());
        const QJsonArray certs = m_status.value(QStringLiteral("certificates")).toArray();
        QVERIFY(!certs.isEmpty());
        QVERIFY(certs.at(0).toObject().value(QStringLiteral("days_left")).toInt() > 0);
        QVERIFY(certs.at(0)
                    .toObject()
                    .value(QStringLiteral("sans"))
                    .toArray()
                    .contains(QJsonValue(QStringLiteral("DNS:") + s.domain)));
    }

    void pgpoolsAsShowPoolNodesSaysThem()
    {
        const auto &s = m_lab.inventory().settings;
        const QJsonArray pools = m_status.value(QStringLiteral("pgpool")).toArray();
        QCOMPARE(pools.size(), 2);
        for (const QJsonValue &p : pools) {
            const QJsonObject pool = p.toObject();
            const auto *host =
                m_lab.inventory().host(pool.value(QStringLiteral("host")).toString());
            QVERIFY(host);
            const QByteArray conninfo =
                QStringLiteral("host=%1 port=%2 dbname=%3 user=%4 password=%5 connect_timeout=5")
                    .arg(host->address)
                    .arg(s.pgpoolPort)
                    .arg(s.database, s.monitorUser,
                         m_lab.secret(QStringLiteral("pg_monitor_password")))
                    .toUtf8();
            PGconn *c = PQconnectdb(conninfo.constData());
            QVERIFY2(PQstatus(c) == CONNECTION_OK, PQerrorMessage(c));
            PGresult *r = PQexec(c, "SHOW POOL_NODES");
            QCOMPARE(PQresultStatus(r), PGRES_TUPLES_OK);
            const QJsonArray backends = pool.value(QStringLiteral("backends")).toArray();
            QCOMPARE(backends.size(), PQntuples(r));
            for (int row = 0; row < PQntuples(r); ++row) {
                const QString name =
                    QString::fromUtf8(PQgetvalue(r, row, PQfnumber(r, "hostname")));
                const QJsonObject b = findByName(backends, "node", name);
                QVERIFY2(!b.isEmpty(), qPrintable(name));
                QCOMPARE(b.value(QStringLiteral("status")).toString(),
                         QString::fromUtf8(PQgetvalue(r, row, PQfnumber(r, "status"))));
                QCOMPARE(b.value(QStringLiteral("role")).toString(),
                         QString::fromUtf8(PQgetvalue(r, row, PQfnumber(r, "role"))));
                QCOMPARE(b.value(QStringLiteral("pg_role")).toString(),
                         QString::fromUtf8(PQgetvalue(r, row, PQfnumber(r, "pg_role"))));
            }
            PQclear(r);
            PQfinish(c);
        }
    }
};

QTEST_GUILESS_MAIN(TestStatusCli)
#include "tst_status_cli.moc"
