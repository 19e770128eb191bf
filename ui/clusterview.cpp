#include "ui/clusterview.h"

#include "models/findings.h"
#include "models/findingsmodel.h"
#include "models/timelinemodel.h"
#include "ui/charts/chartspanel.h"
#include "ui/docks/findingsdock.h"
#include "ui/docks/timelinedock.h"
#include "ui/operations/auditdock.h"
#include "ui/operations/operationsmenu.h"
#include "ui/overview/overviewscene.h"
#include "ui/overview/overviewview.h"

#include <QDateTime>
#include <QGroupBox>
#include <QHeaderView>
#include <QLabel>
#include <QTabWidget>
#include <QTableView>
#include <QVBoxLayout>

namespace Pilothouse {
namespace {

QString placement(const QMap<QString, QString> &map)
{
    QStringList parts;
    for (auto it = map.cbegin(); it != map.cend(); ++it)
        parts.append(it.key() + QStringLiteral(" on ") + it.value());
    return parts.isEmpty() ? QObject::tr("(not set)") : parts.join(QStringLiteral(", "));
}

QString orUnset(const QString &value)
{
    return value.isEmpty() ? QObject::tr("(not set)") : value;
}

} // namespace

ClusterView::ClusterView(QWidget *parent)
    : QMainWindow(parent)
{
    // A main window inside the console's window: docks, no frame of its own.
    setWindowFlags(Qt::Widget);
    setDockOptions(QMainWindow::AnimatedDocks | QMainWindow::AllowTabbedDocks);

    auto *central = new QWidget(this);
    m_title = new QLabel(central);
    m_title->setObjectName(QStringLiteral("clusterTitle"));
    QFont f = m_title->font();
    f.setPointSizeF(f.pointSizeF() * 1.4);
    f.setBold(true);
    m_title->setFont(f);
    m_state = new QLabel(tr("Connecting…"), central);
    m_state->setObjectName(QStringLiteral("clusterState"));
    m_state->setTextInteractionFlags(Qt::TextSelectableByMouse);
    // Its text changes every second; an ignored width keeps that from
    // re-laying out the whole window each time.
    m_state->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    auto *header = new QHBoxLayout;
    header->addWidget(m_title);
    header->addSpacing(16);
    header->addWidget(m_state, 1);
    header->addWidget(createOperationsButton(
        central, [this](const QString &operation) { Q_EMIT operationRequested(operation); }));

    m_tabs = new QTabWidget(central);
    m_tabs->setObjectName(QStringLiteral("clusterTabs"));
    m_tabs->setDocumentMode(true);
    m_overview = new OverviewView(m_tabs);
    m_overview->setObjectName(QStringLiteral("overviewView"));
    m_tabs->addTab(m_overview, tr("&Overview"));
    m_charts = new ChartsPanel(m_tabs);
    m_tabs->addTab(m_charts, tr("C&harts"));

    auto *inventoryPage = new QWidget(m_tabs);
    m_summary = new QLabel(inventoryPage);
    m_summary->setObjectName(QStringLiteral("clusterSummary"));
    m_summary->setTextFormat(Qt::RichText);
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_summary->setWordWrap(true);
    auto *hostsBox = new QGroupBox(tr("Hosts (from the inventory)"), inventoryPage);
    m_hosts = new QTableView(hostsBox);
    m_hosts->setObjectName(QStringLiteral("hostsTable"));
    m_hosts->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_hosts->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_hosts->verticalHeader()->hide();
    m_hosts->horizontalHeader()->setStretchLastSection(true);
    m_hosts->setAlternatingRowColors(true);
    auto *hostsLayout = new QVBoxLayout(hostsBox);
    hostsLayout->addWidget(m_hosts);
    auto *inventoryLayout = new QVBoxLayout(inventoryPage);
    inventoryLayout->setContentsMargins(16, 12, 16, 12);
    inventoryLayout->addWidget(m_summary);
    inventoryLayout->addWidget(hostsBox, 1);
    m_tabs->addTab(inventoryPage, tr("&Inventory"));

    auto *layout = new QVBoxLayout(central);
    layout->setContentsMargins(12, 8, 12, 0);
    layout->addLayout(header);
    layout->addWidget(m_tabs, 1);
    setCentralWidget(central);

    m_findingsDock = new FindingsDock(this);
    addDockWidget(Qt::RightDockWidgetArea, m_findingsDock);
    m_timelineDock = new TimelineDock(this);
    addDockWidget(Qt::BottomDockWidgetArea, m_timelineDock);
    m_auditDock = new AuditDock(this);
    tabifyDockWidget(m_timelineDock, m_auditDock);
    m_timelineDock->raise();
    connect(m_findingsDock, &FindingsDock::findingActivated, this, &ClusterView::focusKeys);
    connect(m_findingsDock, &FindingsDock::operationRequested, this,
            &ClusterView::operationRequested);
    connect(m_tabs, &QTabWidget::currentChanged, this, [this] {
        if (m_tabs->currentWidget() == m_charts)
            m_charts->refresh(QDateTime::currentMSecsSinceEpoch());
    });
}

ClusterView::~ClusterView() = default;

void ClusterView::setInventory(const Inventory &inventory)
{
    const ClusterSettings &s = inventory.settings;
    m_title->setText(inventory.displayName());
    setWindowTitle(inventory.displayName());
    const QString row = QStringLiteral("<tr><td><b>%1</b>&nbsp;&nbsp;</td><td>%2</td></tr>");
    QString html = QStringLiteral("<table>");
    html += row.arg(tr("Inventory"), inventory.path.toHtmlEscaped());
    html += row.arg(tr("Stack"), orUnset(s.stack).toHtmlEscaped());
    html += row.arg(tr("Proxy"), orUnset(s.proxy).toHtmlEscaped() + QStringLiteral(" — ") +
                                     orUnset(s.domain).toHtmlEscaped());
    html += row.arg(tr("PostgreSQL"), placement(s.postgresNodes).toHtmlEscaped() +
                                          tr(" (port %1)").arg(s.postgresPort));
    html += row.arg(tr("PgPool"), tr("service %1, port %2, PCP %3")
                                      .arg(orUnset(s.pgpoolService).toHtmlEscaped())
                                      .arg(s.pgpoolPort)
                                      .arg(s.pcpPort));
    html += row.arg(tr("etcd"), placement(s.etcdMembers).toHtmlEscaped());
    html += row.arg(tr("App"), tr("service %1, %2 replicas")
                                   .arg(orUnset(s.appService).toHtmlEscaped())
                                   .arg(s.appReplicas));
    html += QStringLiteral("</table>");
    m_summary->setText(html);
}

void ClusterView::setHostsModel(QAbstractItemModel *model)
{
    m_hosts->setModel(model);
    m_hosts->resizeColumnsToContents();
}

void ClusterView::setFindingsModel(FindingsModel *model)
{
    m_findingsDock->setModel(model);
}

void ClusterView::setTimelineModel(TimelineModel *model)
{
    m_timelineDock->setModel(model);
}

void ClusterView::setHistory(const History *history)
{
    m_charts->setHistory(history);
}

void ClusterView::setConnectionState(const QString &text, bool problem)
{
    m_connectionText = text;
    m_connectionProblem = problem;
    updateHeader();
}

void ClusterView::sync(const ClusterSnapshot &snapshot)
{
    m_snapshot = snapshot;
    m_drawn = false;
    if (isVisible())
        draw();
}

void ClusterView::showEvent(QShowEvent *event)
{
    QMainWindow::showEvent(event);
    if (!m_docksSized) {
        // Dock sizes only hold once the window has its own size.
        m_docksSized = true;
        resizeDocks({m_findingsDock}, {qMax(300, width() / 5)}, Qt::Horizontal);
        resizeDocks({m_timelineDock}, {qMax(160, height() / 5)}, Qt::Vertical);
    }
    if (!m_drawn)
        draw();
}

void ClusterView::draw()
{
    if (!m_snapshot)
        return;
    m_drawn = true;
    m_overview->sync(*m_snapshot, QDateTime::currentDateTimeUtc());
    // Cheap while the charts are hidden: they only note the time and catch up when shown.
    m_charts->refresh(QDateTime::currentMSecsSinceEpoch());
    updateHeader();
}

void ClusterView::updateHeader()
{
    QString text = m_connectionText;
    bool problem = m_connectionProblem;
    if (m_snapshot) {
        const auto counts = Findings::Counts::of(m_snapshot->findings);
        const QString findings =
            counts.problems() == 0
                ? tr("every layer agrees")
                : tr("%1 critical, %2 warning findings").arg(counts.critical).arg(counts.warning);
        text = tr("Live · read %1 · %2")
                   .arg(QLocale().toString(m_snapshot->takenAt.toLocalTime().time(),
                                           QStringLiteral("HH:mm:ss")),
                        findings);
        problem = counts.critical > 0;
    }
    m_state->setText((problem ? QStringLiteral("⚠ ") : QString()) + text);
}

QList<PaletteEntry> ClusterView::paletteEntries() const
{
    QList<PaletteEntry> out;
    if (!m_snapshot)
        return out;
    const ClusterSnapshot &s = *m_snapshot;
    for (const HostState &h : s.hosts) {
        QString role;
        for (const SwarmNodeState &n : s.swarmNodes) {
            if (n.hostname == h.name)
                role = (n.manager ? tr("manager") : tr("worker")) +
                       (n.leader ? tr(", leader") : QString());
        }
        out.append({QStringLiteral("host:") + h.name, h.name, QStringLiteral("host"),
                    h.address + (role.isEmpty() ? QString() : QStringLiteral(" · ") + role)});
    }
    for (const ServiceState &sv : s.services)
        out.append(
            {QStringLiteral("service:") + sv.name, sv.name, QStringLiteral("service"),
             tr("%1/%2 running · %3").arg(sv.runningTasks).arg(sv.desiredReplicas).arg(sv.mode)});
    for (const PostgresNodeState &n : s.postgres)
        out.append({QStringLiteral("pg:") + n.name, n.name, QStringLiteral("pg"),
                    tr("%1 on %2 · timeline %3").arg(n.role, n.host).arg(n.timeline)});
    for (const PgpoolInstanceState &p : s.pgpools)
        out.append({QStringLiteral("pgpool:") + p.task, tr("pgpool on %1").arg(p.host),
                    QStringLiteral("pgpool"), p.task.left(12)});
    for (const EtcdMemberState &m : s.etcd.members)
        out.append({QStringLiteral("etcd:") + m.name, m.name, QStringLiteral("etcd"),
                    tr("on %1%2").arg(m.host, m.isLeader ? tr(" · leader") : QString())});
    for (const ProxyRoute &r : s.routes)
        out.append({QStringLiteral("route:") + r.host + u'@' + r.proxy, r.host,
                    QStringLiteral("route"), tr("through %1 → %2").arg(r.proxy, r.service)});
    for (const AppReplicaState &a : s.appReplicas)
        out.append({QStringLiteral("app:") + a.task, tr("app on %1").arg(a.host),
                    QStringLiteral("app"), a.task.left(12)});
    return out;
}

void ClusterView::showCharts()
{
    m_tabs->setCurrentWidget(m_charts);
}

void ClusterView::focusKeys(const QStringList &keys)
{
    m_tabs->setCurrentWidget(m_overview);
    if (!m_drawn)
        draw();
    // A service is drawn as its tasks on their hosts and as the layer's items
    // it runs (pg-1 as pg:pg-1, pgpool as each pgpool:<task>, ...).
    QStringList expanded;
    const QStringList drawn = m_overview->scene()->keys();
    for (const QString &key : keys) {
        if (!key.startsWith(u"service:")) {
            expanded.append(key);
            continue;
        }
        const QString service = key.mid(8);
        for (const QString &k : drawn) {
            const QString object = k.section(u'/', 0, 0);
            if (object == k && (object.endsWith(u':' + service) ||
                                (object.startsWith(service + u':') && service != u"host")))
                expanded.append(k);
        }
        if (m_snapshot) {
            for (const TaskState &t : m_snapshot->tasks) {
                if (t.service == service && t.desiredState == u"running")
                    expanded.append(QStringLiteral("host:") + t.hostname);
            }
        }
    }
    expanded.removeDuplicates();
    m_overview->scene()->selectKeys(expanded);
}

} // namespace Pilothouse
