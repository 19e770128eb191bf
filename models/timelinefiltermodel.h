#pragma once
// Lives on the GUI thread.

#include <QSet>
#include <QSortFilterProxyModel>
#include <QString>

namespace Pilothouse {

// Filters a TimelineModel by event source and by text. Until setSources() is
// called every source passes; after it, only the sources in the set do (an
// empty set hides everything). The text matches, case-insensitively, as a
// substring of the event's text, source or any of its object keys.
class TimelineFilterModel final : public QSortFilterProxyModel
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TimelineFilterModel)

public:
    explicit TimelineFilterModel(QObject *parent = nullptr);

    void setSources(const QSet<QString> &sources);
    void acceptAllSources();
    QSet<QString> sources() const { return m_sources; }
    bool acceptsAllSources() const { return m_allSources; }

    void setText(const QString &text);
    QString text() const { return m_text; }

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const override;

private:
    QSet<QString> m_sources;
    bool m_allSources = true;
    QString m_text;
};

} // namespace Pilothouse
