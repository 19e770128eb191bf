#pragma once
// Functions for the GUI thread; the runs live on it.

#include "models/clustersnapshot.h"
#include "models/inventory.h"
#include "models/operationrun.h"
#include "ui/operations/maintenancewizard.h"

class QObject;

namespace Pilothouse {

// The rejoin of `node` (app/operations/rejoin) as an OperationRun: its
// prepare() runs the rejoin as a dry run, so that the wizard shows the
// timeline fork and the WAL at risk before the operator commits.
OperationRun *createRejoinRun(const Inventory &inventory, const QString &node, QObject *parent);

// The pgpool repair (app/operations/pgpoolrepair) as an OperationRun: its
// prepare() is the dry run (what each instance gets wrong, a session
// through each).
OperationRun *createPgpoolRepairRun(const Inventory &inventory, QObject *parent);

// A rotation of every HAProxy's TLS certificate to the bundle in
// `certificateFile` (and `keyFile`, empty when the first holds the key), or
// with `rollback` a return to each one's previous certificate
// (app/certs/certificaterotation) as an OperationRun: prepare() is the dry
// run (the bundle checked, what each HAProxy serves). Files that cannot be
// read are refusals.
OperationRun *createCertificateRun(const Inventory &inventory, bool rollback,
                                   const QString &certificateFile, const QString &keyFile,
                                   QObject *parent);

// The provisioning of the inventory's hosts (app/provision) as an
// OperationRun: prepare() is the dry run (every host looked at: what would
// change).
OperationRun *createProvisionRun(const Inventory &inventory, QObject *parent);
MaintenanceSpec provisionWizardSpec(const Inventory &inventory);

// The wizards' words and choices from the cluster as last read: the nodes a
// rejoin may take (those that do not stream from the one primary first).
MaintenanceSpec rejoinWizardSpec(const ClusterSnapshot &snapshot);
MaintenanceSpec pgpoolRepairWizardSpec(const ClusterSnapshot &snapshot,
                                       const QString &pgpoolService);

} // namespace Pilothouse
