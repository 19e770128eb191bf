#include "ui/palette/paletteentrymodel.h"

#include "ui/palette/icons.h"

#include <QSet>

#include <algorithm>

namespace Pilothouse {
namespace {

// Tiers are far apart so a better kind of match always wins over a closer
// one of a worse kind; the remainder (0..999) orders matches inside a tier.
constexpr int ExactTier = 5000;
constexpr int PrefixTier = 4000;
constexpr int WordStartTier = 3000;
constexpr int SubstringTier = 2000;
constexpr int SubsequenceTier = 1000;
constexpr int KindPenalty = 500;
constexpr int DetailPenalty = 1500;

bool isWordStart(const QString &text, qsizetype pos)
{
    if (pos == 0)
        return true;
    const QChar prev = text.at(pos - 1);
    const QChar cur = text.at(pos);
    if (!prev.isLetterOrNumber())
        return cur.isLetterOrNumber();
    if (prev.isLower() && cur.isUpper())
        return true;
    return prev.isLetter() != cur.isLetter();
}

// Lower case letter by letter, so positions in the result are positions in
// the text (QString::toLower may change the length).
QString lowered(const QString &text)
{
    QString out = text;
    for (QChar &c : out)
        c = c.toLower();
    return out;
}

struct FieldMatch
{
    int score = -1;
    QList<int> positions;
};

// Scores how a lower-case term matches the text at the given positions
// (0..999): word starts and runs of neighbours are good, gaps and a late
// start are bad.
int subsequenceQuality(const QString &text, const QList<int> &positions)
{
    int quality = 500;
    for (qsizetype k = 0; k < positions.size(); ++k) {
        const int pos = positions.at(k);
        if (isWordStart(text, pos))
            quality += 40;
        if (k > 0) {
            const int gap = pos - positions.at(k - 1) - 1;
            quality += gap == 0 ? 30 : -std::min(gap, 12) * 8;
        }
    }
    quality -= std::min(int(positions.value(0)), 20) * 4;
    quality -= std::min(int(text.size() - positions.size()), 40);
    return std::clamp(quality, 0, 999);
}

FieldMatch matchField(const QString &term, const QString &text, bool allowSubsequence)
{
    FieldMatch best;
    if (term.isEmpty() || text.size() < term.size())
        return best;
    const QString lower = lowered(text);
    const auto span = [](int from, qsizetype length) {
        QList<int> positions;
        for (int i = 0; i < length; ++i)
            positions.append(from + i);
        return positions;
    };
    // Shorter texts first among equals: "pg-1" before "pg-1-backup".
    const int shortness = std::max(0, 100 - int(text.size() - term.size()));
    if (lower == term)
        return {ExactTier + 999, span(0, term.size())};
    if (lower.startsWith(term))
        return {PrefixTier + 500 + shortness, span(0, term.size())};

    qsizetype firstSubstring = -1;
    for (qsizetype at = lower.indexOf(term); at >= 0; at = lower.indexOf(term, at + 1)) {
        if (firstSubstring < 0)
            firstSubstring = at;
        if (isWordStart(text, at))
            return {WordStartTier + 500 + shortness - std::min(int(at), 100),
                    span(int(at), term.size())};
    }
    if (firstSubstring >= 0)
        return {SubstringTier + 500 + shortness - std::min(int(firstSubstring), 100),
                span(int(firstSubstring), term.size())};
    if (!allowSubsequence)
        return best;

    // Letters in order: try each place the first letter occurs and take the
    // best greedy alignment from there.
    for (qsizetype start = lower.indexOf(term.front()); start >= 0;
         start = lower.indexOf(term.front(), start + 1)) {
        QList<int> positions{int(start)};
        qsizetype at = start;
        for (qsizetype k = 1; k < term.size() && at >= 0; ++k) {
            at = lower.indexOf(term.at(k), at + 1);
            if (at >= 0)
                positions.append(int(at));
        }
        if (at < 0 || positions.size() != term.size())
            break; // later starts cannot fit the rest either
        const int score = SubsequenceTier + subsequenceQuality(text, positions);
        if (score > best.score)
            best = {score, positions};
    }
    return best;
}

int kindRank(const QString &kind)
{
    static const QStringList order = {
        QStringLiteral("cluster"), QStringLiteral("host"),   QStringLiteral("service"),
        QStringLiteral("pg"),      QStringLiteral("pgpool"), QStringLiteral("etcd"),
        QStringLiteral("route"),   QStringLiteral("app"),    QStringLiteral("action")};
    const qsizetype rank = order.indexOf(kind);
    return rank < 0 ? int(order.size()) : int(rank);
}

} // namespace

PaletteEntryModel::PaletteEntryModel(QObject *parent)
    : QAbstractListModel(parent)
{}

int PaletteEntryModel::score(const QString &query, const PaletteEntry &entry,
                             QList<int> *labelMatches)
{
    const QStringList terms = lowered(query.simplified()).split(u' ', Qt::SkipEmptyParts);
    int total = 0;
    QList<int> matched;
    for (const QString &term : terms) {
        const FieldMatch label = matchField(term, entry.label, true);
        // The kind as stored ("pg") and as shown ("PostgreSQL").
        FieldMatch kind = matchField(term, entry.kind, true);
        kind.score = std::max(kind.score, matchField(term, kindText(entry.kind), true).score);
        if (kind.score >= 0)
            kind.score -= KindPenalty;
        FieldMatch detail = matchField(term, entry.detail, false);
        if (detail.score >= 0)
            detail.score -= DetailPenalty;
        const int best = std::max({label.score, kind.score, detail.score});
        if (best < 0)
            return -1;
        total += best;
        if (label.score == best)
            matched += label.positions;
    }
    if (labelMatches) {
        std::sort(matched.begin(), matched.end());
        matched.erase(std::unique(matched.begin(), matched.end()), matched.end());
        *labelMatches = matched;
    }
    return total;
}

QString PaletteEntryModel::kindText(const QString &kind)
{
    if (kind == QLatin1String("pg"))
        return tr("PostgreSQL");
    if (kind == QLatin1String("pgpool"))
        return tr("PgPool");
    if (kind == QLatin1String("app"))
        return tr("app replica");
    return kind;
}

void PaletteEntryModel::setEntries(const QList<PaletteEntry> &entries)
{
    m_entries.clear();
    QSet<QString> seen;
    for (const PaletteEntry &entry : entries) {
        if (!seen.contains(entry.key)) {
            seen.insert(entry.key);
            m_entries.append(entry);
        }
    }
    refilter();
}

void PaletteEntryModel::setQuery(const QString &query)
{
    if (query == m_query)
        return;
    m_query = query;
    refilter();
}

QString PaletteEntryModel::keyAt(int row) const
{
    return row >= 0 && row < m_rows.size() ? m_rows.at(row).entry.key : QString();
}

int PaletteEntryModel::rowOfKey(const QString &key) const
{
    for (qsizetype row = 0; row < m_rows.size(); ++row) {
        if (m_rows.at(row).entry.key == key)
            return int(row);
    }
    return -1;
}

void PaletteEntryModel::refilter()
{
    struct Ranked
    {
        Row row;
        int rank;
        qsizetype order;
    };
    QList<Ranked> ranked;
    const bool filtering = !m_query.trimmed().isEmpty();
    for (qsizetype i = 0; i < m_entries.size(); ++i) {
        const PaletteEntry &entry = m_entries.at(i);
        Row row{entry, 0, {}};
        if (filtering) {
            row.score = score(m_query, entry, &row.labelMatches);
            if (row.score < 0)
                continue;
        }
        ranked.append({row, kindRank(entry.kind), i});
    }
    if (filtering) {
        std::stable_sort(ranked.begin(), ranked.end(), [](const Ranked &a, const Ranked &b) {
            if (a.row.score != b.row.score)
                return a.row.score > b.row.score;
            return a.rank < b.rank;
        });
    }

    // Bring m_rows to the target order by key: drop, then move or insert.
    QSet<QString> wanted;
    for (const Ranked &r : std::as_const(ranked))
        wanted.insert(r.row.entry.key);
    for (qsizetype end = m_rows.size(); end > 0;) {
        if (wanted.contains(m_rows.at(end - 1).entry.key)) {
            --end;
            continue;
        }
        qsizetype first = end - 1;
        while (first > 0 && !wanted.contains(m_rows.at(first - 1).entry.key))
            --first;
        beginRemoveRows({}, int(first), int(end - 1));
        m_rows.remove(first, end - first);
        endRemoveRows();
        end = first;
    }
    for (qsizetype i = 0; i < ranked.size(); ++i) {
        const Row &target = ranked.at(i).row;
        if (i < m_rows.size() && m_rows.at(i).entry.key == target.entry.key) {
            Row &current = m_rows[i];
            if (current.entry != target.entry || current.score != target.score ||
                current.labelMatches != target.labelMatches) {
                current = target;
                Q_EMIT dataChanged(index(int(i)), index(int(i)));
            }
            continue;
        }
        qsizetype from = -1;
        for (qsizetype j = i + 1; j < m_rows.size(); ++j) {
            if (m_rows.at(j).entry.key == target.entry.key) {
                from = j;
                break;
            }
        }
        if (from < 0) {
            beginInsertRows({}, int(i), int(i));
            m_rows.insert(i, target);
            endInsertRows();
            continue;
        }
        beginMoveRows({}, int(from), int(from), {}, int(i));
        m_rows.move(from, i);
        endMoveRows();
        if (m_rows.at(i).entry != target.entry || m_rows.at(i).score != target.score ||
            m_rows.at(i).labelMatches != target.labelMatches) {
            m_rows[i] = target;
            Q_EMIT dataChanged(index(int(i)), index(int(i)));
        }
    }
    Q_ASSERT(m_rows.size() == ranked.size());
}

QIcon PaletteEntryModel::iconFor(const QString &kind) const
{
    auto it = m_icons.find(kind);
    if (it == m_icons.end())
        it = m_icons.insert(kind, kindIcon(kind));
    return *it;
}

int PaletteEntryModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

QVariant PaletteEntryModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Row &row = m_rows.at(index.row());
    switch (role) {
    case Qt::DisplayRole:
        return row.entry.label;
    case Qt::ToolTipRole:
        return row.entry.detail.isEmpty()
                   ? row.entry.label
                   : row.entry.label + QStringLiteral(" — ") + row.entry.detail;
    case Qt::DecorationRole:
        return iconFor(row.entry.kind);
    case KeyRole:
        return row.entry.key;
    case KindRole:
        return row.entry.kind;
    case DetailRole:
        return row.entry.detail;
    case ScoreRole:
        return row.score;
    case LabelMatchesRole:
        return QVariant::fromValue(row.labelMatches);
    default:
        return {};
    }
}

QHash<int, QByteArray> PaletteEntryModel::roleNames() const
{
    QHash<int, QByteArray> names = QAbstractListModel::roleNames();
    names.insert(KeyRole, "key");
    names.insert(KindRole, "kind");
    names.insert(DetailRole, "detail");
    names.insert(ScoreRole, "score");
    names.insert(LabelMatchesRole, "labelMatches");
    return names;
}

} // namespace Pilothouse
