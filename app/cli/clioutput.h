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

// A progress line for a finished runbook step below the root:
// "HH:mm:ss.zzz ok preflight/check (0.12 s): message". The root's own end
// is left to the command's result.
inline void printStep(FILE *stream, const QString &path, bool ok, double seconds,
                      const QString &message)
{
    if (path.count(u'/') < 1)
        return;
    print(stream, QStringLiteral("%1 %2 %3 (%4 s): %5\n")
                      .arg(stamp(), ok ? QStringLiteral("ok") : QStringLiteral("FAILED"),
                           path.section(u'/', 1))
                      .arg(seconds, 0, 'f', 2)
                      .arg(message));
}

} // namespace Pilothouse::Cli
