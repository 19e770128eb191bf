// The runbook engine with fake steps: order, stop on error, timeouts, cancel
// in the middle of a step, parallel groups, undos and the report.

#include "app/operations/runbook.h"

#include <QElapsedTimer>
#include <QJsonArray>
#include <QSignalSpy>
#include <QTest>
#include <QTimer>

#include <memory>

using namespace Pilothouse;

namespace {

constexpr int WaitMs = 10000;

// What the fake steps did, in order: "start a", "end a", "abort a", "undo a".
struct Log
{
    QStringList lines;
    int count(const QString &line) const { return int(lines.count(line)); }
};

// A step that answers after `ms` (never, when ms < 0) with success or an error.
RunbookNode fake(const QString &name, int ms, bool ok, std::shared_ptr<Log> log, QObject *context,
                 int timeoutMs = 5000)
{
    RunbookNode node =
        RunbookNode::step(name, timeoutMs, [name, ms, ok, log, context](RunbookStep::Done done) {
            log->lines.append(QStringLiteral("start ") + name);
            if (ms < 0)
                return;
            QTimer::singleShot(ms, context, [name, ok, log, done] {
                log->lines.append(QStringLiteral("end ") + name);
                if (ok)
                    done(QString(QStringLiteral("did ") + name));
                else
                    done(Error{name + QStringLiteral(" broke"), {}, 0, 0});
            });
        });
    node.withAbort([name, log] { log->lines.append(QStringLiteral("abort ") + name); });
    return node;
}

RunbookNode withUndo(RunbookNode node, std::shared_ptr<Log> log,
                     RunbookStep::UndoPolicy policy = RunbookStep::UndoPolicy::OnAbort)
{
    const QString name = node.name();
    node.withUndo(
        [name, log](RunbookStep::Done done) {
            log->lines.append(QStringLiteral("undo ") + name);
            done(QString());
        },
        policy, 2000);
    return node;
}

RunbookReport runToEnd(Runbook &runbook)
{
    QSignalSpy finished(&runbook, &Runbook::finished);
    runbook.start();
    if (!finished.wait(WaitMs))
        qFatal("runbook did not finish");
    return finished.at(0).at(0).value<RunbookReport>();
}

} // namespace

class TestRunbook final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void sequenceRunsInOrderWithProgress()
    {
        auto log = std::make_shared<Log>();
        Runbook runbook(RunbookNode::sequence(
            QStringLiteral("op"),
            {RunbookNode::sequence(QStringLiteral("preflight"),
                                   {fake(QStringLiteral("a"), 10, true, log, this)}),
             RunbookNode::sequence(QStringLiteral("act"),
                                   {fake(QStringLiteral("b"), 10, true, log, this),
                                    fake(QStringLiteral("c"), 0, true, log, this)})}));
        QCOMPARE(runbook.stepCount(), 3);
        QSignalSpy started(&runbook, &Runbook::stepStarted);
        QSignalSpy stepFinished(&runbook, &Runbook::stepFinished);
        QSignalSpy progress(&runbook, &Runbook::progress);
        const RunbookReport report = runToEnd(runbook);

        QCOMPARE(log->lines, (QStringList{QStringLiteral("start a"), QStringLiteral("end a"),
                                          QStringLiteral("start b"), QStringLiteral("end b"),
                                          QStringLiteral("start c"), QStringLiteral("end c")}));
        QCOMPARE(report.outcome, RunbookOutcome::Succeeded);
        QVERIFY(report.message.isEmpty());
        QCOMPARE(report.name, QStringLiteral("op"));
        QStringList paths;
        for (const auto &args : std::as_const(started))
            paths.append(args.at(0).toString());
        QCOMPARE(paths, (QStringList{QStringLiteral("op"), QStringLiteral("op/preflight"),
                                     QStringLiteral("op/preflight/a"), QStringLiteral("op/act"),
                                     QStringLiteral("op/act/b"), QStringLiteral("op/act/c")}));
        QCOMPARE(stepFinished.size(), 6);
        QCOMPARE(stepFinished.last().at(0).toString(), QStringLiteral("op"));
        QVERIFY(stepFinished.last().at(1).toBool());
        QCOMPARE(progress.first(), (QVariantList{0, 3}));
        QCOMPARE(progress.last(), (QVariantList{3, 3}));

        QCOMPARE(report.steps.size(), 6);
        const RunbookStepReport *b = report.step(QStringLiteral("op/act/b"));
        QVERIFY(b);
        QCOMPARE(b->outcome, RunbookOutcome::Succeeded);
        QCOMPARE(b->message, QStringLiteral("did b"));
        QCOMPARE(b->depth, 2);
        QVERIFY(b->seconds >= 0.009);
        QVERIFY(b->startedSeconds >= report.step(QStringLiteral("op/preflight/a"))->startedSeconds);
        const QJsonObject json = report.toJson();
        QCOMPARE(json.value(QStringLiteral("outcome")).toString(), QStringLiteral("succeeded"));
        QCOMPARE(json.value(QStringLiteral("steps")).toArray().size(), 6);
        QVERIFY(report.toText().contains(QStringLiteral("b succeeded")));
    }

    void failureStopsTheRestAndUndoesInReverse()
    {
        auto log = std::make_shared<Log>();
        Runbook runbook(RunbookNode::sequence(
            QStringLiteral("op"), {withUndo(fake(QStringLiteral("a"), 5, true, log, this), log),
                                   withUndo(fake(QStringLiteral("b"), 5, false, log, this), log),
                                   withUndo(fake(QStringLiteral("c"), 5, true, log, this), log)}));
        const RunbookReport report = runToEnd(runbook);
        QCOMPARE(report.outcome, RunbookOutcome::Failed);
        QVERIFY2(report.message.contains(QStringLiteral("op/b: b broke")),
                 qPrintable(report.message));
        QCOMPARE(log->count(QStringLiteral("start c")), 0);
        // b started, so its undo runs too, before a's.
        const int undoB = int(log->lines.indexOf(QStringLiteral("undo b")));
        const int undoA = int(log->lines.indexOf(QStringLiteral("undo a")));
        QVERIFY(undoB >= 0 && undoA > undoB);
        QCOMPARE(log->count(QStringLiteral("undo c")), 0);
        QCOMPARE(report.step(QStringLiteral("op/c"))->outcome, RunbookOutcome::Skipped);
        QCOMPARE(report.step(QStringLiteral("op/b"))->outcome, RunbookOutcome::Failed);
        QCOMPARE(report.step(QStringLiteral("op"))->outcome, RunbookOutcome::Failed);
        QCOMPARE(report.step(QStringLiteral("op/b/undo"))->outcome, RunbookOutcome::Succeeded);
        QVERIFY(report.cleanupErrors.isEmpty());
    }

    void timeoutAbortsTheStep()
    {
        auto log = std::make_shared<Log>();
        Runbook runbook(RunbookNode::sequence(
            QStringLiteral("op"), {fake(QStringLiteral("hang"), -1, true, log, this, 150),
                                   fake(QStringLiteral("next"), 0, true, log, this)}));
        QElapsedTimer clock;
        clock.start();
        const RunbookReport report = runToEnd(runbook);
        QVERIFY(clock.elapsed() >= 150);
        QVERIFY(clock.elapsed() < 3000);
        QCOMPARE(report.outcome, RunbookOutcome::Failed);
        const RunbookStepReport *hang = report.step(QStringLiteral("op/hang"));
        QCOMPARE(hang->outcome, RunbookOutcome::TimedOut);
        QVERIFY2(hang->message.contains(QStringLiteral("0.15 s")), qPrintable(hang->message));
        QCOMPARE(log->count(QStringLiteral("abort hang")), 1);
        QCOMPARE(log->count(QStringLiteral("start next")), 0);
    }

    void cancelMidStepRunsCleanups()
    {
        auto log = std::make_shared<Log>();
        Runbook runbook(RunbookNode::sequence(
            QStringLiteral("op"),
            {withUndo(fake(QStringLiteral("lock"), 0, true, log, this), log,
                      RunbookStep::UndoPolicy::Always),
             withUndo(fake(QStringLiteral("stop member"), 5, true, log, this), log),
             withUndo(fake(QStringLiteral("wait"), 400, true, log, this), log),
             fake(QStringLiteral("verify"), 0, true, log, this)}));
        QSignalSpy finished(&runbook, &Runbook::finished);
        connect(&runbook, &Runbook::stepStarted, this, [&runbook](const QString &path) {
            if (path == QStringLiteral("op/wait"))
                QTimer::singleShot(50, &runbook,
                                   [&runbook] { runbook.cancel(QStringLiteral("operator")); });
        });
        runbook.start();
        QVERIFY(finished.wait(WaitMs));
        const auto report = finished.at(0).at(0).value<RunbookReport>();
        QCOMPARE(report.outcome, RunbookOutcome::Cancelled);
        QCOMPARE(report.message, QStringLiteral("cancelled: operator"));
        QCOMPARE(report.step(QStringLiteral("op/wait"))->outcome, RunbookOutcome::Cancelled);
        QCOMPARE(report.step(QStringLiteral("op/verify"))->outcome, RunbookOutcome::Skipped);
        QCOMPARE(log->count(QStringLiteral("abort wait")), 1);
        QCOMPARE(log->count(QStringLiteral("start verify")), 0);
        QCOMPARE(log->lines.mid(log->lines.indexOf(QStringLiteral("abort wait")) + 1),
                 (QStringList{QStringLiteral("undo wait"), QStringLiteral("undo stop member"),
                              QStringLiteral("undo lock")}));
        // The aborted step's late answer changes nothing.
        QTest::qWait(500); // lets the fake's 400 ms timer fire: the event under test
        QCOMPARE(log->count(QStringLiteral("end wait")), 1);
        QCOMPARE(finished.size(), 1);
        QCOMPARE(runbook.report().step(QStringLiteral("op/wait"))->outcome,
                 RunbookOutcome::Cancelled);
        QVERIFY(!runbook.isRunning());
        runbook.cancel(); // after the end: ignored
        QCOMPARE(finished.size(), 1);
    }

    void uninterruptibleStepFinishesBeforeCancelTakesEffect()
    {
        auto log = std::make_shared<Log>();
        RunbookNode critical = fake(QStringLiteral("switch"), 300, true, log, this);
        critical.uninterruptible();
        Runbook runbook(RunbookNode::sequence(
            QStringLiteral("op"), {critical, fake(QStringLiteral("after"), 0, true, log, this)}));
        QSignalSpy finished(&runbook, &Runbook::finished);
        runbook.start();
        QTRY_VERIFY_WITH_TIMEOUT(log->count(QStringLiteral("start switch")) == 1, WaitMs);
        runbook.cancel(QStringLiteral("changed my mind"));
        QVERIFY(runbook.isStopping());
        QVERIFY(finished.wait(WaitMs));
        const auto report = finished.at(0).at(0).value<RunbookReport>();
        QCOMPARE(report.outcome, RunbookOutcome::Cancelled);
        QCOMPARE(log->count(QStringLiteral("abort switch")), 0);
        QCOMPARE(report.step(QStringLiteral("op/switch"))->outcome, RunbookOutcome::Succeeded);
        QCOMPARE(report.step(QStringLiteral("op/after"))->outcome, RunbookOutcome::Skipped);
    }

    void parallelStepsRunAtOnce()
    {
        auto log = std::make_shared<Log>();
        Runbook runbook(RunbookNode::parallel(QStringLiteral("checks"),
                                              {fake(QStringLiteral("x"), 300, true, log, this),
                                               fake(QStringLiteral("y"), 300, true, log, this),
                                               fake(QStringLiteral("z"), 300, true, log, this)}));
        QElapsedTimer clock;
        clock.start();
        const RunbookReport report = runToEnd(runbook);
        QCOMPARE(report.outcome, RunbookOutcome::Succeeded);
        QVERIFY2(clock.elapsed() < 800, qPrintable(QString::number(clock.elapsed())));
        QCOMPARE(log->lines.mid(0, 3),
                 (QStringList{QStringLiteral("start x"), QStringLiteral("start y"),
                              QStringLiteral("start z")}));
    }

    void parallelFailureStopsSiblings()
    {
        auto log = std::make_shared<Log>();
        Runbook runbook(RunbookNode::sequence(
            QStringLiteral("op"),
            {RunbookNode::parallel(QStringLiteral("watch"),
                                   {fake(QStringLiteral("slow"), 5000, true, log, this),
                                    fake(QStringLiteral("bad"), 20, false, log, this)}),
             fake(QStringLiteral("later"), 0, true, log, this)}));
        QElapsedTimer clock;
        clock.start();
        const RunbookReport report = runToEnd(runbook);
        QVERIFY(clock.elapsed() < 2000);
        QCOMPARE(report.outcome, RunbookOutcome::Failed);
        QCOMPARE(log->count(QStringLiteral("abort slow")), 1);
        QCOMPARE(report.step(QStringLiteral("op/watch/slow"))->outcome, RunbookOutcome::Cancelled);
        QVERIFY(report.step(QStringLiteral("op/watch/slow"))
                    ->message.contains(QStringLiteral("bad broke")));
        QCOMPARE(report.step(QStringLiteral("op/watch"))->outcome, RunbookOutcome::Failed);
        QCOMPARE(report.step(QStringLiteral("op/later"))->outcome, RunbookOutcome::Skipped);
    }

    void continueOnErrorRunsEveryCheckThenFails()
    {
        auto log = std::make_shared<Log>();
        Runbook runbook(RunbookNode::sequence(
            QStringLiteral("op"),
            {RunbookNode::sequence(QStringLiteral("preflight"),
                                   {fake(QStringLiteral("lag"), 5, false, log, this),
                                    fake(QStringLiteral("quorum"), 5, true, log, this),
                                    fake(QStringLiteral("pgpools"), 5, false, log, this)},
                                   RunbookNode::ErrorPolicy::ContinueOnError),
             fake(QStringLiteral("act"), 0, true, log, this)}));
        const RunbookReport report = runToEnd(runbook);
        QCOMPARE(report.outcome, RunbookOutcome::Failed);
        QCOMPARE(log->count(QStringLiteral("start pgpools")), 1);
        QCOMPARE(log->count(QStringLiteral("start act")), 0);
        QCOMPARE(report.step(QStringLiteral("op/preflight/quorum"))->outcome,
                 RunbookOutcome::Succeeded);
        QCOMPARE(report.step(QStringLiteral("op/preflight/pgpools"))->outcome,
                 RunbookOutcome::Failed);
        QVERIFY2(report.message.contains(QStringLiteral("lag broke")), qPrintable(report.message));
        QCOMPARE(report.step(QStringLiteral("op/act"))->outcome, RunbookOutcome::Skipped);
    }

    // One host's steps stop at its first failure; the other host goes on to
    // its end; then the group over hosts fails and nothing after it runs.
    void skipRestOnErrorEndsOnlyItsOwnSequence()
    {
        auto log = std::make_shared<Log>();
        auto host = [&](const QString &name, bool firstOk) {
            return RunbookNode::sequence(name,
                                         {fake(name + QStringLiteral(".a"), 5, firstOk, log, this),
                                          fake(name + QStringLiteral(".b"), 20, true, log, this),
                                          fake(name + QStringLiteral(".c"), 5, true, log, this)},
                                         RunbookNode::ErrorPolicy::SkipRestOnError);
        };
        Runbook runbook(RunbookNode::sequence(
            QStringLiteral("op"), {RunbookNode::parallel(QStringLiteral("hosts"),
                                                         {host(QStringLiteral("h1"), true),
                                                          host(QStringLiteral("h2"), false)},
                                                         RunbookNode::ErrorPolicy::ContinueOnError),
                                   fake(QStringLiteral("swarm"), 0, true, log, this)}));
        QSignalSpy progress(&runbook, &Runbook::progress);
        const RunbookReport report = runToEnd(runbook);
        QCOMPARE(report.outcome, RunbookOutcome::Failed);
        QCOMPARE(log->count(QStringLiteral("end h1.c")), 1);
        QCOMPARE(log->count(QStringLiteral("start h2.b")), 0);
        QCOMPARE(log->count(QStringLiteral("start swarm")), 0);
        QCOMPARE(report.step(QStringLiteral("op/hosts/h1"))->outcome, RunbookOutcome::Succeeded);
        QCOMPARE(report.step(QStringLiteral("op/hosts/h2"))->outcome, RunbookOutcome::Failed);
        const RunbookStepReport *skipped = report.step(QStringLiteral("op/hosts/h2/h2.b"));
        QCOMPARE(skipped->outcome, RunbookOutcome::Skipped);
        QVERIFY2(skipped->message.contains(QStringLiteral("h2 stopped at h2.a")),
                 qPrintable(skipped->message));
        QVERIFY2(report.message.contains(QStringLiteral("h2.a broke")), qPrintable(report.message));
        QCOMPARE(report.step(QStringLiteral("op/swarm"))->outcome, RunbookOutcome::Skipped);
        // Every leaf is counted once, skipped ones included.
        QCOMPARE(progress.constLast().at(0).toInt(), 7);
        QCOMPARE(progress.constLast().at(1).toInt(), 7);
    }

    void alwaysUndoRunsAfterSuccessOnAbortDoesNot()
    {
        auto log = std::make_shared<Log>();
        Runbook runbook(RunbookNode::sequence(
            QStringLiteral("op"),
            {withUndo(fake(QStringLiteral("lock"), 0, true, log, this), log,
                      RunbookStep::UndoPolicy::Always),
             withUndo(fake(QStringLiteral("act"), 0, true, log, this), log)}));
        const RunbookReport report = runToEnd(runbook);
        QCOMPARE(report.outcome, RunbookOutcome::Succeeded);
        QCOMPARE(log->count(QStringLiteral("undo lock")), 1);
        QCOMPARE(log->count(QStringLiteral("undo act")), 0);
        QCOMPARE(report.steps.last().path, QStringLiteral("op/lock/undo"));
        QCOMPARE(report.steps.last().kind, RunbookStepReport::Kind::Undo);
    }

    void failingUndoIsReported()
    {
        RunbookNode step = RunbookNode::step(QStringLiteral("a"), 1000, [](RunbookStep::Done done) {
            done(Error{QStringLiteral("no"), {}, 0, 0});
        });
        step.withUndo([](RunbookStep::Done) {}, RunbookStep::UndoPolicy::OnAbort, 100);
        Runbook runbook(RunbookNode::sequence(QStringLiteral("op"), {step}));
        const RunbookReport report = runToEnd(runbook);
        QCOMPARE(report.outcome, RunbookOutcome::Failed);
        QCOMPARE(report.cleanupErrors.size(), 1);
        QVERIFY(report.cleanupErrors.first().startsWith(QStringLiteral("op/a/undo")));
        QCOMPARE(report.step(QStringLiteral("op/a/undo"))->outcome, RunbookOutcome::TimedOut);
    }

    void synchronousAndRepeatedDoneAreSafe()
    {
        int runs = 0;
        Runbook runbook(RunbookNode::sequence(
            QStringLiteral("op"),
            {RunbookNode::step(QStringLiteral("sync"), 1000,
                               [&runs](RunbookStep::Done done) {
                                   ++runs;
                                   done(QStringLiteral("first"));
                                   done(Error{QStringLiteral("second answer ignored"), {}, 0, 0});
                               }),
             RunbookNode::step(QStringLiteral("empty"), 1000, {})}));
        const RunbookReport report = runToEnd(runbook);
        QCOMPARE(runs, 1);
        QCOMPARE(report.outcome, RunbookOutcome::Succeeded);
        QCOMPARE(report.step(QStringLiteral("op/sync"))->message, QStringLiteral("first"));
    }

    void destroyedWhileRunningAbortsQuietly()
    {
        auto log = std::make_shared<Log>();
        auto runbook = std::make_unique<Runbook>(RunbookNode::sequence(
            QStringLiteral("op"), {fake(QStringLiteral("long"), 200, true, log, this)}));
        runbook->start();
        QTRY_COMPARE_WITH_TIMEOUT(log->count(QStringLiteral("start long")), 1, WaitMs);
        runbook.reset();
        QCOMPARE(log->count(QStringLiteral("abort long")), 1);
        QTRY_COMPARE_WITH_TIMEOUT(log->count(QStringLiteral("end long")), 1, WaitMs);
    }
};

QTEST_GUILESS_MAIN(TestRunbook)
#include "tst_runbook.moc"
