#pragma once
// Free functions; safe on any thread (they touch only their arguments).
// HAProxy's stats page as CSV (GET http://host:8404/stats;csv), the format of
// HAProxy's "show stat": a "# pxname,svname,..." header line, then one row
// per frontend, backend and server.

#include "models/clustersnapshot.h"
#include "models/result.h"

#include <QByteArray>
#include <QList>
#include <QMap>
#include <QString>

namespace Pilothouse {

struct HaproxyStatsRow
{
    enum class Type { Frontend, Backend, Server, Listener };

    QString proxy; // pxname: "https", "app"
    QString name;  // svname: "FRONTEND", "BACKEND" or the server's name
    Type type = Type::Server;
    QString status;      // OPEN, UP, DOWN, "UP 1/3", "MAINT (resolution)", NOLB, no check
    QString checkStatus; // L7OK, L7TOUT, L4CON, ... ("* " marks a check in progress)
    int checkCode = 0;   // HTTP status of the last check
    int checkDurationMs = -1;
    QString checkDescription; // "Layer7 check passed"
    QString address;          // "10.215.1.41:8080"
    qint64 currentSessions = 0;
    qint64 totalSessions = 0;
    qint64 lastChangeSeconds = -1; // since the last status change
    int activeServers = 0;         // backend rows: servers UP
    int weight = 0;

    bool isUp() const; // UP, "UP n/m" (going down but still serving), OPEN, no check
    // A server-template slot with no task behind it: DNS gave it no address.
    bool isUnusedSlot() const;
};

namespace HaproxyStats {

// Rows of the CSV. Columns are found by the header's names, so older and
// newer HAProxy versions (with more columns) parse alike.
Result<QList<HaproxyStatsRow>> parseCsv(const QByteArray &csv);

// One route per backend: host name (from `hostsByBackend`, e.g. "app" ->
// "app.pilothouse.lab"; empty when unknown) and its servers, UP or not.
// Unused server-template slots are left out unless asked for.
QList<ProxyRoute> routes(const QList<HaproxyStatsRow> &rows,
                         const QMap<QString, QString> &hostsByBackend,
                         bool includeUnusedSlots = false);

} // namespace HaproxyStats
} // namespace Pilothouse
