#pragma once
// Lives on the GUI thread.

#include <QAbstractListModel>
#include <QDateTime>
#include <QList>

namespace Pilothouse {

// Inventories opened before, newest first, keyed by absolute path. The caller
// persists it (toVariant/fromVariant) so the model itself does no I/O.
class RecentClustersModel final : public QAbstractListModel
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RecentClustersModel)

public:
    enum Role { PathRole = Qt::UserRole + 1, NameRole, OpenedRole };
    static constexpr int MaxEntries = 10;

    explicit RecentClustersModel(QObject *parent = nullptr);

    // Moves (or adds) the entry to the top.
    void touch(const QString &path, const QString &name, const QDateTime &when);
    void remove(const QString &path);

    QVariantList toVariant() const;
    void fromVariant(const QVariantList &list);

    int rowCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;

private:
    struct Entry
    {
        QString path;
        QString name;
        QDateTime opened;
    };
    QList<Entry> m_entries;
};

} // namespace Pilothouse
