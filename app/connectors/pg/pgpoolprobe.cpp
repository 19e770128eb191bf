#include "app/connectors/pg/pgpoolprobe.h"

#include "app/connectors/pg/pgerror_p.h"
#include "app/connectors/pg/pgparse.h"
#include "app/connectors/pg/pgsession.h"

namespace Pilothouse {

Result<PgpoolProbeConfig> PgpoolProbeConfig::fromInventory(const Inventory &inventory,
                                                           const QString &host, const QString &task,
                                                           const QString &password)
{
    const InventoryHost *h = inventory.host(host);
    if (!h)
        return Internal::pgError(QStringLiteral("pgpool task %1: its host %2 is not in %3")
                                     .arg(task, host, inventory.path));
    PgpoolProbeConfig c;
    c.task = task;
    c.host = host;
    c.address = h->address;
    c.port = inventory.settings.pgpoolPort;
    c.database = inventory.settings.database;
    c.user = inventory.settings.monitorUser;
    c.password = password;
    return c;
}

PgpoolProbe::PgpoolProbe(const PgpoolProbeConfig &config, QObject *parent)
    : QObject(parent)
    , m_config(config)
    , m_session(new PgSession(this))
{
    m_state.task = config.task;
    m_state.host = config.host;
    m_session->setBackoff(config.minBackoffMs, config.maxBackoffMs);
    connect(m_session, &PgSession::connected, this, &PgpoolProbe::connected);
    connect(m_session, &PgSession::connectionLost, this, &PgpoolProbe::connectionLost);
}

PgpoolProbe::~PgpoolProbe() = default;

void PgpoolProbe::start()
{
    PgConnectOptions o;
    o.host = m_config.address;
    o.port = m_config.port;
    o.database = m_config.database;
    o.user = m_config.user;
    o.password = m_config.password;
    o.applicationName = m_config.applicationName;
    o.connectTimeoutMs = m_config.connectTimeoutMs;
    o.label = QStringLiteral("pgpool on ") + m_config.host;
    // pgpool answers SHOW itself; startup options would go to its backends.
    o.serverCheckIntervalMs = 0;
    m_session->start(o);
}

void PgpoolProbe::stop()
{
    m_session->stop();
}

bool PgpoolProbe::isConnected() const
{
    return m_session->isConnected();
}

void PgpoolProbe::refresh()
{
    if (m_pending > 0)
        return;
    m_error.reset();
    if (!m_session->isConnected()) {
        m_state.reachable = false;
        m_state.freshness.stale = true;
        m_state.freshness.error = m_session->lastError().message.isEmpty()
                                      ? QStringLiteral("pgpool on %1: connecting to %2:%3")
                                            .arg(m_config.host, m_config.address)
                                            .arg(m_config.port)
                                      : m_session->lastError().message;
        QMetaObject::invokeMethod(
            this, [this] { Q_EMIT refreshed(m_state); }, Qt::QueuedConnection);
        return;
    }
    // Two statements, queued back to back on one connection: pgpool answers
    // each of its SHOW commands only as a statement of its own.
    m_pending = 2;
    PgConnection *c = m_session->connection();
    c->query(QStringLiteral("SHOW POOL_NODES"), m_config.queryTimeoutMs, this,
             [this](const Result<PgReply> &reply) {
                 if (!reply) {
                     m_error = reply.error();
                 } else if (reply.value().isEmpty()) {
                     m_error =
                         Internal::pgError(QStringLiteral("SHOW POOL_NODES returned nothing"));
                 } else {
                     auto backends = PgParse::parsePoolNodes(reply.value().first());
                     if (backends)
                         m_backends = backends.value();
                     else
                         m_error = backends.error();
                 }
                 finishStep();
             });
    c->query(QStringLiteral("SHOW POOL_HEALTH_CHECK_STATS"), m_config.queryTimeoutMs, this,
             [this](const Result<PgReply> &reply) {
                 // Runs after SHOW POOL_NODES (same connection, in order).
                 if (reply && !reply.value().isEmpty() && !m_error) {
                     auto merged =
                         PgParse::mergeHealthCheckStats(reply.value().first(), m_backends);
                     if (merged)
                         m_backends = merged.value();
                 }
                 finishStep();
             });
}

void PgpoolProbe::finishStep()
{
    if (--m_pending > 0)
        return;
    m_state.task = m_config.task;
    m_state.host = m_config.host;
    if (m_error) {
        m_state.reachable = m_session->isConnected();
        m_state.freshness.stale = true;
        m_state.freshness.error = m_error->message;
    } else {
        m_state.reachable = true;
        m_state.backends = m_backends;
        m_state.freshness = Freshness{QDateTime::currentDateTimeUtc(), false, {}};
    }
    Q_EMIT refreshed(m_state);
}

} // namespace Pilothouse
