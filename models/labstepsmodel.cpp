#include "models/labstepsmodel.h"

namespace Pilothouse {

LabStepsModel::LabStepsModel(QObject *parent)
    : QAbstractListModel(parent)
{}

void LabStepsModel::clear()
{
    if (!m_steps.isEmpty()) {
        beginRemoveRows({}, 0, int(m_steps.size()) - 1);
        m_steps.clear();
        endRemoveRows();
    }
    m_total = 0;
    Q_EMIT progressChanged(0, 0);
}

int LabStepsModel::rowOf(int number) const
{
    for (qsizetype row = 0; row < m_steps.size(); ++row) {
        if (m_steps.at(row).number == number)
            return int(row);
    }
    return -1;
}

void LabStepsModel::stepStarted(int number, int total, const QString &name)
{
    m_total = total;
    const int row = rowOf(number);
    if (row >= 0) {
        m_steps[row].name = name;
        m_steps[row].state = State::Running;
        Q_EMIT dataChanged(index(row), index(row));
    } else {
        const int at = int(m_steps.size());
        beginInsertRows({}, at, at);
        m_steps.append({number, name, State::Running, 0});
        endInsertRows();
    }
    Q_EMIT progressChanged(finishedCount(), m_total);
}

void LabStepsModel::stepFinished(int number, double seconds)
{
    const int row = rowOf(number);
    if (row < 0)
        return;
    m_steps[row].state = State::Done;
    m_steps[row].seconds = seconds;
    Q_EMIT dataChanged(index(row), index(row));
    Q_EMIT progressChanged(finishedCount(), m_total);
}

void LabStepsModel::failed()
{
    for (qsizetype row = 0; row < m_steps.size(); ++row) {
        if (m_steps.at(row).state == State::Running) {
            m_steps[row].state = State::Failed;
            Q_EMIT dataChanged(index(int(row)), index(int(row)));
        }
    }
}

int LabStepsModel::finishedCount() const
{
    return int(std::count_if(m_steps.cbegin(), m_steps.cend(),
                             [](const Step &s) { return s.state == State::Done; }));
}

int LabStepsModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_steps.size());
}

QVariant LabStepsModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Step &step = m_steps.at(index.row());
    switch (role) {
    case Qt::DisplayRole:
        switch (step.state) {
        case State::Running:
            return tr("%1 — running…").arg(step.name);
        case State::Done:
            return tr("%1 — done in %2 s").arg(step.name).arg(step.seconds, 0, 'f', 1);
        case State::Failed:
            return tr("%1 — FAILED").arg(step.name);
        }
        return {};
    case StateRole:
        return int(step.state);
    case SecondsRole:
        return step.seconds;
    case NameRole:
        return step.name;
    default:
        return {};
    }
}

} // namespace Pilothouse
