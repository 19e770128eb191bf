#include "app/connectors/pg/pgsession.h"

namespace Pilothouse {
namespace {
constexpr qint64 StableAfterMs = 1000; // a connection older than this counts as healthy
} // namespace

PgSession::PgSession(QObject *parent)
    : QObject(parent)
    , m_connection(new PgConnection(this))
{
    m_retry.setSingleShot(true);
    connect(&m_retry, &QTimer::timeout, this, &PgSession::attempt);
    connect(m_connection, &PgConnection::connected, this, [this] {
        m_lastError = {};
        m_upSince.start();
        Q_EMIT connected();
    });
    connect(m_connection, &PgConnection::connectFailed, this, [this](const Error &error) {
        m_lastError = error;
        scheduleRetry();
        Q_EMIT connectFailed(error);
    });
    connect(m_connection, &PgConnection::connectionLost, this, [this](const Error &error) {
        m_lastError = error;
        if (m_upSince.isValid() && m_upSince.elapsed() >= StableAfterMs)
            m_backoffMs = m_minBackoffMs;
        m_upSince.invalidate();
        scheduleRetry();
        Q_EMIT connectionLost(error);
    });
}

PgSession::~PgSession() = default;

void PgSession::setBackoff(int minMs, int maxMs)
{
    m_minBackoffMs = qMax(1, minMs);
    m_maxBackoffMs = qMax(m_minBackoffMs, maxMs);
    m_backoffMs = m_minBackoffMs;
}

void PgSession::start(const PgConnectOptions &options)
{
    m_options = options;
    m_started = true;
    m_backoffMs = m_minBackoffMs;
    m_retry.stop();
    attempt();
}

void PgSession::stop()
{
    m_started = false;
    m_retry.stop();
    m_connection->close();
}

void PgSession::retryNow()
{
    if (!m_started || m_connection->state() != PgConnection::State::Disconnected)
        return;
    m_retry.stop();
    attempt();
}

void PgSession::attempt()
{
    if (!m_started)
        return;
    m_connection->open(m_options);
}

void PgSession::scheduleRetry()
{
    if (!m_started)
        return;
    m_retry.start(m_backoffMs);
    m_backoffMs = qMin(m_maxBackoffMs, m_backoffMs * 2);
}

} // namespace Pilothouse
