#pragma once
// Lives on the GUI thread.

#include "models/clustersnapshot.h"
#include "models/operationrun.h"
#include "ui/operations/operationrunpage.h"

#include <QPointer>
#include <QWizard>

class QLabel;
class QLineEdit;
class QListWidget;
class QPlainTextEdit;

namespace Pilothouse {

// Drives a planned switchover: the target standby (only streaming standbys
// are offered, with their lag) and the reason; the preflight (what will
// happen, what is checked, the expected downtime, and any refusal); the run
// with live steps and a cancel; the result (write gap, lost writes, the new
// primary and its timeline).
class SwitchoverWizard final : public QWizard
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SwitchoverWizard)

public:
    enum Page { TargetPage, PreflightPage, RunPage, ResultPage };

    SwitchoverWizard(const ClusterSnapshot &snapshot, OperationRunFactory factory,
                     QWidget *parent = nullptr);
    ~SwitchoverWizard() override;

    // The standbys a switchover may go to: reachable, streaming.
    static QList<const PostgresNodeState *> candidates(const ClusterSnapshot &snapshot);

    QListWidget *targetList() const { return m_targets; }
    QLineEdit *reasonEdit() const { return m_reason; }
    QLabel *notOffered() const { return m_notOffered; }
    QPlainTextEdit *preflightView() const { return m_preflight; }
    QLabel *refusalsLabel() const { return m_refusals; }
    OperationRunPage *runPage() const { return m_run; }
    QLabel *resultLabel() const { return m_result; }
    OperationRun *operation() const { return m_operation; }
    QString selectedTarget() const;

    void reject() override;

private:
    void preparePreflight();
    void showResult();

    ClusterSnapshot m_snapshot;
    OperationRunFactory m_factory;
    QPointer<OperationRun> m_operation;
    QListWidget *m_targets = nullptr;
    QLineEdit *m_reason = nullptr;
    QLabel *m_notOffered = nullptr;
    QPlainTextEdit *m_preflight = nullptr;
    QLabel *m_refusals = nullptr;
    OperationRunPage *m_run = nullptr;
    QLabel *m_result = nullptr;
};

} // namespace Pilothouse
