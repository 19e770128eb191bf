#include "app/monitor/proxyprobe.h"

#include "app/connectors/http/certificatereader.h"
#include "app/connectors/http/haproxystats.h"
#include "app/connectors/http/httpprobe.h"
#include "app/connectors/http/tlsprobe.h"

namespace Pilothouse {
namespace {
constexpr int StatsPort = 8404;
constexpr int TimeoutMs = 2000;
constexpr int StatsMaxBytes = 256 * 1024;
} // namespace

ProxyProbe::ProxyProbe(const Inventory &inventory, QObject *parent)
    : QObject(parent)
    , m_inventory(inventory)
    , m_http(new HttpProbe(this))
    , m_tls(new TlsProbe(this))
{
    // The proxy's own certificate may be self-signed (the lab's): trust exactly it, never "any".
    const QString ca = m_inventory.settings.secretsDir + QStringLiteral("/proxy_tls_cert.pem");
    if (auto loaded = CertificateReader::loadPemFile(ca))
        m_trusted = loaded.value();
}

ProxyProbe::~ProxyProbe() = default;

void ProxyProbe::refresh(const QStringList &proxyHosts, bool withHttps, bool withCertificates)
{
    if (m_pending > 0 || proxyHosts.isEmpty())
        return;
    m_next = {};
    for (const QString &hostName : proxyHosts) {
        const InventoryHost *host = m_inventory.host(hostName);
        if (!host)
            continue;
        ProxyRoute route;
        route.host = m_inventory.settings.domain;
        route.proxy = hostName;
        if (!withHttps) {
            // Between requests through the proxy, its last answer stands.
            for (const ProxyRoute &last : std::as_const(m_last.routes)) {
                if (last.proxy == hostName) {
                    route.statusCode = last.statusCode;
                    route.latencyMs = last.latencyMs;
                    route.error = last.error;
                }
            }
        }
        m_next.routes.append(route);
        readStats(hostName, host->address);
        if (withHttps)
            readHttps(hostName, host->address);
        if (withCertificates)
            readCertificate(hostName, host->address);
    }
    if (m_pending == 0)
        Q_EMIT refreshed(m_next);
}

ProxyRoute *ProxyProbe::routeVia(const QString &hostName)
{
    for (ProxyRoute &r : m_next.routes) {
        if (r.proxy == hostName)
            return &r;
    }
    return nullptr;
}

void ProxyProbe::readStats(const QString &hostName, const QString &address)
{
    ++m_pending;
    HttpProbeRequest request;
    request.url = QUrl(QStringLiteral("http://%1:%2/stats;csv").arg(address).arg(StatsPort));
    request.timeoutMs = TimeoutMs;
    request.maxBodyBytes = StatsMaxBytes;
    request.reuseConnection = true; // every second: one kept-alive connection per instance
    m_http->get(request, this, [this, hostName](const Pilothouse::Result<HttpProbeResult> &r) {
        const ClusterSettings &s = m_inventory.settings;
        const auto rows =
            r && r.value().statusCode == 200
                ? HaproxyStats::parseCsv(r.value().body)
                : Pilothouse::Result<QList<HaproxyStatsRow>>(
                      Error{r ? QStringLiteral("stats answered %1").arg(r.value().statusCode)
                              : r.error().message,
                            {},
                            0,
                            0});
        ProxyRoute *route = routeVia(hostName);
        if (rows && route) {
            for (const ProxyRoute &read :
                 HaproxyStats::routes(rows.value(), {{s.appService, s.domain}})) {
                if (read.service == s.appService) {
                    route->service = read.service;
                    route->backends = read.backends;
                    route->freshness = Freshness{QDateTime::currentDateTimeUtc(), false, {}};
                }
            }
        } else if (route) {
            route->freshness.stale = true;
            route->freshness.error = rows.error().message;
        }
        // The app replicas as the first instance that answered sees them (each server = one task).
        if (rows && m_next.replicas.isEmpty()) {
            for (const HaproxyStatsRow &row : rows.value()) {
                if (row.type != HaproxyStatsRow::Type::Server || row.proxy != s.appService ||
                    row.isUnusedSlot())
                    continue;
                AppReplicaState a;
                a.task = row.name;
                a.host = row.address;
                a.healthy = row.isUp();
                a.latencyMs = row.checkDurationMs;
                a.detail = row.checkStatus + u' ' + row.checkDescription;
                a.freshness = Freshness{QDateTime::currentDateTimeUtc(), false, {}};
                m_next.replicas.append(a);
            }
        }
        done();
    });
}

void ProxyProbe::readHttps(const QString &hostName, const QString &address)
{
    ++m_pending;
    HttpProbeRequest request;
    request.url = QUrl(QStringLiteral("https://%1/healthz").arg(m_inventory.settings.domain));
    request.connectAddress = address;
    request.caCertificates = m_trusted;
    request.timeoutMs = TimeoutMs;
    m_http->get(request, this, [this, hostName](const Pilothouse::Result<HttpProbeResult> &r) {
        if (ProxyRoute *route = routeVia(hostName)) {
            route->statusCode = r ? r.value().statusCode : 0;
            route->latencyMs = r ? r.value().latencyMs : -1;
            route->error = r ? QString() : r.error().message;
        }
        done();
    });
}

void ProxyProbe::readCertificate(const QString &hostName, const QString &address)
{
    ++m_pending;
    TlsProbeRequest request;
    request.address = address;
    request.serverName = m_inventory.settings.domain;
    request.caCertificates = m_trusted;
    request.timeoutMs = TimeoutMs;
    m_tls->probe(request, this, [this, hostName](const Pilothouse::Result<TlsProbeResult> &r) {
        if (r && !r.value().chain.isEmpty()) {
            CertificateState leaf = r.value().chain.first();
            leaf.where =
                QStringLiteral("https://%1 via %2").arg(m_inventory.settings.domain, hostName);
            m_next.certificates.append(leaf);
        }
        done();
    });
}

void ProxyProbe::done()
{
    if (--m_pending > 0)
        return;
    std::sort(m_next.routes.begin(), m_next.routes.end(),
              [](const ProxyRoute &a, const ProxyRoute &b) { return a.proxy < b.proxy; });
    m_last = m_next;
    Q_EMIT refreshed(m_next);
}

} // namespace Pilothouse
