#pragma once
// Value types, usable on any thread.

#include <QList>
#include <QString>
#include <QStringList>

#include <optional>

namespace Pilothouse {

// One result set of a query, as text: what libpq returned, without libpq types.
// A NULL is std::nullopt, so that it never looks like an empty string.
struct PgRows
{
    using Value = std::optional<QString>;

    QStringList columns;
    QList<QList<Value>> rows;
    QString commandTag; // "SELECT 3", "SHOW", ...

    int columnIndex(QStringView name) const { return int(columns.indexOf(name)); }
    bool hasColumn(QStringView name) const { return columns.contains(name); }
    // std::nullopt for NULL, for an unknown column and for a row out of range.
    Value value(int row, QStringView column) const;
    // The text, or `fallback` when NULL or absent.
    QString text(int row, QStringView column, const QString &fallback = {}) const;
};

// Every result set of one call: a simple-protocol query may hold several statements.
using PgReply = QList<PgRows>;

} // namespace Pilothouse
