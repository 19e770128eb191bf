#include "models/hostsmodel.h"
#include "models/labstepsmodel.h"
#include "models/recentclustersmodel.h"

#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QTest>

using namespace Pilothouse;

class TestModels final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void hostsUpdateByKey()
    {
        HostsModel model;
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
        QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
        QSignalSpy removed(&model, &QAbstractItemModel::rowsRemoved);
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);

        InventoryHost a{QStringLiteral("swarm-01"),
                        QStringLiteral("10.213.0.11"),
                        15122,
                        QStringLiteral("root"),
                        {},
                        {QStringLiteral("all")}};
        InventoryHost b = a;
        b.name = QStringLiteral("swarm-02");
        b.address = QStringLiteral("10.213.0.12");
        model.setHosts({a, b});
        QCOMPARE(model.rowCount(), 2);
        QCOMPARE(inserted.size(), 2);

        model.setHosts({a, b}); // same data: no signal at all
        QCOMPARE(changed.size(), 0);

        b.sshPort = 22;
        model.setHosts({b});
        QCOMPARE(removed.size(), 1);
        QCOMPARE(changed.size(), 1);
        QCOMPARE(model.rowCount(), 1);
        QCOMPARE(model.index(0, HostsModel::Name).data().toString(), QStringLiteral("swarm-02"));
        QCOMPARE(model.index(0, HostsModel::SshPort).data(HostsModel::RawValueRole).toInt(), 22);
        QCOMPARE(reset.size(), 0);
    }

    void labSteps()
    {
        LabStepsModel model;
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        QSignalSpy progress(&model, &LabStepsModel::progressChanged);
        model.stepStarted(1, 3, QStringLiteral("keys"));
        model.stepFinished(1, 0.4);
        model.stepStarted(2, 3, QStringLiteral("engines"));
        QCOMPARE(model.rowCount(), 2);
        QCOMPARE(model.finishedCount(), 1);
        QCOMPARE(progress.last().at(0).toInt(), 1);
        QCOMPARE(progress.last().at(1).toInt(), 3);
        model.failed();
        QCOMPARE(model.index(1).data(LabStepsModel::StateRole).toInt(),
                 int(LabStepsModel::State::Failed));
        QVERIFY(model.index(1).data().toString().contains(QStringLiteral("FAILED")));
        QCOMPARE(model.index(0).data(LabStepsModel::SecondsRole).toDouble(), 0.4);
        model.clear();
        QCOMPARE(model.rowCount(), 0);
    }

    void recentClusters()
    {
        RecentClustersModel model;
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        const QDateTime t0 = QDateTime::fromSecsSinceEpoch(1'700'000'000);
        for (int i = 0; i < RecentClustersModel::MaxEntries + 3; ++i)
            model.touch(QStringLiteral("/inv/%1.yaml").arg(i), QStringLiteral("c%1").arg(i),
                        t0.addSecs(i));
        QCOMPARE(model.rowCount(), RecentClustersModel::MaxEntries);
        model.touch(QStringLiteral("/inv/5.yaml"), QStringLiteral("c5"), t0.addSecs(100));
        QCOMPARE(model.index(0).data(RecentClustersModel::PathRole).toString(),
                 QStringLiteral("/inv/5.yaml"));
        QCOMPARE(model.rowCount(), RecentClustersModel::MaxEntries);

        RecentClustersModel copy;
        QAbstractItemModelTester copyTester(&copy,
                                            QAbstractItemModelTester::FailureReportingMode::QtTest);
        copy.fromVariant(model.toVariant());
        QCOMPARE(copy.rowCount(), model.rowCount());
        QCOMPARE(copy.index(0).data(RecentClustersModel::OpenedRole).toDateTime(), t0.addSecs(100));
        copy.remove(QStringLiteral("/inv/5.yaml"));
        QCOMPARE(copy.rowCount(), RecentClustersModel::MaxEntries - 1);
    }
};

QTEST_GUILESS_MAIN(TestModels)
#include "tst_models.moc"
