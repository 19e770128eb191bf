#pragma once
// Pure functions on values; usable on any thread.

#include <QJsonObject>
#include <QList>
#include <QString>
#include <QStringList>

namespace Pilothouse::AcmeCheck {

// A certificate resolver of Traefik, as its command line configures it
// (--certificatesresolvers.<name>.acme.*).
struct Resolver
{
    QString name; // "cloudflare"
    QString email;
    QString storage;   // "/letsencrypt/acme.json"
    QString challenge; // "dns", "tls" or "http"
    QString provider;  // DNS provider: "cloudflare"
};

// The resolvers in a service spec's command (ContainerSpec Command + Args);
// empty for a service that is not a Traefik with ACME.
QList<Resolver> resolvers(const QJsonObject &serviceSpec);

// What keeps a resolver from getting or renewing certificates, as
// sentences naming it: the Cloudflare DNS challenge without a token variable
// (CF_DNS_API_TOKEN, or CF_API_EMAIL with CF_API_KEY, or their CLOUDFLARE_*
// names; each also as <NAME>_FILE, whose path a secret or mount of the
// service must provide), the DNS challenge without a provider.
// `warnings` gets what works but costs later: a storage outside every mount
// (certificates lost at each restart, Let's Encrypt's rate limits), no email.
QStringList problems(const QJsonObject &serviceSpec, QStringList *warnings = nullptr);

// One line per resolver: "cloudflare: DNS challenge via cloudflare, token from
// CF_DNS_API_TOKEN_FILE (secret cf_dns_api_token), storage /letsencrypt/acme.json
// on a volume".
QStringList describe(const QJsonObject &serviceSpec);

} // namespace Pilothouse::AcmeCheck
