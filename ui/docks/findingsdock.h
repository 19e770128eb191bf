#pragma once
// Lives on the GUI thread.

#include "models/findingsmodel.h"

#include <QDockWidget>
#include <QPointer>
#include <QStringList>

class QLabel;
class QMenu;
class QModelIndex;
class QStackedWidget;
class QTreeView;

namespace Pilothouse {

// The engine's findings, most severe first. Clicking or activating a finding
// reports the keys of the objects it concerns, for the diagram to select.
class FindingsDock final : public QDockWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(FindingsDock)

public:
    explicit FindingsDock(QWidget *parent = nullptr);

    // Not owned. Several clusters may share one dock by switching models.
    void setModel(FindingsModel *model);
    FindingsModel *model() const { return m_model; }
    QTreeView *view() const { return m_view; }

    // The context menu of the finding at `row`: "Repair the pgpools…" or
    // "Rejoin a Node…" when an operation repairs it, and "Select in the diagram".
    QMenu *menuFor(int row);

Q_SIGNALS:
    void findingActivated(const QStringList &objects);
    // The operator asked for the operation that repairs a finding.
    void operationRequested(const QString &operation);

private:
    void updateState();
    void report(const QModelIndex &index);

    QPointer<FindingsModel> m_model;
    QStackedWidget *m_stack = nullptr;
    QTreeView *m_view = nullptr;
    QLabel *m_empty = nullptr;
};

} // namespace Pilothouse
