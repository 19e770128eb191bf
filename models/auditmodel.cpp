#include "models/auditmodel.h"

#include "models/findingsmodel.h"

#include <QCryptographicHash>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLocale>
#include <QSet>

namespace Pilothouse {
namespace {

QString text(const QJsonObject &o, const char *key)
{
    return o.value(QLatin1String(key)).toString();
}

} // namespace

bool AuditModel::Entry::operator==(const Entry &o) const
{
    return seq == o.seq && time == o.time && user == o.user && host == o.host &&
           operation == o.operation && reason == o.reason && kind == o.kind && target == o.target &&
           arguments == o.arguments && result == o.result && ok == o.ok && prevHash == o.prevHash &&
           hash == o.hash && line == o.line && chainOk == o.chainOk && problem == o.problem;
}

AuditModel::AuditModel(QObject *parent)
    : QAbstractTableModel(parent)
{
    m_chainText = tr("No audit trail yet");
    connect(&m_timer, &QTimer::timeout, this, &AuditModel::poll);
}

QString AuditModel::hashOf(const QJsonObject &object)
{
    QJsonObject o = object;
    o.remove(QStringLiteral("hash"));
    const QByteArray canonical = QJsonDocument(o).toJson(QJsonDocument::Compact);
    return QString::fromLatin1(
        QCryptographicHash::hash(canonical, QCryptographicHash::Sha256).toHex());
}

void AuditModel::setFilePath(const QString &path, int intervalMs)
{
    m_path = path;
    m_offset = 0;
    m_size = -1;
    m_prefixHash = QCryptographicHash::hash(QByteArray(), QCryptographicHash::Sha1);
    m_timer.stop();
    poll();
    if (intervalMs > 0)
        m_timer.start(intervalMs);
}

void AuditModel::poll()
{
    if (m_path.isEmpty())
        return;
    QFile file(m_path);
    if (!file.exists()) {
        // No operation has run on this cluster from this workstation yet.
        if (!m_rows.isEmpty())
            merge({});
        m_offset = 0;
        m_prefixHash = QCryptographicHash::hash(QByteArray(), QCryptographicHash::Sha1);
        m_size = -1;
        m_lines = 0;
        m_hasLast = false;
        m_firstProblem.clear();
        m_brokenSeq = -1;
        m_badLines = 0;
        updateChainText();
        return;
    }
    const QFileInfo info(m_path);
    if (m_offset > 0 && info.size() == m_size && info.lastModified() == m_modified &&
        m_state != ChainState::Unreadable)
        return; // nothing written since the last poll
    if (!file.open(QIODevice::ReadOnly)) {
        setState(ChainState::Unreadable, tr("Cannot read %1: %2").arg(m_path, file.errorString()));
        return;
    }
    // A small local file: read whole, so that an entry edited in place (same
    // size, same last line) is seen as well as one appended.
    const QByteArray all = file.readAll();
    m_size = all.size();
    m_modified = info.lastModified();
    const bool rewritten =
        all.size() < m_offset || QCryptographicHash::hash(QByteArrayView(all).first(m_offset),
                                                          QCryptographicHash::Sha1) != m_prefixHash;
    if (rewritten) {
        reread(all);
        return;
    }
    QByteArray more = all.mid(m_offset);
    const qsizetype end = more.lastIndexOf('\n');
    if (end < 0) {
        if (m_state == ChainState::Unreadable)
            updateChainText();
        return; // a line being written: wait for its end
    }
    more.truncate(end + 1);
    Parsed parsed = parse(more, m_lines + 1, m_hasLast ? &m_last : nullptr);
    m_offset += more.size();
    m_prefixHash =
        QCryptographicHash::hash(QByteArrayView(all).first(m_offset), QCryptographicHash::Sha1);
    m_lines += int(more.count('\n'));
    appendNew(parsed);
}

void AuditModel::check(Entry &e, const Entry *previous, Parsed &into) const
{
    // `seq`: the entry named as broken; for a gap the first one missing, as
    // `audit verify` names it.
    auto broken = [&](const QString &why, qint64 seq) {
        e.chainOk = false;
        e.problem = why;
        if (into.firstProblem.isEmpty()) {
            into.firstProblem = why;
            into.firstProblemSeq = seq;
        }
    };
    const qint64 expected = previous ? previous->seq + 1 : 1;
    const QString expectedPrev = previous ? previous->hash : QString();
    if (!e.problem.isEmpty())
        broken(e.problem, e.seq); // the hash did not match (found while parsing)
    else if (e.seq != expected)
        broken(e.seq > expected
                   ? tr("line %1: seq %2 follows seq %3: %4 missing (removed)")
                         .arg(e.line)
                         .arg(e.seq)
                         .arg(expected - 1)
                         .arg(e.seq - expected == 1
                                  ? tr("entry %1 is").arg(expected)
                                  : tr("entries %1–%2 are").arg(expected).arg(e.seq - 1))
                   : tr("line %1: seq %2 is out of place after seq %3")
                         .arg(e.line)
                         .arg(e.seq)
                         .arg(expected - 1),
               e.seq > expected ? expected : e.seq);
    else if (e.prevHash != expectedPrev)
        broken(tr("line %1: seq %2 does not follow seq %3: its prevHash is not seq %3's hash "
                  "(an edited entry was re-sealed)")
                   .arg(e.line)
                   .arg(e.seq)
                   .arg(expected - 1),
               e.seq);
}

AuditModel::Parsed AuditModel::parse(const QByteArray &bytes, int firstLine,
                                     const Entry *previous) const
{
    Parsed out;
    Entry last;
    bool hasLast = previous != nullptr;
    if (previous)
        last = *previous;
    QList<QByteArray> lines = bytes.split('\n');
    if (bytes.endsWith('\n'))
        lines.removeLast(); // what follows the last newline is no line
    int line = firstLine - 1;
    for (const QByteArray &raw : std::as_const(lines)) {
        ++line;
        const QByteArray trimmed = raw.trimmed();
        if (trimmed.isEmpty())
            continue; // an empty line counts, but is no entry
        QJsonParseError error;
        const QJsonDocument doc = QJsonDocument::fromJson(trimmed, &error);
        const QJsonObject o = doc.object();
        if (error.error != QJsonParseError::NoError || !doc.isObject() ||
            !o.value(QStringLiteral("seq")).isDouble()) {
            ++out.badLines;
            if (out.firstProblem.isEmpty()) {
                out.firstProblem = tr("line %1 is not an audit entry").arg(line);
                out.firstProblemSeq = hasLast ? last.seq + 1 : 1;
            }
            continue;
        }
        Entry e;
        e.line = line;
        e.seq = o.value(QStringLiteral("seq")).toInteger();
        e.time = QDateTime::fromString(text(o, "time"), Qt::ISODateWithMs);
        e.user = text(o, "user");
        e.host = text(o, "host");
        e.operation = text(o, "operation");
        e.reason = text(o, "reason");
        e.kind = text(o, "kind");
        e.target = text(o, "target");
        e.arguments = text(o, "arguments");
        e.result = text(o, "result");
        e.ok = o.value(QStringLiteral("ok")).toBool(true);
        e.prevHash = text(o, "prevHash");
        e.hash = text(o, "hash");
        if (hashOf(o) != e.hash)
            e.problem = tr("line %1: seq %2 was edited: its hash does not match its content")
                            .arg(line)
                            .arg(e.seq);
        check(e, hasLast ? &last : nullptr, out);
        out.entries.append(e);
        last = e;
        hasLast = true;
    }
    return out;
}

void AuditModel::appendNew(const Parsed &parsed)
{
    if (m_firstProblem.isEmpty() && !parsed.firstProblem.isEmpty()) {
        m_firstProblem = parsed.firstProblem;
        m_brokenSeq = parsed.firstProblemSeq;
    }
    m_badLines += parsed.badLines;
    if (!parsed.entries.isEmpty()) {
        m_last = parsed.entries.constLast();
        m_hasLast = true;
        // Newest first: the file's order reversed, at the top.
        beginInsertRows({}, 0, int(parsed.entries.size()) - 1);
        QList<Entry> fresh;
        fresh.reserve(parsed.entries.size() + m_rows.size());
        for (auto it = parsed.entries.crbegin(); it != parsed.entries.crend(); ++it)
            fresh.append(*it);
        fresh.append(m_rows);
        m_rows = std::move(fresh);
        endInsertRows();
    }
    updateChainText();
}

void AuditModel::reread(const QByteArray &all)
{
    QByteArray complete = all;
    const qsizetype end = complete.lastIndexOf('\n');
    complete.truncate(end + 1);
    const Parsed parsed = parse(complete, 1, nullptr);
    m_offset = complete.size();
    m_prefixHash = QCryptographicHash::hash(complete, QCryptographicHash::Sha1);
    m_lines = int(complete.count('\n'));
    m_firstProblem = parsed.firstProblem;
    m_brokenSeq = parsed.firstProblemSeq;
    m_badLines = parsed.badLines;
    m_hasLast = !parsed.entries.isEmpty();
    if (m_hasLast)
        m_last = parsed.entries.constLast();
    merge(parsed.entries);
    updateChainText();
}

void AuditModel::merge(const QList<Entry> &fileOrder)
{
    // Wanted rows, newest first; a seq seen twice (a tampered file) keeps both,
    // keyed by seq and occurrence.
    QList<Entry> wanted;
    for (auto it = fileOrder.crbegin(); it != fileOrder.crend(); ++it)
        wanted.append(*it);
    const auto keysOf = [](const QList<Entry> &list) {
        QStringList keys;
        QHash<qint64, int> seen;
        keys.reserve(list.size());
        for (const Entry &e : list)
            keys.append(QString::number(e.seq) + u'#' + QString::number(seen[e.seq]++));
        return keys;
    };
    const QStringList wantedKeys = keysOf(wanted);
    const QSet<QString> wantedSet(wantedKeys.cbegin(), wantedKeys.cend());
    QStringList keys = keysOf(m_rows);
    for (int row = int(m_rows.size()) - 1; row >= 0; --row) {
        if (wantedSet.contains(keys.at(row)))
            continue;
        beginRemoveRows({}, row, row);
        m_rows.removeAt(row);
        keys.removeAt(row);
        endRemoveRows();
    }
    for (int i = 0; i < wanted.size(); ++i) {
        const QString &key = wantedKeys.at(i);
        if (i < m_rows.size() && keys.at(i) == key) {
            if (!(m_rows.at(i) == wanted.at(i))) {
                m_rows[i] = wanted.at(i);
                Q_EMIT dataChanged(index(i, 0), index(i, ColumnCount - 1));
            }
            continue;
        }
        const qsizetype j = keys.indexOf(key, i + 1);
        if (j > i) {
            beginRemoveRows({}, int(j), int(j));
            m_rows.removeAt(j);
            keys.removeAt(j);
            endRemoveRows();
        }
        beginInsertRows({}, i, i);
        m_rows.insert(i, wanted.at(i));
        keys.insert(i, key);
        endInsertRows();
    }
}

void AuditModel::updateChainText()
{
    if (!m_firstProblem.isEmpty()) {
        setState(ChainState::Broken, m_firstProblem);
        return;
    }
    if (m_rows.isEmpty()) {
        setState(ChainState::Empty, tr("No audit entries yet"));
        return;
    }
    setState(
        ChainState::Intact,
        tr("%n entries, chain intact up to seq %1", nullptr, int(m_rows.size())).arg(m_last.seq));
}

void AuditModel::setState(ChainState state, const QString &text)
{
    if (state == m_state && text == m_chainText)
        return;
    m_state = state;
    m_chainText = text;
    Q_EMIT chainStateChanged(state, text);
}

int AuditModel::rowOfSeq(qint64 seq) const
{
    for (int row = 0; row < m_rows.size(); ++row) {
        if (m_rows.at(row).seq == seq)
            return row;
    }
    return -1;
}

int AuditModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int AuditModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant AuditModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Entry &e = m_rows.at(index.row());
    switch (role) {
    case SeqRole:
        return e.seq;
    case ChainOkRole:
        return e.chainOk;
    case KindRole:
        return e.kind;
    case OkRole:
        return e.ok;
    case ReasonRole:
        return e.reason;
    case Qt::ToolTipRole: {
        QString tip =
            tr("seq %1 · %2@%3 · %4\nreason: %5")
                .arg(e.seq)
                .arg(e.user, e.host, e.time.toUTC().toString(Qt::ISODateWithMs), e.reason);
        if (index.column() == ArgumentsColumn)
            tip += u'\n' + e.arguments;
        if (index.column() == ResultColumn)
            tip += u'\n' + e.result;
        if (!e.chainOk)
            tip += u'\n' + tr("Chain broken here: %1").arg(e.problem);
        return tip;
    }
    default:
        break;
    }
    switch (index.column()) {
    case TimeColumn:
        if (role == Qt::DisplayRole)
            return QLocale().toString(e.time.toLocalTime(), QStringLiteral("yyyy-MM-dd HH:mm:ss"));
        if (role == RawValueRole)
            return e.time;
        if (role == Qt::DecorationRole && !e.chainOk)
            return FindingsModel::severityIcon(Severity::Critical);
        break;
    case UserColumn:
        if (role == Qt::DisplayRole || role == RawValueRole)
            return e.user;
        break;
    case OperationColumn:
        if (role == Qt::DisplayRole || role == RawValueRole)
            return e.operation;
        break;
    case KindColumn:
        if (role == Qt::DisplayRole || role == RawValueRole)
            return e.kind;
        break;
    case TargetColumn:
        if (role == Qt::DisplayRole || role == RawValueRole)
            return e.target;
        break;
    case ArgumentsColumn:
        if (role == Qt::DisplayRole || role == RawValueRole)
            return e.arguments;
        break;
    case ResultColumn:
        if (role == Qt::DisplayRole || role == RawValueRole)
            return e.result;
        break;
    case OkColumn:
        if (role == Qt::DisplayRole)
            return e.ok ? tr("ok") : tr("failed");
        if (role == RawValueRole)
            return e.ok;
        if (role == Qt::DecorationRole && !e.ok)
            return FindingsModel::severityIcon(Severity::Warning);
        break;
    default:
        break;
    }
    return {};
}

QVariant AuditModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case TimeColumn:
        return tr("Time");
    case UserColumn:
        return tr("User");
    case OperationColumn:
        return tr("Operation");
    case KindColumn:
        return tr("Kind");
    case TargetColumn:
        return tr("Target");
    case ArgumentsColumn:
        return tr("Arguments");
    case ResultColumn:
        return tr("Result");
    case OkColumn:
        return tr("Ok");
    default:
        return {};
    }
}

} // namespace Pilothouse
