#pragma once
// Free functions; safe on any thread (they touch only their arguments and files).

#include "models/clustersnapshot.h"
#include "models/result.h"

#include <QDateTime>
#include <QList>
#include <QSslCertificate>
#include <QString>

namespace Pilothouse::CertificateReader {

// What the console shows of a certificate. Names are "CN=..., O=..." (Qt's
// attribute order); SANs "DNS:name" / "IP:address"; daysLeft counts whole
// days from `now` to notAfter (negative once expired).
CertificateState fromCertificate(const QSslCertificate &certificate, const QString &where,
                                 const QDateTime &now);

// Every certificate of a PEM file (a CA file, a chain). Errors name the file.
Result<QList<QSslCertificate>> loadPemFile(const QString &path);

} // namespace Pilothouse::CertificateReader
