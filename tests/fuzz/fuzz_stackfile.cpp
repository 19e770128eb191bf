// libFuzzer target: the stack file reader on arbitrary bytes, with a few
// variables set so that interpolation paths are reached.
#include "app/deploy/stackfile.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const QHash<QString, QString> env{{QStringLiteral("IMAGE"), QStringLiteral("debian:12")},
                                             {QStringLiteral("EMPTY"), QString()}};
    const QByteArray bytes(reinterpret_cast<const char *>(data), qsizetype(size));
    (void)Pilothouse::StackFile::readBytes(bytes, QStringLiteral("/fuzz/stack.yml"), QStringLiteral("fuzz"), env);
    return 0;
}
