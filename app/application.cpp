#include "app/application.h"

#include "app/clustersession.h"
#include "app/inventory/inventoryloader.h"
#include "app/lab/labrunner.h"
#include "app/operationsbridge.h"
#include "models/labstepsmodel.h"
#include "models/recentclustersmodel.h"
#include "ui/mainwindow.h"
#include "ui/welcomeview.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QSettings>

namespace Pilothouse {
namespace {
const QString RecentKey = QStringLiteral("recentClusters");
}

Application::Application()
    : m_window(std::make_unique<MainWindow>())
    , m_lab(new LabRunner(this))
    , m_labSteps(new LabStepsModel(this))
    , m_recent(new RecentClustersModel(this))
{
    m_recent->fromVariant(QSettings().value(RecentKey).toList());
    WelcomeView *welcome = m_window->welcomeView();
    welcome->setRecentModel(m_recent);
    welcome->setLabStepsModel(m_labSteps);

    connect(m_window.get(), &MainWindow::openInventoryRequested, this, &Application::openInventory);
    connect(m_window.get(), &MainWindow::quitApproved, QCoreApplication::instance(),
            &QCoreApplication::quit, Qt::QueuedConnection);
    connect(m_window.get(), &MainWindow::clusterClosed, this,
            [this](const QString &path) { delete m_sessions.take(path); });
    connect(welcome, &WelcomeView::labUpRequested, this, &Application::openLab);
    connect(welcome, &WelcomeView::labCancelRequested, m_lab, &LabRunner::cancel);
    connect(m_lab, &LabRunner::stepStarted, m_labSteps, &LabStepsModel::stepStarted);
    connect(m_lab, &LabRunner::stepFinished, this,
            [this](int step, int, const QString &, double seconds) {
                m_labSteps->stepFinished(step, seconds);
            });
    connect(m_lab, &LabRunner::stepStarted, this, [this](int step, int total, const QString &name) {
        m_window->welcomeView()->setLabState(
            true, tr("Step %1 of %2: %3").arg(step).arg(total).arg(name));
    });
    connect(m_lab, &LabRunner::finished, this,
            [this](bool ok, const QString &inventory, const QString &error) {
                if (!ok) {
                    m_labSteps->failed();
                    m_window->welcomeView()->setLabState(
                        false, tr("The lab did not come up: %1").arg(error));
                    m_window->showError(tr("Local lab"),
                                        tr("The lab did not come up:\n%1").arg(error));
                    return;
                }
                m_window->welcomeView()->setLabState(
                    false, tr("The lab is up and healthy. Inventory: %1").arg(inventory));
                if (inventory.isEmpty())
                    m_window->showError(tr("Local lab"),
                                        tr("The lab is up but printed no inventory path."));
                else
                    openInventory(inventory);
            });
}

Application::~Application()
{
    // The sessions' monitors stop before the window (and the views they feed) go.
    qDeleteAll(m_sessions);
    m_sessions.clear();
    ClusterSession::waitForMonitors(3000);
}

void Application::show()
{
    m_window->show();
}

void Application::openInventory(const QString &path)
{
    Result<Inventory> loaded = InventoryLoader::loadFile(path);
    if (!loaded) {
        m_window->showError(tr("Cannot open the inventory"), loaded.error().toString());
        return;
    }
    const Inventory inventory = std::move(loaded).value();
    bool created = false;
    ClusterView *view = m_window->showCluster(inventory, &created);
    if (created) {
        auto *session = new ClusterSession(inventory, view, this);
        connect(session, &ClusterSession::problemFound, m_window.get(), &MainWindow::showError);
        connect(session, &ClusterSession::healthChanged, m_window.get(),
                [window = m_window.get(), path = inventory.path](Severity worst,
                                                                 const QString &summary) {
                    window->setClusterHealth(path, worst, summary);
                });
        connect(session, &ClusterSession::pollIntervalChanged, m_window.get(),
                [window = m_window.get(), path = inventory.path](int intervalMs) {
                    window->setClusterPollInterval(path, intervalMs);
                });
        m_window->setClusterPollInterval(inventory.path, session->pollIntervalMs());
        m_sessions.insert(inventory.path, session);
        new OperationsBridge(inventory, view, [session] { return session->lastSnapshot(); }, session);
    }
    m_recent->touch(inventory.path, inventory.displayName(), QDateTime::currentDateTime());
    saveRecent();
}

ClusterSession *Application::session(const QString &inventoryPath) const
{
    return m_sessions.value(inventoryPath);
}

void Application::openLab()
{
    if (m_lab->isRunning())
        return;
    m_labSteps->clear();
    m_window->showWelcome();
    m_window->welcomeView()->setLabState(true, tr("Starting or attaching to the local lab…"));
    m_lab->up();
}

void Application::saveRecent()
{
    QSettings().setValue(RecentKey, m_recent->toVariant());
}

} // namespace Pilothouse
