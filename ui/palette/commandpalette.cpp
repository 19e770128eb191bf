#include "ui/palette/commandpalette.h"

#include "ui/palette/paletteentrymodel.h"

#include <QApplication>
#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QPainter>
#include <QScreen>
#include <QStyledItemDelegate>
#include <QVBoxLayout>

namespace Pilothouse {
namespace {

constexpr int MaxVisibleRows = 10;
constexpr int IconSize = 16;
constexpr int Padding = 10;

int rowHeight(const QFontMetrics &metrics)
{
    return std::max(metrics.height(), IconSize) + 12;
}

QColor blend(const QColor &a, const QColor &b, qreal t)
{
    return QColor::fromRgbF(float(a.redF() * (1 - t) + b.redF() * t),
                            float(a.greenF() * (1 - t) + b.greenF() * t),
                            float(a.blueF() * (1 - t) + b.blueF() * t));
}

// One row: kind icon, label with the matched letters in bold, the detail in a
// quieter colour, and the kind as a tag on the right (so it is never told by
// the icon alone).
class PaletteDelegate final : public QStyledItemDelegate
{
public:
    using QStyledItemDelegate::QStyledItemDelegate;

    QSize sizeHint(const QStyleOptionViewItem &option, const QModelIndex &) const override
    {
        return {std::max(option.rect.width(), 200), rowHeight(option.fontMetrics)};
    }

    void paint(QPainter *painter, const QStyleOptionViewItem &option,
               const QModelIndex &index) const override
    {
        QStyleOptionViewItem opt = option;
        initStyleOption(&opt, index);
        const QWidget *widget = opt.widget;
        QStyle *style = widget ? widget->style() : QApplication::style();
        // The palette owns the keyboard while it is open: always draw the
        // chosen row as active.
        opt.state |= QStyle::State_Active;
        opt.text.clear();
        opt.icon = QIcon();
        style->drawControl(QStyle::CE_ItemViewItem, &opt, painter, widget);

        const bool selected = opt.state & QStyle::State_Selected;
        const QPalette &pal = opt.palette;
        const QColor text =
            pal.color(QPalette::Active, selected ? QPalette::HighlightedText : QPalette::Text);
        const QColor back =
            pal.color(QPalette::Active, selected ? QPalette::Highlight : QPalette::Base);
        const QColor quiet = blend(text, back, 0.38);

        painter->save();
        QRect r = opt.rect.adjusted(Padding, 0, -Padding, 0);
        const QRect iconRect(r.left(), r.center().y() - IconSize / 2 + 1, IconSize, IconSize);
        index.data(Qt::DecorationRole).value<QIcon>().paint(painter, iconRect);
        r.setLeft(iconRect.right() + 9);

        // Kind tag, right-aligned.
        QFont small = opt.font;
        small.setPointSizeF(opt.font.pointSizeF() * 0.85);
        const QFontMetrics smallMetrics(small);
        const QString kind =
            PaletteEntryModel::kindText(index.data(PaletteEntryModel::KindRole).toString());
        const int tagWidth = smallMetrics.horizontalAdvance(kind) + 12;
        const int tagHeight = smallMetrics.height() + 2;
        const QRectF tag(r.right() - tagWidth, r.center().y() - tagHeight / 2.0 + 0.5, tagWidth,
                         tagHeight);
        painter->setRenderHint(QPainter::Antialiasing);
        painter->setPen(QPen(quiet, 1));
        painter->setBrush(Qt::NoBrush);
        painter->drawRoundedRect(tag.adjusted(0.5, 0.5, -0.5, -0.5), 4, 4);
        painter->setFont(small);
        painter->setPen(selected ? text : quiet);
        painter->drawText(tag, Qt::AlignCenter, kind);
        r.setRight(int(tag.left()) - 12);

        // Label, matched letters in bold.
        const QString label = index.data(Qt::DisplayRole).toString();
        const QList<int> matches =
            index.data(PaletteEntryModel::LabelMatchesRole).value<QList<int>>();
        QFont bold = opt.font;
        bold.setBold(true);
        painter->setPen(text);
        int x = r.left();
        for (qsizetype start = 0; start < label.size() && x < r.right();) {
            const bool matched = matches.contains(int(start));
            qsizetype end = start + 1;
            while (end < label.size() && matches.contains(int(end)) == matched)
                ++end;
            const QString run = label.mid(start, end - start);
            const QFont &font = matched ? bold : opt.font;
            painter->setFont(font);
            const QRect runRect(x, r.top(), r.right() - x, r.height());
            painter->drawText(runRect, Qt::AlignLeft | Qt::AlignVCenter,
                              QFontMetrics(font).elidedText(run, Qt::ElideRight, runRect.width()));
            x += QFontMetrics(font).horizontalAdvance(run);
            start = end;
        }

        // Detail, elided into what is left.
        const QString detail = index.data(PaletteEntryModel::DetailRole).toString();
        const QRect detailRect(x + 14, r.top(), r.right() - x - 14, r.height());
        if (!detail.isEmpty() && detailRect.width() > 24) {
            painter->setFont(opt.font);
            painter->setPen(quiet);
            painter->drawText(
                detailRect, Qt::AlignLeft | Qt::AlignVCenter,
                opt.fontMetrics.elidedText(detail, Qt::ElideRight, detailRect.width()));
        }
        painter->restore();
    }
};

} // namespace

CommandPalette::CommandPalette(QWidget *parent)
    : QWidget(parent, Qt::Popup | Qt::FramelessWindowHint)
    , m_model(new PaletteEntryModel(this))
{
    setObjectName(QStringLiteral("commandPalette"));
    // A top-level popup takes the window's palette and font, so it follows
    // light and dark like the rest.
    setAttribute(Qt::WA_WindowPropagation);

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(8, 8, 8, 6);
    layout->setSpacing(6);

    m_query = new QLineEdit(this);
    m_query->setObjectName(QStringLiteral("commandPaletteQuery"));
    m_query->setPlaceholderText(tr("Go to a host, service, PostgreSQL node, route…"));
    QFont queryFont = m_query->font();
    queryFont.setPointSizeF(queryFont.pointSizeF() * 1.15);
    m_query->setFont(queryFont);
    m_query->setMinimumHeight(QFontMetrics(queryFont).height() + 14);
    m_query->installEventFilter(this);
    layout->addWidget(m_query);

    m_list = new QListView(this);
    m_list->setObjectName(QStringLiteral("commandPaletteList"));
    m_list->setModel(m_model);
    m_list->setItemDelegate(new PaletteDelegate(m_list));
    // The query line keeps the keyboard; the list only shows the choice.
    m_list->setFocusPolicy(Qt::NoFocus);
    m_list->setFrameShape(QFrame::NoFrame);
    m_list->setUniformItemSizes(true);
    m_list->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    m_list->setSelectionMode(QAbstractItemView::SingleSelection);
    m_list->setEditTriggers(QAbstractItemView::NoEditTriggers);
    layout->addWidget(m_list);
    connect(m_list, &QListView::clicked, this, &CommandPalette::activate);

    m_empty = new QLabel(tr("Nothing matches."), this);
    m_empty->setObjectName(QStringLiteral("commandPaletteEmpty"));
    m_empty->setAlignment(Qt::AlignCenter);
    m_empty->setMinimumHeight(rowHeight(fontMetrics()));
    m_empty->setForegroundRole(QPalette::PlaceholderText);
    m_empty->hide();
    layout->addWidget(m_empty);

    m_hint = new QLabel(tr("↑↓ choose    ↵ go    Esc close"), this);
    m_hint->setObjectName(QStringLiteral("commandPaletteHint"));
    m_hint->setAlignment(Qt::AlignRight | Qt::AlignVCenter);
    QFont hintFont = m_hint->font();
    hintFont.setPointSizeF(hintFont.pointSizeF() * 0.85);
    m_hint->setFont(hintFont);
    m_hint->setForegroundRole(QPalette::PlaceholderText);
    layout->addWidget(m_hint);

    connect(m_query, &QLineEdit::textChanged, this, &CommandPalette::queryChanged);
    resize(560, 200);
    fitHeight();
}

void CommandPalette::setEntries(const QList<PaletteEntry> &entries)
{
    m_model->setEntries(entries);
    if (!m_list->currentIndex().isValid() && m_model->rowCount() > 0)
        m_list->setCurrentIndex(m_model->index(0));
    fitHeight();
}

void CommandPalette::popup(QWidget *over)
{
    QWidget *anchor = over ? over : parentWidget();
    m_query->clear();
    queryChanged(QString());

    QScreen *screen = anchor ? anchor->screen() : QGuiApplication::primaryScreen();
    int width = 560;
    QPoint topLeft;
    if (anchor) {
        width = std::clamp(anchor->width() * 11 / 20, 420, 720);
        width = std::max(std::min(width, anchor->width() - 32), 300);
        topLeft = anchor->mapToGlobal(
            QPoint((anchor->width() - width) / 2, std::clamp(anchor->height() / 12, 12, 72)));
    } else if (screen) {
        const QRect area = screen->availableGeometry();
        topLeft = QPoint(area.center().x() - width / 2, area.top() + area.height() / 8);
    }
    resize(width, height());
    fitHeight();
    if (screen) {
        const QRect area = screen->availableGeometry();
        topLeft.setX(
            std::clamp(topLeft.x(), area.left(), std::max(area.left(), area.right() - width)));
        topLeft.setY(
            std::clamp(topLeft.y(), area.top(), std::max(area.top(), area.bottom() - height())));
    }
    move(topLeft);
    show();
    raise();
    activateWindow();
    m_query->setFocus(Qt::PopupFocusReason);
}

QString CommandPalette::currentKey() const
{
    return m_list->currentIndex().data(PaletteEntryModel::KeyRole).toString();
}

bool CommandPalette::eventFilter(QObject *watched, QEvent *event)
{
    if (watched != m_query || event->type() != QEvent::KeyPress)
        return QWidget::eventFilter(watched, event);
    const auto *key = static_cast<QKeyEvent *>(event);
    const int page = std::max(1, m_list->viewport()->height() / rowHeight(fontMetrics()) - 1);
    switch (key->key()) {
    case Qt::Key_Up:
    case Qt::Key_Backtab:
        moveCurrent(-1, true);
        return true;
    case Qt::Key_Down:
    case Qt::Key_Tab:
        moveCurrent(1, true);
        return true;
    case Qt::Key_PageUp:
        moveCurrent(-page, false);
        return true;
    case Qt::Key_PageDown:
        moveCurrent(page, false);
        return true;
    case Qt::Key_Return:
    case Qt::Key_Enter:
        activate(m_list->currentIndex());
        return true;
    case Qt::Key_Escape:
        hide();
        return true;
    default:
        return QWidget::eventFilter(watched, event);
    }
}

void CommandPalette::paintEvent(QPaintEvent *)
{
    QPainter painter(this);
    painter.fillRect(rect(), palette().color(QPalette::Window));
    painter.setPen(palette().color(QPalette::Dark));
    painter.drawRect(rect().adjusted(0, 0, -1, -1));
}

void CommandPalette::queryChanged(const QString &text)
{
    m_model->setQuery(text);
    if (m_model->rowCount() > 0) {
        m_list->setCurrentIndex(m_model->index(0));
        m_list->scrollToTop();
    }
    fitHeight();
}

void CommandPalette::moveCurrent(int delta, bool wrap)
{
    const int rows = m_model->rowCount();
    if (rows == 0)
        return;
    int row = m_list->currentIndex().row();
    if (row < 0)
        row = delta > 0 ? -1 : rows;
    row += delta;
    row = wrap ? ((row % rows) + rows) % rows : std::clamp(row, 0, rows - 1);
    const QModelIndex index = m_model->index(row);
    m_list->setCurrentIndex(index);
    m_list->scrollTo(index);
}

void CommandPalette::activate(const QModelIndex &index)
{
    if (!index.isValid())
        return;
    const QString key = index.data(PaletteEntryModel::KeyRole).toString();
    hide();
    Q_EMIT activated(key);
}

void CommandPalette::fitHeight()
{
    const int shown = std::min(m_model->rowCount(), MaxVisibleRows);
    m_list->setVisible(shown > 0);
    m_empty->setVisible(shown == 0);
    m_list->setFixedHeight(shown * rowHeight(m_list->fontMetrics()) + 2 * m_list->frameWidth());
    layout()->activate();
    resize(width(), layout()->sizeHint().height());
}

} // namespace Pilothouse
