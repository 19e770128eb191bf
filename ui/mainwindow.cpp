#include "ui/mainwindow.h"

#include "ui/clusterview.h"
#include "ui/welcomeview.h"

#include <QAction>
#include <QApplication>
#include <QDockWidget>
#include <QFileDialog>
#include <QListWidget>
#include <QMenuBar>
#include <QMessageBox>
#include <QStackedWidget>
#include <QStatusBar>

namespace Pilothouse {
namespace {
constexpr int PathRole = Qt::UserRole + 1;
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
    QAction *lab = file->addAction(QIcon(QStringLiteral(":/icons/lab.svg")),
                                   tr("Start or Attach to the &Local Lab"), m_welcome,
                                   &WelcomeView::labUpRequested);
    lab->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_L));
    file->addSeparator();
    QAction *quit = file->addAction(tr("&Quit"), qApp, &QApplication::quit);
    quit->setShortcut(QKeySequence::Quit);
    QMenu *help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("&About Pilothouse"), this, [this] {
        QMessageBox::about(this, tr("About Pilothouse"),
                           tr("<b>Pilothouse %1</b><p>Operations console for a highly available "
                              "PostgreSQL cluster on Docker Swarm.</p>")
                               .arg(QApplication::applicationVersion()));
    });

    connect(m_welcome, &WelcomeView::openInventoryRequested, this, &MainWindow::chooseInventory);
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

void MainWindow::showCluster(const Inventory &inventory, QAbstractItemModel *hostsModel)
{
    for (int row = 1; row < m_clusters->count(); ++row) {
        if (m_clusters->item(row)->data(PathRole).toString() == inventory.path) {
            auto *view = static_cast<ClusterView *>(m_pages->widget(row));
            view->setInventory(inventory);
            m_clusters->setCurrentRow(row);
            return;
        }
    }
    auto *view = new ClusterView(m_pages);
    view->setObjectName(QStringLiteral("clusterView"));
    view->setInventory(inventory);
    view->setHostsModel(hostsModel);
    m_pages->addWidget(view);
    auto *item = new QListWidgetItem(QIcon(QStringLiteral(":/icons/cluster.svg")),
                                     inventory.displayName(), m_clusters);
    item->setData(PathRole, inventory.path);
    item->setToolTip(inventory.path);
    m_clusters->setCurrentItem(item);
    statusBar()->showMessage(tr("Opened %1").arg(inventory.path));
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
