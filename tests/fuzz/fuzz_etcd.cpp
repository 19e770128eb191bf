// libFuzzer target: every etcd v3 gateway reader on arbitrary bytes.
#include "app/connectors/etcd/etcdjson.h"

#include <cstddef>
#include <cstdint>

using namespace Pilothouse;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray body(reinterpret_cast<const char *>(data), qsizetype(size));
    using namespace EtcdJson;
    (void)parseHealth(200, body);
    (void)parseHealth(503, body);
    (void)parseStatus(body);
    (void)parseMemberList(body);
    (void)parseRange(body);
    (void)parsePut(body);
    (void)parseDelete(body);
    (void)parseTxn(body);
    (void)parseLeaseGrant(body);
    (void)parseLeaseKeepAlive(body);
    (void)gatewayError(body, QStringLiteral("fuzz"));
    return 0;
}
