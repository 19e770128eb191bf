#pragma once
// Lives on the GUI thread.

#include "models/auditmodel.h"

#include <QDockWidget>
#include <QPointer>

class QCheckBox;
class QLabel;
class QLineEdit;
class QSortFilterProxyModel;
class QTreeView;

namespace Pilothouse {

// The operations audit trail of the cluster, newest first: who did what,
// when, why, with which arguments and what came of it, filtered by text and
// failures; above it, whether the hash chain checks out (icon and words).
class AuditDock final : public QDockWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(AuditDock)

public:
    explicit AuditDock(QWidget *parent = nullptr);
    ~AuditDock() override;

    // Not owned.
    void setModel(AuditModel *model);
    AuditModel *model() const { return m_model; }
    QSortFilterProxyModel *filterModel() const { return m_filter; }
    QTreeView *view() const { return m_view; }
    QLineEdit *filterEdit() const { return m_text; }
    QCheckBox *failuresOnly() const { return m_failures; }
    QLabel *chainLabel() const { return m_chainText; }

private:
    void showChain();
    void updateTitle();

    QPointer<AuditModel> m_model;
    QSortFilterProxyModel *m_filter = nullptr;
    QLineEdit *m_text = nullptr;
    QCheckBox *m_failures = nullptr;
    QLabel *m_chainIcon = nullptr;
    QLabel *m_chainText = nullptr;
    QTreeView *m_view = nullptr;
};

} // namespace Pilothouse
