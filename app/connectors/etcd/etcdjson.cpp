#include "app/connectors/etcd/etcdjson.h"

#include "app/connectors/etcd/etcderror_p.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonParseError>

namespace Pilothouse::EtcdJson {
namespace {

QString b64(const QByteArray &bytes)
{
    return QString::fromLatin1(bytes.toBase64());
}

// The gateway prints int64/uint64 as strings and leaves out zero values;
// accept numbers too, so that a hand-written fixture or a future gateway works.
// A number outside the type's range (or not a number) reads as 0, like a
// string that does not parse: converting it would be undefined behaviour
// (found by fuzz_etcd: an ID of 5.07e54).
quint64 toUInt64(const QJsonValue &v)
{
    if (v.isString())
        return v.toString().toULongLong();
    if (v.isDouble()) {
        const double d = v.toDouble();
        return d >= 0 && d < 18446744073709551616.0 ? static_cast<quint64>(d) : 0;
    }
    return 0;
}

qint64 toInt64(const QJsonValue &v)
{
    if (v.isString())
        return v.toString().toLongLong();
    if (v.isDouble()) {
        const double d = v.toDouble();
        return d >= -9223372036854775808.0 && d < 9223372036854775808.0 ? static_cast<qint64>(d)
                                                                        : 0;
    }
    return 0;
}

QByteArray fromB64(const QJsonValue &v)
{
    return QByteArray::fromBase64(v.toString().toLatin1());
}

QString number(qint64 n)
{
    return QString::number(n);
}

Result<QJsonObject> parseObject(const QByteArray &body, const char *what)
{
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(body, &pe);
    if (pe.error != QJsonParseError::NoError || !doc.isObject()) {
        QString excerpt = QString::fromUtf8(body.left(120)).simplified();
        return makeError(
            QStringLiteral("malformed %1 answer (not a JSON object: %2 at offset %3): %4")
                .arg(QLatin1String(what), pe.errorString())
                .arg(pe.offset)
                .arg(excerpt.isEmpty() ? QStringLiteral("<empty>") : excerpt));
    }
    return doc.object();
}

EtcdHeader header(const QJsonObject &o)
{
    const QJsonObject h = o.value(QLatin1String("header")).toObject();
    EtcdHeader out;
    out.clusterId = toUInt64(h.value(QLatin1String("cluster_id")));
    out.memberId = toUInt64(h.value(QLatin1String("member_id")));
    out.revision = toInt64(h.value(QLatin1String("revision")));
    out.raftTerm = toUInt64(h.value(QLatin1String("raft_term")));
    return out;
}

EtcdKeyValue keyValue(const QJsonObject &o)
{
    EtcdKeyValue kv;
    kv.key = fromB64(o.value(QLatin1String("key")));
    kv.value = fromB64(o.value(QLatin1String("value")));
    kv.createRevision = toInt64(o.value(QLatin1String("create_revision")));
    kv.modRevision = toInt64(o.value(QLatin1String("mod_revision")));
    kv.version = toInt64(o.value(QLatin1String("version")));
    kv.lease = toInt64(o.value(QLatin1String("lease")));
    return kv;
}

QList<EtcdKeyValue> keyValues(const QJsonValue &v)
{
    QList<EtcdKeyValue> out;
    const QJsonArray a = v.toArray();
    out.reserve(a.size());
    for (const QJsonValue &e : a)
        out.append(keyValue(e.toObject()));
    return out;
}

QStringList strings(const QJsonValue &v)
{
    QStringList out;
    for (const QJsonValue &e : v.toArray())
        out.append(e.toString());
    return out;
}

QString compareTarget(EtcdCompare::Target t)
{
    switch (t) {
    case EtcdCompare::Target::Version:
        return QStringLiteral("VERSION");
    case EtcdCompare::Target::Create:
        return QStringLiteral("CREATE");
    case EtcdCompare::Target::Mod:
        return QStringLiteral("MOD");
    case EtcdCompare::Target::Value:
        return QStringLiteral("VALUE");
    case EtcdCompare::Target::Lease:
        return QStringLiteral("LEASE");
    }
    return {};
}

QString compareOp(EtcdCompare::Op op)
{
    switch (op) {
    case EtcdCompare::Op::Equal:
        return QStringLiteral("EQUAL");
    case EtcdCompare::Op::Greater:
        return QStringLiteral("GREATER");
    case EtcdCompare::Op::Less:
        return QStringLiteral("LESS");
    case EtcdCompare::Op::NotEqual:
        return QStringLiteral("NOT_EQUAL");
    }
    return {};
}

QJsonObject compare(const EtcdCompare &c)
{
    // The target's field is always written, even when it is 0: etcd compares
    // against the field of the oneof that matches the target.
    QJsonObject o{{QStringLiteral("key"), b64(c.key)},
                  {QStringLiteral("target"), compareTarget(c.target)},
                  {QStringLiteral("result"), compareOp(c.op)}};
    switch (c.target) {
    case EtcdCompare::Target::Version:
        o.insert(QStringLiteral("version"), number(c.number));
        break;
    case EtcdCompare::Target::Create:
        o.insert(QStringLiteral("create_revision"), number(c.number));
        break;
    case EtcdCompare::Target::Mod:
        o.insert(QStringLiteral("mod_revision"), number(c.number));
        break;
    case EtcdCompare::Target::Value:
        o.insert(QStringLiteral("value"), b64(c.value));
        break;
    case EtcdCompare::Target::Lease:
        o.insert(QStringLiteral("lease"), number(c.number));
        break;
    }
    return o;
}

QJsonObject requestOp(const EtcdRequestOp &op)
{
    switch (op.kind) {
    case EtcdRequestOp::Kind::Range:
        return {{QStringLiteral("request_range"),
                 rangeRequest(EtcdRangeRequest{op.key, op.rangeEnd, 0, 0, false, false})}};
    case EtcdRequestOp::Kind::Put:
        return {{QStringLiteral("request_put"),
                 putRequest(EtcdPutRequest{op.key, op.value, op.lease, op.prevKv})}};
    case EtcdRequestOp::Kind::DeleteRange:
        return {{QStringLiteral("request_delete_range"),
                 deleteRequest(EtcdDeleteRequest{op.key, op.rangeEnd, op.prevKv})}};
    }
    return {};
}

QJsonArray requestOps(const QList<EtcdRequestOp> &ops)
{
    QJsonArray a;
    for (const EtcdRequestOp &op : ops)
        a.append(requestOp(op));
    return a;
}

// What a person can do about a gRPC failure of etcd; empty when the message
// says it all.
QString hint(int code, const QString &message)
{
    if (message.contains(QLatin1String("requested lease not found")))
        return QStringLiteral("the lease expired or was revoked; grant a new lease");
    if (message.contains(QLatin1String("no leader")))
        return QStringLiteral("this member has no leader: the cluster may have lost quorum; "
                              "check that a majority of members is up and can reach each other");
    if (message.contains(QLatin1String("database space exceeded")))
        return QStringLiteral("the NOSPACE alarm is raised: compact and defragment etcd, then "
                              "disarm the alarm");
    if (message.contains(QLatin1String("has been compacted")))
        return QStringLiteral("that revision was compacted away: read the current state and "
                              "watch from its revision");
    switch (code) {
    case 3:
        return QStringLiteral("etcd rejected the request as malformed; this is a Pilothouse bug, "
                              "please report it with this message");
    case 4:
        return QStringLiteral("the cluster did not commit in time: check quorum, the network "
                              "between members and disk latency");
    case 7:
    case 16:
        return QStringLiteral("authentication is enabled on this etcd: Pilothouse needs a user "
                              "with access to its keys");
    case 12:
        return QStringLiteral("this etcd version does not offer the call");
    case 14:
        return QStringLiteral("the member cannot serve requests now; try another member and "
                              "check its health");
    default:
        return {};
    }
}

} // namespace

QByteArray prefixRangeEnd(const QByteArray &prefix)
{
    QByteArray end = prefix;
    for (qsizetype i = end.size() - 1; i >= 0; --i) {
        if (static_cast<unsigned char>(end.at(i)) < 0xff) {
            end[i] = static_cast<char>(static_cast<unsigned char>(end.at(i)) + 1);
            end.truncate(i + 1);
            return end;
        }
    }
    return QByteArray(1, '\0');
}

QJsonObject rangeRequest(const EtcdRangeRequest &r)
{
    QJsonObject o{{QStringLiteral("key"), b64(r.key)}};
    if (!r.rangeEnd.isEmpty())
        o.insert(QStringLiteral("range_end"), b64(r.rangeEnd));
    if (r.limit > 0)
        o.insert(QStringLiteral("limit"), number(r.limit));
    if (r.revision > 0)
        o.insert(QStringLiteral("revision"), number(r.revision));
    if (r.keysOnly)
        o.insert(QStringLiteral("keys_only"), true);
    if (r.countOnly)
        o.insert(QStringLiteral("count_only"), true);
    return o;
}

QJsonObject putRequest(const EtcdPutRequest &r)
{
    QJsonObject o{{QStringLiteral("key"), b64(r.key)}, {QStringLiteral("value"), b64(r.value)}};
    if (r.lease != 0)
        o.insert(QStringLiteral("lease"), number(r.lease));
    if (r.prevKv)
        o.insert(QStringLiteral("prev_kv"), true);
    return o;
}

QJsonObject deleteRequest(const EtcdDeleteRequest &r)
{
    QJsonObject o{{QStringLiteral("key"), b64(r.key)}};
    if (!r.rangeEnd.isEmpty())
        o.insert(QStringLiteral("range_end"), b64(r.rangeEnd));
    if (r.prevKv)
        o.insert(QStringLiteral("prev_kv"), true);
    return o;
}

QJsonObject txnRequest(const EtcdTxn &txn)
{
    QJsonArray cmp;
    for (const EtcdCompare &c : txn.compare)
        cmp.append(compare(c));
    return {{QStringLiteral("compare"), cmp},
            {QStringLiteral("success"), requestOps(txn.success)},
            {QStringLiteral("failure"), requestOps(txn.failure)}};
}

QJsonObject leaseGrantRequest(qint64 ttlSeconds, qint64 id)
{
    QJsonObject o{{QStringLiteral("TTL"), number(ttlSeconds)}};
    if (id != 0)
        o.insert(QStringLiteral("ID"), number(id));
    return o;
}

QJsonObject leaseIdRequest(qint64 id)
{
    return {{QStringLiteral("ID"), number(id)}};
}

QJsonObject watchCreateRequest(const EtcdWatchRequest &r)
{
    QJsonObject c{{QStringLiteral("key"), b64(r.key)}};
    if (!r.rangeEnd.isEmpty())
        c.insert(QStringLiteral("range_end"), b64(r.rangeEnd));
    if (r.startRevision > 0)
        c.insert(QStringLiteral("start_revision"), number(r.startRevision));
    if (r.prevKv)
        c.insert(QStringLiteral("prev_kv"), true);
    return {{QStringLiteral("create_request"), c}};
}

EtcdTxn lockTxn(const QByteArray &key, const QByteArray &value, qint64 lease)
{
    EtcdTxn txn;
    txn.compare.append(
        EtcdCompare{key, EtcdCompare::Target::Create, EtcdCompare::Op::Equal, 0, {}});
    EtcdRequestOp put;
    put.kind = EtcdRequestOp::Kind::Put;
    put.key = key;
    put.value = value;
    put.lease = lease;
    txn.success.append(put);
    EtcdRequestOp get;
    get.kind = EtcdRequestOp::Kind::Range;
    get.key = key;
    txn.failure.append(get);
    return txn;
}

QString grpcCodeName(int code)
{
    static const char *const names[] = {"OK",
                                        "CANCELLED",
                                        "UNKNOWN",
                                        "INVALID_ARGUMENT",
                                        "DEADLINE_EXCEEDED",
                                        "NOT_FOUND",
                                        "ALREADY_EXISTS",
                                        "PERMISSION_DENIED",
                                        "RESOURCE_EXHAUSTED",
                                        "FAILED_PRECONDITION",
                                        "ABORTED",
                                        "OUT_OF_RANGE",
                                        "UNIMPLEMENTED",
                                        "INTERNAL",
                                        "UNAVAILABLE",
                                        "DATA_LOSS",
                                        "UNAUTHENTICATED"};
    if (code >= 0 && code < static_cast<int>(std::size(names)))
        return QLatin1String(names[code]);
    return QStringLiteral("code %1").arg(code);
}

std::optional<Error> gatewayError(const QByteArray &body, const QString &what)
{
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(body, &pe);
    if (pe.error != QJsonParseError::NoError || !doc.isObject())
        return std::nullopt;
    const QJsonObject o = doc.object();
    const QJsonValue err = o.value(QLatin1String("error"));
    if (err.isUndefined() || err.isNull())
        return std::nullopt;
    int code = 2;
    QString message;
    if (err.isObject()) {
        // Inside a stream: {"error": {"grpc_code": 14, "message": "...", ...}}.
        const QJsonObject e = err.toObject();
        code = e.value(QLatin1String("grpc_code")).toInt(2);
        message = e.value(QLatin1String("message")).toString();
    } else {
        code = o.value(QLatin1String("code")).toInt(2);
        message = o.value(QLatin1String("message")).toString(err.toString());
    }
    if (message.isEmpty())
        message = QStringLiteral("no message");
    QString text = QStringLiteral("%1: %2 (gRPC %3)").arg(what, message, grpcCodeName(code));
    const QString h = hint(code, message);
    if (!h.isEmpty())
        text += QStringLiteral(": ") + h;
    return makeError(text);
}

Result<EtcdHealth> parseHealth(int httpStatus, const QByteArray &body)
{
    auto o = parseObject(body, "/health");
    if (!o)
        return o.error();
    const QJsonValue h = o.value().value(QLatin1String("health"));
    if (!h.isString() && !h.isBool())
        return makeError(QStringLiteral("malformed /health answer: no \"health\" field"));
    EtcdHealth out;
    out.httpStatus = httpStatus;
    out.healthy = h.isBool() ? h.toBool() : h.toString() == QLatin1String("true");
    out.reason = o.value().value(QLatin1String("reason")).toString();
    return out;
}

Result<EtcdStatus> parseStatus(const QByteArray &body)
{
    auto r = parseObject(body, "status");
    if (!r)
        return r.error();
    const QJsonObject &o = r.value();
    if (!o.contains(QLatin1String("header")) || !o.contains(QLatin1String("version")))
        return makeError(QStringLiteral("malformed status answer: no header or version"));
    EtcdStatus s;
    s.header = header(o);
    s.version = o.value(QLatin1String("version")).toString();
    s.dbSize = toInt64(o.value(QLatin1String("dbSize")));
    s.dbSizeInUse = toInt64(o.value(QLatin1String("dbSizeInUse")));
    s.leader = toUInt64(o.value(QLatin1String("leader")));
    s.raftIndex = toUInt64(o.value(QLatin1String("raftIndex")));
    s.raftTerm = toUInt64(o.value(QLatin1String("raftTerm")));
    s.raftAppliedIndex = toUInt64(o.value(QLatin1String("raftAppliedIndex")));
    s.errors = strings(o.value(QLatin1String("errors")));
    s.isLearner = o.value(QLatin1String("isLearner")).toBool();
    return s;
}

Result<EtcdMemberList> parseMemberList(const QByteArray &body)
{
    auto r = parseObject(body, "member list");
    if (!r)
        return r.error();
    const QJsonObject &o = r.value();
    if (!o.value(QLatin1String("members")).isArray())
        return makeError(QStringLiteral("malformed member list answer: no members array"));
    EtcdMemberList out;
    out.header = header(o);
    for (const QJsonValue &v : o.value(QLatin1String("members")).toArray()) {
        const QJsonObject m = v.toObject();
        EtcdMember member;
        member.id = toUInt64(m.value(QLatin1String("ID")));
        member.name = m.value(QLatin1String("name")).toString();
        member.peerUrls = strings(m.value(QLatin1String("peerURLs")));
        member.clientUrls = strings(m.value(QLatin1String("clientURLs")));
        member.isLearner = m.value(QLatin1String("isLearner")).toBool();
        out.members.append(member);
    }
    return out;
}

Result<EtcdRangeResult> parseRange(const QByteArray &body)
{
    auto r = parseObject(body, "range");
    if (!r)
        return r.error();
    const QJsonObject &o = r.value();
    if (!o.contains(QLatin1String("header")))
        return makeError(QStringLiteral("malformed range answer: no header"));
    EtcdRangeResult out;
    out.header = header(o);
    out.kvs = keyValues(o.value(QLatin1String("kvs")));
    out.count = toInt64(o.value(QLatin1String("count")));
    out.more = o.value(QLatin1String("more")).toBool();
    return out;
}

Result<EtcdPutResult> parsePut(const QByteArray &body)
{
    auto r = parseObject(body, "put");
    if (!r)
        return r.error();
    const QJsonObject &o = r.value();
    if (!o.contains(QLatin1String("header")))
        return makeError(QStringLiteral("malformed put answer: no header"));
    EtcdPutResult out;
    out.header = header(o);
    if (o.contains(QLatin1String("prev_kv")))
        out.prevKv = keyValue(o.value(QLatin1String("prev_kv")).toObject());
    return out;
}

Result<EtcdDeleteResult> parseDelete(const QByteArray &body)
{
    auto r = parseObject(body, "delete range");
    if (!r)
        return r.error();
    const QJsonObject &o = r.value();
    if (!o.contains(QLatin1String("header")))
        return makeError(QStringLiteral("malformed delete range answer: no header"));
    EtcdDeleteResult out;
    out.header = header(o);
    out.deleted = toInt64(o.value(QLatin1String("deleted")));
    out.prevKvs = keyValues(o.value(QLatin1String("prev_kvs")));
    return out;
}

Result<EtcdTxnResult> parseTxn(const QByteArray &body)
{
    auto r = parseObject(body, "txn");
    if (!r)
        return r.error();
    const QJsonObject &o = r.value();
    if (!o.contains(QLatin1String("header")))
        return makeError(QStringLiteral("malformed txn answer: no header"));
    EtcdTxnResult out;
    out.header = header(o);
    out.succeeded = o.value(QLatin1String("succeeded")).toBool();
    for (const QJsonValue &v : o.value(QLatin1String("responses")).toArray()) {
        const QJsonObject resp = v.toObject();
        EtcdResponseOp op;
        if (resp.contains(QLatin1String("response_range"))) {
            const QJsonObject rr = resp.value(QLatin1String("response_range")).toObject();
            op.kind = EtcdRequestOp::Kind::Range;
            op.kvs = keyValues(rr.value(QLatin1String("kvs")));
            op.count = toInt64(rr.value(QLatin1String("count")));
        } else if (resp.contains(QLatin1String("response_put"))) {
            const QJsonObject rp = resp.value(QLatin1String("response_put")).toObject();
            op.kind = EtcdRequestOp::Kind::Put;
            if (rp.contains(QLatin1String("prev_kv")))
                op.kvs.append(keyValue(rp.value(QLatin1String("prev_kv")).toObject()));
        } else if (resp.contains(QLatin1String("response_delete_range"))) {
            const QJsonObject rd = resp.value(QLatin1String("response_delete_range")).toObject();
            op.kind = EtcdRequestOp::Kind::DeleteRange;
            op.deleted = toInt64(rd.value(QLatin1String("deleted")));
            op.kvs = keyValues(rd.value(QLatin1String("prev_kvs")));
        } else {
            return makeError(QStringLiteral("malformed txn answer: unknown response kind %1")
                                 .arg(resp.keys().join(u',')));
        }
        out.responses.append(op);
    }
    return out;
}

Result<EtcdLease> parseLeaseGrant(const QByteArray &body)
{
    auto r = parseObject(body, "lease grant");
    if (!r)
        return r.error();
    const QJsonObject &o = r.value();
    if (!o.contains(QLatin1String("ID")))
        return makeError(QStringLiteral("malformed lease grant answer: no ID"));
    const QString grantError = o.value(QLatin1String("error")).toString();
    if (!grantError.isEmpty())
        return makeError(QStringLiteral("lease grant refused: %1").arg(grantError));
    EtcdLease out;
    out.header = header(o);
    out.id = toInt64(o.value(QLatin1String("ID")));
    out.ttl = toInt64(o.value(QLatin1String("TTL")));
    return out;
}

Result<EtcdLease> parseLeaseKeepAlive(const QByteArray &body)
{
    auto r = parseObject(body, "lease keepalive");
    if (!r)
        return r.error();
    const QJsonObject res = r.value().value(QLatin1String("result")).toObject();
    if (res.isEmpty())
        return makeError(QStringLiteral("malformed lease keepalive answer: no result"));
    EtcdLease out;
    out.header = header(res);
    out.id = toInt64(res.value(QLatin1String("ID")));
    out.ttl = toInt64(res.value(QLatin1String("TTL")));
    return out;
}

Result<EtcdHeader> parseLeaseRevoke(const QByteArray &body)
{
    auto r = parseObject(body, "lease revoke");
    if (!r)
        return r.error();
    if (!r.value().contains(QLatin1String("header")))
        return makeError(QStringLiteral("malformed lease revoke answer: no header"));
    return header(r.value());
}

Result<EtcdWatchResponse> parseWatchMessage(const QByteArray &line)
{
    auto r = parseObject(line, "watch");
    if (!r)
        return r.error();
    const QJsonValue resultValue = r.value().value(QLatin1String("result"));
    if (!resultValue.isObject())
        return makeError(QStringLiteral("malformed watch message: no result"));
    const QJsonObject res = resultValue.toObject();
    EtcdWatchResponse out;
    out.header = header(res);
    out.watchId = toInt64(res.value(QLatin1String("watch_id")));
    out.created = res.value(QLatin1String("created")).toBool();
    out.canceled = res.value(QLatin1String("canceled")).toBool();
    out.compactRevision = toInt64(res.value(QLatin1String("compact_revision")));
    out.cancelReason = res.value(QLatin1String("cancel_reason")).toString();
    for (const QJsonValue &v : res.value(QLatin1String("events")).toArray()) {
        const QJsonObject e = v.toObject();
        EtcdEvent event;
        event.type = e.value(QLatin1String("type")).toString() == QLatin1String("DELETE")
                         ? EtcdEvent::Type::Delete
                         : EtcdEvent::Type::Put;
        event.kv = keyValue(e.value(QLatin1String("kv")).toObject());
        if (e.contains(QLatin1String("prev_kv")))
            event.prevKv = keyValue(e.value(QLatin1String("prev_kv")).toObject());
        out.events.append(event);
    }
    return out;
}

} // namespace Pilothouse::EtcdJson
