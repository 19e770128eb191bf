// DockerClient, DockerExec and DockerEventStream against a fake engine: a
// QLocalServer in this process that answers the way Docker 20.10 does (its
// answers modelled on tests/fixtures/docker/), or not at all.

#include "app/connectors/docker/dockerclient.h"
#include "app/connectors/docker/dockereventstream.h"
#include "app/connectors/docker/dockerexec.h"
#include "app/connectors/docker/dockerreply.h"

#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonObject>
#include <QLocalServer>
#include <QLocalSocket>
#include <QPointer>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include "tests/testsupport.h"
#include "tests/unit/docker/replyrecorder.h"
#include <functional>
#include <optional>

using namespace Pilothouse;
using namespace Qt::StringLiterals;

namespace {

struct FakeRequest
{
    QByteArray method;
    QByteArray target; // path and query, as sent
    QByteArray body;
    int connection = 0; // which accepted connection carried it (1-based)

    QByteArray path() const { return target.left(target.indexOf('?')); }
    QString query(const char *key) const
    {
        const qsizetype q = target.indexOf('?');
        if (q < 0)
            return {};
        for (const QByteArray &kv : target.mid(q + 1).split('&')) {
            if (kv.startsWith(QByteArray(QByteArray(key) + '=')))
                return QUrl::fromPercentEncoding(kv.mid(qstrlen(key) + 1));
        }
        return {};
    }
};

// Speaks just enough HTTP/1.1 to stand in for the engine: reads requests
// (keep-alive included), hands each to `handler`, which answers through the
// socket or leaves it hanging.
class FakeEngine final : public QObject
{
public:
    using Handler = std::function<void(QLocalSocket *, const FakeRequest &)>;

    FakeEngine()
    {
        path = dir.path() + u"/docker.sock"_s;
        if (!server.listen(path))
            qFatal("fake engine cannot listen on %s", qPrintable(path));
        connect(&server, &QLocalServer::newConnection, this, [this] {
            while (QLocalSocket *s = server.nextPendingConnection()) {
                const int number = ++connections;
                sockets.append(s);
                connect(s, &QLocalSocket::readyRead, this, [this, s, number] { read(s, number); });
            }
        });
    }

    static QByteArray response(int status, const QByteArray &body,
                               const QByteArray &extraHeaders = {})
    {
        // The engine's own version header, unless the test brings another.
        const QByteArray version = extraHeaders.contains("Api-Version")
                                       ? QByteArray()
                                       : QByteArray("Api-Version: 1.41\r\n");
        return "HTTP/1.1 " + QByteArray::number(status) +
               " X\r\nContent-Length: " + QByteArray::number(body.size()) +
               "\r\nContent-Type: application/json\r\n" + version + extraHeaders + "\r\n" + body;
    }
    static QByteArray chunk(const QByteArray &data)
    {
        return QByteArray::number(data.size(), 16) + "\r\n" + data + "\r\n";
    }

    QTemporaryDir dir;
    QString path;
    QLocalServer server;
    QList<QPointer<QLocalSocket>> sockets;
    QList<FakeRequest> requests;
    Handler handler;
    int connections = 0;

private:
    void read(QLocalSocket *s, int number)
    {
        QByteArray &buffer = m_buffers[s];
        buffer += s->readAll();
        for (;;) {
            const qsizetype end = buffer.indexOf("\r\n\r\n");
            if (end < 0)
                return;
            const QList<QByteArray> lines = buffer.left(end).split('\n');
            const QList<QByteArray> requestLine = lines.value(0).trimmed().split(' ');
            qsizetype length = 0;
            for (const QByteArray &l : lines) {
                if (l.toLower().startsWith("content-length:"))
                    length = l.mid(15).trimmed().toLongLong();
            }
            if (buffer.size() < end + 4 + length)
                return;
            FakeRequest r{requestLine.value(0), requestLine.value(1), buffer.mid(end + 4, length),
                          number};
            buffer.remove(0, end + 4 + length);
            requests.append(r);
            if (handler)
                handler(s, r);
        }
    }

    QHash<QLocalSocket *, QByteArray> m_buffers;
};

QByteArray fixture(const char *name)
{
    return TestSupport::fixture("docker", name);
}

QString errorOf(const std::optional<Result<DockerExecResult>> &r)
{
    return r && !r->ok() ? r->error().message : QString();
}

QByteArray eventLine(const char *action, const char *id, qint64 timeNano)
{
    return QByteArray(R"({"Type":"container","Action":")") + action + R"(","Actor":{"ID":")" + id +
           R"(","Attributes":{"name":"c"}},"scope":"local","time":)" +
           QByteArray::number(timeNano / 1000000000) + R"(,"timeNano":)" +
           QByteArray::number(timeNano) + "}\n";
}

} // namespace

class TestDockerClient final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void negotiatesTheLowerVersionOnce()
    {
        FakeEngine engine;
        engine.handler = [](QLocalSocket *s, const FakeRequest &r) {
            if (r.target == "/_ping")
                s->write(FakeEngine::response(200, "OK", "Api-Version: 1.45\r\n"));
            else
                s->write(FakeEngine::response(200, "[]"));
        };
        DockerClient client(DockerEndpoint{engine.path, u"fake"_s});
        QSignalSpy negotiated(&client, &DockerClient::apiVersionNegotiated);
        ReplyRecorder a, b;
        a.watch(client.nodes());
        b.watch(client.services());
        QTRY_VERIFY(a.done() && b.done());
        QVERIFY2(a.json->ok(), qPrintable(a.error()));
        QVERIFY2(b.json->ok(), qPrintable(b.error()));
        QCOMPARE(client.apiVersion(), u"1.43"_s); // ours: the engine is newer
        QCOMPARE(negotiated.size(), 1);
        QCOMPARE(engine.requests.size(), 3);
        QCOMPARE(engine.requests.at(0).target, QByteArray("/_ping"));
        QCOMPARE(engine.requests.at(1).target, QByteArray("/v1.43/nodes"));
        QCOMPARE(engine.requests.at(2).target, QByteArray("/v1.43/services?status=true"));
        // Later requests go straight out, no second ping.
        ReplyRecorder c;
        c.watch(client.info());
        QTRY_VERIFY(c.done());
        QCOMPARE(engine.requests.size(), 4);
        QCOMPARE(engine.requests.at(3).target, QByteArray("/v1.43/info"));
    }

    void fallsBackToVersionDocument()
    {
        FakeEngine engine;
        engine.handler = [](QLocalSocket *s, const FakeRequest &r) {
            if (r.target == "/_ping") // something stripped the header
                s->write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK");
            else if (r.target == "/version")
                s->write(FakeEngine::response(200, fixture("version.json")));
            else
                s->write(FakeEngine::response(200, "{}"));
        };
        DockerClient client(engine.path);
        ReplyRecorder o;
        o.watch(client.info());
        QTRY_VERIFY(o.done());
        QVERIFY2(o.json->ok(), qPrintable(o.error()));
        QCOMPARE(client.apiVersion(), u"1.41"_s);
        QCOMPARE(engine.requests.last().target, QByteArray("/v1.41/info"));
    }

    void refusesAnEngineTooOld()
    {
        FakeEngine engine;
        engine.handler = [](QLocalSocket *s, const FakeRequest &) {
            s->write(FakeEngine::response(200, "OK", "Api-Version: 1.24\r\n"));
        };
        DockerClient client(DockerEndpoint{engine.path, u"old-host"_s});
        ReplyRecorder o;
        o.watch(client.nodes());
        QTRY_VERIFY(o.done());
        QVERIFY(!o.response->ok());
        const QString e = o.error();
        QVERIFY2(e.contains(u"1.24"_s) && e.contains(u"1.30"_s) && e.contains(u"old-host"_s),
                 qPrintable(e));
        QCOMPARE(client.apiVersion(), QString());
        QCOMPARE(engine.requests.size(), 1); // nodes never sent
    }

    void reportsTheEnginesOwnMessage()
    {
        FakeEngine engine;
        engine.handler = [](QLocalSocket *s, const FakeRequest &r) {
            if (r.target == "/_ping")
                s->write(FakeEngine::response(200, "OK"));
            else
                s->write(FakeEngine::response(404, R"({"message":"No such container: deadbeef"})"));
        };
        DockerClient client(DockerEndpoint{engine.path, u"swarm-09"_s});
        ReplyRecorder o;
        o.watch(client.get(u"/containers/deadbeef/json"_s));
        QTRY_VERIFY(o.done());
        QVERIFY(o.response->ok()); // an answer, just not a happy one
        QCOMPARE(o.response->value().status, 404);
        const QString e = o.error();
        QVERIFY2(e.contains(u"No such container: deadbeef"_s) && e.contains(u"404"_s) &&
                     e.contains(u"swarm-09"_s) &&
                     e.contains(u"GET /v1.41/containers/deadbeef/json"_s),
                 qPrintable(e));
    }

    void missingSocketFailsFast()
    {
        QTemporaryDir dir;
        const QString path = dir.path() + u"/nothing-here.sock"_s;
        DockerClient client(path);
        ReplyRecorder o;
        o.watch(client.nodes());
        QTRY_VERIFY_WITH_TIMEOUT(o.done(), 2000);
        QVERIFY(!o.response->ok());
        QVERIFY2(o.elapsedMs < 1000, qPrintable(QString::number(o.elapsedMs)));
        const QString e = o.error();
        QVERIFY2(e.contains(u"does not exist"_s) && e.contains(path), qPrintable(e));
    }

    void silentEngineTimesOut()
    {
        FakeEngine engine; // accepts, reads, never answers
        DockerEndpoint endpoint{engine.path, u"mute"_s};
        endpoint.requestTimeoutMs = 400;
        DockerClient client(endpoint);
        ReplyRecorder o;
        o.watch(client.ping());
        QTRY_VERIFY_WITH_TIMEOUT(o.done(), 5000);
        QVERIFY(!o.response->ok());
        QVERIFY2(o.elapsedMs >= 350 && o.elapsedMs < 3000,
                 qPrintable(QString::number(o.elapsedMs)));
        const QString e = o.error();
        QVERIFY2(e.contains(u"timed out"_s) && e.contains(u"GET /_ping on mute"_s), qPrintable(e));
        QCOMPARE(engine.requests.size(), 1); // it did reach the engine
    }

    void streamThatNeverOpensTimesOut()
    {
        FakeEngine engine;
        DockerClient client(engine.path);
        DockerClient::RequestOptions o;
        o.versioned = false;
        o.streaming = true;
        o.timeoutMs = 0;           // streams may last for ever once open...
        o.responseTimeoutMs = 300; // ...but must open promptly
        ReplyRecorder out;
        out.watch(client.get(u"/events"_s, {}, o));
        QTRY_VERIFY_WITH_TIMEOUT(out.done(), 5000);
        const QString e = out.error();
        QVERIFY2(e.contains(u"no answer within 0.3 s"_s), qPrintable(e));
    }

    void abortCancels()
    {
        FakeEngine engine;
        DockerClient client(engine.path);
        ReplyRecorder running;
        DockerClient::RequestOptions o;
        o.versioned = false;
        DockerReply *r = client.get(u"/_ping"_s, {}, o);
        running.watch(r);
        QTRY_COMPARE(engine.requests.size(), 1);
        r->abort();
        QTRY_VERIFY(running.done());
        QVERIFY2(running.error().contains(u"cancelled"_s), qPrintable(running.error()));
        QVERIFY(running.elapsedMs < 2000);

        // One still waiting for the version negotiation.
        ReplyRecorder waiting;
        DockerReply *w = client.nodes();
        waiting.watch(w);
        w->abort();
        QTRY_VERIFY(waiting.done());
        QVERIFY2(waiting.error().contains(u"cancelled"_s), qPrintable(waiting.error()));
    }

    void destroyingTheClientMidRequestIsSafe()
    {
        FakeEngine engine;
        auto *client = new DockerClient(engine.path);
        QPointer<DockerReply> r = client->nodes();
        QTRY_COMPARE(engine.requests.size(), 1);
        delete client;
        QVERIFY(r.isNull()); // owned by the client
        QTest::qWait(50);    // queued work of the dead client must not fire
    }

    void destroyingTheClientWithItsStreamAndExecIsSafe()
    {
        // The monitor parents its event stream to the client and deletes the
        // client when a host's SSH forward goes away, jobs still running.
        FakeEngine engine;
        engine.handler = [](QLocalSocket *s, const FakeRequest &r) {
            if (r.target == "/_ping")
                s->write(FakeEngine::response(200, "OK"));
            else if (r.path() == "/v1.41/events")
                s->write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
            // exec create: never answered
        };
        auto *client = new DockerClient(engine.path);
        auto *stream = new DockerEventStream(client, client);
        QPointer<DockerEventStream> watchStream = stream;
        QSignalSpy connected(stream, &DockerEventStream::connected);
        stream->start();
        QVERIFY(connected.wait(5000));
        QPointer<DockerExec> job = client->exec(u"c"_s, {u"true"_s});
        QTRY_COMPARE(engine.requests.size(), 3);
        delete client;
        QVERIFY(watchStream.isNull());
        QVERIFY(job.isNull());
        QTest::qWait(50); // nothing queued by the dead objects may fire
    }

    void tasksFilterIsEncodedJson()
    {
        FakeEngine engine;
        engine.handler = [](QLocalSocket *s, const FakeRequest &r) {
            s->write(FakeEngine::response(200, r.target == "/_ping" ? "OK" : "[]"));
        };
        DockerClient client(engine.path);
        ReplyRecorder o;
        o.watch(client.tasks(
            {{u"service"_s, {u"pilothouse_pg-1"_s}}, {u"desired-state"_s, {u"running"_s}}}));
        QTRY_VERIFY(o.done());
        QVERIFY2(o.json->ok(), qPrintable(o.error()));
        const FakeRequest &r = engine.requests.last();
        QCOMPARE(r.path(), QByteArray("/v1.41/tasks"));
        QCOMPARE(r.query("filters"),
                 uR"({"desired-state":["running"],"service":["pilothouse_pg-1"]})"_s);
        // Nothing unsafe left raw on the request line.
        QVERIFY2(!r.target.contains('"') && !r.target.contains('{'), r.target.constData());
    }

    void execCollectsOutputAndExitCode()
    {
        FakeEngine engine;
        int inspections = 0;
        QJsonObject created;
        engine.handler = [&](QLocalSocket *s, const FakeRequest &r) {
            if (r.target == "/_ping") {
                s->write(FakeEngine::response(200, "OK"));
            } else if (r.target == "/v1.41/containers/c0ffee/exec") {
                created = QJsonDocument::fromJson(r.body).object();
                s->write(FakeEngine::response(201, R"({"Id":"e1"})"));
            } else if (r.target == "/v1.41/exec/e1/start") {
                // As the engine does: hijack the connection, stream, close.
                s->write("HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n"
                         "Api-Version: 1.41\r\n\r\n");
                s->write(fixture("exec-start.raw"));
                s->disconnectFromServer();
            } else if (r.target == "/v1.41/exec/e1/json") {
                // The exit code lands a moment after the stream ends.
                s->write(FakeEngine::response(200, ++inspections == 1
                                                       ? R"({"Running":true,"ExitCode":null})"
                                                       : R"({"Running":false,"ExitCode":3})"));
            } else {
                s->write(FakeEngine::response(404, R"({"message":"unexpected"})"));
            }
        };
        DockerClient client(engine.path);
        DockerExecOptions options;
        options.user = u"postgres"_s;
        DockerExec *job = client.exec(u"c0ffee"_s, {u"sh"_s, u"-c"_s, u"hostname"_s}, options);
        std::optional<Result<DockerExecResult>> result;
        connect(job, &DockerExec::finished, this, [&] { result = job->result(); });
        QTRY_VERIFY(result.has_value());
        QVERIFY2(result->ok(), qPrintable(errorOf(result)));
        QCOMPARE(result->value().exitCode, 3);
        QCOMPARE(result->value().stdOut, QByteArray("pg-1\ndone\n"));
        QCOMPARE(result->value().stdErr, QByteArray("to-stderr\n"));
        QCOMPARE(inspections, 2);
        QCOMPARE(created.value(u"Cmd"_s).toArray().size(), 3);
        QCOMPARE(created.value(u"User"_s).toString(), u"postgres"_s);
        QCOMPARE(created.value(u"Tty"_s).toBool(true), false);
    }

    void execTimesOut()
    {
        FakeEngine engine;
        engine.handler = [](QLocalSocket *s, const FakeRequest &r) {
            if (r.target == "/_ping")
                s->write(FakeEngine::response(200, "OK"));
            else if (r.path().endsWith("/exec"))
                s->write(FakeEngine::response(201, R"({"Id":"e2"})"));
            else if (r.path().endsWith("/start"))
                s->write(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n\r\n");
            // ...and the command never ends.
        };
        DockerClient client(DockerEndpoint{engine.path, u"slow"_s});
        DockerExecOptions options;
        options.timeoutMs = 400;
        DockerExec *job = client.exec(u"c1"_s, {u"sleep"_s, u"60"_s}, options);
        std::optional<Result<DockerExecResult>> result;
        QElapsedTimer t;
        t.start();
        connect(job, &DockerExec::finished, this, [&] { result = job->result(); });
        QTRY_VERIFY_WITH_TIMEOUT(result.has_value(), 5000);
        QVERIFY(!result->ok());
        const QString e = errorOf(result);
        QVERIFY2(e.contains(u"timed out"_s) &&
                     e.contains(u"exec `sleep 60` in container c1 on slow"_s),
                 qPrintable(e));
        QVERIFY2(t.elapsed() < 3000, qPrintable(QString::number(t.elapsed())));
    }

    void eventsResumeAfterABreakWithoutDuplicates()
    {
        FakeEngine engine;
        const qint64 t1 = Q_INT64_C(1795675572251323139);
        const qint64 t2 = t1 + 1000;
        const qint64 t3 = t2 + 5;
        QList<FakeRequest> streams;
        engine.handler = [&](QLocalSocket *s, const FakeRequest &r) {
            if (r.target == "/_ping") {
                s->write(FakeEngine::response(200, "OK"));
                return;
            }
            streams.append(r);
            s->write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nApi-Version: 1.41\r\n"
                     "Date: Thu, 26 Nov 2026 06:46:12 GMT\r\nTransfer-Encoding: chunked\r\n\r\n");
            if (streams.size() == 1) {
                s->write(FakeEngine::chunk(eventLine("start", "a", t1)));
                // Two events in one chunk, the second split across chunks.
                const QByteArray two = eventLine("exec_start: hostname", "b", t2);
                s->write(FakeEngine::chunk(two.left(20)));
                s->write(FakeEngine::chunk(two.mid(20)));
                s->disconnectFromServer(); // the engine went away mid-stream
            } else {
                // The engine replays from since= (inclusive), then goes on.
                s->write(FakeEngine::chunk(eventLine("exec_start: hostname", "b", t2) +
                                           eventLine("die", "a", t3)));
            }
        };
        DockerClient client(engine.path);
        DockerEventStream stream(&client);
        stream.setBackoff(20, 100);
        QSignalSpy events(&stream, &DockerEventStream::received);
        QSignalSpy connected(&stream, &DockerEventStream::connected);
        QSignalSpy disconnected(&stream, &DockerEventStream::disconnected);
        stream.start();
        QTRY_COMPARE(events.size(), 3);
        QCOMPARE(connected.size(), 2);
        QCOMPARE(disconnected.size(), 1);
        QCOMPARE(disconnected.at(0).at(1).toInt(), 20);
        const auto e = [&](int i) {
            return events.at(i).at(0).value<DockerEvent>();
        };
        QCOMPARE(e(0).action, u"start"_s);
        QCOMPARE(e(1).action, u"exec_start: hostname"_s);
        QCOMPARE(e(2).action, u"die"_s);
        QCOMPARE(e(2).timeNano, t3);
        QCOMPARE(stream.lastEventTimeNano(), t3);

        QCOMPARE(streams.size(), 2);
        QCOMPARE(streams.at(0).path(), QByteArray("/v1.41/events"));
        QCOMPARE(streams.at(0).query("filters"), uR"({"type":["container","service","node"]})"_s);
        QCOMPARE(streams.at(0).query("since"), QString());                 // a fresh start
        QCOMPARE(streams.at(1).query("since"), u"1795675572.251324139"_s); // the last event seen
        QVERIFY(stream.isConnected());
        QTest::qWait(100);
        QCOMPARE(events.size(), 3); // no duplicate arrived late
        stream.stop();
        QVERIFY(!stream.isConnected());
    }

    void eventsBackOffWhileTheEngineIsAway()
    {
        QTemporaryDir dir;
        DockerClient client(dir.path() + u"/gone.sock"_s);
        DockerEventStream stream(&client);
        stream.setBackoff(10, 40);
        QSignalSpy disconnected(&stream, &DockerEventStream::disconnected);
        stream.start();
        QTRY_VERIFY(disconnected.size() >= 4);
        QList<int> delays;
        for (const auto &args : disconnected)
            delays.append(args.at(1).toInt());
        QCOMPARE(delays.mid(0, 4), QList<int>({10, 20, 40, 40}));
        QVERIFY2(disconnected.at(0).at(0).toString().contains(u"does not exist"_s),
                 qPrintable(disconnected.at(0).at(0).toString()));
        stream.stop();
        const qsizetype after = disconnected.size();
        QTest::qWait(100);
        QCOMPARE(disconnected.size(), after); // stopped means stopped
    }
};

QTEST_GUILESS_MAIN(TestDockerClient)
#include "tst_dockerclient.moc"
