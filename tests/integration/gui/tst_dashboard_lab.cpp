// The console's window on the real lab: the overview shows every layer as
// the cluster is, a killed standby turns down within 2 s and comes back, and
// a finding clicked in its dock selects what it concerns on the diagram.

#include "app/application.h"
#include "app/clustersession.h"
#include "models/findingsmodel.h"
#include "ui/clusterview.h"
#include "ui/docks/findingsdock.h"
#include "ui/mainwindow.h"
#include "ui/overview/overviewscene.h"
#include "ui/overview/overviewview.h"

#include <QElapsedTimer>
#include <QSignalSpy>
#include <QTest>
#include <QTreeView>

#include "tests/guisupport.h"
#include "tests/integration/labaccess.h"

using namespace Pilothouse;

class TestDashboardLab final : public QObject
{
    Q_OBJECT

private:
    LabAccess m_lab;
    std::unique_ptr<Application> m_console;
    ClusterView *m_view = nullptr;

    OverviewScene *scene() const { return m_view->overview()->scene(); }

    QStringList keysWith(const QString &prefix, bool nested = false) const
    {
        QStringList out;
        for (const QString &k : scene()->keys()) {
            if (k.startsWith(prefix) && (nested || !k.contains(u'/')))
                out.append(k);
        }
        return out;
    }

    QStringList withSummary(const QStringList &keys, const QString &start) const
    {
        QStringList out;
        for (const QString &k : keys) {
            if (scene()->summary(k).startsWith(start))
                out.append(k);
        }
        return out;
    }

    QString describe() const
    {
        QString text;
        for (const QString &k : scene()->keys())
            text += k + QStringLiteral(": ") + scene()->summary(k) + u'\n';
        return text;
    }

    // One primary, two standbys streaming, three etcd members with a leader,
    // two pgpools seeing three backends each, the route, six app replicas.
    bool healthy() const
    {
        const QStringList pg = keysWith(QStringLiteral("pg:"));
        return keysWith(QStringLiteral("host:")).size() == 3 && pg.size() == 3 &&
               withSummary(pg, QStringLiteral("primary")).size() == 1 &&
               withSummary(pg, QStringLiteral("standby")).size() == 2 &&
               withSummary(keysWith(QStringLiteral("repl:")), QStringLiteral("streaming")).size() ==
                   2 &&
               keysWith(QStringLiteral("etcd:")).size() == 3 &&
               withSummary(keysWith(QStringLiteral("etcd:")), QStringLiteral("leader")).size() ==
                   1 &&
               keysWith(QStringLiteral("pgpool:")).size() == 2 &&
               keysWith(QStringLiteral("pgpool:"), true).size() == 2 + 6 &&
               !keysWith(QStringLiteral("route:")).isEmpty() &&
               keysWith(QStringLiteral("app:")).size() == 6;
    }

    static void save(QWidget *w, const QString &name)
    {
        QVERIFY(TestSupport::saveScreenshot(w, name, QSize(1400, 900)));
    }

private Q_SLOTS:
    void initTestCase()
    {
        // The fault tests before this one leave the lab healing (a rejoining node,
        // an isolated host's Swarm and etcd reconnecting): wait for it.
        QElapsedTimer healing;
        healing.start();
        QVERIFY2(m_lab.open(), qPrintable(m_lab.error()));
        qInfo("lab healthy after %lld ms", healing.elapsed());
        m_console = std::make_unique<Application>();
        m_console->window()->resize(1600, 1000);
        m_console->show();
        QVERIFY(QTest::qWaitForWindowExposed(m_console->window()));
        QElapsedTimer opened;
        opened.start();
        m_console->openInventory(m_lab.inventory().path);
        ClusterSession *session = m_console->session(m_lab.inventory().path);
        QVERIFY(session);
        QSignalSpy shown(session, &ClusterSession::firstOverviewShown);
        QVERIFY(shown.wait(15000));
        qInfo("first overview %lld ms after the inventory was opened", opened.elapsed());
        m_view = m_console->window()->currentCluster();
        QVERIFY(m_view);
    }

    void overviewShowsEveryLayer()
    {
        // A previous test may have left a node rejoining: give the lab time to settle.
        QTRY_VERIFY2_WITH_TIMEOUT(healthy(), qPrintable(describe()), 90000);
        const QStringList route = keysWith(QStringLiteral("route:"));
        QVERIFY2(scene()->summary(route.first()).contains(u"200"),
                 qPrintable(scene()->summary(route.first())));
        save(m_console->window(), QStringLiteral("dashboard-lab-healthy.png"));
    }

    void killedStandbyShowsDownAndComesBack()
    {
        QTRY_VERIFY2_WITH_TIMEOUT(healthy(), qPrintable(describe()), 90000);
        const QString standby =
            withSummary(keysWith(QStringLiteral("pg:")), QStringLiteral("standby")).first();
        const QString name = standby.mid(3);
        const LabAccess::Run kill =
            LabAccess::local(QStringLiteral(PILOTHOUSE_SOURCE_DIR "/deploy-stacks/lab/lab"),
                             {QStringLiteral("kill-container"), name});
        QVERIFY2(kill.ok(), kill.err.constData());
        QElapsedTimer since;
        since.start();
        QTRY_VERIFY2_WITH_TIMEOUT(scene()->summary(standby).startsWith(u"down"),
                                  qPrintable(scene()->summary(standby)), 2000);
        qInfo("%s drawn down %lld ms after the kill command returned", qPrintable(name),
              since.elapsed());
        QVERIFY2(scene()->summary(QStringLiteral("repl:") + name).startsWith(u"broken"),
                 qPrintable(scene()->summary(QStringLiteral("repl:") + name)));
        save(m_console->window(), QStringLiteral("dashboard-lab-standby-down.png"));

        // A finding about it is listed; clicking it selects the node on the diagram.
        QTreeView *findings = m_view->findingsDock()->view();
        QModelIndex row;
        QTRY_VERIFY_WITH_TIMEOUT(
            [&] {
                QAbstractItemModel *model = findings->model();
                for (int r = 0; r < model->rowCount(); ++r) {
                    const QModelIndex i = model->index(r, 0);
                    if (i.data(FindingsModel::ObjectsRole).toStringList().contains(standby)) {
                        row = i;
                        return true;
                    }
                }
                return false;
            }(),
            5000);
        scene()->selectKeys({});
        QVERIFY(!scene()->selectedKeys().contains(standby));
        const QRect cell = findings->visualRect(row);
        QVERIFY(cell.isValid());
        QTest::mouseClick(findings->viewport(), Qt::LeftButton, {}, cell.center());
        QTRY_VERIFY2_WITH_TIMEOUT(scene()->selectedKeys().contains(standby),
                                  qPrintable(scene()->selectedKeys().join(u',')), 1000);

        // Swarm restarts the container; repmgr's node rejoins and streams again.
        QTRY_VERIFY2_WITH_TIMEOUT(
            scene()->summary(standby).startsWith(u"standby") &&
                scene()->summary(QStringLiteral("repl:") + name).startsWith(u"streaming"),
            qPrintable(scene()->summary(standby)), 90000);
        qInfo("%s back as a streaming standby %lld ms after the kill", qPrintable(name),
              since.elapsed());
    }

    void cleanupTestCase() { m_console.reset(); }
};

QTEST_MAIN(TestDashboardLab)
#include "tst_dashboard_lab.moc"
