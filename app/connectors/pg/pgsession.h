#pragma once
// Lives on the thread that creates it (usually the GUI thread); never blocks it.

#include "app/connectors/pg/pgconnection.h"
#include "models/result.h"

#include <QElapsedTimer>
#include <QObject>
#include <QTimer>

namespace Pilothouse {

// A PgConnection that stays open: after a failed attempt or a lost connection
// it reconnects with exponential backoff (250 ms doubling to 5 s by default).
// A connection that dies within a second of opening does not reset the
// backoff, so a server that accepts and drops at once is not hammered.
class PgSession final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(PgSession)

public:
    explicit PgSession(QObject *parent = nullptr);
    ~PgSession() override;

    void setBackoff(int minMs, int maxMs);
    void start(const PgConnectOptions &options);
    void stop();
    bool isStarted() const { return m_started; }

    PgConnection *connection() const { return m_connection; }
    bool isConnected() const { return m_connection->isConnected(); }
    // Why the last attempt failed or the connection ended; empty message when fine.
    Error lastError() const { return m_lastError; }
    // Delay before the next attempt (for tests and status lines).
    int nextRetryMs() const { return m_backoffMs; }
    // Reconnects now instead of waiting for the backoff timer; no-op when connected.
    void retryNow();

Q_SIGNALS:
    void connected();
    void connectFailed(const Pilothouse::Error &error);
    void connectionLost(const Pilothouse::Error &error);

private:
    void attempt();
    void scheduleRetry();

    PgConnection *m_connection;
    PgConnectOptions m_options;
    QTimer m_retry;
    QElapsedTimer m_upSince;
    Error m_lastError;
    int m_minBackoffMs = 250;
    int m_maxBackoffMs = 5000;
    int m_backoffMs = 250;
    bool m_started = false;
};

} // namespace Pilothouse
