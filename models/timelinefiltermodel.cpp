#include "models/timelinefiltermodel.h"

#include "models/timelinemodel.h"

namespace Pilothouse {

TimelineFilterModel::TimelineFilterModel(QObject *parent)
    : QSortFilterProxyModel(parent)
{
    setDynamicSortFilter(true);
}

void TimelineFilterModel::setSources(const QSet<QString> &sources)
{
    if (!m_allSources && sources == m_sources)
        return;
    m_sources = sources;
    m_allSources = false;
    invalidateFilter();
}

void TimelineFilterModel::acceptAllSources()
{
    if (m_allSources)
        return;
    m_allSources = true;
    m_sources.clear();
    invalidateFilter();
}

void TimelineFilterModel::setText(const QString &text)
{
    const QString trimmed = text.trimmed();
    if (trimmed == m_text)
        return;
    m_text = trimmed;
    invalidateFilter();
}

bool TimelineFilterModel::filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const
{
    const QAbstractItemModel *model = sourceModel();
    const QModelIndex index = model->index(sourceRow, TimelineModel::TextColumn, sourceParent);
    const QString source = index.data(TimelineModel::SourceRole).toString();
    if (!m_allSources && !m_sources.contains(source))
        return false;
    if (m_text.isEmpty())
        return true;
    if (index.data(Qt::DisplayRole).toString().contains(m_text, Qt::CaseInsensitive) ||
        source.contains(m_text, Qt::CaseInsensitive))
        return true;
    const QStringList objects = index.data(TimelineModel::ObjectsRole).toStringList();
    return std::any_of(objects.cbegin(), objects.cend(), [this](const QString &object) {
        return object.contains(m_text, Qt::CaseInsensitive);
    });
}

} // namespace Pilothouse
