#pragma once
// Lives on the GUI thread.

#include "models/clusterevent.h"

#include <QAbstractTableModel>
#include <QList>
#include <QSet>

namespace Pilothouse {

// What happened in the cluster, newest first. append() takes events as they
// arrive, drops those already shown (same ClusterEvent::key), inserts the
// rest where their time puts them (usually the top), and removes the oldest
// rows beyond capacity(): rows are only ever inserted or removed, never reset.
class TimelineModel final : public QAbstractTableModel
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TimelineModel)

public:
    enum Column { TimeColumn, SourceColumn, SeverityColumn, TextColumn, ColumnCount };
    enum Role {
        ObjectsRole = Qt::UserRole + 1, // QStringList, on every column
        RawValueRole,                   // QDateTime (UTC), source, severity as int, text
        SourceRole,                     // QString, on every column
        KeyRole,                        // QString, on every column
    };
    static constexpr int DefaultCapacity = 5000;

    explicit TimelineModel(QObject *parent = nullptr);

    void append(const QList<ClusterEvent> &events);
    void clear();

    int capacity() const { return m_capacity; }
    // Removes the oldest rows at once when lowered.
    void setCapacity(int capacity);

    ClusterEvent event(int row) const { return m_events.at(row); }

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

private:
    static QString keyOf(const ClusterEvent &event);
    void trim();

    QList<ClusterEvent> m_events; // newest first
    QSet<QString> m_keys;
    int m_capacity = DefaultCapacity;
};

} // namespace Pilothouse
