// LabStepsModel under QAbstractItemModelTester through a whole `lab up` run:
// steps start, finish, fail, restart, and the model is cleared.

#include "models/labstepsmodel.h"

#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QTest>

using namespace Pilothouse;

class TestLabStepsModel final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void mutatorsUnderTester()
    {
        LabStepsModel model;
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        QSignalSpy progress(&model, &LabStepsModel::progressChanged);
        model.stepStarted(1, 3, QStringLiteral("keys and secrets"));
        model.stepFinished(1, 0.3);
        model.stepStarted(2, 3, QStringLiteral("start the engines"));
        QCOMPARE(model.rowCount(), 2);
        QCOMPARE(model.finishedCount(), 1);
        QCOMPARE(model.index(1).data(LabStepsModel::StateRole).toInt(),
                 int(LabStepsModel::State::Running));

        model.failed();
        QCOMPARE(model.index(1).data(LabStepsModel::StateRole).toInt(),
                 int(LabStepsModel::State::Failed));
        QVERIFY(model.index(1).data().toString().contains(QStringLiteral("FAILED")));

        // A retry restarts step 2 in place.
        model.stepStarted(2, 3, QStringLiteral("start the engines"));
        QCOMPARE(model.rowCount(), 2);
        model.stepFinished(2, 4.5);
        model.stepFinished(9, 1.0); // unknown step: ignored
        model.stepStarted(3, 3, QStringLiteral("deploy"));
        model.stepFinished(3, 20.0);
        QCOMPARE(model.finishedCount(), 3);
        QCOMPARE(model.index(2).data(LabStepsModel::SecondsRole).toDouble(), 20.0);
        QCOMPARE(progress.last().at(0).toInt(), 3);

        model.clear();
        QCOMPARE(model.rowCount(), 0);
        QCOMPARE(model.total(), 0);
    }
};

QTEST_MAIN(TestLabStepsModel)
#include "tst_labstepsmodel.moc"
