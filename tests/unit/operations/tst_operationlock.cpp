// The operation lock without a cluster: the holder's value and wording, the
// key, the refusal without quorum, and acquire() against members that do
// not answer (closed loopback ports).

#include "app/operations/operationlock.h"

#include <QCoreApplication>
#include <QJsonDocument>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTest>

using namespace Pilothouse;

namespace {

EtcdMemberState member(const QString &name, bool healthy, const QString &error = {})
{
    EtcdMemberState m;
    m.name = name;
    m.healthy = healthy;
    m.freshness.error = error;
    return m;
}

// A loopback port nobody listens on: connections are refused at once.
QUrl closedPort()
{
    QTcpServer s;
    if (!s.listen(QHostAddress::LocalHost))
        qFatal("cannot listen on loopback");
    QUrl url;
    url.setScheme(QStringLiteral("http"));
    url.setHost(QStringLiteral("127.0.0.1"));
    url.setPort(s.serverPort());
    return url; // closed when s goes
}

} // namespace

class TestOperationLock final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void holderRoundTripsAndReads()
    {
        OperationLockHolder h;
        h.operation = QStringLiteral("switchover");
        h.user = QStringLiteral("alice");
        h.host = QStringLiteral("ws1");
        h.pid = 123;
        h.since = QDateTime::currentDateTimeUtc();
        h.since.setTime(QTime(10, 2, 11));
        h.reason = QStringLiteral("kernel update");
        const QByteArray value = h.toValue();
        const QJsonObject o = QJsonDocument::fromJson(value).object();
        for (const char *key : {"operation", "user", "host", "pid", "since", "reason"})
            QVERIFY2(o.contains(QLatin1String(key)), key);
        QVERIFY(!o.contains(QStringLiteral("lease")));
        const auto back = OperationLockHolder::fromValue(value);
        QVERIFY(back);
        QCOMPARE(back->pid, 123);
        QCOMPARE(back->since, h.since);
        const QString local = h.since.toLocalTime().toString(QStringLiteral("HH:mm:ss"));
        QCOMPARE(back->describe(),
                 QStringLiteral("switchover by alice@ws1 since %1 (pid 123), reason: kernel update")
                     .arg(local));
        QVERIFY(!OperationLockHolder::fromValue("console-a"));
        QVERIFY(!OperationLockHolder::fromValue("{\"user\":\"x\"}"));

        const auto me =
            OperationLockHolder::current(QStringLiteral("drill"), QStringLiteral("why"));
        QCOMPARE(me.pid, QCoreApplication::applicationPid());
        QVERIFY(!me.user.isEmpty());
        QVERIFY(!me.host.isEmpty());
        QVERIFY(qAbs(me.since.secsTo(QDateTime::currentDateTimeUtc())) < 5);
    }

    void keyIsOnePerCluster()
    {
        QCOMPARE(OperationLock::keyFor(QStringLiteral("pilothouse")),
                 QByteArray("/pilothouse/pilothouse/lock"));
    }

    void noQuorumRefusesAndSaysWhy()
    {
        EtcdState state;
        state.members = {
            member(QStringLiteral("etcd1"), true),
            member(QStringLiteral("etcd2"), false, QStringLiteral("connection refused")),
            member(QStringLiteral("etcd3"), false)};
        state.clusterSize = 3;
        state.healthyMembers = 1;
        state.quorum = false;
        const auto refusal = OperationLock::quorumRefusal(state, QStringLiteral("switchover"));
        QVERIFY(refusal);
        const QString m = refusal->message;
        QVERIFY2(m.startsWith(QStringLiteral("refusing to start switchover: etcd has no quorum "
                                             "(1 of 3 members healthy, 2 needed; down: etcd2 "
                                             "(connection refused), etcd3)")),
                 qPrintable(m));
        state.healthyMembers = 2;
        state.quorum = true;
        QVERIFY(!OperationLock::quorumRefusal(state, QStringLiteral("switchover")));
    }

    void acquireWithoutEtcdFailsWithTheReason()
    {
        const QList<EtcdClusterProbe::Member> members{
            {QStringLiteral("etcd1"), QStringLiteral("h1"), closedPort()},
            {QStringLiteral("etcd2"), QStringLiteral("h2"), closedPort()},
            {QStringLiteral("etcd3"), QStringLiteral("h3"), closedPort()}};
        OperationLock lock(members, "/t/lock",
                           OperationLockHolder::current(QStringLiteral("switchover"), {}));
        lock.setTimeout(2000);
        QSignalSpy failed(&lock, &OperationLock::failed);
        QSignalSpy acquired(&lock, &OperationLock::acquired);
        lock.acquire();
        QVERIFY(failed.wait(10000));
        QCOMPARE(acquired.size(), 0);
        const auto e = failed.at(0).at(0).value<Error>();
        QVERIFY2(e.message.contains(QStringLiteral("etcd has no quorum (0 of 3")),
                 qPrintable(e.message));
        QCOMPARE(lock.state(), OperationLock::State::Idle);

        // Without the quorum probe, the grant fails on every member in turn.
        lock.setRequireQuorum(false);
        lock.acquire();
        QVERIFY(failed.wait(10000));
        QVERIFY2(failed.at(1).at(0).value<Error>().message.contains(QStringLiteral("etcd")),
                 qPrintable(failed.at(1).at(0).value<Error>().message));
        QCOMPARE(lock.state(), OperationLock::State::Idle);
    }

    void noMembersFails()
    {
        OperationLock lock({}, "/t/lock", OperationLockHolder::current(QStringLiteral("x"), {}));
        QSignalSpy failed(&lock, &OperationLock::failed);
        lock.acquire();
        QVERIFY(failed.wait(2000));
    }
};

QTEST_GUILESS_MAIN(TestOperationLock)
#include "tst_operationlock.moc"
