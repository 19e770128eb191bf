// DockerReaders against answers captured from the lab's Docker 20.10 engines
// (tests/fixtures/docker/README.md says how each was captured).

#include "app/connectors/docker/dockerreaders.h"

#include <QFile>
#include <QSet>
#include <QTest>

#include "tests/testsupport.h"

using namespace Pilothouse;
using namespace Qt::StringLiterals;

class TestDockerReaders final : public QObject
{
    Q_OBJECT

private:
    static QByteArray fixture(const char *name) { return TestSupport::fixture("docker", name); }
    static QJsonDocument json(const char *name) { return QJsonDocument::fromJson(fixture(name)); }
    static QList<SwarmNodeState> nodes()
    {
        return DockerReaders::readNodes(json("nodes.json")).value();
    }
    static QList<ServiceState> services()
    {
        return DockerReaders::readServices(json("services.json")).value();
    }

private Q_SLOTS:
    void apiVersionNegotiation()
    {
        QCOMPARE(DockerReaders::apiMinor(QStringLiteral("1.41")), 41);
        QCOMPARE(DockerReaders::apiMinor(QStringLiteral("2.0")), -1);
        QCOMPARE(DockerReaders::apiMinor(QString()), -1);
        // Docker 20.10 speaks 1.41: we use that, not our newer maximum.
        QCOMPARE(DockerReaders::negotiateApiVersion(QStringLiteral("1.41"), 43, 30).value(),
                 QStringLiteral("1.41"));
        // A newer engine: ours.
        QCOMPARE(DockerReaders::negotiateApiVersion(QStringLiteral("1.47"), 43, 30).value(),
                 QStringLiteral("1.43"));
        const auto old = DockerReaders::negotiateApiVersion(QStringLiteral("1.24"), 43, 30);
        QVERIFY(!old);
        QVERIFY2(old.error().message.contains(QStringLiteral("1.24")) &&
                     old.error().message.contains(QStringLiteral("1.30")),
                 qPrintable(old.error().message));
        QVERIFY(!DockerReaders::negotiateApiVersion(QStringLiteral("banana"), 43, 30));
    }

    void versionDocument()
    {
        const auto v = DockerReaders::readVersionApi(json("version.json"));
        QVERIFY(v);
        QCOMPARE(v.value(), QStringLiteral("1.41"));
        QVERIFY(!DockerReaders::readVersionApi(QJsonDocument::fromJson("{}")));
        // The engine's own ping header agrees.
        QVERIFY(fixture("ping.headers").contains("Api-Version: 1.41"));
    }

    void filtersEncoding()
    {
        const DockerFilters f{{QStringLiteral("service"), {QStringLiteral("pilothouse_pg-1")}},
                              {QStringLiteral("desired-state"), {QStringLiteral("running")}}};
        QCOMPARE(DockerReaders::encodeFilters(f),
                 QByteArray(R"({"desired-state":["running"],"service":["pilothouse_pg-1"]})"));
        QCOMPARE(DockerReaders::encodeFilters({}), QByteArray("{}"));
    }

    void stackPrefix()
    {
        const QString ns = QStringLiteral("pilothouse");
        QCOMPARE(DockerReaders::stripStackPrefix(QStringLiteral("pilothouse_pg-1"), ns),
                 QStringLiteral("pg-1"));
        QCOMPARE(DockerReaders::stripStackPrefix(QStringLiteral("other_pg-1"), ns),
                 QStringLiteral("other_pg-1"));
        QCOMPARE(DockerReaders::stripStackPrefix(QStringLiteral("pilothouse_pg-1"), QString()),
                 QStringLiteral("pilothouse_pg-1"));
        // Only the namespace plus its underscore is a prefix.
        QCOMPARE(DockerReaders::stripStackPrefix(QStringLiteral("pilothouse-x"), ns),
                 QStringLiteral("pilothouse-x"));
    }

    void timestamps()
    {
        const QDateTime t =
            DockerReaders::readTimestamp(QStringLiteral("2026-11-26T06:48:36.361369889Z"));
        QVERIFY(t.isValid());
        QCOMPARE(t.timeSpec(), Qt::UTC);
        QCOMPARE(t, QDateTime(QDate(2026, 11, 26), QTime(6, 48, 36, 361), Qt::UTC));
        QCOMPARE(DockerReaders::readTimestamp(QStringLiteral("2026-11-26T07:48:36.5+01:00")),
                 QDateTime(QDate(2026, 11, 26), QTime(6, 48, 36, 500), Qt::UTC));
        QCOMPARE(DockerReaders::readTimestamp(QStringLiteral("2026-11-26T06:48:36Z")),
                 QDateTime(QDate(2026, 11, 26), QTime(6, 48, 36), Qt::UTC));
        // Go's zero time means "never".
        QVERIFY(!DockerReaders::readTimestamp(QStringLiteral("0001-01-01T00:00:00Z")).isValid());
        QVERIFY(!DockerReaders::readTimestamp(QStringLiteral("yesterday")).isValid());
    }

    void swarmNodes()
    {
        const auto r = DockerReaders::readNodes(json("nodes.json"));
        QVERIFY2(r, qPrintable(r ? QString() : r.error().message));
        const QList<SwarmNodeState> &n = r.value();
        QCOMPARE(n.size(), 3);
        int leaders = 0;
        for (int i = 0; i < 3; ++i) {
            const QString host = QStringLiteral("swarm-0%1").arg(i + 1);
            QCOMPARE(n.at(i).hostname, host); // sorted
            QCOMPARE(n.at(i).state, QStringLiteral("ready"));
            QCOMPARE(n.at(i).availability, QStringLiteral("active"));
            QVERIFY(n.at(i).manager);
            QCOMPARE(n.at(i).managerReachability, QStringLiteral("reachable"));
            QCOMPARE(n.at(i).address, QStringLiteral("10.213.0.1%1").arg(i + 1));
            QVERIFY2(n.at(i).labels.contains(QStringLiteral("pilothouse.node=") + host),
                     qPrintable(n.at(i).labels.join(u',')));
            QCOMPARE(n.at(i).id.size(), 25);
            leaders += n.at(i).leader ? 1 : 0;
        }
        QCOMPARE(leaders, 1);
        QVERIFY(n.at(0).leader); // swarm-01 led when captured
        QCOMPARE(n.at(0).id, QStringLiteral("la6t0hij21gmv97g6rx52fiqh"));
    }

    void nodeAddressFallsBackToRaftAddress()
    {
        // Managers sometimes report Status.Addr 0.0.0.0; their raft address is the truth.
        const auto r = DockerReaders::readNodes(QJsonDocument::fromJson(
            R"([{"ID":"x","Description":{"Hostname":"h"},"Spec":{"Role":"manager"},
                 "Status":{"State":"ready","Addr":"0.0.0.0"},
                 "ManagerStatus":{"Reachability":"reachable","Addr":"10.1.2.3:2377"}}])"));
        QVERIFY(r);
        QCOMPARE(r.value().at(0).address, QStringLiteral("10.1.2.3"));
        QVERIFY(!r.value().at(0).leader);
    }

    void badDocuments()
    {
        const auto notArray = DockerReaders::readNodes(
            QJsonDocument::fromJson(R"({"message":"This node is not a swarm manager."})"));
        QVERIFY(!notArray);
        QVERIFY(notArray.error().message.contains(QStringLiteral("GET /nodes")));
        QVERIFY(!DockerReaders::readServices(QJsonDocument()));
        QVERIFY(!DockerReaders::readTasks(QJsonDocument::fromJson("[{}]"), {}, {}));
    }

    void stackServices()
    {
        const auto r = DockerReaders::readServices(json("services.json"));
        QVERIFY2(r, qPrintable(r ? QString() : r.error().message));
        const QList<ServiceState> &s = r.value();
        QStringList names;
        for (const ServiceState &x : s)
            names.append(x.name);
        QCOMPARE(names, QStringList({u"app"_s, u"etcd1"_s, u"etcd2"_s, u"etcd3"_s, u"haproxy"_s,
                                     u"pg-1"_s, u"pg-2"_s, u"pg-3"_s, u"pgpool"_s}));
        const ServiceState &app = s.at(0);
        QCOMPARE(app.mode, QStringLiteral("replicated"));
        QCOMPARE(app.desiredReplicas, 6);
        QCOMPARE(app.runningTasks, 6);
        QCOMPARE(app.image, QStringLiteral("pilothouse/app:lab-bb81a93bd2645421"));
        const ServiceState &haproxy = s.at(4);
        QCOMPARE(haproxy.mode, QStringLiteral("global"));
        QCOMPARE(haproxy.desiredReplicas, 3); // one per manager, from ServiceStatus
        QCOMPARE(haproxy.runningTasks, 3);
        const ServiceState &pg1 = s.at(5);
        QCOMPARE(pg1.id, QStringLiteral("hmpbepx3fqnij3mot3c6f7c15"));
        QCOMPARE(pg1.stack, u"pilothouse"_s);
        QCOMPARE(pg1.versionIndex, quint64(69));
        QCOMPARE(pg1.desiredReplicas, 1);
        QCOMPARE(pg1.image, QStringLiteral("pilothouse/postgres-repmgr:lab-bb81a93bd2645421"));
        QCOMPARE(pg1.updateState, QString()); // never updated since deploy
        QCOMPARE(s.at(8).desiredReplicas, 2); // pgpool
    }

    void serviceAfterUpdate()
    {
        const auto r = DockerReaders::readServices(json("services-updated.json"));
        QVERIFY(r);
        QCOMPARE(r.value().size(), 1);
        const ServiceState &s = r.value().at(0);
        // Not deployed by a stack: no namespace label, nothing stripped.
        QCOMPARE(s.name, QStringLiteral("pilothouse-docker-fixture"));
        QCOMPARE(s.stack, QString());
        QCOMPARE(s.updateState, QStringLiteral("completed"));
        QCOMPARE(s.versionIndex, quint64(127));
        QVERIFY(s.image.startsWith(QStringLiteral("pilothouse/base:")));
    }

    void tasksOfOneService()
    {
        const auto r =
            DockerReaders::readTasks(json("tasks-pg-1-running.json"), services(), nodes());
        QVERIFY2(r, qPrintable(r ? QString() : r.error().message));
        QCOMPARE(r.value().size(), 1);
        const TaskState &t = r.value().at(0);
        QCOMPARE(t.service, QStringLiteral("pg-1"));
        QCOMPARE(t.slot, 1);
        QCOMPARE(t.hostname, QStringLiteral("swarm-01"));
        QCOMPARE(t.nodeId, QStringLiteral("la6t0hij21gmv97g6rx52fiqh"));
        QCOMPARE(t.desiredState, QStringLiteral("running"));
        QCOMPARE(t.currentState, QStringLiteral("running"));
        QCOMPARE(t.error, QString());
        QCOMPARE(
            t.containerId,
            QStringLiteral("8e833f66f61a53c718c0a4b8b5bd6eed4bd78ac584224ef8e8e181db00c08915"));
        QCOMPARE(t.since, QDateTime(QDate(2026, 11, 26), QTime(6, 48, 36, 361), Qt::UTC));
    }

    void allTasks()
    {
        const auto r = DockerReaders::readTasks(json("tasks.json"), services(), nodes());
        QVERIFY(r);
        const QList<TaskState> &tasks = r.value();
        QCOMPARE(tasks.size(), 18);
        const QSet<QString> serviceNames{u"app"_s,   u"etcd1"_s,   u"etcd2"_s,
                                         u"etcd3"_s, u"haproxy"_s, u"pg-1"_s,
                                         u"pg-2"_s,  u"pg-3"_s,    u"pgpool"_s};
        int running = 0;
        for (const TaskState &t : tasks) {
            QVERIFY2(serviceNames.contains(t.service), qPrintable(t.service));
            QVERIFY2(t.hostname.startsWith(QStringLiteral("swarm-0")), qPrintable(t.hostname));
            if (t.desiredState == QLatin1String("running") &&
                t.currentState == QLatin1String("running")) {
                ++running;
                // pg-N and etcdN are pinned to swarm-0N.
                if (t.service.startsWith(QStringLiteral("pg-")))
                    QCOMPARE(t.hostname, QStringLiteral("swarm-0") + t.service.right(1));
            }
            if (t.service == QLatin1String("haproxy"))
                QCOMPARE(t.slot, 0); // global: no slot
        }
        QCOMPARE(running, 17);
        // The one casualty: pg-1's killed container, kept as history after its replacement.
        const auto failed = std::find_if(tasks.cbegin(), tasks.cend(), [](const TaskState &t) {
            return t.currentState == QLatin1String("failed");
        });
        QVERIFY(failed != tasks.cend());
        QCOMPARE(failed->service, QStringLiteral("pg-1"));
        QCOMPARE(failed->desiredState, QStringLiteral("shutdown"));
        QCOMPARE(failed->error, QStringLiteral("task: non-zero exit (137)"));
        // Sorted by service, slot, newest first: the running pg-1 precedes the failed one.
        const qsizetype i = failed - tasks.cbegin();
        QCOMPARE(tasks.at(i - 1).service, QStringLiteral("pg-1"));
        QCOMPARE(tasks.at(i - 1).currentState, QStringLiteral("running"));
    }

    void unknownServiceAndNodeKeepTheirIds()
    {
        const auto r = DockerReaders::readTasks(json("tasks-pg-1-running.json"), {}, {});
        QVERIFY(r);
        QCOMPARE(r.value().at(0).service, QStringLiteral("hmpbepx3fqnij3mot3c6f7c15"));
        QCOMPARE(r.value().at(0).hostname, QStringLiteral("la6t0hij21gmv97g6rx52fiqh"));
    }

    void events()
    {
        const QList<QByteArray> lines = fixture("events.jsonl").split('\n');
        int parsed = 0;
        int execStarts = 0;
        qint64 previous = 0;
        QList<DockerEvent> all;
        for (const QByteArray &line : lines) {
            if (line.trimmed().isEmpty())
                continue;
            const auto e = DockerReaders::readEvent(line);
            QVERIFY2(e, qPrintable(e ? QString() : e.error().message));
            QVERIFY(
                QStringList({u"container"_s, u"service"_s, u"node"_s}).contains(e.value().type));
            QVERIFY(e.value().timeNano >= previous); // the engine sends them in order
            previous = e.value().timeNano;
            if (e.value().action.startsWith(QStringLiteral("exec_start")))
                ++execStarts;
            all.append(e.value());
            ++parsed;
        }
        QCOMPARE(parsed, 249);
        QCOMPARE(execStarts, 79); // the stack's health checks
        QCOMPARE(all.at(0).action,
                 u"exec_create: /usr/local/bin/ph-http-health http://127.0.0.1:8080/livez"_s);
        QCOMPARE(all.at(0).name(), u"pilothouse_app.4.tanlgpmjowbvbsqnwd5wueied"_s);
        // Exact to the nanosecond: resuming with since= depends on it.
        QCOMPARE(all.at(0).timeNano, Q_INT64_C(1795675681200339136));
        QCOMPARE(all.at(0).time.toMSecsSinceEpoch(), Q_INT64_C(1795675681200));

        // Line 31: Swarm replacing pg-1's killed container.
        const DockerEvent &create = all.at(30);
        QCOMPARE(create.type, u"container"_s);
        QCOMPARE(create.action, u"create"_s);
        QCOMPARE(create.scope, u"local"_s);
        QCOMPARE(create.actorId,
                 u"8e833f66f61a53c718c0a4b8b5bd6eed4bd78ac584224ef8e8e181db00c08915"_s);
        QCOMPARE(create.attributes.value(u"com.docker.swarm.service.name"_s), u"pilothouse_pg-1"_s);
        QCOMPARE(create.attributes.value(u"com.docker.stack.namespace"_s), u"pilothouse"_s);

        // Lines 38..: the capture's throwaway service, its rolling update reported as it went.
        const DockerEvent &service = all.at(37);
        QCOMPARE(service.type, u"service"_s);
        QCOMPARE(service.action, u"create"_s);
        QCOMPARE(service.scope, u"swarm"_s);
        QCOMPARE(service.actorId, u"r1812kou0clkrq10ksrk0fad6"_s);
        QCOMPARE(service.name(), u"pilothouse-docker-fixture"_s);
        const DockerEvent &completed = all.at(246);
        QCOMPARE(completed.action, u"update"_s);
        QCOMPARE(completed.attributes.value(u"updatestate.old"_s), u"updating"_s);
        QCOMPARE(completed.attributes.value(u"updatestate.new"_s), u"completed"_s);
    }

    void badEvents()
    {
        QVERIFY(!DockerReaders::readEvent("not json"));
        QVERIFY(!DockerReaders::readEvent("[1,2]"));
        QVERIFY(!DockerReaders::readEvent(R"({"Type":"container"})"));
        // Old engines: no timeNano, only time.
        const auto e = DockerReaders::readEvent(
            R"({"Type":"container","Action":"die","Actor":{"ID":"c"},"time":1700000000})");
        QVERIFY(e);
        QCOMPARE(e.value().timeNano, Q_INT64_C(1700000000000000000));
        // Found by fuzz_docker: seconds whose nanoseconds overflow 64 bits.
        QVERIFY(!DockerReaders::readEvent(
            R"({"Type":"container","Action":"die","Actor":{"ID":"c"},"time":17955175211})"));
        QVERIFY(!DockerReaders::readEvent(
            R"({"Type":"container","Action":"die","Actor":{"ID":"c"},"time":-5})"));
    }
};

QTEST_GUILESS_MAIN(TestDockerReaders)
#include "tst_dockerreaders.moc"
