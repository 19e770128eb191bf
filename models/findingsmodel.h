#pragma once
// Lives on the GUI thread.

#include "models/clustersnapshot.h"

#include <QAbstractTableModel>
#include <QIcon>
#include <QList>

namespace Pilothouse {

// The engine's findings, one row per finding, keyed by code + objects.
// setFindings() follows each poll by inserting, removing, moving and changing
// rows, never by a reset. Rows are ordered most severe first; within one
// severity a row keeps its place, and new rows join the end of their group,
// so a 1 Hz poll does not reshuffle the list.
class FindingsModel final : public QAbstractTableModel
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(FindingsModel)

public:
    enum Column { SeverityColumn, MessageColumn, ObjectsColumn, ColumnCount };
    enum Role {
        ObjectsRole = Qt::UserRole + 1, // QStringList, on every column
        RawValueRole,                   // severity as int, message, objects as QStringList
        KeyRole,                        // QString: code + objects, the row's identity
        CodeRole,                       // QString: the finding's code
    };

    explicit FindingsModel(QObject *parent = nullptr);

    void setFindings(const QList<Finding> &findings);
    Finding finding(int row) const { return m_findings.at(row); }

    // "code|object,object": what makes two findings the same row.
    static QString keyOf(const Finding &finding);
    // A shape per severity (circle "i", triangle "!", octagon "!") drawn at
    // any size, so the state never rests on colour alone.
    static QIcon severityIcon(Severity severity);
    static QString severityText(Severity severity);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

private:
    int rowOfKey(const QString &key, int from) const;

    QList<Finding> m_findings;
    QStringList m_keys; // m_keys[row] == keyOf(m_findings[row])
};

} // namespace Pilothouse
