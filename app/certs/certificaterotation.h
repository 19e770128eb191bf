#pragma once
// CertificateCheck is a free function on values, safe on any thread.
// CertificateRotation lives on the thread that creates it (the GUI thread or
// the CLI's main thread) and never blocks it; its result is a value.

#include "app/operations/runbook.h"
#include "models/clustersnapshot.h"
#include "models/inventory.h"

#include <QByteArray>
#include <QDateTime>
#include <QJsonObject>
#include <QList>
#include <QObject>
#include <QString>
#include <QStringList>

namespace Pilothouse {

class ClusterMonitor;
class OperationContext;
class TlsProbe;

// A certificate and its key as an operator hands them over, judged before
// anything changes.
struct CertificateBundle
{
    bool ok = false;
    QStringList refusals; // why it cannot be served (each names the file)
    QStringList warnings; // served, but worth saying (expires within 30 days, ...)
    CertificateState leaf;
    QString sha256; // of the leaf's DER, lower-case hex without colons
    int chainLength = 0;
    QByteArray pem;  // certificates (leaf first) then the key: what HAProxy loads
    QString keyType; // "EC 256 bits", "RSA 2048 bits"
};

namespace CertificateCheck {

// Reads `certificatePem` (the leaf, then any intermediates; may also hold the
// key) and `keyPem` (may be empty when the first holds it) and refuses: no
// certificate, no key or more than one, an encrypted key, a key that is not
// the leaf's, a chain whose links do not sign each other, a leaf that is not
// yet or no longer valid at `now`, or one that does not cover every name of
// `hostNames`. `certificateFile` and `keyFile` name the inputs in messages.
CertificateBundle check(const QByteArray &certificatePem, const QString &certificateFile,
                        const QByteArray &keyPem, const QString &keyFile,
                        const QStringList &hostNames, const QDateTime &now);

} // namespace CertificateCheck

struct CertificateRotationOptions
{
    enum class Mode {
        Rotate,   // serve the bundle given
        Rollback, // serve again what each HAProxy served before the last change
    };
    Mode mode = Mode::Rotate;
    QString reason; // required
    bool dryRun = false;
    QByteArray certificatePem; // Rotate: the certificate (chain), maybe with the key
    QString certificateFile;   // for messages
    QByteArray keyPem;
    QString keyFile;
    int preflightTimeoutMs = 30000;
    int perInstanceTimeoutMs = 20000;
    int verifyTimeoutMs = 30000;
    int monitorIntervalMs = 1000;
};

// What one HAProxy instance served before and after.
struct HaproxyCertificateState
{
    QString instance; // "haproxy@swarm-02"
    QString host;
    QString before;   // "sha256 subject until date", as ph-haproxy-cert shows it
    QString previous; // what a rollback would serve there
    bool changed = false;
    QString servedAfter; // sha256 seen in a handshake through this host after the change
};

struct CertificateRotationResult
{
    bool ok = false;
    bool refused = false;
    bool dryRun = false;
    QString mode; // "rotate", "rollback"
    QString error;
    QStringList refusals;
    QStringList warnings;
    CertificateBundle bundle; // Rotate
    QString secretName;       // the Docker secret that keeps the bundle ("" for rollback, dry run)
    QList<HaproxyCertificateState> instances;
    double durationSeconds = 0;
    RunbookReport runbook;
};

// Rolls a new TLS certificate out to every HAProxy of the cluster without a
// reload or a dropped connection, as a Runbook with the lock and the audit
// trail:
//   lock → preflight (the bundle checked: key matches, chain, dates, covers
//   the inventory's domain; every manager runs a HAProxy task; what each one
//   serves now) → act (the bundle kept as a Docker secret
//   "proxy_tls_pem-<sha256[:12]>"; then one instance at a time: the PEM put
//   into its store through the Docker archive API and swapped in through
//   HAProxy's runtime API by ph-haproxy-cert) → verify (a TLS handshake
//   through each host serves the new leaf).
// A failure rolls back the instances already changed. Rollback mode serves
// each instance's previous certificate again the same way.
class CertificateRotation final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(CertificateRotation)

public:
    CertificateRotation(Inventory inventory, CertificateRotationOptions options,
                        QObject *parent = nullptr);
    ~CertificateRotation() override;

    QString preflightText() const;
    void start();
    void cancel(const QString &why = QStringLiteral("cancelled by the operator"));
    bool isRunning() const { return m_running; }
    const CertificateRotationResult &result() const { return m_result; }

    // The name the bundle is kept under in the Swarm.
    static QString secretNameFor(const QString &sha256);

Q_SIGNALS:
    void stepStarted(const QString &path, const QString &name);
    void stepCompleted(const QString &path, bool ok, double seconds, const QString &message);
    void progress(int done, int total);
    void finished(const Pilothouse::CertificateRotationResult &result);

private:
    using Done = RunbookStep::OkDone;

    RunbookNode buildTree();
    void runbookFinished(const RunbookReport &report);

    void openAudit(Done done);
    void checkBundle(Done done);
    void readCluster(Done done);
    void readInstances(Done done);
    void keepAsSecret(Done done);
    void serveEach(Done done);
    void serveNext(int index, Done done);
    void undoServe(Done done);
    void verifyHandshakes(Done done);

    QString hostAddress(const QString &host) const;
    QString proxyService() const;

    Inventory m_inventory;
    CertificateRotationOptions m_options;
    CertificateRotationResult m_result;
    bool m_running = false;
    qint64 m_startedMs = 0;
    OperationContext *m_context = nullptr;
    bool m_auditOpened = false;
    bool m_changed = false;
    bool m_secretCreated = false;
    Runbook *m_runbook = nullptr;
    ClusterMonitor *m_monitor = nullptr;
    ClusterSnapshot m_snapshot;
    TlsProbe *m_tls = nullptr;
};

// The report as `pilothouse certs rotate|rollback --json` prints it.
QJsonObject certificateRotationReportJson(const CertificateRotationResult &result);

} // namespace Pilothouse

Q_DECLARE_METATYPE(Pilothouse::CertificateRotationResult)
