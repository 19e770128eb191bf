#pragma once
// AuditTrail lives on the thread that creates it (usually the GUI thread);
// the file append is one small synchronous write, the etcd mirror is async.
// AuditEntry, SecretMasker and AuditVerification are values usable anywhere.

#include "app/connectors/etcd/etcdclusterprobe.h"
#include "app/connectors/etcd/etcdtypes.h"
#include "models/result.h"

#include <QDateTime>
#include <QFile>
#include <QJsonObject>
#include <QList>
#include <QObject>
#include <QPointer>
#include <QRegularExpression>
#include <QString>
#include <QStringList>
#include <QTimer>

#include <functional>
#include <optional>

namespace Pilothouse {

class EtcdClient;
struct Inventory;

enum class AuditKind { Operation, Ssh, Docker, Sql, Etcd };

// "operation", "ssh", "docker", "sql", "etcd".
QString auditKindName(AuditKind kind);
std::optional<AuditKind> auditKindFromName(const QString &name);

// One record of the trail. `hash` is SHA-256 (hex) over the canonical JSON of
// every other field, prevHash included, so each entry seals the one before.
struct AuditEntry
{
    qint64 seq = 0;    // 1, 2, ...; one chain per cluster
    QDateTime time;    // UTC, milliseconds
    QString user;      // login name of the operator
    QString host;      // workstation the console ran on
    QString operation; // e.g. "switchover pg-2"
    QString reason;    // what the operator typed
    AuditKind kind = AuditKind::Operation;
    QString target;    // host, container, node or key acted on
    QString arguments; // the command or request, secrets masked
    QString result;    // exit status and a short output, secrets masked
    bool ok = true;
    QString prevHash; // hash of seq - 1; empty for seq 1
    QString hash;

    // Every field including hash: one line of the JSONL file and the etcd value.
    QJsonObject toJson() const;
    // The bytes hashed: compact JSON of every field but hash, keys sorted.
    QByteArray canonical() const;
    QString computeHash() const;
    static Result<AuditEntry> fromJson(const QJsonObject &object);
};

// Replaces secrets in free text before it reaches the trail: known secret
// values (the inventory's secret files, passwords given to a command) and
// key=value / key: value pairs whose key names a secret (password, token, ...),
// and the password of URLs (scheme://user:password@host).
class SecretMasker final
{
public:
    // What a secret is replaced with: "***".
    static QString maskText() { return QStringLiteral("***"); }

    SecretMasker();

    // Values shorter than 4 characters are ignored: masking them would hide
    // ordinary words and prove nothing.
    void addSecret(const QString &value);
    // Every regular file below 64 KiB in `dir` (the inventory's secrets_dir):
    // its trimmed content and, for multi-line files, each line of 8+ characters.
    void addSecretsDir(const QString &dir);
    int secretCount() const { return int(m_secrets.size()); }

    QString mask(const QString &text) const;

private:
    QStringList m_secrets; // longest first, so that a secret containing another is masked whole
    QRegularExpression m_keyValue;
    QRegularExpression m_option;
    QRegularExpression m_urlPassword;
};

// The verdict on one chain (a file or the etcd mirror), or on the two
// compared. `brokenSeq`/`line` name the first entry that is missing, edited or
// out of place; `message` says which and how it was seen.
struct AuditVerification
{
    QString source;       // the file's path, or "etcd <prefix>"
    bool readable = true; // false: the source could not be read at all
    bool intact = true;
    int entries = 0;
    qint64 lastSeq = 0;
    QString lastHash;
    qint64 brokenSeq = -1;    // -1: none
    int line = 0;             // 1-based line of the file (or position in etcd); 0: none
    QString message;          // first problem; empty when intact
    QStringList notes;        // facts that are not breaks (entries not mirrored yet, ...)
    QList<AuditEntry> parsed; // the entries read, in order
    bool lastRecordParsed = false;

    QJsonObject toJson() const;
};

class AuditTrail final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(AuditTrail)

public:
    // `filePath`: the JSONL file; created with its directory on open().
    explicit AuditTrail(const QString &filePath, QObject *parent = nullptr);
    ~AuditTrail() override;

    // ~/.local/share/Pilothouse/audit/<cluster>.jsonl (GenericDataLocation),
    // <cluster> being the inventory's display name made file-safe.
    static QString defaultFilePath(const Inventory &inventory);
    // The cluster's display name made safe as a file name ("lab-bare").
    static QString fileStem(const Inventory &inventory);
    // "/pilothouse/<stack>/audit/"
    static QByteArray etcdPrefix(const QString &stack);
    // Who runs the console: $USER, $LOGNAME, else the effective uid's name.
    static QString localUser();
    // prefix + seq zero-padded to 12 digits, so that keys sort as seqs do.
    static QByteArray etcdKey(const QByteArray &prefix, qint64 seq);

    // Reads the file's last entry (the chain's head), creating the directory.
    // An error when the file cannot be read or written, or its last line is
    // not an entry: the chain would fork.
    std::optional<Error> open();
    QString filePath() const { return m_path; }
    qint64 lastSeq() const { return m_lastSeq; }
    QString lastHash() const { return m_lastHash; }

    // Mirrors every appended entry to etcd under `prefix`, create-only, through
    // the first member that answers.
    void setMirror(const QList<EtcdClusterProbe::Member> &members, const QByteArray &prefix);
    QByteArray mirrorPrefix() const { return m_prefix; }

    SecretMasker &masker() { return m_masker; }
    // Who acts (defaults: $USER and the machine's host name).
    void setIdentity(const QString &user, const QString &host);
    // The operation and reason that record() stamps on its entries.
    void setOperation(const QString &operation, const QString &reason);

    // Completes the entry (seq, time, user, host, operation and reason when
    // empty, prevHash, hash), masks secrets in its text fields, appends it to
    // the file and queues it for etcd. An Error when the file cannot be written.
    Result<AuditEntry> append(AuditEntry entry);
    // append() with the current operation and reason.
    Result<AuditEntry> record(AuditKind kind, const QString &target, const QString &arguments,
                              const QString &result, bool ok);

    // Entries waiting for etcd (queued or in flight).
    int pendingMirrors() const { return int(m_queue.size()); }
    // Calls back once every queued entry is in etcd (value: how many were
    // mirrored since the last flush) or an Error when etcd could not take one.
    void flush(QObject *context, std::function<void(Result<int>)> done);
    // Appends to the file the entries another console mirrored after this
    // file's head; an Error when etcd's chain does not continue this one.
    void syncFromEtcd(QObject *context, std::function<void(Result<int>)> done);

    // Checks a chain: each line parses, seqs run 1, 2, 3 without gap, each
    // prevHash is the previous hash, each hash matches its content.
    static AuditVerification verifyRecords(const QList<QByteArray> &records, const QString &source,
                                           bool numbersAreLines = true);
    static AuditVerification verifyFile(const QString &path);
    // The file against the mirror: every seq in both must have the same hash,
    // a seq of the file below the mirror's head must be in the mirror.
    static AuditVerification compare(const AuditVerification &file, const AuditVerification &etcd);
    // Reads every value under `prefix`, in key order, through `client`.
    static void readEtcd(EtcdClient *client, const QByteArray &prefix, QObject *context,
                         std::function<void(Result<QList<EtcdKeyValue>>)> done);

Q_SIGNALS:
    void appended(const Pilothouse::AuditEntry &entry);
    void mirrored(qint64 seq);
    void mirrorFailed(qint64 seq, const Pilothouse::Error &error);

private:
    void pump();
    void mirrorDone(const AuditEntry &entry, const Result<EtcdTxnResult> &r);
    void notifyFlush(const std::optional<Error> &error);
    std::optional<Error> writeLine(const QByteArray &line);

    QString m_path;
    QFile m_file;
    qint64 m_lastSeq = 0;
    QString m_lastHash;
    bool m_opened = false;
    QString m_user;
    QString m_host;
    QString m_operation;
    QString m_reason;
    SecretMasker m_masker;

    QByteArray m_prefix;
    QList<EtcdClient *> m_clients;
    int m_member = 0;
    int m_failedAttempts = 0;
    QList<AuditEntry> m_queue;
    bool m_inFlight = false;
    int m_mirroredSinceFlush = 0;
    QTimer m_retry;
    struct Waiter
    {
        QPointer<QObject> context;
        std::function<void(Result<int>)> done;
    };
    QList<Waiter> m_waiters;
};

} // namespace Pilothouse

Q_DECLARE_METATYPE(Pilothouse::AuditEntry)
