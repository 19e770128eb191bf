#pragma once
// A stand-in OperationRun for the wizards' gui tests: it plays steps and
// events on the event loop as an operation would, then finishes with a given
// report. Used on the test's main thread only.

#include "models/operationrun.h"

#include <QJsonObject>
#include <QTimer>

namespace Pilothouse::TestSupport {

class ScriptedRun final : public OperationRun
{
    Q_OBJECT

public:
    ScriptedRun(QString kind, QString choice, QObject *parent)
        : OperationRun(parent)
        , m_kind(std::move(kind))
        , m_choice(std::move(choice))
    {}

    QStringList refusalList;
    // prepare(): when preparesAsync, isPreparing() until 30 ms later, then
    // these refusals (if any) and the preflight text says what was read.
    bool preparesAsync = false;
    QStringList refusalsAfterPrepare;
    QString preparedWith;
    bool prepared = false;
    QString details;
    QJsonObject finalReport;
    bool finalOk = true;
    QString startedWith;
    int cancels = 0;

    QString title() const override { return m_kind + QStringLiteral(" ") + m_choice; }
    QString kind() const override { return m_kind; }
    QString preflightText() const override
    {
        return QStringLiteral("What will happen\n  %1 to %2\n\nWhat is checked\n  lag, quorum\n\n"
                              "Expected downtime\n  about 1 s")
            .arg(m_kind, m_choice) +
            (prepared ? QStringLiteral("\n\nRead now\n  timeline fork at 0/5000060") : QString());
    }
    QStringList refusals() const override { return refusalList; }
    bool isPreparing() const override { return m_preparing; }
    QString detailsText() const override { return details; }

    void prepare(const QString &reason) override
    {
        preparedWith = reason;
        if (!preparesAsync) {
            prepared = true;
            return;
        }
        m_preparing = true;
        QTimer::singleShot(30, this, [this] {
            m_preparing = false;
            prepared = true;
            refusalList = refusalsAfterPrepare;
            Q_EMIT preflightChanged();
        });
    }

    void start(const QString &reason) override
    {
        startedWith = reason;
        setState(State::Running);
        const QString root = m_kind;
        Q_EMIT stepStarted(root, root);
        Q_EMIT stepStarted(root + QStringLiteral("/preflight"), QStringLiteral("preflight"));
        Q_EMIT stepStarted(root + QStringLiteral("/preflight/lag"), QStringLiteral("lag"));
        QTimer::singleShot(20, this, [this, root] {
            Q_EMIT stepFinished(root + QStringLiteral("/preflight/lag"), true, 0.02,
                                QStringLiteral("0 B behind"));
            Q_EMIT stepFinished(root + QStringLiteral("/preflight"), true, 0.02, QString());
            Q_EMIT progress(1, 3);
            Q_EMIT stepStarted(root + QStringLiteral("/act"), QStringLiteral("act"));
            Q_EMIT stepStarted(root + QStringLiteral("/act/promote"), QStringLiteral("promote"));
            Q_EMIT observed(QStringLiteral("writer"), QStringLiteral("pgpool@swarm-01: writes fail"));
        });
        QTimer::singleShot(60, this, [this, root] {
            Q_EMIT stepFinished(root + QStringLiteral("/act/promote"), true, 0.04,
                                QStringLiteral("promoted"));
            Q_EMIT stepFinished(root + QStringLiteral("/act"), true, 0.04, QString());
            Q_EMIT observed(QStringLiteral("writer"),
                         QStringLiteral("pgpool@swarm-01: writes again after 0.9 s"));
            Q_EMIT progress(3, 3);
            Q_EMIT stepFinished(root, finalOk, 0.06, QString());
            setState(State::Finished);
            Q_EMIT finished(finalOk, QStringLiteral("done: %1").arg(m_choice), finalReport);
        });
    }

    void cancel() override { ++cancels; }

private:
    bool m_preparing = false;
    QString m_kind;
    QString m_choice;
};

} // namespace Pilothouse::TestSupport
