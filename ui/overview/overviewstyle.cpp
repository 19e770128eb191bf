#include "ui/overview/overviewstyle_p.h"

#include <QFontMetricsF>
#include <QPainter>
#include <QPainterPath>
#include <QtMath>

namespace Pilothouse::Internal {
namespace {

QColor mix(const QColor &a, const QColor &b, qreal t)
{
    return QColor::fromRgbF(float(a.redF() * (1 - t) + b.redF() * t),
                            float(a.greenF() * (1 - t) + b.greenF() * t),
                            float(a.blueF() * (1 - t) + b.blueF() * t));
}

} // namespace

OverviewStyle OverviewStyle::fromPalette(const QPalette &palette, const QFont &font)
{
    OverviewStyle s;
    s.palette = palette;
    s.base = palette.color(QPalette::Active, QPalette::Base);
    s.text = palette.color(QPalette::Active, QPalette::Text);
    s.dark = s.base.lightnessF() < 0.5;
    s.lane = mix(s.base, palette.color(QPalette::Active, QPalette::Window), s.dark ? 0.55 : 0.7);
    s.dimText = mix(s.text, s.base, 0.45);
    s.border = mix(s.text, s.base, s.dark ? 0.68 : 0.75);
    s.highlight = palette.color(QPalette::Active, QPalette::Highlight);
    // Fixed state hues, darker on light backgrounds and lighter on dark ones so
    // that text in them keeps its contrast.
    if (s.dark) {
        s.ok = QColor(0x69, 0xc7, 0x7d);
        s.info = QColor(0x74, 0xb6, 0xf0);
        s.warning = QColor(0xf2, 0xb8, 0x4b);
        s.critical = QColor(0xff, 0x78, 0x70);
        s.primary = QColor(0xb3, 0x9d, 0xfa);
        s.leader = QColor(0xf2, 0xc9, 0x4c);
    } else {
        s.ok = QColor(0x1f, 0x7a, 0x35);
        s.info = QColor(0x1c, 0x63, 0xa8);
        s.warning = QColor(0x9c, 0x5c, 0x00);
        s.critical = QColor(0xc0, 0x1f, 0x1f);
        s.primary = QColor(0x5b, 0x3c, 0xc4);
        s.leader = QColor(0xc2, 0x8a, 0x00);
    }
    s.font = font;
    s.bold = font;
    s.bold.setBold(true);
    s.small = font;
    s.small.setPointSizeF(font.pointSizeF() > 0 ? font.pointSizeF() * 0.9 : 8);
    return s;
}

QColor OverviewStyle::tone(Tone t) const
{
    switch (t) {
    case Tone::Neutral:
        return text;
    case Tone::Ok:
        return ok;
    case Tone::Info:
        return info;
    case Tone::Warning:
        return warning;
    case Tone::Critical:
        return critical;
    case Tone::Dim:
        return dimText;
    case Tone::Accent:
        return primary;
    }
    return text;
}

QColor OverviewStyle::fill(Tone t, bool stale) const
{
    if (stale)
        return lane;
    switch (t) {
    case Tone::Warning:
        return mix(base, warning, dark ? 0.10 : 0.07);
    case Tone::Critical:
        return mix(base, critical, dark ? 0.13 : 0.07);
    default:
        return base;
    }
}

QColor OverviewStyle::glyphColor(Glyph g, Tone t) const
{
    if (t != Tone::Neutral)
        return tone(t);
    switch (g) {
    case Glyph::Ok:
    case Glyph::Up:
        return ok;
    case Glyph::Warning:
        return warning;
    case Glyph::Critical:
    case Glyph::Down:
        return critical;
    case Glyph::Primary:
        return primary;
    case Glyph::Leader:
        return leader;
    default:
        return text;
    }
}

int Card::rows() const
{
    int n = 1;
    for (const Line &l : lines)
        n += l.rows;
    return n;
}

namespace Paint {

qreal rowHeight(const OverviewStyle &style)
{
    return qCeil(QFontMetricsF(style.font).height()) + 4;
}

void glyph(QPainter *p, const QRectF &box, Glyph glyph, const QColor &color,
           const OverviewStyle &style)
{
    if (glyph == Glyph::None)
        return;
    const qreal s = qMin(box.width(), box.height());
    const QRectF r(box.center().x() - s / 2, box.center().y() - s / 2, s, s);
    const QColor onColor = style.base;
    p->save();
    p->setRenderHint(QPainter::Antialiasing);
    QPen thin(color, qMax(1.0, s / 9));
    thin.setCapStyle(Qt::RoundCap);
    thin.setJoinStyle(Qt::RoundJoin);
    QPen mark(onColor, qMax(1.2, s / 7));
    mark.setCapStyle(Qt::RoundCap);
    mark.setJoinStyle(Qt::RoundJoin);
    switch (glyph) {
    case Glyph::None:
        break;
    case Glyph::Ok: {
        p->setPen(Qt::NoPen);
        p->setBrush(color);
        p->drawEllipse(r);
        p->setPen(mark);
        QPainterPath check;
        check.moveTo(r.left() + s * 0.27, r.top() + s * 0.52);
        check.lineTo(r.left() + s * 0.44, r.top() + s * 0.69);
        check.lineTo(r.left() + s * 0.74, r.top() + s * 0.34);
        p->setBrush(Qt::NoBrush);
        p->drawPath(check);
        break;
    }
    case Glyph::Warning: {
        QPainterPath tri;
        tri.moveTo(r.center().x(), r.top() + s * 0.04);
        tri.lineTo(r.right(), r.bottom() - s * 0.06);
        tri.lineTo(r.left(), r.bottom() - s * 0.06);
        tri.closeSubpath();
        p->setPen(Qt::NoPen);
        p->setBrush(color);
        p->drawPath(tri);
        p->setPen(mark);
        p->drawLine(QPointF(r.center().x(), r.top() + s * 0.36),
                    QPointF(r.center().x(), r.top() + s * 0.62));
        p->drawPoint(QPointF(r.center().x(), r.top() + s * 0.78));
        break;
    }
    case Glyph::Critical: {
        p->setPen(Qt::NoPen);
        p->setBrush(color);
        p->drawRoundedRect(r.adjusted(s * 0.04, s * 0.04, -s * 0.04, -s * 0.04), s * 0.18,
                           s * 0.18);
        p->setPen(mark);
        const qreal a = s * 0.3;
        p->drawLine(r.topLeft() + QPointF(a, a), r.bottomRight() - QPointF(a, a));
        p->drawLine(r.topRight() + QPointF(-a, a), r.bottomLeft() + QPointF(a, -a));
        break;
    }
    case Glyph::Unknown:
        p->setPen(thin);
        p->setBrush(Qt::NoBrush);
        p->drawEllipse(r.adjusted(s * 0.12, s * 0.12, -s * 0.12, -s * 0.12));
        break;
    case Glyph::Primary: {
        QPainterPath d;
        d.moveTo(r.center().x(), r.top());
        d.lineTo(r.right(), r.center().y());
        d.lineTo(r.center().x(), r.bottom());
        d.lineTo(r.left(), r.center().y());
        d.closeSubpath();
        p->setPen(Qt::NoPen);
        p->setBrush(color);
        p->drawPath(d);
        break;
    }
    case Glyph::Standby:
        p->setPen(thin);
        p->setBrush(Qt::NoBrush);
        p->drawEllipse(r.adjusted(s * 0.1, s * 0.1, -s * 0.1, -s * 0.1));
        p->setPen(Qt::NoPen);
        p->setBrush(color);
        p->drawEllipse(r.center(), s * 0.17, s * 0.17);
        break;
    case Glyph::Leader: {
        QPainterPath star;
        for (int i = 0; i < 10; ++i) {
            const qreal radius = (i % 2 == 0) ? s / 2 : s * 0.21;
            const qreal angle = -M_PI / 2 + i * M_PI / 5;
            const QPointF pt(r.center().x() + radius * qCos(angle),
                             r.center().y() + radius * qSin(angle) + s * 0.04);
            if (i == 0)
                star.moveTo(pt);
            else
                star.lineTo(pt);
        }
        star.closeSubpath();
        p->setPen(Qt::NoPen);
        p->setBrush(color);
        p->drawPath(star);
        break;
    }
    case Glyph::Follower:
        p->setPen(thin);
        p->setBrush(Qt::NoBrush);
        p->drawEllipse(r.center(), s * 0.28, s * 0.28);
        break;
    case Glyph::Up:
    case Glyph::Down: {
        QPainterPath tri;
        const bool up = glyph == Glyph::Up;
        const qreal top = r.top() + s * 0.15;
        const qreal bottom = r.bottom() - s * 0.15;
        tri.moveTo(r.center().x(), up ? top : bottom);
        tri.lineTo(r.right() - s * 0.08, up ? bottom : top);
        tri.lineTo(r.left() + s * 0.08, up ? bottom : top);
        tri.closeSubpath();
        p->setPen(Qt::NoPen);
        p->setBrush(color);
        p->drawPath(tri);
        break;
    }
    case Glyph::Lock: {
        const QRectF body(r.left() + s * 0.15, r.top() + s * 0.45, s * 0.7, s * 0.5);
        p->setPen(thin);
        p->setBrush(Qt::NoBrush);
        p->drawArc(QRectF(r.left() + s * 0.3, r.top() + s * 0.08, s * 0.4, s * 0.6), 0, 180 * 16);
        p->drawLine(QPointF(r.left() + s * 0.3, r.top() + s * 0.38),
                    QPointF(r.left() + s * 0.3, body.top()));
        p->drawLine(QPointF(r.left() + s * 0.7, r.top() + s * 0.38),
                    QPointF(r.left() + s * 0.7, body.top()));
        p->setPen(Qt::NoPen);
        p->setBrush(color);
        p->drawRoundedRect(body, s * 0.08, s * 0.08);
        break;
    }
    case Glyph::Clock:
        p->setPen(thin);
        p->setBrush(Qt::NoBrush);
        p->drawEllipse(r.adjusted(s * 0.1, s * 0.1, -s * 0.1, -s * 0.1));
        p->drawLine(r.center(), r.center() + QPointF(0, -s * 0.26));
        p->drawLine(r.center(), r.center() + QPointF(s * 0.2, 0));
        break;
    case Glyph::Host: {
        p->setPen(thin);
        p->setBrush(Qt::NoBrush);
        const QRectF top(r.left() + s * 0.1, r.top() + s * 0.12, s * 0.8, s * 0.34);
        const QRectF bottom(r.left() + s * 0.1, r.top() + s * 0.54, s * 0.8, s * 0.34);
        p->drawRoundedRect(top, s * 0.06, s * 0.06);
        p->drawRoundedRect(bottom, s * 0.06, s * 0.06);
        p->setPen(Qt::NoPen);
        p->setBrush(color);
        p->drawEllipse(QPointF(top.right() - s * 0.16, top.center().y()), s * 0.06, s * 0.06);
        p->drawEllipse(QPointF(bottom.right() - s * 0.16, bottom.center().y()), s * 0.06, s * 0.06);
        break;
    }
    }
    p->restore();
}

qreal text(QPainter *p, const QRectF &box, const QString &text, const QFont &font,
           const QColor &color, Qt::Alignment align)
{
    if (text.isEmpty() || box.width() <= 0)
        return 0;
    const QFontMetricsF fm(font);
    const QString shown = fm.elidedText(text, Qt::ElideRight, box.width());
    p->setFont(font);
    p->setPen(color);
    p->drawText(box, int(align) | Qt::TextSingleLine, shown);
    return fm.horizontalAdvance(shown);
}

void cells(QPainter *p, const QRectF &row, const QList<Cell> &cells, const OverviewStyle &style,
           bool stale)
{
    const qreal g = qMin(row.height() - 6, 11.0);
    for (const Cell &c : cells) {
        QRectF box(row.left() + c.x * row.width(), row.top(), c.width * row.width(), row.height());
        const QColor color = stale ? style.dimText : style.tone(c.tone);
        if (c.glyph != Glyph::None) {
            glyph(p, QRectF(box.left(), box.center().y() - g / 2, g, g), c.glyph,
                  stale ? color : style.glyphColor(c.glyph, c.tone), style);
            box.setLeft(box.left() + g + 4);
        }
        text(p, box.adjusted(0, 0, -3, 0), c.text, c.bold ? style.bold : style.font, color);
    }
}

void chips(QPainter *p, const QRectF &area, const QList<Chip> &chips, const OverviewStyle &style,
           bool stale)
{
    const QFontMetricsF fm(style.small);
    const qreal rowH = rowHeight(style);
    const qreal h = rowH - 4;
    const qreal g = qMin(h - 6, 9.0);
    const int maxRows = qMax(1, int(area.height() / rowH + 0.5));
    struct Placed
    {
        QRectF rect;
        int index;
    };
    QList<Placed> placed;
    qreal x = area.left();
    int rowIndex = 0;
    for (int i = 0; i < chips.size(); ++i) {
        const Chip &c = chips.at(i);
        const qreal w = fm.horizontalAdvance(c.text) + 12 + (c.glyph != Glyph::None ? g + 4 : 0);
        if (x + w > area.right() && x > area.left()) {
            ++rowIndex;
            x = area.left();
        }
        if (rowIndex >= maxRows)
            break;
        placed.append({QRectF(x, area.top() + rowIndex * rowH + 2, qMin(w, area.width()), h), i});
        x += w + 5;
    }
    int hidden = int(chips.size() - placed.size());
    const QString moreText = QStringLiteral("+%1");
    if (hidden > 0) {
        // Make room for "+N" on the last row.
        const qreal moreW = fm.horizontalAdvance(moreText.arg(hidden + 1)) + 8;
        while (!placed.isEmpty() && placed.last().rect.right() + 5 + moreW > area.right()) {
            placed.removeLast();
            ++hidden;
        }
    }
    p->save();
    p->setRenderHint(QPainter::Antialiasing);
    for (const Placed &pl : std::as_const(placed)) {
        const Chip &c = chips.at(pl.index);
        const QColor color = stale ? style.dimText : style.tone(c.tone);
        const QColor edge =
            (c.tone == Tone::Neutral || c.tone == Tone::Dim || c.tone == Tone::Ok || stale)
                ? style.border
                : color;
        p->setPen(QPen(edge, 1));
        p->setBrush(style.fill(c.tone, stale));
        p->drawRoundedRect(pl.rect, h / 2, h / 2);
        QRectF inner = pl.rect.adjusted(6, 0, -4, 0);
        if (c.glyph != Glyph::None) {
            glyph(p, QRectF(inner.left(), inner.center().y() - g / 2, g, g), c.glyph,
                  stale ? color : style.glyphColor(c.glyph, c.tone), style);
            inner.setLeft(inner.left() + g + 4);
        }
        text(p, inner, c.text, style.small,
             stale ? style.dimText
                   : (c.tone == Tone::Ok || c.tone == Tone::Neutral ? style.text : color));
    }
    if (hidden > 0) {
        const qreal x0 = placed.isEmpty() ? area.left() : placed.last().rect.right() + 5;
        const qreal y0 = placed.isEmpty() ? area.top() + 2 : placed.last().rect.top();
        text(p, QRectF(x0, y0, area.right() - x0, h), moreText.arg(hidden), style.small,
             style.dimText);
    }
    p->restore();
}

void selection(QPainter *p, const QRectF &rect, const OverviewStyle &style, qreal radius)
{
    p->save();
    p->setRenderHint(QPainter::Antialiasing);
    QColor fill = style.highlight;
    fill.setAlphaF(0.12f);
    p->setBrush(fill);
    p->setPen(QPen(style.highlight, 2.5));
    p->drawRoundedRect(rect, radius, radius);
    p->restore();
}

void hover(QPainter *p, const QRectF &rect, const OverviewStyle &style, qreal radius)
{
    p->save();
    p->setRenderHint(QPainter::Antialiasing);
    QColor edge = style.highlight;
    edge.setAlphaF(0.6f);
    p->setBrush(Qt::NoBrush);
    p->setPen(QPen(edge, 1.5));
    p->drawRoundedRect(rect.adjusted(0.75, 0.75, -0.75, -0.75), radius, radius);
    p->restore();
}

void card(QPainter *p, const QRectF &rect, const Card &card, const OverviewStyle &style,
          bool selected)
{
    const qreal row = rowHeight(style);
    const qreal radius = 6;
    const QColor toneColor = card.stale ? style.dimText : style.tone(card.tone);
    const QColor textColor = card.stale ? style.dimText : style.text;
    p->save();
    p->setRenderHint(QPainter::Antialiasing);
    QPen border(card.tone == Tone::Neutral || card.stale ? style.border : toneColor, 1.2);
    if (card.frame == Card::Frame::Dashed) {
        border.setStyle(Qt::DashLine);
        border.setWidthF(1.6);
    }
    p->setPen(border);
    p->setBrush(style.fill(card.tone, card.stale));
    const QRectF frame = rect.adjusted(0.6, 0.6, -0.6, -0.6);
    p->drawRoundedRect(frame, radius, radius);
    if (card.frame == Card::Frame::Double) {
        p->setBrush(Qt::NoBrush);
        p->drawRoundedRect(frame.adjusted(3, 3, -3, -3), radius - 2, radius - 2);
    }
    p->restore();
    if (selected)
        selection(p, rect.adjusted(-2, -2, 2, 2), style, radius + 2);

    const qreal pad = Padding;
    const qreal g = qMin(row - 4, 13.0);
    qreal left = rect.left() + pad + (card.frame == Card::Frame::Double ? 2 : 0);
    const qreal right = rect.right() - pad;
    qreal y = rect.top() + pad - 2;

    // Title row: glyph, title, subtitle; the age of stale values at the right.
    qreal titleRight = right;
    if (!card.age.isEmpty()) {
        const QFontMetricsF fm(style.small);
        const qreal w = fm.horizontalAdvance(card.age) + g + 4;
        const QRectF ageBox(right - w, y, w, row);
        glyph(p, QRectF(ageBox.left(), y + (row - g) / 2, g, g), Glyph::Clock, style.dimText,
              style);
        text(p, ageBox.adjusted(g + 4, 0, 0, 0), card.age, style.small, style.dimText);
        titleRight = ageBox.left() - 6;
    }
    if (card.glyph != Glyph::None) {
        glyph(p, QRectF(left, y + (row - g) / 2, g, g), card.glyph,
              card.stale ? toneColor : style.glyphColor(card.glyph, card.tone), style);
        left += g + 6;
    }
    const qreal titleW =
        text(p, QRectF(left, y, titleRight - left, row), card.title, style.bold, textColor);
    if (!card.subtitle.isEmpty())
        text(p, QRectF(left + titleW + 8, y, titleRight - left - titleW - 8, row), card.subtitle,
             style.small, style.dimText);
    y += row;

    const qreal lineLeft = rect.left() + pad + (card.frame == Card::Frame::Double ? 2 : 0);
    for (const Line &line : card.lines) {
        const QRectF box(lineLeft, y, right - lineLeft, row * line.rows);
        switch (line.kind) {
        case Line::Kind::Text: {
            QRectF t = box;
            const QColor c = card.stale
                                 ? style.dimText
                                 : (line.tone == Tone::Neutral ? textColor : style.tone(line.tone));
            if (line.glyph != Glyph::None) {
                const qreal lg = g - 2;
                glyph(p, QRectF(t.left() + 1, t.top() + (row - lg) / 2, lg, lg), line.glyph,
                      card.stale ? c : style.glyphColor(line.glyph, line.tone), style);
                t.setLeft(t.left() + lg + 6);
            }
            text(p, t, line.text, line.bold ? style.bold : style.font, c);
            break;
        }
        case Line::Kind::Chips:
            chips(p, box, line.chips, style, card.stale);
            break;
        case Line::Kind::Cells:
            cells(p, box, line.cells, style, card.stale);
            break;
        case Line::Kind::Spacer:
            break;
        }
        y += row * line.rows;
    }
}

} // namespace Paint

} // namespace Pilothouse::Internal
