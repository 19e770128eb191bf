#pragma once
// Lives on the GUI thread.

#include "models/operationrun.h"
#include "ui/operations/operationrunpage.h"

#include <QList>
#include <QPointer>
#include <QWizard>

class QLabel;
class QLineEdit;
class QListWidget;
class QPlainTextEdit;

namespace Pilothouse {

// What a maintenance operation may be aimed at (a node to rejoin), as the
// wizard's first page lists it. Not offered: shown greyed with why.
struct MaintenanceChoice
{
    QString key;   // given to the factory ("pg-1")
    QString label; // "pg-1 on swarm-01 — running as a primary, timeline 14"
    QString icon;  // a name of the state icon set
    bool offered = true;
    bool suggested = false; // selected first
};

// The words and choices of one maintenance operation's wizard.
struct MaintenanceSpec
{
    QString objectName;               // "rejoinWizard"
    QString windowTitle;              // "Rejoin a Node"
    QString chooseTitle;              // "Which node rejoins the cluster?"
    QString chooseHint;               // the page's subtitle
    QString situation;                // one paragraph above the list: the cluster now
    QList<MaintenanceChoice> choices; // empty: nothing to choose, only the reason
    QString noChoiceText;             // shown when choices are given but none is offered
    QString commitText;               // "&Rejoin pg-1"
};

// Drives the operations that repair one thing in the cluster (rejoin a
// diverged node, bring the pgpools in line): the target (when there is one
// to pick) and the reason; the preflight, which reads the cluster without
// changing it (the run's prepare()) and shows what it found, what will
// happen and any refusal; the run with live steps and a cancel; the result
// with its details.
class MaintenanceWizard final : public QWizard
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(MaintenanceWizard)

public:
    enum Page { ChoosePage, PreflightPage, RunPage, ResultPage };

    MaintenanceWizard(MaintenanceSpec spec, OperationRunFactory factory, QWidget *parent = nullptr);
    ~MaintenanceWizard() override;

    // Picks a choice by key (as a click would); false when it is not offered.
    bool selectChoice(const QString &key);
    QString selectedChoice() const;

    QListWidget *choiceList() const { return m_choices; }
    QLineEdit *reasonEdit() const { return m_reason; }
    QPlainTextEdit *preflightView() const { return m_preflight; }
    QLabel *preparingLabel() const { return m_preparing; }
    QLabel *refusalsLabel() const { return m_refusals; }
    OperationRunPage *runPage() const { return m_run; }
    QLabel *resultLabel() const { return m_result; }
    QPlainTextEdit *detailsView() const { return m_details; }
    OperationRun *operation() const { return m_operation; }

    void reject() override;

private:
    void preparePreflight();
    void refreshPreflight();
    void showResult();

    MaintenanceSpec m_spec;
    OperationRunFactory m_factory;
    QPointer<OperationRun> m_operation;
    QListWidget *m_choices = nullptr;
    QLineEdit *m_reason = nullptr;
    QPlainTextEdit *m_preflight = nullptr;
    QLabel *m_preparing = nullptr;
    QLabel *m_refusals = nullptr;
    OperationRunPage *m_run = nullptr;
    QLabel *m_result = nullptr;
    QPlainTextEdit *m_details = nullptr;
};

} // namespace Pilothouse
