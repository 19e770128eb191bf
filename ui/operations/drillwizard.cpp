#include "ui/operations/drillwizard.h"

#include "models/drillreport.h"
#include "models/operationrun.h"
#include "ui/operations/drillreportview.h"
#include "ui/operations/operationspages.h"

#include <QButtonGroup>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRadioButton>
#include <QVBoxLayout>

namespace Pilothouse {

QList<DrillWizard::Scenario> DrillWizard::scenarios()
{
    return {
        {QStringLiteral("kill-primary"),
         tr("Kills the primary's PostgreSQL container; repmgr promotes a standby and every "
            "pgpool must follow it."),
         tr("Writes fail until the promotion (seconds); the old primary returns as a standby.")},
        {QStringLiteral("stop-primary-host"),
         tr("Stops the Docker engine of the primary's host: its PostgreSQL, pgpool, etcd member "
            "and app replicas go at once."),
         tr("The widest outage of the six; Swarm reschedules tasks until the engine is back.")},
        {QStringLiteral("partition-primary"),
         tr("Cuts the primary's host off the network (a self-expiring firewall table on it), "
            "then heals it."),
         tr("Split brain: the isolated old primary must not acknowledge a write once a standby "
            "is promoted.")},
        {QStringLiteral("kill-pgpool"), tr("Kills one pgpool task; Swarm starts a new one."),
         tr("Clients of that instance lose their sessions and reconnect; the quickest drill.")},
        {QStringLiteral("stop-etcd-member"),
         tr("Stops one of the three etcd members, then starts it again."),
         tr("Quorum holds (2 of 3); the lock and the audit mirror move to another member.")},
        {QStringLiteral("lose-etcd-quorum"),
         tr("Stops two etcd members (quorum lost), then restores them."),
         tr("No operation lock can be taken meanwhile; whatever needs etcd waits.")},
    };
}

DrillWizard::DrillWizard(OperationRunFactory factory, QWidget *parent)
    : QWizard(parent)
    , m_factory(std::move(factory))
{
    setObjectName(QStringLiteral("drillWizard"));
    setWindowTitle(tr("Failover Drill"));
    setWizardStyle(QWizard::ClassicStyle);
    setOption(QWizard::NoBackButtonOnLastPage);
    setOption(QWizard::NoCancelButtonOnLastPage);
    resize(1000, 760);

    // 1. Scenario and reason.
    auto *choose = new GuardedPage;
    choose->setObjectName(QStringLiteral("scenarioPage"));
    choose->setTitle(tr("Which fault do you want to inject?"));
    choose->setSubTitle(tr("The drill checks the cluster is healthy first, measures what the "
                           "writers lose, restores the fault and waits until the cluster is "
                           "healthy again."));
    m_scenarios = new QButtonGroup(this);
    auto *layout = new QVBoxLayout(choose);
    int id = 0;
    for (const Scenario &s : scenarios()) {
        auto *radio = new QRadioButton(s.name);
        radio->setObjectName(QStringLiteral("scenario_") + s.name);
        QFont f = radio->font();
        f.setBold(true);
        radio->setFont(f);
        auto *text = new QLabel(
            tr("%1<br><i>Risk:</i> %2").arg(s.does.toHtmlEscaped(), s.risks.toHtmlEscaped()));
        text->setWordWrap(true);
        text->setContentsMargins(24, 0, 0, 6);
        text->setBuddy(radio);
        m_scenarios->addButton(radio, id++);
        layout->addWidget(radio);
        layout->addWidget(text);
    }
    m_reason = createReasonEdit(choose);
    auto *form = new QFormLayout;
    form->addRow(tr("&Reason (kept in the audit trail):"), m_reason);
    layout->addStretch(1);
    layout->addLayout(form);
    choose->setGuard([this] {
        return m_scenarios->checkedButton() != nullptr && !m_reason->text().trimmed().isEmpty();
    });
    connect(m_scenarios, &QButtonGroup::idToggled, choose, &QWizardPage::completeChanged);
    connect(m_reason, &QLineEdit::textChanged, choose, &QWizardPage::completeChanged);
    setPage(ScenarioPage, choose);

    // 2. Prediction and preflight.
    auto *prediction = new GuardedPage;
    prediction->setObjectName(QStringLiteral("predictionPage"));
    prediction->setTitle(tr("Prediction and preflight"));
    prediction->setSubTitle(tr("The expected write outage, what will happen and what is checked. "
                               "Nothing has changed yet."));
    prediction->setCommitPage(true);
    prediction->setButtonText(QWizard::CommitButton, tr("&Start the drill"));
    m_prediction = createPreflightView(prediction);
    m_refusals = createRefusalsLabel(prediction);
    auto *predictionLayout = new QVBoxLayout(prediction);
    predictionLayout->addWidget(m_prediction, 1);
    predictionLayout->addWidget(m_refusals);
    prediction->setGuard([this] { return m_operation && m_operation->refusals().isEmpty(); });
    prediction->setOnInitialize([this] { preparePrediction(); });
    setPage(PredictionPage, prediction);

    // 3. Run.
    m_run = new OperationRunPage;
    setPage(RunPage, m_run);

    // 4. Report.
    auto *report = new GuardedPage;
    report->setObjectName(QStringLiteral("reportPage"));
    report->setTitle(tr("Drill report"));
    m_summary = new QLabel;
    m_summary->setObjectName(QStringLiteral("drillSummary"));
    m_summary->setWordWrap(true);
    m_summary->setTextFormat(Qt::RichText);
    m_report = new DrillReportView;
    auto *reportLayout = new QVBoxLayout(report);
    reportLayout->addWidget(m_summary);
    reportLayout->addWidget(m_report, 1);
    report->setOnInitialize([this] { showReport(); });
    report->setFinalPage(true);
    setPage(ReportPage, report);
}

DrillWizard::~DrillWizard() = default;

void DrillWizard::selectScenario(const QString &name)
{
    const QList<Scenario> all = scenarios();
    for (int i = 0; i < all.size(); ++i) {
        if (all.at(i).name == name)
            m_scenarios->button(i)->setChecked(true);
    }
}

QString DrillWizard::selectedScenario() const
{
    const int id = m_scenarios->checkedId();
    return id < 0 ? QString() : scenarios().value(id).name;
}

void DrillWizard::preparePrediction()
{
    if (m_operation && !m_operation->isRunning())
        delete m_operation;
    m_operation = m_factory ? m_factory(selectedScenario(), this) : nullptr;
    if (!m_operation) {
        m_prediction->setPlainText(tr("This console cannot run drills."));
        showRefusals(m_refusals, {tr("no drill is available")});
        return;
    }
    connect(m_operation, &OperationRun::preflightChanged, this, [this] {
        m_prediction->setPlainText(m_operation->preflightText());
        showRefusals(m_refusals, m_operation->refusals());
        Q_EMIT page(PredictionPage)->completeChanged();
    });
    m_prediction->setPlainText(m_operation->preflightText());
    showRefusals(m_refusals, m_operation->refusals());
    m_run->setRun(m_operation, m_reason->text().trimmed());
}

void DrillWizard::showReport()
{
    m_summary->setText(resultHeader(m_run->finishedOk(), m_run->summary()));
    const QJsonObject json = m_run->report();
    m_report->setVisible(!json.isEmpty());
    if (!json.isEmpty())
        m_report->setReport(DrillReport::fromJson(json));
}

void DrillWizard::reject()
{
    if (m_operation && m_operation->isRunning()) {
        // Closing the window must not leave a fault injected.
        m_run->cancelButton()->click();
        return;
    }
    QWizard::reject();
}

} // namespace Pilothouse
