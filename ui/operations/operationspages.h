#pragma once
// Lives on the GUI thread.

#include <QStringList>
#include <QWizardPage>

#include <functional>

class QLabel;
class QLineEdit;
class QPlainTextEdit;

namespace Pilothouse {
class OperationRun;
class OperationRunPage;
} // namespace Pilothouse

namespace Pilothouse {

// A wizard page whose completeness and set-up are given as functions, so
// each wizard states its rules where it builds its pages.
class GuardedPage final : public QWizardPage
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(GuardedPage)

public:
    explicit GuardedPage(QWidget *parent = nullptr);
    ~GuardedPage() override;

    void setGuard(std::function<bool()> guard) { m_guard = std::move(guard); }
    void setOnInitialize(std::function<void()> init) { m_init = std::move(init); }

    bool isComplete() const override;
    void initializePage() override;

private:
    std::function<bool()> m_guard;
    std::function<void()> m_init;
};

// The reason field every operation asks for (required; kept in the audit trail).
QLineEdit *createReasonEdit(QWidget *parent);
// Read-only, wrapped, for the preflight text.
QPlainTextEdit *createPreflightView(QWidget *parent);
// Lists refusals with an icon; hidden when there are none.
QLabel *createRefusalsLabel(QWidget *parent);
void showRefusals(QLabel *label, const QStringList &refusals);
// "<icon> Succeeded — summary" as rich text.
QString resultHeader(bool ok, const QString &summary);
// The wizards' last page, "Result": a header (rich text, named `headerName`,
// for resultHeader()) over a details view in a fixed font; `show` fills them
// each time the page opens.
// Hands a wizard's new run to its run page and starts its preflight read
// (prepare() with the reason); `refresh` runs now and after each change.
void startPreflight(OperationRun *run, OperationRunPage *page, const QString &reason,
                    QObject *context, const std::function<void()> &refresh);
// Shows `run`'s preflight text, `preparingText` while it reads, and its
// refusals once it has read.
void showPreflight(OperationRun *run, QPlainTextEdit *view, QLabel *preparing, QLabel *refusals,
                   const QString &preparingText);
// Fills a result page (createResultPage) from the run page and the run.
void showRunResult(QLabel *header, QPlainTextEdit *details, OperationRunPage *page,
                   OperationRun *run);
// A wizard closed while its run runs cancels the run instead (the cluster
// must not be left half changed): true when it did.
bool cancelInsteadOfClosing(OperationRun *run, OperationRunPage *page);
GuardedPage *createResultPage(const QString &headerName, QLabel **header, QPlainTextEdit **details,
                              std::function<void()> show);

} // namespace Pilothouse
