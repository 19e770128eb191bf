#include "app/lab/labprogress.h"

#include <QRegularExpression>

namespace Pilothouse::LabProgress {

std::optional<Line> parse(const QString &raw)
{
    static const QRegularExpression started(QStringLiteral(R"(^==> step (\d+)/(\d+): (.+)$)"));
    static const QRegularExpression finished(
        QStringLiteral(R"(^\[\s*[\d.]+s\] step (\d+)/(\d+) done: (.+?) \(took ([\d.]+)s\)$)"));
    static const QRegularExpression inventory(QStringLiteral(R"(^inventory: (/.+)$)"));
    static const QRegularExpression error(QStringLiteral(R"(^lab: error: (.+)$)"));

    const QString line = raw.trimmed();
    if (const auto m = started.match(line); m.hasMatch())
        return Line{Line::Kind::StepStarted, m.captured(1).toInt(), m.captured(2).toInt(),
                    m.captured(3), 0};
    if (const auto m = finished.match(line); m.hasMatch())
        return Line{Line::Kind::StepFinished, m.captured(1).toInt(), m.captured(2).toInt(),
                    m.captured(3), m.captured(4).toDouble()};
    if (const auto m = inventory.match(line); m.hasMatch())
        return Line{Line::Kind::Inventory, 0, 0, m.captured(1), 0};
    if (const auto m = error.match(line); m.hasMatch())
        return Line{Line::Kind::Error, 0, 0, m.captured(1), 0};
    return std::nullopt;
}

} // namespace Pilothouse::LabProgress
