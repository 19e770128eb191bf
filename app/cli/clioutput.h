#pragma once
// Used on the main thread of the headless commands.

#include <QByteArray>
#include <QDateTime>
#include <QString>

#include <cstdio>

namespace Pilothouse::Cli {

// Writes `text` as UTF-8 and flushes: progress on stderr must show as it happens.
inline void print(FILE *stream, const QString &text)
{
    const QByteArray bytes = text.toUtf8();
    std::fwrite(bytes.constData(), 1, size_t(bytes.size()), stream);
    std::fflush(stream);
}

// "HH:mm:ss.zzz" in UTC, the prefix of a progress line.
inline QString stamp()
{
    return QDateTime::currentDateTimeUtc().toString(QStringLiteral("HH:mm:ss.zzz"));
}

} // namespace Pilothouse::Cli
