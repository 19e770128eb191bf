// The switchover, drill and pgpool repair wizards offscreen against the real
// lab, driven as an operator would: pick, type a reason, read the preflight,
// start, watch, read the result (a switchover there and back; the kill-pgpool
// and kill-primary drills; a pgpool repair of a healthy cluster, whose
// preflight reads every pgpool first and which then changes nothing). Each run that changes the
// cluster holds the lab's cluster lock (/var/lib/pilothouse-lab/cluster.flock) and leaves pg-1
// primary and `lab status` passing before it lets go. Screenshots of every page go to
// test-output/screenshots/lab-*.png.

#include "app/application.h"
#include "app/clustersession.h"
#include "app/operations/switchover.h"
#include "app/operationsbridge.h"
#include "models/auditmodel.h"
#include "models/drillreport.h"
#include "ui/clusterview.h"
#include "ui/mainwindow.h"
#include "ui/operations/auditdock.h"
#include "ui/operations/drillreportview.h"
#include "ui/operations/drillwizard.h"
#include "ui/operations/maintenancewizard.h"
#include "ui/operations/switchoverwizard.h"

#include <QAbstractButton>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonDocument>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QSignalSpy>
#include <QTest>
#include <QTreeWidget>

#include "tests/guisupport.h"
#include "tests/integration/labaccess.h"
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

using namespace Pilothouse;

namespace {

const char *const LockPath = "/var/lib/pilothouse-lab/cluster.flock";
const QString LabScript = QStringLiteral(PILOTHOUSE_SOURCE_DIR "/deploy-stacks/lab/lab");

// The lab's cluster lock for one run: taken on construction (waiting for
// whoever holds it), released on destruction.
class ClusterLock final
{
public:
    ClusterLock()
    {
        m_fd = ::open(LockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
        if (m_fd >= 0 && ::flock(m_fd, LOCK_EX) != 0) {
            ::close(m_fd);
            m_fd = -1;
        }
    }
    ~ClusterLock()
    {
        if (m_fd >= 0)
            ::close(m_fd); // closing the last descriptor releases the flock
    }
    bool held() const { return m_fd >= 0; }

private:
    int m_fd = -1;
};

QAbstractButton *next(QWizard *w)
{
    QAbstractButton *commit = w->button(QWizard::CommitButton);
    return commit->isVisible() ? commit : w->button(QWizard::NextButton);
}

} // namespace

class TestOperationWizardsLab final : public QObject
{
    Q_OBJECT

private:
    LabAccess m_lab;
    std::unique_ptr<Application> m_console;
    ClusterSession *m_session = nullptr;
    OperationsBridge *m_bridge = nullptr;
    ClusterView *m_view = nullptr;

    QString primary() const
    {
        QString p;
        for (const PostgresNodeState &n : m_session->lastSnapshot().postgres) {
            if (n.reachable && n.role == u"primary")
                p += n.name;
        }
        return p;
    }

    int streamingStandbys() const
    {
        return int(SwitchoverWizard::candidates(m_session->lastSnapshot()).size());
    }

    QString describe() const
    {
        QString text;
        for (const PostgresNodeState &n : m_session->lastSnapshot().postgres)
            text += QStringLiteral("%1 %2 %3 %4; ")
                        .arg(n.name, n.reachable ? n.role : QStringLiteral("down"),
                             n.walReceiverStatus, n.upstream);
        return text;
    }

    static void shot(QWidget *w, const QString &name)
    {
        QVERIFY(TestSupport::saveScreenshot(w, QStringLiteral("lab-") + name, QSize(600, 400)));
    }

    bool labHealthy() const
    {
        return LabAccess::local(LabScript, {QStringLiteral("status")}, 60000).ok();
    }

    // One switchover through the wizard, from the current primary to `target`.
    void switchoverTo(const QString &target, const QString &tag)
    {
        // The cluster as the console sees it must allow it (every pgpool answering again
        // after the previous switchover, both standbys streaming).
        QTRY_VERIFY2_WITH_TIMEOUT(
            primary() != target && streamingStandbys() == 2 &&
                Switchover::refusals(m_session->lastSnapshot(), target,
                                     SwitchoverOptions().maxLagBytes)
                    .isEmpty(),
            qPrintable(describe() + Switchover::refusals(m_session->lastSnapshot(), target,
                                                         SwitchoverOptions().maxLagBytes)
                                        .join(u"; ")),
            180000);
        Q_EMIT m_view->operationRequested(QStringLiteral("switchover"));
        auto *wizard = qobject_cast<SwitchoverWizard *>(m_bridge->wizard());
        QVERIFY(wizard);
        QVERIFY(QTest::qWaitForWindowExposed(wizard));
        wizard->resize(1100, 800);
        QListWidget *targets = wizard->targetList();
        QCOMPARE(targets->count(), 2);
        for (int row = 0; row < targets->count(); ++row) {
            if (targets->item(row)->data(Qt::UserRole).toString() == target)
                targets->setCurrentRow(row);
        }
        QCOMPARE(wizard->selectedTarget(), target);
        QVERIFY(!next(wizard)->isEnabled());
        wizard->reasonEdit()->setText(QStringLiteral("gui lab test: switchover to %1").arg(target));
        QVERIFY(next(wizard)->isEnabled());
        shot(wizard, tag + QStringLiteral("-1-target.png"));
        next(wizard)->click();
        QCOMPARE(wizard->currentId(), int(SwitchoverWizard::PreflightPage));
        QVERIFY2(!wizard->refusalsLabel()->isVisible(),
                 qPrintable(wizard->refusalsLabel()->text()));
        QVERIFY(wizard->preflightView()->toPlainText().contains(target));
        shot(wizard, tag + QStringLiteral("-2-preflight.png"));
        next(wizard)->click();
        QCOMPARE(wizard->currentId(), int(SwitchoverWizard::RunPage));
        QTRY_VERIFY_WITH_TIMEOUT(wizard->runPage()->steps()->topLevelItemCount() > 0, 30000);
        shot(wizard, tag + QStringLiteral("-3-running.png"));
        QTRY_VERIFY_WITH_TIMEOUT(wizard->runPage()->isFinished(), 300000);
        shot(wizard, tag + QStringLiteral("-3-run.png"));
        const QJsonObject report = wizard->runPage()->report();
        qInfo("%s: %s", qPrintable(tag), qPrintable(wizard->runPage()->summary()));
        qInfo("write gap %s, lost %s",
              qPrintable(QString::fromUtf8(
                  QJsonDocument(report.value(QStringLiteral("write_gap_seconds")).toObject())
                      .toJson(QJsonDocument::Compact))),
              qPrintable(report.value(QStringLiteral("lost_writes")).toVariant().toString()));
        next(wizard)->click();
        QCOMPARE(wizard->currentId(), int(SwitchoverWizard::ResultPage));
        shot(wizard, tag + QStringLiteral("-4-result.png"));
        QVERIFY2(wizard->runPage()->finishedOk(), qPrintable(wizard->runPage()->summary()));
        QCOMPARE(report.value(QStringLiteral("new_primary")).toString(), target);
        QCOMPARE(report.value(QStringLiteral("lost_writes")).toInt(-1), 0);
        QVERIFY(wizard->resultLabel()->text().contains(target));
        wizard->button(QWizard::FinishButton)->click();
        QTRY_VERIFY(!m_bridge->wizard());
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY2(m_lab.ensurePrimary(QStringLiteral("pg-1")), qPrintable(m_lab.error()));
        m_console = std::make_unique<Application>();
        m_console->window()->resize(1600, 1000);
        m_console->show();
        QVERIFY(QTest::qWaitForWindowExposed(m_console->window()));
        m_console->openInventory(m_lab.inventory().path);
        m_session = m_console->session(m_lab.inventory().path);
        QVERIFY(m_session);
        QSignalSpy shown(m_session, &ClusterSession::firstOverviewShown);
        QVERIFY(shown.wait(20000));
        m_view = m_console->window()->currentCluster();
        m_bridge = m_session->findChild<OperationsBridge *>();
        QVERIFY(m_view && m_bridge);
    }

    // A test that failed half-way may leave its wizard open (a run that
    // finished badly): close it, so that the next test opens its own.
    void init()
    {
        if (QWizard *left = m_bridge ? m_bridge->wizard() : nullptr) {
            QTRY_VERIFY_WITH_TIMEOUT(!left->findChild<OperationRunPage *>() ||
                                         !left->findChild<OperationRunPage *>()->run() ||
                                         !left->findChild<OperationRunPage *>()->run()->isRunning(),
                                     300000);
            left->close();
            QTRY_VERIFY(!m_bridge->wizard());
        }
    }

    void switchoverThereAndBack()
    {
        ClusterLock lock;
        QVERIFY(lock.held());
        QVERIFY2(m_lab.ensurePrimary(QStringLiteral("pg-1")), qPrintable(m_lab.error()));
        QTRY_VERIFY2_WITH_TIMEOUT(primary() == u"pg-1" && streamingStandbys() == 2,
                                  qPrintable(describe()), 60000);
        switchoverTo(QStringLiteral("pg-2"), QStringLiteral("switchover-to-pg-2"));
        QTRY_VERIFY2_WITH_TIMEOUT(primary() == u"pg-2", qPrintable(describe()), 60000);
        switchoverTo(QStringLiteral("pg-1"), QStringLiteral("switchover-to-pg-1"));
        QTRY_VERIFY2_WITH_TIMEOUT(primary() == u"pg-1" && streamingStandbys() == 2,
                                  qPrintable(describe()), 180000);
        // The audit dock shows what the switchovers recorded, the chain checked.
        QTRY_VERIFY_WITH_TIMEOUT(m_bridge->auditModel()->rowCount() > 0, 5000);
        QCOMPARE(m_bridge->auditModel()->chainState(), AuditModel::ChainState::Intact);
        m_view->auditDock()->raise();
        shot(m_console->window(), QStringLiteral("audit-dock.png"));
        QTRY_VERIFY_WITH_TIMEOUT(labHealthy(), 180000);
    }

    void drill_data()
    {
        QTest::addColumn<QString>("scenario");
        QTest::newRow("kill-pgpool") << QStringLiteral("kill-pgpool");
        QTest::newRow("kill-primary") << QStringLiteral("kill-primary");
    }

    void drill()
    {
        QFETCH(QString, scenario);
        const QString tag = QStringLiteral("drill-") + scenario;
        ClusterLock lock;
        QVERIFY(lock.held());
        QVERIFY2(m_lab.ensurePrimary(QStringLiteral("pg-1")), qPrintable(m_lab.error()));
        QTRY_VERIFY2_WITH_TIMEOUT(primary() == u"pg-1" && streamingStandbys() == 2,
                                  qPrintable(describe()), 60000);
        Q_EMIT m_view->operationRequested(QStringLiteral("drill"));
        auto *wizard = qobject_cast<DrillWizard *>(m_bridge->wizard());
        QVERIFY(wizard);
        QVERIFY(QTest::qWaitForWindowExposed(wizard));
        wizard->resize(1300, 950);
        wizard->selectScenario(scenario);
        QVERIFY(!next(wizard)->isEnabled());
        wizard->reasonEdit()->setText(QStringLiteral("gui lab test: %1 drill").arg(scenario));
        shot(wizard, tag + QStringLiteral("-1-scenario.png"));
        next(wizard)->click();
        QCOMPARE(wizard->currentId(), int(DrillWizard::PredictionPage));
        QVERIFY2(!wizard->refusalsLabel()->isVisible(),
                 qPrintable(wizard->refusalsLabel()->text()));
        shot(wizard, tag + QStringLiteral("-2-prediction.png"));
        next(wizard)->click();
        QTRY_VERIFY_WITH_TIMEOUT(wizard->runPage()->steps()->topLevelItemCount() > 0, 30000);
        QTest::qWait(8000);
        shot(wizard, tag + QStringLiteral("-3-running.png"));
        QTRY_VERIFY_WITH_TIMEOUT(wizard->runPage()->isFinished(), 900000);
        shot(wizard, tag + QStringLiteral("-3-run.png"));
        qInfo("%s: %s", qPrintable(tag), qPrintable(wizard->runPage()->summary()));
        next(wizard)->click();
        QCOMPARE(wizard->currentId(), int(DrillWizard::ReportPage));
        shot(wizard, tag + QStringLiteral("-4-report.png"));
        const DrillReport report = wizard->reportView()->report();
        QCOMPARE(report.scenario, scenario);
        QVERIFY2(wizard->runPage()->finishedOk(), qPrintable(wizard->runPage()->summary()));
        QVERIFY(report.healthyAfter);
        QVERIFY(report.rtoSeconds >= 0);
        QVERIFY(!report.writers.isEmpty());
        QCOMPARE(DrillReportView::exportHtml(
                     report, TestSupport::screenshotPath(QStringLiteral("lab-") + tag +
                                                         QStringLiteral("-report.html"))),
                 QString());
        QCOMPARE(DrillReportView::exportPdf(
                     report, TestSupport::screenshotPath(QStringLiteral("lab-") + tag +
                                                         QStringLiteral("-report.pdf"))),
                 QString());
        QFile json(TestSupport::screenshotPath(QStringLiteral("lab-") + tag +
                                               QStringLiteral("-report.json")));
        QVERIFY(json.open(QIODevice::WriteOnly | QIODevice::Truncate));
        json.write(QJsonDocument(report.toJson()).toJson());
        json.close();
        wizard->button(QWizard::FinishButton)->click();
        QTRY_VERIFY2_WITH_TIMEOUT(primary() == u"pg-1" && streamingStandbys() == 2,
                                  qPrintable(describe()), 240000);
        QTRY_VERIFY_WITH_TIMEOUT(labHealthy(), 180000);
    }

    void pgpoolRepairOfAHealthyCluster()
    {
        ClusterLock lock;
        QVERIFY(lock.held());
        QVERIFY2(m_lab.ensurePrimary(QStringLiteral("pg-1")), qPrintable(m_lab.error()));
        Q_EMIT m_view->operationRequested(QStringLiteral("pgpool-repair"));
        auto *wizard = qobject_cast<MaintenanceWizard *>(m_bridge->wizard());
        QVERIFY(wizard);
        QVERIFY(QTest::qWaitForWindowExposed(wizard));
        wizard->resize(1100, 800);
        QVERIFY(!next(wizard)->isEnabled());
        wizard->reasonEdit()->setText(QStringLiteral("gui lab test: pgpool repair"));
        shot(wizard, QStringLiteral("pgpool-repair-1-reason.png"));
        next(wizard)->click();
        QCOMPARE(wizard->currentId(), int(MaintenanceWizard::PreflightPage));
        // The preflight reads every layer and opens a session through each pgpool.
        QVERIFY(!next(wizard)->isEnabled() || !wizard->operation()->isPreparing());
        QTRY_VERIFY_WITH_TIMEOUT(!wizard->operation()->isPreparing(), 60000);
        QVERIFY2(!wizard->refusalsLabel()->isVisible(),
                 qPrintable(wizard->refusalsLabel()->text()));
        const QString preflight = wizard->preflightView()->toPlainText();
        QVERIFY2(preflight.contains(u"The primary (as the servers say): pg-1") &&
                     preflight.contains(u"sessions work") && preflight.contains(u"changes nothing"),
                 qPrintable(preflight));
        QVERIFY(next(wizard)->isEnabled());
        shot(wizard, QStringLiteral("pgpool-repair-2-preflight.png"));
        next(wizard)->click();
        QTRY_VERIFY_WITH_TIMEOUT(wizard->runPage()->isFinished(), 120000);
        shot(wizard, QStringLiteral("pgpool-repair-3-run.png"));
        QVERIFY2(wizard->runPage()->finishedOk(), qPrintable(wizard->runPage()->summary()));
        QVERIFY2(wizard->runPage()->summary().contains(u"nothing was changed"),
                 qPrintable(wizard->runPage()->summary()));
        next(wizard)->click();
        QCOMPARE(wizard->currentId(), int(MaintenanceWizard::ResultPage));
        QVERIFY(wizard->detailsView()->toPlainText().contains(u"agrees"));
        shot(wizard, QStringLiteral("pgpool-repair-4-result.png"));
        wizard->button(QWizard::FinishButton)->click();
        QTRY_VERIFY(!m_bridge->wizard());
    }

    void cleanupTestCase() { m_console.reset(); }
};

QTEST_MAIN(TestOperationWizardsLab)
#include "tst_operation_wizards_lab.moc"
