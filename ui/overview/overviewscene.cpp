#include "ui/overview/overviewscene.h"

#include "ui/overview/overviewcontent_p.h"
#include "ui/overview/overviewitems_p.h"

#include <QEvent>
#include <QGraphicsView>
#include <QSet>

#include <algorithm>

namespace Pilothouse {

using namespace Internal;

namespace {

constexpr qreal Margin = 16;
constexpr qreal ColumnWidth = 330;
constexpr qreal ColumnGap = 18;
constexpr qreal StackGap = 8;
constexpr qreal TileMinWidth = 150;
constexpr qreal TileGap = 10;

QString shapeOf(const ItemSpec &spec)
{
    return QString::number(int(spec.kind)) + u'|' + spec.parent;
}

// Everything the layout depends on; values never enter it.
QString structureOf(const OverviewContent &content, const OverviewStyle &style)
{
    QString s = style.font.toString() + u'\n' + content.columns.join(u'|') + u'\n';
    for (const ItemSpec &spec : content.items) {
        s += spec.key + u'|' + shapeOf(spec) + u'|' + QString::number(spec.row) + u'|' +
             spec.column + u'|' + QString::number(spec.card.rows()) + u'|' + spec.from + u'|' +
             spec.to + u'\n';
    }
    return s;
}

} // namespace

OverviewScene::OverviewScene(QObject *parent)
    : QGraphicsScene(parent)
{
    const QList<QPair<QString, QString>> bands = {
        {QStringLiteral("postgres"), tr("PostgreSQL · replication")},
        {QStringLiteral("etcd"), tr("etcd")},
        {QStringLiteral("pgpool"), tr("PgPool")},
        {QStringLiteral("proxy"), tr("Proxy · domain → route → service → backends")},
        {QStringLiteral("app"), tr("App replicas")},
    };
    for (const auto &b : bands) {
        auto *band = new OverviewBandItem(b.second);
        band->setZValue(-5);
        addItem(band);
        m_bands.insert(b.first, band);
    }
    setItemIndexMethod(QGraphicsScene::NoIndex);
    connect(this, &QGraphicsScene::selectionChanged, this, &OverviewScene::onSelectionChanged);
}

OverviewScene::~OverviewScene()
{
    // Items read the style while they go; clear them while it still exists.
    m_selecting = true;
    clear();
}

const OverviewStyle &OverviewScene::style() const
{
    if (!m_style || m_styleKey != palette().cacheKey()) {
        m_style = std::make_unique<OverviewStyle>(OverviewStyle::fromPalette(palette(), font()));
        m_styleKey = palette().cacheKey();
    }
    return *m_style;
}

bool OverviewScene::event(QEvent *e)
{
    if (e->type() == QEvent::PaletteChange || e->type() == QEvent::FontChange) {
        m_style.reset();
        if (e->type() == QEvent::FontChange)
            m_structure.clear(); // rows change height: lay out again at the next sync
        update();
    }
    return QGraphicsScene::event(e);
}

void OverviewScene::sync(const ClusterSnapshot &snapshot, const QDateTime &now)
{
    const OverviewContent content = buildOverviewContent(snapshot, now);
    m_taskHosts.clear();
    for (const TaskState &t : snapshot.tasks)
        m_taskHosts.insert(t.id, QStringLiteral("host:") + t.hostname);

    m_selecting = true;
    apply(content);
    const QString structure = structureOf(content, style());
    if (structure != m_structure) {
        layout(content);
        m_structure = structure;
    }
    m_selecting = false;
    onSelectionChanged(); // items that went away were deselected
}

void OverviewScene::dropItem(OverviewItem *item)
{
    // Rows inside a card go with it.
    const QList<QGraphicsItem *> children = item->childItems();
    for (QGraphicsItem *child : children) {
        if (auto *o = qgraphicsitem_cast<OverviewItem *>(child)) {
            m_items.remove(o->key());
            m_itemShape.remove(o->key());
        }
    }
    m_items.remove(item->key());
    m_itemShape.remove(item->key());
    delete item;
}

void OverviewScene::apply(const OverviewContent &content)
{
    QHash<QString, const ItemSpec *> wanted;
    for (const ItemSpec &spec : content.items)
        wanted.insert(spec.key, &spec);

    // Gone, or now of another kind or inside another card: remove (cards first
    // take their rows with them).
    const QStringList existing = m_items.keys();
    for (const QString &key : existing) {
        OverviewItem *item = m_items.value(key);
        if (!item)
            continue;
        const ItemSpec *spec = wanted.value(key);
        if (!spec || shapeOf(*spec) != m_itemShape.value(key))
            dropItem(item);
    }

    for (const ItemSpec &spec : content.items) {
        OverviewItem *item = m_items.value(spec.key);
        if (!item) {
            switch (spec.kind) {
            case ItemKind::PgpoolBackend:
            case ItemKind::Certificate:
                item = new OverviewRowItem(spec.key);
                break;
            case ItemKind::EtcdQuorum:
                item = new OverviewBadgeItem(spec.key);
                break;
            case ItemKind::Replication:
                item = new OverviewEdgeItem(spec.key);
                item->setZValue(1);
                break;
            default:
                item = new OverviewCardItem(spec.key);
                break;
            }
            if (!spec.parent.isEmpty()) {
                OverviewItem *parent = m_items.value(spec.parent);
                Q_ASSERT(parent); // cards come before their rows
                item->setParentItem(parent);
            } else {
                addItem(item);
            }
            m_items.insert(spec.key, item);
            m_itemShape.insert(spec.key, shapeOf(spec));
        }
        switch (spec.kind) {
        case ItemKind::PgpoolBackend:
        case ItemKind::Certificate:
            static_cast<OverviewRowItem *>(item)->setCells(spec.cells, spec.rowTone);
            break;
        case ItemKind::EtcdQuorum:
            static_cast<OverviewBadgeItem *>(item)->setChip(spec.chip);
            break;
        case ItemKind::Replication:
            static_cast<OverviewEdgeItem *>(item)->setLook(spec.edge);
            break;
        default:
            static_cast<OverviewCardItem *>(item)->setCard(spec.card);
            break;
        }
        item->setInfo(spec.info);
    }
    m_bands.value(QStringLiteral("pgpool"))
        ->setNote(content.pgpoolNote, content.pgpoolNoteTone, content.pgpoolNoteGlyph);
}

void OverviewScene::layout(const OverviewContent &content)
{
    ++m_layoutCount;
    const OverviewStyle &st = style();
    const qreal row = Paint::rowHeight(st);
    const qreal pad = Paint::Padding;
    const auto cardHeight = [&](int rows) {
        return rows * row + 2 * pad - 2;
    };
    const qsizetype columns = qMax<qsizetype>(1, content.columns.size());
    const qreal width = 2 * Margin + columns * ColumnWidth + (columns - 1) * ColumnGap;
    const auto columnX = [&](const QString &column) {
        const qsizetype i = qMax<qsizetype>(0, content.columns.indexOf(column));
        return Margin + i * (ColumnWidth + ColumnGap);
    };
    const qreal bandWidth = width - 2 * Margin - 8;

    qreal y = Margin + 8;
    const qreal laneTop = Margin;

    // Cards of one kind, stacked in their column in the builder's (sorted) order.
    const auto place = [&](ItemKind kind) {
        QHash<QString, qreal> columnY;
        qreal bottom = y;
        for (const ItemSpec &spec : content.items) {
            if (spec.kind != kind || !spec.parent.isEmpty())
                continue;
            OverviewItem *item = m_items.value(spec.key);
            const qreal top = columnY.value(spec.column, y);
            const qreal h = cardHeight(spec.card.rows());
            item->setPos(columnX(spec.column), top);
            item->setSize(QSizeF(ColumnWidth, h));
            columnY.insert(spec.column, top + h + StackGap);
            bottom = qMax(bottom, top + h + StackGap);
        }
        return bottom;
    };
    const auto band = [&](const char *name) {
        OverviewBandItem *b = m_bands.value(QLatin1String(name));
        b->setPos(Margin + 4, y);
        b->setWidth(bandWidth);
        y += row + 4;
        return b;
    };

    y = place(ItemKind::Host) + 2;
    band("postgres");
    y = place(ItemKind::Postgres);

    // Replication links: down from the upstream's bottom into a channel below
    // the nodes, across, and up into the standby. Per upstream and side, the
    // nearest standby takes the highest channel so that no two links cross.
    struct Edge
    {
        OverviewEdgeItem *item;
        QRectF from;
        QRectF to;
        int side;
        int rank = 0;
        int ofSide = 1;
    };
    QList<Edge> edges;
    qreal nodesBottom = y - StackGap;
    for (const ItemSpec &spec : content.items) {
        if (spec.kind != ItemKind::Replication)
            continue;
        OverviewItem *from = m_items.value(spec.from);
        OverviewItem *to = m_items.value(spec.to);
        auto *item = static_cast<OverviewEdgeItem *>(m_items.value(spec.key));
        if (!from || !to) {
            item->setRoute({}, {});
            continue;
        }
        const QRectF fr(from->pos(), from->size());
        const QRectF tor(to->pos(), to->size());
        edges.append({item, fr, tor, tor.center().x() >= fr.center().x() ? 1 : -1});
        nodesBottom = qMax(nodesBottom, qMax(fr.bottom(), tor.bottom()));
    }
    int channels = 0;
    for (Edge &e : edges) {
        for (const Edge &o : std::as_const(edges)) {
            if (&o == &e || o.from != e.from || o.side != e.side)
                continue;
            ++e.ofSide;
            const qreal de = qAbs(e.to.center().x() - e.from.center().x());
            const qreal dob = qAbs(o.to.center().x() - o.from.center().x());
            if (dob < de || (dob == de && o.to.top() < e.to.top()))
                ++e.rank;
        }
        channels = qMax(channels, e.rank + 1);
    }
    const qreal channelGap = row + 6;
    for (const Edge &e : std::as_const(edges)) {
        const qreal cy = nodesBottom + 14 + e.rank * channelGap;
        const qreal sx = e.from.center().x() + e.side * (14 + (e.ofSide - 1 - e.rank) * 18);
        const qreal tx = e.to.center().x() - e.side * 14;
        QList<QPointF> points{{sx, e.from.bottom()}, {sx, cy}, {tx, cy}, {tx, e.to.bottom()}};
        e.item->setRoute(points, QPointF((sx + tx) / 2, cy));
    }
    y = nodesBottom + (channels > 0 ? 14 + channels * channelGap : 8);

    OverviewBandItem *etcdBand = band("etcd");
    if (OverviewItem *badge = m_items.value(QStringLiteral("etcd")))
        badge->setPos(etcdBand->pos().x() + etcdBand->titleWidth() + 12, etcdBand->pos().y() - 1);
    y += 2;
    y = place(ItemKind::EtcdMember);
    band("pgpool");
    y = place(ItemKind::Pgpool);
    band("proxy");
    y = place(ItemKind::Route);

    // Rows inside cards.
    for (const ItemSpec &spec : content.items) {
        if (spec.parent.isEmpty())
            continue;
        OverviewItem *item = m_items.value(spec.key);
        const OverviewItem *parent = m_items.value(spec.parent);
        item->setPos(pad, pad - 2 + spec.row * row);
        item->setSize(QSizeF(parent->size().width() - 2 * pad, row));
    }

    // Host columns behind everything placed so far.
    while (m_lanes.size() < content.columns.size()) {
        auto *lane = new OverviewLaneItem;
        lane->setZValue(-10);
        addItem(lane);
        m_lanes.append(lane);
    }
    while (m_lanes.size() > content.columns.size())
        delete m_lanes.takeLast();
    for (qsizetype i = 0; i < m_lanes.size(); ++i)
        m_lanes.at(i)->setRect(
            QRectF(columnX(content.columns.at(i)) - 6, laneTop, ColumnWidth + 12, y - laneTop));

    y += 10;
    band("app");
    const qreal available = width - 2 * Margin;
    const int perRow = qMax(1, int((available + TileGap) / (TileMinWidth + TileGap)));
    const qreal tileWidth = (available - (perRow - 1) * TileGap) / perRow;
    int index = 0;
    qreal tileHeight = cardHeight(2);
    for (const ItemSpec &spec : content.items) {
        if (spec.kind != ItemKind::App)
            continue;
        OverviewItem *item = m_items.value(spec.key);
        tileHeight = cardHeight(spec.card.rows());
        item->setSize(QSizeF(tileWidth, tileHeight));
        item->setPos(Margin + (index % perRow) * (tileWidth + TileGap),
                     y + (index / perRow) * (tileHeight + TileGap));
        ++index;
    }
    if (index > 0)
        y += ((index + perRow - 1) / perRow) * (tileHeight + TileGap);
    setSceneRect(0, 0, width, y + Margin);
}

QStringList OverviewScene::keys() const
{
    QStringList out = m_items.keys();
    std::sort(out.begin(), out.end(), naturalLess);
    return out;
}

QStringList OverviewScene::selectedKeys() const
{
    QStringList out;
    const QList<QGraphicsItem *> selected = selectedItems();
    for (QGraphicsItem *i : selected) {
        if (auto *o = qgraphicsitem_cast<OverviewItem *>(i))
            out.append(o->key());
    }
    std::sort(out.begin(), out.end(), naturalLess);
    return out;
}

void OverviewScene::selectKeys(const QStringList &keys)
{
    m_selecting = true;
    clearSelection();
    QRectF visible;
    for (const QString &key : keys) {
        OverviewItem *item = m_items.value(key);
        if (!item && key.startsWith(u"task:"))
            item = m_items.value(m_taskHosts.value(key.mid(5)));
        if (!item)
            continue;
        item->setSelected(true);
        visible = visible.united(item->sceneBoundingRect());
    }
    m_selecting = false;
    if (!visible.isEmpty()) {
        const QList<QGraphicsView *> views = this->views();
        for (QGraphicsView *v : views)
            v->ensureVisible(visible, 24, 24);
    }
    onSelectionChanged();
}

void OverviewScene::onSelectionChanged()
{
    if (m_selecting)
        return;
    const QStringList keys = selectedKeys();
    if (keys == m_lastSelection)
        return;
    m_lastSelection = keys;
    Q_EMIT selectionKeysChanged(keys);
}

QList<QPair<QString, QString>> OverviewScene::properties(const QString &key) const
{
    const OverviewItem *item = m_items.value(key);
    return item ? item->info().properties : QList<QPair<QString, QString>>{};
}

QString OverviewScene::summary(const QString &key) const
{
    const OverviewItem *item = m_items.value(key);
    return item ? item->info().summary : QString();
}

bool OverviewScene::isStale(const QString &key) const
{
    const OverviewItem *item = m_items.value(key);
    return item && item->info().stale;
}

QString OverviewScene::toolTip(const QString &key) const
{
    const OverviewItem *item = m_items.value(key);
    return item ? item->info().tooltip : QString();
}

QGraphicsItem *OverviewScene::item(const QString &key) const
{
    return m_items.value(key);
}

} // namespace Pilothouse
