#include "ui/overview/overviewview.h"

#include "ui/overview/overviewscene.h"

#include <QEvent>
#include <QGraphicsView>
#include <QHeaderView>
#include <QLabel>
#include <QSplitter>
#include <QTreeWidget>
#include <QVBoxLayout>

#include <algorithm>

namespace Pilothouse {

OverviewView::OverviewView(QWidget *parent)
    : QWidget(parent)
{
    m_scene = new OverviewScene(this);
    m_scene->setPalette(palette());
    m_scene->setFont(font());

    m_view = new QGraphicsView(m_scene);
    m_view->setObjectName(QStringLiteral("overviewGraphicsView"));
    m_view->setRenderHints(QPainter::Antialiasing | QPainter::TextAntialiasing);
    m_view->setAlignment(Qt::AlignHCenter | Qt::AlignTop);
    m_view->setDragMode(QGraphicsView::RubberBandDrag);
    m_view->setFrameShape(QFrame::NoFrame);

    auto *panel = new QWidget;
    panel->setObjectName(QStringLiteral("overviewSidePanel"));
    m_title = new QLabel(panel);
    m_title->setObjectName(QStringLiteral("overviewSelectionTitle"));
    QFont bold = m_title->font();
    bold.setBold(true);
    m_title->setFont(bold);
    m_title->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_summary = new QLabel(panel);
    m_summary->setObjectName(QStringLiteral("overviewSelectionSummary"));
    m_summary->setWordWrap(true);
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_properties = new QTreeWidget(panel);
    m_properties->setObjectName(QStringLiteral("overviewProperties"));
    m_properties->setColumnCount(2);
    m_properties->setHeaderLabels({tr("Property"), tr("Value")});
    m_properties->setRootIsDecorated(false);
    m_properties->setAlternatingRowColors(true);
    m_properties->setWordWrap(true);
    m_properties->header()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
    m_properties->header()->setStretchLastSection(true);
    auto *panelLayout = new QVBoxLayout(panel);
    panelLayout->setContentsMargins(8, 8, 8, 8);
    panelLayout->addWidget(m_title);
    panelLayout->addWidget(m_summary);
    panelLayout->addWidget(m_properties, 1);

    m_splitter = new QSplitter(Qt::Horizontal, this);
    m_splitter->addWidget(m_view);
    m_splitter->addWidget(panel);
    m_splitter->setStretchFactor(0, 1);
    m_splitter->setStretchFactor(1, 0);
    m_splitter->setSizes({1100, 260});
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_splitter);

    connect(m_scene, &OverviewScene::selectionKeysChanged, this, &OverviewView::showProperties);
    connect(m_scene, &QGraphicsScene::sceneRectChanged, this, &OverviewView::fitWidth);
    m_view->viewport()->installEventFilter(this);
    showProperties();
}

bool OverviewView::eventFilter(QObject *watched, QEvent *event)
{
    if (watched == m_view->viewport() && event->type() == QEvent::Resize)
        fitWidth();
    return QWidget::eventFilter(watched, event);
}

void OverviewView::fitWidth()
{
    // All three host columns in view without scrolling sideways: scale down
    // (never up, never below legibility) when the viewport is narrower than
    // the scene. Only the view's transform changes; the items stay put.
    const double sceneWidth = m_scene->sceneRect().width();
    const double available = m_view->viewport()->width() - 4;
    if (sceneWidth <= 0 || available <= 0)
        return;
    const double scale = std::clamp(available / sceneWidth, MinimumScale, 1.0);
    if (qFuzzyCompare(m_view->transform().m11(), scale))
        return;
    m_view->setTransform(QTransform::fromScale(scale, scale));
}

void OverviewView::sync(const ClusterSnapshot &snapshot, const QDateTime &now)
{
    m_scene->sync(snapshot, now);
    showProperties();
}

void OverviewView::changeEvent(QEvent *event)
{
    if (event->type() == QEvent::PaletteChange)
        m_scene->setPalette(palette());
    else if (event->type() == QEvent::FontChange)
        m_scene->setFont(font());
    QWidget::changeEvent(event);
}

void OverviewView::showProperties()
{
    const QStringList keys = m_scene->selectedKeys();
    if (keys.isEmpty()) {
        m_title->setText(tr("Nothing selected"));
        m_summary->setText(tr("Select an item in the diagram to see its properties."));
    } else if (keys.size() == 1) {
        m_title->setText(keys.first());
        m_summary->setText(m_scene->summary(keys.first()));
    } else {
        m_title->setText(tr("%1 items selected").arg(keys.size()));
        m_summary->setText(keys.join(QStringLiteral(", ")));
    }

    // Same keys and property names as shown: change the values in place, so
    // that a 1 Hz sync neither flickers nor loses the scroll position.
    QStringList shape;
    QList<QList<QPair<QString, QString>>> all;
    for (const QString &key : keys) {
        all.append(m_scene->properties(key));
        shape.append(key);
        for (const auto &p : std::as_const(all.last()))
            shape.append(p.first);
    }
    const bool grouped = keys.size() > 1;
    if (shape != m_shownShape) {
        m_properties->clear();
        m_properties->setRootIsDecorated(grouped);
        for (qsizetype k = 0; k < keys.size(); ++k) {
            QTreeWidgetItem *parent = nullptr;
            if (grouped) {
                parent = new QTreeWidgetItem(m_properties, {keys.at(k)});
                parent->setFirstColumnSpanned(true);
                parent->setExpanded(true);
            }
            for (qsizetype i = 0; i < all.at(k).size(); ++i) {
                if (parent)
                    new QTreeWidgetItem(parent);
                else
                    new QTreeWidgetItem(m_properties);
            }
        }
        m_shownShape = shape;
    }
    for (qsizetype k = 0; k < keys.size(); ++k) {
        QTreeWidgetItem *parent = grouped ? m_properties->topLevelItem(int(k)) : nullptr;
        for (qsizetype i = 0; i < all.at(k).size(); ++i) {
            QTreeWidgetItem *row =
                parent ? parent->child(int(i)) : m_properties->topLevelItem(int(i));
            const auto &p = all.at(k).at(i);
            if (row->text(0) != p.first)
                row->setText(0, p.first);
            if (row->text(1) != p.second) {
                row->setText(1, p.second);
                row->setToolTip(1, p.second);
            }
        }
    }
}

} // namespace Pilothouse
