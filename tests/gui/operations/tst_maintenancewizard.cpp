// The maintenance wizard (rejoin, pgpool repair) offscreen with a scripted
// operation and the console's real specs: which nodes a rejoin offers, the
// preflight that reads before it can commit, a refusal found by that read,
// the run and the result with its details. Screenshots of every page go to
// test-output/screenshots.

#include "app/maintenanceruns.h"
#include "ui/operations/maintenancewizard.h"

#include <QAbstractButton>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QTest>

#include "tests/gui/operations/scriptedrun.h"
#include "tests/guisupport.h"

using namespace Pilothouse;
using TestSupport::ScriptedRun;

namespace {

PostgresNodeState node(const QString &name, const QString &host, const QString &role,
                       const QString &receiver, int timeline)
{
    PostgresNodeState n;
    n.name = name;
    n.host = host;
    n.reachable = true;
    n.role = role;
    n.timeline = timeline;
    n.walReceiverStatus = receiver;
    n.upstream =
        role == u"standby" && receiver == u"streaming" ? QStringLiteral("pg-2") : QString();
    return n;
}

// After a failover: pg-2 primary on timeline 5, pg-3 streaming from it, pg-1
// the old primary back as a standby that does not stream (diverged).
ClusterSnapshot afterFailover()
{
    ClusterSnapshot s;
    s.postgres = {
        node(QStringLiteral("pg-1"), QStringLiteral("swarm-01"), QStringLiteral("standby"), {}, 4),
        node(QStringLiteral("pg-2"), QStringLiteral("swarm-02"), QStringLiteral("primary"), {}, 5),
        node(QStringLiteral("pg-3"), QStringLiteral("swarm-03"), QStringLiteral("standby"),
             QStringLiteral("streaming"), 5)};
    PgpoolInstanceState p;
    p.host = QStringLiteral("swarm-02");
    p.reachable = true;
    for (int i = 0; i < 3; ++i) {
        PgpoolBackend b;
        b.nodeId = i;
        b.hostname = QStringLiteral("pg-%1").arg(i + 1);
        b.status = i == 0 ? QStringLiteral("down") : QStringLiteral("up");
        b.role = i == 1 ? QStringLiteral("primary") : QStringLiteral("standby");
        p.backends.append(b);
    }
    s.pgpools = {p};
    return s;
}

QAbstractButton *next(QWizard *w)
{
    QAbstractButton *commit = w->button(QWizard::CommitButton);
    return commit->isVisible() ? commit : w->button(QWizard::NextButton);
}

} // namespace

class TestMaintenanceWizard final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void rejoinOffersOnlyNodesThatDoNotStream()
    {
        const MaintenanceSpec spec = rejoinWizardSpec(afterFailover());
        QCOMPARE(spec.choices.size(), 3);
        QVERIFY(spec.choices.at(0).offered);  // pg-1: not streaming
        QVERIFY(!spec.choices.at(1).offered); // pg-2: the primary
        QVERIFY(!spec.choices.at(2).offered); // pg-3: streams from pg-2
        QVERIFY(spec.situation.contains(u"pg-2 is the primary"));

        MaintenanceWizard wizard(spec, [](const QString &choice, QObject *parent) {
            return new ScriptedRun(QStringLiteral("rejoin"), choice, parent);
        });
        wizard.show();
        QVERIFY(QTest::qWaitForWindowExposed(&wizard));
        QCOMPARE(wizard.selectedChoice(), QStringLiteral("pg-1")); // suggested
        QVERIFY(!wizard.selectChoice(QStringLiteral("pg-2")));
        QVERIFY(!wizard.selectChoice(QStringLiteral("pg-3")));
        QCOMPARE(wizard.selectedChoice(), QStringLiteral("pg-1"));
        QVERIFY(!next(&wizard)->isEnabled()); // no reason yet
        wizard.reasonEdit()->setText(QStringLiteral("pg-1 came back after the failover"));
        QVERIFY(next(&wizard)->isEnabled());
        QVERIFY(TestSupport::saveScreenshot(&wizard, QStringLiteral("rejoin-1-node.png")));
    }

    void aHealthyClusterOffersNothingToRejoin()
    {
        ClusterSnapshot s = afterFailover();
        s.postgres[0] = node(QStringLiteral("pg-1"), QStringLiteral("swarm-01"),
                             QStringLiteral("standby"), QStringLiteral("streaming"), 5);
        MaintenanceWizard wizard(rejoinWizardSpec(s), [](const QString &choice, QObject *parent) {
            return new ScriptedRun(QStringLiteral("rejoin"), choice, parent);
        });
        wizard.show();
        wizard.reasonEdit()->setText(QStringLiteral("check"));
        QVERIFY(wizard.selectedChoice().isEmpty());
        QVERIFY(!next(&wizard)->isEnabled());
        auto *none = wizard.findChild<QLabel *>(QStringLiteral("noChoice"));
        QVERIFY(none && none->text().contains(u"nothing to rejoin"));
    }

    void thePreflightReadsBeforeItCanCommit()
    {
        ScriptedRun *made = nullptr;
        MaintenanceWizard wizard(
            rejoinWizardSpec(afterFailover()), [&made](const QString &choice, QObject *parent) {
                made = new ScriptedRun(QStringLiteral("rejoin"), choice, parent);
                made->preparesAsync = true;
                made->details = QStringLiteral("timeline fork: they part on "
                                               "timeline 4 at 0/5000060");
                return made;
            });
        wizard.show();
        QVERIFY(QTest::qWaitForWindowExposed(&wizard));
        wizard.reasonEdit()->setText(QStringLiteral("pg-1 came back after the failover"));
        next(&wizard)->click();
        QCOMPARE(wizard.currentId(), int(MaintenanceWizard::PreflightPage));
        QVERIFY(made);
        QCOMPARE(made->preparedWith, QStringLiteral("pg-1 came back after the failover"));
        // Still reading: the commit waits, and says why.
        QVERIFY(made->isPreparing());
        QVERIFY(wizard.preparingLabel()->isVisible());
        QVERIFY(!next(&wizard)->isEnabled());
        QTRY_VERIFY(!made->isPreparing());
        QVERIFY(!wizard.preparingLabel()->isVisible());
        QVERIFY(wizard.preflightView()->toPlainText().contains(u"timeline fork at 0/5000060"));
        QVERIFY(next(&wizard)->isEnabled());
        QCOMPARE(next(&wizard), wizard.button(QWizard::CommitButton));
        QVERIFY(TestSupport::saveScreenshot(&wizard, QStringLiteral("rejoin-2-preflight.png")));
        next(&wizard)->click();
        QCOMPARE(wizard.currentId(), int(MaintenanceWizard::RunPage));
        QCOMPARE(made->startedWith, QStringLiteral("pg-1 came back after the failover"));
        QTRY_VERIFY(wizard.runPage()->isFinished());
        QVERIFY(TestSupport::saveScreenshot(&wizard, QStringLiteral("rejoin-3-run.png")));
        next(&wizard)->click();
        QCOMPARE(wizard.currentId(), int(MaintenanceWizard::ResultPage));
        QVERIFY(wizard.resultLabel()->text().contains(u"done: pg-1"));
        QVERIFY(wizard.detailsView()->isVisible());
        QVERIFY(wizard.detailsView()->toPlainText().contains(u"0/5000060"));
        QVERIFY(TestSupport::saveScreenshot(&wizard, QStringLiteral("rejoin-4-result.png")));
    }

    void aRefusalFoundByTheReadBlocksTheCommit()
    {
        // pgpool has detached pg-3, which streams from the primary (pg-1, which
        // does not stream, is rightly down there).
        ClusterSnapshot s = afterFailover();
        s.pgpools[0].backends[2].status = QStringLiteral("down");
        ScriptedRun *made = nullptr;
        MaintenanceWizard wizard(pgpoolRepairWizardSpec(s, QStringLiteral("pgpool")),
                                 [&made](const QString &choice, QObject *parent) {
                                     made = new ScriptedRun(QStringLiteral("pgpool-repair"), choice,
                                                            parent);
                                     made->preparesAsync = true;
                                     made->refusalsAfterPrepare = {QStringLiteral(
                                         "2 servers say they are primary (pg-1, pg-2): resolve the "
                                         "split brain first")};
                                     return made;
                                 });
        wizard.show();
        QVERIFY(QTest::qWaitForWindowExposed(&wizard));
        // Nothing to choose: the reason alone lets it go on.
        QVERIFY(!wizard.choiceList()->isVisible());
        auto *situation = wizard.findChild<QLabel *>(QStringLiteral("situation"));
        QVERIFY(situation);
        QVERIFY2(situation->text().contains(u"pg-3 is down here but is a serving standby") &&
                     !situation->text().contains(u"pg-1"),
                 qPrintable(situation->text()));
        QVERIFY(!next(&wizard)->isEnabled());
        wizard.reasonEdit()->setText(QStringLiteral("pgpool on swarm-02 lost pg-1"));
        QVERIFY(next(&wizard)->isEnabled());
        QVERIFY(TestSupport::saveScreenshot(&wizard, QStringLiteral("pgpool-repair-1-reason.png")));
        next(&wizard)->click();
        QVERIFY(!wizard.refusalsLabel()->isVisible());
        QTRY_VERIFY(wizard.refusalsLabel()->isVisible());
        QVERIFY(wizard.refusalsLabel()->text().contains(u"split brain"));
        QVERIFY(!next(&wizard)->isEnabled());
        QVERIFY(
            TestSupport::saveScreenshot(&wizard, QStringLiteral("pgpool-repair-2-refused.png")));
        wizard.reject();
        QVERIFY(!wizard.isVisible());
        QVERIFY(made->startedWith.isEmpty());
    }
};

QTEST_MAIN(TestMaintenanceWizard)
#include "tst_maintenancewizard.moc"
