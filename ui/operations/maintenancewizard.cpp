#include "ui/operations/maintenancewizard.h"

#include "ui/operations/operationspages.h"
#include "ui/palette/icons.h"

#include <QFontDatabase>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QVBoxLayout>

namespace Pilothouse {

MaintenanceWizard::MaintenanceWizard(MaintenanceSpec spec, OperationRunFactory factory,
                                     QWidget *parent)
    : QWizard(parent)
    , m_spec(std::move(spec))
    , m_factory(std::move(factory))
{
    setObjectName(m_spec.objectName);
    setWindowTitle(m_spec.windowTitle);
    setWizardStyle(QWizard::ClassicStyle);
    setOption(QWizard::NoBackButtonOnLastPage);
    setOption(QWizard::NoCancelButtonOnLastPage);
    setOption(QWizard::NoBackButtonOnStartPage);
    resize(900, 680);

    // 1. What (when there is a choice) and why.
    auto *choose = new GuardedPage;
    choose->setObjectName(QStringLiteral("choosePage"));
    choose->setTitle(m_spec.chooseTitle);
    choose->setSubTitle(m_spec.chooseHint);
    auto *chooseLayout = new QVBoxLayout(choose);
    if (!m_spec.situation.isEmpty()) {
        auto *situation = new QLabel(m_spec.situation);
        situation->setObjectName(QStringLiteral("situation"));
        situation->setWordWrap(true);
        situation->setTextInteractionFlags(Qt::TextSelectableByMouse);
        chooseLayout->addWidget(situation);
    }
    m_choices = new QListWidget;
    m_choices->setObjectName(QStringLiteral("choices"));
    m_choices->setIconSize(QSize(24, 24));
    int suggested = -1;
    bool anyOffered = false;
    for (const MaintenanceChoice &c : std::as_const(m_spec.choices)) {
        auto *item = new QListWidgetItem(stateIcon(c.icon), c.label, m_choices);
        item->setData(Qt::UserRole, c.key);
        if (!c.offered) {
            // Greyed and not selectable; the label says why.
            item->setFlags(item->flags() & ~(Qt::ItemIsSelectable | Qt::ItemIsEnabled));
        } else {
            anyOffered = true;
            if (c.suggested && suggested < 0)
                suggested = m_choices->count() - 1;
        }
    }
    m_choices->setVisible(!m_spec.choices.isEmpty());
    chooseLayout->addWidget(m_choices, 1);
    if (!m_spec.choices.isEmpty() && !anyOffered && !m_spec.noChoiceText.isEmpty()) {
        auto *none = new QLabel(m_spec.noChoiceText);
        none->setObjectName(QStringLiteral("noChoice"));
        none->setWordWrap(true);
        chooseLayout->addWidget(none);
    }
    if (m_spec.choices.isEmpty())
        chooseLayout->addStretch(1);
    m_reason = createReasonEdit(choose);
    auto *form = new QFormLayout;
    form->addRow(tr("&Reason (kept in the audit trail):"), m_reason);
    chooseLayout->addLayout(form);
    choose->setGuard([this] {
        const bool chosen = m_spec.choices.isEmpty() || !selectedChoice().isEmpty();
        return chosen && !m_reason->text().trimmed().isEmpty();
    });
    connect(m_choices, &QListWidget::currentItemChanged, choose, &QWizardPage::completeChanged);
    connect(m_reason, &QLineEdit::textChanged, choose, &QWizardPage::completeChanged);
    if (suggested >= 0)
        m_choices->setCurrentRow(suggested);
    setPage(ChoosePage, choose);

    // 2. Preflight: read, nothing changed.
    auto *preflight = new GuardedPage;
    preflight->setObjectName(QStringLiteral("preflightPage"));
    preflight->setTitle(tr("Preflight"));
    preflight->setSubTitle(
        tr("The cluster is read first; nothing has changed yet. Read this before you start."));
    preflight->setCommitPage(true);
    preflight->setButtonText(QWizard::CommitButton, m_spec.commitText);
    m_preflight = createPreflightView(preflight);
    m_preparing = new QLabel;
    m_preparing->setObjectName(QStringLiteral("preparing"));
    m_preparing->setWordWrap(true);
    m_refusals = createRefusalsLabel(preflight);
    auto *preflightLayout = new QVBoxLayout(preflight);
    preflightLayout->addWidget(m_preparing);
    preflightLayout->addWidget(m_preflight, 1);
    preflightLayout->addWidget(m_refusals);
    preflight->setGuard([this] {
        return m_operation && !m_operation->isPreparing() && m_operation->refusals().isEmpty();
    });
    preflight->setOnInitialize([this] { preparePreflight(); });
    setPage(PreflightPage, preflight);

    // 3. Run.
    m_run = new OperationRunPage;
    setPage(RunPage, m_run);

    // 4. Result.
    setPage(ResultPage, createResultPage(QStringLiteral("maintenanceResult"), &m_result, &m_details,
                                         [this] { showResult(); }));
}

MaintenanceWizard::~MaintenanceWizard() = default;

bool MaintenanceWizard::selectChoice(const QString &key)
{
    for (int i = 0; i < m_choices->count(); ++i) {
        QListWidgetItem *item = m_choices->item(i);
        if (item->data(Qt::UserRole).toString() == key && (item->flags() & Qt::ItemIsEnabled)) {
            m_choices->setCurrentItem(item);
            return true;
        }
    }
    return false;
}

QString MaintenanceWizard::selectedChoice() const
{
    QListWidgetItem *item = m_choices->currentItem();
    if (!item || !(item->flags() & Qt::ItemIsEnabled))
        return {};
    return item->data(Qt::UserRole).toString();
}

void MaintenanceWizard::preparePreflight()
{
    if (m_operation && !m_operation->isRunning())
        delete m_operation;
    m_operation = m_factory ? m_factory(selectedChoice(), this) : nullptr;
    if (!m_operation) {
        m_preparing->hide();
        m_preflight->setPlainText(tr("This console cannot run this operation."));
        showRefusals(m_refusals, {tr("the operation is not available")});
        return;
    }
    startPreflight(m_operation, m_run, m_reason->text().trimmed(), this,
                   [this] { refreshPreflight(); });
}

void MaintenanceWizard::refreshPreflight()
{
    if (!m_operation)
        return;
    showPreflight(m_operation, m_preflight, m_preparing, m_refusals,
                  tr("Reading the cluster… (nothing is changed)"));
    Q_EMIT page(PreflightPage)->completeChanged();
}

void MaintenanceWizard::showResult()
{
    showRunResult(m_result, m_details, m_run, m_operation);
}

void MaintenanceWizard::reject()
{
    if (!cancelInsteadOfClosing(m_operation, m_run))
        QWizard::reject();
}

} // namespace Pilothouse
