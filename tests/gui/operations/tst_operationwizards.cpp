// The switchover and drill wizards offscreen with a scripted operation: what
// each page offers and refuses, the run page's live steps, the result and
// report pages. Screenshots of every page go to test-output/screenshots.

#include "models/drillreport.h"
#include "ui/operations/drillreportview.h"
#include "ui/operations/drilltimelinechart.h"
#include "ui/operations/drillwizard.h"
#include "ui/operations/switchoverwizard.h"

#include <QAbstractButton>
#include <QFile>
#include <QJsonDocument>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRadioButton>
#include <QTest>
#include <QTreeWidget>

#include "tests/gui/operations/scriptedrun.h"
#include "tests/guisupport.h"

using namespace Pilothouse;
using TestSupport::ScriptedRun;

namespace {

PostgresNodeState node(const QString &name, const QString &host, const QString &role,
                       const QString &receiver, qint64 lag)
{
    PostgresNodeState n;
    n.name = name;
    n.host = host;
    n.reachable = true;
    n.role = role;
    n.timeline = 4;
    n.walReceiverStatus = receiver;
    n.upstream = role == u"standby" ? QStringLiteral("pg-1") : QString();
    n.lagBytes = lag;
    n.lagSeconds = lag < 0 ? -1 : 0.4;
    return n;
}

// pg-1 primary, pg-2 streaming, pg-3 a standby whose WAL receiver stopped.
ClusterSnapshot cluster()
{
    ClusterSnapshot s;
    s.postgres = {
        node(QStringLiteral("pg-1"), QStringLiteral("swarm-01"), QStringLiteral("primary"), {}, -1),
        node(QStringLiteral("pg-2"), QStringLiteral("swarm-02"), QStringLiteral("standby"),
             QStringLiteral("streaming"), 120),
        node(QStringLiteral("pg-3"), QStringLiteral("swarm-03"), QStringLiteral("standby"),
             QStringLiteral("stopping"), 40960)};
    return s;
}

QJsonObject fixtureReport()
{
    QFile f(QStringLiteral(PILOTHOUSE_SOURCE_DIR
                           "/tests/gui/operations/fixtures/drill-kill-primary.json"));
    if (!f.open(QIODevice::ReadOnly))
        return {};
    return QJsonDocument::fromJson(f.readAll()).object();
}

// Next, or Commit on the pages after which there is no way back.
QAbstractButton *next(QWizard *w)
{
    QAbstractButton *commit = w->button(QWizard::CommitButton);
    return commit->isVisible() ? commit : w->button(QWizard::NextButton);
}

} // namespace

class TestOperationWizards final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void switchoverOffersOnlyStreamingStandbys()
    {
        const ClusterSnapshot s = cluster();
        QCOMPARE(SwitchoverWizard::candidates(s).size(), 1);
        SwitchoverWizard wizard(s, [](const QString &target, QObject *parent) {
            return new ScriptedRun(QStringLiteral("switchover"), target, parent);
        });
        wizard.show();
        QVERIFY(QTest::qWaitForWindowExposed(&wizard));
        QCOMPARE(wizard.targetList()->count(), 1);
        QCOMPARE(wizard.targetList()->item(0)->data(Qt::UserRole).toString(),
                 QStringLiteral("pg-2"));
        QVERIFY(wizard.targetList()->item(0)->text().contains(u"lag 120 B"));
        QVERIFY2(wizard.notOffered()->text().contains(u"pg-3"),
                 qPrintable(wizard.notOffered()->text()));
        // One candidate is picked for you; the reason is not.
        QCOMPARE(wizard.selectedTarget(), QStringLiteral("pg-2"));
        QVERIFY(!next(&wizard)->isEnabled());
        wizard.reasonEdit()->setText(QStringLiteral("   "));
        QVERIFY(!next(&wizard)->isEnabled());
        wizard.reasonEdit()->setText(QStringLiteral("kernel update on swarm-01"));
        QVERIFY(next(&wizard)->isEnabled());
        wizard.targetList()->setCurrentItem(nullptr);
        QVERIFY(!next(&wizard)->isEnabled());
    }

    void switchoverRunsThroughEveryPage()
    {
        ScriptedRun *made = nullptr;
        SwitchoverWizard wizard(cluster(), [&made](const QString &target, QObject *parent) {
            made = new ScriptedRun(QStringLiteral("switchover"), target, parent);
            made->finalReport = QJsonObject{
                {QStringLiteral("ok"), true},
                {QStringLiteral("old_primary"), QStringLiteral("pg-1")},
                {QStringLiteral("new_primary"), QStringLiteral("pg-2")},
                {QStringLiteral("timeline_before"), 4},
                {QStringLiteral("timeline_after"), 5},
                {QStringLiteral("write_gap_seconds"),
                 QJsonObject{{QStringLiteral("pgpool"), 1.12}, {QStringLiteral("app"), 0.98}}},
                {QStringLiteral("lost_writes"), 0},
                {QStringLiteral("acknowledged_writes"), 812},
                {QStringLiteral("lost_checked_on"), QStringLiteral("pg-2")},
                {QStringLiteral("duration_seconds"), 58.3}};
            return made;
        });
        wizard.show();
        QVERIFY(QTest::qWaitForWindowExposed(&wizard));
        wizard.reasonEdit()->setText(QStringLiteral("kernel update on swarm-01"));
        QVERIFY(TestSupport::saveScreenshot(&wizard, QStringLiteral("switchover-1-target.png")));
        next(&wizard)->click();
        QCOMPARE(wizard.currentId(), int(SwitchoverWizard::PreflightPage));
        QVERIFY(made);
        QVERIFY(wizard.preflightView()->toPlainText().contains(u"Expected downtime"));
        QVERIFY(next(&wizard)->isEnabled());
        QCOMPARE(next(&wizard), wizard.button(QWizard::CommitButton));
        QVERIFY(TestSupport::saveScreenshot(&wizard, QStringLiteral("switchover-2-preflight.png")));
        next(&wizard)->click();
        QCOMPARE(wizard.currentId(), int(SwitchoverWizard::RunPage));
        QCOMPARE(made->startedWith, QStringLiteral("kernel update on swarm-01"));
        QCOMPARE(wizard.runPage()->stepState(QStringLiteral("switchover/preflight/lag")),
                 QStringLiteral("running"));
        QVERIFY(!next(&wizard)->isEnabled());
        QTRY_VERIFY(wizard.runPage()->isFinished());
        QCOMPARE(wizard.runPage()->stepState(QStringLiteral("switchover/act/promote")),
                 QStringLiteral("ok"));
        QCOMPARE(wizard.runPage()->events()->count(), 3);
        QVERIFY(next(&wizard)->isEnabled());
        // The cluster has changed: there is no way back to the preflight.
        QVERIFY(!wizard.button(QWizard::BackButton)->isVisible() ||
                !wizard.button(QWizard::BackButton)->isEnabled());
        QVERIFY(wizard.runPage()->title().startsWith(u"Finished"));
        QVERIFY(TestSupport::saveScreenshot(&wizard, QStringLiteral("switchover-3-run.png")));
        next(&wizard)->click();
        QCOMPARE(wizard.currentId(), int(SwitchoverWizard::ResultPage));
        const QString result = wizard.resultLabel()->text();
        QVERIFY2(result.contains(u"pg-2") && result.contains(u"1.12 s") &&
                     result.contains(u"0 of 812"),
                 qPrintable(result));
        QVERIFY(TestSupport::saveScreenshot(&wizard, QStringLiteral("switchover-4-result.png")));
    }

    void switchoverRefusedCannotStart()
    {
        SwitchoverWizard wizard(cluster(), [](const QString &target, QObject *parent) {
            auto *run = new ScriptedRun(QStringLiteral("switchover"), target, parent);
            run->refusalList = {
                QStringLiteral("pgpool on swarm-02 sends writes to pg-3, not to the primary pg-1")};
            return run;
        });
        wizard.show();
        QVERIFY(QTest::qWaitForWindowExposed(&wizard));
        wizard.reasonEdit()->setText(QStringLiteral("test"));
        next(&wizard)->click();
        QCOMPARE(wizard.currentId(), int(SwitchoverWizard::PreflightPage));
        QVERIFY(wizard.refusalsLabel()->isVisible());
        QVERIFY(wizard.refusalsLabel()->text().contains(u"pgpool on swarm-02"));
        QVERIFY(!next(&wizard)->isEnabled());
        QVERIFY(TestSupport::saveScreenshot(&wizard, QStringLiteral("switchover-2-refused.png")));
    }

    void drillScenarioPageValidates()
    {
        DrillWizard wizard([](const QString &scenario, QObject *parent) {
            return new ScriptedRun(QStringLiteral("drill"), scenario, parent);
        });
        wizard.show();
        QVERIFY(QTest::qWaitForWindowExposed(&wizard));
        QCOMPARE(DrillWizard::scenarios().size(), 6);
        for (const auto &s : DrillWizard::scenarios())
            QVERIFY(wizard.findChild<QRadioButton *>(QStringLiteral("scenario_") + s.name));
        QVERIFY(!next(&wizard)->isEnabled());
        wizard.selectScenario(QStringLiteral("kill-pgpool"));
        QVERIFY(!next(&wizard)->isEnabled()); // no reason yet
        wizard.reasonEdit()->setText(QStringLiteral("drill"));
        QVERIFY(next(&wizard)->isEnabled());
        wizard.reasonEdit()->clear();
        QVERIFY(!next(&wizard)->isEnabled());
    }

    void drillRunsToItsReport()
    {
        DrillWizard wizard([](const QString &scenario, QObject *parent) {
            auto *run = new ScriptedRun(QStringLiteral("drill"), scenario, parent);
            run->finalReport = fixtureReport();
            return run;
        });
        wizard.show();
        QVERIFY(QTest::qWaitForWindowExposed(&wizard));
        wizard.selectScenario(QStringLiteral("kill-primary"));
        wizard.reasonEdit()->setText(QStringLiteral("quarterly failover drill"));
        QVERIFY(TestSupport::saveScreenshot(&wizard, QStringLiteral("drill-1-scenario.png")));
        next(&wizard)->click();
        QCOMPARE(wizard.currentId(), int(DrillWizard::PredictionPage));
        QVERIFY(wizard.predictionView()->toPlainText().contains(u"kill-primary"));
        QVERIFY(TestSupport::saveScreenshot(&wizard, QStringLiteral("drill-2-prediction.png")));
        next(&wizard)->click();
        QTRY_VERIFY(wizard.runPage()->isFinished());
        QVERIFY(TestSupport::saveScreenshot(&wizard, QStringLiteral("drill-3-run.png")));
        next(&wizard)->click();
        QCOMPARE(wizard.currentId(), int(DrillWizard::ReportPage));
        QCOMPARE(wizard.reportView()->report().scenario, QStringLiteral("kill-primary"));
        QCOMPARE(wizard.reportView()->report().rtoSeconds, 4.62);
        QVERIFY(wizard.reportView()->words()->text().contains(u"4.62"));
        wizard.resize(1200, 900);
        QVERIFY(TestSupport::saveScreenshot(&wizard, QStringLiteral("drill-4-report.png")));
    }

    void closingDuringARunCancelsIt()
    {
        ScriptedRun *made = nullptr;
        DrillWizard wizard([&made](const QString &scenario, QObject *parent) {
            made = new ScriptedRun(QStringLiteral("drill"), scenario, parent);
            return made;
        });
        wizard.show();
        wizard.selectScenario(QStringLiteral("kill-pgpool"));
        wizard.reasonEdit()->setText(QStringLiteral("drill"));
        next(&wizard)->click();
        next(&wizard)->click();
        QVERIFY(made && made->isRunning());
        wizard.reject();
        QCOMPARE(made->cancels, 1);
        QVERIFY(wizard.isVisible());
        QTRY_VERIFY(wizard.runPage()->isFinished());
    }
};

QTEST_MAIN(TestOperationWizards)
#include "tst_operationwizards.moc"
