#pragma once
// Lives on the thread that creates it (the GUI thread or the CLI's main
// thread) and never blocks it.

#include "models/clustersnapshot.h"
#include "models/inventory.h"

#include <QJsonObject>
#include <QList>
#include <QObject>
#include <QString>

class QTimer;

namespace Pilothouse {

class OperationContext;
class ClusterMonitor;

// One certificate (or one place that has none to show) of the radar.
struct RadarEntry
{
    enum class Status {
        Ok,         // more than 30 days left
        Expiring,   // 30 days or less
        Expired,
        Unreadable, // the place could not be read (why in detail)
        NoTls,      // the layer does not use TLS (nothing to expire, said so)
    };
    QString layer; // route, haproxy, traefik, swarm-ca, swarm-node, postgres, etcd
    QString where; // "https://app.pilothouse.lab via swarm-01", "/run/secrets/proxy_tls_pem in haproxy@swarm-02"
    Status status = Status::Ok;
    CertificateState certificate; // when there is one
    QString detail;

    static QString statusName(Status status);
};

struct CertificateRadarReport
{
    QDateTime takenAt;
    QList<RadarEntry> entries; // by layer, then place
    bool reachedCluster = false;

    // 0 every certificate has > 30 days, 1 one expires within 30 days, has
    // expired or could not be read, 2 the cluster could not be reached.
    int exitCode() const;
    QString toText() const;
    QJsonObject toJson() const;
};

// Every certificate the cluster depends on, read where it lives: each proxy
// route by a live TLS handshake (the monitor's), HAProxy's PEM in each of its
// containers, Traefik's ACME store, the Swarm's root CA and each node's
// certificate, and PostgreSQL and etcd (which say when they run without TLS).
// Private keys never leave the hosts: only the certificate blocks are read.
class CertificateRadar final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(CertificateRadar)

public:
    CertificateRadar(Inventory inventory, QString monitorPassword, QObject *parent = nullptr);
    ~CertificateRadar() override;

    // Reads everything once; finished() follows within `timeoutMs`.
    void start(int timeoutMs = 30000);
    const CertificateRadarReport &report() const { return m_report; }

    // Status of a certificate with `daysLeft`.
    static RadarEntry::Status statusFor(int daysLeft);

Q_SIGNALS:
    void finished(const Pilothouse::CertificateRadarReport &report);

private:
    void readAll(const ClusterSnapshot &snapshot);
    void readPemIn(const QString &layer, const QString &target, const QString &path);
    void readTraefik(const QString &target);
    void readSwarm(const QString &host);
    void readPostgres(const QString &node);
    void addCertificates(const QString &layer, const QString &where, const QByteArray &pem);
    void addProblem(const QString &layer, const QString &where, RadarEntry::Status status,
                    const QString &detail);
    void begin();
    void end();
    void finish();

    Inventory m_inventory;
    QString m_monitorPassword;
    CertificateRadarReport m_report;
    ClusterMonitor *m_monitor = nullptr;
    OperationContext *m_context = nullptr;
    QTimer *m_deadline = nullptr;
    int m_pending = 0;
    bool m_finished = false;
    bool m_started = false;
    bool m_caRequested = false; // the Swarm's root CA is read once, from the first manager
};

} // namespace Pilothouse
