#include "ui/operations/certificatewizard.h"

#include "ui/operations/operationspages.h"

#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRadioButton>
#include <QVBoxLayout>

namespace Pilothouse {
namespace {

// A file field with a Browse button that opens a dialog for it.
QHBoxLayout *fileRow(QLineEdit *edit, const QString &buttonName, const QString &title,
                     QWidget *dialogParent)
{
    auto *browse = new QPushButton(QObject::tr("Browse…"));
    browse->setObjectName(buttonName);
    QObject::connect(browse, &QPushButton::clicked, edit, [edit, title, dialogParent] {
        auto *dialog = new QFileDialog(dialogParent, title, QFileInfo(edit->text()).path(),
                                       QObject::tr("PEM files (*.pem *.crt *.key);;All files (*)"));
        dialog->setAttribute(Qt::WA_DeleteOnClose);
        dialog->setFileMode(QFileDialog::ExistingFile);
        QObject::connect(dialog, &QFileDialog::fileSelected, edit, &QLineEdit::setText);
        dialog->open();
    });
    auto *row = new QHBoxLayout;
    row->addWidget(edit, 1);
    row->addWidget(browse);
    return row;
}

bool readableFile(const QString &path)
{
    const QFileInfo info(path);
    return info.isFile() && info.isReadable();
}

} // namespace

CertificateWizard::CertificateWizard(CertificateRunFactory factory, QWidget *parent)
    : QWizard(parent)
    , m_factory(std::move(factory))
{
    setObjectName(QStringLiteral("certificateWizard"));
    setWindowTitle(tr("The Proxy's TLS Certificate"));
    setWizardStyle(QWizard::ClassicStyle);
    setOption(QWizard::NoBackButtonOnLastPage);
    setOption(QWizard::NoCancelButtonOnLastPage);
    setOption(QWizard::NoBackButtonOnStartPage);
    resize(900, 680);

    // 1. What and why.
    auto *choose = new GuardedPage;
    choose->setObjectName(QStringLiteral("choosePage"));
    choose->setTitle(tr("Rotate the certificate, or roll back?"));
    choose->setSubTitle(tr("Every HAProxy is changed one at a time through its runtime API: no "
                           "reload, no dropped connection. Nothing changes before the preflight."));
    m_rotate = new QRadioButton(tr("&Rotate to a new certificate"));
    m_rotate->setObjectName(QStringLiteral("rotate"));
    m_rotate->setChecked(true);
    m_rollback = new QRadioButton(
        tr("Roll &back: serve again what each HAProxy served before the last change"));
    m_rollback->setObjectName(QStringLiteral("rollback"));
    m_certificate = new QLineEdit;
    m_certificate->setObjectName(QStringLiteral("certificateFile"));
    m_certificate->setPlaceholderText(tr("the certificate, then any intermediates (PEM)"));
    m_key = new QLineEdit;
    m_key->setObjectName(QStringLiteral("keyFile"));
    m_key->setPlaceholderText(tr("empty when the certificate file holds the key"));
    m_reason = createReasonEdit(choose);
    auto *form = new QFormLayout;
    // A row whose field is a layout gets no buddy from QFormLayout: the labels name theirs.
    auto *certificateLabel = new QLabel(tr("&Certificate:"));
    certificateLabel->setBuddy(m_certificate);
    auto *keyLabel = new QLabel(tr("Private &key:"));
    keyLabel->setBuddy(m_key);
    form->addRow(certificateLabel, fileRow(m_certificate, QStringLiteral("browseCertificate"),
                                           tr("Certificate"), this));
    form->addRow(keyLabel, fileRow(m_key, QStringLiteral("browseKey"), tr("Private key"), this));
    auto *chooseLayout = new QVBoxLayout(choose);
    chooseLayout->addWidget(m_rotate);
    chooseLayout->addLayout(form);
    chooseLayout->addWidget(m_rollback);
    chooseLayout->addStretch(1);
    auto *reasonForm = new QFormLayout;
    reasonForm->addRow(tr("&Reason (kept in the audit trail):"), m_reason);
    chooseLayout->addLayout(reasonForm);
    choose->setGuard([this] {
        const bool files =
            m_rollback->isChecked() ||
            (readableFile(m_certificate->text().trimmed()) &&
             (m_key->text().trimmed().isEmpty() || readableFile(m_key->text().trimmed())));
        return files && !m_reason->text().trimmed().isEmpty();
    });
    auto changed = [this, choose] {
        m_certificate->setEnabled(m_rotate->isChecked());
        m_key->setEnabled(m_rotate->isChecked());
        Q_EMIT choose->completeChanged();
    };
    connect(m_rotate, &QRadioButton::toggled, choose, changed);
    connect(m_certificate, &QLineEdit::textChanged, choose, changed);
    connect(m_key, &QLineEdit::textChanged, choose, changed);
    connect(m_reason, &QLineEdit::textChanged, choose, changed);
    setPage(ChoosePage, choose);

    // 2. Preflight: the dry run, nothing changed.
    auto *preflight = new GuardedPage;
    preflight->setObjectName(QStringLiteral("preflightPage"));
    preflight->setTitle(tr("Preflight"));
    preflight->setSubTitle(tr("The certificate is checked and every HAProxy read; nothing has "
                              "changed yet. Read this before you start."));
    preflight->setCommitPage(true);
    preflight->setButtonText(QWizard::CommitButton, tr("&Serve it"));
    m_preflight = createPreflightView(preflight);
    m_preparing = new QLabel;
    m_preparing->setObjectName(QStringLiteral("preparing"));
    m_refusals = createRefusalsLabel(preflight);
    auto *preflightLayout = new QVBoxLayout(preflight);
    preflightLayout->addWidget(m_preparing);
    preflightLayout->addWidget(m_preflight, 1);
    preflightLayout->addWidget(m_refusals);
    preflight->setGuard([this] {
        return m_operation && !m_operation->isPreparing() && m_operation->refusals().isEmpty();
    });
    preflight->setOnInitialize([this] { preparePreflight(); });
    setPage(PreflightPage, preflight);

    // 3. Run.
    m_run = new OperationRunPage;
    setPage(RunPage, m_run);

    // 4. Result.
    setPage(ResultPage, createResultPage(QStringLiteral("certificateResult"), &m_result, &m_details,
                                         [this] { showResult(); }));
}

CertificateWizard::~CertificateWizard() = default;

void CertificateWizard::preparePreflight()
{
    if (m_operation && !m_operation->isRunning())
        delete m_operation;
    m_operation = m_factory ? m_factory(m_rollback->isChecked(), m_certificate->text().trimmed(),
                                        m_key->text().trimmed(), this)
                            : nullptr;
    if (!m_operation) {
        m_preparing->hide();
        m_preflight->setPlainText(tr("This console cannot change certificates."));
        showRefusals(m_refusals, {tr("the operation is not available")});
        return;
    }
    page(PreflightPage)
        ->setButtonText(QWizard::CommitButton,
                        m_rollback->isChecked() ? tr("&Roll back") : tr("&Serve it"));
    startPreflight(m_operation, m_run, m_reason->text().trimmed(), this,
                   [this] { refreshPreflight(); });
}

void CertificateWizard::refreshPreflight()
{
    if (!m_operation)
        return;
    showPreflight(m_operation, m_preflight, m_preparing, m_refusals,
                  tr("Checking and reading… (nothing is changed)"));
    Q_EMIT page(PreflightPage)->completeChanged();
}

void CertificateWizard::showResult()
{
    showRunResult(m_result, m_details, m_run, m_operation);
}

void CertificateWizard::reject()
{
    if (!cancelInsteadOfClosing(m_operation, m_run))
        QWizard::reject();
}

} // namespace Pilothouse
