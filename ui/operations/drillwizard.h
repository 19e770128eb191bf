#pragma once
// Lives on the GUI thread.

#include "models/operationrun.h"
#include "ui/operations/operationrunpage.h"

#include <QPointer>
#include <QWizard>

class QButtonGroup;
class QLabel;
class QLineEdit;
class QPlainTextEdit;

namespace Pilothouse {

class DrillReportView;

// Drives a failover drill: the scenario (each says what it does and what it
// risks) and the reason; the prediction from the live settings with the
// preflight and any refusal; the run with its phases and events live; the
// report as a timeline chart with RTO and RPO, exportable to HTML and PDF.
class DrillWizard final : public QWizard
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(DrillWizard)

public:
    enum Page { ScenarioPage, PredictionPage, RunPage, ReportPage };

    struct Scenario
    {
        QString name;
        QString does;
        QString risks;
    };
    // The six scenarios of a drill, in the order they are offered.
    static QList<Scenario> scenarios();

    explicit DrillWizard(OperationRunFactory factory, QWidget *parent = nullptr);
    ~DrillWizard() override;

    // Picks a scenario by name (as a click would).
    void selectScenario(const QString &name);
    QString selectedScenario() const;
    QLineEdit *reasonEdit() const { return m_reason; }
    QPlainTextEdit *predictionView() const { return m_prediction; }
    QLabel *refusalsLabel() const { return m_refusals; }
    OperationRunPage *runPage() const { return m_run; }
    DrillReportView *reportView() const { return m_report; }
    QLabel *reportSummary() const { return m_summary; }
    OperationRun *operation() const { return m_operation; }

    void reject() override;

private:
    void preparePrediction();
    void showReport();

    OperationRunFactory m_factory;
    QPointer<OperationRun> m_operation;
    QButtonGroup *m_scenarios = nullptr;
    QLineEdit *m_reason = nullptr;
    QPlainTextEdit *m_prediction = nullptr;
    QLabel *m_refusals = nullptr;
    OperationRunPage *m_run = nullptr;
    QLabel *m_summary = nullptr;
    DrillReportView *m_report = nullptr;
};

} // namespace Pilothouse
