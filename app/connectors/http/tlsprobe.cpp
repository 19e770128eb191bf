#include "app/connectors/http/tlsprobe.h"

#include "app/connectors/http/certificatereader.h"
#include "app/connectors/http/httperror_p.h"

#include <QDateTime>
#include <QElapsedTimer>
#include <QNetworkProxy>
#include <QSslCipher>
#include <QSslConfiguration>
#include <QSslSocket>
#include <QTimer>

namespace Pilothouse {
namespace {

qint64 nowNs()
{
    static QElapsedTimer clock;
    if (!clock.isValid())
        clock.start();
    return clock.nsecsElapsed();
}

QString protocolName(QSsl::SslProtocol p)
{
    switch (p) {
    case QSsl::TlsV1_2:
        return QStringLiteral("TLSv1.2");
    case QSsl::TlsV1_3:
        return QStringLiteral("TLSv1.3");
    default:
        return QStringLiteral("other");
    }
}

} // namespace

TlsProbe::TlsProbe(QObject *parent)
    : QObject(parent)
{}

TlsProbe::~TlsProbe()
{
    for (auto &p : m_pending) {
        p.socket->disconnect(this);
        p.socket->abort();
    }
}

QString TlsProbe::describe(const TlsProbeRequest &request)
{
    return QStringLiteral("TLS %1 via %2:%3")
        .arg(request.serverName, request.address)
        .arg(request.port);
}

TlsProbe::RequestId TlsProbe::probe(const TlsProbeRequest &request, QObject *context, Callback done)
{
    const RequestId id = m_nextId++;
    auto *socket = new QSslSocket(this);
    socket->setProxy(QNetworkProxy::NoProxy);
    QSslConfiguration ssl = QSslConfiguration::defaultConfiguration();
    if (!request.caCertificates.isEmpty())
        ssl.addCaCertificates(request.caCertificates);
    // Verify for real so that trust errors are computed; they are recorded
    // and ignored so that the chain can be read even when it is not trusted.
    ssl.setPeerVerifyMode(QSslSocket::VerifyPeer);
    socket->setSslConfiguration(ssl);

    Pending p;
    p.socket = socket;
    p.request = request;
    p.context = context;
    p.hasContext = context != nullptr;
    p.done = std::move(done);
    p.startedNs = nowNs();
    m_pending.insert(id, std::move(p));

    auto *deadline = new QTimer(socket);
    deadline->setSingleShot(true);
    connect(deadline, &QTimer::timeout, this, [this, id] {
        auto it = m_pending.find(id);
        if (it == m_pending.end())
            return;
        finish(id, makeError(QStringLiteral("%1: no TLS handshake within %2 s")
                                 .arg(describe(it->request))
                                 .arg(it->request.timeoutMs / 1000.0, 0, 'f', 1)));
    });
    deadline->start(request.timeoutMs);

    connect(socket, &QSslSocket::sslErrors, this, [this, id](const QList<QSslError> &errors) {
        auto it = m_pending.find(id);
        if (it == m_pending.end())
            return;
        for (const QSslError &e : errors)
            it->trustErrors.append(e.errorString());
        it->socket->ignoreSslErrors();
    });
    connect(socket, &QSslSocket::encrypted, this, [this, id] {
        auto it = m_pending.find(id);
        if (it == m_pending.end())
            return;
        const QDateTime now = QDateTime::currentDateTimeUtc();
        TlsProbeResult r;
        r.where = QStringLiteral("%1 via %2:%3")
                      .arg(it->request.serverName, it->request.address)
                      .arg(it->request.port);
        r.certificates = it->socket->peerCertificateChain();
        if (r.certificates.isEmpty() && !it->socket->peerCertificate().isNull())
            r.certificates.append(it->socket->peerCertificate());
        for (const QSslCertificate &c : std::as_const(r.certificates))
            r.chain.append(CertificateReader::fromCertificate(c, r.where, now));
        r.trustErrors = it->trustErrors;
        r.trusted = r.trustErrors.isEmpty();
        r.protocol = protocolName(it->socket->sessionProtocol());
        r.cipher = it->socket->sessionCipher().name();
        r.handshakeMs = (nowNs() - it->startedNs) / 1e6;
        finish(id, std::move(r));
    });
    connect(socket, &QAbstractSocket::errorOccurred, this,
            [this, id](QAbstractSocket::SocketError) {
                auto it = m_pending.find(id);
                if (it == m_pending.end())
                    return;
                QString why = it->socket->errorString();
                if (it->socket->error() == QAbstractSocket::ConnectionRefusedError)
                    why = QStringLiteral("connection refused: is the proxy running on that host "
                                         "and its port published?");
                finish(id, makeError(describe(it->request) + QStringLiteral(": ") + why));
            });
    socket->connectToHostEncrypted(request.address, request.port, request.serverName);
    return id;
}

void TlsProbe::finish(RequestId id, Result<TlsProbeResult> result)
{
    auto it = m_pending.find(id);
    if (it == m_pending.end())
        return;
    Pending p = std::move(*it);
    m_pending.erase(it);
    p.socket->disconnect(this);
    p.socket->abort();
    p.socket->deleteLater();
    if (p.hasContext && !p.context)
        return;
    p.done(std::move(result));
}

void TlsProbe::cancel(RequestId id)
{
    auto it = m_pending.find(id);
    if (it == m_pending.end())
        return;
    finish(id, makeError(describe(it->request) + QStringLiteral(": cancelled")));
}

} // namespace Pilothouse
