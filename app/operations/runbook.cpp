#include "app/operations/runbook.h"

#include <QJsonArray>
#include <QPointer>
#include <QTimer>

#include <cstdio>

namespace Pilothouse {
namespace {

// An Error with only the parts that are known.
Error problem(const QString &message, const QString &file = {}, int line = 0)
{
    return Error{message, file, line, 0};
}

} // namespace

QString runbookOutcomeName(RunbookOutcome outcome)
{
    switch (outcome) {
    case RunbookOutcome::Pending:
        return QStringLiteral("pending");
    case RunbookOutcome::Running:
        return QStringLiteral("running");
    case RunbookOutcome::Succeeded:
        return QStringLiteral("succeeded");
    case RunbookOutcome::Failed:
        return QStringLiteral("failed");
    case RunbookOutcome::TimedOut:
        return QStringLiteral("timed-out");
    case RunbookOutcome::Cancelled:
        return QStringLiteral("cancelled");
    case RunbookOutcome::Skipped:
        return QStringLiteral("skipped");
    }
    return {};
}

// --- RunbookNode ---

RunbookNode::RunbookNode(RunbookStep step)
    : m_step(std::move(step))
{}

RunbookNode RunbookNode::step(const QString &name, int timeoutMs,
                              std::function<void(RunbookStep::Done)> run)
{
    RunbookStep s;
    s.name = name;
    s.timeoutMs = timeoutMs;
    s.run = std::move(run);
    return RunbookNode(std::move(s));
}

RunbookNode okStep(const QString &name, int timeoutMs, std::function<void(RunbookStep::OkDone)> run)
{
    return RunbookNode::step(name, timeoutMs, [run = std::move(run)](RunbookStep::Done done) {
        run([done](bool ok, const QString &detail) {
            if (ok)
                done(detail);
            else
                done(problem(detail));
        });
    });
}

RunbookNode RunbookNode::sequence(const QString &name, std::vector<RunbookNode> children,
                                  ErrorPolicy policy)
{
    RunbookNode n;
    n.m_kind = Kind::Sequence;
    n.m_name = name;
    n.m_children = std::move(children);
    n.m_policy = policy;
    return n;
}

RunbookNode RunbookNode::parallel(const QString &name, std::vector<RunbookNode> children,
                                  ErrorPolicy policy)
{
    RunbookNode n = sequence(name, std::move(children), policy);
    n.m_kind = Kind::Parallel;
    return n;
}

RunbookNode &RunbookNode::withAbort(std::function<void()> abort)
{
    m_step.abort = std::move(abort);
    return *this;
}

RunbookNode &RunbookNode::withUndo(std::function<void(RunbookStep::Done)> undo,
                                   RunbookStep::UndoPolicy policy, int timeoutMs)
{
    m_step.undo = std::move(undo);
    m_step.undoPolicy = policy;
    m_step.undoTimeoutMs = timeoutMs;
    return *this;
}

RunbookNode &RunbookNode::uninterruptible()
{
    m_step.interruptible = false;
    return *this;
}

// --- RunbookReport ---

const RunbookStepReport *RunbookReport::step(const QString &path) const
{
    for (const RunbookStepReport &s : steps) {
        if (s.path == path)
            return &s;
    }
    return nullptr;
}

QJsonObject RunbookReport::toJson() const
{
    QJsonArray list;
    for (const RunbookStepReport &s : steps) {
        const QString kind = s.kind == RunbookStepReport::Kind::Group  ? QStringLiteral("group")
                             : s.kind == RunbookStepReport::Kind::Undo ? QStringLiteral("undo")
                                                                       : QStringLiteral("step");
        list.append(QJsonObject{
            {QStringLiteral("path"), s.path},
            {QStringLiteral("name"), s.name},
            {QStringLiteral("kind"), kind},
            {QStringLiteral("outcome"), runbookOutcomeName(s.outcome)},
            {QStringLiteral("started_seconds"), s.startedSeconds},
            {QStringLiteral("seconds"), s.seconds},
            {QStringLiteral("message"), s.message},
        });
    }
    return QJsonObject{
        {QStringLiteral("name"), name},
        {QStringLiteral("outcome"), runbookOutcomeName(outcome)},
        {QStringLiteral("message"), message},
        {QStringLiteral("started_at"), startedAt.toString(Qt::ISODateWithMs)},
        {QStringLiteral("seconds"), seconds},
        {QStringLiteral("cleanup_errors"), QJsonArray::fromStringList(cleanupErrors)},
        {QStringLiteral("steps"), list},
    };
}

QStringList RunbookReport::failedSteps() const
{
    QStringList out;
    for (const RunbookStepReport &s : steps) {
        if (s.kind == RunbookStepReport::Kind::Step &&
            (s.outcome == RunbookOutcome::Failed || s.outcome == RunbookOutcome::TimedOut))
            out.append(s.name + QStringLiteral(": ") + s.message);
    }
    return out;
}

QStringList RunbookReport::failedMessages() const
{
    QStringList out;
    for (const RunbookStepReport &s : steps) {
        if (s.kind == RunbookStepReport::Kind::Step &&
            (s.outcome == RunbookOutcome::Failed || s.outcome == RunbookOutcome::TimedOut))
            out.append(s.message);
    }
    return out;
}

RunbookVerdict RunbookVerdict::of(const RunbookReport &report, bool changed)
{
    RunbookVerdict v;
    v.ok = report.succeeded();
    if (v.ok)
        return v;
    const QStringList failed = report.failedSteps();
    if (!changed && report.outcome == RunbookOutcome::Failed) {
        v.refused = true;
        v.refusals = report.failedMessages();
        v.error = QStringLiteral("refused: ") +
                  (v.refusals.isEmpty() ? report.message : v.refusals.join(QStringLiteral("; ")));
    } else {
        v.error = report.outcome == RunbookOutcome::Cancelled || failed.isEmpty()
                      ? report.message
                      : failed.join(QStringLiteral("; "));
    }
    if (!report.cleanupErrors.isEmpty())
        v.error +=
            QStringLiteral("; cleanup failed: ") + report.cleanupErrors.join(QStringLiteral("; "));
    return v;
}

QString RunbookReport::toText() const
{
    QString out = QStringLiteral("%1: %2 in %3 s%4\n")
                      .arg(name, runbookOutcomeName(outcome), QString::number(seconds, 'f', 2),
                           message.isEmpty() ? QString() : QStringLiteral(" (%1)").arg(message));
    for (const RunbookStepReport &s : steps) {
        out += QString(2 * (s.depth + 1), u' ') + s.name + u' ' + runbookOutcomeName(s.outcome);
        if (s.startedSeconds >= 0)
            out += QStringLiteral(" %1 s").arg(QString::number(s.seconds, 'f', 2));
        if (!s.message.isEmpty())
            out += QStringLiteral(": ") + s.message;
        out += u'\n';
    }
    for (const QString &e : cleanupErrors)
        out += QStringLiteral("cleanup failed: ") + e + u'\n';
    return out;
}

// --- Runbook ---

Runbook::Runbook(const RunbookNode &root, QObject *parent)
    : QObject(parent)
    , m_holdBefore(qEnvironmentVariable("PILOTHOUSE_FAILPOINT_HOLD_BEFORE"))
{
    bool ok = false;
    const int ms = qEnvironmentVariableIntValue("PILOTHOUSE_FAILPOINT_HOLD_MS", &ok);
    if (ok && ms >= 0)
        m_holdMs = ms;
    add(root, -1, QString(), 0);
}

Runbook::~Runbook()
{
    for (Node &n : m_nodes) {
        if (n.kind == RunbookNode::Kind::Step && n.outcome == RunbookOutcome::Running &&
            n.step.abort) {
            n.token = 0;
            n.step.abort();
        }
    }
}

int Runbook::add(const RunbookNode &node, int parent, const QString &parentPath, int depth)
{
    const int index = int(m_nodes.size());
    m_nodes.emplace_back();
    {
        Node &n = m_nodes.back();
        n.kind = node.kind();
        n.policy = node.errorPolicy();
        n.name = node.name();
        n.path = parentPath.isEmpty() ? n.name : parentPath + u'/' + n.name;
        n.depth = depth;
        n.parent = parent;
        if (n.kind == RunbookNode::Kind::Step) {
            n.step = node.stepData();
            ++m_leafCount;
        }
    }
    const QString path = m_nodes[size_t(index)].path;
    for (const RunbookNode &child : node.children()) {
        const int c = add(child, index, path, depth + 1);
        m_nodes[size_t(index)].children.append(c);
    }
    return index;
}

double Runbook::secondsOf(qint64 fromMs, qint64 toMs) const
{
    if (fromMs < 0)
        return 0;
    return double((toMs < 0 ? m_clock.elapsed() : toMs) - fromMs) / 1000.0;
}

RunbookStep::Done Runbook::doneFor(std::function<void(Result<QString>)> handler)
{
    // Answers are handled on the next turn of the event loop so that a step
    // may call done() from inside run() without re-entering the runbook.
    QPointer<Runbook> self(this);
    return [self, handler](Result<QString> result) {
        if (!self)
            return;
        QMetaObject::invokeMethod(
            self.data(), [handler, result] { handler(result); }, Qt::QueuedConnection);
    };
}

void Runbook::start()
{
    if (m_started || m_nodes.empty())
        return;
    m_started = true;
    m_running = true;
    m_startedAt = QDateTime::currentDateTimeUtc();
    m_clock.start();
    Q_EMIT progress(0, m_leafCount);
    startNode(0);
}

void Runbook::startNode(int index)
{
    if (m_stopping)
        return;
    Node &n = m_nodes[size_t(index)];
    if (n.outcome != RunbookOutcome::Pending)
        return;
    if (n.kind == RunbookNode::Kind::Step) {
        startLeaf(index);
        return;
    }
    n.outcome = RunbookOutcome::Running;
    n.startedMs = m_clock.elapsed();
    Q_EMIT stepStarted(n.path, n.name);
    if (n.children.isEmpty()) {
        finishGroup(index);
        return;
    }
    if (n.kind == RunbookNode::Kind::Sequence) {
        n.nextChild = 1;
        startNode(n.children.first());
        return;
    }
    const QList<int> children = n.children;
    for (int c : children) {
        if (m_stopping)
            break;
        startNode(c);
    }
}

void Runbook::startLeaf(int index)
{
    Node &n = m_nodes[size_t(index)];
    if (!m_holdBefore.isEmpty() && n.name == m_holdBefore && !n.held) {
        n.held = true;
        // On stderr whatever the front end: the test that set it waits for this line.
        std::fprintf(stderr, "failpoint: holding before \"%s\" %s\n", qPrintable(n.name),
                     m_holdMs < 0 ? "until the process ends"
                                  : qPrintable(QStringLiteral("for %1 ms").arg(m_holdMs)));
        std::fflush(stderr);
        if (m_holdMs >= 0) {
            QTimer::singleShot(m_holdMs, this, [this, index] {
                if (!m_stopping && m_nodes[size_t(index)].outcome == RunbookOutcome::Pending)
                    startLeaf(index);
            });
        }
        return;
    }
    n.outcome = RunbookOutcome::Running;
    n.startedMs = m_clock.elapsed();
    n.token = m_nextToken++;
    m_startOrder.append(index);
    Q_EMIT stepStarted(n.path, n.name);

    const quint64 token = n.token;
    if (!n.timer) {
        n.timer = new QTimer(this);
        n.timer->setSingleShot(true);
        n.timer->setTimerType(Qt::PreciseTimer);
    }
    n.timer->disconnect(this);
    connect(n.timer, &QTimer::timeout, this, [this, index, token] { leafTimedOut(index, token); });
    n.timer->start(qMax(1, n.step.timeoutMs));

    auto done =
        doneFor([this, index, token](const Result<QString> &r) { leafDone(index, token, r); });
    if (n.step.run)
        n.step.run(done);
    else
        done(QString());
}

void Runbook::leafDone(int index, quint64 token, const Result<QString> &result)
{
    Node &n = m_nodes[size_t(index)];
    if (n.token != token || token == 0 || n.outcome != RunbookOutcome::Running)
        return;
    n.token = 0;
    n.timer->stop();
    if (result)
        finishLeaf(index, RunbookOutcome::Succeeded, result.value());
    else
        finishLeaf(index, RunbookOutcome::Failed, result.error().toString());
}

void Runbook::leafTimedOut(int index, quint64 token)
{
    Node &n = m_nodes[size_t(index)];
    if (n.token != token || token == 0 || n.outcome != RunbookOutcome::Running)
        return;
    n.token = 0;
    if (n.step.abort)
        n.step.abort();
    finishLeaf(index, RunbookOutcome::TimedOut,
               QStringLiteral("no answer within %1 s").arg(double(n.step.timeoutMs) / 1000.0));
}

void Runbook::finishLeaf(int index, RunbookOutcome outcome, const QString &message)
{
    Node &n = m_nodes[size_t(index)];
    n.outcome = outcome;
    n.finishedMs = m_clock.elapsed();
    n.message = message;
    const bool ok = outcome == RunbookOutcome::Succeeded;
    Q_EMIT stepFinished(n.path, ok, secondsOf(n.startedMs, n.finishedMs), message);
    ++m_leavesDone;
    Q_EMIT progress(m_leavesDone, m_leafCount);
    if (m_stopping) {
        afterStop();
        return;
    }
    const QString failure = ok ? QString() : n.path + QStringLiteral(": ") + message;
    if (n.parent < 0) {
        if (ok)
            afterStop();
        else
            stop(RunbookOutcome::Failed, failure);
        return;
    }
    if (!ok && m_nodes[size_t(n.parent)].policy == RunbookNode::ErrorPolicy::StopOnError) {
        stop(RunbookOutcome::Failed, failure);
        return;
    }
    if (!ok && m_nodes[size_t(n.parent)].message.isEmpty())
        m_nodes[size_t(n.parent)].message = failure;
    childFinished(n.parent, index, ok);
}

void Runbook::childFinished(int group, int child, bool ok)
{
    Node &g = m_nodes[size_t(group)];
    ++g.finishedChildren;
    if (!ok)
        g.childFailed = true;
    if (!ok && g.policy == RunbookNode::ErrorPolicy::SkipRestOnError &&
        g.kind == RunbookNode::Kind::Sequence) {
        const QString why = QStringLiteral("not started: %1 stopped at %2")
                                .arg(g.name, m_nodes[size_t(child)].name);
        while (g.nextChild < g.children.size()) {
            skipSubtree(g.children.at(g.nextChild++), why);
            ++g.finishedChildren;
        }
        Q_EMIT progress(m_leavesDone, m_leafCount);
    }
    if (g.kind == RunbookNode::Kind::Sequence && g.nextChild < g.children.size()) {
        const int next = g.children.at(g.nextChild++);
        startNode(next);
        return;
    }
    if (g.finishedChildren == g.children.size())
        finishGroup(group);
}

void Runbook::skipSubtree(int index, const QString &why)
{
    Node &n = m_nodes[size_t(index)];
    if (n.kind != RunbookNode::Kind::Step) {
        n.outcome = RunbookOutcome::Skipped;
        n.message = why;
        for (int c : std::as_const(n.children))
            skipSubtree(c, why);
        return;
    }
    if (n.outcome != RunbookOutcome::Pending)
        return;
    n.outcome = RunbookOutcome::Skipped;
    n.message = why;
    Q_EMIT stepFinished(n.path, false, 0, n.message);
    ++m_leavesDone;
}

void Runbook::finishGroup(int index)
{
    Node &g = m_nodes[size_t(index)];
    g.outcome = g.childFailed ? RunbookOutcome::Failed : RunbookOutcome::Succeeded;
    g.finishedMs = m_clock.elapsed();
    const bool ok = !g.childFailed;
    Q_EMIT stepFinished(g.path, ok, secondsOf(g.startedMs, g.finishedMs), g.message);
    if (g.parent < 0) {
        if (ok)
            afterStop();
        else
            stop(RunbookOutcome::Failed, g.message);
        return;
    }
    const Node &parent = m_nodes[size_t(g.parent)];
    if (!ok && parent.policy == RunbookNode::ErrorPolicy::StopOnError) {
        stop(RunbookOutcome::Failed, g.message);
        return;
    }
    if (!ok && parent.message.isEmpty())
        m_nodes[size_t(g.parent)].message = g.message;
    childFinished(g.parent, index, ok);
}

void Runbook::cancel(const QString &why)
{
    if (!m_running || m_stopping || m_undoing)
        return;
    stop(RunbookOutcome::Cancelled,
         why.isEmpty() ? QStringLiteral("cancelled") : QStringLiteral("cancelled: ") + why);
}

void Runbook::stop(RunbookOutcome outcome, const QString &message)
{
    m_stopping = true;
    m_outcome = outcome;
    m_message = message;
    const QString stopped = outcome == RunbookOutcome::Cancelled
                                ? message
                                : QStringLiteral("stopped because %1").arg(message);
    for (size_t i = 0; i < m_nodes.size(); ++i) {
        Node &n = m_nodes[i];
        if (n.kind != RunbookNode::Kind::Step)
            continue;
        if (n.outcome == RunbookOutcome::Pending) {
            n.outcome = RunbookOutcome::Skipped;
            n.message = QStringLiteral("not started: ") + stopped;
            Q_EMIT stepFinished(n.path, false, 0, n.message);
            ++m_leavesDone;
        }
    }
    Q_EMIT progress(m_leavesDone, m_leafCount);
    for (size_t i = 0; i < m_nodes.size(); ++i) {
        Node &n = m_nodes[i];
        if (n.kind != RunbookNode::Kind::Step || n.outcome != RunbookOutcome::Running ||
            !n.step.interruptible)
            continue;
        n.token = 0;
        n.timer->stop();
        if (n.step.abort)
            n.step.abort();
        n.outcome = RunbookOutcome::Cancelled;
        n.finishedMs = m_clock.elapsed();
        n.message = stopped;
        Q_EMIT stepFinished(n.path, false, secondsOf(n.startedMs, n.finishedMs), n.message);
        ++m_leavesDone;
        Q_EMIT progress(m_leavesDone, m_leafCount);
    }
    afterStop();
}

void Runbook::afterStop()
{
    // Steps that may not be cut in half are still running: wait for them.
    for (const Node &n : m_nodes) {
        if (n.kind == RunbookNode::Kind::Step && n.outcome == RunbookOutcome::Running)
            return;
    }
    if (m_undoing)
        return;
    if (m_outcome == RunbookOutcome::Pending)
        m_outcome = RunbookOutcome::Succeeded;
    // Groups cut short take the runbook's outcome; groups never reached are skipped.
    for (Node &n : m_nodes) {
        if (n.kind != RunbookNode::Kind::Step && n.outcome == RunbookOutcome::Pending) {
            n.outcome = RunbookOutcome::Skipped;
            n.message = QStringLiteral("not started");
        }
        if (n.kind != RunbookNode::Kind::Step && n.outcome == RunbookOutcome::Running) {
            n.outcome = m_outcome == RunbookOutcome::Cancelled ? RunbookOutcome::Cancelled
                                                               : RunbookOutcome::Failed;
            n.finishedMs = m_clock.elapsed();
            if (n.message.isEmpty())
                n.message = m_message;
            Q_EMIT stepFinished(n.path, false, secondsOf(n.startedMs, n.finishedMs), n.message);
        }
    }
    m_undoing = true;
    const bool aborted = m_outcome != RunbookOutcome::Succeeded;
    for (auto it = m_startOrder.crbegin(); it != m_startOrder.crend(); ++it) {
        const RunbookStep &s = m_nodes[size_t(*it)].step;
        if (s.undo && (aborted || s.undoPolicy == RunbookStep::UndoPolicy::Always))
            m_undoQueue.append(*it);
    }
    runNextUndo();
}

void Runbook::runNextUndo()
{
    if (m_undoQueue.isEmpty()) {
        finish();
        return;
    }
    const int index = m_undoQueue.takeFirst();
    const Node &n = m_nodes[size_t(index)];
    Undo u;
    u.node = index;
    u.report.path = n.path + QStringLiteral("/undo");
    u.report.name = QStringLiteral("undo ") + n.name;
    u.report.kind = RunbookStepReport::Kind::Undo;
    u.report.depth = n.depth;
    u.report.outcome = RunbookOutcome::Running;
    u.report.startedSeconds = double(m_clock.elapsed()) / 1000.0;
    m_undos.append(u);
    Q_EMIT stepStarted(u.report.path, u.report.name);

    const quint64 token = m_nextToken++;
    m_undoToken = token;
    if (!m_undoTimer) {
        m_undoTimer = new QTimer(this);
        m_undoTimer->setSingleShot(true);
    }
    m_undoTimer->disconnect(this);
    connect(m_undoTimer, &QTimer::timeout, this, [this, token] {
        undoDone(token,
                 problem(QStringLiteral("no answer within %1 s")
                             .arg(double(m_undoTimer->interval()) / 1000.0)),
                 true);
    });
    m_undoTimer->start(qMax(1, n.step.undoTimeoutMs));
    n.step.undo(doneFor([this, token](const Result<QString> &r) { undoDone(token, r, false); }));
}

void Runbook::undoDone(quint64 token, const Result<QString> &result, bool timedOut)
{
    if (token != m_undoToken || token == 0)
        return;
    m_undoToken = 0;
    m_undoTimer->stop();
    RunbookStepReport &r = m_undos.last().report;
    r.seconds = double(m_clock.elapsed()) / 1000.0 - r.startedSeconds;
    if (result) {
        r.outcome = RunbookOutcome::Succeeded;
        r.message = result.value();
    } else {
        r.outcome = timedOut ? RunbookOutcome::TimedOut : RunbookOutcome::Failed;
        r.message = result.error().toString();
        m_cleanupErrors.append(r.path + QStringLiteral(": ") + r.message);
    }
    Q_EMIT stepFinished(r.path, bool(result), r.seconds, r.message);
    runNextUndo();
}

void Runbook::finish()
{
    m_undoing = false;
    m_running = false;
    m_finishedMs = m_clock.elapsed();
    Q_EMIT finished(report());
}

RunbookReport Runbook::report() const
{
    RunbookReport r;
    r.name = m_nodes.empty() ? QString() : m_nodes.front().name;
    r.outcome =
        m_running ? RunbookOutcome::Running : (m_started ? m_outcome : RunbookOutcome::Pending);
    r.message = m_message;
    r.startedAt = m_startedAt;
    r.seconds = m_started ? secondsOf(0, m_running ? -1 : m_finishedMs) : 0;
    r.cleanupErrors = m_cleanupErrors;
    for (const Node &n : m_nodes) {
        RunbookStepReport s;
        s.path = n.path;
        s.name = n.name;
        s.kind = n.kind == RunbookNode::Kind::Step ? RunbookStepReport::Kind::Step
                                                   : RunbookStepReport::Kind::Group;
        s.depth = n.depth;
        s.outcome = n.outcome;
        s.startedSeconds = n.startedMs < 0 ? -1 : double(n.startedMs) / 1000.0;
        s.seconds = n.startedMs < 0 ? 0 : secondsOf(n.startedMs, n.finishedMs);
        s.message = n.message;
        r.steps.append(s);
    }
    for (const Undo &u : m_undos)
        r.steps.append(u.report);
    return r;
}

} // namespace Pilothouse
