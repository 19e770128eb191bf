// How PgConnection drives libpq: errors, timeouts, cancel, loss of the socket.
// No PostgreSQL here: a closed port, a listener that never answers, and a
// minimal protocol stand-in (fakepgserver.h). Real servers: tests/integration/pg.

#include "app/connectors/pg/pgconnection.h"
#include "app/connectors/pg/pgsession.h"

#include <QElapsedTimer>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTest>

#include "fakepgserver.h"

using namespace Pilothouse;

namespace {

PgConnectOptions optionsFor(quint16 port, const QString &host = QStringLiteral("127.0.0.1"))
{
    PgConnectOptions o;
    o.host = host;
    o.port = port;
    o.database = QStringLiteral("app");
    o.user = QStringLiteral("tester");
    o.password = QStringLiteral("not-a-secret-but-never-shown");
    o.label = QStringLiteral("pg-test");
    o.sslMode = QStringLiteral("disable");
    o.connectTimeoutMs = 2000;
    return o;
}

// A port nothing listens on: bound once, then released.
quint16 closedPort()
{
    QTcpServer s;
    s.listen(QHostAddress::LocalHost);
    const quint16 port = s.serverPort();
    s.close();
    return port;
}

struct Outcome
{
    bool called = false;
    std::optional<Result<PgReply>> result;
};

PgConnection::Callback recorder(Outcome &out)
{
    return [&out](const Result<PgReply> &r) {
        out.called = true;
        out.result = r;
    };
}

// QVERIFY2 evaluates its message even when the check passes.
template<typename T> QByteArray why(const Result<T> &r)
{
    return r ? QByteArray() : r.error().message.toUtf8();
}

} // namespace

class TestPgConnection final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void refusedConnectionNamesTheEndpoint()
    {
        PgConnection c;
        QSignalSpy failed(&c, &PgConnection::connectFailed);
        const quint16 port = closedPort();
        c.open(optionsFor(port));
        QCOMPARE(c.state(), PgConnection::State::Connecting);
        QCOMPARE(failed.size(), 0); // never from within open()
        QVERIFY(failed.wait(5000));
        const QString message = failed.at(0).at(0).value<Error>().message;
        QVERIFY2(message.startsWith(QStringLiteral("pg-test (127.0.0.1:%1, db app): ").arg(port)),
                 qPrintable(message));
        QVERIFY2(message.contains(QStringLiteral("refused")), qPrintable(message));
        QVERIFY2(!message.contains(QStringLiteral("not-a-secret")), qPrintable(message));
        QCOMPARE(c.state(), PgConnection::State::Disconnected);
    }

    void connectTimesOutOnASilentListener()
    {
        QTcpServer silent; // accepts TCP (the kernel does), never says a word
        QVERIFY(silent.listen(QHostAddress::LocalHost));
        PgConnection c;
        QSignalSpy failed(&c, &PgConnection::connectFailed);
        PgConnectOptions o = optionsFor(silent.serverPort());
        o.connectTimeoutMs = 300;
        QElapsedTimer t;
        t.start();
        c.open(o);
        QVERIFY(failed.wait(5000));
        // QTimer's coarse timers may fire up to 5 % early.
        QVERIFY2(t.elapsed() >= 270 && t.elapsed() < 2000,
                 qPrintable(QString::number(t.elapsed())));
        const QString message = failed.at(0).at(0).value<Error>().message;
        QVERIFY2(message.contains(QStringLiteral("timed out after 300 ms")), qPrintable(message));
        QCOMPARE(c.state(), PgConnection::State::Disconnected);
    }

    void queriesWaitingForAFailedConnectionFail()
    {
        PgConnection c;
        c.open(optionsFor(closedPort()));
        Outcome out;
        c.query(QStringLiteral("select 1"), 5000, this, recorder(out));
        QCOMPARE(c.pendingQueries(), 1);
        QTRY_VERIFY_WITH_TIMEOUT(out.called, 5000);
        QVERIFY(!*out.result);
        QVERIFY(out.result->error().message.contains(QStringLiteral("refused")));
    }

    void queryWhileDisconnectedFailsLater()
    {
        PgConnection c;
        Outcome out;
        c.query(QStringLiteral("select 1"), 1000, this, recorder(out));
        QVERIFY(!out.called);
        QTRY_VERIFY_WITH_TIMEOUT(out.called, 1000);
        QVERIFY(!*out.result);
        QVERIFY(out.result->error().message.endsWith(QStringLiteral("not connected")));
    }

    void rowsNullsAndSeveralResultSets()
    {
        FakePgServer server(FakePgServer::Mode::Answer);
        server.columns = {QStringLiteral("name"), QStringLiteral("lag")};
        server.rows = {{QByteArray("pg-2"), std::nullopt},
                       {QByteArray(""), QByteArray("0.5")},
                       {QByteArray("\xc3\xa9t\xc3\xa9"), QByteArray("1")}};
        PgConnection c;
        QSignalSpy connected(&c, &PgConnection::connected);
        c.open(optionsFor(server.port(), QStringLiteral("localhost"))); // through the lookup
        QVERIFY(connected.wait(5000));
        QCOMPARE(c.serverVersion(), 150000);
        const auto startup = server.startupParameters();
        QCOMPARE(startup.value("user"), QByteArray("tester"));
        QCOMPARE(startup.value("database"), QByteArray("app"));
        QCOMPARE(startup.value("application_name"), QByteArray("pilothouse"));
        // So that dropping the connection stops a long query on the server too.
        QCOMPARE(startup.value("options"), QByteArray("-c client_connection_check_interval=1000"));

        Outcome one, two;
        c.query(QStringLiteral("select name, lag"), 2000, this, recorder(one));
        c.query(QStringLiteral("select 1; select 2"), 2000, this, recorder(two));
        QTRY_VERIFY_WITH_TIMEOUT(one.called && two.called, 5000);
        QVERIFY2(*one.result, why(*one.result).constData());
        const PgReply &reply = one.result->value();
        QCOMPARE(reply.size(), 1);
        const PgRows &rows = reply.first();
        QCOMPARE(rows.columns, QStringList({QStringLiteral("name"), QStringLiteral("lag")}));
        QCOMPARE(rows.commandTag, QStringLiteral("SELECT 3"));
        QCOMPARE(rows.rows.size(), 3);
        QCOMPARE(rows.value(0, u"name"), std::optional<QString>(QStringLiteral("pg-2")));
        QVERIFY(!rows.value(0, u"lag"));                                     // NULL
        QCOMPARE(rows.value(1, u"name"), std::optional<QString>(QString())); // empty, not NULL
        QCOMPARE(rows.text(2, u"name"), QStringLiteral("été"));
        QCOMPARE(rows.text(0, u"lag", QStringLiteral("n/a")), QStringLiteral("n/a"));
        QVERIFY(!rows.value(0, u"nope"));
        QVERIFY2(*two.result, why(*two.result).constData());
        QCOMPARE(two.result->value().size(), 2);
        // In the order asked, one at a time.
        QCOMPARE(server.queries(), QStringList({QStringLiteral("select name, lag"),
                                                QStringLiteral("select 1; select 2")}));
        QVERIFY(c.isConnected());
    }

    void queryLargerThanTheSocketBufferIsFlushedInParts()
    {
        // libpq cannot hand 16 MB to the kernel at once: PQflush() returns 1
        // and the rest must go out as the socket becomes writable.
        FakePgServer server(FakePgServer::Mode::Answer);
        PgConnection c;
        QSignalSpy connected(&c, &PgConnection::connected);
        c.open(optionsFor(server.port()));
        QVERIFY(connected.wait(5000));
        const QString sql = QStringLiteral("select '") + QString(16 * 1024 * 1024, u'x') +
                            QStringLiteral("' as big");
        Outcome out;
        c.query(sql, 20000, this, recorder(out));
        QTRY_VERIFY_WITH_TIMEOUT(out.called, 20000);
        QVERIFY2(*out.result, why(*out.result).constData());
        QCOMPARE(server.queries().size(), 1);
        QCOMPARE(server.queries().first().size(), sql.size());
        QVERIFY(c.isConnected());
    }

    void serverErrorNamesTheEndpoint()
    {
        FakePgServer server(FakePgServer::Mode::Answer);
        PgConnection c;
        QSignalSpy connected(&c, &PgConnection::connected);
        PgConnectOptions o = optionsFor(server.port());
        o.serverCheckIntervalMs = 0; // as for pgpool
        c.open(o);
        QVERIFY(connected.wait(5000));
        QVERIFY(!server.startupParameters().contains("options"));
        Outcome failed, after;
        c.query(QStringLiteral("fail please"), 2000, this, recorder(failed));
        c.query(QStringLiteral("select 1"), 2000, this, recorder(after));
        QTRY_VERIFY_WITH_TIMEOUT(failed.called && after.called, 5000);
        QVERIFY(!*failed.result);
        const QString message = failed.result->error().message;
        QVERIFY2(message.startsWith(QStringLiteral("pg-test (127.0.0.1:")) &&
                     message.contains(QStringLiteral("syntax error")),
                 qPrintable(message));
        QVERIFY(*after.result); // an SQL error leaves the connection usable
        QVERIFY(c.isConnected());
    }

    void queryTimeoutDropsTheConnection()
    {
        FakePgServer server(FakePgServer::Mode::NeverAnswer);
        PgConnection c;
        QSignalSpy connected(&c, &PgConnection::connected);
        QSignalSpy lost(&c, &PgConnection::connectionLost);
        c.open(optionsFor(server.port()));
        QVERIFY(connected.wait(5000));
        Outcome slow, queued;
        QElapsedTimer t;
        t.start();
        c.query(QStringLiteral("select pg_sleep(60)"), 200, this, recorder(slow));
        c.query(QStringLiteral("select 1"), 10000, this, recorder(queued));
        QTRY_VERIFY_WITH_TIMEOUT(slow.called && queued.called, 3000);
        QVERIFY(t.elapsed() < 2000);
        QVERIFY(!*slow.result);
        QVERIFY2(
            slow.result->error().message.endsWith(QStringLiteral("query timed out after 200 ms")),
            why(*slow.result).constData());
        QVERIFY(!*queued.result);
        QCOMPARE(lost.size(), 1);
        QCOMPARE(c.state(), PgConnection::State::Disconnected);
        // The server sees the socket close: that is what stops its work.
        QTRY_COMPARE_WITH_TIMEOUT(server.openConnections(), 0, 2000);
    }

    void cancelWaitingAndRunningQueries()
    {
        FakePgServer server(FakePgServer::Mode::NeverAnswer);
        PgConnection c;
        QSignalSpy connected(&c, &PgConnection::connected);
        QSignalSpy lost(&c, &PgConnection::connectionLost);
        c.open(optionsFor(server.port()));
        QVERIFY(connected.wait(5000));
        Outcome running, waiting;
        const quint64 first = c.query(QStringLiteral("select 1"), 10000, this, recorder(running));
        const quint64 second = c.query(QStringLiteral("select 2"), 10000, this, recorder(waiting));
        QVERIFY(c.cancel(second));
        QVERIFY(!c.cancel(second));
        QTRY_VERIFY_WITH_TIMEOUT(waiting.called, 1000);
        QVERIFY(waiting.result->error().message.endsWith(QStringLiteral("query cancelled")));
        QVERIFY(c.isConnected()); // a query that never left costs nothing
        QCOMPARE(lost.size(), 0);

        QVERIFY(c.cancel(first));
        QTRY_VERIFY_WITH_TIMEOUT(running.called, 1000);
        QVERIFY(!*running.result);
        QCOMPARE(lost.size(), 1);
        QVERIFY(!c.isConnected());
        QCOMPARE(server.queries(), QStringList{QStringLiteral("select 1")});
    }

    void callbackDroppedWithItsContext()
    {
        PgConnection c;
        bool called = false;
        auto *context = new QObject;
        c.query(QStringLiteral("select 1"), 1000, context,
                [&called](const Result<PgReply> &) { called = true; });
        delete context;
        QTest::qWait(50); // nothing to wait for: the point is that nothing comes
        QVERIFY(!called);
    }

    void terminatedBackendIsNoticedAtOnce()
    {
        FakePgServer server(FakePgServer::Mode::Answer);
        PgConnection c;
        QSignalSpy connected(&c, &PgConnection::connected);
        QSignalSpy lost(&c, &PgConnection::connectionLost);
        c.open(optionsFor(server.port()));
        QVERIFY(connected.wait(5000));
        QElapsedTimer t;
        t.start();
        server.terminateAll();
        QVERIFY(lost.wait(2000));
        QVERIFY(t.elapsed() < 1000);
        const QString message = lost.at(0).at(0).value<Error>().message;
        QVERIFY2(message.startsWith(QStringLiteral("pg-test (127.0.0.1:")), qPrintable(message));
        QVERIFY2(
            message.contains(QStringLiteral("terminating connection due to administrator command")),
            qPrintable(message));
        QCOMPARE(c.state(), PgConnection::State::Disconnected);
    }

    void sessionReconnectsWithBackoff()
    {
        FakePgServer server(FakePgServer::Mode::Answer);
        PgSession session;
        session.setBackoff(50, 400);
        QSignalSpy connected(&session, &PgSession::connected);
        QSignalSpy lost(&session, &PgSession::connectionLost);
        session.start(optionsFor(server.port()));
        QVERIFY(connected.wait(5000));
        server.terminateAll();
        QVERIFY(lost.wait(2000));
        QVERIFY(!session.lastError().message.isEmpty());
        QVERIFY(connected.wait(2000)); // back after the first step of the backoff
        QVERIFY(session.isConnected());
        QVERIFY(session.lastError().message.isEmpty());

        // Against nothing, the delay doubles up to the ceiling.
        PgSession refused;
        refused.setBackoff(50, 400);
        QSignalSpy failed(&refused, &PgSession::connectFailed);
        refused.start(optionsFor(closedPort()));
        QTRY_VERIFY_WITH_TIMEOUT(failed.size() >= 5, 5000);
        QCOMPARE(refused.nextRetryMs(), 400);
        refused.stop();
        const qsizetype after = failed.size();
        QTest::qWait(500); // stopped: no more attempts may come in this time
        QCOMPARE(failed.size(), after);
    }
};

QTEST_GUILESS_MAIN(TestPgConnection)
#include "tst_pgconnection.moc"
