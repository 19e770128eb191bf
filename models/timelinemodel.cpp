#include "models/timelinemodel.h"

#include "models/findingsmodel.h"

#include <QStringBuilder>

#include <algorithm>

namespace Pilothouse {

TimelineModel::TimelineModel(QObject *parent)
    : QAbstractTableModel(parent)
{}

QString TimelineModel::keyOf(const ClusterEvent &event)
{
    if (!event.key.isEmpty())
        return event.key;
    // Sources are asked to give keys; without one, what a person sees is the identity.
    return QString::number(event.at.toMSecsSinceEpoch()) % u'|' % event.source % u'|' % event.text;
}

void TimelineModel::append(const QList<ClusterEvent> &events)
{
    QList<ClusterEvent> fresh;
    QSet<QString> batch;
    for (const ClusterEvent &e : events) {
        const QString key = keyOf(e);
        if (m_keys.contains(key) || batch.contains(key))
            continue;
        batch.insert(key);
        fresh.append(e);
        fresh.last().key = key;
    }
    if (fresh.isEmpty())
        return;
    std::stable_sort(fresh.begin(), fresh.end(),
                     [](const ClusterEvent &a, const ClusterEvent &b) { return a.at > b.at; });

    // Where each goes in the current rows: above the first row that is not newer.
    // Positions never decrease along `fresh`, so equal positions form runs that
    // are inserted as one block each, the lowest first so that the positions
    // above stay valid.
    QList<int> positions;
    positions.reserve(fresh.size());
    for (const ClusterEvent &e : std::as_const(fresh)) {
        const auto it =
            std::partition_point(m_events.cbegin(), m_events.cend(),
                                 [&e](const ClusterEvent &shown) { return shown.at > e.at; });
        positions.append(int(std::distance(m_events.cbegin(), it)));
    }
    int end = int(fresh.size());
    while (end > 0) {
        const int position = positions.at(end - 1);
        int begin = end - 1;
        while (begin > 0 && positions.at(begin - 1) == position)
            --begin;
        if (position < m_capacity) { // an event older than a full timeline is not shown
            beginInsertRows({}, position, position + (end - begin) - 1);
            for (int i = begin; i < end; ++i) {
                m_keys.insert(fresh.at(i).key);
                m_events.insert(position + (i - begin), fresh.at(i));
            }
            endInsertRows();
        }
        end = begin;
    }
    trim();
}

void TimelineModel::clear()
{
    if (m_events.isEmpty())
        return;
    beginRemoveRows({}, 0, int(m_events.size()) - 1);
    m_events.clear();
    m_keys.clear();
    endRemoveRows();
}

void TimelineModel::setCapacity(int capacity)
{
    m_capacity = qMax(1, capacity);
    trim();
}

void TimelineModel::trim()
{
    if (m_events.size() <= m_capacity)
        return;
    beginRemoveRows({}, m_capacity, int(m_events.size()) - 1);
    for (qsizetype row = m_capacity; row < m_events.size(); ++row)
        m_keys.remove(m_events.at(row).key);
    m_events.resize(m_capacity);
    endRemoveRows();
}

int TimelineModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_events.size());
}

int TimelineModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant TimelineModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const ClusterEvent &e = m_events.at(index.row());
    switch (role) {
    case ObjectsRole:
        return e.objects;
    case SourceRole:
        return e.source;
    case KeyRole:
        return e.key;
    default:
        break;
    }
    switch (Column(index.column())) {
    case TimeColumn:
        switch (role) {
        case Qt::DisplayRole:
            return e.at.toLocalTime().toString(QStringLiteral("HH:mm:ss"));
        case Qt::ToolTipRole:
            return e.at.toLocalTime().toString(QStringLiteral("dddd yyyy-MM-dd HH:mm:ss.zzz t"));
        case RawValueRole:
            return e.at;
        }
        break;
    case SourceColumn:
        switch (role) {
        case Qt::DisplayRole:
        case RawValueRole:
            return e.source;
        }
        break;
    case SeverityColumn:
        switch (role) {
        case Qt::DisplayRole:
            return FindingsModel::severityText(e.severity);
        case Qt::DecorationRole:
            return FindingsModel::severityIcon(e.severity);
        case RawValueRole:
            return int(e.severity);
        }
        break;
    case TextColumn:
        switch (role) {
        case Qt::DisplayRole:
        case RawValueRole:
            return e.text;
        case Qt::ToolTipRole:
            return e.objects.isEmpty()
                       ? e.text
                       : tr("%1\nConcerns: %2").arg(e.text, e.objects.join(QLatin1String(", ")));
        }
        break;
    case ColumnCount:
        break;
    }
    return {};
}

QVariant TimelineModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (Column(section)) {
    case TimeColumn:
        return tr("Time");
    case SourceColumn:
        return tr("Source");
    case SeverityColumn:
        return tr("Severity");
    case TextColumn:
        return tr("Event");
    case ColumnCount:
        break;
    }
    return {};
}

} // namespace Pilothouse
