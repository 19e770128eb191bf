// libFuzzer target: the stack file reader on arbitrary bytes, with a few
// variables set so that interpolation paths are reached; every service it
// accepts goes through the ACME check the deploy plan makes.
#include "app/deploy/acmecheck.h"
#include "app/deploy/stackfile.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const QHash<QString, QString> env{{QStringLiteral("IMAGE"), QStringLiteral("debian:12")},
                                             {QStringLiteral("EMPTY"), QString()}};
    const QByteArray bytes(reinterpret_cast<const char *>(data), qsizetype(size));
    const auto plan = Pilothouse::StackFile::readBytes(bytes, QStringLiteral("/fuzz/stack.yml"),
                                                       QStringLiteral("fuzz"), env);
    if (plan) {
        for (const Pilothouse::StackService &s : plan.value().services) {
            QStringList warnings;
            (void)Pilothouse::AcmeCheck::problems(s.spec, &warnings);
            (void)Pilothouse::AcmeCheck::describe(s.spec);
        }
    }
    return 0;
}
