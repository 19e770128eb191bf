#include "app/connectors/http/certificatereader.h"

#include "app/connectors/http/httperror_p.h"

#include <QFile>

namespace Pilothouse::CertificateReader {
namespace {

QString distinguishedName(const QSslCertificate &c, bool issuer)
{
    QStringList parts;
    const QList<QByteArray> attributes =
        issuer ? c.issuerInfoAttributes() : c.subjectInfoAttributes();
    for (const QByteArray &a : attributes) {
        const QStringList values = issuer ? c.issuerInfo(a) : c.subjectInfo(a);
        for (const QString &v : values)
            parts.append(QString::fromLatin1(a) + u'=' + v);
    }
    return parts.join(QStringLiteral(", "));
}

} // namespace

CertificateState fromCertificate(const QSslCertificate &certificate, const QString &where,
                                 const QDateTime &now)
{
    CertificateState s;
    s.where = where;
    s.subject = distinguishedName(certificate, false);
    s.issuer = distinguishedName(certificate, true);
    const auto sans = certificate.subjectAlternativeNames();
    for (auto it = sans.cbegin(); it != sans.cend(); ++it) {
        switch (it.key()) {
        case QSsl::DnsEntry:
            s.subjectAltNames.append(QStringLiteral("DNS:") + it.value());
            break;
        case QSsl::IpAddressEntry:
            s.subjectAltNames.append(QStringLiteral("IP:") + it.value());
            break;
        case QSsl::EmailEntry:
            s.subjectAltNames.append(QStringLiteral("email:") + it.value());
            break;
        }
    }
    s.notAfter = certificate.expiryDate().toUTC();
    // Whole days, rounded down; an expired certificate counts negative.
    const qint64 secs = now.secsTo(s.notAfter);
    s.daysLeft = static_cast<int>(secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400));
    return s;
}

Result<QList<QSslCertificate>> loadPemFile(const QString &path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return Error{QStringLiteral("cannot read the certificate file: %1").arg(f.errorString()),
                     path, 0, 0};
    const QList<QSslCertificate> certs = QSslCertificate::fromData(f.readAll(), QSsl::Pem);
    if (certs.isEmpty())
        return Error{QStringLiteral("no PEM certificate in the file"), path, 0, 0};
    return certs;
}

} // namespace Pilothouse::CertificateReader
