#pragma once
// Lives on the GUI thread.

#include <QWidget>

class QAbstractItemModel;
class QLabel;
class QListView;
class QProgressBar;
class QPushButton;

namespace Pilothouse {

class LabStepsModel;

// First page: open an inventory, start or attach to the local lab, reopen a
// recent cluster. It only emits intents; the application acts on them.
class WelcomeView final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(WelcomeView)

public:
    explicit WelcomeView(QWidget *parent = nullptr);

    void setRecentModel(QAbstractItemModel *model);
    void setLabStepsModel(LabStepsModel *model);
    // busy: a lab command runs; message: one line for the operator.
    void setLabState(bool busy, const QString &message);

Q_SIGNALS:
    void openInventoryRequested();
    void importAnsibleRequested();
    void recentRequested(const QString &path);
    void labUpRequested();
    void labCancelRequested();

private:
    QPushButton *m_openButton = nullptr;
    QPushButton *m_importButton = nullptr;
    QPushButton *m_labButton = nullptr;
    QPushButton *m_cancelButton = nullptr;
    QProgressBar *m_labProgress = nullptr;
    QLabel *m_labMessage = nullptr;
    QListView *m_labSteps = nullptr;
    QListView *m_recent = nullptr;
};

} // namespace Pilothouse
