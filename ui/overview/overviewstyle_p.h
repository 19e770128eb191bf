#pragma once
// Private to ui/overview. Values and painting helpers used on the GUI thread.
//
// What an overview item shows is a plain value (a Card, a list of Cells, an
// EdgeLook): sync() builds a new value, compares it with the item's current
// one and repaints only when it differs.

#include <QColor>
#include <QFont>
#include <QList>
#include <QPalette>
#include <QRectF>
#include <QString>

class QPainter;

namespace Pilothouse::Internal {

// The state a part of the diagram is in. Never shown by colour alone: every
// tone that matters comes with a Glyph and words.
enum class Tone { Neutral, Ok, Info, Warning, Critical, Dim, Accent };

enum class Glyph {
    None,
    Ok,       // filled circle with a check mark
    Warning,  // triangle with an exclamation mark
    Critical, // square with a cross
    Unknown,  // hollow circle
    Primary,  // filled diamond
    Standby,  // hollow circle with a dot
    Leader,   // star
    Follower, // small hollow circle
    Up,       // triangle pointing up
    Down,     // triangle pointing down
    Lock,     // padlock (certificates)
    Clock,    // stale values
    Host,     // a small server
};

// Colours derived from the widget palette plus a few fixed state hues, one set
// for light and one for dark palettes.
struct OverviewStyle
{
    QPalette palette;
    bool dark = false;
    QColor base;
    QColor lane;
    QColor text;
    QColor dimText;
    QColor border;
    QColor highlight;
    QColor ok;
    QColor info;
    QColor warning;
    QColor critical;
    QColor primary;
    QColor leader;
    QFont font;
    QFont bold;
    QFont small;

    static OverviewStyle fromPalette(const QPalette &palette, const QFont &font);
    QColor tone(Tone tone) const;
    // A glyph's colour: its tone's, or for a neutral tone the colour its shape stands for.
    QColor glyphColor(Glyph glyph, Tone tone) const;
    // The card's fill: the base, tinted a little towards a warning or critical state.
    QColor fill(Tone tone, bool stale) const;
};

struct Cell
{
    qreal x = 0; // fraction of the available width where the cell starts
    qreal width = 0;
    QString text;
    Glyph glyph = Glyph::None;
    Tone tone = Tone::Neutral;
    bool bold = false;
    bool operator==(const Cell &) const = default;
};

struct Chip
{
    QString text;
    Glyph glyph = Glyph::None;
    Tone tone = Tone::Neutral;
    bool operator==(const Chip &) const = default;
};

struct Line
{
    enum class Kind { Text, Chips, Cells, Spacer };
    Kind kind = Kind::Text;
    int rows = 1; // rows of the card this line takes (chips wrap, spacers hold child items)
    QString text;
    Glyph glyph = Glyph::None;
    Tone tone = Tone::Neutral;
    bool bold = false;
    QList<Chip> chips;
    QList<Cell> cells;
    bool operator==(const Line &) const = default;

    static Line plain(const QString &text, Tone tone = Tone::Neutral, Glyph glyph = Glyph::None)
    {
        Line l;
        l.text = text;
        l.tone = tone;
        l.glyph = glyph;
        return l;
    }
};

struct Card
{
    enum class Frame { Normal, Double, Dashed };
    QString title;
    QString subtitle; // right of the title, dim (an address, a host)
    Glyph glyph = Glyph::None;
    Tone tone = Tone::Neutral; // the border and the glyph
    Frame frame = Frame::Normal;
    bool stale = false;
    QString age; // "12 s ago": the values are old (the card is greyed unless the object is down)
    QList<Line> lines;
    bool operator==(const Card &) const = default;

    int rows() const;
};

struct EdgeLook
{
    Tone tone = Tone::Ok;
    bool dashed = false;
    bool stale = false;
    Glyph glyph = Glyph::None;
    QString label;
    bool operator==(const EdgeLook &) const = default;
};

namespace Paint {

constexpr qreal Padding = 7;

// Height of one text row of a card for the style's font.
qreal rowHeight(const OverviewStyle &style);
void glyph(QPainter *p, const QRectF &box, Glyph glyph, const QColor &color,
           const OverviewStyle &style);
// Draws text elided to the width; returns the width it took.
qreal text(QPainter *p, const QRectF &box, const QString &text, const QFont &font,
           const QColor &color, Qt::Alignment align = Qt::AlignLeft | Qt::AlignVCenter);
void cells(QPainter *p, const QRectF &row, const QList<Cell> &cells, const OverviewStyle &style,
           bool stale);
void chips(QPainter *p, const QRectF &area, const QList<Chip> &chips, const OverviewStyle &style,
           bool stale);
void card(QPainter *p, const QRectF &rect, const Card &card, const OverviewStyle &style,
          bool selected);
void selection(QPainter *p, const QRectF &rect, const OverviewStyle &style, qreal radius);
void hover(QPainter *p, const QRectF &rect, const OverviewStyle &style, qreal radius);

} // namespace Paint

} // namespace Pilothouse::Internal
