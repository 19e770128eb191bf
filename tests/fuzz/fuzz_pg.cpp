// libFuzzer target: the pgpool and repmgr readers on arbitrary result sets.
// The bytes are cut into result sets (0x1e), rows (newline) and fields (0x1f);
// the first row of a set is its column names and a field "\x01" is NULL. The
// seed corpus writes the real programs' column names this way.
#include "app/connectors/pg/pgparse.h"

#include <cstddef>
#include <cstdint>

using namespace Pilothouse;

namespace {

PgRows rowsFrom(const QByteArray &set)
{
    PgRows rows;
    const QList<QByteArray> lines = set.split('\n');
    for (qsizetype i = 0; i < lines.size(); ++i) {
        const QList<QByteArray> fields = lines.at(i).split('\x1f');
        if (i == 0) {
            for (const QByteArray &f : fields)
                rows.columns.append(QString::fromUtf8(f));
            continue;
        }
        QList<PgRows::Value> row;
        for (const QByteArray &f : fields)
            row.append(f == "\x01" ? PgRows::Value{} : PgRows::Value{QString::fromUtf8(f)});
        rows.rows.append(row);
    }
    return rows;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray bytes(reinterpret_cast<const char *>(data), qsizetype(size));
    PgReply reply;
    for (const QByteArray &set : bytes.split('\x1e'))
        reply.append(rowsFrom(set));
    const PgRows &first = reply.first();
    (void)PgParse::parsePoolNodes(first);
    const auto pool = PgParse::parsePoolNodes(first);
    (void)PgParse::mergeHealthCheckStats(reply.last(), pool ? pool.value() : QList<PgpoolBackend>{});
    const auto nodes = PgParse::parseRepmgrNodes(first);
    PostgresNodeState state;
    state.name = QStringLiteral("pg-1");
    (void)PgParse::parseNodeStatus(reply, state);
    if (nodes)
        (void)PgParse::upstreamNodeName(QString::fromUtf8(bytes.left(64)), nodes.value());
    (void)PgParse::redactConninfo(QString::fromUtf8(bytes));
    return 0;
}
