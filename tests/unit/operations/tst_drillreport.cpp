// DrillReport's JSON: the keys the CLI, the GUI's report view and the
// benchmark read, a round trip that keeps every field, and defaults for a
// report that is missing keys.

#include "models/drillreport.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>

using namespace Pilothouse;

namespace {

DrillReport sample()
{
    DrillReport r;
    r.scenario = QStringLiteral("kill-primary");
    r.reason = QStringLiteral("quarterly drill");
    r.startedAt = QDateTime(QDate(2026, 11, 26), QTime(12, 30, 1, 250), Qt::UTC);
    r.outcome = QStringLiteral("succeeded");
    r.rtoSeconds = 4.5;
    r.rtoPgpoolSeconds = 3.25;
    r.rtoAppSeconds = 4.5;
    r.rpoWrites = 0;
    r.twoPrimariesSeconds = 0.5;
    r.healthyAfter = true;
    r.healthyAfterSeconds = 41.125;
    r.oldPrimary = QStringLiteral("pg-1");
    r.newPrimary = QStringLiteral("pg-2");
    r.fault = {QStringLiteral("kill-container"), QStringLiteral("pg-1@swarm-01"), 2.0, 30.5};
    r.phases = {{QStringLiteral("detection"), 2.0, 1.5},
                {QStringLiteral("promotion"), 3.5, 0.75},
                {QStringLiteral("pgpool catch-up pgpool@swarm-01"), 4.25, 1.0}};
    r.events = {{2.0, QStringLiteral("drill"), QStringLiteral("killed pg-1")},
                {3.5, QStringLiteral("repmgr"), QStringLiteral("pg-2 promoted")}};
    DrillReport::Writer w;
    w.path = QStringLiteral("pgpool@swarm-01");
    w.attempts = 200;
    w.acknowledged = 190;
    w.failed = 10;
    w.lost = 1;
    w.writeGapSeconds = 3.25;
    w.gaps = {{2.0, 5.25}};
    DrillReport::Writer app;
    app.path = QStringLiteral("app");
    app.attempts = 10;
    app.acknowledged = 10;
    app.countedInRto = false;
    app.note = QStringLiteral("a note");
    r.writers = {w, app};
    r.prediction.seconds = 6.0;
    r.prediction.slowestLayer = QStringLiteral("repmgr");
    r.prediction.lines = {QStringLiteral("repmgr: 2 × 1 s"), QStringLiteral("pgpool: 1 s")};
    r.runbook = QJsonObject{{QStringLiteral("name"), QStringLiteral("drill")}};
    return r;
}

} // namespace

class TestDrillReport final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void keysAreTheContract()
    {
        const QJsonObject json = sample().toJson();
        const QStringList keys = {QStringLiteral("scenario"),
                                  QStringLiteral("reason"),
                                  QStringLiteral("started_at"),
                                  QStringLiteral("outcome"),
                                  QStringLiteral("error"),
                                  QStringLiteral("rto_seconds"),
                                  QStringLiteral("rto_pgpool_seconds"),
                                  QStringLiteral("rto_app_seconds"),
                                  QStringLiteral("rpo_writes"),
                                  QStringLiteral("two_primaries_seconds"),
                                  QStringLiteral("healthy_after"),
                                  QStringLiteral("healthy_after_seconds"),
                                  QStringLiteral("old_primary"),
                                  QStringLiteral("new_primary"),
                                  QStringLiteral("fault"),
                                  QStringLiteral("phases"),
                                  QStringLiteral("events"),
                                  QStringLiteral("writers"),
                                  QStringLiteral("prediction"),
                                  QStringLiteral("runbook")};
        for (const QString &k : keys)
            QVERIFY2(json.contains(k), qPrintable(k));
        QCOMPARE(json.value(QStringLiteral("started_at")).toString(),
                 QStringLiteral("2026-11-26T12:30:01.250Z"));
        const QJsonObject fault = json.value(QStringLiteral("fault")).toObject();
        QCOMPARE(fault.value(QStringLiteral("injected_at")).toDouble(), 2.0);
        const QJsonObject phase = json.value(QStringLiteral("phases")).toArray().at(1).toObject();
        QCOMPARE(phase.value(QStringLiteral("name")).toString(), QStringLiteral("promotion"));
        QCOMPARE(phase.value(QStringLiteral("seconds")).toDouble(), 0.75);
        const QJsonObject writer = json.value(QStringLiteral("writers")).toArray().at(0).toObject();
        QCOMPARE(writer.value(QStringLiteral("write_gap_seconds")).toDouble(), 3.25);
        QCOMPARE(writer.value(QStringLiteral("gaps"))
                     .toArray()
                     .at(0)
                     .toObject()
                     .value(QStringLiteral("to"))
                     .toDouble(),
                 5.25);
        QCOMPARE(json.value(QStringLiteral("prediction"))
                     .toObject()
                     .value(QStringLiteral("slowest_layer"))
                     .toString(),
                 QStringLiteral("repmgr"));
    }

    void roundTripKeepsEverything()
    {
        const DrillReport original = sample();
        const QByteArray text = QJsonDocument(original.toJson()).toJson();
        const DrillReport back = DrillReport::fromJson(QJsonDocument::fromJson(text).object());
        QCOMPARE(back.toJson(), original.toJson());
        QCOMPARE(back.startedAt, original.startedAt);
        QCOMPARE(back.phases.size(), 3);
        QCOMPARE(back.writer(QStringLiteral("app"))->attempts, 10);
        QVERIFY(back.writer(QStringLiteral("nowhere")) == nullptr);
        QCOMPARE(back.phase(QStringLiteral("promotion"))->startedAt, 3.5);
        QVERIFY(back.succeeded());
        QVERIFY(!back.writer(QStringLiteral("app"))->countedInRto);
        QVERIFY(back.writer(QStringLiteral("pgpool@swarm-01"))->countedInRto);
    }

    void missingKeysReadAsDefaults()
    {
        const DrillReport r = DrillReport::fromJson(
            QJsonObject{{QStringLiteral("scenario"), QStringLiteral("kill-pgpool")},
                        {QStringLiteral("rto_seconds"), QStringLiteral("not a number")}});
        QCOMPARE(r.scenario, QStringLiteral("kill-pgpool"));
        QCOMPARE(r.rtoSeconds, -1.0);
        QCOMPARE(r.rpoWrites, -1);
        QCOMPARE(r.fault.injectedAt, -1.0);
        QVERIFY(!r.startedAt.isValid());
        QVERIFY(!r.healthyAfter);
        QVERIFY(r.phases.isEmpty());
        QVERIFY(!r.succeeded());
    }
};

QTEST_GUILESS_MAIN(TestDrillReport)
#include "tst_drillreport.moc"
