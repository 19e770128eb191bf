#include "ui/docks/findingsdock.h"

#include "models/findings.h"
#include "models/findingsmodel.h"
#include "ui/operations/operationsmenu.h"
#include "ui/palette/icons.h"

#include <QHeaderView>
#include <QLabel>
#include <QMenu>
#include <QStackedWidget>
#include <QStyle>
#include <QTreeView>

namespace Pilothouse {

FindingsDock::FindingsDock(QWidget *parent)
    : QDockWidget(tr("Findings"), parent)
{
    setObjectName(QStringLiteral("findingsDock"));

    m_view = new QTreeView;
    m_view->setObjectName(QStringLiteral("findingsView"));
    m_view->setRootIsDecorated(false);
    m_view->setUniformRowHeights(true);
    m_view->setAllColumnsShowFocus(true);
    m_view->setAlternatingRowColors(true);
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setSelectionMode(QAbstractItemView::SingleSelection);
    m_view->setTextElideMode(Qt::ElideRight);
    m_view->setAccessibleName(tr("Findings"));

    m_empty = new QLabel(tr("No findings: every layer agrees"));
    m_empty->setObjectName(QStringLiteral("findingsEmpty"));
    m_empty->setAlignment(Qt::AlignCenter);
    m_empty->setWordWrap(true);
    m_empty->setForegroundRole(QPalette::PlaceholderText);
    m_empty->setMargin(12);

    m_stack = new QStackedWidget;
    m_stack->addWidget(m_view);
    m_stack->addWidget(m_empty);
    setWidget(m_stack);

    connect(m_view, &QAbstractItemView::clicked, this, &FindingsDock::report);
    connect(m_view, &QAbstractItemView::activated, this, [this](const QModelIndex &index) {
        // Where a single click already activates, clicked() has reported it.
        if (!m_view->style()->styleHint(QStyle::SH_ItemView_ActivateItemOnSingleClick, nullptr,
                                        m_view))
            report(index);
    });
    m_view->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(m_view, &QWidget::customContextMenuRequested, this, [this](const QPoint &at) {
        const QModelIndex index = m_view->indexAt(at);
        if (!index.isValid())
            return;
        QMenu *menu = menuFor(index.row());
        menu->setAttribute(Qt::WA_DeleteOnClose);
        menu->popup(m_view->viewport()->mapToGlobal(at));
    });
    updateState();
}

QMenu *FindingsDock::menuFor(int row)
{
    auto *menu = new QMenu(this);
    menu->setObjectName(QStringLiteral("findingMenu"));
    if (!m_model || row < 0 || row >= m_model->rowCount())
        return menu;
    const QModelIndex index = m_model->index(row, 0);
    const QString operation =
        Findings::suggestedOperation(index.data(FindingsModel::CodeRole).toString());
    for (const OperationAction &a : operationActions()) {
        if (a.key != operation)
            continue;
        QAction *fix = menu->addAction(stateIcon(QStringLiteral("action")), a.label);
        fix->setObjectName(QStringLiteral("fix_") + a.key);
        fix->setToolTip(a.detail);
        connect(fix, &QAction::triggered, this,
                [this, key = a.key] { Q_EMIT operationRequested(key); });
    }
    QAction *select = menu->addAction(tr("Select in the diagram"));
    connect(select, &QAction::triggered, this, [this, index] { report(index); });
    return menu;
}

void FindingsDock::setModel(FindingsModel *model)
{
    if (m_model == model)
        return;
    if (m_model)
        disconnect(m_model, nullptr, this, nullptr);
    m_model = model;
    m_view->setModel(model);
    if (model) {
        connect(model, &QAbstractItemModel::rowsInserted, this, &FindingsDock::updateState);
        connect(model, &QAbstractItemModel::rowsRemoved, this, &FindingsDock::updateState);
        connect(model, &QAbstractItemModel::modelReset, this, &FindingsDock::updateState);
        connect(model, &QObject::destroyed, this, &FindingsDock::updateState);
        QHeaderView *header = m_view->header();
        header->setStretchLastSection(false);
        header->setSectionResizeMode(FindingsModel::SeverityColumn, QHeaderView::ResizeToContents);
        header->setSectionResizeMode(FindingsModel::MessageColumn, QHeaderView::Stretch);
        header->setSectionResizeMode(FindingsModel::ObjectsColumn, QHeaderView::Interactive);
        header->resizeSection(FindingsModel::ObjectsColumn,
                              m_view->fontMetrics().horizontalAdvance(u'x') * 28);
    }
    updateState();
}

void FindingsDock::updateState()
{
    const int count = m_model ? m_model->rowCount() : 0;
    m_stack->setCurrentWidget(count > 0 ? static_cast<QWidget *>(m_view) : m_empty);
    setWindowTitle(count > 0 ? tr("Findings (%1)").arg(count) : tr("Findings"));
}

void FindingsDock::report(const QModelIndex &index)
{
    if (index.isValid())
        Q_EMIT findingActivated(index.data(FindingsModel::ObjectsRole).toStringList());
}

} // namespace Pilothouse
