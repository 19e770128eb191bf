#include "ui/operations/operationrunpage.h"

#include "models/operationrun.h"
#include "ui/palette/icons.h"

#include <QDateTime>
#include <QHeaderView>
#include <QLabel>
#include <QListWidget>
#include <QProgressBar>
#include <QPushButton>
#include <QTreeWidget>
#include <QVBoxLayout>
#include <QWizard>

namespace Pilothouse {
namespace {
enum Column { StepColumn, StateColumn, SecondsColumn, MessageColumn };

QString clock(qint64 ms)
{
    const qint64 s = ms / 1000;
    return QStringLiteral("%1:%2").arg(s / 60).arg(s % 60, 2, 10, QLatin1Char('0'));
}
} // namespace

QString stepStateIcon(const QString &state)
{
    if (state == u"ok")
        return QStringLiteral("ok");
    if (state == u"failed")
        return QStringLiteral("critical");
    if (state == u"running")
        return QStringLiteral("action");
    return QStringLiteral("unknown");
}

OperationRunPage::OperationRunPage(QWidget *parent)
    : QWizardPage(parent)
{
    setObjectName(QStringLiteral("runPage"));
    setTitle(tr("Running"));
    setCommitPage(true);
    setButtonText(QWizard::CommitButton, tr("&Result >"));
    m_title = new QLabel;
    m_title->setWordWrap(true);
    m_elapsed = new QLabel;
    m_elapsed->setObjectName(QStringLiteral("runElapsed"));
    m_progress = new QProgressBar;
    m_progress->setObjectName(QStringLiteral("runProgress"));
    m_progress->setTextVisible(true);
    m_cancel = new QPushButton(tr("Cancel the operation"));
    m_cancel->setObjectName(QStringLiteral("runCancel"));
    m_cancel->setToolTip(tr("Stops after the running step and puts the cluster back in a known "
                            "state (the cleanup steps run)."));
    connect(m_cancel, &QPushButton::clicked, this, [this] {
        if (m_run && m_run->isRunning()) {
            m_cancel->setEnabled(false);
            m_cancel->setText(tr("Cancelling…"));
            m_run->cancel();
        }
    });

    m_steps = new QTreeWidget;
    m_steps->setObjectName(QStringLiteral("runSteps"));
    m_steps->setColumnCount(4);
    m_steps->setHeaderLabels({tr("Step"), tr("State"), tr("Seconds"), tr("Result")});
    m_steps->setUniformRowHeights(true);
    m_steps->setAlternatingRowColors(true);
    const QFontMetrics metrics = m_steps->fontMetrics();
    m_steps->header()->resizeSection(StepColumn, metrics.horizontalAdvance(u'x') * 52);
    m_steps->header()->resizeSection(StateColumn,
                                     metrics.horizontalAdvance(QStringLiteral("running")) + 48);
    m_steps->header()->resizeSection(SecondsColumn,
                                     metrics.horizontalAdvance(QStringLiteral("888.88")) + 20);

    m_events = new QListWidget;
    m_events->setObjectName(QStringLiteral("runEvents"));
    m_events->setMaximumHeight(metrics.height() * 8);
    m_events->setIconSize(QSize(16, 16));

    auto *top = new QHBoxLayout;
    top->addWidget(m_progress, 1);
    top->addWidget(m_elapsed);
    top->addWidget(m_cancel);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_title);
    layout->addLayout(top);
    layout->addWidget(m_steps, 3);
    layout->addWidget(new QLabel(tr("What the writers and the layers saw")));
    layout->addWidget(m_events, 1);

    m_timer.setInterval(250);
    connect(&m_timer, &QTimer::timeout, this, &OperationRunPage::tick);
}

OperationRunPage::~OperationRunPage() = default;

void OperationRunPage::setRun(OperationRun *run, const QString &reason)
{
    if (m_run)
        disconnect(m_run, nullptr, this, nullptr);
    m_run = run;
    m_reason = reason;
    m_started = false;
    m_finished = false;
    m_items.clear();
    m_states.clear();
    m_steps->clear();
    m_events->clear();
    if (!run)
        return;
    connect(run, &OperationRun::stepStarted, this, &OperationRunPage::stepStarted);
    connect(run, &OperationRun::stepFinished, this, &OperationRunPage::stepFinished);
    connect(run, &OperationRun::observed, this, &OperationRunPage::addEvent);
    connect(run, &OperationRun::progress, this, [this](int done, int total) {
        if (total > 0) {
            m_progress->setRange(0, total);
            m_progress->setValue(done);
            m_progress->setFormat(tr("%v of %m steps"));
        } else {
            m_progress->setRange(0, 0);
            m_progress->setFormat(tr("%1 steps done").arg(done));
        }
    });
    connect(run, &OperationRun::finished, this, &OperationRunPage::onFinished);
}

void OperationRunPage::initializePage()
{
    if (!m_run || m_started)
        return;
    m_started = true;
    m_title->setText(
        QStringLiteral("<b>%1</b> — %2")
            .arg(m_run->title().toHtmlEscaped(), tr("reason: %1").arg(m_reason).toHtmlEscaped()));
    setTitle(tr("Running: %1").arg(m_run->title()));
    m_progress->setRange(0, 0);
    m_progress->setFormat(tr("starting…"));
    m_cancel->setEnabled(true);
    m_cancel->setText(tr("Cancel the operation"));
    m_clock.start();
    m_timer.start();
    tick();
    m_run->start(m_reason);
}

bool OperationRunPage::isComplete() const
{
    return m_finished;
}

QString OperationRunPage::stepState(const QString &path) const
{
    return m_states.value(path);
}

QTreeWidgetItem *OperationRunPage::itemFor(const QString &path, const QString &name)
{
    if (QTreeWidgetItem *item = m_items.value(path))
        return item;
    const qsizetype slash = path.lastIndexOf(u'/');
    QTreeWidgetItem *parent = slash > 0 ? m_items.value(path.left(slash)) : nullptr;
    auto *item = parent ? new QTreeWidgetItem(parent) : new QTreeWidgetItem(m_steps);
    item->setText(StepColumn, name.isEmpty() ? path.mid(slash + 1) : name);
    item->setToolTip(StepColumn, path);
    item->setData(StepColumn, Qt::UserRole, path);
    m_items.insert(path, item);
    if (parent)
        parent->setExpanded(true);
    return item;
}

void OperationRunPage::stepStarted(const QString &path, const QString &name)
{
    QTreeWidgetItem *item = itemFor(path, name);
    m_states.insert(path, QStringLiteral("running"));
    item->setIcon(StateColumn, stateIcon(stepStateIcon(QStringLiteral("running"))));
    item->setText(StateColumn, tr("running"));
    item->setData(SecondsColumn, Qt::UserRole, QDateTime::currentMSecsSinceEpoch());
    m_steps->scrollToItem(item);
}

void OperationRunPage::stepFinished(const QString &path, bool ok, double seconds,
                                    const QString &message)
{
    QTreeWidgetItem *item = itemFor(path, QString());
    const QString state = ok ? QStringLiteral("ok") : QStringLiteral("failed");
    m_states.insert(path, state);
    item->setIcon(StateColumn, stateIcon(stepStateIcon(state)));
    item->setText(StateColumn, ok ? tr("ok") : tr("FAILED"));
    item->setText(SecondsColumn, QString::number(seconds, 'f', 2));
    item->setData(SecondsColumn, Qt::UserRole, QVariant());
    item->setText(MessageColumn, message);
    item->setToolTip(MessageColumn, message);
    if (!ok) {
        QFont f = item->font(StateColumn);
        f.setBold(true);
        item->setFont(StateColumn, f);
    }
}

void OperationRunPage::addEvent(const QString &layer, const QString &text)
{
    const QString at =
        m_clock.isValid()
            ? QStringLiteral("+%1 s").arg(double(m_clock.elapsed()) / 1000.0, 0, 'f', 1)
            : QString();
    auto *item = new QListWidgetItem(QStringLiteral("%1  [%2]  %3").arg(at, layer, text));
    // The layer's own icon where the set has one.
    static const QHash<QString, QString> icons{
        {QStringLiteral("repmgr"), QStringLiteral("pg")},
        {QStringLiteral("writer"), QStringLiteral("pg")},
        {QStringLiteral("pgpool"), QStringLiteral("pgpool")},
        {QStringLiteral("etcd"), QStringLiteral("etcd")},
        {QStringLiteral("swarm"), QStringLiteral("service")},
        {QStringLiteral("proxy"), QStringLiteral("route")},
        {QStringLiteral("app"), QStringLiteral("app")},
        {QStringLiteral("drill"), QStringLiteral("action")},
        {QStringLiteral("operation"), QStringLiteral("action")}};
    item->setIcon(kindIcon(icons.value(layer, layer)));
    m_events->addItem(item);
    m_events->scrollToBottom();
}

void OperationRunPage::onFinished(bool ok, const QString &summary, const QJsonObject &report)
{
    m_finished = true;
    m_ok = ok;
    m_summary = summary;
    m_report = report;
    m_timer.stop();
    tick();
    m_cancel->setEnabled(false);
    m_cancel->setText(ok ? tr("Finished") : tr("Stopped"));
    m_progress->setRange(0, 1);
    m_progress->setValue(1);
    m_progress->setFormat(ok ? tr("finished") : tr("stopped: see the result"));
    setTitle((ok ? tr("Finished: %1") : tr("Stopped: %1")).arg(m_run ? m_run->title() : QString()));
    // Steps still marked running (a cancel cut them) say so.
    for (auto it = m_states.begin(); it != m_states.end(); ++it) {
        if (it.value() == u"running") {
            it.value() = QStringLiteral("stopped");
            QTreeWidgetItem *item = m_items.value(it.key());
            item->setIcon(StateColumn, stateIcon(QStringLiteral("stale")));
            item->setText(StateColumn, tr("stopped"));
        }
    }
    addEvent(QStringLiteral("operation"), summary);
    Q_EMIT completeChanged();
    Q_EMIT runFinished(ok);
}

void OperationRunPage::tick()
{
    if (!m_clock.isValid())
        return;
    m_elapsed->setText(tr("elapsed %1").arg(clock(m_clock.elapsed())));
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    for (QTreeWidgetItem *item : std::as_const(m_items)) {
        const QVariant since = item->data(SecondsColumn, Qt::UserRole);
        if (since.isValid())
            item->setText(SecondsColumn,
                          QString::number(double(now - since.toLongLong()) / 1000.0, 'f', 1) +
                              QStringLiteral("…"));
    }
}

} // namespace Pilothouse
