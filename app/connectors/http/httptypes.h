#pragma once
// Value types of the HTTP and TLS probes, usable on any thread.

#include "models/clustersnapshot.h"

#include <QByteArray>
#include <QList>
#include <QSslCertificate>
#include <QString>
#include <QStringList>
#include <QUrl>

namespace Pilothouse {

struct HttpProbeRequest
{
    // What a person would type: https://app.pilothouse.lab/healthz. Its host
    // goes into the Host header and is the TLS name (SNI and verification).
    QUrl url;
    // Where to connect instead of resolving url's host (curl --resolve), e.g.
    // one replica's host "10.213.0.11". Empty: resolve normally.
    QString connectAddress;
    // Extra trusted roots (e.g. the lab's self-signed certificate), added to
    // the system's. Verification is never switched off.
    QList<QSslCertificate> caCertificates;
    int timeoutMs = 5000;
    bool followRedirects = false; // a probe reports a redirect rather than following it
    int maxBodyBytes = 512;       // the excerpt kept; the rest is read and dropped
    // A kept-alive connection would skip the TCP and TLS handshakes, hide a
    // changed certificate and carry another request's trust settings and SNI:
    // a probe opens its own by default (Connection: close).
    bool reuseConnection = false;
    QByteArray method = "GET";
};

struct HttpProbeResult
{
    QUrl url;            // as requested
    QString connectedTo; // "10.213.0.11:443"
    int statusCode = 0;
    QString reason;         // the status line's text
    QString location;       // of a redirect
    double latencyMs = 0;   // request sent -> body complete
    double firstByteMs = 0; // request sent -> headers received
    QByteArray body;        // at most maxBodyBytes
    qint64 bodySize = 0;    // the whole body's size
    QString contentType;
};

struct TlsProbeRequest
{
    QString address; // where to connect: "10.213.0.11"
    quint16 port = 443;
    QString serverName;                    // SNI and the name verified: "app.pilothouse.lab"
    QList<QSslCertificate> caCertificates; // extra trusted roots
    int timeoutMs = 5000;
};

struct TlsProbeResult
{
    QString where;                       // "app.pilothouse.lab via 10.213.0.11:443"
    QList<CertificateState> chain;       // leaf first, as the server sent it
    QList<QSslCertificate> certificates; // the same, raw
    // Whether this machine trusts the chain for serverName; the handshake
    // completes either way so that an untrusted certificate can be shown.
    bool trusted = false;
    QStringList trustErrors;
    QString protocol; // "TLSv1.3"
    QString cipher;
    double handshakeMs = 0;
};

} // namespace Pilothouse
