#pragma once
// Lives on the GUI thread.

#include "models/clustersnapshot.h"

#include <QWidget>

class QGraphicsView;
class QLabel;
class QSplitter;
class QTreeWidget;

namespace Pilothouse {

class OverviewScene;

// The overview diagram with a side panel that lists the properties of what is
// selected in it. The panel follows the selection and every sync.
class OverviewView final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(OverviewView)

public:
    explicit OverviewView(QWidget *parent = nullptr);

    OverviewScene *scene() const { return m_scene; }
    QGraphicsView *graphicsView() const { return m_view; }
    void sync(const ClusterSnapshot &snapshot, const QDateTime &now);

    // The smallest zoom fitWidth() goes to; below it the view scrolls sideways.
    static constexpr double MinimumScale = 0.7;

protected:
    void changeEvent(QEvent *event) override;
    bool eventFilter(QObject *watched, QEvent *event) override;

private:
    void showProperties();
    void fitWidth();

    OverviewScene *m_scene = nullptr;
    QGraphicsView *m_view = nullptr;
    QSplitter *m_splitter = nullptr;
    QLabel *m_title = nullptr;
    QLabel *m_summary = nullptr;
    QTreeWidget *m_properties = nullptr;
    QStringList m_shownShape; // keys and property names the tree holds now
};

} // namespace Pilothouse
