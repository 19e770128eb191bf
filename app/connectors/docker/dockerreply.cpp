#include "app/connectors/docker/dockerreply.h"

#include "app/connectors/docker/dockerclient.h"
#include "app/connectors/docker/dockererror_p.h"

#include <QJsonObject>

namespace Pilothouse {

DockerReply::DockerReply(DockerClient *client, const QByteArray &method, const QString &path,
                         bool streaming)
    : QObject(client)
    , m_client(client)
    , m_method(method)
    , m_path(path)
    , m_endpointName(client->displayName())
    , m_streaming(streaming)
{}

DockerReply::~DockerReply()
{
    if (m_client && !m_result)
        m_client->detachReply(this);
}

QString DockerReply::where() const
{
    return QString::fromLatin1(m_method) + u' ' + m_path + QStringLiteral(" on ") + m_endpointName;
}

Result<DockerResponse> DockerReply::result() const
{
    if (!m_result)
        return Internal::dockerError(where() + QStringLiteral(": not finished yet"));
    return *m_result;
}

Result<QJsonDocument> DockerReply::json() const
{
    const auto r = result();
    if (!r)
        return r.error();
    const DockerResponse &response = r.value();
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(response.body, &parseError);
    if (response.status < 200 || response.status > 299) {
        // Docker explains its errors as {"message": "..."}.
        QString message = doc.object().value(QStringLiteral("message")).toString();
        if (message.isEmpty())
            message = QString::fromUtf8(response.body.left(300)).trimmed();
        return Internal::dockerError(where() + QStringLiteral(": HTTP %1: ").arg(response.status) +
                                     message);
    }
    if (response.body.isEmpty())
        return QJsonDocument();
    if (parseError.error != QJsonParseError::NoError) {
        return Internal::dockerError(where() +
                                     QStringLiteral(": the answer is not JSON (%1 at byte %2)")
                                         .arg(parseError.errorString())
                                         .arg(parseError.offset));
    }
    return doc;
}

QByteArray DockerReply::readAll()
{
    return std::exchange(m_unread, {});
}

void DockerReply::abort()
{
    if (m_result || !m_client)
        return;
    m_client->abortReply(this);
}

void DockerReply::finish(Result<DockerResponse> result)
{
    if (m_result)
        return;
    m_result = std::move(result);
    // Queued: the caller may be curl's bookkeeping or the very call that
    // created this reply; slots must run from a clean event loop turn.
    QMetaObject::invokeMethod(
        this,
        [this] {
            if (!m_unread.isEmpty())
                Q_EMIT readyRead();
            Q_EMIT finished();
            deleteLater();
        },
        Qt::QueuedConnection);
}

} // namespace Pilothouse
