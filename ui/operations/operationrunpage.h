#pragma once
// Lives on the GUI thread.

#include "models/operationrun.h"

#include <QElapsedTimer>
#include <QHash>
#include <QJsonObject>
#include <QPointer>
#include <QTimer>
#include <QWizardPage>

#include <functional>

class QLabel;
class QListWidget;
class QProgressBar;
class QPushButton;
class QTreeWidget;
class QTreeWidgetItem;

namespace Pilothouse {

// Makes a run of an operation for a choice (the target standby, the drill
// scenario), not started, owned by `parent`; nullptr when it cannot be made.
using OperationRunFactory = std::function<OperationRun *(const QString &choice, QObject *parent)>;

// The wizards' "run" page: starts the run with the reason, shows each step
// as it starts and ends (a tree by path: state icon and word, seconds,
// message), the events, the elapsed time and a cancel button. Complete when
// the run has finished; Back is never offered (the cluster has changed).
class OperationRunPage final : public QWizardPage
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(OperationRunPage)

public:
    explicit OperationRunPage(QWidget *parent = nullptr);
    ~OperationRunPage() override;

    // Before the page is shown. Not owned.
    void setRun(OperationRun *run, const QString &reason);
    OperationRun *run() const { return m_run; }

    bool isComplete() const override;
    bool isFinished() const { return m_finished; }
    bool finishedOk() const { return m_ok; }
    QString summary() const { return m_summary; }
    QJsonObject report() const { return m_report; }

    QTreeWidget *steps() const { return m_steps; }
    QListWidget *events() const { return m_events; }
    QPushButton *cancelButton() const { return m_cancel; }
    // The step's state word ("running", "ok", "failed") by path; empty: not seen.
    QString stepState(const QString &path) const;

    void initializePage() override;

Q_SIGNALS:
    void runFinished(bool ok);

private:
    QTreeWidgetItem *itemFor(const QString &path, const QString &name);
    void stepStarted(const QString &path, const QString &name);
    void stepFinished(const QString &path, bool ok, double seconds, const QString &message);
    void addEvent(const QString &layer, const QString &text);
    void onFinished(bool ok, const QString &summary, const QJsonObject &report);
    void tick();

    QPointer<OperationRun> m_run;
    QString m_reason;
    bool m_started = false;
    bool m_finished = false;
    bool m_ok = false;
    QString m_summary;
    QJsonObject m_report;
    QLabel *m_title = nullptr;
    QLabel *m_elapsed = nullptr;
    QProgressBar *m_progress = nullptr;
    QTreeWidget *m_steps = nullptr;
    QListWidget *m_events = nullptr;
    QPushButton *m_cancel = nullptr;
    QHash<QString, QTreeWidgetItem *> m_items;
    QHash<QString, QString> m_states;
    QElapsedTimer m_clock;
    QTimer m_timer;
};

// The state of a step as an icon name of the set and a word.
QString stepStateIcon(const QString &state);

} // namespace Pilothouse
