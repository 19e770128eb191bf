#pragma once
// Free functions on values; safe on any thread.

#include <QByteArray>
#include <QString>

namespace Pilothouse::DockerArchive {

// A POSIX ustar archive holding one regular file `name` (no directories, at
// most 99 bytes of name) with `content`, owned by root with `mode`: the body
// of PUT /containers/{id}/archive, which unpacks it into a directory of a
// running container.
QByteArray singleFile(const QString &name, const QByteArray &content, int mode = 0600);

} // namespace Pilothouse::DockerArchive
