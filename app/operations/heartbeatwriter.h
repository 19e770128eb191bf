#pragma once
// Lives on the thread that creates it (the GUI thread or the CLI's main
// thread); never blocks it.

#include "app/connectors/pg/pgconnection.h"
#include "models/inventory.h"
#include "models/result.h"

#include <QElapsedTimer>
#include <QList>
#include <QObject>
#include <QSslCertificate>
#include <QString>
#include <QTimer>
#include <QUrl>

#include <functional>

namespace Pilothouse {

class HttpProbe;

// One way a client writes: straight to a pgpool instance, or through the
// proxy to the app's POST /api/write.
struct HeartbeatPath
{
    enum class Kind { Pgpool, App };
    Kind kind = Kind::Pgpool;
    QString name;    // "pgpool@swarm-01", "app@swarm-01": how reports name it
    QString address; // where to connect: a pgpool host, or a proxy host
    int port = 0;    // pgpool: its SQL port; App: unused (the URL's)
};

// One write attempt, as the writer saw it.
struct HeartbeatWrite
{
    qint64 seq = 0; // unique within a run, across paths
    QString path;
    qint64 sentMs = 0;   // UTC, ms since the epoch
    qint64 ackedMs = -1; // when the commit was acknowledged; -1: it was not
    QString error;       // why not, when not
    qint64 appId = -1;   // App paths: the row id the app returned

    bool acked() const { return ackedMs >= 0; }
};

struct HeartbeatPathReport
{
    QString path;
    int sent = 0;
    int acked = 0;
    int failed = 0;
    // The longest time without an acknowledged write: between two
    // consecutive acknowledgements, or from the start to the first one, or
    // from the last one to stop() when writes were failing at the end.
    double writeGapSeconds = 0;
    qint64 gapFromMs = 0; // the ack (or start) that opened the longest gap
    qint64 gapToMs = 0;   // the ack (or stop) that closed it
    qint64 firstFailureMs = -1;
    QString firstError;
    qint64 firstSuccessAfterMs = -1; // the first ack after the first failure
};

struct HeartbeatWriterOptions
{
    int intervalMs = 100;
    int writeTimeoutMs = 1000;    // each write through pgpool, counted from when it is sent
    int appWriteTimeoutMs = 3000; // each write through the app (TLS, proxy, app, pgpool)
    int connectTimeoutMs = 2000;  // each (re)connection to a pgpool
    // Pgpool paths and the read-back: a role that may create and write the table.
    QString database;
    QString user;
    QString password; // never logged nor put in a message
    QString table = QStringLiteral("pilothouse_heartbeat");
    QString runId; // rows of this run; empty: one is made up at start()
    QList<HeartbeatPath> paths;
    // App paths: e.g. https://app.pilothouse.lab/api/write, reached at each
    // path's address, trusting these roots besides the system's.
    QUrl appUrl;
    QList<QSslCertificate> appCaCertificates;

    // The lab stack's conventions: role `app` (the stack's POSTGRESQL_USERNAME)
    // with <secrets_dir>/pg_app_password in the inventory's database, one
    // path per pgpool host, and one app path through the proxy of the first
    // of `proxyHosts` (none when empty), trusting <secrets_dir>/proxy_tls_cert.pem.
    static Result<HeartbeatWriterOptions> fromInventory(const Inventory &inventory,
                                                        const QStringList &pgpoolHosts,
                                                        const QStringList &proxyHosts);
};

// Writes a heartbeat (seq, sent_at) every intervalMs on every path, one write
// in flight per path, each with its timeout, and keeps every attempt. Reports
// the write gap per path and, read back from a primary, which acknowledged
// writes are missing there (RPO).
//
// Pgpool paths insert into `table` (created if missing); the app path posts
// to the app, which inserts into its own `heartbeat` table and returns the row
// id. A failed write drops that path's session, so the next one starts afresh
// (as an application's pool would).
class HeartbeatWriter final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(HeartbeatWriter)

public:
    explicit HeartbeatWriter(HeartbeatWriterOptions options, QObject *parent = nullptr);
    ~HeartbeatWriter() override;

    // Creates the table through the first pgpool path that answers, then
    // writes on every path; emits started() or startFailed().
    void start();
    // Stops writing; writes in flight are recorded as not acknowledged.
    void stop();
    bool isRunning() const { return m_running; }

    const HeartbeatWriterOptions &options() const { return m_options; }
    QString runId() const { return m_options.runId; }
    const QList<HeartbeatWrite> &writes() const { return m_writes; }
    QList<HeartbeatPathReport> report() const;
    HeartbeatPathReport report(const QString &path) const;

    using LostCallback = std::function<void(const Result<QList<HeartbeatWrite>> &)>;
    // Reads back, from `primary` (connection options of the node that is
    // primary now; database and credentials are taken from the options when
    // empty), which acknowledged writes of this run are there, and returns
    // those that are not: acknowledged but lost.
    void lostWrites(PgConnectOptions primary, int timeoutMs, QObject *context,
                    LostCallback callback);

Q_SIGNALS:
    void started();
    void startFailed(const Pilothouse::Error &error);
    // Every write once it is acknowledged or failed.
    void writeFinished(const Pilothouse::HeartbeatWrite &write);
    // A path's first failure after successes, and its first success after failures.
    void pathFailed(const QString &path, const QString &error);
    void pathRecovered(const QString &path, double gapSeconds);

private:
    struct Lane;

    void prepare(int pathIndex);
    void tick();
    void writePg(Lane &lane, int index);
    void writeApp(Lane &lane, int index);
    void finish(Lane &lane, int index, qint64 appId, const QString &error);
    static qint64 nowMs();

    HeartbeatWriterOptions m_options;
    QList<Lane *> m_lanes;
    QList<HeartbeatWrite> m_writes;
    QTimer m_tick;
    HttpProbe *m_http = nullptr;
    PgConnection *m_prepare = nullptr;
    qint64 m_seq = 0;
    qint64 m_startedMs = 0;
    qint64 m_stoppedMs = 0;
    bool m_running = false;
};

} // namespace Pilothouse
