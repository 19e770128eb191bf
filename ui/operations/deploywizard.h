#pragma once
// Lives on the GUI thread.

#include "models/operationrun.h"
#include "ui/operations/operationrunpage.h"

#include <QByteArray>
#include <QHash>
#include <QPointer>
#include <QWizard>

#include <functional>

class QFormLayout;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QTreeWidget;

namespace Pilothouse {

// Makes a deploy of `file` as stack `stack` with the typed secret values,
// not started, owned by `parent`.
using DeployRunFactory =
    std::function<OperationRun *(const QString &file, const QString &stack,
                                 const QHash<QString, QByteArray> &secrets, QObject *parent)>;

// Drives a stack deployment: the file, the stack's name and the reason; the
// plan, read from the Swarm without changing it (per change: kind, name,
// action, and for a service each field that changes), with a masked field
// for each external secret that does not exist yet (its value stays in
// memory) and "Plan again"; the run, with each service's tasks as they
// start; the result with the plan and the steps.
class DeployWizard final : public QWizard
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(DeployWizard)

public:
    enum Page { StackPage, PlanPage, RunPage, ResultPage };

    DeployWizard(DeployRunFactory factory, const QString &file, const QString &stack,
                 QWidget *parent = nullptr);
    ~DeployWizard() override;

    QLineEdit *fileEdit() const { return m_file; }
    QLineEdit *stackEdit() const { return m_stack; }
    QLineEdit *reasonEdit() const { return m_reason; }
    QTreeWidget *planTree() const { return m_plan; }
    QLabel *preparingLabel() const { return m_preparing; }
    QLabel *refusalsLabel() const { return m_refusals; }
    // The masked field of an external secret the plan wants, by name; null when none.
    QLineEdit *secretEdit(const QString &name) const { return m_secretEdits.value(name); }
    QPushButton *planAgainButton() const { return m_planAgain; }
    OperationRunPage *runPage() const { return m_run; }
    QLabel *resultLabel() const { return m_result; }
    QPlainTextEdit *detailsView() const { return m_details; }
    OperationRun *operation() const { return m_operation; }

    void reject() override;

private:
    void plan();
    void refreshPlan();
    void showResult();
    QHash<QString, QByteArray> typedSecrets() const;

    DeployRunFactory m_factory;
    QPointer<OperationRun> m_operation;
    QLineEdit *m_file = nullptr;
    QLineEdit *m_stack = nullptr;
    QLineEdit *m_reason = nullptr;
    QLabel *m_fileState = nullptr;
    QLabel *m_preparing = nullptr;
    QTreeWidget *m_plan = nullptr;
    QWidget *m_secretsBox = nullptr;
    QFormLayout *m_secretsForm = nullptr;
    QHash<QString, QLineEdit *> m_secretEdits;
    QPushButton *m_planAgain = nullptr;
    QLabel *m_refusals = nullptr;
    OperationRunPage *m_run = nullptr;
    QLabel *m_result = nullptr;
    QPlainTextEdit *m_details = nullptr;
};

} // namespace Pilothouse
