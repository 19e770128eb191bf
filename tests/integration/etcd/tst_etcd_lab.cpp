// The etcd connector against the lab's real three-member etcd 3.4: every
// member asked directly, KV/txn/lease/watch round trips and the lease-backed
// lock contended by two clients. Writes only under /pilothouse-test/<random>/
// and deletes it at the end.

#include "app/connectors/etcd/etcdclient.h"
#include "app/connectors/etcd/etcdclusterprobe.h"
#include "app/connectors/etcd/etcdjson.h"
#include "app/connectors/etcd/etcdlock.h"
#include "app/connectors/etcd/etcdwatch.h"

#include <QRandomGenerator>
#include <QSet>
#include <QSignalSpy>
#include <QTest>

#include "tests/integration/labaccess.h"
#include "tests/testsupport.h"
#include <memory>

using namespace Pilothouse;

namespace {

constexpr int AnswerMs = 10000;

template<typename T, typename Call> std::optional<Result<T>> await(Call call)
{
    return TestSupport::await<T>(std::move(call), AnswerMs);
}

} // namespace

class TestEtcdLab final : public QObject
{
    Q_OBJECT

private:
    LabAccess m_lab;
    QList<EtcdClusterProbe::Member> m_members;
    std::unique_ptr<EtcdClient> m_one;
    std::unique_ptr<EtcdClient> m_two;
    QByteArray m_prefix;

    std::unique_ptr<EtcdClient> clientFor(int index) const
    {
        const auto &m = m_members.at(index);
        return std::make_unique<EtcdClient>(m.endpoint, m.name);
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY2(m_lab.open(), qPrintable(m_lab.error()));
        m_members = EtcdClusterProbe::membersOf(m_lab.inventory());
        QCOMPARE(m_members.size(), 3);
        m_one = clientFor(0);
        m_two = clientFor(1);
        m_prefix = "/pilothouse-test/" +
                   QByteArray::number(QRandomGenerator::global()->generate64(), 16) + '/';
    }

    void cleanupTestCase()
    {
        if (!m_one)
            return;
        const auto r = await<EtcdDeleteResult>([&](auto done) {
            m_one->deleteRange({m_prefix, EtcdJson::prefixRangeEnd(m_prefix), false}, this, done);
        });
        REQUIRE_OK(r);
        const auto left = await<EtcdRangeResult>([&](auto done) {
            m_one->range({m_prefix, EtcdJson::prefixRangeEnd(m_prefix), 0, 0, false, true}, this,
                         done);
        });
        REQUIRE_OK(left);
        QCOMPARE(left->value().count, 0);
    }

    void allMembersAgree()
    {
        EtcdClusterProbe probe(m_members);
        QSignalSpy spy(&probe, &EtcdClusterProbe::finished);
        probe.refresh();
        QVERIFY(spy.wait(AnswerMs));
        const auto reading = spy.at(0).at(0).value<EtcdReading>();
        QStringList findings;
        for (const Finding &f : reading.findings)
            findings.append(f.message);
        QVERIFY2(findings.isEmpty(), qPrintable(findings.join(u'\n')));
        QCOMPARE(reading.state.members.size(), 3);
        QCOMPARE(reading.state.clusterSize, 3);
        QCOMPARE(reading.state.healthyMembers, 3);
        QVERIFY(reading.state.quorum);
        QSet<QString> leaderViews;
        int leaders = 0;
        for (const EtcdMemberState &m : reading.state.members) {
            QVERIFY2(m.healthy, qPrintable(m.name + u' ' + m.freshness.error));
            leaderViews.insert(m.leaderId);
            leaders += m.isLeader ? 1 : 0;
            QVERIFY(m.version.startsWith(QStringLiteral("3.")));
            QVERIFY(m.raftTerm > 0);
        }
        QCOMPARE(leaders, 1);
        QCOMPARE(leaderViews.size(), 1);
        QVERIFY(probe.lastMemberList());
        QCOMPARE(probe.lastMemberList()->members.size(), 3);

        // Each member's own answer: one cluster_id, distinct member ids that
        // the member list knows.
        QSet<quint64> clusterIds;
        QSet<quint64> memberIds;
        QSet<quint64> listed;
        for (const EtcdMember &m : probe.lastMemberList()->members)
            listed.insert(m.id);
        for (const auto &member : std::as_const(m_members)) {
            EtcdClient c(member.endpoint, member.name);
            const auto s = await<EtcdStatus>([&](auto done) { c.status(this, done); });
            REQUIRE_OK(s);
            clusterIds.insert(s->value().header.clusterId);
            memberIds.insert(s->value().header.memberId);
            QVERIFY(listed.contains(s->value().header.memberId));
            QVERIFY(listed.contains(s->value().leader));
        }
        QCOMPARE(clusterIds.size(), 1);
        QCOMPARE(memberIds.size(), 3);
    }

    void kvAndTxnRoundTrip()
    {
        const QByteArray a = m_prefix + "kv/a";
        const QByteArray b = m_prefix + "kv/b";
        auto put = await<EtcdPutResult>([&](auto done) {
            m_one->put({a, "alpha", 0, false}, this, done);
        });
        REQUIRE_OK(put);
        put = await<EtcdPutResult>([&](auto done) {
            m_two->put({b, QByteArray("\x00\xff bin", 6), 0, false}, this, done);
        });
        REQUIRE_OK(put);
        // Written through etcd2, read through etcd1: the same store.
        auto range = await<EtcdRangeResult>([&](auto done) {
            m_one->range(
                {m_prefix + "kv/", EtcdJson::prefixRangeEnd(m_prefix + "kv/"), 0, 0, false, false},
                this, done);
        });
        REQUIRE_OK(range);
        QCOMPARE(range->value().count, 2);
        QCOMPARE(range->value().kvs.at(0).key, a);
        QCOMPARE(range->value().kvs.at(0).value, QByteArray("alpha"));
        QCOMPARE(range->value().kvs.at(1).value, QByteArray("\x00\xff bin", 6));
        const qint64 modA = range->value().kvs.at(0).modRevision;

        // Compare-and-swap on mod_revision: the first wins, the stale one fails.
        EtcdTxn cas;
        cas.compare.append({a, EtcdCompare::Target::Mod, EtcdCompare::Op::Equal, modA, {}});
        EtcdRequestOp set;
        set.kind = EtcdRequestOp::Kind::Put;
        set.key = a;
        set.value = "beta";
        cas.success.append(set);
        EtcdRequestOp get;
        get.key = a;
        cas.failure.append(get);
        auto txn = await<EtcdTxnResult>([&](auto done) { m_one->txn(cas, this, done); });
        REQUIRE_OK(txn);
        QVERIFY(txn->value().succeeded);
        txn = await<EtcdTxnResult>([&](auto done) { m_two->txn(cas, this, done); });
        REQUIRE_OK(txn);
        QVERIFY(!txn->value().succeeded);
        QCOMPARE(txn->value().responses.at(0).kvs.at(0).value, QByteArray("beta"));

        // Compare on value.
        EtcdTxn byValue;
        byValue.compare.append({b, EtcdCompare::Target::Value, EtcdCompare::Op::Equal, 0,
                                QByteArray("\x00\xff bin", 6)});
        EtcdRequestOp del;
        del.kind = EtcdRequestOp::Kind::DeleteRange;
        del.key = b;
        byValue.success.append(del);
        txn = await<EtcdTxnResult>([&](auto done) { m_one->txn(byValue, this, done); });
        REQUIRE_OK(txn);
        QVERIFY(txn->value().succeeded);
        QCOMPARE(txn->value().responses.at(0).deleted, 1);
    }

    void leaseRoundTrip()
    {
        const auto lease = await<EtcdLease>([&](auto done) { m_one->leaseGrant(10, this, done); });
        REQUIRE_OK(lease);
        const qint64 id = lease->value().id;
        QVERIFY(id != 0);
        QCOMPARE(lease->value().ttl, 10);
        const QByteArray key = m_prefix + "lease/k";
        const auto put = await<EtcdPutResult>([&](auto done) {
            m_one->put({key, "v", id, false}, this, done);
        });
        REQUIRE_OK(put);
        const auto alive =
            await<EtcdLease>([&](auto done) { m_two->leaseKeepAlive(id, this, done); });
        REQUIRE_OK(alive);
        QCOMPARE(alive->value().id, id);
        QVERIFY(alive->value().ttl > 0);
        const auto revoked =
            await<EtcdHeader>([&](auto done) { m_one->leaseRevoke(id, this, done); });
        REQUIRE_OK(revoked);
        // The key went with its lease.
        const auto range = await<EtcdRangeResult>([&](auto done) {
            m_one->range({key, {}, 0, 0, false, false}, this, done);
        });
        REQUIRE_OK(range);
        QCOMPARE(range->value().count, 0);
        const auto gone =
            await<EtcdLease>([&](auto done) { m_one->leaseKeepAlive(id, this, done); });
        REQUIRE_OK(gone);
        QCOMPARE(gone->value().ttl, 0);
        // A second revoke is etcd's NOT_FOUND, mapped to a message with a remedy.
        const auto again =
            await<EtcdHeader>([&](auto done) { m_one->leaseRevoke(id, this, done); });
        QVERIFY(again && !again->ok());
        QVERIFY2(again->error().message.contains(QStringLiteral("grant a new lease")),
                 qPrintable(again->error().message));
        QVERIFY(again->error().message.contains(m_members.at(0).endpoint.host()));
    }

    void watchSeesChanges()
    {
        const QByteArray dir = m_prefix + "watch/";
        EtcdWatch *watch = m_two->watch({dir, EtcdJson::prefixRangeEnd(dir), 0, true}, this);
        QList<EtcdEvent> events;
        QString failure;
        connect(watch, &EtcdWatch::eventReceived, this,
                [&](const EtcdEvent &e, qint64) { events.append(e); });
        connect(watch, &EtcdWatch::failed, this, [&](const Error &e) { failure = e.message; });
        QTRY_VERIFY_WITH_TIMEOUT(watch->isCreated() || !failure.isEmpty(), AnswerMs);
        QVERIFY2(failure.isEmpty(), qPrintable(failure));

        for (const char *v : {"one", "two"}) {
            const auto put = await<EtcdPutResult>([&](auto done) {
                m_one->put({dir + "x", v, 0, false}, this, done);
            });
            REQUIRE_OK(put);
        }
        const auto outside = await<EtcdPutResult>([&](auto done) {
            m_one->put({m_prefix + "elsewhere", "n", 0, false}, this, done);
        });
        REQUIRE_OK(outside);
        const auto del = await<EtcdDeleteResult>([&](auto done) {
            m_one->deleteRange({dir + "x", {}, false}, this, done);
        });
        REQUIRE_OK(del);
        QTRY_COMPARE_WITH_TIMEOUT(events.size(), 3, AnswerMs);
        QCOMPARE(events.at(0).type, EtcdEvent::Type::Put);
        QCOMPARE(events.at(0).kv.value, QByteArray("one"));
        QCOMPARE(events.at(1).kv.value, QByteArray("two"));
        QCOMPARE(events.at(1).prevKv->value, QByteArray("one"));
        QCOMPARE(events.at(2).type, EtcdEvent::Type::Delete);
        QCOMPARE(events.at(2).kv.key, dir + "x");
        watch->cancel();
        QVERIFY(failure.isEmpty());
        delete watch;
    }

    void lockContention()
    {
        const QByteArray key = m_prefix + "lock";
        std::unique_ptr<EtcdClient> clients[2] = {clientFor(0), clientFor(2)};
        qint64 leases[2] = {0, 0};
        for (int i = 0; i < 2; ++i) {
            const auto l =
                await<EtcdLease>([&](auto done) { clients[i]->leaseGrant(15, this, done); });
            REQUIRE_OK(l);
            leases[i] = l->value().id;
        }
        // Both ask at once, through different members.
        std::optional<Result<EtcdTxnResult>> answers[2];
        for (int i = 0; i < 2; ++i) {
            const QByteArray who = "console-" + QByteArray::number(i);
            clients[i]->txn(
                EtcdJson::lockTxn(key, who, leases[i]), this,
                [&answers, i](Result<EtcdTxnResult> r) { answers[i].emplace(std::move(r)); });
        }
        QTRY_VERIFY_WITH_TIMEOUT(answers[0] && answers[1], AnswerMs);
        REQUIRE_OK(answers[0]);
        REQUIRE_OK(answers[1]);
        const bool won0 = answers[0]->value().succeeded;
        const bool won1 = answers[1]->value().succeeded;
        QVERIFY2(won0 != won1, "exactly one client must hold the lock");
        const int winner = won0 ? 0 : 1;
        const int loser = 1 - winner;
        // The loser learns who holds it and under which lease.
        const EtcdResponseOp &seen = answers[loser]->value().responses.at(0);
        QCOMPARE(seen.kvs.size(), 1);
        QCOMPARE(seen.kvs.at(0).value, "console-" + QByteArray::number(winner));
        QCOMPARE(seen.kvs.at(0).lease, leases[winner]);

        const auto kept = await<EtcdLease>(
            [&](auto done) { clients[winner]->leaseKeepAlive(leases[winner], this, done); });
        REQUIRE_OK(kept);
        QVERIFY(kept->value().ttl > 0);
        // Still held: a retry by the loser fails.
        auto retry = await<EtcdTxnResult>([&](auto done) {
            clients[loser]->txn(EtcdJson::lockTxn(key, "again", leases[loser]), this, done);
        });
        REQUIRE_OK(retry);
        QVERIFY(!retry->value().succeeded);

        // Released by revoking the lease: the loser can take it now.
        const auto revoked = await<EtcdHeader>(
            [&](auto done) { clients[winner]->leaseRevoke(leases[winner], this, done); });
        REQUIRE_OK(revoked);
        retry = await<EtcdTxnResult>([&](auto done) {
            clients[loser]->txn(EtcdJson::lockTxn(key, "again", leases[loser]), this, done);
        });
        REQUIRE_OK(retry);
        QVERIFY(retry->value().succeeded);
        const auto done = await<EtcdHeader>(
            [&](auto cb) { clients[loser]->leaseRevoke(leases[loser], this, cb); });
        REQUIRE_OK(done);
    }

    void etcdLockContention()
    {
        const QByteArray key = m_prefix + "operation-lock";
        std::unique_ptr<EtcdClient> clients[2] = {clientFor(1), clientFor(2)};
        EtcdLock a(clients[0].get(), key, "console-a", 3);
        EtcdLock b(clients[1].get(), key, "console-b", 3);
        int acquired = 0;
        QList<QByteArray> busyHolders;
        QStringList errors;
        for (EtcdLock *l : {&a, &b}) {
            connect(l, &EtcdLock::acquired, this, [&] { ++acquired; });
            connect(l, &EtcdLock::busy, this,
                    [&](const QByteArray &holder, qint64) { busyHolders.append(holder); });
            connect(l, &EtcdLock::failed, this, [&](const Error &e) { errors.append(e.message); });
            connect(l, &EtcdLock::lost, this, [&](const Error &e) { errors.append(e.message); });
        }
        a.acquire();
        b.acquire();
        QTRY_COMPARE_WITH_TIMEOUT(acquired + busyHolders.size() + errors.size(), 2, AnswerMs);
        QVERIFY2(errors.isEmpty(), qPrintable(errors.join(u'\n')));
        QCOMPARE(acquired, 1);
        EtcdLock &winner = a.state() == EtcdLock::State::Held ? a : b;
        EtcdLock &loser = &winner == &a ? b : a;
        QCOMPARE(busyHolders, QList<QByteArray>{&winner == &a ? "console-a" : "console-b"});

        // Held past its TTL (3 s, renewed every 1 s): only keepalives can do that.
        QTest::qWait(4000); // a duration under test, not a wait for an event
        QCOMPARE(winner.state(), EtcdLock::State::Held);
        QVERIFY2(errors.isEmpty(), qPrintable(errors.join(u'\n')));
        loser.acquire();
        QTRY_COMPARE_WITH_TIMEOUT(busyHolders.size(), 2, AnswerMs);

        bool released = false;
        connect(&winner, &EtcdLock::released, this, [&] { released = true; });
        winner.release();
        QTRY_VERIFY_WITH_TIMEOUT(released, AnswerMs);
        loser.acquire();
        QTRY_COMPARE_WITH_TIMEOUT(acquired, 2, AnswerMs);
        QCOMPARE(loser.state(), EtcdLock::State::Held);
        bool loserReleased = false;
        connect(&loser, &EtcdLock::released, this, [&] { loserReleased = true; });
        loser.release();
        QTRY_VERIFY_WITH_TIMEOUT(loserReleased, AnswerMs);
        QVERIFY2(errors.isEmpty(), qPrintable(errors.join(u'\n')));
    }

    void unreachableMemberIsAnError()
    {
        // The lab's bridge address: nothing listens on 2379 there.
        QUrl url(QStringLiteral("http://10.213.0.1:2379"));
        EtcdClient c(url, QStringLiteral("nowhere"));
        c.setTimeout(2000);
        const auto s = await<EtcdStatus>([&](auto done) { c.status(this, done); });
        QVERIFY(s && !s->ok());
        QVERIFY2(s->error().message.startsWith(QStringLiteral("etcd nowhere at 10.213.0.1:2379")),
                 qPrintable(s->error().message));
    }
};

QTEST_GUILESS_MAIN(TestEtcdLab)
#include "tst_etcd_lab.moc"
