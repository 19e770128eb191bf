// libFuzzer target: reading certificates from PEM (what the radar gets from
// a proxy's file, an ACME store or a node) and describing them.
#include "app/connectors/http/certificatereader.h"

#include <QCoreApplication>
#include <QSslCertificate>

#include <cstddef>
#include <cstdint>

// Qt finds its TLS backend (the certificate parser) as a plugin: it wants an application object.
extern "C" int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static QCoreApplication app(*argc, *argv);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray bytes(reinterpret_cast<const char *>(data), qsizetype(size));
    static const QDateTime now = QDateTime::fromSecsSinceEpoch(1795000000, Qt::UTC);
    for (const QSslCertificate &c : QSslCertificate::fromData(bytes, QSsl::Pem))
        (void)Pilothouse::CertificateReader::fromCertificate(c, QStringLiteral("fuzz"), now);
    for (const QSslCertificate &c : QSslCertificate::fromData(bytes, QSsl::Der))
        (void)Pilothouse::CertificateReader::fromCertificate(c, QStringLiteral("fuzz"), now);
    return 0;
}
