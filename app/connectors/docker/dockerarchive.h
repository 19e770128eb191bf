#pragma once
// Free functions on values; safe on any thread.

#include "models/result.h"

#include <QByteArray>
#include <QString>
#include <QStringList>

namespace Pilothouse::DockerArchive {

// A POSIX ustar archive holding one regular file `name` (no directories, at
// most 99 bytes of name) with `content`, owned by root with `mode`: the body
// of PUT /containers/{id}/archive, which unpacks it into a directory of a
// running container.
QByteArray singleFile(const QString &name, const QByteArray &content, int mode = 0600);

// The content of the member `name` of the tar archive at `archivePath` (a
// `docker save` archive's "manifest.json"), read by walking the headers
// without reading the other members; at most `maxSize` bytes. The error
// names the file and what is wrong with it.
Result<QByteArray> readMember(const QString &archivePath, const QString &name,
                              qint64 maxSize = 1 << 20);

// The image references ("repo:tag") a `docker save` archive holds, from its
// manifest.json.
Result<QStringList> savedImageTags(const QString &archivePath);

} // namespace Pilothouse::DockerArchive
