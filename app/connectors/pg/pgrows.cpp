#include "app/connectors/pg/pgrows.h"

namespace Pilothouse {

PgRows::Value PgRows::value(int row, QStringView column) const
{
    const int c = columnIndex(column);
    if (c < 0 || row < 0 || row >= rows.size())
        return std::nullopt;
    return rows.at(row).value(c);
}

QString PgRows::text(int row, QStringView column, const QString &fallback) const
{
    return value(row, column).value_or(fallback);
}

} // namespace Pilothouse
