#pragma once
// Lives on the GUI thread.

#include <QHash>
#include <QObject>

#include <memory>

namespace Pilothouse {

class ClusterSession;
class LabRunner;
class LabStepsModel;
class MainWindow;
class RecentClustersModel;

// Wires the engine to the ui: the window's intents start engine work, the
// engine's results fill the models the window shows.
class Application final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Application)

public:
    Application();
    ~Application() override;

    void show();
    MainWindow *window() const { return m_window.get(); }
    ClusterSession *session(const QString &inventoryPath) const;
    void openInventory(const QString &path);
    // Brings the local lab up (or attaches to it) and opens its inventory.
    void openLab();

private:
    void saveRecent();

    std::unique_ptr<MainWindow> m_window;
    LabRunner *m_lab = nullptr;
    LabStepsModel *m_labSteps = nullptr;
    RecentClustersModel *m_recent = nullptr;
    QHash<QString, ClusterSession *> m_sessions; // by inventory path
};

} // namespace Pilothouse
