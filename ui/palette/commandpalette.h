#pragma once
// Lives on the GUI thread.

#include "ui/palette/paletteentry.h"

#include <QWidget>

class QLabel;
class QLineEdit;
class QListView;
class QModelIndex;

namespace Pilothouse {

class PaletteEntryModel;

// A frameless popup over the window to jump to any host, service or node
// (objectName "commandPalette"): a query line and the matching entries, best
// first. Keyboard: typing filters, Up/Down (and Page Up/Down) choose, Enter
// activates, Escape closes; a click activates too, a click elsewhere closes.
// Construct it with the window as parent (a popup needs one to sit over);
// the window binds Ctrl+K and acts on activated(). Entries may be replaced
// while it is open: the chosen row follows its key.
class CommandPalette final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(CommandPalette)

public:
    explicit CommandPalette(QWidget *parent = nullptr);

    void setEntries(const QList<PaletteEntry> &entries);
    // Shows the palette centred near the top of `over` (the parent widget
    // when null) with an empty query and the focus in the query line.
    void popup(QWidget *over = nullptr);

    // The key of the chosen row, empty when nothing matches.
    QString currentKey() const;
    PaletteEntryModel *model() const { return m_model; }

Q_SIGNALS:
    void activated(const QString &key);

protected:
    bool eventFilter(QObject *watched, QEvent *event) override;
    void paintEvent(QPaintEvent *event) override;

private:
    void queryChanged(const QString &text);
    void moveCurrent(int delta, bool wrap);
    void activate(const QModelIndex &index);
    void fitHeight();

    PaletteEntryModel *m_model = nullptr;
    QLineEdit *m_query = nullptr;
    QListView *m_list = nullptr;
    QLabel *m_empty = nullptr;
    QLabel *m_hint = nullptr;
};

} // namespace Pilothouse
