#pragma once
// Free functions; safe on any thread (they touch only their arguments and the file).

#include "models/inventory.h"
#include "models/result.h"

#include <QByteArray>
#include <QString>

namespace Pilothouse::InventoryLoader {

// Reads an Ansible YAML inventory (all/children/hosts/vars, as the seed's
// hosts.yaml and the lab write it) with Pilothouse's own section, either
// under `all: vars: pilothouse:` or at the top level as `pilothouse:`.
// Every error names file:line:column and what was expected; on error nothing
// of the file is returned.
Result<Inventory> loadFile(const QString &path);

// The same from bytes already read; `path` names them in errors and anchors
// relative key files.
Result<Inventory> loadBytes(const QByteArray &yaml, const QString &path);

} // namespace Pilothouse::InventoryLoader
