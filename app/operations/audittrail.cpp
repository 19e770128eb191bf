#include "app/operations/audittrail.h"

#include "app/connectors/etcd/etcdclient.h"
#include "app/connectors/etcd/etcdjson.h"
#include "models/inventory.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSet>
#include <QStandardPaths>
#include <QSysInfo>

#include <algorithm>
#include <pwd.h>
#include <unistd.h>
#include <memory>

namespace Pilothouse {
namespace {

constexpr int SeqDigits = 12;
constexpr int RetryMs = 5000;
constexpr qint64 PageSize = 500;

// An Error with only the parts that are known.
Error problem(const QString &message, const QString &file = {}, int line = 0)
{
    return Error{message, file, line, 0};
}

QString field(const QJsonObject &o, const char *name)
{
    return o.value(QLatin1String(name)).toString();
}

} // namespace

QString auditKindName(AuditKind kind)
{
    switch (kind) {
    case AuditKind::Operation:
        return QStringLiteral("operation");
    case AuditKind::Ssh:
        return QStringLiteral("ssh");
    case AuditKind::Docker:
        return QStringLiteral("docker");
    case AuditKind::Sql:
        return QStringLiteral("sql");
    case AuditKind::Etcd:
        return QStringLiteral("etcd");
    }
    return {};
}

std::optional<AuditKind> auditKindFromName(const QString &name)
{
    for (AuditKind k : {AuditKind::Operation, AuditKind::Ssh, AuditKind::Docker, AuditKind::Sql,
                        AuditKind::Etcd}) {
        if (auditKindName(k) == name)
            return k;
    }
    return std::nullopt;
}

// --- AuditEntry ---

QJsonObject AuditEntry::toJson() const
{
    QJsonObject o{
        {QStringLiteral("seq"), seq},
        {QStringLiteral("time"), time.toUTC().toString(Qt::ISODateWithMs)},
        {QStringLiteral("user"), user},
        {QStringLiteral("host"), host},
        {QStringLiteral("operation"), operation},
        {QStringLiteral("reason"), reason},
        {QStringLiteral("kind"), auditKindName(kind)},
        {QStringLiteral("target"), target},
        {QStringLiteral("arguments"), arguments},
        {QStringLiteral("result"), result},
        {QStringLiteral("ok"), ok},
        {QStringLiteral("prevHash"), prevHash},
    };
    if (!hash.isEmpty())
        o.insert(QStringLiteral("hash"), hash);
    return o;
}

namespace {

// QJsonObject keeps its keys sorted and the compact writer adds no spaces, so
// the same fields always give the same bytes.
QByteArray canonicalOf(QJsonObject object)
{
    object.remove(QStringLiteral("hash"));
    return QJsonDocument(object).toJson(QJsonDocument::Compact);
}

QString sha256Hex(const QByteArray &bytes)
{
    return QString::fromLatin1(QCryptographicHash::hash(bytes, QCryptographicHash::Sha256).toHex());
}

} // namespace

QByteArray AuditEntry::canonical() const
{
    return canonicalOf(toJson());
}

QString AuditEntry::computeHash() const
{
    return sha256Hex(canonical());
}

Result<AuditEntry> AuditEntry::fromJson(const QJsonObject &o)
{
    AuditEntry e;
    const QJsonValue seq = o.value(QStringLiteral("seq"));
    if (!seq.isDouble() || seq.toInteger() < 1)
        return problem(QStringLiteral("no seq (a positive integer)"));
    e.seq = seq.toInteger();
    e.time = QDateTime::fromString(field(o, "time"), Qt::ISODateWithMs);
    if (!e.time.isValid())
        return problem(QStringLiteral("seq %1: time is not an ISO 8601 date").arg(e.seq));
    const auto kind = auditKindFromName(field(o, "kind"));
    if (!kind)
        return problem(
            QStringLiteral("seq %1: unknown kind \"%2\"").arg(e.seq).arg(field(o, "kind")));
    e.kind = *kind;
    e.user = field(o, "user");
    e.host = field(o, "host");
    e.operation = field(o, "operation");
    e.reason = field(o, "reason");
    e.target = field(o, "target");
    e.arguments = field(o, "arguments");
    e.result = field(o, "result");
    e.ok = o.value(QStringLiteral("ok")).toBool();
    e.prevHash = field(o, "prevHash");
    e.hash = field(o, "hash");
    return e;
}

// --- SecretMasker ---

SecretMasker::SecretMasker()
    // key=value, key: value and "key": "value" for keys that name a secret;
    // the value ends at whitespace, a quote, a comma or '&'.
    : m_keyValue(QStringLiteral(
          R"((?i)\b[\w.-]*(?:password|passwd|pwd|secret|token|api[_-]?key|passphrase)[\w.-]*"?\s*[=:]\s*"?(?<value>'[^']*'|[^\s"',&]+))"))
    // --password VALUE
    , m_option(QStringLiteral(
          R"((?i)--[\w-]*(?:password|passwd|secret|token|api[_-]?key|passphrase)[\w-]*\s+(?<value>'[^']*'|"[^"]*"|[^\s-]\S*))"))
    , m_urlPassword(QStringLiteral(R"([a-zA-Z][a-zA-Z0-9+.-]*://[^\s:/@]+:(?<value>[^\s@/]+)@)"))
{}

void SecretMasker::addSecret(const QString &value)
{
    if (value.size() < 4 || m_secrets.contains(value))
        return;
    m_secrets.append(value);
    std::stable_sort(m_secrets.begin(), m_secrets.end(),
                     [](const QString &a, const QString &b) { return a.size() > b.size(); });
}

void SecretMasker::addSecretsDir(const QString &dir)
{
    const QFileInfoList files = QDir(dir).entryInfoList(QDir::Files | QDir::Readable);
    for (const QFileInfo &info : files) {
        if (info.size() > 64 * 1024)
            continue;
        QFile f(info.absoluteFilePath());
        if (!f.open(QIODevice::ReadOnly))
            continue;
        const QString content = QString::fromUtf8(f.readAll()).trimmed();
        addSecret(content);
        if (!content.contains(u'\n'))
            continue;
        const auto lines = content.split(u'\n', Qt::SkipEmptyParts);
        for (const QString &line : lines) {
            const QString l = line.trimmed();
            // PEM armour lines are public knowledge, not secrets.
            if (l.size() >= 8 && !l.startsWith(QStringLiteral("-----")))
                addSecret(l);
        }
    }
}

namespace {

// Replaces the named group "value" of every match of `re`.
QString maskValues(const QString &text, const QRegularExpression &re)
{
    QString out;
    qsizetype last = 0;
    auto it = re.globalMatch(text);
    while (it.hasNext()) {
        const auto m = it.next();
        const QString value = m.captured(u"value");
        if (value.isEmpty() || value.contains(SecretMasker::maskText()))
            continue;
        out += QStringView(text).mid(last, m.capturedStart(u"value") - last);
        out += SecretMasker::maskText();
        last = m.capturedEnd(u"value");
    }
    out += QStringView(text).mid(last);
    return out;
}

} // namespace

QString SecretMasker::mask(const QString &text) const
{
    QString out = text;
    for (const QString &s : m_secrets)
        out.replace(s, maskText());
    for (const QRegularExpression *re : {&m_keyValue, &m_option, &m_urlPassword})
        out = maskValues(out, *re);
    return out;
}

// --- AuditVerification ---

QJsonObject AuditVerification::toJson() const
{
    QJsonObject o{
        {QStringLiteral("source"), source},
        {QStringLiteral("readable"), readable},
        {QStringLiteral("intact"), intact},
        {QStringLiteral("entries"), entries},
        {QStringLiteral("last_seq"), lastSeq},
        {QStringLiteral("message"), message},
        {QStringLiteral("notes"), QJsonArray::fromStringList(notes)},
    };
    if (brokenSeq >= 0) {
        o.insert(QStringLiteral("broken_seq"), brokenSeq);
        o.insert(QStringLiteral("line"), line);
    }
    return o;
}

// --- AuditTrail ---

AuditTrail::AuditTrail(const QString &filePath, QObject *parent)
    : QObject(parent)
    , m_path(filePath)
    , m_user(localUser())
    , m_host(QSysInfo::machineHostName())
{
    m_retry.setSingleShot(true);
    m_retry.setInterval(RetryMs);
    connect(&m_retry, &QTimer::timeout, this, &AuditTrail::pump);
}

AuditTrail::~AuditTrail() = default;

QString AuditTrail::fileStem(const Inventory &inventory)
{
    QString name = inventory.displayName();
    static const QRegularExpression unsafe(QStringLiteral("[^A-Za-z0-9._-]+"));
    name.replace(unsafe, QStringLiteral("_"));
    if (name.isEmpty() || name.startsWith(u'.'))
        name.prepend(u"cluster");
    return name;
}

QString AuditTrail::defaultFilePath(const Inventory &inventory)
{
    return QStandardPaths::writableLocation(QStandardPaths::GenericDataLocation) +
           QStringLiteral("/Pilothouse/audit/") + fileStem(inventory) + QStringLiteral(".jsonl");
}

QString AuditTrail::localUser()
{
    QString user = qEnvironmentVariable("USER");
    if (user.isEmpty())
        user = qEnvironmentVariable("LOGNAME");
    if (user.isEmpty()) {
        // CI runners and services start programs without a login environment.
        if (const passwd *pw = ::getpwuid(::geteuid()); pw && pw->pw_name)
            user = QString::fromLocal8Bit(pw->pw_name);
    }
    return user.isEmpty() ? QStringLiteral("uid %1").arg(::geteuid()) : user;
}

QByteArray AuditTrail::etcdPrefix(const QString &stack)
{
    return "/pilothouse/" + stack.toUtf8() + "/audit/";
}

QByteArray AuditTrail::etcdKey(const QByteArray &prefix, qint64 seq)
{
    return prefix + QByteArray::number(seq).rightJustified(SeqDigits, '0');
}

std::optional<Error> AuditTrail::open()
{
    if (m_opened)
        return std::nullopt;
    const QFileInfo info(m_path);
    if (!QDir().mkpath(info.absolutePath()))
        return problem(QStringLiteral("cannot create the audit directory"), info.absolutePath());
    const AuditVerification v = verifyFile(m_path);
    if (!v.readable)
        return problem(v.message, m_path);
    // The head is the last line as written, even when an earlier entry is
    // broken: the chain continues from it and verify still names the break.
    if (v.entries > 0) {
        if (!v.lastRecordParsed)
            return problem(QStringLiteral("the last line is not an audit entry; the chain cannot "
                                          "continue from it (%1)")
                               .arg(v.message),
                           m_path, v.entries);
        m_lastSeq = v.parsed.last().seq;
        m_lastHash = v.parsed.last().hash;
    }
    m_file.setFileName(m_path);
    if (!m_file.open(QIODevice::WriteOnly | QIODevice::Append))
        return problem(QStringLiteral("cannot write the audit file: %1").arg(m_file.errorString()),
                       m_path);
    m_opened = true;
    return std::nullopt;
}

void AuditTrail::setMirror(const QList<EtcdClusterProbe::Member> &members, const QByteArray &prefix)
{
    qDeleteAll(m_clients);
    m_clients.clear();
    for (const auto &m : members)
        m_clients.append(new EtcdClient(m.endpoint, m.name, this));
    m_prefix = prefix;
    m_member = 0;
}

void AuditTrail::setIdentity(const QString &user, const QString &host)
{
    m_user = user;
    m_host = host;
}

void AuditTrail::setOperation(const QString &operation, const QString &reason)
{
    m_operation = operation;
    m_reason = reason;
}

std::optional<Error> AuditTrail::writeLine(const QByteArray &line)
{
    if (!m_opened) {
        if (auto e = open())
            return e;
    }
    if (m_file.write(line + '\n') != line.size() + 1 || !m_file.flush())
        return problem(
            QStringLiteral("cannot append to the audit file: %1").arg(m_file.errorString()),
            m_path);
    return std::nullopt;
}

Result<AuditEntry> AuditTrail::append(AuditEntry entry)
{
    if (!m_opened) {
        if (auto e = open())
            return *e;
    }
    entry.seq = m_lastSeq + 1;
    if (!entry.time.isValid())
        entry.time = QDateTime::currentDateTimeUtc();
    entry.time = entry.time.toUTC();
    if (entry.user.isEmpty())
        entry.user = m_user;
    if (entry.host.isEmpty())
        entry.host = m_host;
    if (entry.operation.isEmpty())
        entry.operation = m_operation;
    if (entry.reason.isEmpty())
        entry.reason = m_reason;
    for (QString *text :
         {&entry.operation, &entry.reason, &entry.target, &entry.arguments, &entry.result})
        *text = m_masker.mask(*text);
    entry.prevHash = m_lastHash;
    entry.hash.clear();
    entry.hash = entry.computeHash();
    if (auto e = writeLine(QJsonDocument(entry.toJson()).toJson(QJsonDocument::Compact)))
        return *e;
    m_lastSeq = entry.seq;
    m_lastHash = entry.hash;
    Q_EMIT appended(entry);
    if (!m_clients.isEmpty()) {
        m_queue.append(entry);
        pump();
    }
    return entry;
}

Result<AuditEntry> AuditTrail::record(AuditKind kind, const QString &target,
                                      const QString &arguments, const QString &result, bool ok)
{
    AuditEntry e;
    e.kind = kind;
    e.target = target;
    e.arguments = arguments;
    e.result = result;
    e.ok = ok;
    return append(std::move(e));
}

void AuditTrail::pump()
{
    if (m_inFlight || m_clients.isEmpty())
        return;
    if (m_queue.isEmpty()) {
        notifyFlush(std::nullopt);
        return;
    }
    m_retry.stop();
    m_inFlight = true;
    const AuditEntry entry = m_queue.first();
    const QByteArray key = etcdKey(m_prefix, entry.seq);
    const QByteArray value = QJsonDocument(entry.toJson()).toJson(QJsonDocument::Compact);
    // Create-only: an entry in etcd is never overwritten, by us or anyone.
    EtcdTxn txn;
    txn.compare.append({key, EtcdCompare::Target::Create, EtcdCompare::Op::Equal, 0, {}});
    EtcdRequestOp put;
    put.kind = EtcdRequestOp::Kind::Put;
    put.key = key;
    put.value = value;
    txn.success.append(put);
    EtcdRequestOp get;
    get.key = key;
    txn.failure.append(get);
    m_clients.at(m_member % m_clients.size())
        ->txn(txn, this, [this, entry](Result<EtcdTxnResult> r) { mirrorDone(entry, r); });
}

void AuditTrail::mirrorDone(const AuditEntry &entry, const Result<EtcdTxnResult> &r)
{
    m_inFlight = false;
    if (!r) {
        // Another member may answer; after a full round, wait and try again.
        m_member = (m_member + 1) % int(m_clients.size());
        if (++m_failedAttempts < m_clients.size()) {
            pump();
            return;
        }
        m_failedAttempts = 0;
        Q_EMIT mirrorFailed(entry.seq, r.error());
        notifyFlush(r.error());
        m_retry.start();
        return;
    }
    m_failedAttempts = 0;
    if (!m_queue.isEmpty() && m_queue.first().seq == entry.seq)
        m_queue.removeFirst();
    bool ok = r.value().succeeded;
    if (!ok) {
        // Already there: our own earlier put whose answer was lost, or another console's.
        const auto &responses = r.value().responses;
        const QByteArray mine = QJsonDocument(entry.toJson()).toJson(QJsonDocument::Compact);
        ok = !responses.isEmpty() && !responses.first().kvs.isEmpty() &&
             responses.first().kvs.first().value == mine;
    }
    if (ok) {
        ++m_mirroredSinceFlush;
        Q_EMIT mirrored(entry.seq);
    } else {
        const Error e = problem(QStringLiteral("etcd already holds a different entry %1 under %2: "
                                               "another console wrote to this cluster's trail; the "
                                               "file and etcd have forked from seq %1")
                                    .arg(entry.seq)
                                    .arg(QString::fromUtf8(m_prefix)));
        Q_EMIT mirrorFailed(entry.seq, e);
        notifyFlush(e);
    }
    pump();
}

void AuditTrail::notifyFlush(const std::optional<Error> &error)
{
    if (m_waiters.isEmpty())
        return;
    const QList<Waiter> waiters = std::exchange(m_waiters, {});
    const int count = std::exchange(m_mirroredSinceFlush, 0);
    for (const Waiter &w : waiters) {
        if (!w.context)
            continue;
        if (error)
            w.done(*error);
        else
            w.done(count);
    }
}

void AuditTrail::flush(QObject *context, std::function<void(Result<int>)> done)
{
    m_waiters.append({context, std::move(done)});
    if (m_clients.isEmpty()) {
        QMetaObject::invokeMethod(
            this,
            [this] { notifyFlush(problem(QStringLiteral("the audit trail has no etcd mirror"))); },
            Qt::QueuedConnection);
        return;
    }
    if (m_queue.isEmpty() && !m_inFlight) {
        QMetaObject::invokeMethod(
            this, [this] { notifyFlush(std::nullopt); }, Qt::QueuedConnection);
        return;
    }
    if (!m_inFlight)
        pump();
}

void AuditTrail::readEtcd(EtcdClient *client, const QByteArray &prefix, QObject *context,
                          std::function<void(Result<QList<EtcdKeyValue>>)> done)
{
    // Pages of PageSize keys: each next page starts just after the last key.
    auto all = std::make_shared<QList<EtcdKeyValue>>();
    auto next = std::make_shared<std::function<void(QByteArray)>>();
    const QByteArray end = EtcdJson::prefixRangeEnd(prefix);
    QPointer<EtcdClient> guard(client);
    *next = [guard, context, done, all, next, end](const QByteArray &from) {
        if (!guard)
            return;
        EtcdRangeRequest request;
        request.key = from;
        request.rangeEnd = end;
        request.limit = PageSize;
        guard->range(request, context, [done, all, next](Result<EtcdRangeResult> r) {
            if (!r) {
                done(r.error());
                *next = nullptr;
                return;
            }
            all->append(r.value().kvs);
            if (r.value().more && !r.value().kvs.isEmpty()) {
                (*next)(r.value().kvs.last().key + '\0');
                return;
            }
            done(*all);
            *next = nullptr; // breaks the cycle between the lambda and itself
        });
    };
    (*next)(prefix);
}

void AuditTrail::syncFromEtcd(QObject *context, std::function<void(Result<int>)> done)
{
    if (m_clients.isEmpty()) {
        done(problem(QStringLiteral("the audit trail has no etcd mirror")));
        return;
    }
    if (!m_opened) {
        if (auto e = open()) {
            done(*e);
            return;
        }
    }
    EtcdClient *client = m_clients.at(m_member % m_clients.size());
    QPointer<QObject> ctx(context);
    readEtcd(client, m_prefix, this, [this, ctx, done](Result<QList<EtcdKeyValue>> r) {
        if (!ctx)
            return;
        if (!r) {
            done(r.error());
            return;
        }
        int added = 0;
        for (const EtcdKeyValue &kv : r.value()) {
            const QJsonObject o = QJsonDocument::fromJson(kv.value).object();
            auto e = AuditEntry::fromJson(o);
            if (!e) {
                done(problem(QStringLiteral("etcd %1: %2")
                                 .arg(QString::fromUtf8(kv.key), e.error().message)));
                return;
            }
            if (e.value().seq <= m_lastSeq)
                continue;
            if (e.value().seq != m_lastSeq + 1 || e.value().prevHash != m_lastHash ||
                sha256Hex(canonicalOf(o)) != e.value().hash) {
                done(problem(QStringLiteral("etcd's entry %1 does not continue this file's chain "
                                            "(head seq %2); run `pilothouse audit verify`")
                                 .arg(e.value().seq)
                                 .arg(m_lastSeq),
                             m_path));
                return;
            }
            if (auto w = writeLine(QJsonDocument(o).toJson(QJsonDocument::Compact))) {
                done(*w);
                return;
            }
            m_lastSeq = e.value().seq;
            m_lastHash = e.value().hash;
            ++added;
            Q_EMIT appended(e.value());
        }
        done(added);
    });
}

AuditVerification AuditTrail::verifyRecords(const QList<QByteArray> &records, const QString &source,
                                            bool numbersAreLines)
{
    AuditVerification v;
    v.source = source;
    v.entries = int(records.size());
    const auto where = [numbersAreLines](int line) {
        return numbersAreLines ? QStringLiteral("line %1").arg(line)
                               : QStringLiteral("entry %1").arg(line);
    };
    const auto broken = [&v](qint64 seq, int line, const QString &message) {
        if (!v.intact)
            return;
        v.intact = false;
        v.brokenSeq = seq;
        v.line = line;
        v.message = message;
    };
    qint64 expectedSeq = 1;
    QString expectedPrev;
    for (int i = 0; i < records.size(); ++i) {
        const int line = i + 1;
        QJsonParseError perr;
        const QJsonDocument doc = QJsonDocument::fromJson(records.at(i), &perr);
        if (perr.error != QJsonParseError::NoError || !doc.isObject()) {
            broken(expectedSeq, line,
                   QStringLiteral("%1: not a JSON object (%2); expected seq %3")
                       .arg(where(line), perr.errorString())
                       .arg(expectedSeq));
            ++expectedSeq;
            continue;
        }
        const QJsonObject o = doc.object();
        auto parsed = AuditEntry::fromJson(o);
        if (!parsed) {
            broken(expectedSeq, line,
                   QStringLiteral("%1: not an audit entry: %2")
                       .arg(where(line), parsed.error().message));
            ++expectedSeq;
            continue;
        }
        const AuditEntry &e = parsed.value();
        v.parsed.append(e);
        v.lastRecordParsed = line == records.size();
        const QString stored = o.value(QStringLiteral("hash")).toString();
        if (!numbersAreLines && v.parsed.size() == 1 && line == 1 && e.seq > 1) {
            // A mirror may begin later than seq 1 (an etcd created after the
            // file, e.g. a recreated lab): its chain is checked from its first
            // entry on; compare() checks that entry follows the file's.
            v.notes.append(QStringLiteral("%1 begins at seq %2: seq 1..%3 were never mirrored "
                                          "there (an etcd newer than the trail) or were removed")
                               .arg(source)
                               .arg(e.seq)
                               .arg(e.seq - 1));
            expectedSeq = e.seq;
            expectedPrev = e.prevHash;
        }
        if (e.seq != expectedSeq) {
            if (e.seq > expectedSeq)
                broken(
                    expectedSeq, line,
                    QStringLiteral("%1: seq %2 follows seq %3: entr%4 %5 missing (removed)")
                        .arg(where(line))
                        .arg(e.seq)
                        .arg(expectedSeq - 1)
                        .arg(e.seq - expectedSeq == 1 ? QStringLiteral("y") : QStringLiteral("ies"))
                        .arg(e.seq - expectedSeq == 1
                                 ? QString::number(expectedSeq) + QStringLiteral(" is")
                                 : QStringLiteral("%1..%2 are").arg(expectedSeq).arg(e.seq - 1)));
            else
                broken(e.seq, line,
                       QStringLiteral("%1: seq %2 appears again after seq %3 (duplicated or "
                                      "reordered)")
                           .arg(where(line))
                           .arg(e.seq)
                           .arg(expectedSeq - 1));
        } else if (sha256Hex(canonicalOf(o)) != stored) {
            broken(e.seq, line,
                   QStringLiteral("%1: seq %2 was edited: its hash does not match its content")
                       .arg(where(line))
                       .arg(e.seq));
        } else if (e.prevHash != expectedPrev) {
            broken(e.seq, line,
                   QStringLiteral("%1: seq %2 does not follow seq %3: its prevHash is not seq "
                                  "%3's hash (seq %3 was replaced, or an entry was removed)")
                       .arg(where(line))
                       .arg(e.seq)
                       .arg(e.seq - 1));
        }
        expectedSeq = e.seq + 1;
        expectedPrev = stored;
        v.lastSeq = e.seq;
        v.lastHash = stored;
    }
    return v;
}

AuditVerification AuditTrail::verifyFile(const QString &path)
{
    QFile f(path);
    if (!f.exists()) {
        AuditVerification v;
        v.source = path;
        v.notes.append(QStringLiteral("no audit file yet"));
        return v;
    }
    if (!f.open(QIODevice::ReadOnly)) {
        AuditVerification v;
        v.source = path;
        v.readable = false;
        v.intact = false;
        v.message = QStringLiteral("cannot read %1: %2").arg(path, f.errorString());
        return v;
    }
    QList<QByteArray> lines = f.readAll().split('\n');
    if (!lines.isEmpty() && lines.last().isEmpty())
        lines.removeLast(); // the newline that ends the last entry
    AuditVerification v = verifyRecords(lines, path, true);
    return v;
}

AuditVerification AuditTrail::compare(const AuditVerification &file, const AuditVerification &etcd)
{
    AuditVerification v = file;
    v.source = file.source + QStringLiteral(" and ") + etcd.source;
    v.notes += etcd.notes;
    if (!file.readable || !etcd.readable) {
        v.readable = false;
        v.intact = false;
        v.message = file.readable ? etcd.message : file.message;
        return v;
    }
    if (!file.intact)
        return v;
    if (!etcd.intact) {
        v.intact = false;
        v.brokenSeq = etcd.brokenSeq;
        v.line = 0;
        v.message = QStringLiteral("%1: %2").arg(etcd.source, etcd.message);
        return v;
    }
    QHash<qint64, QString> mirrored;
    for (const AuditEntry &e : etcd.parsed)
        mirrored.insert(e.seq, e.hash);
    // Where the mirror begins (1 unless etcd is newer than the trail).
    const qint64 mirrorFirst = etcd.parsed.isEmpty() ? 1 : etcd.parsed.constFirst().seq;
    const auto broken = [&v](qint64 seq, int line, const QString &message) {
        v.intact = false;
        v.brokenSeq = seq;
        v.line = line;
        v.message = QStringLiteral("line %1: seq %2 ").arg(line).arg(seq) + message;
        return v;
    };
    int line = 0;
    for (const AuditEntry &e : file.parsed) {
        ++line;
        if (e.seq == mirrorFirst - 1 && e.hash != etcd.parsed.constFirst().prevHash)
            return broken(e.seq, line,
                          QStringLiteral("is not the entry %1 follows at seq %2 (one of them was "
                                         "rewritten)")
                              .arg(etcd.source)
                              .arg(mirrorFirst));
        const auto it = mirrored.constFind(e.seq);
        if (it == mirrored.cend()) {
            if (e.seq >= mirrorFirst && e.seq < etcd.lastSeq)
                return broken(
                    e.seq, line,
                    QStringLiteral("is in the file but missing from %1").arg(etcd.source));
            continue;
        }
        if (*it != e.hash)
            return broken(e.seq, line,
                          QStringLiteral("differs between the file and %1 (one of them was "
                                         "rewritten)")
                              .arg(etcd.source));
    }
    if (file.lastSeq > etcd.lastSeq)
        v.notes.append(QStringLiteral("seq %1..%2 are not in etcd yet (not mirrored)")
                           .arg(etcd.lastSeq + 1)
                           .arg(file.lastSeq));
    if (etcd.lastSeq > file.lastSeq)
        v.notes.append(QStringLiteral("etcd has seq %1..%2 that this file lacks (written by "
                                      "another console, or removed from the end of this file)")
                           .arg(file.lastSeq + 1)
                           .arg(etcd.lastSeq));
    return v;
}

} // namespace Pilothouse
