#include "app/operations/heartbeatwriter.h"

#include "app/connectors/http/certificatereader.h"
#include "app/connectors/http/httpprobe.h"
#include "app/inventory/credentials.h"

#include <QDateTime>
#include <QFile>
#include <QHash>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRandomGenerator>
#include <QSet>

#include <algorithm>
#include <memory>

namespace Pilothouse {

namespace {

// The lab stack's application role (POSTGRESQL_USERNAME in pilothouse-stack.yml).
constexpr auto AppRole = "app";

Result<QString> readSecret(const Inventory &inventory, const QString &name)
{
    return Credentials::read(inventory, name);
}

bool validIdentifier(const QString &name)
{
    if (name.isEmpty() || name.size() > 63)
        return false;
    for (const QChar c : name) {
        if (!(c.isLower() || c.isDigit() || c == u'_'))
            return false;
    }
    return !name.front().isDigit();
}

QString firstLine(const QString &text)
{
    const QString trimmed = text.trimmed();
    const qsizetype nl = trimmed.indexOf(u'\n');
    return nl < 0 ? trimmed : trimmed.left(nl);
}

} // namespace

Result<HeartbeatWriterOptions> HeartbeatWriterOptions::fromInventory(const Inventory &inventory,
                                                                     const QStringList &pgpoolHosts,
                                                                     const QStringList &proxyHosts)
{
    HeartbeatWriterOptions o;
    const ClusterSettings &s = inventory.settings;
    o.database = s.database;
    o.user = QString::fromLatin1(AppRole);
    auto password = readSecret(inventory, QStringLiteral("pg_app_password"));
    if (!password)
        return password.error();
    o.password = password.value();
    for (const QString &hostName : pgpoolHosts) {
        const InventoryHost *host = inventory.host(hostName);
        HeartbeatPath p;
        p.kind = HeartbeatPath::Kind::Pgpool;
        p.name = QStringLiteral("pgpool@") + hostName;
        p.address = host ? host->address : hostName;
        p.port = s.pgpoolPort;
        o.paths.append(p);
    }
    if (!proxyHosts.isEmpty() && !s.domain.isEmpty()) {
        const InventoryHost *host = inventory.host(proxyHosts.constFirst());
        HeartbeatPath p;
        p.kind = HeartbeatPath::Kind::App;
        p.name = QStringLiteral("app@") + proxyHosts.constFirst();
        p.address = host ? host->address : proxyHosts.constFirst();
        o.paths.append(p);
        o.appUrl = QUrl(QStringLiteral("https://%1/api/write").arg(s.domain));
        const QString ca = s.secretsDir + QStringLiteral("/proxy_tls_cert.pem");
        if (QFile::exists(ca)) {
            auto loaded = CertificateReader::loadPemFile(ca);
            if (!loaded)
                return loaded.error();
            o.appCaCertificates = loaded.value();
        }
    }
    return o;
}

struct HeartbeatWriter::Lane
{
    HeartbeatPath path;
    PgConnection *connection = nullptr; // Pgpool paths
    int inFlight = -1;                  // index into m_writes; -1: idle
    quint64 queryId = 0;
    HttpProbe::RequestId requestId = 0;
    bool failing = false;
    qint64 failingSinceAckMs = -1; // the last ack before the current failure
};

HeartbeatWriter::HeartbeatWriter(HeartbeatWriterOptions options, QObject *parent)
    : QObject(parent)
    , m_options(std::move(options))
{
    m_tick.setInterval(qMax(10, m_options.intervalMs));
    m_tick.setTimerType(Qt::PreciseTimer);
    connect(&m_tick, &QTimer::timeout, this, &HeartbeatWriter::tick);
}

HeartbeatWriter::~HeartbeatWriter()
{
    stop();
    qDeleteAll(m_lanes);
}

qint64 HeartbeatWriter::nowMs()
{
    return QDateTime::currentMSecsSinceEpoch();
}

void HeartbeatWriter::start()
{
    if (m_running || m_prepare)
        return;
    if (!validIdentifier(m_options.table)) {
        const Error e{QStringLiteral("heartbeat table name '%1' is not a plain lower-case "
                                     "identifier")
                          .arg(m_options.table),
                      {},
                      0,
                      0};
        QMetaObject::invokeMethod(
            this, [this, e] { Q_EMIT startFailed(e); }, Qt::QueuedConnection);
        return;
    }
    if (m_options.runId.isEmpty())
        m_options.runId =
            QStringLiteral("%1-%2")
                .arg(QDateTime::currentDateTimeUtc().toString(QStringLiteral("yyyyMMddThhmmss")))
                .arg(QRandomGenerator::global()->bounded(1 << 30), 0, 36);
    qDeleteAll(m_lanes);
    m_lanes.clear();
    m_writes.clear();
    m_seq = 0;
    for (const HeartbeatPath &p : std::as_const(m_options.paths)) {
        auto *lane = new Lane;
        lane->path = p;
        m_lanes.append(lane);
    }
    prepare(0);
}

// Creates the table through the pgpool paths in turn until one answers.
void HeartbeatWriter::prepare(int pathIndex)
{
    int i = pathIndex;
    while (i < m_options.paths.size() && m_options.paths.at(i).kind != HeartbeatPath::Kind::Pgpool)
        ++i;
    if (i >= m_options.paths.size()) {
        const bool anyPgpool =
            std::any_of(m_options.paths.cbegin(), m_options.paths.cend(),
                        [](const auto &p) { return p.kind == HeartbeatPath::Kind::Pgpool; });
        if (anyPgpool) {
            Q_EMIT startFailed(Error{QStringLiteral("no pgpool path answered, so the heartbeat "
                                                    "table could not be prepared"),
                                     {},
                                     0,
                                     0});
            return;
        }
        // Only app paths: the app makes its own table.
        m_running = true;
        m_startedMs = nowMs();
        m_tick.start();
        Q_EMIT started();
        tick();
        return;
    }
    const HeartbeatPath &p = m_options.paths.at(i);
    delete m_prepare;
    m_prepare = new PgConnection(this);
    PgConnectOptions o;
    o.host = p.address;
    o.port = p.port;
    o.database = m_options.database;
    o.user = m_options.user;
    o.password = m_options.password;
    o.applicationName = QStringLiteral("pilothouse-heartbeat");
    o.connectTimeoutMs = qMax(2000, m_options.connectTimeoutMs);
    o.label = p.name;
    o.serverCheckIntervalMs = 0;
    o.sslMode = QStringLiteral("disable");
    m_prepare->open(o);
    const QString t = m_options.table;
    const QString sql =
        QStringLiteral("CREATE TABLE IF NOT EXISTS %1 (run_id text NOT NULL, seq bigint NOT NULL, "
                       "path text NOT NULL, sent_at timestamptz NOT NULL, "
                       "written_at timestamptz NOT NULL DEFAULT clock_timestamp(), "
                       "PRIMARY KEY (run_id, seq)); "
                       "DELETE FROM %1 WHERE sent_at < now() - interval '7 days'")
            .arg(t);
    m_prepare->query(sql, 10000, this, [this, i](const Result<PgReply> &r) {
        m_prepare->deleteLater();
        m_prepare = nullptr;
        if (!r) {
            if (i + 1 >= m_options.paths.size()) {
                Q_EMIT startFailed(Error{QStringLiteral("cannot prepare the heartbeat table: ") +
                                             r.error().message,
                                         {},
                                         0,
                                         0});
                return;
            }
            prepare(i + 1);
            return;
        }
        m_running = true;
        m_startedMs = nowMs();
        m_tick.start();
        Q_EMIT started();
        tick();
    });
}

void HeartbeatWriter::stop()
{
    if (m_prepare) {
        delete m_prepare;
        m_prepare = nullptr;
    }
    if (!m_running)
        return;
    m_running = false;
    m_stoppedMs = nowMs();
    m_tick.stop();
    for (Lane *lane : std::as_const(m_lanes)) {
        if (lane->inFlight >= 0) {
            HeartbeatWrite &w = m_writes[lane->inFlight];
            w.error = QStringLiteral("still in flight when the writer stopped");
            lane->inFlight = -1;
        }
        if (lane->connection) {
            lane->connection->disconnect(this);
            lane->connection->deleteLater();
            lane->connection = nullptr;
        }
    }
    if (m_http) {
        m_http->deleteLater();
        m_http = nullptr;
    }
}

void HeartbeatWriter::tick()
{
    if (!m_running)
        return;
    for (Lane *lane : std::as_const(m_lanes)) {
        if (lane->inFlight >= 0)
            continue;
        HeartbeatWrite w;
        w.seq = ++m_seq;
        w.path = lane->path.name;
        w.sentMs = nowMs();
        m_writes.append(w);
        lane->inFlight = int(m_writes.size() - 1);
        if (lane->path.kind == HeartbeatPath::Kind::Pgpool)
            writePg(*lane, lane->inFlight);
        else
            writeApp(*lane, lane->inFlight);
    }
}

void HeartbeatWriter::writePg(Lane &lane, int index)
{
    if (!lane.connection) {
        lane.connection = new PgConnection(this);
        PgConnectOptions o;
        o.host = lane.path.address;
        o.port = lane.path.port;
        o.database = m_options.database;
        o.user = m_options.user;
        o.password = m_options.password;
        o.applicationName = QStringLiteral("pilothouse-heartbeat");
        o.connectTimeoutMs = m_options.connectTimeoutMs;
        o.label = lane.path.name;
        o.serverCheckIntervalMs = 0; // pgpool passes unknown startup settings on; keep it plain
        o.sslMode =
            QStringLiteral("disable"); // pgpool answers the SSL request itself: one round trip less
        lane.connection->open(o);
    }
    const HeartbeatWrite &w = m_writes.at(index);
    const QString sql =
        QStringLiteral("INSERT INTO %1 (run_id, seq, path, sent_at) VALUES ($1, $2, $3, $4)")
            .arg(m_options.table);
    const QString sentAt =
        QDateTime::fromMSecsSinceEpoch(w.sentMs, Qt::UTC).toString(Qt::ISODateWithMs);
    Lane *l = &lane;
    lane.queryId = lane.connection->query(
        sql, {m_options.runId, QString::number(w.seq), w.path, sentAt}, m_options.writeTimeoutMs,
        this, [this, l, index](const Result<PgReply> &r) {
            if (l->inFlight != index)
                return;
            finish(*l, index, -1, r ? QString() : r.error().message);
        });
}

void HeartbeatWriter::writeApp(Lane &lane, int index)
{
    if (!m_http)
        m_http = new HttpProbe(this);
    HttpProbeRequest request;
    request.url = m_options.appUrl;
    request.connectAddress = lane.path.address;
    request.caCertificates = m_options.appCaCertificates;
    request.timeoutMs = m_options.appWriteTimeoutMs;
    request.method = "POST";
    request.maxBodyBytes = 4096;
    request.reuseConnection = true;
    Lane *l = &lane;
    lane.requestId = m_http->get(request, this, [this, l, index](const Result<HttpProbeResult> &r) {
        if (l->inFlight != index)
            return;
        if (!r) {
            finish(*l, index, -1, r.error().message);
            return;
        }
        const HttpProbeResult &res = r.value();
        const QJsonObject body = QJsonDocument::fromJson(res.body).object();
        if (res.statusCode != 200 || !body.contains(QStringLiteral("id"))) {
            const QString why = body.value(QStringLiteral("error")).toString();
            finish(*l, index, -1,
                   QStringLiteral("HTTP %1%2")
                       .arg(res.statusCode)
                       .arg(why.isEmpty() ? QString() : QStringLiteral(": ") + why));
            return;
        }
        finish(*l, index, qint64(body.value(QStringLiteral("id")).toDouble(-1)), {});
    });
}

void HeartbeatWriter::finish(Lane &lane, int index, qint64 appId, const QString &error)
{
    HeartbeatWrite &w = m_writes[index];
    lane.inFlight = -1;
    const qint64 now = nowMs();
    if (error.isEmpty()) {
        w.ackedMs = now;
        w.appId = appId;
        if (lane.failing) {
            lane.failing = false;
            const qint64 from = lane.failingSinceAckMs >= 0 ? lane.failingSinceAckMs : m_startedMs;
            Q_EMIT pathRecovered(lane.path.name, double(now - from) / 1000.0);
        }
    } else {
        w.error = firstLine(error);
        // Start the next write on a fresh session: this one may be broken, or
        // bound to a backend pgpool no longer considers primary.
        if (lane.connection) {
            lane.connection->disconnect(this);
            lane.connection->deleteLater();
            lane.connection = nullptr;
        }
        if (!lane.failing) {
            lane.failing = true;
            lane.failingSinceAckMs = -1;
            for (qsizetype i = index - 1; i >= 0; --i) {
                if (m_writes.at(i).path == lane.path.name && m_writes.at(i).acked()) {
                    lane.failingSinceAckMs = m_writes.at(i).ackedMs;
                    break;
                }
            }
            Q_EMIT pathFailed(lane.path.name, w.error);
        }
    }
    Q_EMIT writeFinished(w);
}

HeartbeatPathReport HeartbeatWriter::report(const QString &path) const
{
    HeartbeatPathReport r;
    r.path = path;
    qint64 previousAck = m_startedMs;
    const qint64 end = m_running ? nowMs() : m_stoppedMs;
    bool sawFailure = false;
    for (const HeartbeatWrite &w : m_writes) {
        if (w.path != path)
            continue;
        ++r.sent;
        if (w.acked()) {
            ++r.acked;
            if (w.ackedMs - previousAck > r.gapToMs - r.gapFromMs) {
                r.gapFromMs = previousAck;
                r.gapToMs = w.ackedMs;
            }
            previousAck = w.ackedMs;
            if (sawFailure && r.firstSuccessAfterMs < 0)
                r.firstSuccessAfterMs = w.ackedMs;
        } else if (!w.error.isEmpty()) {
            ++r.failed;
            if (!sawFailure) {
                sawFailure = true;
                r.firstFailureMs = w.sentMs;
                r.firstError = w.error;
            }
        }
    }
    // Failing until the end counts up to the stop.
    if (end > 0 && end - previousAck > r.gapToMs - r.gapFromMs && (r.failed > 0 || r.acked == 0)) {
        r.gapFromMs = previousAck;
        r.gapToMs = end;
    }
    r.writeGapSeconds = double(r.gapToMs - r.gapFromMs) / 1000.0;
    return r;
}

QList<HeartbeatPathReport> HeartbeatWriter::report() const
{
    QList<HeartbeatPathReport> out;
    for (const HeartbeatPath &p : m_options.paths)
        out.append(report(p.name));
    return out;
}

void HeartbeatWriter::lostWrites(PgConnectOptions primary, int timeoutMs, QObject *context,
                                 LostCallback callback)
{
    if (primary.database.isEmpty())
        primary.database = m_options.database;
    if (primary.user.isEmpty()) {
        primary.user = m_options.user;
        primary.password = m_options.password;
    }
    primary.applicationName = QStringLiteral("pilothouse-heartbeat-check");
    primary.connectTimeoutMs = qMin(primary.connectTimeoutMs, timeoutMs);

    QList<HeartbeatWrite> ackedPg;
    QList<HeartbeatWrite> ackedApp;
    QStringList appIds;
    QSet<QString> appPaths;
    for (const HeartbeatPath &p : std::as_const(m_options.paths)) {
        if (p.kind == HeartbeatPath::Kind::App)
            appPaths.insert(p.name);
    }
    for (const HeartbeatWrite &w : std::as_const(m_writes)) {
        if (!w.acked())
            continue;
        if (appPaths.contains(w.path)) {
            ackedApp.append(w);
            if (w.appId >= 0)
                appIds.append(QString::number(w.appId));
        } else {
            ackedPg.append(w);
        }
    }

    auto *conn = new PgConnection(this);
    conn->open(primary);
    struct Found
    {
        QSet<qint64> seqs;
        QSet<qint64> appIds;
    };
    auto found = std::make_shared<Found>();
    auto done = [conn, callback](const Result<QList<HeartbeatWrite>> &r) {
        conn->deleteLater();
        callback(r);
    };
    const QString readSeqs =
        QStringLiteral("SELECT seq FROM %1 WHERE run_id = $1").arg(m_options.table);
    conn->query(readSeqs, {m_options.runId}, timeoutMs, context, [=](const Result<PgReply> &r) {
        if (!r) {
            done(r.error());
            return;
        }
        for (const PgRows &rows : r.value()) {
            for (qsizetype i = 0; i < rows.rows.size(); ++i)
                found->seqs.insert(rows.text(int(i), u"seq").toLongLong());
        }
        if (appIds.isEmpty()) {
            QList<HeartbeatWrite> lost;
            for (const HeartbeatWrite &w : ackedPg) {
                if (!found->seqs.contains(w.seq))
                    lost.append(w);
            }
            done(lost);
            return;
        }
        conn->query(QStringLiteral("SELECT id FROM heartbeat WHERE id = ANY($1::bigint[])"),
                    {QLatin1Char('{') + appIds.join(u',') + QLatin1Char('}')}, timeoutMs, context,
                    [=](const Result<PgReply> &r2) {
                        if (!r2) {
                            done(r2.error());
                            return;
                        }
                        for (const PgRows &rows : r2.value()) {
                            for (qsizetype i = 0; i < rows.rows.size(); ++i)
                                found->appIds.insert(rows.text(int(i), u"id").toLongLong());
                        }
                        QList<HeartbeatWrite> lost;
                        for (const HeartbeatWrite &w : ackedPg) {
                            if (!found->seqs.contains(w.seq))
                                lost.append(w);
                        }
                        for (const HeartbeatWrite &w : ackedApp) {
                            if (w.appId < 0 || !found->appIds.contains(w.appId))
                                lost.append(w);
                        }
                        done(lost);
                    });
    });
}

} // namespace Pilothouse
