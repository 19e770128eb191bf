#include "app/connectors/docker/dockerarchive.h"

#include <QDateTime>

#include <cstring>

namespace Pilothouse::DockerArchive {
namespace {

constexpr int Block = 512;

// `value` in octal, zero-padded to `width - 1` digits and NUL-terminated, at `at`.
void putOctal(char *at, int width, qint64 value)
{
    const QByteArray digits = QByteArray::number(value, 8).rightJustified(width - 1, '0');
    std::memcpy(at, digits.constData(), size_t(width - 1));
    at[width - 1] = '\0';
}

} // namespace

QByteArray singleFile(const QString &name, const QByteArray &content, int mode)
{
    // The header's layout (POSIX.1-1988 ustar): name 0, mode 100, uid 108,
    // gid 116, size 124, mtime 136, checksum 148, type 156, magic 257,
    // version 263, uname 265, gname 297.
    QByteArray header(Block, '\0');
    char *h = header.data();
    const QByteArray fileName = name.toUtf8().left(99);
    std::memcpy(h, fileName.constData(), size_t(fileName.size()));
    putOctal(h + 100, 8, mode & 07777);
    putOctal(h + 108, 8, 0);
    putOctal(h + 116, 8, 0);
    putOctal(h + 124, 12, content.size());
    putOctal(h + 136, 12, QDateTime::currentSecsSinceEpoch());
    h[156] = '0';
    std::memcpy(h + 257, "ustar", 6);
    std::memcpy(h + 263, "00", 2);
    std::memcpy(h + 265, "root", 4);
    std::memcpy(h + 297, "root", 4);
    // The checksum counts its own field as eight spaces.
    std::memset(h + 148, ' ', 8);
    unsigned sum = 0;
    for (char c : header)
        sum += static_cast<unsigned char>(c);
    putOctal(h + 148, 7, sum);
    h[155] = ' ';

    QByteArray out = header + content;
    out.append(QByteArray((Block - content.size() % Block) % Block, '\0'));
    out.append(QByteArray(2 * Block, '\0')); // the end of the archive
    return out;
}

} // namespace Pilothouse::DockerArchive
