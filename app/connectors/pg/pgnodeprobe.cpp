#include "app/connectors/pg/pgnodeprobe.h"

#include "app/connectors/pg/pgerror_p.h"
#include "app/connectors/pg/pgsession.h"

namespace Pilothouse {
namespace {
constexpr int MaxEventsPerRead = 500;
} // namespace

Result<PgNodeProbeConfig> PgNodeProbeConfig::fromInventory(const Inventory &inventory,
                                                           const QString &node,
                                                           const QString &password)
{
    const ClusterSettings &s = inventory.settings;
    const QString host = s.postgresNodes.value(node);
    if (host.isEmpty())
        return Internal::pgError(
            QStringLiteral("%1: no such PostgreSQL node in %2").arg(node, inventory.path));
    const InventoryHost *h = inventory.host(host);
    if (!h)
        return Internal::pgError(
            QStringLiteral("%1: its host %2 is not in %3").arg(node, host, inventory.path));
    PgNodeProbeConfig c;
    c.name = node;
    c.host = host;
    c.address = h->address;
    c.port = s.postgresPort;
    c.database = s.database;
    c.repmgrDatabase = s.repmgrDatabase;
    c.user = s.monitorUser;
    c.password = password;
    return c;
}

PgNodeProbe::PgNodeProbe(const PgNodeProbeConfig &config, QObject *parent)
    : QObject(parent)
    , m_config(config)
    , m_monitor(new PgSession(this))
    , m_repmgr(new PgSession(this))
{
    m_state.name = config.name;
    m_state.host = config.host;
    m_state.role = QStringLiteral("unknown");
    for (PgSession *s : {m_monitor, m_repmgr})
        s->setBackoff(config.minBackoffMs, config.maxBackoffMs);
    connect(m_monitor, &PgSession::connected, this, &PgNodeProbe::connected);
    connect(m_monitor, &PgSession::connectionLost, this, &PgNodeProbe::connectionLost);
}

PgNodeProbe::~PgNodeProbe() = default;

void PgNodeProbe::start()
{
    PgConnectOptions o;
    o.host = m_config.address;
    o.port = m_config.port;
    o.database = m_config.database;
    o.user = m_config.user;
    o.password = m_config.password;
    o.applicationName = m_config.applicationName;
    o.connectTimeoutMs = m_config.connectTimeoutMs;
    o.label = m_config.name;
    m_monitor->start(o);
    if (!m_config.repmgrDatabase.isEmpty() && m_config.repmgrDatabase != m_config.database) {
        o.database = m_config.repmgrDatabase;
        o.label = m_config.name + QStringLiteral(" repmgr");
        m_repmgr->start(o);
    }
}

void PgNodeProbe::stop()
{
    m_monitor->stop();
    m_repmgr->stop();
}

bool PgNodeProbe::isMonitorConnected() const
{
    return m_monitor->isConnected();
}

PgSession *PgNodeProbe::repmgrSession() const
{
    // Monitoring from the repmgr database itself needs one connection, not two:
    // the pg_stat_* views it reads are the same from every database.
    return m_config.repmgrDatabase == m_config.database ? m_monitor : m_repmgr;
}

bool PgNodeProbe::isRepmgrConnected() const
{
    return !m_config.repmgrDatabase.isEmpty() && repmgrSession()->isConnected();
}

void PgNodeProbe::refresh()
{
    if (m_pending > 0)
        return;
    m_next = m_state;
    m_nodeError.reset();
    m_newEvents.clear();

    if (!m_monitor->isConnected()) {
        m_next.reachable = false;
        m_next.freshness.stale = true;
        m_next.freshness.error =
            m_monitor->lastError().message.isEmpty()
                ? m_config.name + QStringLiteral(": connecting to ") + m_config.address
                : m_monitor->lastError().message;
        m_state = m_next;
        // Like every other outcome, reported from the event loop.
        QMetaObject::invokeMethod(
            this, [this] { Q_EMIT refreshed(m_state); }, Qt::QueuedConnection);
        return;
    }

    const bool withRepmgr = isRepmgrConnected();
    m_pending = withRepmgr ? 3 : 1;
    m_monitor->connection()->query(
        PgParse::nodeStatusSql(), m_config.queryTimeoutMs, this,
        [this](const Result<PgReply> &reply) {
            if (!reply) {
                m_nodeError = reply.error();
            } else {
                auto parsed = PgParse::parseNodeStatus(reply.value(), m_next);
                if (parsed) {
                    m_next = std::move(parsed).value();
                    m_senderHost = m_next.upstream;
                } else {
                    m_nodeError = Internal::pgError(m_config.name + QStringLiteral(": ") +
                                                    parsed.error().message);
                }
            }
            finishStep();
        });
    if (!withRepmgr)
        return;
    repmgrSession()->connection()->query(
        PgParse::repmgrStatusSql(m_cursor, m_config.eventBacklog, MaxEventsPerRead),
        m_config.queryTimeoutMs, this, [this](const Result<PgReply> &reply) {
            // Without repmgr's view the node's own state still stands: keep
            // the last known repmgr.nodes, and read the events again next time.
            if (reply && reply.value().size() == 2) {
                auto nodes = PgParse::parseRepmgrNodes(reply.value().at(0));
                if (nodes)
                    m_repmgrNodes = nodes.value();
                auto events = m_cursor.take(reply.value().at(1));
                if (events)
                    m_newEvents = events.value();
            }
            finishStep();
        });
    // A query of its own: a repmgr without these functions must not cost the
    // nodes and events above.
    repmgrSession()->connection()->query(
        PgParse::repmgrdStateSql(), m_config.queryTimeoutMs, this,
        [this](const Result<PgReply> &reply) {
            m_repmgrd.clear(); // unknown unless this answer says
            if (reply && reply.value().size() == 1) {
                if (auto state = PgParse::parseRepmgrdState(reply.value().first()))
                    m_repmgrd = state.value();
            }
            finishStep();
        });
}

void PgNodeProbe::finishStep()
{
    if (--m_pending > 0)
        return;
    m_next.name = m_config.name;
    m_next.host = m_config.host;
    m_next.repmgr = m_repmgrNodes;
    m_next.repmgrd = isRepmgrConnected() ? m_repmgrd : QString();
    if (m_nodeError) {
        m_next.reachable = m_monitor->isConnected();
        m_next.freshness.stale = true;
        m_next.freshness.error = m_nodeError->message;
    } else {
        m_next.reachable = true;
        m_next.upstream = PgParse::upstreamNodeName(m_senderHost, m_repmgrNodes);
        m_next.freshness = Freshness{QDateTime::currentDateTimeUtc(), false, {}};
    }
    m_state = m_next;
    const QList<RepmgrEvent> events = std::exchange(m_newEvents, {});
    Q_EMIT refreshed(m_state);
    if (!events.isEmpty())
        Q_EMIT repmgrEventsRead(m_config.name, events);
}

} // namespace Pilothouse
