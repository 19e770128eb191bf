#include "app/connectors/http/haproxystats.h"

#include "app/connectors/http/httperror_p.h"

#include <QHash>

namespace Pilothouse {

bool HaproxyStatsRow::isUp() const
{
    return status == QLatin1String("UP") || status.startsWith(QLatin1String("UP ")) ||
           status == QLatin1String("OPEN") || status == QLatin1String("no check");
}

bool HaproxyStatsRow::isUnusedSlot() const
{
    return type == Type::Server && address.isEmpty() && status.startsWith(QLatin1String("MAINT"));
}

namespace HaproxyStats {
namespace {

QString detail(const HaproxyStatsRow &r)
{
    QStringList parts{r.status};
    if (!r.checkStatus.isEmpty()) {
        QString check = r.checkStatus;
        if (r.checkCode > 0)
            check += u' ' + QString::number(r.checkCode);
        if (r.checkDurationMs >= 0)
            check += QStringLiteral(" in %1 ms").arg(r.checkDurationMs);
        parts.append(check);
    }
    if (!r.checkDescription.isEmpty())
        parts.append(r.checkDescription);
    if (!r.address.isEmpty())
        parts.append(r.address);
    return parts.join(QStringLiteral(", "));
}

} // namespace

Result<QList<HaproxyStatsRow>> parseCsv(const QByteArray &csv)
{
    const QList<QByteArray> lines = csv.split('\n');
    if (lines.isEmpty() || !lines.at(0).startsWith("# "))
        return makeError(QStringLiteral("not HAProxy stats CSV: the first line is not a "
                                        "\"# pxname,svname,...\" header (is ;csv in the URL?)"));
    QHash<QByteArray, int> col;
    const QList<QByteArray> header = lines.at(0).mid(2).split(',');
    for (int i = 0; i < header.size(); ++i)
        col.insert(header.at(i).trimmed(), i);
    for (const char *needed : {"pxname", "svname", "status", "type"}) {
        if (!col.contains(needed))
            return makeError(QStringLiteral("HAProxy stats CSV has no \"%1\" column")
                                 .arg(QLatin1String(needed)));
    }
    QList<HaproxyStatsRow> rows;
    for (qsizetype n = 1; n < lines.size(); ++n) {
        const QByteArray line = lines.at(n).trimmed();
        if (line.isEmpty())
            continue;
        // HAProxy's CSV has no quoting: names cannot contain commas.
        const QList<QByteArray> f = line.split(',');
        auto text = [&](const char *name) {
            const int i = col.value(name, -1);
            return i >= 0 && i < f.size() ? QString::fromUtf8(f.at(i)) : QString();
        };
        auto number = [&](const char *name, qint64 fallback) {
            bool ok = false;
            const qint64 v = text(name).toLongLong(&ok);
            return ok ? v : fallback;
        };
        if (f.size() < 4)
            return makeError(
                QStringLiteral("HAProxy stats CSV line %1 has %2 fields").arg(n + 1).arg(f.size()));
        HaproxyStatsRow r;
        r.proxy = text("pxname");
        r.name = text("svname");
        switch (number("type", 2)) {
        case 0:
            r.type = HaproxyStatsRow::Type::Frontend;
            break;
        case 1:
            r.type = HaproxyStatsRow::Type::Backend;
            break;
        case 3:
            r.type = HaproxyStatsRow::Type::Listener;
            break;
        default:
            r.type = HaproxyStatsRow::Type::Server;
            break;
        }
        r.status = text("status");
        r.checkStatus = text("check_status");
        r.checkCode = static_cast<int>(number("check_code", 0));
        r.checkDurationMs = static_cast<int>(number("check_duration", -1));
        r.checkDescription = text("check_desc");
        r.address = text("addr");
        r.currentSessions = number("scur", 0);
        r.totalSessions = number("stot", 0);
        r.lastChangeSeconds = number("lastchg", -1);
        r.activeServers = static_cast<int>(number("act", 0));
        r.weight = static_cast<int>(number("weight", 0));
        rows.append(r);
    }
    return rows;
}

QList<ProxyRoute> routes(const QList<HaproxyStatsRow> &rows,
                         const QMap<QString, QString> &hostsByBackend, bool includeUnusedSlots)
{
    QList<ProxyRoute> out;
    QHash<QString, qsizetype> index;
    for (const HaproxyStatsRow &r : rows) {
        if (r.type != HaproxyStatsRow::Type::Backend && r.type != HaproxyStatsRow::Type::Server)
            continue;
        if (!index.contains(r.proxy)) {
            index.insert(r.proxy, out.size());
            ProxyRoute route;
            route.host = hostsByBackend.value(r.proxy);
            route.service = r.proxy;
            out.append(route);
        }
        if (r.type != HaproxyStatsRow::Type::Server)
            continue;
        if (r.isUnusedSlot() && !includeUnusedSlots)
            continue;
        out[index.value(r.proxy)].backends.append(ProxyBackend{r.name, r.isUp(), detail(r)});
    }
    return out;
}

} // namespace HaproxyStats
} // namespace Pilothouse
