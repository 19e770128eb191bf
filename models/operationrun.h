#pragma once
// Lives on the GUI thread (the thread of the operation it drives).

#include <QJsonObject>
#include <QObject>
#include <QString>
#include <QStringList>

namespace Pilothouse {

// One run of an operation (a switchover, a drill, a rejoin) as the wizards
// see it: what it will do, the go, live steps and events, a cancel and a
// final report. The console's glue (app/operationsbridge) makes one from an
// engine operation; the ui never sees the engine. Runs once.
class OperationRun : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(OperationRun)

public:
    enum class State { Ready, Running, Cancelling, Finished };
    Q_ENUM(State)

    explicit OperationRun(QObject *parent = nullptr);
    ~OperationRun() override;

    // "Switchover pg-1 → pg-2", "Drill: kill-primary".
    virtual QString title() const = 0;
    // What will happen, what is checked, the expected downtime (plain text,
    // paragraphs separated by blank lines). May change (preflightChanged).
    virtual QString preflightText() const = 0;
    // Why the operation may not start now, one reason a line; empty: it may.
    virtual QStringList refusals() const { return {}; }
    // The operation's kind: "switchover", "drill", "rejoin", "pgpool-repair".
    virtual QString kind() const = 0;

    // Reads what the preflight shows without changing anything (a rejoin's
    // timeline fork, what each pgpool gets wrong): called once, before
    // start(), with the reason; preflightChanged() follows as it learns.
    // While isPreparing(), the operation may not start.
    virtual void prepare(const QString &reason) { Q_UNUSED(reason) }
    virtual bool isPreparing() const { return false; }
    // The preflight as data, for a wizard that draws it (a stack deploy's
    // plan: its changes per service); empty when the text says it all.
    virtual QJsonObject preflightReport() const { return {}; }
    // Values the operator must give before the run may start (a stack's
    // external secrets that do not exist yet), by name; empty: none.
    virtual QStringList valuesWanted() const { return {}; }
    // After finished(): the details for people (plain text), empty when the
    // summary says it all.
    virtual QString detailsText() const { return {}; }

    // Starts the operation with the reason the operator typed (required).
    virtual void start(const QString &reason) = 0;
    // Stops it, leaving the cluster in a known state; finished() follows.
    virtual void cancel() = 0;

    State state() const { return m_state; }
    bool isRunning() const { return m_state == State::Running || m_state == State::Cancelling; }
    // The inventory file of the cluster it acts on, set by whoever made it;
    // empty when it acts on none in particular.
    QString cluster() const { return m_cluster; }
    void setCluster(const QString &inventoryPath) { m_cluster = inventoryPath; }

    // Every run that is running now, oldest first: what quitting would cut
    // short; with `cluster`, only those acting on that cluster (what closing
    // it would cut short).
    static QList<OperationRun *> running(const QString &cluster = QString());

Q_SIGNALS:
    void preflightChanged();
    // `path` names a step from the root ("switchover/act/promote"); groups too.
    void stepStarted(const QString &path, const QString &name);
    void stepFinished(const QString &path, bool ok, double seconds, const QString &message);
    void progress(int done, int total);
    // Something seen while running: layer is repmgr, pgpool, etcd, swarm,
    // proxy, app, writer or drill.
    void observed(const QString &layer, const QString &text);
    void stateChanged(Pilothouse::OperationRun::State state);
    // `report`: the operation's JSON report (the CLI's --json output).
    void finished(bool ok, const QString &summary, const QJsonObject &report);

protected:
    void setState(State state);
    // cancel() before start(): the run ends at once, having changed nothing.
    void finishBeforeStart();

private:
    State m_state = State::Ready;
    QString m_cluster;
};

} // namespace Pilothouse
