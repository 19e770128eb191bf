#pragma once
// Test helper, any thread: the lab captures in tests/fixtures/pg (see its README).

#include "app/connectors/pg/pgrows.h"

#include <QString>

// Absolute path of a file under tests/fixtures/pg/.
QString pgFixturePath(const QString &relative);
// A capture of `psql --csv -P 'null=\N'` as PgConnection would have returned it.
Pilothouse::PgRows loadCsv(const QString &relative);
