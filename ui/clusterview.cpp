#include "ui/clusterview.h"

#include <QGroupBox>
#include <QHeaderView>
#include <QLabel>
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
    : QWidget(parent)
{
    m_title = new QLabel(this);
    QFont f = m_title->font();
    f.setPointSizeF(f.pointSizeF() * 1.6);
    f.setBold(true);
    m_title->setFont(f);
    m_summary = new QLabel(this);
    m_summary->setObjectName(QStringLiteral("clusterSummary"));
    m_summary->setTextFormat(Qt::RichText);
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_summary->setWordWrap(true);

    auto *hostsBox = new QGroupBox(tr("Hosts (from the inventory)"), this);
    m_hosts = new QTableView(hostsBox);
    m_hosts->setObjectName(QStringLiteral("hostsTable"));
    m_hosts->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_hosts->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_hosts->verticalHeader()->hide();
    m_hosts->horizontalHeader()->setStretchLastSection(true);
    m_hosts->setAlternatingRowColors(true);
    auto *hostsLayout = new QVBoxLayout(hostsBox);
    hostsLayout->addWidget(m_hosts);

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(24, 16, 24, 16);
    layout->addWidget(m_title);
    layout->addWidget(m_summary);
    layout->addWidget(hostsBox, 1);
}

void ClusterView::setInventory(const Inventory &inventory)
{
    const ClusterSettings &s = inventory.settings;
    m_title->setText(inventory.displayName());
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

} // namespace Pilothouse
