#pragma once
// Functions for the GUI thread; the runs live on it.

#include "models/inventory.h"
#include "models/operationrun.h"

#include <QByteArray>
#include <QHash>
#include <QString>

class QObject;

namespace Pilothouse {

// A deploy of the stack file `stackFile` as stack `stack`
// (app/deploy/stackdeploy) as an OperationRun: prepare() reads the file and
// plans it against the Swarm without changing anything (the plan is the
// preflight; its changes are preflightReport()), start() applies it.
// `secretValues` are the values typed for the stack's external secrets that
// do not exist yet (valuesWanted() names them); they stay in memory only.
OperationRun *createStackDeployRun(const Inventory &inventory, const QString &stackFile,
                                   const QString &stack,
                                   const QHash<QString, QByteArray> &secretValues, QObject *parent);

} // namespace Pilothouse
