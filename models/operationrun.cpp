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

} // namespace Pilothouse
