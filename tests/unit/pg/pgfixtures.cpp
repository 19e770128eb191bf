#include "pgfixtures.h"

#include <QFile>

using namespace Pilothouse;

QString pgFixturePath(const QString &relative)
{
    return QStringLiteral(PILOTHOUSE_SOURCE_DIR "/tests/fixtures/pg/") + relative;
}

// psql --csv -P 'null=\N': RFC 4180 quoting; an unquoted \N is NULL.
PgRows loadCsv(const QString &relative)
{
    QFile f(pgFixturePath(relative));
    if (!f.open(QIODevice::ReadOnly))
        qFatal("cannot open fixture %s", qPrintable(f.fileName()));
    const QString text = QString::fromUtf8(f.readAll());
    QList<QList<PgRows::Value>> records;
    QList<PgRows::Value> record;
    QString field;
    bool quoted = false;
    bool wasQuoted = false;
    const auto endField = [&] {
        if (!wasQuoted && field == u"\\N")
            record.append(std::nullopt);
        else
            record.append(field);
        field.clear();
        wasQuoted = false;
    };
    for (qsizetype i = 0; i < text.size(); ++i) {
        const QChar c = text.at(i);
        if (quoted) {
            if (c == u'"' && i + 1 < text.size() && text.at(i + 1) == u'"') {
                field += u'"';
                ++i;
            } else if (c == u'"') {
                quoted = false;
            } else {
                field += c;
            }
        } else if (c == u'"') {
            quoted = wasQuoted = true;
        } else if (c == u',') {
            endField();
        } else if (c == u'\n') {
            endField();
            records.append(record);
            record.clear();
        } else {
            field += c;
        }
    }
    PgRows rows;
    if (records.isEmpty())
        qFatal("empty fixture %s", qPrintable(f.fileName()));
    for (const auto &h : records.takeFirst())
        rows.columns.append(h.value_or(QString()));
    rows.rows = records;
    return rows;
}
