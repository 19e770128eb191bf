// RecentClustersModel under QAbstractItemModelTester: touching moves entries
// to the top, the list is capped, entries are removed and restored.

#include "models/recentclustersmodel.h"

#include <QAbstractItemModelTester>
#include <QTest>

using namespace Pilothouse;

class TestRecentClustersModel final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void mutatorsUnderTester()
    {
        RecentClustersModel model;
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        const QDateTime when(QDate(2026, 11, 26), QTime(9, 0), Qt::UTC);
        for (int i = 0; i < RecentClustersModel::MaxEntries + 3; ++i) {
            model.touch(QStringLiteral("/inv/%1.yaml").arg(i), QStringLiteral("c%1").arg(i),
                        when.addSecs(i));
        }
        QCOMPARE(model.rowCount(), RecentClustersModel::MaxEntries);
        QCOMPARE(model.index(0).data(RecentClustersModel::NameRole).toString(),
                 QStringLiteral("c12"));

        // Touching an entry already listed moves it to the top.
        model.touch(QStringLiteral("/inv/5.yaml"), QStringLiteral("c5"), when.addSecs(100));
        QCOMPARE(model.rowCount(), RecentClustersModel::MaxEntries);
        QCOMPARE(model.index(0).data(RecentClustersModel::PathRole).toString(),
                 QStringLiteral("/inv/5.yaml"));

        model.remove(QStringLiteral("/inv/12.yaml"));
        model.remove(QStringLiteral("/not/listed.yaml"));
        QCOMPARE(model.rowCount(), RecentClustersModel::MaxEntries - 1);

        const QVariantList saved = model.toVariant();
        RecentClustersModel restored;
        QAbstractItemModelTester restoredTester(
            &restored, QAbstractItemModelTester::FailureReportingMode::QtTest);
        restored.fromVariant(saved);
        QCOMPARE(restored.rowCount(), model.rowCount());
        QCOMPARE(restored.index(0).data(RecentClustersModel::OpenedRole).toDateTime(),
                 when.addSecs(100));
        restored.fromVariant(
            {QVariantMap{{QStringLiteral("path"), QString()}}}); // no path: skipped
        QCOMPARE(restored.rowCount(), 0);
    }
};

QTEST_MAIN(TestRecentClustersModel)
#include "tst_recentclustersmodel.moc"
