// libFuzzer target: the tar reader that finds a `docker save` archive's
// manifest.json (the image archive provisioning loads) on arbitrary bytes.
#include "app/connectors/docker/dockerarchive.h"

#include <cstddef>
#include <cstdint>
#include <sys/mman.h>
#include <unistd.h>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    // The reader takes a path: the input as an in-memory file.
    const int fd = memfd_create("fuzz-archive", 0);
    if (fd < 0)
        return 0;
    size_t written = 0;
    while (written < size) {
        const ssize_t n = write(fd, data + written, size - written);
        if (n <= 0)
            break;
        written += size_t(n);
    }
    (void)Pilothouse::DockerArchive::savedImageTags(QStringLiteral("/proc/self/fd/%1").arg(fd));
    close(fd);
    return 0;
}
