#include "models/hostsmodel.h"

namespace Pilothouse {

HostsModel::HostsModel(QObject *parent)
    : QAbstractTableModel(parent)
{}

void HostsModel::setHosts(const QList<InventoryHost> &hosts)
{
    // Remove rows whose key is gone, from the bottom so indexes stay valid.
    for (qsizetype row = m_hosts.size() - 1; row >= 0; --row) {
        const bool kept = std::any_of(hosts.cbegin(), hosts.cend(), [&](const InventoryHost &h) {
            return h.name == m_hosts.at(row).name;
        });
        if (!kept) {
            beginRemoveRows({}, int(row), int(row));
            m_hosts.removeAt(row);
            endRemoveRows();
        }
    }
    for (const InventoryHost &host : hosts) {
        const auto it = std::find_if(m_hosts.begin(), m_hosts.end(),
                                     [&](const InventoryHost &h) { return h.name == host.name; });
        if (it == m_hosts.end()) {
            const int row = int(m_hosts.size());
            beginInsertRows({}, row, row);
            m_hosts.append(host);
            endInsertRows();
            continue;
        }
        const bool changed = it->address != host.address || it->sshPort != host.sshPort ||
                             it->user != host.user || it->groups != host.groups ||
                             it->keyFile != host.keyFile;
        if (changed) {
            *it = host;
            const int row = int(std::distance(m_hosts.begin(), it));
            Q_EMIT dataChanged(index(row, 0), index(row, ColumnCount - 1));
        }
    }
}

int HostsModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_hosts.size());
}

int HostsModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant HostsModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const InventoryHost &host = m_hosts.at(index.row());
    if (role != Qt::DisplayRole && role != RawValueRole && role != Qt::ToolTipRole)
        return {};
    switch (Column(index.column())) {
    case Name:
        return host.name;
    case Address:
        return host.address;
    case SshPort:
        return role == Qt::DisplayRole ? QVariant(QString::number(host.sshPort))
                                       : QVariant(host.sshPort);
    case User:
        return host.user;
    case Groups:
        return role == RawValueRole ? QVariant(host.groups)
                                    : QVariant(host.groups.join(QLatin1String(", ")));
    case ColumnCount:
        break;
    }
    return {};
}

QVariant HostsModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (Column(section)) {
    case Name:
        return tr("Host");
    case Address:
        return tr("Address");
    case SshPort:
        return tr("SSH port");
    case User:
        return tr("User");
    case Groups:
        return tr("Groups");
    case ColumnCount:
        break;
    }
    return {};
}

} // namespace Pilothouse
