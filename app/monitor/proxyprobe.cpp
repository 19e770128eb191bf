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

void ProxyProbe::refresh(const QStringList &proxyHosts, bool withCertificates)
{
    if (m_pending > 0 || proxyHosts.isEmpty())
        return;
    m_next = {};
    const ClusterSettings &s = m_inventory.settings;
    const QString domain = s.domain;
    for (const QString &hostName : proxyHosts) {
        const InventoryHost *host = m_inventory.host(hostName);
        if (!host)
            continue;
        const QString address = host->address;

        ++m_pending;
        HttpProbeRequest stats;
        stats.url = QUrl(QStringLiteral("http://%1:%2/stats;csv").arg(address).arg(StatsPort));
        stats.timeoutMs = TimeoutMs;
        stats.maxBodyBytes = StatsMaxBytes;
        m_http->get(
            stats, this, [this, hostName, domain](const Pilothouse::Result<HttpProbeResult> &r) {
                QList<ProxyRoute> routes;
                if (r && r.value().statusCode == 200) {
                    const auto rows = HaproxyStats::parseCsv(r.value().body);
                    if (rows) {
                        routes = HaproxyStats::routes(rows.value(),
                                                      {{m_inventory.settings.appService, domain}});
                        if (m_next.replicas.isEmpty()) {
                            for (const HaproxyStatsRow &row : rows.value()) {
                                if (row.type != HaproxyStatsRow::Type::Server ||
                                    row.proxy != m_inventory.settings.appService ||
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
                    }
                }
                for (ProxyRoute &route : routes) {
                    route.proxy = hostName;
                    route.freshness = Freshness{QDateTime::currentDateTimeUtc(), false, {}};
                }
                // Keep only the routes users reach: the app's. Merge with the HTTPS result if it
                // came first.
                for (const ProxyRoute &route : std::as_const(routes)) {
                    if (route.host != domain)
                        continue;
                    auto it =
                        std::find_if(m_next.routes.begin(), m_next.routes.end(),
                                     [&](const ProxyRoute &x) { return x.proxy == hostName; });
                    if (it == m_next.routes.end()) {
                        m_next.routes.append(route);
                    } else {
                        it->service = route.service;
                        it->backends = route.backends;
                    }
                }
                done();
            });

        ++m_pending;
        HttpProbeRequest https;
        https.url = QUrl(QStringLiteral("https://%1/healthz").arg(domain));
        https.connectAddress = address;
        https.caCertificates = m_trusted;
        https.timeoutMs = TimeoutMs;
        m_http->get(
            https, this, [this, hostName, domain](const Pilothouse::Result<HttpProbeResult> &r) {
                auto it = std::find_if(m_next.routes.begin(), m_next.routes.end(),
                                       [&](const ProxyRoute &x) { return x.proxy == hostName; });
                if (it == m_next.routes.end()) {
                    ProxyRoute route;
                    route.host = domain;
                    route.proxy = hostName;
                    m_next.routes.append(route);
                    it = std::prev(m_next.routes.end());
                }
                if (r) {
                    it->statusCode = r.value().statusCode;
                    it->latencyMs = r.value().latencyMs;
                    it->freshness = Freshness{QDateTime::currentDateTimeUtc(), false, {}};
                } else {
                    it->error = r.error().message;
                }
                done();
            });

        if (withCertificates) {
            ++m_pending;
            TlsProbeRequest tls;
            tls.address = address;
            tls.serverName = domain;
            tls.caCertificates = m_trusted;
            tls.timeoutMs = TimeoutMs;
            m_tls->probe(
                tls, this, [this, hostName, domain](const Pilothouse::Result<TlsProbeResult> &r) {
                    if (r && !r.value().chain.isEmpty()) {
                        CertificateState leaf = r.value().chain.first();
                        leaf.where = QStringLiteral("https://%1 via %2").arg(domain, hostName);
                        m_next.certificates.append(leaf);
                    }
                    done();
                });
        }
    }
    if (m_pending == 0)
        Q_EMIT refreshed(m_next);
}

void ProxyProbe::done()
{
    if (--m_pending > 0)
        return;
    std::sort(m_next.routes.begin(), m_next.routes.end(),
              [](const ProxyRoute &a, const ProxyRoute &b) { return a.proxy < b.proxy; });
    Q_EMIT refreshed(m_next);
}

} // namespace Pilothouse
