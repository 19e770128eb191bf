#include "ui/docks/timelinedock.h"

#include "models/timelinefiltermodel.h"
#include "models/timelinemodel.h"

#include <QCheckBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QScrollBar>
#include <QStackedWidget>
#include <QTreeView>
#include <QVBoxLayout>

namespace Pilothouse {

TimelineDock::TimelineDock(QWidget *parent)
    : QDockWidget(tr("Timeline"), parent)
{
    setObjectName(QStringLiteral("timelineDock"));

    m_filter = new TimelineFilterModel(this);

    m_text = new QLineEdit;
    m_text->setObjectName(QStringLiteral("timelineFilter"));
    m_text->setPlaceholderText(tr("Filter events: text or object, e.g. pg-2"));
    m_text->setClearButtonEnabled(true);
    connect(m_text, &QLineEdit::textChanged, m_filter, &TimelineFilterModel::setText);

    auto *bar = new QHBoxLayout;
    bar->setContentsMargins(0, 0, 0, 0);
    bar->addWidget(m_text, 1);
    for (const QString &source : knownSources()) {
        auto *toggle = new QCheckBox;
        toggle->setObjectName(QStringLiteral("timelineSource_") + source);
        toggle->setText(source);
        toggle->setCheckable(true);
        toggle->setChecked(true);
        toggle->setToolTip(tr("Show %1 events").arg(source));
        connect(toggle, &QCheckBox::toggled, this, &TimelineDock::applySources);
        m_toggles.insert(source, toggle);
        bar->addWidget(toggle);
    }

    m_view = new QTreeView;
    m_view->setObjectName(QStringLiteral("timelineView"));
    m_view->setRootIsDecorated(false);
    m_view->setUniformRowHeights(true); // thousands of rows
    m_view->setAllColumnsShowFocus(true);
    m_view->setAlternatingRowColors(true);
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setSelectionMode(QAbstractItemView::SingleSelection);
    m_view->setAccessibleName(tr("Timeline"));
    m_view->setModel(m_filter);
    connect(m_view, &QAbstractItemView::clicked, this, [this](const QModelIndex &index) {
        Q_EMIT eventActivated(index.data(TimelineModel::ObjectsRole).toStringList());
    });

    m_empty = new QLabel;
    m_empty->setObjectName(QStringLiteral("timelineEmpty"));
    m_empty->setAlignment(Qt::AlignCenter);
    m_empty->setWordWrap(true);
    m_empty->setForegroundRole(QPalette::PlaceholderText);
    m_empty->setMargin(12);

    m_stack = new QStackedWidget;
    m_stack->addWidget(m_view);
    m_stack->addWidget(m_empty);

    auto *content = new QWidget;
    auto *layout = new QVBoxLayout(content);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->setSpacing(4);
    layout->addLayout(bar);
    layout->addWidget(m_stack, 1);
    setWidget(content);

    // Newest first: while a person reads further down, arriving events must
    // not push the rows they read out of view.
    connect(m_filter, &QAbstractItemModel::rowsAboutToBeInserted, this,
            &TimelineDock::rememberTopRow);
    connect(m_filter, &QAbstractItemModel::rowsInserted, this, &TimelineDock::keepTopRow);
    connect(m_filter, &QAbstractItemModel::rowsInserted, this, &TimelineDock::updateState);
    connect(m_filter, &QAbstractItemModel::rowsRemoved, this, &TimelineDock::updateState);
    connect(m_filter, &QAbstractItemModel::modelReset, this, &TimelineDock::updateState);
    connect(m_filter, &QAbstractItemModel::layoutChanged, this, &TimelineDock::updateState);

    QHeaderView *header = m_view->header();
    header->setStretchLastSection(true);
    const QFontMetrics metrics = m_view->fontMetrics();
    header->setMinimumSectionSize(metrics.horizontalAdvance(u'x') * 4);
    header->setDefaultSectionSize(metrics.horizontalAdvance(QStringLiteral("severity")) + 40);
    header->resizeSection(TimelineModel::TimeColumn,
                          metrics.horizontalAdvance(QStringLiteral("88:88:88")) + 24);
    updateState();
}

QAbstractButton *TimelineDock::sourceToggle(const QString &source) const
{
    return m_toggles.value(source);
}

QStringList TimelineDock::knownSources()
{
    return {QStringLiteral("repmgr"), QStringLiteral("swarm"), QStringLiteral("finding"),
            QStringLiteral("change")};
}

void TimelineDock::setModel(TimelineModel *model)
{
    if (m_model == model)
        return;
    m_model = model;
    m_filter->setSourceModel(model);
    QHeaderView *header = m_view->header();
    const QFontMetrics metrics = m_view->fontMetrics();
    header->resizeSection(TimelineModel::TimeColumn,
                          metrics.horizontalAdvance(QStringLiteral("88:88:88")) + 24);
    header->resizeSection(TimelineModel::SourceColumn,
                          metrics.horizontalAdvance(QStringLiteral("finding")) + 24);
    header->resizeSection(TimelineModel::SeverityColumn,
                          metrics.horizontalAdvance(QStringLiteral("Critical")) + 44);
    updateState();
}

void TimelineDock::applySources()
{
    QSet<QString> shown;
    for (auto it = m_toggles.cbegin(); it != m_toggles.cend(); ++it) {
        if (it.value()->isChecked())
            shown.insert(it.key());
    }
    // Everything on also lets through sources that have no toggle yet.
    if (shown.size() == m_toggles.size())
        m_filter->acceptAllSources();
    else
        m_filter->setSources(shown);
}

void TimelineDock::rememberTopRow()
{
    const bool atNewest = m_view->verticalScrollBar()->value() == 0;
    m_topRow = atNewest ? QPersistentModelIndex() : QPersistentModelIndex(m_view->indexAt({1, 1}));
}

void TimelineDock::keepTopRow()
{
    if (m_topRow.isValid())
        m_view->scrollTo(m_topRow, QAbstractItemView::PositionAtTop);
    m_topRow = QPersistentModelIndex();
}

void TimelineDock::updateState()
{
    const int total = m_model ? m_model->rowCount() : 0;
    const int shown = m_filter->rowCount();
    setWindowTitle(shown == total ? tr("Timeline")
                                  : tr("Timeline (%1 of %2 shown)").arg(shown).arg(total));
    if (shown > 0) {
        m_stack->setCurrentWidget(m_view);
    } else {
        m_empty->setText(total == 0 ? tr("No events yet")
                                    : tr("None of the %n events match the filter", nullptr, total));
        m_stack->setCurrentWidget(m_empty);
    }
}

} // namespace Pilothouse
