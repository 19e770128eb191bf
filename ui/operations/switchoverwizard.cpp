#include "ui/operations/switchoverwizard.h"

#include "models/operationrun.h"
#include "ui/operations/operationspages.h"
#include "ui/palette/icons.h"

#include <QFormLayout>
#include <QJsonArray>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QVBoxLayout>

namespace Pilothouse {
namespace {

QString lagText(const PostgresNodeState &n)
{
    QString bytes;
    if (n.lagBytes < 0)
        bytes = QObject::tr("lag unknown");
    else if (n.lagBytes < 1024)
        bytes = QObject::tr("lag %1 B").arg(n.lagBytes);
    else
        bytes = QObject::tr("lag %1 KiB").arg(double(n.lagBytes) / 1024.0, 0, 'f', 1);
    if (n.lagSeconds >= 0)
        bytes += QObject::tr(" · %1 s since the last replayed commit").arg(n.lagSeconds, 0, 'f', 1);
    return bytes;
}

} // namespace

QList<const PostgresNodeState *> SwitchoverWizard::candidates(const ClusterSnapshot &snapshot)
{
    QList<const PostgresNodeState *> out;
    for (const PostgresNodeState &n : snapshot.postgres) {
        if (n.reachable && n.role == u"standby" && n.walReceiverStatus == u"streaming")
            out.append(&n);
    }
    return out;
}

SwitchoverWizard::SwitchoverWizard(const ClusterSnapshot &snapshot, OperationRunFactory factory,
                                   QWidget *parent)
    : QWizard(parent)
    , m_snapshot(snapshot)
    , m_factory(std::move(factory))
{
    setObjectName(QStringLiteral("switchoverWizard"));
    setWindowTitle(tr("Switchover"));
    setWizardStyle(QWizard::ClassicStyle);
    setOption(QWizard::NoBackButtonOnLastPage);
    setOption(QWizard::NoCancelButtonOnLastPage);
    setOption(QWizard::NoBackButtonOnStartPage);
    resize(900, 680);

    // 1. Target and reason.
    auto *target = new GuardedPage;
    target->setObjectName(QStringLiteral("targetPage"));
    target->setTitle(tr("Which standby becomes the primary?"));
    target->setSubTitle(tr("Only standbys that stream from the primary are offered."));
    m_targets = new QListWidget;
    m_targets->setObjectName(QStringLiteral("switchoverTargets"));
    m_targets->setIconSize(QSize(24, 24));
    QString primary;
    for (const PostgresNodeState &n : m_snapshot.postgres) {
        if (n.reachable && n.role == u"primary")
            primary = n.name;
    }
    for (const PostgresNodeState *n : candidates(m_snapshot)) {
        auto *item = new QListWidgetItem(
            stateIcon(QStringLiteral("standby")),
            tr("%1 on %2 — streaming from %3, %4")
                .arg(n->name, n->host, n->upstream.isEmpty() ? tr("?") : n->upstream, lagText(*n)),
            m_targets);
        item->setData(Qt::UserRole, n->name);
    }
    QStringList skipped;
    for (const PostgresNodeState &n : m_snapshot.postgres) {
        if (n.name == primary || candidates(m_snapshot).contains(&n))
            continue;
        skipped.append(tr("%1 (%2)").arg(
            n.name,
            !n.reachable ? tr("does not answer")
            : n.role != u"standby"
                ? tr("role %1").arg(n.role)
                : tr("WAL receiver %1")
                      .arg(n.walReceiverStatus.isEmpty() ? tr("stopped") : n.walReceiverStatus)));
    }
    m_notOffered = new QLabel;
    m_notOffered->setObjectName(QStringLiteral("switchoverNotOffered"));
    m_notOffered->setWordWrap(true);
    m_notOffered->setText(
        m_targets->count() == 0 ? tr("No standby is streaming: a switchover is not possible now.")
        : skipped.isEmpty()     ? QString()
                                : tr("Not offered: %1.").arg(skipped.join(QStringLiteral(", "))));
    m_notOffered->setVisible(!m_notOffered->text().isEmpty());
    m_reason = createReasonEdit(target);
    auto *targetLayout = new QVBoxLayout(target);
    targetLayout->addWidget(new QLabel(primary.isEmpty()
                                           ? tr("No node is primary now.")
                                           : tr("%1 is the primary now.").arg(primary)));
    targetLayout->addWidget(m_targets, 1);
    targetLayout->addWidget(m_notOffered);
    auto *form = new QFormLayout;
    form->addRow(tr("&Reason (kept in the audit trail):"), m_reason);
    targetLayout->addLayout(form);
    target->setGuard([this] {
        return m_targets->currentItem() != nullptr && !m_reason->text().trimmed().isEmpty();
    });
    connect(m_targets, &QListWidget::currentItemChanged, target, &QWizardPage::completeChanged);
    connect(m_reason, &QLineEdit::textChanged, target, &QWizardPage::completeChanged);
    if (m_targets->count() == 1)
        m_targets->setCurrentRow(0);
    setPage(TargetPage, target);

    // 2. Preflight.
    auto *preflight = new GuardedPage;
    preflight->setObjectName(QStringLiteral("preflightPage"));
    preflight->setTitle(tr("Preflight"));
    preflight->setSubTitle(tr("Read this before you start: nothing has changed yet."));
    preflight->setCommitPage(true);
    preflight->setButtonText(QWizard::CommitButton, tr("&Start the switchover"));
    m_preflight = createPreflightView(preflight);
    m_refusals = createRefusalsLabel(preflight);
    auto *preflightLayout = new QVBoxLayout(preflight);
    preflightLayout->addWidget(m_preflight, 1);
    preflightLayout->addWidget(m_refusals);
    preflight->setGuard([this] { return m_operation && m_operation->refusals().isEmpty(); });
    preflight->setOnInitialize([this] { preparePreflight(); });
    setPage(PreflightPage, preflight);

    // 3. Run.
    m_run = new OperationRunPage;
    setPage(RunPage, m_run);

    // 4. Result.
    auto *result = new GuardedPage;
    result->setObjectName(QStringLiteral("resultPage"));
    result->setTitle(tr("Result"));
    m_result = new QLabel;
    m_result->setObjectName(QStringLiteral("switchoverResult"));
    m_result->setWordWrap(true);
    m_result->setTextFormat(Qt::RichText);
    m_result->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_result->setAlignment(Qt::AlignTop | Qt::AlignLeft);
    auto *resultLayout = new QVBoxLayout(result);
    resultLayout->addWidget(m_result, 1);
    result->setOnInitialize([this] { showResult(); });
    result->setFinalPage(true);
    setPage(ResultPage, result);
}

SwitchoverWizard::~SwitchoverWizard() = default;

QString SwitchoverWizard::selectedTarget() const
{
    QListWidgetItem *item = m_targets->currentItem();
    return item ? item->data(Qt::UserRole).toString() : QString();
}

void SwitchoverWizard::preparePreflight()
{
    if (m_operation && !m_operation->isRunning())
        delete m_operation;
    m_operation = m_factory ? m_factory(selectedTarget(), this) : nullptr;
    if (!m_operation) {
        m_preflight->setPlainText(tr("This console cannot run a switchover."));
        showRefusals(m_refusals, {tr("no switchover is available")});
        return;
    }
    connect(m_operation, &OperationRun::preflightChanged, this, [this] {
        m_preflight->setPlainText(m_operation->preflightText());
        showRefusals(m_refusals, m_operation->refusals());
        Q_EMIT page(PreflightPage)->completeChanged();
    });
    m_preflight->setPlainText(m_operation->preflightText());
    showRefusals(m_refusals, m_operation->refusals());
    m_run->setRun(m_operation, m_reason->text().trimmed());
}

void SwitchoverWizard::showResult()
{
    const QJsonObject r = m_run->report();
    const bool ok = m_run->finishedOk();
    const auto row = [](const QString &k, const QString &v) {
        return QStringLiteral("<tr><td><b>%1</b>&nbsp;&nbsp;</td><td>%2</td></tr>")
            .arg(k.toHtmlEscaped(), v.toHtmlEscaped());
    };
    const auto seconds = [](const QJsonValue &v) {
        return v.isDouble() ? QObject::tr("%1 s").arg(v.toDouble(), 0, 'f', 2)
                            : QObject::tr("not measured");
    };
    const QJsonObject gaps = r.value(QStringLiteral("write_gap_seconds")).toObject();
    QString lost =
        r.value(QStringLiteral("lost_writes")).isDouble()
            ? tr("%1 of %2 acknowledged (read back from %3)")
                  .arg(r.value(QStringLiteral("lost_writes")).toInt())
                  .arg(r.value(QStringLiteral("acknowledged_writes")).toInt())
                  .arg(r.value(QStringLiteral("lost_checked_on")).toString())
            : tr("unknown: %1").arg(r.value(QStringLiteral("lost_check_error")).toString());
    QString html = resultHeader(ok, m_run->summary());
    html += QStringLiteral("<table>");
    html += row(tr("New primary"),
                r.value(QStringLiteral("new_primary")).toString().isEmpty()
                    ? tr("none (still %1)").arg(r.value(QStringLiteral("old_primary")).toString())
                    : r.value(QStringLiteral("new_primary")).toString());
    html += row(tr("Old primary"), r.value(QStringLiteral("old_primary")).toString());
    html += row(tr("Timeline"), tr("%1 → %2")
                                    .arg(r.value(QStringLiteral("timeline_before")).toInt())
                                    .arg(r.value(QStringLiteral("timeline_after")).toInt()));
    html += row(tr("Write gap through pgpool"), seconds(gaps.value(QStringLiteral("pgpool"))));
    html += row(tr("Write gap through the app"), seconds(gaps.value(QStringLiteral("app"))));
    html += row(tr("Acknowledged writes lost"), lost);
    html += row(tr("Duration"), seconds(r.value(QStringLiteral("duration_seconds"))));
    html += QStringLiteral("</table>");
    const QJsonArray paths = r.value(QStringLiteral("paths")).toArray();
    if (!paths.isEmpty()) {
        html +=
            QStringLiteral("<p><b>%1</b></p><table>").arg(tr("Heartbeat writers").toHtmlEscaped());
        for (const QJsonValue &v : paths) {
            const QJsonObject p = v.toObject();
            html += row(p.value(QStringLiteral("path")).toString(),
                        tr("gap %1 s · %2 sent, %3 acknowledged, %4 failed")
                            .arg(p.value(QStringLiteral("write_gap_seconds")).toDouble(), 0, 'f', 3)
                            .arg(p.value(QStringLiteral("sent")).toInt())
                            .arg(p.value(QStringLiteral("acked")).toInt())
                            .arg(p.value(QStringLiteral("failed")).toInt()));
        }
        html += QStringLiteral("</table>");
    }
    QStringList failed;
    for (const QJsonValue &v : r.value(QStringLiteral("steps")).toArray()) {
        const QJsonObject s = v.toObject();
        if (!s.value(QStringLiteral("ok")).toBool())
            failed.append(s.value(QStringLiteral("name")).toString() + QStringLiteral(": ") +
                          s.value(QStringLiteral("detail")).toString());
    }
    if (!failed.isEmpty())
        html += QStringLiteral("<p><b>%1</b><br>%2</p>")
                    .arg(tr("Steps that failed").toHtmlEscaped(),
                         failed.join(QStringLiteral("\n"))
                             .toHtmlEscaped()
                             .replace(u'\n', QStringLiteral("<br>")));
    m_result->setText(html);
}

void SwitchoverWizard::reject()
{
    if (m_operation && m_operation->isRunning()) {
        // Closing the window must not leave the cluster half switched.
        m_run->cancelButton()->click();
        return;
    }
    QWizard::reject();
}

} // namespace Pilothouse
