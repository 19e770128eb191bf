#include "models/operationrun.h"

namespace Pilothouse {

OperationRun::OperationRun(QObject *parent)
    : QObject(parent)
{}

OperationRun::~OperationRun() = default;

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
