#include "app/lab/labprogress.h"

#include <QTest>

using namespace Pilothouse;
using Kind = LabProgress::Line::Kind;

class TestLabProgress final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void stepStarted()
    {
        const auto l = LabProgress::parse(QStringLiteral("==> step 3/7: start the engines"));
        QVERIFY(l);
        QCOMPARE(l->kind, Kind::StepStarted);
        QCOMPARE(l->step, 3);
        QCOMPARE(l->total, 7);
        QCOMPARE(l->text, QStringLiteral("start the engines"));
    }

    void stepFinished()
    {
        const auto l = LabProgress::parse(
            QStringLiteral("[  12.3s] step 3/7 done: start the engines (took 4.1s)\n"));
        QVERIFY(l);
        QCOMPARE(l->kind, Kind::StepFinished);
        QCOMPARE(l->step, 3);
        QCOMPARE(l->text, QStringLiteral("start the engines"));
        QCOMPARE(l->seconds, 4.1);
    }

    void inventoryAndError()
    {
        auto l =
            LabProgress::parse(QStringLiteral("inventory: /var/lib/pilothouse-lab/inventory.yaml"));
        QVERIFY(l);
        QCOMPARE(l->kind, Kind::Inventory);
        QCOMPARE(l->text, QStringLiteral("/var/lib/pilothouse-lab/inventory.yaml"));
        l = LabProgress::parse(QStringLiteral("lab: error: swarm-02: dockerd did not start"));
        QVERIFY(l);
        QCOMPARE(l->kind, Kind::Error);
        QCOMPARE(l->text, QStringLiteral("swarm-02: dockerd did not start"));
    }

    void otherLinesAreIgnored()
    {
        QVERIFY(!LabProgress::parse(QStringLiteral("Creating service pilothouse_pg-1")));
        QVERIFY(!LabProgress::parse(QStringLiteral("inventory: relative/path.yaml")));
        QVERIFY(!LabProgress::parse(QString()));
    }
};

QTEST_GUILESS_MAIN(TestLabProgress)
#include "tst_labprogress.moc"
