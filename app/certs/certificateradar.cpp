#include "app/certs/certificateradar.h"

#include "app/connectors/etcd/etcdclusterprobe.h"
#include "app/connectors/http/certificatereader.h"
#include "app/monitor/clustermonitor.h"
#include "app/operations/operationcontext.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QSslCertificate>
#include <QTimer>

#include <algorithm>

namespace Pilothouse {
namespace {

constexpr int ReadTimeoutMs = 10000;
constexpr int ExpiringDays = 30;

// Prints only the certificate blocks of a PEM file: a key in the same file
// never leaves the host. Empty output with exit 0 means "no certificate".
QString certificateBlocksOf(const QString &path)
{
    return QStringLiteral("sed -n '/-----BEGIN CERTIFICATE-----/,/-----END CERTIFICATE-----/p' %1")
        .arg(path);
}

} // namespace

QString RadarEntry::statusName(Status status)
{
    switch (status) {
    case Status::Ok:
        return QStringLiteral("ok");
    case Status::Expiring:
        return QStringLiteral("expiring");
    case Status::Expired:
        return QStringLiteral("expired");
    case Status::Unreadable:
        return QStringLiteral("unreadable");
    case Status::NoTls:
        return QStringLiteral("no-tls");
    }
    return {};
}

int CertificateRadarReport::exitCode() const
{
    if (!reachedCluster)
        return 2;
    const bool attention = std::any_of(entries.cbegin(), entries.cend(), [](const RadarEntry &e) {
        return e.status == RadarEntry::Status::Expiring || e.status == RadarEntry::Status::Expired ||
               e.status == RadarEntry::Status::Unreadable;
    });
    return attention ? 1 : 0;
}

QString CertificateRadarReport::toText() const
{
    QString out;
    for (const RadarEntry &e : entries) {
        const QString days = e.certificate.notAfter.isValid()
                                 ? QStringLiteral("%1 d").arg(e.certificate.daysLeft)
                                 : QStringLiteral("-");
        out += QStringLiteral("%1 %2 %3 %4\n")
                   .arg(RadarEntry::statusName(e.status).leftJustified(10), e.layer.leftJustified(10),
                        days.rightJustified(7), e.where);
        if (e.certificate.notAfter.isValid()) {
            out += QStringLiteral("%1subject %2; issuer %3; until %4\n")
                       .arg(QString(30, u' '), e.certificate.subject, e.certificate.issuer,
                            e.certificate.notAfter.toString(Qt::ISODate));
            if (!e.certificate.subjectAltNames.isEmpty())
                out += QStringLiteral("%1names %2\n")
                           .arg(QString(30, u' '), e.certificate.subjectAltNames.join(QStringLiteral(", ")));
        }
        if (!e.detail.isEmpty())
            out += QStringLiteral("%1%2\n").arg(QString(30, u' '), e.detail);
    }
    return out;
}

QJsonObject CertificateRadarReport::toJson() const
{
    QJsonArray list;
    for (const RadarEntry &e : entries) {
        QJsonObject o{{QStringLiteral("layer"), e.layer},
                      {QStringLiteral("where"), e.where},
                      {QStringLiteral("status"), RadarEntry::statusName(e.status)}};
        if (e.certificate.notAfter.isValid()) {
            o.insert(QStringLiteral("subject"), e.certificate.subject);
            o.insert(QStringLiteral("issuer"), e.certificate.issuer);
            o.insert(QStringLiteral("subject_alt_names"), QJsonArray::fromStringList(e.certificate.subjectAltNames));
            o.insert(QStringLiteral("not_after"), e.certificate.notAfter.toString(Qt::ISODate));
            o.insert(QStringLiteral("days_left"), e.certificate.daysLeft);
        }
        if (!e.detail.isEmpty())
            o.insert(QStringLiteral("detail"), e.detail);
        list.append(o);
    }
    return QJsonObject{{QStringLiteral("taken_at"), takenAt.toString(Qt::ISODateWithMs)},
                       {QStringLiteral("reached_cluster"), reachedCluster},
                       {QStringLiteral("certificates"), list}};
}

CertificateRadar::CertificateRadar(Inventory inventory, QString monitorPassword, QObject *parent)
    : QObject(parent)
    , m_inventory(std::move(inventory))
    , m_monitorPassword(std::move(monitorPassword))
{
}

CertificateRadar::~CertificateRadar() = default;

RadarEntry::Status CertificateRadar::statusFor(int daysLeft)
{
    if (daysLeft < 0)
        return RadarEntry::Status::Expired;
    return daysLeft <= ExpiringDays ? RadarEntry::Status::Expiring : RadarEntry::Status::Ok;
}

void CertificateRadar::start(int timeoutMs)
{
    if (m_started)
        return;
    m_started = true;
    m_report.takenAt = QDateTime::currentDateTimeUtc();
    m_deadline = new QTimer(this);
    m_deadline->setSingleShot(true);
    connect(m_deadline, &QTimer::timeout, this, [this] {
        addProblem(QStringLiteral("radar"), QStringLiteral("the whole radar"), RadarEntry::Status::Unreadable,
                   QStringLiteral("not every place answered within %1 s").arg(m_deadline->interval() / 1000));
        finish();
    });
    m_deadline->start(timeoutMs);

    // The monitor reads the Swarm's tasks and every proxy route's certificate
    // (a live handshake as a user's browser makes it).
    ClusterMonitor::Options options;
    options.monitorPassword = m_monitorPassword;
    options.firstRoundTimeoutMs = std::min(timeoutMs / 2, 15000);
    m_monitor = new ClusterMonitor(m_inventory, options, this);
    m_context = new OperationContext(m_inventory, nullptr, nullptr, QStringLiteral("certificate radar"),
                                     QString(), this);
    m_context->setSnapshotSource([this] { return m_monitor->snapshot(); });
    connect(m_monitor, &ClusterMonitor::firstRoundFinished, this, [this] {
        const ClusterSnapshot snapshot = m_monitor->snapshot();
        m_monitor->stop();
        readAll(snapshot);
    });
    m_monitor->start();
}

void CertificateRadar::begin()
{
    ++m_pending;
}

void CertificateRadar::end()
{
    if (--m_pending == 0)
        finish();
}

void CertificateRadar::finish()
{
    if (m_finished)
        return;
    m_finished = true;
    m_deadline->stop();
    if (m_context)
        m_context->cancelAll();
    static const QStringList order{QStringLiteral("route"), QStringLiteral("haproxy"), QStringLiteral("traefik"),
                                   QStringLiteral("swarm-ca"), QStringLiteral("swarm-node"),
                                   QStringLiteral("postgres"), QStringLiteral("etcd"), QStringLiteral("radar")};
    std::stable_sort(m_report.entries.begin(), m_report.entries.end(), [](const RadarEntry &a, const RadarEntry &b) {
        const qsizetype x = order.indexOf(a.layer), y = order.indexOf(b.layer);
        return x != y ? x < y : a.where < b.where;
    });
    Q_EMIT finished(m_report);
}

void CertificateRadar::addCertificates(const QString &layer, const QString &where, const QByteArray &pem)
{
    const QList<QSslCertificate> certs = QSslCertificate::fromData(pem, QSsl::Pem);
    if (certs.isEmpty()) {
        addProblem(layer, where, RadarEntry::Status::Unreadable, QStringLiteral("no certificate in it"));
        return;
    }
    // The first is the one presented; the rest of a chain matters as much when it expires first.
    for (qsizetype i = 0; i < certs.size(); ++i) {
        RadarEntry e;
        e.layer = layer;
        e.where = certs.size() > 1 ? QStringLiteral("%1 (%2 of %3 in the chain)").arg(where).arg(i + 1).arg(certs.size())
                                   : where;
        e.certificate = CertificateReader::fromCertificate(certs.at(i), e.where, m_report.takenAt);
        e.status = statusFor(e.certificate.daysLeft);
        m_report.entries.append(e);
    }
}

void CertificateRadar::addProblem(const QString &layer, const QString &where, RadarEntry::Status status,
                                  const QString &detail)
{
    RadarEntry e;
    e.layer = layer;
    e.where = where;
    e.status = status;
    e.detail = detail;
    m_report.entries.append(e);
}

void CertificateRadar::readAll(const ClusterSnapshot &snapshot)
{
    m_report.reachedCluster = std::any_of(snapshot.hosts.cbegin(), snapshot.hosts.cend(),
                                          [](const HostState &h) { return h.reachable; });
    begin(); // held until every read below has been started

    // Routes: what the monitor's handshakes saw.
    for (const CertificateState &c : snapshot.certificates) {
        RadarEntry e;
        e.layer = QStringLiteral("route");
        e.where = c.where;
        e.certificate = c;
        e.status = statusFor(c.daysLeft);
        m_report.entries.append(e);
    }
    if (snapshot.certificates.isEmpty() && !m_inventory.settings.domain.isEmpty())
        addProblem(QStringLiteral("route"), QStringLiteral("https://%1").arg(m_inventory.settings.domain),
                   RadarEntry::Status::Unreadable, QStringLiteral("no TLS handshake succeeded through any proxy"));

    // The proxy's own files, in every container that runs it.
    const QString proxy = m_inventory.settings.proxy.isEmpty() ? QStringLiteral("haproxy") : m_inventory.settings.proxy;
    for (const TaskState &t : snapshot.tasks) {
        if (t.service != proxy || t.currentState != u"running" || t.desiredState != u"running")
            continue;
        const QString target = proxy + u'@' + t.hostname;
        if (proxy == u"traefik")
            readTraefik(target);
        else // what it serves: the store a rotation swaps, seeded from the proxy_tls_pem secret
            readPemIn(QStringLiteral("haproxy"), target, QStringLiteral("/var/lib/haproxy-tls/current.pem"));
    }

    // The Swarm's root CA (one for the cluster) and every node's certificate.
    for (const InventoryHost &h : m_inventory.hosts)
        readSwarm(h.name);

    // PostgreSQL: each node says whether it runs TLS.
    for (auto it = m_inventory.settings.postgresNodes.cbegin(); it != m_inventory.settings.postgresNodes.cend(); ++it)
        readPostgres(it.key());

    // etcd: the inventory's endpoints say the scheme.
    for (const auto &m : EtcdClusterProbe::membersOf(m_inventory)) {
        if (m.endpoint.scheme() == u"https")
            addProblem(QStringLiteral("etcd"), m.name, RadarEntry::Status::Unreadable,
                       QStringLiteral("TLS endpoints are not read yet"));
        else
            addProblem(QStringLiteral("etcd"), QStringLiteral("%1 (%2)").arg(m.name, m.endpoint.toString()),
                       RadarEntry::Status::NoTls, QStringLiteral("clients talk to it without TLS"));
    }
    end();
}

void CertificateRadar::readPemIn(const QString &layer, const QString &target, const QString &path)
{
    begin();
    const QString where = QStringLiteral("%1 in %2").arg(path, target);
    m_context->execIn(target, QStringLiteral("root"), certificateBlocksOf(path), ReadTimeoutMs,
                      [this, layer, where](const Result<DockerExecResult> &r) {
                          if (!r || r.value().exitCode != 0)
                              addProblem(layer, where, RadarEntry::Status::Unreadable, OperationContext::describe(r));
                          else
                              addCertificates(layer, where, r.value().stdOut);
                          end();
                      });
}

void CertificateRadar::readTraefik(const QString &target)
{
    begin();
    const QString path = QStringLiteral("/letsencrypt/acme.json");
    const QString where = QStringLiteral("%1 in %2").arg(path, target);
    // The keys are blanked inside the container: they never leave it.
    const QString script = QStringLiteral("sed -E 's/\"key\": *\"[^\"]*\"/\"key\":\"\"/g' %1").arg(path);
    m_context->execIn(target, QStringLiteral("root"), script, ReadTimeoutMs,
                      [this, where](const Result<DockerExecResult> &r) {
                          if (!r || r.value().exitCode != 0) {
                              addProblem(QStringLiteral("traefik"), where, RadarEntry::Status::Unreadable,
                                         OperationContext::describe(r));
                              end();
                              return;
                          }
                          const QJsonObject store = QJsonDocument::fromJson(r.value().stdOut).object();
                          int found = 0;
                          for (auto it = store.begin(); it != store.end(); ++it) {
                              for (const QJsonValue &c : it.value().toObject().value(QStringLiteral("Certificates")).toArray()) {
                                  const QJsonObject o = c.toObject();
                                  const QString main = o.value(QStringLiteral("domain")).toObject().value(QStringLiteral("main")).toString();
                                  addCertificates(QStringLiteral("traefik"),
                                                  QStringLiteral("%1, resolver %2, %3").arg(where, it.key(), main),
                                                  QByteArray::fromBase64(o.value(QStringLiteral("certificate")).toString().toLatin1()));
                                  ++found;
                              }
                          }
                          if (found == 0)
                              addProblem(QStringLiteral("traefik"), where, RadarEntry::Status::Unreadable,
                                         QStringLiteral("the ACME store holds no certificate yet"));
                          end();
                      });
}

void CertificateRadar::readSwarm(const QString &host)
{
    begin();
    // The engine says where it keeps its state; the node's certificate is under it.
    m_context->docker(host, "GET", QStringLiteral("/info"), {}, ReadTimeoutMs, [this, host](const Result<DockerResponse> &r) {
        if (!r || r.value().status != 200) {
            addProblem(QStringLiteral("swarm-node"), host, RadarEntry::Status::Unreadable,
                       r ? QStringLiteral("the engine answered %1").arg(r.value().status) : r.error().message);
            end();
            return;
        }
        const QJsonObject info = QJsonDocument::fromJson(r.value().body).object();
        const bool manager = info.value(QStringLiteral("Swarm")).toObject().value(QStringLiteral("ControlAvailable")).toBool();
        const QString root = info.value(QStringLiteral("DockerRootDir")).toString();
        const QString node = root + QStringLiteral("/swarm/certificates/swarm-node.crt");
        begin();
        m_context->ssh(host, certificateBlocksOf(node), ReadTimeoutMs, [this, host, node](const Result<SshCommandResult> &s) {
            const QString where = QStringLiteral("%1 on %2").arg(node, host);
            if (!s || s.value().exitCode != 0)
                addProblem(QStringLiteral("swarm-node"), where, RadarEntry::Status::Unreadable, OperationContext::describe(s));
            else
                addCertificates(QStringLiteral("swarm-node"), where, s.value().stdOut);
            end();
        });
        // One manager is enough for the cluster's root CA.
        if (manager && !m_caRequested) {
            m_caRequested = true;
            begin();
            m_context->docker(host, "GET", QStringLiteral("/swarm"), {}, ReadTimeoutMs, [this, host](const Result<DockerResponse> &sw) {
                const QString where = QStringLiteral("the Swarm's root CA (read through %1)").arg(host);
                if (!sw || sw.value().status != 200)
                    addProblem(QStringLiteral("swarm-ca"), where, RadarEntry::Status::Unreadable,
                               sw ? QStringLiteral("the engine answered %1").arg(sw.value().status) : sw.error().message);
                else
                    addCertificates(QStringLiteral("swarm-ca"), where,
                                    QJsonDocument::fromJson(sw.value().body).object().value(QStringLiteral("TLSInfo"))
                                        .toObject().value(QStringLiteral("TrustRoot")).toString().toUtf8());
                end();
            });
        }
        end();
    });
}

void CertificateRadar::readPostgres(const QString &node)
{
    begin();
    m_context->sql(node, QStringLiteral("monitor"), QStringLiteral("SHOW ssl"), ReadTimeoutMs,
                   [this, node](const Result<PgReply> &r) {
                       if (!r || r.value().isEmpty()) {
                           addProblem(QStringLiteral("postgres"), node, RadarEntry::Status::Unreadable,
                                      r ? QStringLiteral("no answer to SHOW ssl") : r.error().message);
                       } else if (r.value().first().text(0, u"ssl") != u"on") {
                           addProblem(QStringLiteral("postgres"), node, RadarEntry::Status::NoTls,
                                      QStringLiteral("ssl = off: clients connect without TLS"));
                       } else {
                           addProblem(QStringLiteral("postgres"), node, RadarEntry::Status::Unreadable,
                                      QStringLiteral("ssl = on; reading the server certificate is not done yet"));
                       }
                       end();
                   });
}

} // namespace Pilothouse
