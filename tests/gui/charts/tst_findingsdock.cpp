// FindingsDock shows the findings most severe first, says so when there are
// none, and reports the objects of the finding a person clicks or activates.

#include "models/findings.h"
#include "models/findingsmodel.h"
#include "ui/docks/findingsdock.h"

#include <QLabel>
#include <QMainWindow>
#include <QMenu>
#include <QSignalSpy>
#include <QTest>
#include <QTreeView>

#include <memory>

#include "tests/guisupport.h"

using namespace Pilothouse;

namespace {

QList<Finding> labFindings()
{
    return {
        {Severity::Warning,
         QStringLiteral("standby-lagging"),
         QStringLiteral("pg-3 is 18.4 MiB behind the primary (over 16 MiB)"),
         {QStringLiteral("pg:pg-3")}},
        {Severity::Info,
         QStringLiteral("certificate-expiring"),
         QStringLiteral("The certificate of app.pilothouse.lab expires in 24 days"),
         {QStringLiteral("cert:https://app.pilothouse.lab via swarm-01")}},
        {Severity::Critical,
         QStringLiteral("pgpool-primary-mismatch"),
         QStringLiteral("pgpool on swarm-02 sends writes to pg-1, but pg-2 is the primary"),
         {QStringLiteral("pgpool:pgpool.2.x7kq6mv"), QStringLiteral("pg:pg-1"),
          QStringLiteral("pg:pg-2")}},
        {Severity::Warning,
         QStringLiteral("etcd-member-unhealthy"),
         QStringLiteral("etcd3 does not answer its health check: quorum holds with 2 of 3"),
         {QStringLiteral("etcd:etcd3"), QStringLiteral("host:swarm-03")}},
    };
}

} // namespace

class TestFindingsDock final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void emptyThenFindingsThenClick()
    {
        FindingsModel model;
        QMainWindow window; // as in the application, with its title bar
        auto *docked = new FindingsDock;
        FindingsDock &dock = *docked;
        QCOMPARE(dock.objectName(), QStringLiteral("findingsDock"));
        dock.setModel(&model);
        window.addDockWidget(Qt::BottomDockWidgetArea, docked);
        window.resize(900, 220);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));

        auto *empty = dock.findChild<QLabel *>(QStringLiteral("findingsEmpty"));
        QVERIFY(empty);
        QVERIFY(empty->isVisible());
        QCOMPARE(empty->text(), QStringLiteral("No findings: every layer agrees"));
        QVERIFY(!dock.view()->isVisible());

        model.setFindings(labFindings());
        QVERIFY(dock.view()->isVisible());
        QVERIFY(!empty->isVisible());
        QCOMPARE(dock.windowTitle(), QStringLiteral("Findings (4)"));
        QCOMPARE(dock.view()->model()->index(0, FindingsModel::SeverityColumn).data().toString(),
                 QStringLiteral("Critical"));

        QSignalSpy activated(&dock, &FindingsDock::findingActivated);
        const QModelIndex etcd = model.index(2, FindingsModel::MessageColumn);
        QCOMPARE(etcd.data(FindingsModel::CodeRole).toString(),
                 QStringLiteral("etcd-member-unhealthy"));
        QTest::mouseClick(dock.view()->viewport(), Qt::LeftButton, {},
                          dock.view()->visualRect(etcd).center());
        QCOMPARE(activated.size(), 1);
        QCOMPARE(activated.first().first().toStringList(),
                 (QStringList{QStringLiteral("etcd:etcd3"), QStringLiteral("host:swarm-03")}));

        // From the keyboard: move to the top row and press Enter.
        dock.view()->setFocus();
        dock.view()->setCurrentIndex(model.index(0, FindingsModel::MessageColumn));
        QTest::keyClick(dock.view(), Qt::Key_Return);
        QCOMPARE(activated.size(), 2);
        QCOMPARE(activated.last().first().toStringList(),
                 (QStringList{QStringLiteral("pgpool:pgpool.2.x7kq6mv"), QStringLiteral("pg:pg-1"),
                              QStringLiteral("pg:pg-2")}));

        dock.view()->setCurrentIndex({});
        QVERIFY(TestSupport::saveScreenshot(&window, QStringLiteral("findings.png")));

        model.setFindings({});
        QVERIFY(empty->isVisible());
        QCOMPARE(dock.windowTitle(), QStringLiteral("Findings"));
        QCoreApplication::processEvents();
        QVERIFY(TestSupport::saveScreenshot(&window, QStringLiteral("findings-empty.png")));
    }

    void aFindingOffersTheOperationThatRepairsIt()
    {
        FindingsModel model;
        model.setFindings(labFindings());
        FindingsDock dock;
        dock.setModel(&model);
        QSignalSpy asked(&dock, &FindingsDock::operationRequested);
        // Most severe first: row 0 is the pgpool that sends writes to the old primary.
        QCOMPARE(model.index(0, 0).data(FindingsModel::CodeRole).toString(),
                 QStringLiteral("pgpool-primary-mismatch"));
        std::unique_ptr<QMenu> menu(dock.menuFor(0));
        auto *fix = menu->findChild<QAction *>(QStringLiteral("fix_pgpool-repair"));
        QVERIFY(fix);
        QCOMPARE(fix->text(), QStringLiteral("Repair the pgpools…"));
        fix->trigger();
        QCOMPARE(asked.size(), 1);
        QCOMPARE(asked.first().first().toString(), QStringLiteral("pgpool-repair"));
        // An unhealthy etcd member: no operation of the console repairs it.
        std::unique_ptr<QMenu> etcd(dock.menuFor(2));
        QCOMPARE(etcd->actions().size(), 1);
        QVERIFY(!etcd->findChild<QAction *>(QStringLiteral("fix_pgpool-repair")));
        QCOMPARE(Findings::suggestedOperation(QStringLiteral("two-primaries")), QStringLiteral("rejoin"));
        QVERIFY(Findings::suggestedOperation(QStringLiteral("etcd-no-quorum")).isEmpty());
        QCOMPARE(Findings::suggestedOperation(QStringLiteral("certificate-expiring")), QStringLiteral("certificate"));
    }

    void modelGoesAway()
    {
        FindingsDock dock;
        {
            FindingsModel model;
            model.setFindings(labFindings());
            dock.setModel(&model);
            QCOMPARE(dock.windowTitle(), QStringLiteral("Findings (4)"));
        }
        QVERIFY(!dock.model());
        QCOMPARE(dock.windowTitle(), QStringLiteral("Findings"));
    }
};

QTEST_MAIN(TestFindingsDock)
#include "tst_findingsdock.moc"
