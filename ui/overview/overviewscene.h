#pragma once
// Lives on the GUI thread.

#include "models/clustersnapshot.h"

#include <QDateTime>
#include <QGraphicsScene>
#include <QHash>
#include <QPair>

#include <memory>

namespace Pilothouse {

namespace Internal {
class OverviewBandItem;
class OverviewItem;
class OverviewLaneItem;
struct OverviewContent;
struct OverviewStyle;
} // namespace Internal

// The cluster at a glance: hosts as columns (natural order of their names),
// and in each the layers that run there, top to bottom: the host (SSH,
// Swarm role, tasks), PostgreSQL nodes with the replication links below them,
// etcd members (quorum badge on the layer's title), pgpool instances with
// their view of every backend, proxy routes with their certificate; the app
// replicas as tiles across the bottom.
//
// Item keys are those of Finding::objects, plus:
//   repl:<standby>                       the replication link into a standby
//   etcd                                 the quorum badge (the key findings use)
//   pgpool:<task>/backend:<pg-name>      a row of a pgpool instance's backend grid
//   cert:<where>                         a route's certificate
//   route:<host>@<proxy>/cert            a route's certificate when none was read
//                                        through it (or another route shows it)
//
// Positions depend only on the layout rules (column, kind, sorted keys), never
// on values: sync() updates what items show in place and lays out again only
// when items appear or disappear.
class OverviewScene final : public QGraphicsScene
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(OverviewScene)

public:
    explicit OverviewScene(QObject *parent = nullptr);
    ~OverviewScene() override;

    // Updates items in place by key; `now` gives the age of stale values.
    void sync(const ClusterSnapshot &snapshot, const QDateTime &now);

    QStringList keys() const; // every keyed item's key, sorted
    QStringList selectedKeys() const;
    // Selects the items whose key is listed, clears the rest and scrolls the
    // views to them. "task:<id>" selects the host the task runs on.
    void selectKeys(const QStringList &keys);
    QList<QPair<QString, QString>> properties(const QString &key) const; // for the side panel
    // The item's visible state in words; the first word is stable for tests and
    // scripts: pg "primary"/"standby"/"down", repl "streaming"/"lagging"/"broken",
    // etcd member "leader"/"follower"/"unhealthy", pgpool "down" when it does not
    // answer and "; disagrees: ..." when it disagrees, app "healthy"/"unhealthy".
    // Stale values end with " (stale, 12 s ago)".
    QString summary(const QString &key) const;
    bool isStale(const QString &key) const;
    QString toolTip(const QString &key) const; // rich text shown on hover

    QGraphicsItem *item(const QString &key) const;    // nullptr when there is none
    int layoutCount() const { return m_layoutCount; } // how many times items were placed

    const Internal::OverviewStyle &style() const; // for the items: colours of the palette

Q_SIGNALS:
    void selectionKeysChanged(const QStringList &keys);

protected:
    bool event(QEvent *event) override;

private:
    void apply(const Internal::OverviewContent &content);
    void layout(const Internal::OverviewContent &content);
    void dropItem(Internal::OverviewItem *item);
    void onSelectionChanged();

    QHash<QString, Internal::OverviewItem *> m_items;
    QHash<QString, QString> m_itemShape; // key -> kind and parent: a change recreates the item
    QHash<QString, QString> m_taskHosts; // task id -> host key
    QList<Internal::OverviewLaneItem *> m_lanes;
    QHash<QString, Internal::OverviewBandItem *> m_bands;
    QString m_structure;
    int m_layoutCount = 0;
    bool m_selecting = false;
    QStringList m_lastSelection;
    mutable qint64 m_styleKey = -1;
    mutable std::unique_ptr<Internal::OverviewStyle> m_style;
};

} // namespace Pilothouse
