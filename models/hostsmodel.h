#pragma once
// Lives on the GUI thread.

#include "models/inventory.h"

#include <QAbstractTableModel>

namespace Pilothouse {

// The hosts of one inventory, one row per host, keyed by host name: setHosts()
// updates, inserts and removes rows by key instead of resetting.
class HostsModel final : public QAbstractTableModel
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(HostsModel)

public:
    enum Column { Name, Address, SshPort, User, Groups, ColumnCount };
    enum Role { RawValueRole = Qt::UserRole + 1 };

    explicit HostsModel(QObject *parent = nullptr);

    void setHosts(const QList<InventoryHost> &hosts);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

private:
    QList<InventoryHost> m_hosts;
};

} // namespace Pilothouse
