#include "models/inventory.h"

#include <QFileInfo>

namespace Pilothouse {

const InventoryHost *Inventory::host(const QString &name) const
{
    for (const InventoryHost &h : hosts) {
        if (h.name == name)
            return &h;
    }
    return nullptr;
}

QString Inventory::displayName() const
{
    if (!settings.cluster.isEmpty())
        return settings.cluster;
    return QFileInfo(path).completeBaseName();
}

} // namespace Pilothouse
