#pragma once
// Lives on the GUI thread.

#include "models/clustersnapshot.h"
#include "models/inventory.h"

#include <QMainWindow>
#include <QMessageBox>
#include <QPointer>
#include <QSet>

#include <functional>

class QAbstractItemModel;
class QListWidget;
class QListWidgetItem;
class QStackedWidget;

namespace Pilothouse {

class ClusterView;
class CommandPalette;
class OperationRun;
class WelcomeView;

// The console's window: opened clusters on the left, the selected one (or
// the welcome page) in the middle. It shows models and emits intents; it
// never does I/O itself.
class MainWindow final : public QMainWindow
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(MainWindow)

public:
    explicit MainWindow(QWidget *parent = nullptr);

    WelcomeView *welcomeView() const { return m_welcome; }

    // Adds a page for the cluster, or shows it again if its path is open
    // (created is then false). The window owns the view.
    ClusterView *showCluster(const Inventory &inventory, bool *created = nullptr);
    ClusterView *clusterView(const QString &inventoryPath) const;
    ClusterView *currentCluster() const;
    QList<ClusterView *> clusterViews() const;
    // Removes the cluster's page; clusterClosed() tells the owner of its monitor.
    // While an operation on that cluster runs, asks first, as quitting does.
    void closeCluster(const QString &inventoryPath);
    CommandPalette *commandPalette() const { return m_palette; }
    void showCommandPalette();
    void showWelcome();
    // Non-modal: the event loop keeps running while it is shown.
    void showError(const QString &title, const QString &text);
    // What the list of open clusters says of one: an icon by the worst finding
    // (its shape differs, not only its colour) and, on hover, the summary and
    // how often its monitor polls.
    void setClusterHealth(const QString &inventoryPath, Severity worst, const QString &summary);
    void setClusterPollInterval(const QString &inventoryPath, int intervalMs);

    // Quits (quitApproved) unless an operation is running; then asks first:
    // keep it running, or cancel it and quit once it has stopped (a cancelled
    // operation leaves the cluster in a known state; a killed one may not).
    void requestQuit();

Q_SIGNALS:
    // Nothing is running (any more): the application may end.
    void quitApproved();
    void openInventoryRequested(const QString &path);
    void clusterClosed(const QString &path);

protected:
    void closeEvent(QCloseEvent *event) override;

private:
    void cancelRunningAndQuit();
    void askToCloseWhileRunning(const QString &inventoryPath);
    // The question asked before cutting operations short: `why` under `text`,
    // "Keep Running" (the default) and `cancelText`, which calls `onCancel`.
    QMessageBox *askWhileRunning(const QString &objectName, const QString &title,
                                 const QString &text, const QString &why, const QString &cancelText,
                                 const QString &cancelName, std::function<void()> onCancel);
    static QString titlesOf(const QList<OperationRun *> &runs);
    // Cancels the running operations on `cluster` (every one when empty) and
    // calls `then` once none runs any more: each has finished, or was
    // destroyed without finishing.
    void cancelThen(const QString &cluster, std::function<void()> then);
    void chooseInventory();
    void importAnsibleInventory();
    void paletteActivated(const QString &key);
    QListWidgetItem *clusterItem(const QString &inventoryPath) const;
    static void updateClusterToolTip(QListWidgetItem *item);

    QListWidget *m_clusters = nullptr;
    QStackedWidget *m_pages = nullptr;
    WelcomeView *m_welcome = nullptr;
    CommandPalette *m_palette = nullptr;
    QPointer<QMessageBox> m_quitQuestion;
    bool m_quitWhenStopped = false;
    QPointer<QMessageBox> m_closeQuestion;
    QSet<QString> m_closingWhenStopped; // clusters that close once their operations stopped
};

} // namespace Pilothouse
