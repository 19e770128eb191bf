#include "models/operationrun.h"

namespace Pilothouse {

namespace {

// Every run that exists, on the GUI thread (runs live there only).
QList<OperationRun *> &allRuns()
{
    static QList<OperationRun *> runs;
    return runs;
}

} // namespace

OperationRun::OperationRun(QObject *parent)
    : QObject(parent)
{
    allRuns().append(this);
}

OperationRun::~OperationRun()
{
    allRuns().removeOne(this);
}

QList<OperationRun *> OperationRun::running(const QString &cluster)
{
    QList<OperationRun *> out;
    for (OperationRun *run : std::as_const(allRuns())) {
        if (run->isRunning() && (cluster.isEmpty() || run->cluster() == cluster))
            out.append(run);
    }
    return out;
}

void OperationRun::setState(State state)
{
    if (state == m_state)
        return;
    m_state = state;
    Q_EMIT stateChanged(state);
}

void OperationRun::finishBeforeStart()
{
    setState(State::Finished);
    Q_EMIT finished(false, tr("Cancelled before it started; nothing was changed."), {});
}

} // namespace Pilothouse
