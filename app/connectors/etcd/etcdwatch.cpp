#include "app/connectors/etcd/etcdwatch.h"

#include "app/connectors/etcd/etcderror_p.h"
#include "app/connectors/etcd/etcdjson.h"

#include <QNetworkReply>

namespace Pilothouse {

EtcdWatch::EtcdWatch(QNetworkReply *reply, const QString &what, int createTimeoutMs,
                     QObject *parent)
    : QObject(parent)
    , m_reply(reply)
    , m_what(what)
{
    connect(reply, &QNetworkReply::readyRead, this, &EtcdWatch::onReadyRead);
    connect(reply, &QNetworkReply::finished, this, &EtcdWatch::onFinished);
    // The client owns the network manager; if it goes first, so does the reply.
    connect(reply, &QObject::destroyed, this, [this] {
        if (m_active)
            fail(m_what + QStringLiteral(": the etcd client was destroyed"));
    });
    m_createDeadline.setSingleShot(true);
    connect(&m_createDeadline, &QTimer::timeout, this, [this] {
        fail(QStringLiteral("%1: etcd did not confirm the watch within %2 s: the member may be "
                            "overloaded, partitioned or down")
                 .arg(m_what)
                 .arg(m_createDeadline.interval() / 1000.0, 0, 'f', 1));
    });
    m_createDeadline.start(createTimeoutMs);
}

EtcdWatch::~EtcdWatch()
{
    m_active = false;
    if (m_reply) {
        m_reply->disconnect(this);
        m_reply->abort();
        m_reply->deleteLater();
    }
}

void EtcdWatch::cancel()
{
    if (!m_active)
        return;
    m_active = false;
    m_createDeadline.stop();
    if (m_reply) {
        m_reply->disconnect(this);
        m_reply->abort();
        m_reply->deleteLater();
    }
}

void EtcdWatch::fail(const QString &message)
{
    if (!m_active)
        return;
    cancel();
    Q_EMIT failed(makeError(message)); // last: a receiver may delete us
}

void EtcdWatch::onReadyRead()
{
    if (!m_active || !m_reply)
        return;
    m_buffer += m_reply->readAll();
    const QPointer<EtcdWatch> self(this);
    qsizetype nl;
    while (self && m_active && (nl = m_buffer.indexOf('\n')) >= 0) {
        const QByteArray line = m_buffer.left(nl).trimmed();
        m_buffer.remove(0, nl + 1);
        if (!line.isEmpty())
            handleLine(line);
    }
}

void EtcdWatch::handleLine(const QByteArray &line)
{
    if (auto e = EtcdJson::gatewayError(line, m_what)) {
        fail(e->message);
        return;
    }
    auto parsed = EtcdJson::parseWatchMessage(line);
    if (!parsed) {
        fail(m_what + QStringLiteral(": ") + parsed.error().message);
        return;
    }
    const EtcdWatchResponse &msg = parsed.value();
    if (msg.header.revision > m_revision)
        m_revision = msg.header.revision;
    if (msg.canceled) {
        QString why =
            msg.cancelReason.isEmpty() ? QStringLiteral("no reason given") : msg.cancelReason;
        if (msg.compactRevision > 0)
            why = QStringLiteral("revisions before %1 were compacted: read the current state "
                                 "and watch again from its revision")
                      .arg(msg.compactRevision);
        fail(QStringLiteral("%1: etcd cancelled the watch: %2").arg(m_what, why));
        return;
    }
    const QPointer<EtcdWatch> self(this);
    if (msg.created && !m_created) {
        m_created = true;
        m_watchId = msg.watchId;
        m_createDeadline.stop();
        Q_EMIT created(msg.header.revision);
        if (!self || !m_active)
            return;
    }
    for (const EtcdEvent &event : msg.events) {
        Q_EMIT eventReceived(event, msg.header.revision);
        if (!self || !m_active)
            return;
    }
}

void EtcdWatch::onFinished()
{
    if (!m_active || !m_reply)
        return;
    // A last message without a newline, typically an error answer.
    onReadyRead();
    if (!m_active)
        return;
    const QByteArray rest = m_buffer.trimmed();
    if (!rest.isEmpty()) {
        if (auto e = EtcdJson::gatewayError(rest, m_what)) {
            fail(e->message);
            return;
        }
        handleLine(rest);
        if (!m_active)
            return;
    }
    const QVariant status = m_reply->attribute(QNetworkRequest::HttpStatusCodeAttribute);
    if (!status.isValid())
        fail(m_what + QStringLiteral(": ") + m_reply->errorString());
    else
        fail(QStringLiteral("%1: the member closed the stream (HTTP %2)")
                 .arg(m_what)
                 .arg(status.toInt()));
}

} // namespace Pilothouse
