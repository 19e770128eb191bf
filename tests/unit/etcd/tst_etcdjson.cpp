// The gateway's wire format, against answers captured from the lab's real
// etcd 3.4 (tests/fixtures/etcd/README.md says how).

#include "app/connectors/etcd/etcdjson.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>

#include "tests/testsupport.h"

using namespace Pilothouse;

namespace {

QByteArray fixture(const char *name)
{
    return TestSupport::fixture("etcd", name);
}

QByteArray compact(const QJsonObject &o)
{
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

} // namespace

class TestEtcdJson final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void prefixRangeEnd_data()
    {
        QTest::addColumn<QByteArray>("prefix");
        QTest::addColumn<QByteArray>("end");
        QTest::newRow("slash") << QByteArray("/pilothouse/") << QByteArray("/pilothouse0");
        QTest::newRow("letter") << QByteArray("abc") << QByteArray("abd");
        QTest::newRow("trailing ff") << QByteArray("a\xff\xff") << QByteArray("b");
        QTest::newRow("inner ff") << QByteArray("a\xff"
                                                "b")
                                  << QByteArray("a\xff"
                                                "c");
        QTest::newRow("all ff") << QByteArray("\xff\xff") << QByteArray(1, '\0');
        QTest::newRow("empty") << QByteArray() << QByteArray(1, '\0');
        QTest::newRow("0xfe") << QByteArray("x\xfe") << QByteArray("x\xff");
    }
    void prefixRangeEnd()
    {
        QFETCH(QByteArray, prefix);
        QFETCH(QByteArray, end);
        QCOMPARE(EtcdJson::prefixRangeEnd(prefix), end);
    }

    void rangeAndPutBodies()
    {
        EtcdRangeRequest range;
        range.key = "/p/";
        range.rangeEnd = EtcdJson::prefixRangeEnd(range.key);
        range.limit = 10;
        QCOMPARE(compact(EtcdJson::rangeRequest(range)),
                 QByteArray(R"({"key":"L3Av","limit":"10","range_end":"L3Aw"})"));
        EtcdPutRequest put;
        put.key = "k";
        put.value = "v";
        put.lease = 7587869170231409671;
        put.prevKv = true;
        QCOMPARE(
            compact(EtcdJson::putRequest(put)),
            QByteArray(
                R"({"key":"aw==","lease":"7587869170231409671","prev_kv":true,"value":"dg=="})"));
        QCOMPARE(compact(EtcdJson::leaseGrantRequest(15)), QByteArray(R"({"TTL":"15"})"));
        QCOMPARE(compact(EtcdJson::leaseIdRequest(42)), QByteArray(R"({"ID":"42"})"));
    }

    void lockTxnJson()
    {
        const EtcdTxn txn = EtcdJson::lockTxn("/pilothouse/lock", "console-1", 5015780827956757514);
        const QByteArray key = QByteArray("/pilothouse/lock").toBase64();
        // One raw literal with placeholders: moc 6.4 misreads adjacent raw literals.
        QByteArray expected =
            R"({"compare":[{"create_revision":"0","key":"KEY","result":"EQUAL","target":"CREATE"}],)"
            R"x("failure":[{"request_range":{"key":"KEY"}}],)x"
            R"x("success":[{"request_put":{"key":"KEY","lease":"5015780827956757514","value":"VALUE"}}]})x";
        expected.replace("KEY", key).replace("VALUE", QByteArray("console-1").toBase64());
        QCOMPARE(compact(EtcdJson::txnRequest(txn)), expected);
    }

    void txnCompareTargets()
    {
        EtcdTxn txn;
        txn.compare.append({"a", EtcdCompare::Target::Mod, EtcdCompare::Op::Less, 12, {}});
        txn.compare.append({"b", EtcdCompare::Target::Value, EtcdCompare::Op::NotEqual, 0, "x"});
        txn.compare.append({"c", EtcdCompare::Target::Version, EtcdCompare::Op::Greater, 0, {}});
        EtcdRequestOp del;
        del.kind = EtcdRequestOp::Kind::DeleteRange;
        del.key = "d";
        del.rangeEnd = "e";
        txn.success.append(del);
        const QJsonObject o = EtcdJson::txnRequest(txn);
        const QJsonArray cmp = o.value(QStringLiteral("compare")).toArray();
        QCOMPARE(cmp.size(), 3);
        QCOMPARE(
            compact(cmp.at(0).toObject()),
            QByteArray(R"({"key":"YQ==","mod_revision":"12","result":"LESS","target":"MOD"})"));
        QCOMPARE(
            compact(cmp.at(1).toObject()),
            QByteArray(R"({"key":"Yg==","result":"NOT_EQUAL","target":"VALUE","value":"eA=="})"));
        // A zero operand is still written: etcd reads the field the target names.
        QCOMPARE(
            compact(cmp.at(2).toObject()),
            QByteArray(R"({"key":"Yw==","result":"GREATER","target":"VERSION","version":"0"})"));
        QCOMPARE(compact(o.value(QStringLiteral("success")).toArray().at(0).toObject()),
                 QByteArray(R"({"request_delete_range":{"key":"ZA==","range_end":"ZQ=="}})"));
        QVERIFY(o.value(QStringLiteral("failure")).toArray().isEmpty());
    }

    void watchBody()
    {
        EtcdWatchRequest w;
        w.key = "/p/";
        w.rangeEnd = EtcdJson::prefixRangeEnd(w.key);
        w.startRevision = 9;
        w.prevKv = true;
        QCOMPARE(compact(EtcdJson::watchCreateRequest(w)),
                 QByteArray(R"({"create_request":{"key":"L3Av","prev_kv":true,"range_end":"L3Aw",)"
                            R"("start_revision":"9"}})"));
    }

    void health()
    {
        auto h = EtcdJson::parseHealth(200, fixture("health.json"));
        QVERIFY(h);
        QVERIFY(h.value().healthy);
        // What etcd 3.4 answers when the member has no leader.
        h = EtcdJson::parseHealth(503, R"({"health":"false"})");
        QVERIFY(h);
        QVERIFY(!h.value().healthy);
        QCOMPARE(h.value().httpStatus, 503);
        QVERIFY(!EtcdJson::parseHealth(502, "<html>bad gateway</html>"));
    }

    void status()
    {
        const auto s1 = EtcdJson::parseStatus(fixture("status-etcd1.json"));
        QVERIFY2(s1, s1 ? "" : qPrintable(s1.error().message));
        const EtcdStatus &s = s1.value();
        QCOMPARE(s.header.clusterId, Q_UINT64_C(4611591359819461075));
        QCOMPARE(s.header.memberId, Q_UINT64_C(13175292824932566427)); // > INT64_MAX: unsigned
        QCOMPARE(s.leader, Q_UINT64_C(13175292824932566427));
        QCOMPARE(s.version, QStringLiteral("3.4.23"));
        QCOMPARE(s.dbSize, 24576);
        QCOMPARE(s.raftTerm, 25u);
        QCOMPARE(s.raftIndex, 24u);
        QVERIFY(s.errors.isEmpty());
        const auto s2 = EtcdJson::parseStatus(fixture("status-etcd2.json"));
        QVERIFY(s2);
        QCOMPARE(s2.value().header.clusterId, s.header.clusterId);
        QCOMPARE(s2.value().leader, s.leader);
        QVERIFY(s2.value().header.memberId != s.header.memberId);

        const auto alarmed = EtcdJson::parseStatus(
            R"({"header":{"cluster_id":"1","member_id":"2"},"version":"3.4.23","leader":"2","errors":["NOSPACE"]})");
        QVERIFY(alarmed);
        QCOMPARE(alarmed.value().errors, QStringList{QStringLiteral("NOSPACE")});
        QVERIFY(!EtcdJson::parseStatus("{}"));
        QVERIFY(!EtcdJson::parseStatus(""));
    }

    void memberList()
    {
        const auto r = EtcdJson::parseMemberList(fixture("member-list.json"));
        QVERIFY(r);
        QCOMPARE(r.value().members.size(), 3);
        QStringList names;
        for (const EtcdMember &m : r.value().members)
            names.append(m.name);
        names.sort();
        QCOMPARE(names, (QStringList{QStringLiteral("etcd1"), QStringLiteral("etcd2"),
                                     QStringLiteral("etcd3")}));
        QCOMPARE(r.value().members.at(0).id, Q_UINT64_C(3781370828356667081));
        QCOMPARE(r.value().members.at(0).clientUrls,
                 QStringList{QStringLiteral("http://etcd2:2379")});
    }

    void kv()
    {
        const auto range = EtcdJson::parseRange(fixture("range-prefix.json"));
        QVERIFY(range);
        QCOMPARE(range.value().count, 2);
        QCOMPARE(range.value().kvs.size(), 2);
        const EtcdKeyValue &a = range.value().kvs.at(0);
        QVERIFY(a.key.startsWith("/pilothouse-fixture/"));
        QVERIFY(a.key.endsWith("/a"));
        QCOMPARE(a.value, QByteArray("world"));
        QCOMPARE(a.createRevision, 2);
        QCOMPARE(a.modRevision, 3);
        QCOMPARE(a.version, 2);
        QCOMPARE(range.value().kvs.at(1).value, QByteArray("second"));

        const auto missing = EtcdJson::parseRange(fixture("range-missing.json"));
        QVERIFY(missing);
        QVERIFY(missing.value().kvs.isEmpty());
        QCOMPARE(missing.value().count, 0);
        QCOMPARE(missing.value().header.revision, 4);

        const auto put = EtcdJson::parsePut(fixture("put.json"));
        QVERIFY(put);
        QVERIFY(!put.value().prevKv);
        QCOMPARE(put.value().header.revision, 2);
        const auto putPrev = EtcdJson::parsePut(fixture("put-prev-kv.json"));
        QVERIFY(putPrev);
        QVERIFY(putPrev.value().prevKv);
        QCOMPARE(putPrev.value().prevKv->value, QByteArray("hello"));

        const auto del = EtcdJson::parseDelete(fixture("delete.json"));
        QVERIFY(del);
        QCOMPARE(del.value().deleted, 1);
        QCOMPARE(del.value().prevKvs.size(), 1);
        QCOMPARE(del.value().prevKvs.at(0).value, QByteArray("second"));
    }

    void txnAndLeases()
    {
        const auto lease = EtcdJson::parseLeaseGrant(fixture("lease-grant.json"));
        QVERIFY(lease);
        QCOMPARE(lease.value().id, Q_INT64_C(5015780827956757514));
        QCOMPARE(lease.value().ttl, 30);

        const auto won = EtcdJson::parseTxn(fixture("txn-lock-won.json"));
        QVERIFY(won);
        QVERIFY(won.value().succeeded);
        QCOMPARE(won.value().responses.size(), 1);
        QCOMPARE(won.value().responses.at(0).kind, EtcdRequestOp::Kind::Put);

        const auto lost = EtcdJson::parseTxn(fixture("txn-lock-lost.json"));
        QVERIFY(lost);
        QVERIFY(!lost.value().succeeded); // the gateway omits "succeeded": false
        QCOMPARE(lost.value().responses.size(), 1);
        const EtcdResponseOp &holder = lost.value().responses.at(0);
        QCOMPARE(holder.kind, EtcdRequestOp::Kind::Range);
        QCOMPARE(holder.kvs.size(), 1);
        QCOMPARE(holder.kvs.at(0).value, QByteArray("holder-1"));
        QCOMPARE(holder.kvs.at(0).lease, lease.value().id);

        const auto alive = EtcdJson::parseLeaseKeepAlive(fixture("lease-keepalive.json"));
        QVERIFY(alive);
        QCOMPARE(alive.value().id, lease.value().id);
        QCOMPARE(alive.value().ttl, 30);
        const auto gone = EtcdJson::parseLeaseKeepAlive(fixture("lease-keepalive-gone.json"));
        QVERIFY(gone);
        QCOMPARE(gone.value().ttl, 0);

        const auto revoked = EtcdJson::parseLeaseRevoke(fixture("lease-revoke.json"));
        QVERIFY(revoked);
        QCOMPARE(revoked.value().revision, 7);
    }

    void numbersOutOfRangeReadAsZero()
    {
        // fuzz_etcd's input (2026-11-28): a bare JSON number far beyond 64
        // bits was converted to an integer (undefined behaviour under UBSan).
        const QByteArray leaseInput = "{\"result\":{\"header\":{\"caft_term\":\"25\"},\"ID\": "
                                      "5071000000000000000000000000000000000000289041397837875,"
                                      "\"veTTL\":\"30\"}}\n";
        const auto lease = EtcdJson::parseLeaseKeepAlive(leaseInput);
        QVERIFY(lease);
        QCOMPARE(lease.value().id, 0);
        const auto grant = EtcdJson::parseLeaseGrant(R"({"ID": -1e300, "TTL": 30})");
        QVERIFY(grant);
        QCOMPARE(grant.value().id, 0);
        QCOMPARE(grant.value().ttl, 30);
        const auto members = EtcdJson::parseMemberList(
            R"({"members": [{"ID": 1e40, "name": "etcd1"}, {"ID": -5, "name": "etcd2"}]})");
        QVERIFY(members);
        QCOMPARE(members.value().members.size(), 2);
        QCOMPARE(members.value().members.at(0).id, quint64(0));
        QCOMPARE(members.value().members.at(1).id, quint64(0));
    }

    void gatewayErrors_data()
    {
        QTest::addColumn<QByteArray>("file");
        QTest::addColumn<QString>("contains");
        QTest::newRow("lease gone") << QByteArray("error-lease-not-found.json")
                                    << QStringLiteral("(gRPC NOT_FOUND): the lease expired or was "
                                                      "revoked; grant a new lease");
        QTest::newRow("put unknown lease")
            << QByteArray("error-put-unknown-lease.json") << QStringLiteral("grant a new lease");
        QTest::newRow("truncated") << QByteArray("error-truncated-json.json")
                                   << QStringLiteral("unexpected EOF (gRPC INVALID_ARGUMENT): etcd "
                                                     "rejected the request as malformed");
        QTest::newRow("base64") << QByteArray("error-bad-base64.json")
                                << QStringLiteral("illegal base64 data");
    }
    void gatewayErrors()
    {
        QFETCH(QByteArray, file);
        QFETCH(QString, contains);
        const auto e = EtcdJson::gatewayError(fixture(file.constData()),
                                              QStringLiteral("etcd etcd1 at 10.213.0.11:2379: /x"));
        QVERIFY(e);
        QVERIFY2(e->message.startsWith(QStringLiteral("etcd etcd1 at 10.213.0.11:2379: /x: ")),
                 qPrintable(e->message));
        QVERIFY2(e->message.contains(contains), qPrintable(e->message));
    }

    void gatewayErrorsOther()
    {
        // Not errors: ordinary answers.
        QVERIFY(!EtcdJson::gatewayError(fixture("status-etcd1.json"), {}));
        QVERIFY(!EtcdJson::gatewayError("not json", {}));
        // The stream form of grpc-gateway errors, and codes without a known message.
        auto e = EtcdJson::gatewayError(
            R"({"error":{"grpc_code":14,"http_code":503,"message":"etcdserver: no leader","http_status":"Service Unavailable"}})",
            QStringLiteral("w"));
        QVERIFY(e);
        QVERIFY2(e->message.contains(QStringLiteral("UNAVAILABLE")), qPrintable(e->message));
        QVERIFY2(e->message.contains(QStringLiteral("lost quorum")), qPrintable(e->message));
        e = EtcdJson::gatewayError(
            R"({"error":"etcdserver: user name is empty","message":"etcdserver: user name is empty","code":16})",
            QStringLiteral("w"));
        QVERIFY(e);
        QVERIFY2(e->message.contains(QStringLiteral("authentication is enabled")),
                 qPrintable(e->message));
        e = EtcdJson::gatewayError(
            R"({"error":"etcdserver: mvcc: database space exceeded","code":8})",
            QStringLiteral("w"));
        QVERIFY(e && e->message.contains(QStringLiteral("NOSPACE")));
        QCOMPARE(EtcdJson::grpcCodeName(4), QStringLiteral("DEADLINE_EXCEEDED"));
        QCOMPARE(EtcdJson::grpcCodeName(99), QStringLiteral("code 99"));
    }

    void watchStream()
    {
        const QList<QByteArray> lines = fixture("watch-stream.ndjson").trimmed().split('\n');
        QVERIFY(lines.size() >= 5);
        const auto created = EtcdJson::parseWatchMessage(lines.at(0));
        QVERIFY(created);
        QVERIFY(created.value().created);
        QVERIFY(created.value().events.isEmpty());
        QList<EtcdEvent> events;
        for (qsizetype i = 1; i < lines.size(); ++i) {
            const auto m = EtcdJson::parseWatchMessage(lines.at(i));
            QVERIFY2(m, qPrintable(m ? QString() : m.error().message));
            QVERIFY(!m.value().created);
            events += m.value().events;
        }
        QCOMPARE(events.size(), 6); // put a, put a, put b, put lock, delete b, delete lock
        QCOMPARE(events.at(0).type, EtcdEvent::Type::Put);
        QCOMPARE(events.at(0).kv.value, QByteArray("hello"));
        QVERIFY(!events.at(0).prevKv);
        QCOMPARE(events.at(1).prevKv->value, QByteArray("hello"));
        QCOMPARE(events.at(1).kv.value, QByteArray("world"));
        QCOMPARE(events.at(4).type, EtcdEvent::Type::Delete);
        QVERIFY(events.at(4).kv.key.endsWith("/b"));
        QCOMPARE(events.at(4).prevKv->value, QByteArray("second"));
        QCOMPARE(events.at(5).type, EtcdEvent::Type::Delete); // the revoke deleted the lock
        QVERIFY(events.at(5).kv.key.endsWith("/lock"));
        QVERIFY(!EtcdJson::parseWatchMessage(R"({"nothing":1})"));
    }
};

QTEST_GUILESS_MAIN(TestEtcdJson)
#include "tst_etcdjson.moc"
