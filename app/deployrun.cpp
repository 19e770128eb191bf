#include "app/deployrun.h"

#include "app/deploy/stackdeploy.h"
#include "app/deploy/stackfile.h"

#include <QPointer>

namespace Pilothouse {
namespace {

class StackDeployRun final : public OperationRun
{
public:
    StackDeployRun(Inventory inventory, QString file, QString stack,
                   QHash<QString, QByteArray> secretValues, QObject *parent)
        : OperationRun(parent)
        , m_inventory(std::move(inventory))
        , m_file(std::move(file))
        , m_stack(std::move(stack))
    {
        m_options.secretValues = std::move(secretValues);
    }

    ~StackDeployRun() override
    {
        // A plan still reading when the wizard goes back or closes: it has
        // changed nothing; stop it.
        if (m_probe)
            m_probe->cancel(QStringLiteral("the console's wizard was closed"));
    }

    QString title() const override { return tr("Deploy %1 as stack %2").arg(m_file, m_stack); }
    QString kind() const override { return QStringLiteral("deploy"); }
    bool isPreparing() const override { return m_preparing; }

    QString preflightText() const override
    {
        if (!m_error.isEmpty())
            return m_error;
        if (!m_planned)
            return tr("Reading %1 and what the Swarm runs of stack %2… (nothing is changed)")
                .arg(m_file, m_stack);
        QString t = m_plan.planText();
        t += u'\n' + tr("What will happen: networks, secrets and configs are created first; then "
                        "each service is created or updated one at a time and watched until its "
                        "tasks run and its update completes. An update that fails is rolled "
                        "back, and on failure everything this run created is removed again. "
                        "Services the file no longer has are left alone.");
        t += QStringLiteral("\n\n") +
             tr("Expected downtime: a service that changes restarts its tasks as its "
                "update_config says (order, parallelism, delay); the others are not touched.");
        return t;
    }

    QStringList refusals() const override
    {
        QStringList out;
        if (!m_error.isEmpty())
            out.append(m_error);
        for (const StackChange &c : m_plan.changes) {
            if (c.action != StackChange::Action::Conflict)
                continue;
            out.append(c.valueWanted
                           ? tr("secret %1 does not exist: type its value below").arg(c.name)
                           : QStringLiteral("%1 %2: %3")
                                 .arg(c.kind, c.name, c.differences.join(QStringLiteral("; "))));
        }
        return out;
    }

    QStringList valuesWanted() const override
    {
        QStringList out;
        for (const StackChange &c : m_plan.changes) {
            if (c.valueWanted)
                out.append(c.name);
        }
        return out;
    }

    QJsonObject preflightReport() const override
    {
        return m_planned ? m_plan.toJson() : QJsonObject();
    }

    void prepare(const QString &reason) override
    {
        if (m_probe || m_planned || state() != State::Ready)
            return;
        const Result<StackPlan> plan =
            StackFile::read(m_file, m_stack, StackFile::processEnvironment());
        if (!plan) {
            m_error = plan.error().toString();
            Q_EMIT preflightChanged();
            return;
        }
        m_stackPlan = plan.value();
        StackDeployOptions dry = m_options;
        dry.reason = reason.trimmed();
        dry.dryRun = true;
        m_preparing = true;
        m_probe = new StackDeploy(m_inventory, m_stackPlan, dry, this);
        connect(m_probe, &StackDeploy::finished, this, [this](const StackDeployReport &r) {
            m_preparing = false;
            m_plan = r;
            m_planned = true;
            bool conflicts = false;
            for (const StackChange &c : r.changes)
                conflicts = conflicts || c.action == StackChange::Action::Conflict;
            if (!r.ok && !conflicts)
                m_error = r.error;
            m_probe->deleteLater();
            Q_EMIT preflightChanged();
        });
        m_probe->start();
    }

    void start(const QString &reason) override
    {
        if (state() != State::Ready || m_preparing || !m_planned || !refusals().isEmpty())
            return;
        m_options.reason = reason.trimmed();
        m_engine = new StackDeploy(m_inventory, m_stackPlan, m_options, this);
        connect(m_engine, &StackDeploy::stepStarted, this, &OperationRun::stepStarted);
        connect(m_engine, &StackDeploy::stepFinished, this, &OperationRun::stepFinished);
        connect(m_engine, &StackDeploy::changeUpdated, this, [this](const StackChange &c) {
            if (c.kind != u"service" || c.desiredTasks < 0)
                return;
            Q_EMIT observed(
                QStringLiteral("swarm"),
                tr("%1: %2/%3 tasks running%4")
                    .arg(c.name)
                    .arg(c.runningTasks)
                    .arg(c.desiredTasks)
                    .arg(c.updateState.isEmpty() ? QString() : tr(", update ") + c.updateState));
        });
        connect(m_engine, &StackDeploy::finished, this, [this](const StackDeployReport &r) {
            m_result = r;
            QString summary;
            if (r.ok)
                summary = r.changesNothing()
                              ? tr("Nothing to change: the Swarm already runs this file.")
                              : tr("Deployed stack %1: %2 created, %3 updated.")
                                    .arg(r.stack)
                                    .arg(r.count(StackChange::Action::Create))
                                    .arg(r.count(StackChange::Action::Update));
            else if (state() == State::Cancelling)
                summary = tr("Cancelled: %1").arg(r.error);
            else
                summary = tr("Failed: %1").arg(r.error);
            setState(State::Finished);
            Q_EMIT finished(r.ok, summary, r.toJson());
        });
        setState(State::Running);
        m_engine->start();
    }

    void cancel() override
    {
        if (state() == State::Ready) {
            if (m_probe)
                m_probe->cancel(tr("cancelled by the operator in the console"));
            finishBeforeStart();
            return;
        }
        if (state() != State::Running || !m_engine)
            return;
        setState(State::Cancelling);
        Q_EMIT observed(QStringLiteral("operation"),
                        tr("cancel asked: the running step finishes, then what this run created "
                           "is removed"));
        m_engine->cancel(tr("cancelled by the operator in the console"));
    }

    QString detailsText() const override
    {
        QString t = m_result.planText();
        const QStringList failed = m_result.runbook.failedSteps();
        if (!failed.isEmpty())
            t += u'\n' + tr("Steps that failed:") + u'\n' + failed.join(u'\n') + u'\n';
        return t + u'\n' + tr("Steps:") + u'\n' + m_result.runbook.toText();
    }

private:
    Inventory m_inventory;
    QString m_file;
    QString m_stack;
    StackDeployOptions m_options;
    StackPlan m_stackPlan;
    StackDeployReport m_plan;
    StackDeployReport m_result;
    QString m_error;
    bool m_preparing = false;
    bool m_planned = false;
    QPointer<StackDeploy> m_probe;
    StackDeploy *m_engine = nullptr;
};

} // namespace

OperationRun *createStackDeployRun(const Inventory &inventory, const QString &stackFile,
                                   const QString &stack,
                                   const QHash<QString, QByteArray> &secretValues, QObject *parent)
{
    return new StackDeployRun(inventory, stackFile, stack, secretValues, parent);
}

} // namespace Pilothouse
