#include "ui/operations/auditdock.h"

#include "ui/palette/icons.h"

#include <QCheckBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QSortFilterProxyModel>
#include <QTreeView>
#include <QVBoxLayout>

namespace Pilothouse {
namespace {

// Text over every column; optionally only the entries whose command failed
// or whose place in the chain does not check out.
class AuditFilterModel final : public QSortFilterProxyModel
{
public:
    using QSortFilterProxyModel::QSortFilterProxyModel;

    void setFailuresOnly(bool on)
    {
        m_failuresOnly = on;
        invalidateRowsFilter();
    }

protected:
    bool filterAcceptsRow(int row, const QModelIndex &parent) const override
    {
        const QModelIndex first = sourceModel()->index(row, 0, parent);
        if (m_failuresOnly && first.data(AuditModel::OkRole).toBool() &&
            first.data(AuditModel::ChainOkRole).toBool())
            return false;
        return QSortFilterProxyModel::filterAcceptsRow(row, parent);
    }

private:
    bool m_failuresOnly = false;
};

} // namespace

AuditDock::AuditDock(QWidget *parent)
    : QDockWidget(tr("Audit Trail"), parent)
{
    setObjectName(QStringLiteral("auditDock"));

    auto *filter = new AuditFilterModel(this);
    filter->setFilterKeyColumn(-1);
    filter->setFilterCaseSensitivity(Qt::CaseInsensitive);
    m_filter = filter;

    m_text = new QLineEdit;
    m_text->setObjectName(QStringLiteral("auditFilter"));
    m_text->setPlaceholderText(tr("Filter: operation, user, target, command…"));
    m_text->setClearButtonEnabled(true);
    connect(m_text, &QLineEdit::textChanged, m_filter,
            &QSortFilterProxyModel::setFilterFixedString);
    m_failures = new QCheckBox(tr("Failures only"));
    m_failures->setObjectName(QStringLiteral("auditFailuresOnly"));
    connect(m_failures, &QCheckBox::toggled, this,
            [filter](bool on) { filter->setFailuresOnly(on); });

    m_chainIcon = new QLabel;
    m_chainIcon->setObjectName(QStringLiteral("auditChainIcon"));
    m_chainText = new QLabel;
    m_chainText->setObjectName(QStringLiteral("auditChain"));
    m_chainText->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_chainText->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);

    auto *bar = new QHBoxLayout;
    bar->setContentsMargins(0, 0, 0, 0);
    bar->addWidget(m_text, 2);
    bar->addWidget(m_failures);
    bar->addSpacing(8);
    bar->addWidget(m_chainIcon);
    bar->addWidget(m_chainText, 3);

    m_view = new QTreeView;
    m_view->setObjectName(QStringLiteral("auditView"));
    m_view->setRootIsDecorated(false);
    m_view->setUniformRowHeights(true);
    m_view->setAllColumnsShowFocus(true);
    m_view->setAlternatingRowColors(true);
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setAccessibleName(tr("Audit trail"));
    m_view->setModel(m_filter);
    QHeaderView *header = m_view->header();
    header->setStretchLastSection(false);

    auto *content = new QWidget;
    auto *layout = new QVBoxLayout(content);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->setSpacing(4);
    layout->addLayout(bar);
    layout->addWidget(m_view, 1);
    setWidget(content);

    connect(m_filter, &QAbstractItemModel::rowsInserted, this, &AuditDock::updateTitle);
    connect(m_filter, &QAbstractItemModel::rowsRemoved, this, &AuditDock::updateTitle);
    connect(m_filter, &QAbstractItemModel::modelReset, this, &AuditDock::updateTitle);
    connect(m_filter, &QAbstractItemModel::layoutChanged, this, &AuditDock::updateTitle);
    showChain();
}

AuditDock::~AuditDock() = default;

void AuditDock::setModel(AuditModel *model)
{
    if (m_model == model)
        return;
    if (m_model)
        disconnect(m_model, nullptr, this, nullptr);
    m_model = model;
    m_filter->setSourceModel(model);
    if (model)
        connect(model, &AuditModel::chainStateChanged, this, &AuditDock::showChain);
    QHeaderView *header = m_view->header();
    const QFontMetrics metrics = m_view->fontMetrics();
    const auto width = [&](const QString &sample) {
        return metrics.horizontalAdvance(sample) + 28;
    };
    header->resizeSection(AuditModel::TimeColumn,
                          width(QStringLiteral("8888-88-88 88:88:88")) + 20);
    header->resizeSection(AuditModel::UserColumn, width(QStringLiteral("operator")));
    header->resizeSection(AuditModel::OperationColumn, width(QStringLiteral("switchover pg-2 ")));
    header->resizeSection(AuditModel::KindColumn, width(QStringLiteral("operation")));
    header->resizeSection(AuditModel::TargetColumn, width(QStringLiteral("pgpool@swarm-01")));
    header->resizeSection(AuditModel::ArgumentsColumn, metrics.horizontalAdvance(u'x') * 48);
    header->resizeSection(AuditModel::ResultColumn, metrics.horizontalAdvance(u'x') * 32);
    header->resizeSection(AuditModel::OkColumn, width(QStringLiteral("failed")) + 20);
    showChain();
    updateTitle();
}

void AuditDock::showChain()
{
    const int side = m_chainText->fontMetrics().height();
    QString icon = QStringLiteral("unknown");
    QString text = tr("No audit trail for this cluster yet");
    if (m_model) {
        text = m_model->chainText();
        switch (m_model->chainState()) {
        case AuditModel::ChainState::Intact:
            icon = QStringLiteral("ok");
            text = tr("Chain verified: %1").arg(text);
            break;
        case AuditModel::ChainState::Broken:
            icon = QStringLiteral("critical");
            text = tr("Chain BROKEN: %1").arg(text);
            break;
        case AuditModel::ChainState::Unreadable:
            icon = QStringLiteral("warning");
            break;
        case AuditModel::ChainState::Empty:
            break;
        }
    }
    m_chainIcon->setPixmap(stateIcon(icon).pixmap(QSize(side, side), devicePixelRatioF()));
    m_chainIcon->setToolTip(text);
    m_chainText->setText(text);
    m_chainText->setToolTip(m_model ? m_model->filePath() : QString());
    m_chainIcon->setProperty("chainState", icon);
}

void AuditDock::updateTitle()
{
    const int total = m_model ? m_model->rowCount() : 0;
    const int shown = m_filter->rowCount();
    setWindowTitle(shown == total ? tr("Audit Trail")
                                  : tr("Audit Trail (%1 of %2 shown)").arg(shown).arg(total));
}

} // namespace Pilothouse
