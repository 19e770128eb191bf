#pragma once
// Functions for the GUI thread.

#include <QList>
#include <QString>

#include <functional>

class QWidget;

namespace Pilothouse {

struct PaletteEntry;

// The operations a cluster offers, as (key, label, what it does): keys are
// what ClusterView::operationRequested carries ("switchover", "drill").
struct OperationAction
{
    QString key;
    QString label;
    QString detail;
};
QList<OperationAction> operationActions();

// A tool button "Operations" whose menu requests each operation.
QWidget *createOperationsButton(QWidget *parent,
                                std::function<void(const QString &operation)> request);

// The palette's entries for them: key "operation:<key>".
QList<PaletteEntry> operationPaletteEntries(const QString &cluster);

} // namespace Pilothouse
