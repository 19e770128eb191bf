#pragma once
// Lives on the GUI thread.

#include "models/operationrun.h"
#include "ui/operations/operationrunpage.h"

#include <QPointer>
#include <QWizard>

#include <functional>

class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QRadioButton;

namespace Pilothouse {

// Makes a certificate rotation to the bundle in `certificateFile` (and
// `keyFile`, empty when the first holds the key), or with `rollback` a
// return to the previous certificate; not started, owned by `parent`.
using CertificateRunFactory = std::function<OperationRun *(
    bool rollback, const QString &certificateFile, const QString &keyFile, QObject *parent)>;

// Drives the TLS certificate of the proxy: rotate to a new bundle or roll
// back, and the reason; the preflight, a dry run that checks the bundle and
// reads what each HAProxy serves without changing anything; the run with
// its steps; the result. The key file is read by the run and never shown.
class CertificateWizard final : public QWizard
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(CertificateWizard)

public:
    enum Page { ChoosePage, PreflightPage, RunPage, ResultPage };

    explicit CertificateWizard(CertificateRunFactory factory, QWidget *parent = nullptr);
    ~CertificateWizard() override;

    QRadioButton *rotateButton() const { return m_rotate; }
    QRadioButton *rollbackButton() const { return m_rollback; }
    QLineEdit *certificateEdit() const { return m_certificate; }
    QLineEdit *keyEdit() const { return m_key; }
    QLineEdit *reasonEdit() const { return m_reason; }
    QPlainTextEdit *preflightView() const { return m_preflight; }
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

    CertificateRunFactory m_factory;
    QPointer<OperationRun> m_operation;
    QRadioButton *m_rotate = nullptr;
    QRadioButton *m_rollback = nullptr;
    QLineEdit *m_certificate = nullptr;
    QLineEdit *m_key = nullptr;
    QLineEdit *m_reason = nullptr;
    QPlainTextEdit *m_preflight = nullptr;
    QLabel *m_preparing = nullptr;
    QLabel *m_refusals = nullptr;
    OperationRunPage *m_run = nullptr;
    QLabel *m_result = nullptr;
    QPlainTextEdit *m_details = nullptr;
};

} // namespace Pilothouse
