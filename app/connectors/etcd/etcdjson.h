#pragma once
// Free functions; safe on any thread (they touch only their arguments).
// The wire format of the etcd v3 JSON gateway (grpc-gateway, etcd 3.4/3.5):
// bodies for each call and parsers for each answer, kept apart from the
// network so that they can be tested against captured answers.

#include "app/connectors/etcd/etcdtypes.h"
#include "models/result.h"

#include <QByteArray>
#include <QJsonObject>
#include <QString>

#include <optional>

namespace Pilothouse::EtcdJson {

// The range_end that selects every key starting with `prefix`, computed as
// etcd's clientv3.GetPrefixRangeEnd does: drop trailing 0xff bytes, then add
// one to the last byte. A prefix of only 0xff bytes (or an empty one) gives
// "\0", which etcd reads as "every key >= key".
QByteArray prefixRangeEnd(const QByteArray &prefix);

// Request bodies.
QJsonObject rangeRequest(const EtcdRangeRequest &request);
QJsonObject putRequest(const EtcdPutRequest &request);
QJsonObject deleteRequest(const EtcdDeleteRequest &request);
QJsonObject txnRequest(const EtcdTxn &txn);
QJsonObject leaseGrantRequest(qint64 ttlSeconds, qint64 id = 0);
QJsonObject leaseIdRequest(qint64 id); // keepalive and revoke
QJsonObject watchCreateRequest(const EtcdWatchRequest &request);

// The transaction behind a lease-backed lock: if nobody created `key`
// (create_revision == 0), put `value` there attached to `lease`; otherwise read
// the key, so the loser learns who holds it (its value and lease).
EtcdTxn lockTxn(const QByteArray &key, const QByteArray &value, qint64 lease);

// gRPC status code names (3 -> "INVALID_ARGUMENT").
QString grpcCodeName(int code);

// An error answer of the gateway ({"error": ..., "message": ..., "code": N},
// or inside a stream {"error": {"grpc_code": N, "message": ...}}) as an Error
// saying what failed (`what`: member, address and call) and what to do about
// it. nullopt when `body` is not an error answer.
std::optional<Error> gatewayError(const QByteArray &body, const QString &what);

// Parsers of successful answers. Errors name what was malformed.
Result<EtcdHealth> parseHealth(int httpStatus, const QByteArray &body);
Result<EtcdStatus> parseStatus(const QByteArray &body);
Result<EtcdMemberList> parseMemberList(const QByteArray &body);
Result<EtcdRangeResult> parseRange(const QByteArray &body);
Result<EtcdPutResult> parsePut(const QByteArray &body);
Result<EtcdDeleteResult> parseDelete(const QByteArray &body);
Result<EtcdTxnResult> parseTxn(const QByteArray &body);
Result<EtcdLease> parseLeaseGrant(const QByteArray &body);
// The gateway wraps stream answers in {"result": ...}.
Result<EtcdLease> parseLeaseKeepAlive(const QByteArray &body);
Result<EtcdHeader> parseLeaseRevoke(const QByteArray &body);
// One message of the watch stream (one line of newline-delimited JSON).
Result<EtcdWatchResponse> parseWatchMessage(const QByteArray &line);

} // namespace Pilothouse::EtcdJson
