#pragma once
// Private to ui/overview. Graphics items of the overview; GUI thread only.
//
// Every keyed item is an OverviewItem: it knows its key, the words that
// describe its state (summary, properties, tooltip) and whether its values are
// stale. Its position is set by the scene's layout only; sync() changes what
// it shows, never where it is.

#include "ui/overview/overviewstyle_p.h"

#include <QGraphicsItem>
#include <QPair>

namespace Pilothouse::Internal {

struct ItemInfo
{
    QString summary;
    QList<QPair<QString, QString>> properties;
    QString tooltip;
    bool stale = false;
    bool operator==(const ItemInfo &) const = default;
};

class OverviewItem : public QGraphicsItem
{
public:
    enum { Type = UserType + 0x4f10 };

    explicit OverviewItem(const QString &key, QGraphicsItem *parent = nullptr);

    int type() const override { return Type; }
    const QString &key() const { return m_key; }
    const ItemInfo &info() const { return m_info; }
    void setInfo(const ItemInfo &info);

    QSizeF size() const { return m_size; }
    void setSize(const QSizeF &size);
    QRectF boundingRect() const override;

protected:
    const OverviewStyle &style() const;
    bool isHovered() const { return m_hovered; }
    void hoverEnterEvent(QGraphicsSceneHoverEvent *event) override;
    void hoverLeaveEvent(QGraphicsSceneHoverEvent *event) override;

    QSizeF m_size;

private:
    QString m_key;
    ItemInfo m_info;
    bool m_hovered = false;
};

// A box with a title row and lines: hosts, PostgreSQL nodes, etcd members,
// pgpool instances, routes, app replicas.
class OverviewCardItem final : public OverviewItem
{
public:
    using OverviewItem::OverviewItem;

    const Card &card() const { return m_card; }
    void setCard(const Card &card);
    void paint(QPainter *painter, const QStyleOptionGraphicsItem *option, QWidget *widget) override;

private:
    Card m_card;
};

// One row inside a card: a pgpool backend, a certificate.
class OverviewRowItem final : public OverviewItem
{
public:
    using OverviewItem::OverviewItem;

    void setCells(const QList<Cell> &cells, Tone tone);
    void paint(QPainter *painter, const QStyleOptionGraphicsItem *option, QWidget *widget) override;

private:
    QList<Cell> m_cells;
    Tone m_tone = Tone::Neutral;
};

// A pill with a glyph and a few words (the etcd quorum). Grows to the right.
class OverviewBadgeItem final : public OverviewItem
{
public:
    using OverviewItem::OverviewItem;

    void setChip(const Chip &chip);
    void paint(QPainter *painter, const QStyleOptionGraphicsItem *option, QWidget *widget) override;

private:
    Chip m_chip;
};

// A replication link: an orthogonal polyline from the upstream's bottom to the
// standby's bottom with an arrow, and a label sitting on its horizontal run.
class OverviewEdgeItem final : public OverviewItem
{
public:
    using OverviewItem::OverviewItem;

    void setRoute(const QList<QPointF> &points, const QPointF &labelCenter);
    void setLook(const EdgeLook &look);
    const EdgeLook &look() const { return m_look; }
    QRectF boundingRect() const override;
    QPainterPath shape() const override;
    void paint(QPainter *painter, const QStyleOptionGraphicsItem *option, QWidget *widget) override;

private:
    QRectF labelRect() const;

    QList<QPointF> m_points;
    QPointF m_labelCenter;
    EdgeLook m_look;
};

// A layer's title across the diagram, with an optional note in words (a
// disagreement between pgpool instances). Not selectable; no key.
class OverviewBandItem final : public QGraphicsItem
{
public:
    explicit OverviewBandItem(const QString &title, QGraphicsItem *parent = nullptr);

    void setWidth(qreal width);
    void setNote(const QString &note, Tone tone, Glyph glyph);
    qreal titleWidth() const;
    QRectF boundingRect() const override;
    void paint(QPainter *painter, const QStyleOptionGraphicsItem *option, QWidget *widget) override;

private:
    const OverviewStyle &style() const;

    QString m_title;
    QString m_note;
    Tone m_tone = Tone::Neutral;
    Glyph m_glyph = Glyph::None;
    qreal m_width = 0;
};

// The background of a host's column.
class OverviewLaneItem final : public QGraphicsItem
{
public:
    using QGraphicsItem::QGraphicsItem;

    void setRect(const QRectF &rect);
    QRectF boundingRect() const override { return m_rect; }
    void paint(QPainter *painter, const QStyleOptionGraphicsItem *option, QWidget *widget) override;

private:
    QRectF m_rect;
};

} // namespace Pilothouse::Internal
