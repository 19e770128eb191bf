#pragma once
// A Runbook lives on the thread that creates it (usually the GUI thread) and
// never blocks it; RunbookNode and RunbookReport are values usable anywhere.

#include "models/result.h"

#include <QDateTime>
#include <QElapsedTimer>
#include <QJsonObject>
#include <QList>
#include <QObject>
#include <QString>

#include <functional>
#include <vector>

class QTimer;

namespace Pilothouse {

enum class RunbookOutcome { Pending, Running, Succeeded, Failed, TimedOut, Cancelled, Skipped };

// "succeeded", "timed-out", ...: the words reports and JSON use.
QString runbookOutcomeName(RunbookOutcome outcome);

// One leaf of a runbook: an asynchronous action with a deadline.
struct RunbookStep
{
    // Called exactly once by the step: a value (a short message, may be empty)
    // for success, an Error saying what failed. Later calls are ignored.
    using Done = std::function<void(Result<QString>)>;
    // The same for actions that report (ok, detail): the detail is the
    // message on success and the error's message otherwise.
    using OkDone = std::function<void(bool ok, QString detail)>;

    // When the undo runs, if the step started at all.
    enum class UndoPolicy {
        OnAbort, // only when the runbook fails or is cancelled (roll back)
        Always,  // also after success (a "finally": release a lock, restart what was stopped)
    };

    QString name;
    int timeoutMs = 30000;
    // Starts the action; must not block. Empty: the step succeeds at once.
    std::function<void(Done)> run;
    // Stops the in-flight action when the step times out or is cancelled
    // (cancel its remote calls); its Done is ignored afterwards.
    std::function<void()> abort;
    // False: a cancel waits for this step to finish (within its timeout),
    // for actions that must not be cut in half.
    bool interruptible = true;
    // Brings the cluster back to a known state. Runs after the tree stops, in
    // reverse start order, for each step that started (even if it failed or
    // was interrupted): it must be idempotent.
    std::function<void(Done)> undo;
    UndoPolicy undoPolicy = UndoPolicy::OnAbort;
    int undoTimeoutMs = 30000;
};

// A node of the tree: a step, or a group that runs its children one after
// another (sequence) or all at once (parallel). Phases such as preflight →
// act → verify are sequences. Cheap to copy; build with the static functions.
class RunbookNode
{
public:
    enum class Kind { Step, Sequence, Parallel };
    enum class ErrorPolicy {
        StopOnError,     // the first failing child stops the whole runbook
        ContinueOnError, // run every child, then fail if any failed (a preflight that lists all)
        // A sequence whose first failing child ends it: the later children are
        // skipped and the group fails; its parent's policy decides what
        // follows (one host's steps in a parallel group over hosts).
        SkipRestOnError,
    };

    RunbookNode(RunbookStep step); // NOLINT: a step is a node
    static RunbookNode step(const QString &name, int timeoutMs,
                            std::function<void(RunbookStep::Done)> run);
    static RunbookNode sequence(const QString &name, std::vector<RunbookNode> children,
                                ErrorPolicy policy = ErrorPolicy::StopOnError);
    static RunbookNode parallel(const QString &name, std::vector<RunbookNode> children,
                                ErrorPolicy policy = ErrorPolicy::StopOnError);

    // Modifiers of a step node (ignored on groups).
    RunbookNode &withAbort(std::function<void()> abort);
    RunbookNode &withUndo(std::function<void(RunbookStep::Done)> undo,
                          RunbookStep::UndoPolicy policy = RunbookStep::UndoPolicy::OnAbort,
                          int timeoutMs = 30000);
    RunbookNode &uninterruptible();

    Kind kind() const { return m_kind; }
    QString name() const { return m_kind == Kind::Step ? m_step.name : m_name; }
    const RunbookStep &stepData() const { return m_step; }
    const std::vector<RunbookNode> &children() const { return m_children; }
    ErrorPolicy errorPolicy() const { return m_policy; }

private:
    RunbookNode() = default;

    Kind m_kind = Kind::Step;
    QString m_name;
    RunbookStep m_step;
    std::vector<RunbookNode> m_children;
    ErrorPolicy m_policy = ErrorPolicy::StopOnError;
};

// A step whose action reports through a RunbookStep::OkDone: (true, message)
// or (false, why it failed).
RunbookNode okStep(const QString &name, int timeoutMs,
                   std::function<void(RunbookStep::OkDone)> run);

struct RunbookStepReport
{
    enum class Kind { Group, Step, Undo };

    QString path; // names from the root joined by '/', e.g. "switchover/preflight/quorum"
    QString name;
    Kind kind = Kind::Step;
    int depth = 0;
    RunbookOutcome outcome = RunbookOutcome::Pending;
    double startedSeconds = -1; // since the runbook started; -1: never started
    double seconds = 0;
    QString message;
};

struct RunbookReport
{
    QString name;
    RunbookOutcome outcome = RunbookOutcome::Pending; // Succeeded, Failed or Cancelled at the end
    QString message;     // why it failed or was cancelled; empty on success
    QDateTime startedAt; // UTC
    double seconds = 0;
    // Tree order (a group before its children), then the undos in the order they ran.
    QList<RunbookStepReport> steps;
    // Cleanups that failed: the cluster may not be in the state the runbook promised.
    QStringList cleanupErrors;

    bool succeeded() const { return outcome == RunbookOutcome::Succeeded; }
    const RunbookStepReport *step(const QString &path) const;
    // {name, outcome, message, started_at, seconds, cleanup_errors[], steps[]:
    //  {path, name, kind, outcome, started_seconds, seconds, message}}
    QJsonObject toJson() const;
    // One line per step, indented by depth, with outcome and duration.
    QString toText() const;
    // "name: message" of each step (not group) that failed or timed out.
    QStringList failedSteps() const;
    // The same steps' messages alone (a refusal lists them).
    QStringList failedMessages() const;
};

// How a finished run went, as the operations' results say it. A run that
// failed (not cancelled) before it changed anything (`changed` false) was
// refused: its failed steps' messages are the refusals.
struct RunbookVerdict
{
    bool ok = false;
    bool refused = false;
    QStringList refusals;
    // "refused: why; why", else the failed steps ("name: message") or why it
    // was cancelled; then "; cleanup failed: ..." when an undo failed.
    QString error;

    static RunbookVerdict of(const RunbookReport &report, bool changed);

    // Into an operation's result, which has the same four fields.
    template<typename Result> void applyTo(Result &result) const
    {
        result.ok = ok;
        result.refused = refused;
        result.refusals = refusals;
        result.error = error;
    }
};

// Runs a RunbookNode tree on the event loop: stop on error, per-step
// timeouts, cancel, undos, live progress and a final report.
class Runbook final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Runbook)

public:
    explicit Runbook(const RunbookNode &root, QObject *parent = nullptr);
    // Aborts running steps without running undos: call cancel() and wait for
    // finished() to leave the cluster in a known state.
    ~Runbook() override;

    // Runs once; a second call is ignored.
    void start();
    // Stops at the current step(s): interruptible ones are aborted at once,
    // the others finish first; then the undos run and finished() reports
    // Cancelled. Ignored when not running or already stopping.
    void cancel(const QString &why = {});

    bool isRunning() const { return m_running; }
    bool isStopping() const { return m_stopping; }
    int stepCount() const { return m_leafCount; }
    // The report so far; complete once finished() was emitted.
    RunbookReport report() const;

Q_SIGNALS:
    // For groups and steps; undos have paths ending in "/undo".
    void stepStarted(const QString &path, const QString &name);
    void stepFinished(const QString &path, bool ok, double seconds, const QString &message);
    // Leaf steps finished (including skipped) out of all leaf steps.
    void progress(int done, int total);
    void finished(const Pilothouse::RunbookReport &report);

private:
    struct Node
    {
        RunbookNode::Kind kind = RunbookNode::Kind::Step;
        RunbookNode::ErrorPolicy policy = RunbookNode::ErrorPolicy::StopOnError;
        QString name;
        QString path;
        int depth = 0;
        int parent = -1;
        QList<int> children;
        RunbookStep step;

        RunbookOutcome outcome = RunbookOutcome::Pending;
        qint64 startedMs = -1;
        qint64 finishedMs = -1;
        QString message;
        quint64 token = 0; // the live attempt; 0 when none
        QTimer *timer = nullptr;
        int nextChild = 0;
        int finishedChildren = 0;
        bool childFailed = false;
        bool held = false; // the failpoint held it once already
    };
    struct Undo
    {
        int node = -1;
        RunbookStepReport report;
    };

    int add(const RunbookNode &node, int parent, const QString &parentPath, int depth);
    void startNode(int index);
    void startLeaf(int index);
    void leafDone(int index, quint64 token, const Result<QString> &result);
    void leafTimedOut(int index, quint64 token);
    void finishLeaf(int index, RunbookOutcome outcome, const QString &message);
    void childFinished(int group, int child, bool ok);
    void skipSubtree(int index, const QString &why);
    void finishGroup(int index);
    void stop(RunbookOutcome outcome, const QString &message);
    void afterStop();
    void runNextUndo();
    void undoDone(quint64 token, const Result<QString> &result, bool timedOut);
    void finish();
    RunbookStep::Done doneFor(std::function<void(Result<QString>)> handler);
    double secondsOf(qint64 fromMs, qint64 toMs) const;

    std::vector<Node> m_nodes;
    int m_leafCount = 0;
    int m_leavesDone = 0;
    QList<int> m_startOrder;
    QList<int> m_undoQueue;
    QList<Undo> m_undos;
    QTimer *m_undoTimer = nullptr;
    quint64 m_undoToken = 0;
    quint64 m_nextToken = 1;
    QElapsedTimer m_clock;
    QDateTime m_startedAt;
    qint64 m_finishedMs = -1;
    bool m_started = false;
    bool m_running = false;
    bool m_stopping = false;
    // Fault injection for tests (PILOTHOUSE_FAILPOINT_HOLD_BEFORE=<step name>,
    // PILOTHOUSE_FAILPOINT_HOLD_MS, default: for ever): the step of that name
    // waits before it starts, so that a test can kill the process or cut its
    // connections at a known point of an operation.
    QString m_holdBefore;
    int m_holdMs = -1;
    bool m_undoing = false;
    RunbookOutcome m_outcome = RunbookOutcome::Pending;
    QString m_message;
    QStringList m_cleanupErrors;
};

} // namespace Pilothouse

Q_DECLARE_METATYPE(Pilothouse::RunbookReport)
