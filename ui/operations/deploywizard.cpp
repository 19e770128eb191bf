#include "ui/operations/deploywizard.h"

#include "ui/operations/operationspages.h"
#include "ui/palette/icons.h"

#include <QFileDialog>
#include <QFileInfo>
#include <QFontDatabase>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonArray>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRegularExpression>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace Pilothouse {
namespace {

// The icon and word of a planned action: state is never colour alone.
QString actionIcon(const QString &action)
{
    if (action == u"conflict")
        return QStringLiteral("critical");
    if (action == u"create" || action == u"update")
        return QStringLiteral("action");
    return QStringLiteral("ok"); // unchanged, external
}

// A stack name as Docker takes it.
bool validStackName(const QString &name)
{
    static const QRegularExpression valid(QStringLiteral("^[a-zA-Z0-9][a-zA-Z0-9_.-]*$"));
    return valid.match(name).hasMatch();
}

} // namespace

DeployWizard::DeployWizard(DeployRunFactory factory, const QString &file, const QString &stack,
                           QWidget *parent)
    : QWizard(parent)
    , m_factory(std::move(factory))
{
    setObjectName(QStringLiteral("deployWizard"));
    setWindowTitle(tr("Deploy a Stack"));
    setWizardStyle(QWizard::ClassicStyle);
    setOption(QWizard::NoBackButtonOnLastPage);
    setOption(QWizard::NoCancelButtonOnLastPage);
    setOption(QWizard::NoBackButtonOnStartPage);
    resize(980, 720);

    // 1. What and why.
    auto *what = new GuardedPage;
    what->setObjectName(QStringLiteral("stackPage"));
    what->setTitle(tr("Which stack file, under which name?"));
    what->setSubTitle(tr("The file is read as `docker stack deploy` reads it (${VAR} from the "
                         "console's environment); nothing changes before you have seen the plan."));
    m_file = new QLineEdit(file);
    m_file->setObjectName(QStringLiteral("stackFile"));
    auto *browse = new QPushButton(tr("&Browse…"));
    browse->setObjectName(QStringLiteral("browseStackFile"));
    connect(browse, &QPushButton::clicked, this, [this] {
        auto *dialog = new QFileDialog(this, tr("Stack file"), QFileInfo(m_file->text()).path(),
                                       tr("Compose files (*.yml *.yaml);;All files (*)"));
        dialog->setAttribute(Qt::WA_DeleteOnClose);
        dialog->setFileMode(QFileDialog::ExistingFile);
        connect(dialog, &QFileDialog::fileSelected, m_file, &QLineEdit::setText);
        dialog->open();
    });
    auto *fileRow = new QHBoxLayout;
    fileRow->addWidget(m_file, 1);
    fileRow->addWidget(browse);
    m_fileState = new QLabel;
    m_fileState->setObjectName(QStringLiteral("stackFileState"));
    m_stack = new QLineEdit(stack);
    m_stack->setObjectName(QStringLiteral("stackName"));
    m_reason = createReasonEdit(what);
    auto *form = new QFormLayout;
    auto *fileLabel = new QLabel(tr("Stack &file:")); // a layout row gets no buddy by itself
    fileLabel->setBuddy(m_file);
    form->addRow(fileLabel, fileRow);
    form->addRow(QString(), m_fileState);
    form->addRow(tr("Stack &name:"), m_stack);
    form->addRow(tr("&Reason (kept in the audit trail):"), m_reason);
    auto *whatLayout = new QVBoxLayout(what);
    whatLayout->addLayout(form);
    whatLayout->addStretch(1);
    auto fileProblem = [this]() -> QString {
        const QFileInfo info(m_file->text().trimmed());
        if (m_file->text().trimmed().isEmpty())
            return tr("Give the stack file.");
        if (!info.exists())
            return tr("%1 does not exist.").arg(info.filePath());
        if (!info.isFile() || !info.isReadable())
            return tr("%1 is not a readable file.").arg(info.filePath());
        return {};
    };
    what->setGuard([this, fileProblem] {
        return fileProblem().isEmpty() && validStackName(m_stack->text().trimmed()) &&
               !m_reason->text().trimmed().isEmpty();
    });
    auto refreshWhat = [this, what, fileProblem] {
        QString problem = fileProblem();
        if (problem.isEmpty() && !validStackName(m_stack->text().trimmed()))
            problem = tr("A stack name starts with a letter or digit and holds only letters, "
                         "digits, '_', '.' and '-'.");
        m_fileState->setText(problem);
        m_fileState->setVisible(!problem.isEmpty());
        Q_EMIT what->completeChanged();
    };
    connect(m_file, &QLineEdit::textChanged, what, refreshWhat);
    connect(m_stack, &QLineEdit::textChanged, what, refreshWhat);
    connect(m_reason, &QLineEdit::textChanged, what, &QWizardPage::completeChanged);
    refreshWhat();
    setPage(StackPage, what);

    // 2. The plan: read, nothing changed.
    auto *planPage = new GuardedPage;
    planPage->setObjectName(QStringLiteral("planPage"));
    planPage->setTitle(tr("The plan"));
    planPage->setSubTitle(tr("What the deploy will change, per network, secret, config and "
                             "service; nothing has changed yet."));
    planPage->setCommitPage(true);
    planPage->setButtonText(QWizard::CommitButton, tr("&Deploy"));
    m_preparing = new QLabel;
    m_preparing->setObjectName(QStringLiteral("preparing"));
    m_preparing->setWordWrap(true);
    m_plan = new QTreeWidget;
    m_plan->setObjectName(QStringLiteral("planTree"));
    m_plan->setColumnCount(3);
    m_plan->setHeaderLabels({tr("What"), tr("Action"), tr("Details")});
    m_plan->setIconSize(QSize(18, 18));
    m_plan->setUniformRowHeights(true);
    m_plan->header()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
    m_plan->header()->setSectionResizeMode(1, QHeaderView::ResizeToContents);
    m_secretsBox = new QGroupBox(tr("Secrets to create (typed here, kept in memory only, never "
                                    "written to disk)"));
    m_secretsBox->setObjectName(QStringLiteral("secretsBox"));
    m_secretsForm = new QFormLayout(m_secretsBox);
    m_planAgain = new QPushButton(tr("&Plan again"));
    m_planAgain->setObjectName(QStringLiteral("planAgain"));
    m_planAgain->setToolTip(tr("Read the file and the Swarm again, with the values typed above"));
    connect(m_planAgain, &QPushButton::clicked, this, [this] { plan(); });
    m_refusals = createRefusalsLabel(planPage);
    auto *again = new QHBoxLayout;
    again->addStretch(1);
    again->addWidget(m_planAgain);
    auto *planLayout = new QVBoxLayout(planPage);
    planLayout->addWidget(m_preparing);
    planLayout->addWidget(m_plan, 1);
    planLayout->addWidget(m_secretsBox);
    planLayout->addLayout(again);
    planLayout->addWidget(m_refusals);
    planPage->setGuard([this] {
        return m_operation && !m_operation->isPreparing() && m_operation->refusals().isEmpty();
    });
    planPage->setOnInitialize([this] { plan(); });
    setPage(PlanPage, planPage);

    // 3. Run.
    m_run = new OperationRunPage;
    setPage(RunPage, m_run);

    // 4. Result.
    setPage(ResultPage, createResultPage(QStringLiteral("deployResult"), &m_result, &m_details,
                                         [this] { showResult(); }));
}

DeployWizard::~DeployWizard() = default;

QHash<QString, QByteArray> DeployWizard::typedSecrets() const
{
    QHash<QString, QByteArray> out;
    for (auto it = m_secretEdits.cbegin(); it != m_secretEdits.cend(); ++it) {
        if (!it.value()->text().isEmpty())
            out.insert(it.key(), it.value()->text().toUtf8());
    }
    return out;
}

void DeployWizard::plan()
{
    if (m_operation && m_operation->isRunning())
        return;
    const QHash<QString, QByteArray> secrets = typedSecrets();
    delete m_operation;
    m_operation =
        m_factory ? m_factory(m_file->text().trimmed(), m_stack->text().trimmed(), secrets, this)
                  : nullptr;
    if (!m_operation) {
        m_preparing->hide();
        showRefusals(m_refusals, {tr("this console cannot deploy stacks")});
        return;
    }
    startPreflight(m_operation, m_run, m_reason->text().trimmed(), this, [this] { refreshPlan(); });
}

void DeployWizard::refreshPlan()
{
    if (!m_operation)
        return;
    const bool preparing = m_operation->isPreparing();
    m_preparing->setText(preparing ? tr("Reading the file and the Swarm… (nothing is changed)")
                                   : QString());
    m_preparing->setVisible(preparing);
    m_planAgain->setEnabled(!preparing);

    // The plan as a tree: one row per change, its differences below it.
    m_plan->clear();
    const QJsonObject report = m_operation->preflightReport();
    for (const QJsonValue &v : report.value(QStringLiteral("changes")).toArray()) {
        const QJsonObject c = v.toObject();
        const QString action = c.value(QStringLiteral("action")).toString();
        const QJsonArray differences = c.value(QStringLiteral("differences")).toArray();
        auto *item = new QTreeWidgetItem(
            m_plan,
            {QStringLiteral("%1 %2").arg(c.value(QStringLiteral("kind")).toString(),
                                         c.value(QStringLiteral("name")).toString()),
             action,
             differences.size() == 1 ? differences.first().toString()
             : differences.isEmpty() ? QString()
                                     : tr("%n field(s) change", nullptr, int(differences.size()))});
        item->setIcon(1, stateIcon(actionIcon(action)));
        item->setData(0, Qt::UserRole, c.value(QStringLiteral("name")).toString());
        if (differences.size() > 1) {
            for (const QJsonValue &d : differences)
                new QTreeWidgetItem(item, {QString(), QString(), d.toString()});
            item->setExpanded(action == u"update" || action == u"conflict");
        }
    }
    if (!preparing && report.isEmpty())
        new QTreeWidgetItem(m_plan, {m_operation->preflightText()});
    const QStringList notInFile =
        report.value(QStringLiteral("not_in_file")).toVariant().toStringList();
    for (const QString &name : notInFile) {
        auto *item =
            new QTreeWidgetItem(m_plan, {tr("service %1").arg(name), tr("left alone"),
                                         tr("runs in the stack but the file no longer has it")});
        item->setIcon(1, stateIcon(QStringLiteral("warning")));
    }

    // A masked field per external secret that does not exist; typed values survive a re-plan.
    const QStringList wanted = m_operation->valuesWanted();
    for (const QString &name : wanted) {
        if (m_secretEdits.contains(name))
            continue;
        auto *edit = new QLineEdit;
        edit->setObjectName(QStringLiteral("secret_") + name);
        edit->setEchoMode(QLineEdit::Password);
        edit->setPlaceholderText(tr("the value of %1").arg(name));
        auto *reveal = new QPushButton(tr("Show"));
        reveal->setCheckable(true);
        connect(reveal, &QPushButton::toggled, edit, [edit](bool on) {
            edit->setEchoMode(on ? QLineEdit::Normal : QLineEdit::Password);
        });
        auto *row = new QHBoxLayout;
        row->addWidget(edit, 1);
        row->addWidget(reveal);
        m_secretsForm->addRow(name + u':', row);
        m_secretEdits.insert(name, edit);
    }
    // Fields of secrets that now exist or are planned from a typed value stay visible while typed.
    for (auto it = m_secretEdits.cbegin(); it != m_secretEdits.cend(); ++it)
        it.value()->setEnabled(!preparing);
    m_secretsBox->setVisible(!m_secretEdits.isEmpty());

    QStringList refusals = preparing ? QStringList() : m_operation->refusals();
    if (!wanted.isEmpty() && !preparing)
        refusals.append(tr("type the values above, then Plan again"));
    showRefusals(m_refusals, refusals);
    Q_EMIT page(PlanPage)->completeChanged();
}

void DeployWizard::showResult()
{
    showRunResult(m_result, m_details, m_run, m_operation);
}

void DeployWizard::reject()
{
    if (!cancelInsteadOfClosing(m_operation, m_run))
        QWizard::reject();
}

} // namespace Pilothouse
