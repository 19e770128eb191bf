#include "app/certs/certificaterotation.h"

#include "app/connectors/docker/dockerarchive.h"
#include "app/connectors/docker/dockertypes.h"
#include "app/connectors/http/certificatereader.h"
#include "app/connectors/http/tlsprobe.h"
#include "app/monitor/clustermonitor.h"
#include "app/operations/audittrail.h"
#include "app/operations/operationcontext.h"
#include "app/operations/operationlock.h"

#include <QCryptographicHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSslCertificate>
#include <QTimer>

#include <memory>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <vector>

namespace Pilothouse {

namespace {

constexpr auto StoreDir = "/var/lib/haproxy-tls";
constexpr auto Helper = "ph-haproxy-cert";

qint64 nowMs()
{
    return QDateTime::currentMSecsSinceEpoch();
}

Error problem(const QString &message)
{
    return Error{message, {}, 0, 0};
}

// ------------------------------------------------------------ OpenSSL values

struct BioFree
{
    void operator()(BIO *b) const { BIO_free(b); }
};
struct X509Free
{
    void operator()(X509 *x) const { X509_free(x); }
};
struct PkeyFree
{
    void operator()(EVP_PKEY *k) const { EVP_PKEY_free(k); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

BioPtr readBio(const QByteArray &bytes)
{
    return BioPtr(BIO_new_mem_buf(bytes.constData(), int(bytes.size())));
}

QByteArray derOf(X509 *certificate)
{
    const int length = i2d_X509(certificate, nullptr);
    if (length <= 0)
        return {};
    QByteArray der(length, '\0');
    auto *out = reinterpret_cast<unsigned char *>(der.data());
    i2d_X509(certificate, &out);
    return der;
}

std::vector<X509Ptr> readCertificates(const QByteArray &pem)
{
    std::vector<X509Ptr> out;
    BioPtr bio = readBio(pem);
    while (X509 *x = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr))
        out.emplace_back(x);
    ERR_clear_error(); // the loop ends on "no start line"
    return out;
}

// A passphrase callback that gives none: an encrypted key fails to load.
int noPassphrase(char *, int, int, void *)
{
    return -1;
}

int countOf(const QByteArray &text, const QByteArray &what)
{
    return int(text.count(what));
}

QString sha256Of(const QByteArray &der)
{
    return QString::fromLatin1(QCryptographicHash::hash(der, QCryptographicHash::Sha256).toHex());
}

// What ph-haproxy-cert printed: "key: value" lines.
QHash<QString, QString> fieldsOf(const QByteArray &output)
{
    QHash<QString, QString> out;
    for (const QString &line : QString::fromUtf8(output).split(u'\n', Qt::SkipEmptyParts)) {
        const int colon = line.indexOf(u':');
        if (colon > 0)
            out.insert(line.left(colon).trimmed(), line.mid(colon + 1).trimmed());
    }
    return out;
}

QString helperFailure(const QString &instance, const Result<DockerExecResult> &r)
{
    if (r && r.value().exitCode == 127)
        return QStringLiteral("%1 has no %2: its image is older than this console (rebuild it "
                              "from deploy-stacks/images)")
            .arg(instance, QString::fromLatin1(Helper));
    if (r && (r.value().exitCode == 2 || r.value().exitCode == 3))
        return QStringLiteral("%1: %2 (nothing changed there)")
            .arg(instance, QString::fromUtf8(r.value().stdOut).trimmed());
    return QStringLiteral("%1: %2").arg(instance, OperationContext::describe(r));
}

} // namespace

// ------------------------------------------------------------ the check

CertificateBundle CertificateCheck::check(const QByteArray &certificatePem,
                                          const QString &certificateFile, const QByteArray &keyPem,
                                          const QString &keyFile, const QStringList &hostNames,
                                          const QDateTime &now)
{
    CertificateBundle b;
    const std::vector<X509Ptr> chain = readCertificates(certificatePem);
    b.chainLength = int(chain.size());
    if (chain.empty()) {
        b.refusals.append(
            QStringLiteral("%1: no PEM certificate (-----BEGIN CERTIFICATE-----) in it")
                .arg(certificateFile));
        return b;
    }

    // The key: from its own file, else from the certificate file.
    const bool ownKeyFile = !keyPem.trimmed().isEmpty();
    const QByteArray keySource = ownKeyFile ? keyPem : certificatePem;
    const QString keyWhere = ownKeyFile ? keyFile : certificateFile;
    const int keys = countOf(keySource, "PRIVATE KEY-----") / 2;
    PkeyPtr key;
    if (ownKeyFile && countOf(certificatePem, "PRIVATE KEY-----") > 0)
        b.refusals.append(QStringLiteral("%1 and %2 both hold a private key: give it once")
                              .arg(certificateFile, keyFile));
    else if (keys == 0)
        b.refusals.append(QStringLiteral("%1: no private key in it").arg(keyWhere));
    else if (keys > 1)
        b.refusals.append(QStringLiteral("%1: %2 private keys; give the one of the certificate")
                              .arg(keyWhere)
                              .arg(keys));
    else if (keySource.contains("ENCRYPTED"))
        b.refusals.append(QStringLiteral("%1: the private key is encrypted; HAProxy cannot ask for "
                                         "its passphrase, so give it unencrypted")
                              .arg(keyWhere));
    else {
        BioPtr bio = readBio(keySource);
        key.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, noPassphrase, nullptr));
        ERR_clear_error();
        if (!key)
            b.refusals.append(
                QStringLiteral("%1: the private key cannot be read (not PEM, or damaged)")
                    .arg(keyWhere));
    }

    X509 *leaf = chain.front().get();
    const QSslCertificate leafQt(derOf(leaf), QSsl::Der);
    b.leaf = CertificateReader::fromCertificate(leafQt, certificateFile, now);
    b.sha256 = sha256Of(derOf(leaf));

    if (key) {
        if (X509_check_private_key(leaf, key.get()) != 1)
            b.refusals.append(QStringLiteral("%1 does not belong to the certificate in %2 (%3): "
                                             "their public keys differ")
                                  .arg(keyWhere, certificateFile, b.leaf.subject));
        ERR_clear_error();
        const int type = EVP_PKEY_get_base_id(key.get());
        b.keyType = QStringLiteral("%1 %2 bits")
                        .arg(type == EVP_PKEY_RSA  ? QStringLiteral("RSA")
                             : type == EVP_PKEY_EC ? QStringLiteral("EC")
                                                   : QString::fromLatin1(OBJ_nid2sn(type)))
                        .arg(EVP_PKEY_get_bits(key.get()));
    }

    for (size_t i = 0; i + 1 < chain.size(); ++i) {
        if (X509_check_issued(chain[i + 1].get(), chain[i].get()) != X509_V_OK)
            b.refusals.append(QStringLiteral("%1: certificate %2 of the chain did not sign "
                                             "certificate %3 (the chain must run leaf first, "
                                             "then each issuer)")
                                  .arg(certificateFile)
                                  .arg(i + 2)
                                  .arg(i + 1));
    }

    if (leafQt.effectiveDate() > now)
        b.refusals.append(QStringLiteral("%1: the certificate is not valid before %2")
                              .arg(certificateFile, leafQt.effectiveDate().toString(Qt::ISODate)));
    if (leafQt.expiryDate() <= now)
        b.refusals.append(QStringLiteral("%1: the certificate expired on %2")
                              .arg(certificateFile, leafQt.expiryDate().toString(Qt::ISODate)));
    else if (b.leaf.daysLeft <= 30)
        b.warnings.append(QStringLiteral("the certificate expires in %1 days (%2)")
                              .arg(b.leaf.daysLeft)
                              .arg(leafQt.expiryDate().toString(Qt::ISODate)));

    for (const QString &name : hostNames) {
        const QByteArray n = name.toUtf8();
        if (X509_check_host(leaf, n.constData(), size_t(n.size()), 0, nullptr) != 1)
            b.refusals.append(QStringLiteral("%1: the certificate does not cover %2 (it names %3)")
                                  .arg(certificateFile, name,
                                       b.leaf.subjectAltNames.isEmpty()
                                           ? b.leaf.subject
                                           : b.leaf.subjectAltNames.join(QStringLiteral(", "))));
        ERR_clear_error();
    }

    if (b.refusals.isEmpty()) {
        BioPtr out(BIO_new(BIO_s_mem()));
        for (const X509Ptr &c : chain)
            PEM_write_bio_X509(out.get(), c.get());
        PEM_write_bio_PrivateKey(out.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr);
        char *data = nullptr;
        const long length = BIO_get_mem_data(out.get(), &data);
        b.pem = QByteArray(data, int(length));
        b.ok = true;
    }
    return b;
}

// ------------------------------------------------------------ the runbook

CertificateRotation::CertificateRotation(Inventory inventory, CertificateRotationOptions options,
                                         QObject *parent)
    : QObject(parent)
    , m_inventory(std::move(inventory))
    , m_options(std::move(options))
{
    qRegisterMetaType<Pilothouse::RunbookReport>();
    qRegisterMetaType<Pilothouse::CertificateRotationResult>();
}

CertificateRotation::~CertificateRotation() = default;

QString CertificateRotation::secretNameFor(const QString &sha256)
{
    return QStringLiteral("proxy_tls_pem-") + sha256.left(12);
}

QString CertificateRotation::proxyService() const
{
    return m_inventory.settings.proxy.isEmpty() ? QStringLiteral("haproxy")
                                                : m_inventory.settings.proxy;
}

QString CertificateRotation::preflightText() const
{
    const bool rotate = m_options.mode == CertificateRotationOptions::Mode::Rotate;
    QString t =
        QStringLiteral("%1 the TLS certificate of every HAProxy (reason: %2)%3\n\n")
            .arg(rotate ? QStringLiteral("Rotate") : QStringLiteral("Roll back"), m_options.reason,
                 m_options.dryRun ? QStringLiteral(" — dry run: nothing is changed") : QString());
    t += rotate ? QStringLiteral(
                      "What is checked first: the key belongs to the certificate, the chain runs "
                      "leaf first and each link signs the one before, the certificate is valid "
                      "now and covers %1; every manager runs a HAProxy task; what each serves.\n")
                      .arg(m_inventory.settings.domain)
                : QStringLiteral("What is checked first: every manager runs a HAProxy task and "
                                 "each still has the certificate it served before.\n");
    if (!m_options.dryRun)
        t += QStringLiteral(
                 "What will happen: %1one HAProxy at a time, the PEM swapped in through HAProxy's "
                 "runtime API (no reload, no restart, open connections stay), the one it replaces "
                 "kept for rollback; then a TLS handshake through each host must show the new "
                 "certificate, else every HAProxy changed is rolled back.\n"
                 "Expected downtime: none.\n")
                 .arg(rotate ? QStringLiteral("the bundle kept in the Swarm as a Docker secret; ")
                             : QString());
    return t;
}

RunbookNode CertificateRotation::buildTree()
{
    auto bind = [this](void (CertificateRotation::*fn)(Done)) {
        return [this, fn](Done done) {
            (this->*fn)(std::move(done));
        };
    };
    const bool rotate = m_options.mode == CertificateRotationOptions::Mode::Rotate;
    std::vector<RunbookNode> top;
    OperationLock *lock = m_context->lock();
    if (lock && !lock->isHeld())
        top.push_back(lock->acquireStep());
    top.push_back(okStep(QStringLiteral("open the audit trail"), 15000,
                         bind(&CertificateRotation::openAudit)));
    std::vector<RunbookNode> preflight;
    if (rotate)
        preflight.push_back(okStep(QStringLiteral("check the certificate and its key"), 2000,
                                   bind(&CertificateRotation::checkBundle)));
    preflight.push_back(okStep(QStringLiteral("read the cluster: a HAProxy on every manager"),
                               m_options.preflightTimeoutMs,
                               bind(&CertificateRotation::readCluster)));
    preflight.push_back(okStep(QStringLiteral("what each HAProxy serves"), 20000,
                               bind(&CertificateRotation::readInstances)));
    top.push_back(RunbookNode::sequence(QStringLiteral("preflight"), std::move(preflight),
                                        RunbookNode::ErrorPolicy::ContinueOnError));
    if (!m_options.dryRun) {
        std::vector<RunbookNode> act;
        if (rotate)
            act.push_back(
                okStep(QStringLiteral("keep the bundle as a Docker secret"), 20000,
                       bind(&CertificateRotation::keepAsSecret))
                    .withUndo([this](RunbookStep::Done done) {
                        // Only a secret this run created goes again.
                        if (!m_secretCreated) {
                            done(QStringLiteral("no secret was created"));
                            return;
                        }
                        m_context->docker(
                            m_result.instances.constFirst().host, "DELETE",
                            QStringLiteral("/secrets/") + m_result.secretName, {}, 15000,
                            [this, done](const Result<DockerResponse> &r) {
                                if (r && (r.value().status / 100 == 2 || r.value().status == 404)) {
                                    m_secretCreated = false;
                                    done(QStringLiteral("removed secret %1")
                                             .arg(m_result.secretName));
                                } else {
                                    done(problem(QStringLiteral("secret %1 stays: %2")
                                                     .arg(m_result.secretName,
                                                          r ? QString::number(r.value().status)
                                                            : r.error().toString())));
                                }
                            });
                    }));
        const int serveTimeout =
            m_options.perInstanceTimeoutMs * qMax(1, int(m_inventory.hosts.size()));
        act.push_back(okStep(QStringLiteral("serve it on each HAProxy, one at a time"),
                             serveTimeout, bind(&CertificateRotation::serveEach))
                          .uninterruptible()
                          .withUndo(
                              [this](RunbookStep::Done done) {
                                  undoServe([done](bool ok, const QString &detail) {
                                      if (ok)
                                          done(detail);
                                      else
                                          done(problem(detail));
                                  });
                              },
                              RunbookStep::UndoPolicy::OnAbort, serveTimeout));
        top.push_back(RunbookNode::sequence(QStringLiteral("act"), std::move(act)));
        top.push_back(RunbookNode::sequence(
            QStringLiteral("verify"),
            {okStep(QStringLiteral("a TLS handshake through each host shows it"),
                    m_options.verifyTimeoutMs, bind(&CertificateRotation::verifyHandshakes))}));
    }
    return RunbookNode::sequence(rotate ? QStringLiteral("certificate rotation")
                                        : QStringLiteral("certificate rollback"),
                                 std::move(top));
}

void CertificateRotation::start()
{
    if (m_running || m_runbook)
        return;
    m_running = true;
    m_result = CertificateRotationResult{};
    m_result.dryRun = m_options.dryRun;
    m_result.mode = m_options.mode == CertificateRotationOptions::Mode::Rotate
                        ? QStringLiteral("rotate")
                        : QStringLiteral("rollback");
    m_startedMs = nowMs();
    const QString operation =
        QStringLiteral("certificate %1%2")
            .arg(m_result.mode, m_options.dryRun ? QStringLiteral(" (dry run)") : QString());
    m_context = OperationContext::createOwn(m_inventory, operation, m_options.reason, this);
    m_context->setSnapshotSource([this] { return m_monitor ? m_monitor->snapshot() : m_snapshot; });
    m_tls = new TlsProbe(this);
    m_runbook = m_context->runbookFor(this, buildTree(), &CertificateRotation::runbookFinished);
    m_runbook->start();
}

void CertificateRotation::cancel(const QString &why)
{
    if (m_runbook && m_running)
        m_runbook->cancel(why);
}

void CertificateRotation::runbookFinished(const RunbookReport &report)
{
    m_result.runbook = report;
    m_result.durationSeconds = double(nowMs() - m_startedMs) / 1000.0;
    RunbookVerdict::of(report, m_changed).applyTo(m_result);
    if (m_monitor)
        m_monitor->stop();
    m_context->closeAudit(
        m_auditOpened, proxyService(), QStringLiteral("certificate %1 finished").arg(m_result.mode),
        m_result.ok
            ? QStringLiteral("succeeded: %1")
                  .arg(m_result.bundle.sha256.isEmpty() ? m_result.mode : m_result.bundle.sha256)
            : m_result.error,
        m_result.ok, [this] {
            m_running = false;
            Q_EMIT finished(m_result);
        });
}

// ------------------------------------------------------------ preflight

void CertificateRotation::openAudit(Done done)
{
    m_context->openAudit(
        true, proxyService(),
        QStringLiteral("certs %1%2")
            .arg(m_result.mode, m_options.dryRun ? QStringLiteral(" --dry-run") : QString()),
        [this, done](bool ok, const QString &note) {
            m_auditOpened = ok && m_context->audit();
            done(ok, note);
        });
}

void CertificateRotation::checkBundle(Done done)
{
    QStringList names;
    if (!m_inventory.settings.domain.isEmpty())
        names.append(m_inventory.settings.domain);
    m_result.bundle = CertificateCheck::check(m_options.certificatePem, m_options.certificateFile,
                                              m_options.keyPem, m_options.keyFile, names,
                                              QDateTime::currentDateTimeUtc());
    m_result.warnings = m_result.bundle.warnings;
    if (!m_result.bundle.ok) {
        done(false, m_result.bundle.refusals.join(QStringLiteral("; ")));
        return;
    }
    // The bundle's key and its encodings are secrets from here on.
    if (AuditTrail *audit = m_context->audit()) {
        audit->masker().addSecret(QString::fromLatin1(m_result.bundle.pem.toBase64()));
        audit->masker().addSecret(QString::fromUtf8(m_result.bundle.pem));
    }
    const CertificateState &c = m_result.bundle.leaf;
    done(true, QStringLiteral("%1, %2, until %3 (%4 days), covers %5; key %6; sha256 %7%8")
                   .arg(c.subject, c.subjectAltNames.join(QStringLiteral(" ")),
                        c.notAfter.toString(Qt::ISODate))
                   .arg(c.daysLeft)
                   .arg(names.join(QStringLiteral(", ")), m_result.bundle.keyType,
                        m_result.bundle.sha256.left(16),
                        m_result.warnings.isEmpty()
                            ? QString()
                            : QStringLiteral("; ") + m_result.warnings.join(QStringLiteral("; "))));
}

void CertificateRotation::readCluster(Done done)
{
    if (proxyService() != u"haproxy") {
        done(false, QStringLiteral("the proxy is %1: it gets its certificates from its ACME "
                                   "resolver, there is nothing to upload")
                        .arg(proxyService()));
        return;
    }
    delete m_monitor;
    m_monitor = m_context->startMonitor(
        m_options.monitorIntervalMs, qMax(5000, m_options.preflightTimeoutMs - 5000), this,
        [this, done](const Result<ClusterSnapshot> &read) {
            if (!read) {
                done(false, read.error().toString());
                return;
            }
            m_snapshot = read.value();
            QStringList running, missing;
            for (const TaskState &t : std::as_const(m_snapshot.tasks)) {
                if (t.service == proxyService() && t.desiredState == u"running" &&
                    t.currentState == u"running" && !t.containerId.isEmpty())
                    running.append(t.hostname);
            }
            running.removeDuplicates();
            running.sort();
            for (const SwarmNodeState &n : std::as_const(m_snapshot.swarmNodes)) {
                if (!n.manager || running.contains(n.hostname))
                    continue;
                QString task = QStringLiteral("no task");
                for (const TaskState &t : std::as_const(m_snapshot.tasks)) {
                    if (t.service == proxyService() && t.hostname == n.hostname &&
                        t.desiredState == u"running")
                        task = QStringLiteral("its task is %1").arg(t.currentState);
                }
                missing.append(QStringLiteral("%1 (node %2, %3; %4)")
                                   .arg(n.hostname, n.state, n.availability, task));
            }
            m_result.instances.clear();
            for (const QString &host : std::as_const(running)) {
                HaproxyCertificateState s;
                s.instance = proxyService() + u'@' + host;
                s.host = host;
                m_result.instances.append(s);
            }
            if (running.isEmpty()) {
                done(false, QStringLiteral("no %1 task runs").arg(proxyService()));
                return;
            }
            if (!missing.isEmpty()) {
                done(false, QStringLiteral("no running %1 task on %2: it would serve the old "
                                           "certificate when it comes back; bring it up first")
                                .arg(proxyService(), missing.join(QStringLiteral(", "))));
                return;
            }
            done(
                true,
                QStringLiteral("%1 on %2").arg(proxyService(), running.join(QStringLiteral(", "))));
        });
}

void CertificateRotation::readInstances(Done done)
{
    if (m_result.instances.isEmpty()) {
        done(false, QStringLiteral("not read: no HAProxy task was found"));
        return;
    }
    auto pending = std::make_shared<int>(int(m_result.instances.size()));
    auto problems = std::make_shared<QStringList>();
    for (int i = 0; i < m_result.instances.size(); ++i) {
        const QString instance = m_result.instances.at(i).instance;
        m_context->execIn(
            instance, QStringLiteral("root"), QString::fromLatin1(Helper) + QStringLiteral(" show"),
            15000, [this, i, instance, pending, problems, done](const Result<DockerExecResult> &r) {
                if (!r || r.value().exitCode != 0) {
                    problems->append(helperFailure(instance, r));
                } else if (i < m_result.instances.size()) {
                    const auto fields = fieldsOf(r.value().stdOut);
                    HaproxyCertificateState &s = m_result.instances[i];
                    s.before = fields.value(QStringLiteral("current"));
                    s.previous = fields.value(QStringLiteral("previous"));
                    if (m_options.mode == CertificateRotationOptions::Mode::Rollback &&
                        s.previous.isEmpty())
                        problems->append(QStringLiteral("%1 keeps no previous certificate: "
                                                        "nothing to roll back to")
                                             .arg(instance));
                }
                if (--*pending > 0)
                    return;
                if (!problems->isEmpty()) {
                    done(false, problems->join(QStringLiteral("; ")));
                    return;
                }
                QStringList seen;
                for (const HaproxyCertificateState &s : std::as_const(m_result.instances))
                    seen.append(QStringLiteral("%1 serves %2").arg(s.instance, s.before.left(16)));
                done(true, seen.join(QStringLiteral("; ")));
            });
    }
}

// ------------------------------------------------------------ act

void CertificateRotation::keepAsSecret(Done done)
{
    m_result.secretName = secretNameFor(m_result.bundle.sha256);
    const QJsonObject body{
        {QStringLiteral("Name"), m_result.secretName},
        {QStringLiteral("Labels"),
         QJsonObject{{QStringLiteral("io.pilothouse.kind"), QStringLiteral("proxy-tls")},
                     {QStringLiteral("io.pilothouse.sha256"), m_result.bundle.sha256},
                     {QStringLiteral("io.pilothouse.domain"), m_inventory.settings.domain}}},
        {QStringLiteral("Data"), QString::fromLatin1(m_result.bundle.pem.toBase64())}};
    const QString host = m_result.instances.constFirst().host;
    m_context->docker(
        host, "POST", QStringLiteral("/secrets/create"),
        QJsonDocument(body).toJson(QJsonDocument::Compact), 15000,
        [this, done](const Result<DockerResponse> &r) {
            if (r && r.value().status == 201) {
                m_secretCreated = true;
                done(true, QStringLiteral("created %1").arg(m_result.secretName));
            } else if (r && r.value().status == 409)
                done(
                    true,
                    QStringLiteral("%1 exists already (the same bundle)").arg(m_result.secretName));
            else
                done(false, QStringLiteral("creating secret %1: %2")
                                .arg(m_result.secretName,
                                     r ? QStringLiteral("HTTP %1 %2")
                                             .arg(r.value().status)
                                             .arg(QString::fromUtf8(r.value().body.left(200)))
                                       : r.error().toString()));
        });
}

void CertificateRotation::serveEach(Done done)
{
    serveNext(0, std::move(done));
}

void CertificateRotation::serveNext(int index, Done done)
{
    if (index >= m_result.instances.size()) {
        QStringList changed;
        for (const HaproxyCertificateState &s : std::as_const(m_result.instances))
            changed.append(QStringLiteral("%1 %2").arg(
                s.instance,
                s.changed ? QStringLiteral("changed") : QStringLiteral("already served it")));
        done(true, changed.join(QStringLiteral("; ")));
        return;
    }
    const QString instance = m_result.instances.at(index).instance;
    auto apply = [this, index, instance, done](const QString &command) {
        m_context->execIn(
            instance, QStringLiteral("root"), QString::fromLatin1(Helper) + u' ' + command,
            m_options.perInstanceTimeoutMs,
            [this, index, instance, done](const Result<DockerExecResult> &r) {
                if (!r || r.value().exitCode != 0) {
                    done(false, helperFailure(instance, r));
                    return;
                }
                if (fieldsOf(r.value().stdOut).value(QStringLiteral("changed")) == u"yes") {
                    m_result.instances[index].changed = true;
                    m_changed = true;
                }
                serveNext(index + 1, done);
            });
    };
    if (m_options.mode == CertificateRotationOptions::Mode::Rollback) {
        apply(QStringLiteral("rollback"));
        return;
    }
    const QString container = m_context->runningContainer(instance);
    if (container.isEmpty()) {
        done(false, QStringLiteral("%1 no longer runs (its task went away during the rotation)")
                        .arg(instance));
        return;
    }
    m_context->docker(
        m_result.instances.at(index).host, "PUT",
        QStringLiteral("/containers/%1/archive?path=%2")
            .arg(container, QString::fromLatin1(StoreDir)),
        DockerArchive::singleFile(QStringLiteral("staged.pem"), m_result.bundle.pem), 15000,
        [instance, apply, done](const Result<DockerResponse> &r) {
            if (!r || r.value().status != 200) {
                done(false,
                     QStringLiteral("%1: uploading the PEM: %2")
                         .arg(instance, r ? QStringLiteral("HTTP %1 %2")
                                                .arg(r.value().status)
                                                .arg(QString::fromUtf8(r.value().body.left(200)))
                                          : r.error().toString()));
                return;
            }
            apply(QStringLiteral("apply"));
        });
}

void CertificateRotation::undoServe(Done done)
{
    // Serve what each changed instance served before, in the reverse order.
    QList<int> changed;
    for (int i = int(m_result.instances.size()) - 1; i >= 0; --i) {
        if (m_result.instances.at(i).changed)
            changed.append(i);
    }
    if (changed.isEmpty()) {
        done(true, QStringLiteral("no HAProxy was changed"));
        return;
    }
    auto pending = std::make_shared<int>(int(changed.size()));
    auto problems = std::make_shared<QStringList>();
    for (int i : std::as_const(changed)) {
        const QString instance = m_result.instances.at(i).instance;
        m_context->execIn(
            instance, QStringLiteral("root"),
            QString::fromLatin1(Helper) + QStringLiteral(" rollback"),
            m_options.perInstanceTimeoutMs,
            [this, i, instance, pending, problems, done](const Result<DockerExecResult> &r) {
                if (!r || r.value().exitCode != 0)
                    problems->append(helperFailure(instance, r));
                else if (i < m_result.instances.size())
                    m_result.instances[i].changed = false;
                if (--*pending > 0)
                    return;
                if (problems->isEmpty())
                    done(true, QStringLiteral(
                                   "every HAProxy changed serves its previous certificate again"));
                else
                    done(false, problems->join(QStringLiteral("; ")));
            });
    }
}

// ------------------------------------------------------------ verify

void CertificateRotation::verifyHandshakes(Done done)
{
    // What each host must serve now.
    QHash<QString, QString> expected;
    for (const HaproxyCertificateState &s : std::as_const(m_result.instances))
        expected.insert(s.host, m_options.mode == CertificateRotationOptions::Mode::Rotate
                                    ? m_result.bundle.sha256
                                    : s.previous.section(u' ', 0, 0));
    auto pending = std::make_shared<int>(int(expected.size()));
    auto problems = std::make_shared<QStringList>();
    for (auto it = expected.cbegin(); it != expected.cend(); ++it) {
        TlsProbeRequest request;
        request.address = hostAddress(it.key());
        request.serverName = m_inventory.settings.domain;
        request.timeoutMs = 5000;
        const QString host = it.key();
        const QString want = it.value();
        m_tls->probe(
            request, this, [this, host, want, pending, problems, done](Result<TlsProbeResult> r) {
                QString seen;
                if (r && !r.value().certificates.isEmpty())
                    seen = sha256Of(r.value().certificates.constFirst().toDer());
                for (HaproxyCertificateState &s : m_result.instances) {
                    if (s.host == host)
                        s.servedAfter = seen;
                }
                if (!r)
                    problems->append(QStringLiteral("%1: %2").arg(host, r.error().toString()));
                else if (seen != want)
                    problems->append(QStringLiteral("%1 serves %2, not %3")
                                         .arg(host, seen.left(16), want.left(16)));
                if (--*pending > 0)
                    return;
                if (problems->isEmpty())
                    done(true, QStringLiteral("%1 host(s) serve %2")
                                   .arg(m_result.instances.size())
                                   .arg(want.left(16)));
                else
                    done(false, problems->join(QStringLiteral("; ")));
            });
    }
}

// ------------------------------------------------------------ helpers

QString CertificateRotation::hostAddress(const QString &host) const
{
    const InventoryHost *h = m_inventory.host(host);
    return h ? h->address : host;
}

QJsonObject certificateRotationReportJson(const CertificateRotationResult &r)
{
    QJsonArray instances;
    for (const HaproxyCertificateState &s : r.instances)
        instances.append(QJsonObject{{QStringLiteral("instance"), s.instance},
                                     {QStringLiteral("before"), s.before},
                                     {QStringLiteral("previous"), s.previous},
                                     {QStringLiteral("changed"), s.changed},
                                     {QStringLiteral("served_after_sha256"), s.servedAfter}});
    QJsonObject o{{QStringLiteral("mode"), r.mode},
                  {QStringLiteral("ok"), r.ok},
                  {QStringLiteral("refused"), r.refused},
                  {QStringLiteral("dry_run"), r.dryRun},
                  {QStringLiteral("error"), r.error},
                  {QStringLiteral("refusals"), QJsonArray::fromStringList(r.refusals)},
                  {QStringLiteral("warnings"), QJsonArray::fromStringList(r.warnings)},
                  {QStringLiteral("secret"), r.secretName},
                  {QStringLiteral("instances"), instances},
                  {QStringLiteral("duration_seconds"), r.durationSeconds},
                  {QStringLiteral("runbook"), r.runbook.toJson()}};
    if (!r.bundle.sha256.isEmpty())
        o.insert(
            QStringLiteral("certificate"),
            QJsonObject{{QStringLiteral("sha256"), r.bundle.sha256},
                        {QStringLiteral("subject"), r.bundle.leaf.subject},
                        {QStringLiteral("names"),
                         QJsonArray::fromStringList(r.bundle.leaf.subjectAltNames)},
                        {QStringLiteral("not_after"), r.bundle.leaf.notAfter.toString(Qt::ISODate)},
                        {QStringLiteral("days_left"), r.bundle.leaf.daysLeft},
                        {QStringLiteral("key"), r.bundle.keyType},
                        {QStringLiteral("chain_length"), r.bundle.chainLength}});
    return o;
}

} // namespace Pilothouse
