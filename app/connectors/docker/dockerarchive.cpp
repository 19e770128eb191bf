#include "app/connectors/docker/dockerarchive.h"

#include <QDateTime>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

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

Result<QByteArray> readMember(const QString &archivePath, const QString &name, qint64 maxSize)
{
    QFile file(archivePath);
    if (!file.open(QIODevice::ReadOnly))
        return Error{QStringLiteral("cannot read the archive: %1").arg(file.errorString()),
                     archivePath};
    const QByteArray wanted = name.toUtf8();
    while (true) {
        const qint64 at = file.pos();
        const QByteArray header = file.read(Block);
        if (header.size() < Block)
            return Error{QStringLiteral("no member '%1' in the archive (it ends at byte %2)")
                             .arg(name)
                             .arg(at),
                         archivePath};
        if (header.count('\0') == Block)
            return Error{QStringLiteral("no member '%1' in the archive").arg(name), archivePath};
        const QByteArray sizeField = header.mid(124, 12).trimmed();
        bool ok = false;
        const qint64 size = QByteArray(sizeField.constData()).trimmed().toLongLong(&ok, 8);
        if (!ok || size < 0)
            return Error{
                QStringLiteral("not a tar archive: the header at byte %1 has no size").arg(at),
                archivePath};
        QByteArray memberName(header.constData(), int(qstrnlen(header.constData(), 100)));
        const QByteArray prefix(header.constData() + 345,
                                int(qstrnlen(header.constData() + 345, 155)));
        if (!prefix.isEmpty() && header.mid(257, 5) == "ustar")
            memberName = prefix + '/' + memberName;
        if (memberName.startsWith("./"))
            memberName = memberName.mid(2);
        const char type = header.at(156);
        if (memberName == wanted && (type == '0' || type == '\0')) {
            if (size > maxSize)
                return Error{QStringLiteral("member '%1' is %2 bytes, more than %3")
                                 .arg(name)
                                 .arg(size)
                                 .arg(maxSize),
                             archivePath};
            const QByteArray content = file.read(size);
            if (content.size() != size)
                return Error{QStringLiteral("member '%1' is cut short").arg(name), archivePath};
            return content;
        }
        const qint64 next = at + Block + ((size + Block - 1) / Block) * Block;
        if (!file.seek(next))
            return Error{QStringLiteral("the archive is cut short at byte %1").arg(next),
                         archivePath};
    }
}

Result<QStringList> savedImageTags(const QString &archivePath)
{
    const Result<QByteArray> manifest = readMember(archivePath, QStringLiteral("manifest.json"));
    if (!manifest)
        return Error{manifest.error().message + QStringLiteral(" (not a `docker save` archive?)"),
                     archivePath};
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(manifest.value(), &parseError);
    if (!doc.isArray())
        return Error{
            QStringLiteral("manifest.json is not a JSON list: %1").arg(parseError.errorString()),
            archivePath};
    QStringList tags;
    for (const QJsonValue &image : doc.array())
        for (const QJsonValue &tag : image.toObject().value(QStringLiteral("RepoTags")).toArray())
            tags.append(tag.toString());
    tags.removeAll(QString());
    if (tags.isEmpty())
        return Error{QStringLiteral("manifest.json names no tagged image"), archivePath};
    return tags;
}

} // namespace Pilothouse::DockerArchive
