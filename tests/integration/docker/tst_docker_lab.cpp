// DockerClient against the lab's real engines (Docker 20.10), through each
// host's engine socket as the lab exposes it on this machine. Read-only but
// for a few short execs in pg-1's and pg-3's containers (hostname, exit codes, a sleep).

#include "app/connectors/docker/dockerclient.h"
#include "app/connectors/docker/dockereventstream.h"
#include "app/connectors/docker/dockerexec.h"
#include "app/connectors/docker/dockerreaders.h"
#include "app/connectors/docker/dockerreply.h"
#include "app/connectors/ssh/sshoptions.h"
#include "app/connectors/ssh/sshsession.h"

#include <QElapsedTimer>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonObject>
#include <QLocalServer>
#include <QLocalSocket>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include "../labaccess.h"
#include "tests/unit/docker/replyrecorder.h"
#include <memory>
#include <optional>

using namespace Pilothouse;
using namespace Qt::StringLiterals;

namespace {

struct ExecOutcome
{
    std::optional<Result<DockerExecResult>> result;
    qint64 elapsedMs = -1;

    explicit ExecOutcome(DockerExec *job)
    {
        auto timer = std::make_shared<QElapsedTimer>();
        timer->start();
        QObject::connect(job, &DockerExec::finished, job, [this, job, timer] {
            result = job->result();
            elapsedMs = timer->elapsed();
        });
    }
    bool done() const { return result.has_value(); }
    bool ok() const { return result && result->ok(); }
    QString error() const { return result && !result->ok() ? result->error().message : QString(); }
    DockerExecResult value() const { return ok() ? result->value() : DockerExecResult(); }
};

} // namespace

class TestDockerLab final : public QObject
{
    Q_OBJECT

private:
    LabAccess m_lab;
    QString m_labDir;
    QStringList m_hosts;

    QString socketOf(const QString &host) const
    {
        return m_labDir + u"/hosts/"_s + host + u"/run/docker.sock"_s;
    }
    DockerEndpoint endpoint(const QString &host) const
    {
        DockerEndpoint e;
        e.socketPath = socketOf(host);
        e.name = host;
        return e;
    }

    // pg-1's running task as the swarm reports it (asked of `host`'s engine).
    std::optional<TaskState> pg1Task(DockerClient &client)
    {
        ReplyRecorder nodes(client.nodes());
        ReplyRecorder services(client.services());
        const QString service = m_lab.inventory().settings.stack + u"_pg-1"_s;
        ReplyRecorder tasks(
            client.tasks({{u"service"_s, {service}}, {u"desired-state"_s, {u"running"_s}}}));
        if (!QTest::qWaitFor([&] { return nodes.done() && services.done() && tasks.done(); },
                             15000))
            return std::nullopt;
        const auto n = DockerReaders::readNodes(nodes.doc());
        const auto s = DockerReaders::readServices(services.doc());
        if (!n || !s)
            return std::nullopt;
        const auto t = DockerReaders::readTasks(tasks.doc(), s.value(), n.value());
        if (!t || t.value().size() != 1)
            return std::nullopt;
        return t.value().at(0);
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY2(m_lab.open(), qPrintable(m_lab.error()));
        // The lab writes its inventory into its own folder, next to hosts/.
        m_labDir = qEnvironmentVariable("PILOTHOUSE_LAB_DIR",
                                        QFileInfo(m_lab.inventory().path).absolutePath());
        for (const auto &h : m_lab.inventory().hosts)
            m_hosts.append(h.name);
        QCOMPARE(m_hosts, QStringList({u"swarm-01"_s, u"swarm-02"_s, u"swarm-03"_s}));
    }

    void pingAndVersionNegotiation()
    {
        for (const QString &host : std::as_const(m_hosts)) {
            DockerClient client(endpoint(host));
            QSignalSpy negotiated(&client, &DockerClient::apiVersionNegotiated);
            ReplyRecorder ping(client.ping());
            QTRY_VERIFY_WITH_TIMEOUT(ping.done(), 10000);
            QVERIFY2(ping.response->ok(), qPrintable(ping.error()));
            QCOMPARE(ping.response->value().status, 200);
            QCOMPARE(ping.response->value().body, QByteArray("OK"));
            QCOMPARE(ping.response->value().header("api-version"), QByteArray("1.41"));

            ReplyRecorder version(client.version());
            QTRY_VERIFY_WITH_TIMEOUT(version.done(), 10000);
            QVERIFY2(version.json->ok(), qPrintable(version.error()));
            // Docker 20.10 speaks 1.41, below our 1.43: the client speaks 1.41.
            QCOMPARE(client.apiVersion(), u"1.41"_s);
            QCOMPARE(negotiated.size(), 1);
            const QJsonObject v = version.doc().object();
            QCOMPARE(v.value(u"ApiVersion"_s).toString(), u"1.41"_s);
            QVERIFY2(v.value(u"Version"_s).toString().startsWith(u"20.10."_s),
                     qPrintable(v.value(u"Version"_s).toString()));

            ReplyRecorder info(client.info());
            QTRY_VERIFY_WITH_TIMEOUT(info.done(), 10000);
            const QJsonObject i = info.doc().object();
            QCOMPARE(i.value(u"Name"_s).toString(), host);
            QCOMPARE(i.value(u"Swarm"_s).toObject().value(u"LocalNodeState"_s).toString(),
                     u"active"_s);
        }
    }

    void nodesAreThreeManagersWithOneLeader()
    {
        QString leaderSeenBy;
        QString leaderId;
        for (const QString &host : std::as_const(m_hosts)) {
            DockerClient client(endpoint(host));
            ReplyRecorder a(client.nodes());
            QTRY_VERIFY_WITH_TIMEOUT(a.done(), 10000);
            QVERIFY2(a.json->ok(), qPrintable(a.error()));
            const auto nodes = DockerReaders::readNodes(a.doc());
            QVERIFY2(nodes, qPrintable(nodes ? QString() : nodes.error().message));
            QCOMPARE(nodes.value().size(), 3);
            QStringList names;
            QStringList leaders;
            for (const SwarmNodeState &n : nodes.value()) {
                names.append(n.hostname);
                QVERIFY2(n.manager, qPrintable(n.hostname));
                QCOMPARE(n.state, u"ready"_s);
                QCOMPARE(n.managerReachability, u"reachable"_s);
                QVERIFY2(n.labels.contains(u"pilothouse.node="_s + n.hostname),
                         qPrintable(n.labels.join(u',')));
                QCOMPARE(n.address, m_lab.inventory().host(n.hostname)->address);
                if (n.leader)
                    leaders.append(n.id);
            }
            QCOMPARE(names, m_hosts);
            QCOMPARE(leaders.size(), 1);
            // Every manager names the same leader.
            if (leaderId.isEmpty()) {
                leaderId = leaders.at(0);
                leaderSeenBy = host;
            }
            QVERIFY2(leaders.at(0) == leaderId,
                     qPrintable(host + u" disagrees with "_s + leaderSeenBy));
        }
    }

    void pg1RunsOnSwarm01()
    {
        const QString expectedHost = m_lab.inventory().settings.postgresNodes.value(u"pg-1"_s);
        QCOMPARE(expectedHost, u"swarm-01"_s);
        // Any manager sees the whole swarm: ask another one than where it runs.
        DockerClient client(endpoint(u"swarm-02"_s));
        const auto task = pg1Task(client);
        QVERIFY(task);
        QCOMPARE(task->service, u"pg-1"_s);
        QCOMPARE(task->hostname, expectedHost);
        QCOMPARE(task->slot, 1);
        QCOMPARE(task->currentState, u"running"_s);
        QCOMPARE(task->containerId.size(), 64);

        ReplyRecorder services(client.services());
        QTRY_VERIFY_WITH_TIMEOUT(services.done(), 10000);
        const auto s = DockerReaders::readServices(services.doc());
        QVERIFY(s);
        QStringList names;
        for (const ServiceState &x : s.value()) {
            names.append(x.name);
            if (x.name == u"pg-1"_s) {
                QCOMPARE(x.desiredReplicas, 1);
                QCOMPARE(x.runningTasks, 1);
                QVERIFY(x.versionIndex > 0);
            }
        }
        for (const char *expected :
             {"pg-1", "pg-2", "pg-3", "pgpool", "etcd1", "etcd2", "etcd3", "haproxy", "app"})
            QVERIFY2(names.contains(QLatin1String(expected)), expected);

        // The container is where the task says: on swarm-01's own engine.
        DockerClient local(endpoint(expectedHost));
        ReplyRecorder containers(
            local.containers({{u"label"_s, {u"com.docker.swarm.task.id="_s + task->id}}}));
        QTRY_VERIFY_WITH_TIMEOUT(containers.done(), 10000);
        const QJsonArray list = containers.doc().array();
        QCOMPARE(list.size(), 1);
        QCOMPARE(list.at(0).toObject().value(u"Id"_s).toString(), task->containerId);
    }

    void execHostnameInPg1()
    {
        DockerClient client(endpoint(u"swarm-01"_s));
        const auto task = pg1Task(client);
        QVERIFY(task);
        ReplyRecorder inspect(client.get(u"/containers/"_s + task->containerId + u"/json"_s));
        QTRY_VERIFY_WITH_TIMEOUT(inspect.done(), 10000);
        const QString hostname =
            inspect.doc().object().value(u"Config"_s).toObject().value(u"Hostname"_s).toString();
        QVERIFY(!hostname.isEmpty());

        ExecOutcome run(client.exec(task->containerId, {u"hostname"_s}));
        QTRY_VERIFY_WITH_TIMEOUT(run.done(), 20000);
        QVERIFY2(run.ok(), qPrintable(run.error()));
        QCOMPARE(run.value().exitCode, 0);
        QCOMPARE(QString::fromUtf8(run.value().stdOut).trimmed(), hostname);
        QCOMPARE(run.value().stdErr, QByteArray());
        qInfo("exec hostname in %s: %lld ms", qPrintable(hostname), run.elapsedMs);
    }

    void execExitCodeAndStreams()
    {
        DockerClient client(endpoint(u"swarm-01"_s));
        const auto task = pg1Task(client);
        QVERIFY(task);
        ExecOutcome seven(client.exec(task->containerId, {u"sh"_s, u"-c"_s, u"exit 7"_s}));
        ExecOutcome streams(client.exec(task->containerId,
                                        {u"sh"_s, u"-c"_s, u"echo out; echo err >&2; exit 3"_s}));
        DockerExecOptions asPostgres;
        asPostgres.user = u"postgres"_s;
        ExecOutcome whoami(client.exec(task->containerId, {u"id"_s, u"-un"_s}, asPostgres));
        QTRY_VERIFY_WITH_TIMEOUT(seven.done() && streams.done() && whoami.done(), 20000);
        QVERIFY2(seven.ok(), qPrintable(seven.error()));
        QCOMPARE(seven.value().exitCode, 7);
        QVERIFY2(streams.ok(), qPrintable(streams.error()));
        QCOMPARE(streams.value().exitCode, 3);
        QCOMPARE(streams.value().stdOut, QByteArray("out\n"));
        QCOMPARE(streams.value().stdErr, QByteArray("err\n"));
        QVERIFY2(whoami.ok(), qPrintable(whoami.error()));
        QCOMPARE(whoami.value().stdOut, QByteArray("postgres\n"));
    }

    void execTimesOutAndFailsClearly()
    {
        DockerClient client(endpoint(u"swarm-01"_s));
        const auto task = pg1Task(client);
        QVERIFY(task);
        DockerExecOptions quick;
        quick.timeoutMs = 500;
        ExecOutcome slow(client.exec(task->containerId, {u"sleep"_s, u"3"_s}, quick));
        ExecOutcome missing(client.exec(u"no-such-container-here"_s, {u"true"_s}));
        QTRY_VERIFY_WITH_TIMEOUT(slow.done() && missing.done(), 10000);
        QVERIFY(!slow.ok());
        QVERIFY2(slow.error().contains(u"timed out"_s) && slow.error().contains(u"sleep 3"_s),
                 qPrintable(slow.error()));
        QVERIFY2(slow.elapsedMs < 2500, qPrintable(QString::number(slow.elapsedMs)));
        QVERIFY(!missing.ok());
        QVERIFY2(missing.error().contains(u"No such container"_s) &&
                     missing.error().contains(u"swarm-01"_s),
                 qPrintable(missing.error()));
    }

    void missingSocketFailsFast()
    {
        // A host the lab does not have: its socket path does not exist.
        DockerClient client(endpoint(u"swarm-09"_s));
        ReplyRecorder a(client.nodes());
        QTRY_VERIFY_WITH_TIMEOUT(a.done(), 5000);
        QVERIFY(!a.response->ok());
        QVERIFY2(a.elapsedMs < 1000, qPrintable(QString::number(a.elapsedMs)));
        QVERIFY2(a.error().contains(u"does not exist"_s) &&
                     a.error().contains(socketOf(u"swarm-09"_s)),
                 qPrintable(a.error()));
    }

    void silentServerTimesOut()
    {
        QTemporaryDir dir;
        QLocalServer mute; // accepts connections, never answers
        QVERIFY(mute.listen(dir.path() + u"/docker.sock"_s));
        DockerEndpoint e;
        e.socketPath = mute.fullServerName();
        e.name = u"mute"_s;
        e.requestTimeoutMs = 800;
        DockerClient client(e);
        ReplyRecorder a(client.nodes());
        QTRY_VERIFY_WITH_TIMEOUT(a.done(), 10000);
        QVERIFY(!a.response->ok());
        QVERIFY2(a.elapsedMs >= 700 && a.elapsedMs < 4000,
                 qPrintable(QString::number(a.elapsedMs)));
        QVERIFY2(a.error().contains(u"timed out"_s) && a.error().contains(u"mute"_s),
                 qPrintable(a.error()));
    }

    void eventsArriveForAnExec()
    {
        DockerClient client(endpoint(u"swarm-01"_s));
        const auto task = pg1Task(client);
        QVERIFY(task);
        DockerEventStream stream(&client);
        stream.setFilters({{u"type"_s, {u"container"_s}}, {u"container"_s, {task->containerId}}});
        QSignalSpy connected(&stream, &DockerEventStream::connected);
        QList<DockerEvent> events;
        connect(&stream, &DockerEventStream::received, this,
                [&events](const DockerEvent &e) { events.append(e); });
        stream.start();
        QVERIFY(connected.wait(10000));

        ExecOutcome run(client.exec(task->containerId, {u"true"_s}));
        QTRY_VERIFY_WITH_TIMEOUT(run.done(), 20000);
        QVERIFY2(run.ok(), qPrintable(run.error()));
        const auto has = [&events, &task](const QString &action) {
            for (const DockerEvent &e : events) {
                if (e.action.startsWith(action) && e.actorId == task->containerId)
                    return true;
            }
            return false;
        };
        QTRY_VERIFY_WITH_TIMEOUT(
            has(u"exec_create: true"_s) && has(u"exec_start: true"_s) && has(u"exec_die"_s), 10000);
        for (const DockerEvent &e : std::as_const(events)) {
            QCOMPARE(e.type, u"container"_s);
            QCOMPARE(e.actorId, task->containerId); // the filter held
            QVERIFY(e.time.isValid());
        }
        QVERIFY(stream.isConnected());
        stream.stop();
    }

    void overAnSshForward()
    {
        // As the console reaches real hosts: SSH to swarm-03, forward its
        // /var/run/docker.sock to a local socket, and give that path to the client.
        const InventoryHost *host = m_lab.inventory().host(u"swarm-03"_s);
        QVERIFY(host);
        SshOptions options =
            SshOptions::fromInventory(*host, m_lab.inventory().settings.knownHosts);
        options.useSshConfig = false;
        options.useAgent = false;
        SshSession ssh(options);
        QSignalSpy ready(&ssh, &SshSession::forwardReady);
        QSignalSpy failed(&ssh, &SshSession::forwardFailed);
        ssh.connectToHost();
        ssh.forwardUnixSocket(u"/var/run/docker.sock"_s);
        QTRY_VERIFY_WITH_TIMEOUT(!ready.isEmpty() || !failed.isEmpty(), 20000);
        QVERIFY2(failed.isEmpty(), qPrintable(failed.value(0).value(1).value<Error>().message));
        const QString local = ready.at(0).at(1).toString();
        QVERIFY(local != socketOf(u"swarm-03"_s));

        DockerEndpoint e;
        e.socketPath = local;
        e.name = u"swarm-03 via ssh"_s;
        DockerClient client(e);
        ReplyRecorder info(client.info());
        ReplyRecorder nodes(client.nodes());
        QTRY_VERIFY_WITH_TIMEOUT(info.done() && nodes.done(), 15000);
        QVERIFY2(info.json->ok(), qPrintable(info.error()));
        QCOMPARE(client.apiVersion(), u"1.41"_s);
        QCOMPARE(info.doc().object().value(u"Name"_s).toString(), u"swarm-03"_s);
        const auto n = DockerReaders::readNodes(nodes.doc());
        QVERIFY(n);
        QCOMPARE(n.value().size(), 3);

        // Exec and its hijacked, close-delimited stream survive the tunnel too.
        const auto task = pg1Task(client);
        QVERIFY(task);
        QCOMPARE(task->hostname, u"swarm-01"_s); // seen from swarm-03: not its container
        ReplyRecorder local3(client.containers());
        QTRY_VERIFY_WITH_TIMEOUT(local3.done(), 10000);
        QString pg3;
        for (const QJsonValue &c : local3.doc().array()) {
            const QJsonObject labels = c.toObject().value(u"Labels"_s).toObject();
            if (labels.value(u"com.docker.swarm.service.name"_s).toString().endsWith(u"_pg-3"_s))
                pg3 = c.toObject().value(u"Id"_s).toString();
        }
        QVERIFY(!pg3.isEmpty());
        ExecOutcome run(client.exec(pg3, {u"sh"_s, u"-c"_s, u"echo tunnelled; exit 5"_s}));
        QTRY_VERIFY_WITH_TIMEOUT(run.done(), 20000);
        QVERIFY2(run.ok(), qPrintable(run.error()));
        QCOMPARE(run.value().exitCode, 5);
        QCOMPARE(run.value().stdOut, QByteArray("tunnelled\n"));
        qInfo("over ssh: info+nodes %lld ms, exec %lld ms", info.elapsedMs, run.elapsedMs);
        ssh.disconnectFromHost();
    }

    void eventsMissedWhileAwayAreReplayedOnce()
    {
        // What a reconnect does: resume with since= the last event seen. The
        // engine must accept our "seconds.nanoseconds" and replay exactly what
        // we missed; what we had already seen must not come twice.
        DockerClient client(endpoint(u"swarm-01"_s));
        const auto task = pg1Task(client);
        QVERIFY(task);
        DockerEventStream stream(&client);
        stream.setFilters({{u"type"_s, {u"container"_s}}, {u"container"_s, {task->containerId}}});
        QStringList actions;
        connect(&stream, &DockerEventStream::received, this,
                [&actions](const DockerEvent &e) { actions.append(e.action); });
        QSignalSpy connected(&stream, &DockerEventStream::connected);
        stream.start();
        QVERIFY(connected.wait(10000));

        ExecOutcome before(client.exec(task->containerId, {u"echo"_s, u"before"_s}));
        QTRY_VERIFY_WITH_TIMEOUT(actions.contains(u"exec_start: echo before"_s), 10000);
        QTRY_VERIFY_WITH_TIMEOUT(before.done(), 10000);
        stream.stop();
        const qint64 lastSeen = stream.lastEventTimeNano();
        QVERIFY(lastSeen > 0);

        ExecOutcome away(client.exec(task->containerId, {u"echo"_s, u"away"_s}));
        QTRY_VERIFY_WITH_TIMEOUT(away.done(), 10000);
        QVERIFY2(away.ok(), qPrintable(away.error()));
        QVERIFY(!actions.contains(u"exec_start: echo away"_s));

        stream.start();
        QTRY_VERIFY_WITH_TIMEOUT(actions.contains(u"exec_start: echo away"_s), 10000);
        QVERIFY(stream.lastEventTimeNano() > lastSeen);
        QCOMPARE(actions.count(u"exec_start: echo before"_s), 1);
        QCOMPARE(actions.count(u"exec_start: echo away"_s), 1);
        stream.stop();
    }
};

QTEST_GUILESS_MAIN(TestDockerLab)
#include "tst_docker_lab.moc"
