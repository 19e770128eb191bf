// The audit dock over the fixture trail (fixtures/audit.jsonl): newest first,
// filtered by text and failures, the chain's state in icon and words, and a
// broken chain said so.

#include "models/auditmodel.h"
#include "ui/operations/auditdock.h"

#include <QCheckBox>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QSortFilterProxyModel>
#include <QTemporaryDir>
#include <QTest>
#include <QTreeView>

#include "tests/guisupport.h"

using namespace Pilothouse;

class TestAuditDock final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void showsFiltersAndVerifies()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("cluster.jsonl"));
        QVERIFY(QFile::copy(
            QStringLiteral(PILOTHOUSE_SOURCE_DIR "/tests/gui/operations/fixtures/audit.jsonl"),
            path));
        QFile::setPermissions(path, QFile::ReadOwner | QFile::WriteOwner);
        AuditModel model;
        model.setFilePath(path, 0);
        AuditDock dock;
        dock.setModel(&model);
        dock.resize(1300, 320);
        dock.show();
        QVERIFY(QTest::qWaitForWindowExposed(&dock));
        QCOMPARE(dock.filterModel()->rowCount(), 8);
        QCOMPARE(dock.filterModel()->index(0, 0).data(AuditModel::SeqRole).toLongLong(), 8);
        QVERIFY2(dock.chainLabel()->text().startsWith(u"Chain verified"),
                 qPrintable(dock.chainLabel()->text()));
        QCOMPARE(dock.findChild<QLabel *>(QStringLiteral("auditChainIcon"))
                     ->property("chainState")
                     .toString(),
                 QStringLiteral("ok"));
        QVERIFY(TestSupport::saveScreenshot(&dock, QStringLiteral("audit-dock.png")));

        dock.filterEdit()->setText(QStringLiteral("pcp_promote"));
        QCOMPARE(dock.filterModel()->rowCount(), 1);
        QVERIFY(dock.windowTitle().contains(u"1 of 8"));
        dock.filterEdit()->clear();
        dock.failuresOnly()->setChecked(true);
        QCOMPARE(dock.filterModel()->rowCount(), 1);
        QCOMPARE(dock.filterModel()->index(0, 0).data(AuditModel::SeqRole).toLongLong(), 7);
        dock.failuresOnly()->setChecked(false);

        // An edited entry: said in words and icon, the row marked.
        QFile f(path);
        QVERIFY(f.open(QIODevice::ReadOnly));
        QByteArray all = f.readAll();
        f.close();
        all.replace("\"target\":\"pg-2\"", "\"target\":\"pg-3\"");
        QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
        f.write(all);
        f.close();
        model.poll();
        QVERIFY2(dock.chainLabel()->text().contains(u"BROKEN") &&
                     dock.chainLabel()->text().contains(u"seq 6 was edited"),
                 qPrintable(dock.chainLabel()->text()));
        QCOMPARE(dock.findChild<QLabel *>(QStringLiteral("auditChainIcon"))
                     ->property("chainState")
                     .toString(),
                 QStringLiteral("critical"));
        dock.failuresOnly()->setChecked(true);
        QCOMPARE(dock.filterModel()->rowCount(), 2); // the failed command and the edited entry
        dock.failuresOnly()->setChecked(false);
        QVERIFY(TestSupport::saveScreenshot(&dock, QStringLiteral("audit-dock-broken.png")));
    }
};

QTEST_MAIN(TestAuditDock)
#include "tst_auditdock.moc"
