// The first window opens offscreen, shows the welcome view, opens a cluster
// page for an inventory, and is saved as screenshots for a person to look at.

#include "models/hostsmodel.h"
#include "models/labstepsmodel.h"
#include "models/operationrun.h"
#include "models/recentclustersmodel.h"
#include "ui/clusterview.h"
#include "ui/mainwindow.h"
#include "ui/overview/overviewscene.h"
#include "ui/overview/overviewview.h"
#include "ui/palette/commandpalette.h"
#include "ui/welcomeview.h"

#include <QCloseEvent>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMessageBox>
#include <QProgressBar>
#include <QPushButton>
#include <QSignalSpy>
#include <QStackedWidget>
#include <QTabWidget>
#include <QTableView>
#include <QTest>
#include <QTimer>

#include "tests/guisupport.h"

using namespace Pilothouse;

namespace {

// A run that stands for an operation in flight: it runs until cancelled and
// then takes a moment to put things back, as a real one does.
class LongRun final : public OperationRun
{
public:
    QString title() const override { return QStringLiteral("Switchover pg-1 → pg-2"); }
    QString preflightText() const override { return {}; }
    QString kind() const override { return QStringLiteral("switchover"); }
    void start(const QString &) override { setState(State::Running); }
    void cancel() override
    {
        ++cancels;
        setState(State::Cancelling);
        QTimer::singleShot(200, this, [this] {
            setState(State::Finished);
            Q_EMIT finished(false, QStringLiteral("cancelled"), {});
        });
    }
    int cancels = 0;
};

// A run whose cancel never comes back, as one whose wizard is closed mid-way.
class StuckRun final : public OperationRun
{
public:
    QString title() const override { return QStringLiteral("Drill: kill-primary"); }
    QString preflightText() const override { return {}; }
    QString kind() const override { return QStringLiteral("drill"); }
    void start(const QString &) override { setState(State::Running); }
    void cancel() override { setState(State::Cancelling); }
};

Inventory inventoryAt(const QString &path, const QString &name)
{
    Inventory inv;
    inv.path = path;
    inv.settings.cluster = name;
    inv.settings.stack = QStringLiteral("pilothouse");
    return inv;
}

QMessageBox *closeQuestion(const QWidget &window)
{
    return window.findChild<QMessageBox *>(QStringLiteral("closeWhileRunning"));
}

QMessageBox *quitQuestion(const QWidget &window)
{
    return window.findChild<QMessageBox *>(QStringLiteral("quitWhileRunning"));
}

} // namespace

class TestMainWindow final : public QObject
{
    Q_OBJECT

private:
    static void save(QWidget *w, const QString &name)
    {
        QVERIFY(TestSupport::saveScreenshot(w, name, QSize(600, 400)));
    }

private Q_SLOTS:
    void welcomeView()
    {
        MainWindow window;
        LabStepsModel steps;
        RecentClustersModel recent;
        recent.touch(QStringLiteral("/var/lib/pilothouse-lab/inventory.yaml"),
                     QStringLiteral("lab"), QDateTime::currentDateTime());
        window.welcomeView()->setLabStepsModel(&steps);
        window.welcomeView()->setRecentModel(&recent);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));

        auto *open = window.findChild<QPushButton *>(QStringLiteral("openInventoryButton"));
        auto *lab = window.findChild<QPushButton *>(QStringLiteral("labButton"));
        QVERIFY(open && open->isVisible());
        QVERIFY(lab && lab->isVisible() && lab->isEnabled());

        QSignalSpy labRequested(window.welcomeView(), &WelcomeView::labUpRequested);
        QTest::mouseClick(lab, Qt::LeftButton);
        QCOMPARE(labRequested.size(), 1);

        // Progress as `lab up` reports it.
        window.welcomeView()->setLabState(true, QStringLiteral("Step 2 of 3: start the engines"));
        steps.stepStarted(1, 3, QStringLiteral("keys and secrets"));
        steps.stepFinished(1, 0.3);
        steps.stepStarted(2, 3, QStringLiteral("start the engines"));
        auto *progress = window.findChild<QProgressBar *>(QStringLiteral("labProgress"));
        QVERIFY(progress);
        QCOMPARE(progress->maximum(), 3);
        QCOMPARE(progress->value(), 1);
        QVERIFY(!lab->isEnabled());
        save(&window, QStringLiteral("welcome.png"));
    }

    void clusterPage()
    {
        MainWindow window;
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        Inventory inv;
        inv.path = QStringLiteral("/var/lib/pilothouse-lab/inventory.yaml");
        inv.settings.cluster = QStringLiteral("lab");
        inv.settings.stack = QStringLiteral("pilothouse");
        inv.settings.proxy = QStringLiteral("haproxy");
        inv.settings.domain = QStringLiteral("app.pilothouse.lab");
        for (int n = 1; n <= 3; ++n) {
            inv.hosts.append({QStringLiteral("swarm-0%1").arg(n),
                              QStringLiteral("10.213.0.1%1").arg(n),
                              15122,
                              QStringLiteral("root"),
                              {},
                              {QStringLiteral("all"), QStringLiteral("swarm_managers")}});
            inv.settings.postgresNodes.insert(QStringLiteral("pg-%1").arg(n),
                                              QStringLiteral("swarm-0%1").arg(n));
        }
        HostsModel hosts;
        hosts.setHosts(inv.hosts);
        bool created = false;
        ClusterView *view = window.showCluster(inv, &created);
        QVERIFY(view && created);
        view->setHostsModel(&hosts);
        // The same path twice: still one page.
        QCOMPARE(window.showCluster(inv, &created), view);
        QVERIFY(!created);
        QCOMPARE(window.currentCluster(), view);
        auto *tabs = view->findChild<QTabWidget *>(QStringLiteral("clusterTabs"));
        QVERIFY(tabs);
        tabs->setCurrentIndex(tabs->count() - 1); // what the inventory says

        auto *list = window.findChild<QListWidget *>(QStringLiteral("clustersList"));
        QVERIFY(list);
        QCOMPARE(list->count(), 2); // Welcome + lab
        QCOMPARE(list->currentRow(), 1);
        auto *table = window.findChild<QTableView *>(QStringLiteral("hostsTable"));
        QVERIFY(table && table->isVisible());
        QCOMPARE(table->model()->rowCount(), 3);
        auto *summary = window.findChild<QLabel *>(QStringLiteral("clusterSummary"));
        QVERIFY(summary->text().contains(QStringLiteral("pg-2 on swarm-02")));
        save(&window, QStringLiteral("cluster.png"));

        // Ctrl+K jumps to an object of the snapshot on screen.
        ClusterSnapshot snapshot;
        snapshot.takenAt = QDateTime::currentDateTimeUtc();
        for (int n = 1; n <= 3; ++n) {
            PostgresNodeState pg;
            pg.name = QStringLiteral("pg-%1").arg(n);
            pg.host = QStringLiteral("swarm-0%1").arg(n);
            pg.reachable = true;
            pg.role = n == 1 ? QStringLiteral("primary") : QStringLiteral("standby");
            pg.timeline = 1;
            pg.freshness.readAt = snapshot.takenAt;
            snapshot.postgres.append(pg);
        }
        view->sync(snapshot);
        QTest::keyClick(&window, Qt::Key_K, Qt::ControlModifier);
        auto *palette = window.findChild<CommandPalette *>(QStringLiteral("commandPalette"));
        QVERIFY(palette);
        QTRY_VERIFY(palette->isVisible());
        auto *query = palette->findChild<QLineEdit *>(QStringLiteral("commandPaletteQuery"));
        QVERIFY(query);
        QTest::keyClicks(query, QStringLiteral("pg-2"));
        QCOMPARE(palette->currentKey(), QStringLiteral("pg:pg-2"));
        QTest::keyClick(query, Qt::Key_Return);
        QTRY_VERIFY(!palette->isVisible());
        QCOMPARE(tabs->currentWidget(), view->overview());
        QCOMPARE(view->overview()->scene()->selectedKeys(), QStringList{QStringLiteral("pg:pg-2")});
        save(&window, QStringLiteral("cluster-overview.png"));
        // A service jumps to what it runs.
        view->focusKeys({QStringLiteral("service:pg-3")});
        const QStringList selected = view->overview()->scene()->selectedKeys();
        QVERIFY2(selected.contains(QStringLiteral("pg:pg-3")) &&
                     !selected.contains(QStringLiteral("pg:pg-2")),
                 qPrintable(selected.join(u',')));

        list->setCurrentRow(0);
        QCOMPARE(window.findChild<QStackedWidget *>()->currentWidget(), window.welcomeView());

        QSignalSpy closed(&window, &MainWindow::clusterClosed);
        window.closeCluster(inv.path);
        QCOMPARE(closed.size(), 1);
        QCOMPARE(list->count(), 1);
        QVERIFY(window.clusterViews().isEmpty());
    }

    // The list of open clusters says each one's health by icon and on hover;
    // closing a cluster behind the one shown leaves that one in front.
    void clusterListSaysHealthAndKeepsThePageInFront()
    {
        MainWindow window;
        window.resize(900, 600);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        Inventory a;
        a.path = QStringLiteral("/srv/a/inventory.yaml");
        a.settings.cluster = QStringLiteral("alpha");
        Inventory b;
        b.path = QStringLiteral("/srv/b/inventory.yaml");
        b.settings.cluster = QStringLiteral("bravo");
        ClusterView *viewA = window.showCluster(a);
        ClusterView *viewB = window.showCluster(b);
        QCOMPARE(window.currentCluster(), viewB);
        QVERIFY(!viewA->isVisible());

        auto *list = window.findChild<QListWidget *>();
        QListWidgetItem *itemA = list->item(1);
        QCOMPARE(itemA->text(), QStringLiteral("alpha"));
        window.setClusterHealth(a.path, Severity::Critical,
                                QStringLiteral("2 findings, worst: critical"));
        window.setClusterPollInterval(a.path, 5000);
        QCOMPARE(itemA->toolTip(), QStringLiteral("/srv/a/inventory.yaml\n2 findings, worst: "
                                                  "critical\npolled every 5 s while another page "
                                                  "is shown"));
        const QImage critical = itemA->icon().pixmap(16, 16).toImage();
        window.setClusterHealth(a.path, Severity::Info, QStringLiteral("every layer agrees"));
        window.setClusterPollInterval(a.path, 1000);
        QCOMPARE(itemA->toolTip(),
                 QStringLiteral("/srv/a/inventory.yaml\nevery layer agrees\npolled every 1 s"));
        QVERIFY(itemA->icon().pixmap(16, 16).toImage() != critical);
        window.setClusterHealth(QStringLiteral("/not/open.yaml"), Severity::Warning, QString());

        window.closeCluster(a.path);
        QCOMPARE(window.currentCluster(), viewB);
        QCOMPARE(list->currentRow(), 1);
        QCOMPARE(list->currentItem()->text(), QStringLiteral("bravo"));
        QVERIFY(viewB->isVisible());
        window.closeCluster(b.path);
        QCOMPARE(list->currentRow(), 0);
        QCOMPARE(window.findChild<QStackedWidget *>()->currentWidget(), window.welcomeView());
    }

    void quittingAsksWhileAnOperationRuns()
    {
        MainWindow window;
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        QSignalSpy approved(&window, &MainWindow::quitApproved);

        // Nothing running: quits at once, no question.
        window.requestQuit();
        QCOMPARE(approved.size(), 1);
        QVERIFY(!quitQuestion(window));

        LongRun run;
        run.start(QStringLiteral("test"));
        QCOMPARE(OperationRun::running(), QList<OperationRun *>{&run});

        // Closing the window asks instead of closing.
        QCloseEvent close;
        QApplication::sendEvent(&window, &close);
        QVERIFY(!close.isAccepted());
        QTRY_VERIFY(quitQuestion(window) && quitQuestion(window)->isVisible());
        QVERIFY(quitQuestion(window)->text().contains(QStringLiteral("Switchover pg-1 → pg-2")));
        QVERIFY(TestSupport::saveScreenshot(
            quitQuestion(window), QStringLiteral("quit-while-running.png"), QSize(200, 100)));
        // Asking again raises the same question.
        window.requestQuit();
        QCOMPARE(window.findChildren<QMessageBox *>().size(), 1);

        // Keep running: nothing happens to the run.
        QTest::mouseClick(
            quitQuestion(window)->findChild<QPushButton *>(QStringLiteral("keepRunning")),
            Qt::LeftButton);
        QTRY_VERIFY(!quitQuestion(window));
        QCOMPARE(run.cancels, 0);
        QVERIFY(run.isRunning());
        QCOMPARE(approved.size(), 1);

        // Cancel and quit: cancelled once, quits only when it has stopped.
        window.requestQuit();
        QTRY_VERIFY(quitQuestion(window));
        QTest::mouseClick(
            quitQuestion(window)->findChild<QPushButton *>(QStringLiteral("cancelAndQuit")),
            Qt::LeftButton);
        QCOMPARE(run.cancels, 1);
        QCOMPARE(approved.size(), 1);
        window.requestQuit(); // impatient: no second question, no second cancel
        for (const QMessageBox *box : window.findChildren<QMessageBox *>())
            QVERIFY(!box->isVisible());
        QCOMPARE(run.cancels, 1);
        QTRY_COMPARE(approved.size(), 2);
        QVERIFY(OperationRun::running().isEmpty());
    }

    // Quitting waits for runs to stop; one destroyed without finishing (its
    // wizard closed) no longer holds the quit back.
    void quittingDoesNotWaitForARunThatIsGone()
    {
        MainWindow window;
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        QSignalSpy approved(&window, &MainWindow::quitApproved);
        auto *stuck = new StuckRun;
        stuck->start(QStringLiteral("test"));
        window.requestQuit();
        QTRY_VERIFY(quitQuestion(window));
        QTest::mouseClick(
            quitQuestion(window)->findChild<QPushButton *>(QStringLiteral("cancelAndQuit")),
            Qt::LeftButton);
        QVERIFY(stuck->isRunning()); // cancelling, never finishes
        QTest::qWait(300);
        QCOMPARE(approved.size(), 0);
        delete stuck;
        QTRY_COMPARE(approved.size(), 1);
    }

    // Closing a cluster (Ctrl+W) while an operation on it runs asks, as
    // quitting does; another cluster closes at once.
    void closingAClusterAsksWhileAnOperationOnItRuns()
    {
        MainWindow window;
        window.resize(900, 600);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        const QString a = QStringLiteral("/tmp/pilothouse-test/a.yaml");
        const QString b = QStringLiteral("/tmp/pilothouse-test/b.yaml");
        QVERIFY(window.showCluster(inventoryAt(a, QStringLiteral("alpha"))));
        QVERIFY(window.showCluster(inventoryAt(b, QStringLiteral("beta"))));
        QSignalSpy closed(&window, &MainWindow::clusterClosed);

        LongRun run;
        run.setCluster(a);
        run.start(QStringLiteral("test"));
        QCOMPARE(OperationRun::running(a), QList<OperationRun *>{&run});
        QVERIFY(OperationRun::running(b).isEmpty());

        // Nothing runs on beta: it closes at once.
        window.closeCluster(b);
        QVERIFY(!window.clusterView(b));
        QCOMPARE(closed.size(), 1);
        QVERIFY(!closeQuestion(window));

        // alpha: asked first, still open.
        window.closeCluster(a);
        QTRY_VERIFY(closeQuestion(window) && closeQuestion(window)->isVisible());
        QVERIFY(closeQuestion(window)->text().contains(QStringLiteral("Switchover pg-1 → pg-2")));
        QVERIFY(window.clusterView(a));
        QVERIFY(TestSupport::saveScreenshot(
            closeQuestion(window), QStringLiteral("close-while-running.png"), QSize(200, 100)));
        window.closeCluster(a); // asking again raises the same question
        QCOMPARE(window.findChildren<QMessageBox *>().size(), 1);

        QTest::mouseClick(
            closeQuestion(window)->findChild<QPushButton *>(QStringLiteral("keepRunning")),
            Qt::LeftButton);
        QTRY_VERIFY(!closeQuestion(window));
        QCOMPARE(run.cancels, 0);
        QVERIFY(window.clusterView(a));

        // Cancel and close: cancelled once, closed only when it has stopped.
        window.closeCluster(a);
        QTRY_VERIFY(closeQuestion(window));
        QTest::mouseClick(
            closeQuestion(window)->findChild<QPushButton *>(QStringLiteral("cancelAndClose")),
            Qt::LeftButton);
        QCOMPARE(run.cancels, 1);
        QVERIFY(window.clusterView(a));
        window.closeCluster(a); // impatient: no second question, no second cancel
        QCOMPARE(run.cancels, 1);
        QTRY_VERIFY(!window.clusterView(a));
        QCOMPARE(closed.size(), 2);
        QCOMPARE(closed.last().first().toString(), a);
    }
};

QTEST_MAIN(TestMainWindow)
#include "tst_mainwindow.moc"
