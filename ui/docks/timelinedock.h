#pragma once
// Lives on the GUI thread.

#include "models/timelinemodel.h"

#include <QDockWidget>
#include <QHash>
#include <QPersistentModelIndex>
#include <QPointer>
#include <QStringList>

class QLabel;
class QLineEdit;
class QModelIndex;
class QStackedWidget;
class QAbstractButton;
class QCheckBox;
class QTreeView;

namespace Pilothouse {

class TimelineFilterModel;

// What happened in the cluster, newest first: repmgr events, Swarm task and
// node events, findings and state changes, filtered by source toggles and text.
class TimelineDock final : public QDockWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TimelineDock)

public:
    explicit TimelineDock(QWidget *parent = nullptr);

    // The sources with a toggle: "repmgr", "swarm", "finding", "change".
    static QStringList knownSources();

    // Not owned. The filter stays when the model is switched.
    void setModel(TimelineModel *model);
    TimelineModel *model() const { return m_model; }
    TimelineFilterModel *filterModel() const { return m_filter; }
    QTreeView *view() const { return m_view; }
    QLineEdit *filterEdit() const { return m_text; }
    QAbstractButton *sourceToggle(const QString &source) const;

Q_SIGNALS:
    // An event was clicked or activated: the keys of the objects it concerns.
    void eventActivated(const QStringList &objects);

private:
    void applySources();
    void updateState();
    void rememberTopRow();
    void keepTopRow();

    QPointer<TimelineModel> m_model;
    TimelineFilterModel *m_filter = nullptr;
    QLineEdit *m_text = nullptr;
    QHash<QString, QCheckBox *> m_toggles;
    QStackedWidget *m_stack = nullptr;
    QTreeView *m_view = nullptr;
    QLabel *m_empty = nullptr;
    QPersistentModelIndex m_topRow; // while rows arrive, when scrolled away from the newest
};

} // namespace Pilothouse
