#include "models/recentclustersmodel.h"

#include <QStringBuilder>

namespace Pilothouse {

RecentClustersModel::RecentClustersModel(QObject *parent)
    : QAbstractListModel(parent)
{}

void RecentClustersModel::touch(const QString &path, const QString &name, const QDateTime &when)
{
    remove(path);
    beginInsertRows({}, 0, 0);
    m_entries.prepend({path, name, when});
    endInsertRows();
    if (m_entries.size() > MaxEntries) {
        beginRemoveRows({}, MaxEntries, int(m_entries.size()) - 1);
        m_entries.resize(MaxEntries);
        endRemoveRows();
    }
}

void RecentClustersModel::remove(const QString &path)
{
    for (qsizetype row = 0; row < m_entries.size(); ++row) {
        if (m_entries.at(row).path == path) {
            beginRemoveRows({}, int(row), int(row));
            m_entries.removeAt(row);
            endRemoveRows();
            return;
        }
    }
}

QVariantList RecentClustersModel::toVariant() const
{
    QVariantList list;
    for (const Entry &e : m_entries)
        list.append(QVariantMap{{QStringLiteral("path"), e.path},
                                {QStringLiteral("name"), e.name},
                                {QStringLiteral("opened"), e.opened}});
    return list;
}

void RecentClustersModel::fromVariant(const QVariantList &list)
{
    beginResetModel(); // loading a whole new list once at start-up
    m_entries.clear();
    for (const QVariant &v : list) {
        const QVariantMap m = v.toMap();
        const QString path = m.value(QStringLiteral("path")).toString();
        if (path.isEmpty() || m_entries.size() >= MaxEntries)
            continue;
        m_entries.append({path, m.value(QStringLiteral("name")).toString(),
                          m.value(QStringLiteral("opened")).toDateTime()});
    }
    endResetModel();
}

int RecentClustersModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_entries.size());
}

QVariant RecentClustersModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Entry &e = m_entries.at(index.row());
    switch (role) {
    case Qt::DisplayRole:
        return QString(e.name % u"  —  " % e.path);
    case Qt::ToolTipRole:
        return tr("%1\nlast opened %2").arg(e.path, e.opened.toString(Qt::ISODate));
    case PathRole:
        return e.path;
    case NameRole:
        return e.name;
    case OpenedRole:
        return e.opened;
    default:
        return {};
    }
}

} // namespace Pilothouse
