#pragma once
// Lives on the GUI thread.

#include "ui/palette/paletteentry.h"

#include <QAbstractListModel>
#include <QHash>
#include <QIcon>

namespace Pilothouse {

// The command palette's rows: the entries that match the query, best first.
//
// A query is split on white space; every term must match the label, the kind
// or the detail of an entry. A term scores by how it matches, best first:
// the whole text, a prefix, the start of a word ("02" in "swarm-02"), a
// substring, then the letters in order ("sw2" in "swarm-02", label and kind
// only). The label counts most, then the kind, then the detail. Ties keep the
// order setEntries() was given. An empty query shows every entry in that order.
//
// Rows are updated by key: changing the query or the entries removes, moves
// and inserts rows and reports changed ones, so a selection follows its entry
// and a refresh while the palette is open does not reset the view.
class PaletteEntryModel final : public QAbstractListModel
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(PaletteEntryModel)

public:
    enum Role {
        KeyRole = Qt::UserRole + 1,
        KindRole,
        DetailRole,
        ScoreRole,        // int, higher is better; 0 for an empty query
        LabelMatchesRole, // QList<int>: positions in the label the query matched
    };

    explicit PaletteEntryModel(QObject *parent = nullptr);

    // Entries with a key already seen earlier in the list are ignored.
    void setEntries(const QList<PaletteEntry> &entries);
    const QList<PaletteEntry> &entries() const { return m_entries; }

    void setQuery(const QString &query);
    QString query() const { return m_query; }

    QString keyAt(int row) const;
    int rowOfKey(const QString &key) const;

    // How well `query` matches `entry`; -1 when it does not. `labelMatches`
    // receives the matched positions in the label.
    static int score(const QString &query, const PaletteEntry &entry,
                     QList<int> *labelMatches = nullptr);

    // The kind as a person reads it ("PostgreSQL" for pg).
    static QString kindText(const QString &kind);

    int rowCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QHash<int, QByteArray> roleNames() const override;

private:
    struct Row
    {
        PaletteEntry entry;
        int score = 0;
        QList<int> labelMatches;
    };

    void refilter();
    QIcon iconFor(const QString &kind) const;

    QList<PaletteEntry> m_entries;
    QString m_query;
    QList<Row> m_rows;
    mutable QHash<QString, QIcon> m_icons;
};

} // namespace Pilothouse
