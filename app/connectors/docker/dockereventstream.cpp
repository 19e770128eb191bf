#include "app/connectors/docker/dockereventstream.h"

#include "app/connectors/docker/dockerclient.h"
#include "app/connectors/docker/dockerreaders.h"
#include "app/connectors/docker/dockerreply.h"

#include <QUrlQuery>

namespace Pilothouse {
namespace {
// Events kept to recognise the overlap replayed after a reconnect.
constexpr qsizetype RecentEvents = 512;
// A connection that lived this long was healthy: the next failure starts
// the backoff afresh.
constexpr qint64 HealthyAfterMs = 10000;
} // namespace

DockerEventStream::DockerEventStream(DockerClient *client, QObject *parent)
    : QObject(parent)
    , m_client(client)
    , m_filters{{QStringLiteral("type"),
                 {QStringLiteral("container"), QStringLiteral("service"), QStringLiteral("node")}}}
{
    m_reconnect.setSingleShot(true);
    connect(&m_reconnect, &QTimer::timeout, this, &DockerEventStream::open);
}

DockerEventStream::~DockerEventStream()
{
    stop();
}

void DockerEventStream::setBackoff(int firstMs, int maxMs)
{
    m_firstBackoffMs = qMax(1, firstMs);
    m_maxBackoffMs = qMax(m_firstBackoffMs, maxMs);
    m_backoffMs = m_firstBackoffMs;
}

void DockerEventStream::start()
{
    if (m_running)
        return;
    m_running = true;
    m_backoffMs = m_firstBackoffMs;
    open();
}

void DockerEventStream::stop()
{
    m_running = false;
    m_connected = false;
    m_reconnect.stop();
    if (m_reply) {
        m_reply->disconnect(this);
        m_reply->abort();
        m_reply = nullptr;
    }
}

void DockerEventStream::open()
{
    if (!m_running)
        return;
    if (!m_client) {
        m_running = false;
        Q_EMIT disconnected(QStringLiteral("the Docker client is gone"), -1);
        return;
    }
    QUrlQuery query;
    query.addQueryItem(QStringLiteral("filters"),
                       QString::fromUtf8(QUrl::toPercentEncoding(
                           QString::fromUtf8(DockerReaders::encodeFilters(m_filters)))));
    // Resume where we were: after the last event, or, when none came yet,
    // from the moment the previous stream opened.
    const qint64 since = m_lastNano > 0 ? m_lastNano : m_serverNowNano;
    if (since > 0) {
        query.addQueryItem(QStringLiteral("since"),
                           QStringLiteral("%1.%2")
                               .arg(since / 1000000000LL)
                               .arg(since % 1000000000LL, 9, 10, QLatin1Char('0')));
    }
    DockerClient::RequestOptions o;
    o.streaming = true;
    o.timeoutMs = 0; // open for as long as the engine keeps it
    o.responseTimeoutMs = m_client->endpoint().requestTimeoutMs;
    m_buffer.clear();
    DockerReply *r = m_client->get(QStringLiteral("/events"), query, o);
    m_reply = r;
    connect(r, &DockerReply::headersReceived, this, [this, r](int status) {
        if (status != 200)
            return; // finished() explains
        if (m_serverNowNano == 0) {
            const QDateTime date =
                QDateTime::fromString(QString::fromLatin1(r->header("date")), Qt::RFC2822Date);
            if (date.isValid())
                m_serverNowNano = date.toMSecsSinceEpoch() * 1000000LL;
        }
        m_connected = true;
        m_connectedFor.start();
        Q_EMIT connected();
    });
    connect(r, &DockerReply::readyRead, this, &DockerEventStream::readLines);
    connect(r, &DockerReply::finished, this, &DockerEventStream::closed);
}

void DockerEventStream::readLines()
{
    if (!m_reply)
        return;
    m_buffer += m_reply->readAll();
    if (m_reply->status() != 200)
        return; // an error body; finished() reports it
    qsizetype nl;
    while ((nl = m_buffer.indexOf('\n')) >= 0) {
        const QByteArray line = m_buffer.left(nl).trimmed();
        m_buffer.remove(0, nl + 1);
        if (line.isEmpty())
            continue;
        const auto e = DockerReaders::readEvent(line);
        if (!e) {
            qWarning("%s: %s", qPrintable(m_client ? m_client->displayName() : QString()),
                     qPrintable(e.error().message));
            continue;
        }
        if (seenBefore(e.value()))
            continue;
        m_lastNano = qMax(m_lastNano, e.value().timeNano);
        Q_EMIT received(e.value());
    }
}

bool DockerEventStream::seenBefore(const DockerEvent &e)
{
    const QString key =
        QString::number(e.timeNano) + u'|' + e.type + u'|' + e.action + u'|' + e.actorId;
    if (m_recent.contains(key))
        return true;
    m_recent.insert(key);
    m_recentOrder.enqueue(key);
    while (m_recentOrder.size() > RecentEvents)
        m_recent.remove(m_recentOrder.dequeue());
    return false;
}

void DockerEventStream::closed()
{
    DockerReply *r = m_reply;
    m_reply = nullptr;
    const bool wasConnected = m_connected;
    m_connected = false;
    if (!m_running || !r)
        return;
    QString why;
    const auto result = r->result();
    if (!result)
        why = result.error().message;
    else if (result.value().status != 200)
        why = r->where() + QStringLiteral(": HTTP %1: %2")
                               .arg(result.value().status)
                               .arg(QString::fromUtf8(m_buffer.left(300)).trimmed());
    else
        why = r->where() + QStringLiteral(": the engine closed the event stream");
    if (wasConnected && m_connectedFor.elapsed() >= HealthyAfterMs)
        m_backoffMs = m_firstBackoffMs;
    const int delay = m_backoffMs;
    m_backoffMs = qMin(m_maxBackoffMs, m_backoffMs * 2);
    m_reconnect.start(delay);
    Q_EMIT disconnected(why, delay);
}

} // namespace Pilothouse
