#include "ui/mainwindow.h"

#include "models/operationrun.h"
#include "ui/clusterview.h"
#include "ui/operations/operationsmenu.h"
#include "ui/palette/commandpalette.h"
#include "ui/welcomeview.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QDockWidget>
#include <QFileDialog>
#include <QIcon>
#include <QListWidget>
#include <QLocale>
#include <QMenuBar>
#include <QMessageBox>
#include <QPushButton>
#include <QStackedWidget>
#include <QStatusBar>

#include <memory>

namespace Pilothouse {
namespace {
constexpr int PathRole = Qt::UserRole + 1;
constexpr int SummaryRole = Qt::UserRole + 2;
constexpr int PollIntervalRole = Qt::UserRole + 3;
}

MainWindow::MainWindow(QWidget *parent)
    : QMainWindow(parent)
{
    setObjectName(QStringLiteral("mainWindow"));
    setWindowTitle(tr("Pilothouse"));
    setWindowIcon(QIcon(QStringLiteral(":/icons/pilothouse.svg")));
    resize(1200, 760);

    m_pages = new QStackedWidget(this);
    m_welcome = new WelcomeView(m_pages);
    m_pages->addWidget(m_welcome);
    setCentralWidget(m_pages);

    auto *dock = new QDockWidget(tr("Clusters"), this);
    dock->setObjectName(QStringLiteral("clustersDock"));
    dock->setFeatures(QDockWidget::DockWidgetMovable);
    m_clusters = new QListWidget(dock);
    m_clusters->setObjectName(QStringLiteral("clustersList"));
    auto *home = new QListWidgetItem(QIcon(QStringLiteral(":/icons/pilothouse.svg")), tr("Welcome"),
                                     m_clusters);
    home->setData(PathRole, QString());
    dock->setWidget(m_clusters);
    addDockWidget(Qt::LeftDockWidgetArea, dock);
    resizeDocks({dock}, {200}, Qt::Horizontal);
    connect(m_clusters, &QListWidget::currentRowChanged, m_pages, &QStackedWidget::setCurrentIndex);

    QMenu *file = menuBar()->addMenu(tr("&File"));
    QAction *open = file->addAction(QIcon(QStringLiteral(":/icons/open.svg")),
                                    tr("&Open Inventory…"), this, &MainWindow::chooseInventory);
    open->setShortcut(QKeySequence::Open);
    file->addAction(tr("&Import an Ansible Inventory…"), this, &MainWindow::importAnsibleInventory);
    QAction *lab = file->addAction(QIcon(QStringLiteral(":/icons/lab.svg")),
                                   tr("Start or Attach to the &Local Lab"), m_welcome,
                                   &WelcomeView::labUpRequested);
    lab->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_L));
    QAction *close = file->addAction(tr("&Close Cluster"), this, [this] {
        if (ClusterView *view = currentCluster())
            closeCluster(view->property("inventoryPath").toString());
    });
    close->setShortcut(QKeySequence::Close);
    file->addSeparator();
    QAction *quit = file->addAction(tr("&Quit"), this, &MainWindow::requestQuit);
    quit->setShortcut(QKeySequence::Quit);
    QMenu *go = menuBar()->addMenu(tr("&Go"));
    QAction *palette = go->addAction(tr("&Jump To…"), this, &MainWindow::showCommandPalette);
    palette->setShortcuts({QKeySequence(Qt::CTRL | Qt::Key_K), QKeySequence(Qt::CTRL | Qt::Key_P)});
    palette->setShortcutContext(Qt::ApplicationShortcut);
    QAction *welcome = go->addAction(tr("&Welcome"), this, &MainWindow::showWelcome);
    welcome->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_0));
    QAction *next = go->addAction(tr("&Next Cluster"), this, [this] {
        m_clusters->setCurrentRow((m_clusters->currentRow() + 1) % m_clusters->count());
    });
    next->setShortcut(QKeySequence::NextChild);
    QAction *previous = go->addAction(tr("&Previous Cluster"), this, [this] {
        m_clusters->setCurrentRow((m_clusters->currentRow() + m_clusters->count() - 1) %
                                  m_clusters->count());
    });
    previous->setShortcut(QKeySequence::PreviousChild);

    m_palette = new CommandPalette(this);
    connect(m_palette, &CommandPalette::activated, this, &MainWindow::paletteActivated);

    QMenu *help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("&About Pilothouse"), this, [this] {
        QMessageBox::about(this, tr("About Pilothouse"),
                           tr("<b>Pilothouse %1</b><p>Operations console for a highly available "
                              "PostgreSQL cluster on Docker Swarm.</p>")
                               .arg(QApplication::applicationVersion()));
    });

    connect(m_welcome, &WelcomeView::openInventoryRequested, this, &MainWindow::chooseInventory);
    connect(m_welcome, &WelcomeView::importAnsibleRequested, this,
            &MainWindow::importAnsibleInventory);
    connect(m_welcome, &WelcomeView::recentRequested, this, &MainWindow::openInventoryRequested);
    statusBar()->showMessage(tr("No cluster open"));
    m_clusters->setCurrentRow(0);
}

void MainWindow::chooseInventory()
{
    auto *dialog = new QFileDialog(this, tr("Open inventory"), QString(),
                                   tr("Ansible YAML inventories (*.yaml *.yml);;All files (*)"));
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setFileMode(QFileDialog::ExistingFile);
    connect(dialog, &QFileDialog::fileSelected, this, &MainWindow::openInventoryRequested);
    dialog->open();
}

void MainWindow::importAnsibleInventory()
{
    auto *dialog = new QFileDialog(
        this, tr("Import an Ansible inventory"), QString(),
        tr("Ansible YAML inventories (hosts.yaml hosts.yml *.yaml *.yml);;All files (*)"));
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setFileMode(QFileDialog::ExistingFile);
    // The loader reads the seed's hosts.yaml as it is; a pilothouse: section is optional.
    connect(dialog, &QFileDialog::fileSelected, this, &MainWindow::openInventoryRequested);
    dialog->open();
}

ClusterView *MainWindow::showCluster(const Inventory &inventory, bool *created)
{
    if (ClusterView *view = clusterView(inventory.path)) {
        view->setInventory(inventory);
        m_pages->setCurrentWidget(view);
        m_clusters->setCurrentRow(m_pages->currentIndex());
        if (created)
            *created = false;
        return view;
    }
    auto *view = new ClusterView(m_pages);
    view->setObjectName(QStringLiteral("clusterView"));
    view->setProperty("inventoryPath", inventory.path);
    view->setInventory(inventory);
    m_pages->addWidget(view);
    auto *item = new QListWidgetItem(QIcon(QStringLiteral(":/icons/cluster.svg")),
                                     inventory.displayName(), m_clusters);
    item->setData(PathRole, inventory.path);
    item->setToolTip(inventory.path);
    m_clusters->setCurrentItem(item);
    statusBar()->showMessage(tr("Opened %1").arg(inventory.path));
    if (created)
        *created = true;
    return view;
}

ClusterView *MainWindow::clusterView(const QString &inventoryPath) const
{
    for (int row = 1; row < m_clusters->count(); ++row) {
        if (m_clusters->item(row)->data(PathRole).toString() == inventoryPath)
            return static_cast<ClusterView *>(m_pages->widget(row));
    }
    return nullptr;
}

ClusterView *MainWindow::currentCluster() const
{
    return qobject_cast<ClusterView *>(m_pages->currentWidget());
}

QList<ClusterView *> MainWindow::clusterViews() const
{
    QList<ClusterView *> out;
    for (int row = 1; row < m_pages->count(); ++row)
        out.append(static_cast<ClusterView *>(m_pages->widget(row)));
    return out;
}

QListWidgetItem *MainWindow::clusterItem(const QString &inventoryPath) const
{
    for (int row = 1; row < m_clusters->count(); ++row) {
        if (m_clusters->item(row)->data(PathRole).toString() == inventoryPath)
            return m_clusters->item(row);
    }
    return nullptr;
}

void MainWindow::updateClusterToolTip(QListWidgetItem *item)
{
    QStringList lines{item->data(PathRole).toString()};
    const QString summary = item->data(SummaryRole).toString();
    if (!summary.isEmpty())
        lines.append(summary);
    const int interval = item->data(PollIntervalRole).toInt();
    if (interval > 0)
        lines.append(tr("polled every %1 s%2")
                         .arg(QLocale().toString(interval / 1000.0, 'g', 3),
                              interval > 1000 ? tr(" while another page is shown") : QString()));
    item->setToolTip(lines.join(u'\n'));
}

void MainWindow::setClusterHealth(const QString &inventoryPath, Severity worst,
                                  const QString &summary)
{
    QListWidgetItem *item = clusterItem(inventoryPath);
    if (!item)
        return;
    const QString icon = worst == Severity::Critical  ? QStringLiteral(":/icons/critical.svg")
                         : worst == Severity::Warning ? QStringLiteral(":/icons/warning.svg")
                                                      : QStringLiteral(":/icons/ok.svg");
    item->setIcon(QIcon(icon));
    item->setData(SummaryRole, summary);
    item->setData(Qt::AccessibleDescriptionRole, summary);
    updateClusterToolTip(item);
}

void MainWindow::setClusterPollInterval(const QString &inventoryPath, int intervalMs)
{
    if (QListWidgetItem *item = clusterItem(inventoryPath)) {
        item->setData(PollIntervalRole, intervalMs);
        updateClusterToolTip(item);
    }
}

void MainWindow::requestQuit()
{
    const QList<OperationRun *> runs = OperationRun::running();
    if (runs.isEmpty()) {
        Q_EMIT quitApproved();
        return;
    }
    if (m_quitWhenStopped)
        return; // already cancelling; quits when they have stopped
    if (m_quitQuestion) {
        m_quitQuestion->raise();
        m_quitQuestion->activateWindow();
        return;
    }
    m_quitQuestion = askWhileRunning(
        QStringLiteral("quitWhileRunning"), tr("Quit Pilothouse"),
        runs.size() == 1
            ? tr("An operation is running: %1.").arg(titlesOf(runs))
            : tr("%1 operations are running: %2.").arg(runs.size()).arg(titlesOf(runs)),
        tr("Quitting now would stop it between two steps, where the cluster may be half "
           "changed. Cancel it instead: it stops at its next safe point, puts back what it "
           "changed and writes the audit trail; Pilothouse quits then."),
        tr("Cancel and Quit"), QStringLiteral("cancelAndQuit"), [this] { cancelRunningAndQuit(); });
}

QString MainWindow::titlesOf(const QList<OperationRun *> &runs)
{
    QStringList titles;
    for (const OperationRun *run : runs)
        titles.append(run->title());
    return titles.join(QStringLiteral(", "));
}

QMessageBox *MainWindow::askWhileRunning(const QString &objectName, const QString &title,
                                         const QString &text, const QString &why,
                                         const QString &cancelText, const QString &cancelName,
                                         std::function<void()> onCancel)
{
    auto *box = new QMessageBox(QMessageBox::Warning, title, text, QMessageBox::NoButton, this);
    box->setObjectName(objectName);
    box->setInformativeText(why);
    QPushButton *cancel = box->addButton(cancelText, QMessageBox::DestructiveRole);
    cancel->setObjectName(cancelName);
    QPushButton *keep = box->addButton(tr("Keep Running"), QMessageBox::RejectRole);
    keep->setObjectName(QStringLiteral("keepRunning"));
    box->setDefaultButton(keep);
    connect(box, &QDialog::finished, box, &QObject::deleteLater);
    connect(box, &QMessageBox::buttonClicked, this, [cancel, onCancel](QAbstractButton *b) {
        if (b == cancel)
            onCancel();
    });
    box->open();
    return box;
}

void MainWindow::cancelRunningAndQuit()
{
    const QList<OperationRun *> runs = OperationRun::running();
    if (runs.isEmpty()) {
        Q_EMIT quitApproved();
        return;
    }
    m_quitWhenStopped = true;
    statusBar()->showMessage(
        runs.size() == 1 ? tr("Cancelling the operation; Pilothouse quits when it has stopped.")
                         : tr("Cancelling %1 operations; Pilothouse quits when they have stopped.")
                               .arg(runs.size()));
    cancelThen(QString(), [this] { Q_EMIT quitApproved(); });
}

void MainWindow::cancelThen(const QString &cluster, std::function<void()> then)
{
    auto done = std::make_shared<bool>(false);
    auto check = [cluster, then, done] {
        if (*done || !OperationRun::running(cluster).isEmpty())
            return;
        *done = true;
        then();
    };
    for (OperationRun *run : OperationRun::running(cluster)) {
        // Queued: the run's state is Finished (or the run gone) by the time this looks.
        connect(run, &OperationRun::finished, this, check, Qt::QueuedConnection);
        connect(run, &QObject::destroyed, this, check, Qt::QueuedConnection);
        if (run->state() == OperationRun::State::Running)
            run->cancel();
    }
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    if (OperationRun::running().isEmpty()) {
        QMainWindow::closeEvent(event);
        return;
    }
    event->ignore();
    requestQuit();
}

void MainWindow::closeCluster(const QString &inventoryPath)
{
    if (!OperationRun::running(inventoryPath).isEmpty()) {
        askToCloseWhileRunning(inventoryPath);
        return;
    }
    for (int row = 1; row < m_clusters->count(); ++row) {
        if (m_clusters->item(row)->data(PathRole).toString() != inventoryPath)
            continue;
        QWidget *page = m_pages->widget(row);
        // Another cluster's page stays in front; closing the one shown goes to the welcome page.
        if (m_clusters->currentRow() == row)
            m_clusters->setCurrentRow(0);
        // The page first: the list's current row moves up with the item and
        // then names the same page in the stack.
        m_pages->removeWidget(page);
        delete m_clusters->takeItem(row);
        page->deleteLater();
        statusBar()->showMessage(tr("Closed %1").arg(inventoryPath));
        Q_EMIT clusterClosed(inventoryPath);
        return;
    }
}

void MainWindow::askToCloseWhileRunning(const QString &inventoryPath)
{
    if (m_closingWhenStopped.contains(inventoryPath))
        return; // already cancelling; closes when they have stopped
    if (m_closeQuestion) {
        m_closeQuestion->raise();
        m_closeQuestion->activateWindow();
        return;
    }
    const QList<OperationRun *> runs = OperationRun::running(inventoryPath);
    const QListWidgetItem *item = clusterItem(inventoryPath);
    const QString name = item ? item->text() : inventoryPath;
    m_closeQuestion = askWhileRunning(
        QStringLiteral("closeWhileRunning"), tr("Close %1").arg(name),
        runs.size() == 1
            ? tr("An operation is running on %1: %2.").arg(name, titlesOf(runs))
            : tr("%1 operations are running on %2: %3.").arg(runs.size()).arg(name, titlesOf(runs)),
        tr("Closing the cluster now would stop it between two steps, where the cluster may be "
           "half changed. Cancel it instead: it stops at its next safe point, puts back what it "
           "changed and writes the audit trail; the cluster closes then."),
        tr("Cancel and Close"), QStringLiteral("cancelAndClose"), [this, inventoryPath, name] {
            m_closingWhenStopped.insert(inventoryPath);
            statusBar()->showMessage(
                tr("Cancelling the operation on %1; the cluster closes when it has stopped.")
                    .arg(name));
            cancelThen(inventoryPath, [this, inventoryPath] {
                m_closingWhenStopped.remove(inventoryPath);
                closeCluster(inventoryPath);
            });
        });
}

void MainWindow::showCommandPalette()
{
    QList<PaletteEntry> entries;
    for (int row = 1; row < m_clusters->count(); ++row) {
        const QString path = m_clusters->item(row)->data(PathRole).toString();
        entries.append({QStringLiteral("cluster:") + path, m_clusters->item(row)->text(),
                        QStringLiteral("cluster"), path});
    }
    entries.append({QStringLiteral("action:open"), tr("Open an inventory…"),
                    QStringLiteral("action"), QKeySequence(QKeySequence::Open).toString()});
    entries.append({QStringLiteral("action:lab"), tr("Start or attach to the local lab"),
                    QStringLiteral("action"), tr("three hosts on this machine")});
    entries.append({QStringLiteral("action:welcome"), tr("Welcome page"), QStringLiteral("action"),
                    QString()});
    if (ClusterView *view = currentCluster()) {
        entries.append({QStringLiteral("action:charts"), tr("Show the charts"),
                        QStringLiteral("action"), view->windowTitle()});
        entries.append(view->paletteEntries());
        entries.append(operationPaletteEntries(view->windowTitle()));
    }
    m_palette->setEntries(entries);
    m_palette->popup(this);
}

void MainWindow::paletteActivated(const QString &key)
{
    if (key.startsWith(u"cluster:")) {
        if (ClusterView *view = clusterView(key.mid(8))) {
            m_pages->setCurrentWidget(view);
            m_clusters->setCurrentRow(m_pages->currentIndex());
        }
    } else if (key == u"action:open") {
        chooseInventory();
    } else if (key == u"action:lab") {
        Q_EMIT m_welcome->labUpRequested();
    } else if (key == u"action:welcome") {
        showWelcome();
    } else if (key == u"action:charts") {
        if (ClusterView *view = currentCluster())
            view->showCharts();
    } else if (key.startsWith(u"operation:")) {
        if (ClusterView *view = currentCluster())
            Q_EMIT view->operationRequested(key.mid(10));
    } else if (ClusterView *view = currentCluster()) {
        view->focusKeys({key});
    }
}

void MainWindow::showWelcome()
{
    m_clusters->setCurrentRow(0);
}

void MainWindow::showError(const QString &title, const QString &text)
{
    auto *box = new QMessageBox(QMessageBox::Warning, title, text, QMessageBox::Ok, this);
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->setTextInteractionFlags(Qt::TextSelectableByMouse);
    box->open();
    statusBar()->showMessage(text);
}

} // namespace Pilothouse
