#include "ui/overview/overviewitems_p.h"
#include "ui/overview/overviewscene.h"

#include <QCursor>
#include <QFontMetricsF>
#include <QPainter>
#include <QPainterPathStroker>
#include <QStyleOptionGraphicsItem>

namespace Pilothouse::Internal {
namespace {

const OverviewStyle &styleOf(const QGraphicsItem *item)
{
    if (auto *scene = qobject_cast<OverviewScene *>(item->scene()))
        return scene->style();
    static const OverviewStyle fallback = OverviewStyle::fromPalette(QPalette(), QFont());
    return fallback;
}

constexpr qreal SelectionMargin = 4;

} // namespace

OverviewItem::OverviewItem(const QString &key, QGraphicsItem *parent)
    : QGraphicsItem(parent)
    , m_key(key)
{
    setFlag(ItemIsSelectable);
    setCursor(Qt::PointingHandCursor);
    setAcceptHoverEvents(true);
}

void OverviewItem::hoverEnterEvent(QGraphicsSceneHoverEvent *event)
{
    m_hovered = true;
    update();
    QGraphicsItem::hoverEnterEvent(event);
}

void OverviewItem::hoverLeaveEvent(QGraphicsSceneHoverEvent *event)
{
    m_hovered = false;
    update();
    QGraphicsItem::hoverLeaveEvent(event);
}

void OverviewItem::setInfo(const ItemInfo &info)
{
    if (info == m_info)
        return;
    if (info.tooltip != m_info.tooltip)
        setToolTip(info.tooltip);
    m_info = info;
}

void OverviewItem::setSize(const QSizeF &size)
{
    if (size == m_size)
        return;
    prepareGeometryChange();
    m_size = size;
}

QRectF OverviewItem::boundingRect() const
{
    return QRectF(QPointF(), m_size)
        .adjusted(-SelectionMargin, -SelectionMargin, SelectionMargin, SelectionMargin);
}

const OverviewStyle &OverviewItem::style() const
{
    return styleOf(this);
}

void OverviewCardItem::setCard(const Card &card)
{
    if (card == m_card)
        return;
    m_card = card;
    update();
}

void OverviewCardItem::paint(QPainter *painter, const QStyleOptionGraphicsItem *, QWidget *)
{
    const QRectF r(QPointF(), m_size);
    Paint::card(painter, r, m_card, style(), isSelected());
    if (isHovered() && !isSelected())
        Paint::hover(painter, r, style(), 6);
}

void OverviewRowItem::setCells(const QList<Cell> &cells, Tone tone)
{
    if (cells == m_cells && tone == m_tone)
        return;
    m_cells = cells;
    m_tone = tone;
    update();
}

void OverviewRowItem::paint(QPainter *painter, const QStyleOptionGraphicsItem *, QWidget *)
{
    const OverviewStyle &s = style();
    const QRectF r(QPointF(), m_size);
    if (m_tone == Tone::Warning || m_tone == Tone::Critical) {
        painter->save();
        painter->setRenderHint(QPainter::Antialiasing);
        painter->setPen(Qt::NoPen);
        painter->setBrush(s.fill(m_tone, info().stale));
        painter->drawRoundedRect(r, 3, 3);
        painter->restore();
    }
    if (isSelected())
        Paint::selection(painter, r.adjusted(-2, 0, 2, 0), s, 4);
    else if (isHovered())
        Paint::hover(painter, r.adjusted(-2, 0, 2, 0), s, 4);
    Paint::cells(painter, r.adjusted(2, 0, -2, 0), m_cells, s, info().stale);
}

void OverviewBadgeItem::setChip(const Chip &chip)
{
    if (chip == m_chip)
        return;
    m_chip = chip;
    const QFontMetricsF fm(style().bold);
    const qreal h = Paint::rowHeight(style());
    setSize(QSizeF(fm.horizontalAdvance(chip.text) + h + 18, h));
    update();
}

void OverviewBadgeItem::paint(QPainter *painter, const QStyleOptionGraphicsItem *, QWidget *)
{
    const OverviewStyle &s = style();
    const QRectF r(QPointF(), m_size);
    const QColor color = s.tone(m_chip.tone);
    painter->save();
    painter->setRenderHint(QPainter::Antialiasing);
    painter->setPen(QPen(color, 1.4));
    painter->setBrush(s.fill(m_chip.tone == Tone::Ok ? Tone::Neutral : m_chip.tone, false));
    painter->drawRoundedRect(r.adjusted(0.7, 0.7, -0.7, -0.7), r.height() / 2, r.height() / 2);
    painter->restore();
    if (isSelected())
        Paint::selection(painter, r.adjusted(-2, -2, 2, 2), s, r.height() / 2 + 2);
    else if (isHovered())
        Paint::hover(painter, r.adjusted(-2, -2, 2, 2), s, r.height() / 2 + 2);
    const qreal g = r.height() - 8;
    Paint::glyph(painter, QRectF(r.left() + 8, r.top() + 4, g, g), m_chip.glyph, color, s);
    Paint::text(painter, r.adjusted(g + 14, 0, -6, 0), m_chip.text, s.bold,
                m_chip.tone == Tone::Ok ? s.text : color);
}

void OverviewEdgeItem::setRoute(const QList<QPointF> &points, const QPointF &labelCenter)
{
    if (points == m_points && labelCenter == m_labelCenter)
        return;
    prepareGeometryChange();
    m_points = points;
    m_labelCenter = labelCenter;
}

void OverviewEdgeItem::setLook(const EdgeLook &look)
{
    if (look == m_look)
        return;
    if (look.label != m_look.label)
        prepareGeometryChange();
    m_look = look;
    update();
}

QRectF OverviewEdgeItem::labelRect() const
{
    if (m_look.label.isEmpty())
        return {};
    const QFontMetricsF fm(style().small);
    const qreal h = Paint::rowHeight(style()) - 2;
    const qreal w = fm.horizontalAdvance(m_look.label) + (m_look.glyph != Glyph::None ? h : 0) + 16;
    return QRectF(m_labelCenter.x() - w / 2, m_labelCenter.y() - h / 2, w, h);
}

QRectF OverviewEdgeItem::boundingRect() const
{
    QRectF r;
    for (const QPointF &p : m_points)
        r = r.united(QRectF(p, QSizeF(1, 1)));
    return r.united(labelRect()).adjusted(-8, -8, 8, 8);
}

QPainterPath OverviewEdgeItem::shape() const
{
    QPainterPath line;
    if (!m_points.isEmpty())
        line.moveTo(m_points.first());
    for (qsizetype i = 1; i < m_points.size(); ++i)
        line.lineTo(m_points.at(i));
    QPainterPathStroker stroker;
    stroker.setWidth(8);
    QPainterPath out = stroker.createStroke(line);
    out.addRect(labelRect());
    return out;
}

void OverviewEdgeItem::paint(QPainter *painter, const QStyleOptionGraphicsItem *, QWidget *)
{
    if (m_points.size() < 2)
        return;
    const OverviewStyle &s = style();
    const QColor color = m_look.stale ? s.dimText : s.tone(m_look.tone);
    painter->save();
    painter->setRenderHint(QPainter::Antialiasing);
    if (isSelected()) {
        QColor haloColor = s.highlight;
        haloColor.setAlphaF(0.35f);
        QPen halo(haloColor, 8);
        halo.setJoinStyle(Qt::RoundJoin);
        painter->setPen(halo);
        painter->drawPolyline(m_points.constData(), int(m_points.size()));
    }
    QPen pen(color, (m_look.tone == Tone::Ok ? 1.6 : 2.2) + (isHovered() ? 0.8 : 0));
    pen.setJoinStyle(Qt::RoundJoin);
    if (m_look.dashed)
        pen.setDashPattern({4, 3});
    painter->setPen(pen);
    painter->drawPolyline(m_points.constData(), int(m_points.size()));

    // Arrowhead into the standby.
    const QPointF tip = m_points.last();
    const QPointF from = m_points.at(m_points.size() - 2);
    QLineF dir(tip, from);
    dir.setLength(9);
    QLineF left = dir;
    left.setAngle(dir.angle() + 28);
    QLineF right = dir;
    right.setAngle(dir.angle() - 28);
    QPolygonF head;
    head << tip << left.p2() << right.p2();
    painter->setPen(Qt::NoPen);
    painter->setBrush(color);
    painter->drawPolygon(head);

    const QRectF label = labelRect();
    if (!label.isEmpty()) {
        painter->setPen(QPen(m_look.tone == Tone::Ok || m_look.stale ? s.border : color, 1));
        painter->setBrush(s.fill(m_look.tone, m_look.stale));
        painter->drawRoundedRect(label, label.height() / 2, label.height() / 2);
        if (isSelected())
            Paint::selection(painter, label.adjusted(-2, -2, 2, 2), s, label.height() / 2 + 2);
        QRectF t = label.adjusted(8, 0, -6, 0);
        if (m_look.glyph != Glyph::None) {
            const qreal g = label.height() - 7;
            Paint::glyph(painter, QRectF(t.left(), label.center().y() - g / 2, g, g), m_look.glyph,
                         color, s);
            t.setLeft(t.left() + g + 5);
        }
        Paint::text(painter, t, m_look.label, s.small,
                    m_look.tone == Tone::Ok && !m_look.stale ? s.text : color);
    }
    painter->restore();
}

OverviewBandItem::OverviewBandItem(const QString &title, QGraphicsItem *parent)
    : QGraphicsItem(parent)
    , m_title(title)
{}

const OverviewStyle &OverviewBandItem::style() const
{
    return styleOf(this);
}

void OverviewBandItem::setWidth(qreal width)
{
    if (width == m_width)
        return;
    prepareGeometryChange();
    m_width = width;
}

void OverviewBandItem::setNote(const QString &note, Tone tone, Glyph glyph)
{
    if (note == m_note && tone == m_tone && glyph == m_glyph)
        return;
    m_note = note;
    m_tone = tone;
    m_glyph = glyph;
    update();
}

qreal OverviewBandItem::titleWidth() const
{
    return QFontMetricsF(style().bold).horizontalAdvance(m_title);
}

QRectF OverviewBandItem::boundingRect() const
{
    return QRectF(0, 0, m_width, Paint::rowHeight(style()));
}

void OverviewBandItem::paint(QPainter *painter, const QStyleOptionGraphicsItem *, QWidget *)
{
    const OverviewStyle &s = style();
    const QRectF r = boundingRect();
    const qreal tw = Paint::text(painter, r, m_title, s.bold, s.dimText);
    if (m_note.isEmpty())
        return;
    // Notes start after the title and any badge placed next to it (see the layout).
    const qreal g = r.height() - 8;
    const qreal x = r.left() + tw + 14;
    const QColor color = s.tone(m_tone);
    Paint::glyph(painter, QRectF(x, r.top() + 4, g, g), m_glyph, color, s);
    Paint::text(painter, QRectF(x + g + 6, r.top(), r.right() - x - g - 6, r.height()), m_note,
                s.bold, color);
}

void OverviewLaneItem::setRect(const QRectF &rect)
{
    if (rect == m_rect)
        return;
    prepareGeometryChange();
    m_rect = rect;
}

void OverviewLaneItem::paint(QPainter *painter, const QStyleOptionGraphicsItem *, QWidget *)
{
    const OverviewStyle &s = styleOf(this);
    painter->save();
    painter->setRenderHint(QPainter::Antialiasing);
    painter->setPen(Qt::NoPen);
    painter->setBrush(s.lane);
    painter->drawRoundedRect(m_rect, 10, 10);
    painter->restore();
}

} // namespace Pilothouse::Internal
