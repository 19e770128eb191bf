#pragma once
// Lives on the thread that creates it (the monitor's); never blocks it.

#include "models/clustersnapshot.h"
#include "models/inventory.h"

#include <QList>
#include <QObject>
#include <QSslCertificate>

namespace Pilothouse {

class HttpProbe;
class TlsProbe;

// The proxy tier as users meet it, asked of each proxy instance (HAProxy on
// every manager, host-mode ports): its stats (routes, app servers up/down
// with check latency), an HTTPS request through it, and its certificate
// from a real handshake.
class ProxyProbe final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ProxyProbe)

public:
    struct Reading
    {
        QList<ProxyRoute> routes;             // one per proxy instance and route
        QList<AppReplicaState> replicas;      // from the first instance whose stats answered
        QList<CertificateState> certificates; // empty when not read this time
    };

    explicit ProxyProbe(const Inventory &inventory, QObject *parent = nullptr);
    ~ProxyProbe() override;

    // Reads every instance's stats; `withHttps` adds a request through each
    // (a TLS handshake each: the costly part), `withCertificates` reads each
    // one's certificate. Without `withHttps` the last HTTPS result stays.
    void refresh(const QStringList &proxyHosts, bool withHttps, bool withCertificates);
    bool isRefreshing() const { return m_pending > 0; }

Q_SIGNALS:
    void refreshed(const Pilothouse::ProxyProbe::Reading &reading);

private:
    void readStats(const QString &hostName, const QString &address);
    void readHttps(const QString &hostName, const QString &address);
    void readCertificate(const QString &hostName, const QString &address);
    ProxyRoute *routeVia(const QString &hostName);
    void done();

    Inventory m_inventory;
    QList<QSslCertificate> m_trusted;
    HttpProbe *m_http;
    TlsProbe *m_tls;
    int m_pending = 0;
    Reading m_next;
    Reading m_last;
};

} // namespace Pilothouse
