#include "ui/operations/operationsmenu.h"

#include "ui/palette/icons.h"
#include "ui/palette/paletteentry.h"

#include <QMenu>
#include <QToolButton>

namespace Pilothouse {

QList<OperationAction> operationActions()
{
    return {
        {QStringLiteral("switchover"), QObject::tr("Switchover…"),
         QObject::tr("planned: promote a standby, no data lost")},
        {QStringLiteral("drill"), QObject::tr("Failover Drill…"),
         QObject::tr("inject a fault, measure RTO and RPO, restore")},
        {QStringLiteral("rejoin"), QObject::tr("Rejoin a Node…"),
         QObject::tr("make a former primary or a stopped standby stream again (pg_rewind)")},
        {QStringLiteral("pgpool-repair"), QObject::tr("Repair the pgpools…"),
         QObject::tr("attach serving backends, name the real primary in every pgpool")},
        {QStringLiteral("certificate"), QObject::tr("Rotate the TLS Certificate…"),
         QObject::tr("serve a new certificate on every HAProxy without a reload, or roll back")},
        {QStringLiteral("provision"), QObject::tr("Provision the Hosts…"),
         QObject::tr("take bare Debian hosts to a Swarm over SSH: user, Docker, sshd, firewall, "
                     "Swarm, images")},
        {QStringLiteral("deploy"), QObject::tr("Deploy a Stack…"),
         QObject::tr("plan a stack file against the Swarm, then create or update what differs")},
    };
}

QWidget *createOperationsButton(QWidget *parent,
                                std::function<void(const QString &operation)> request)
{
    auto *button = new QToolButton(parent);
    button->setObjectName(QStringLiteral("operationsButton"));
    button->setText(QObject::tr("Operations"));
    button->setIcon(stateIcon(QStringLiteral("action")));
    button->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    button->setPopupMode(QToolButton::InstantPopup);
    auto *menu = new QMenu(button);
    for (const OperationAction &a : operationActions()) {
        QAction *action = menu->addAction(a.label);
        action->setObjectName(QStringLiteral("operation_") + a.key);
        action->setToolTip(a.detail);
        QObject::connect(action, &QAction::triggered, button,
                         [request, key = a.key] { request(key); });
    }
    button->setMenu(menu);
    return button;
}

QList<PaletteEntry> operationPaletteEntries(const QString &cluster)
{
    QList<PaletteEntry> out;
    for (const OperationAction &a : operationActions())
        out.append({QStringLiteral("operation:") + a.key, a.label, QStringLiteral("action"),
                    a.detail + QStringLiteral(" · ") + cluster});
    return out;
}

} // namespace Pilothouse
