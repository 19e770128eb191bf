#pragma once
// Lives on the GUI thread.

#include "models/inventory.h"

#include <QWidget>

class QAbstractItemModel;
class QLabel;
class QTableView;

namespace Pilothouse {

// One opened cluster: what its inventory says (hosts, stack, proxy, where
// each PostgreSQL node and etcd member runs).
class ClusterView final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ClusterView)

public:
    explicit ClusterView(QWidget *parent = nullptr);

    void setInventory(const Inventory &inventory);
    void setHostsModel(QAbstractItemModel *model);

private:
    QLabel *m_title = nullptr;
    QLabel *m_summary = nullptr;
    QTableView *m_hosts = nullptr;
};

} // namespace Pilothouse
