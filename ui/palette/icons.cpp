#include "ui/palette/icons.h"

#include <QFile>

namespace Pilothouse {

QStringList iconNames()
{
    return {QStringLiteral("ok"),      QStringLiteral("warning"), QStringLiteral("critical"),
            QStringLiteral("stale"),   QStringLiteral("unknown"), QStringLiteral("primary"),
            QStringLiteral("standby"), QStringLiteral("leader"),  QStringLiteral("host"),
            QStringLiteral("service"), QStringLiteral("pg"),      QStringLiteral("pgpool"),
            QStringLiteral("etcd"),    QStringLiteral("route"),   QStringLiteral("app"),
            QStringLiteral("cluster"), QStringLiteral("action"),  QStringLiteral("pilothouse"),
            QStringLiteral("open"),    QStringLiteral("lab")};
}

QIcon stateIcon(const QString &name)
{
    const QString path = QStringLiteral(":/icons/") + name + QStringLiteral(".svg");
    // QIcon(path) is not null for a missing file; callers test isNull().
    if (name.isEmpty() || name.contains(u'/') || !QFile::exists(path))
        return {};
    return QIcon(path);
}

QIcon kindIcon(const QString &kind)
{
    QIcon icon = stateIcon(kind);
    if (icon.isNull())
        icon = stateIcon(QStringLiteral("unknown"));
    return icon;
}

} // namespace Pilothouse
