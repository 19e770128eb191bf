#pragma once
// Value types of the etcd v3 JSON gateway, usable on any thread.
// Keys and values are raw bytes (the gateway base64-encodes them on the wire);
// int64 fields arrive as JSON strings and are parsed into integers here.

#include <QByteArray>
#include <QList>
#include <QString>
#include <QStringList>

#include <optional>

namespace Pilothouse {

// The response header every v3 call carries. cluster_id tells whether two
// members belong to the same cluster; raft_term changes with each election.
struct EtcdHeader
{
    quint64 clusterId = 0;
    quint64 memberId = 0;
    qint64 revision = 0;
    quint64 raftTerm = 0;
};

struct EtcdHealth
{
    bool healthy = false;
    int httpStatus = 0;
    QString reason; // etcd 3.5 adds one ("RAFT NO LEADER"); empty on 3.4
};

struct EtcdStatus
{
    EtcdHeader header;
    QString version;
    qint64 dbSize = 0;
    qint64 dbSizeInUse = 0;
    quint64 leader = 0; // member id of the leader as this member sees it; 0 = none
    quint64 raftIndex = 0;
    quint64 raftTerm = 0;
    quint64 raftAppliedIndex = 0;
    QStringList errors; // alarms such as "NOSPACE"
    bool isLearner = false;
};

struct EtcdMember
{
    quint64 id = 0;
    QString name; // empty while a newly added member has not started
    QStringList peerUrls;
    QStringList clientUrls;
    bool isLearner = false;
};

struct EtcdMemberList
{
    EtcdHeader header;
    QList<EtcdMember> members;
};

struct EtcdKeyValue
{
    QByteArray key;
    QByteArray value;
    qint64 createRevision = 0;
    qint64 modRevision = 0;
    qint64 version = 0;
    qint64 lease = 0; // 0: not attached to a lease
};

struct EtcdRangeResult
{
    EtcdHeader header;
    QList<EtcdKeyValue> kvs;
    qint64 count = 0;
    bool more = false;
};

struct EtcdRangeRequest
{
    QByteArray key;
    QByteArray rangeEnd; // empty: the key alone; see EtcdJson::prefixRangeEnd
    qint64 limit = 0;
    qint64 revision = 0; // 0: latest
    bool keysOnly = false;
    bool countOnly = false;
};

struct EtcdPutRequest
{
    QByteArray key;
    QByteArray value;
    qint64 lease = 0;
    bool prevKv = false;
};

struct EtcdDeleteRequest
{
    QByteArray key;
    QByteArray rangeEnd;
    bool prevKv = false;
};

struct EtcdPutResult
{
    EtcdHeader header;
    std::optional<EtcdKeyValue> prevKv;
};

struct EtcdDeleteResult
{
    EtcdHeader header;
    qint64 deleted = 0;
    QList<EtcdKeyValue> prevKvs;
};

// One comparison of a transaction: `target(key) op number` or `value(key) op value`.
struct EtcdCompare
{
    enum class Target { Version, Create, Mod, Value, Lease };
    enum class Op { Equal, Greater, Less, NotEqual };

    QByteArray key;
    Target target = Target::Version;
    Op op = Op::Equal;
    qint64 number = 0; // for Version, Create, Mod, Lease
    QByteArray value;  // for Value
};

// One operation of a transaction branch.
struct EtcdRequestOp
{
    enum class Kind { Range, Put, DeleteRange };

    Kind kind = Kind::Range;
    QByteArray key;
    QByteArray rangeEnd; // Range, DeleteRange
    QByteArray value;    // Put
    qint64 lease = 0;    // Put
    bool prevKv = false; // Put, DeleteRange
};

struct EtcdTxn
{
    QList<EtcdCompare> compare;
    QList<EtcdRequestOp> success;
    QList<EtcdRequestOp> failure;
};

struct EtcdResponseOp
{
    EtcdRequestOp::Kind kind = EtcdRequestOp::Kind::Range;
    QList<EtcdKeyValue> kvs; // Range: the keys; Put/DeleteRange: prev_kv(s)
    qint64 count = 0;        // Range
    qint64 deleted = 0;      // DeleteRange
};

struct EtcdTxnResult
{
    EtcdHeader header;
    bool succeeded = false; // every comparison held: the success branch ran
    QList<EtcdResponseOp> responses;
};

struct EtcdLease
{
    EtcdHeader header;
    qint64 id = 0;
    qint64 ttl = 0; // seconds; after a keepalive 0 means the lease is gone
};

struct EtcdWatchRequest
{
    QByteArray key;
    QByteArray rangeEnd;
    qint64 startRevision = 0; // 0: from now on
    bool prevKv = false;
};

struct EtcdEvent
{
    enum class Type { Put, Delete };

    Type type = Type::Put;
    EtcdKeyValue kv; // after the change; for Delete only key and mod_revision
    std::optional<EtcdKeyValue> prevKv;
};

// One message of the watch stream.
struct EtcdWatchResponse
{
    EtcdHeader header;
    qint64 watchId = 0;
    bool created = false;
    bool canceled = false;
    qint64 compactRevision = 0; // set when the start revision was compacted away
    QString cancelReason;
    QList<EtcdEvent> events;
};

} // namespace Pilothouse
