#pragma once
// Lives on the GUI thread.

#include <QAbstractListModel>
#include <QList>

namespace Pilothouse {

// The steps of a `lab up` run as they start and finish, keyed by step number.
class LabStepsModel final : public QAbstractListModel
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(LabStepsModel)

public:
    enum class State { Running, Done, Failed };
    enum Role { StateRole = Qt::UserRole + 1, SecondsRole, NameRole };

    explicit LabStepsModel(QObject *parent = nullptr);

    void clear();
    void stepStarted(int number, int total, const QString &name);
    void stepFinished(int number, double seconds);
    // Marks the running step (if any) failed.
    void failed();

    int total() const { return m_total; }
    int finishedCount() const;

    int rowCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;

Q_SIGNALS:
    void progressChanged(int finished, int total);

private:
    struct Step
    {
        int number = 0;
        QString name;
        State state = State::Running;
        double seconds = 0;
    };
    int rowOf(int number) const;

    QList<Step> m_steps;
    int m_total = 0;
};

} // namespace Pilothouse
