#include "ui/operations/operationspages.h"

#include "models/operationrun.h"
#include "ui/operations/operationrunpage.h"

#include <QFontDatabase>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QVBoxLayout>

namespace Pilothouse {

GuardedPage::GuardedPage(QWidget *parent)
    : QWizardPage(parent)
{}

GuardedPage::~GuardedPage() = default;

bool GuardedPage::isComplete() const
{
    return m_guard ? m_guard() : QWizardPage::isComplete();
}

void GuardedPage::initializePage()
{
    if (m_init)
        m_init();
    Q_EMIT completeChanged();
}

QLineEdit *createReasonEdit(QWidget *parent)
{
    auto *edit = new QLineEdit(parent);
    edit->setObjectName(QStringLiteral("reasonEdit"));
    edit->setPlaceholderText(QObject::tr("Why, e.g. \"kernel update on swarm-01\" (required)"));
    edit->setClearButtonEnabled(true);
    return edit;
}

QPlainTextEdit *createPreflightView(QWidget *parent)
{
    auto *view = new QPlainTextEdit(parent);
    view->setObjectName(QStringLiteral("preflightText"));
    view->setReadOnly(true);
    view->setLineWrapMode(QPlainTextEdit::WidgetWidth);
    return view;
}

QLabel *createRefusalsLabel(QWidget *parent)
{
    auto *label = new QLabel(parent);
    label->setObjectName(QStringLiteral("refusals"));
    label->setWordWrap(true);
    label->setTextFormat(Qt::RichText);
    label->setTextInteractionFlags(Qt::TextSelectableByMouse);
    label->hide();
    return label;
}

void showRefusals(QLabel *label, const QStringList &refusals)
{
    if (refusals.isEmpty()) {
        label->clear();
        label->hide();
        return;
    }
    const int side = label->fontMetrics().height();
    QString html = QStringLiteral("<p><img src=\":/icons/critical.svg\" width=%1 height=%1> "
                                  "<b>%2</b></p><ul>")
                       .arg(side)
                       .arg(QObject::tr("Refused: nothing will be changed until this is resolved")
                                .toHtmlEscaped());
    for (const QString &r : refusals)
        html += QStringLiteral("<li>") + r.toHtmlEscaped() + QStringLiteral("</li>");
    html += QStringLiteral("</ul>");
    label->setText(html);
    label->show();
}

void startPreflight(OperationRun *run, OperationRunPage *page, const QString &reason,
                    QObject *context, const std::function<void()> &refresh)
{
    QObject::connect(run, &OperationRun::preflightChanged, context, refresh);
    page->setRun(run, reason);
    run->prepare(reason);
    refresh();
}

void showPreflight(OperationRun *run, QPlainTextEdit *view, QLabel *preparing, QLabel *refusals,
                   const QString &preparingText)
{
    view->setPlainText(run->preflightText());
    const bool reading = run->isPreparing();
    preparing->setText(reading ? preparingText : QString());
    preparing->setVisible(reading);
    showRefusals(refusals, reading ? QStringList() : run->refusals());
}

void showRunResult(QLabel *header, QPlainTextEdit *details, OperationRunPage *page,
                   OperationRun *run)
{
    header->setText(resultHeader(page->finishedOk(), page->summary()));
    const QString text = run ? run->detailsText() : QString();
    details->setPlainText(text);
    details->setVisible(!text.isEmpty());
}

bool cancelInsteadOfClosing(OperationRun *run, OperationRunPage *page)
{
    if (!run || !run->isRunning())
        return false;
    page->cancelButton()->click();
    return true;
}

GuardedPage *createResultPage(const QString &headerName, QLabel **header, QPlainTextEdit **details,
                              std::function<void()> show)
{
    auto *page = new GuardedPage;
    page->setObjectName(QStringLiteral("resultPage"));
    page->setTitle(QObject::tr("Result"));
    *header = new QLabel;
    (*header)->setObjectName(headerName);
    (*header)->setWordWrap(true);
    (*header)->setTextFormat(Qt::RichText);
    (*header)->setTextInteractionFlags(Qt::TextSelectableByMouse);
    *details = createPreflightView(page);
    (*details)->setObjectName(QStringLiteral("resultDetails"));
    (*details)->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    auto *layout = new QVBoxLayout(page);
    layout->addWidget(*header);
    layout->addWidget(*details, 1);
    page->setOnInitialize(std::move(show));
    page->setFinalPage(true);
    return page;
}

QString resultHeader(bool ok, const QString &summary)
{
    return QStringLiteral("<p style=\"font-size:large\"><img src=\":/icons/%1.svg\" width=24 "
                          "height=24> <b>%2</b></p><p>%3</p>")
        .arg(ok ? QStringLiteral("ok") : QStringLiteral("critical"),
             ok ? QObject::tr("Succeeded") : QObject::tr("Did not succeed"),
             summary.toHtmlEscaped());
}

} // namespace Pilothouse
