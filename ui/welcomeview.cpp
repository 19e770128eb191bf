#include "ui/welcomeview.h"

#include "models/labstepsmodel.h"
#include "models/recentclustersmodel.h"

#include <QGroupBox>
#include <QHBoxLayout>
#include <QIcon>
#include <QLabel>
#include <QListView>
#include <QProgressBar>
#include <QPushButton>
#include <QVBoxLayout>

namespace Pilothouse {

WelcomeView::WelcomeView(QWidget *parent)
    : QWidget(parent)
{
    setObjectName(QStringLiteral("welcomeView"));
    auto *title = new QLabel(tr("Pilothouse"), this);
    QFont titleFont = title->font();
    titleFont.setPointSizeF(titleFont.pointSizeF() * 2.2);
    titleFont.setBold(true);
    title->setFont(titleFont);
    auto *subtitle = new QLabel(
        tr("Operations console for a highly available PostgreSQL cluster on Docker Swarm:\n"
           "repmgr, PgPool-II, etcd, HAProxy or Traefik, and the app behind them."),
        this);
    subtitle->setWordWrap(true);

    auto *logo = new QLabel(this);
    logo->setPixmap(QIcon(QStringLiteral(":/icons/pilothouse.svg")).pixmap(72, 72));

    m_openButton =
        new QPushButton(QIcon(QStringLiteral(":/icons/open.svg")), tr("Open inventory…"), this);
    m_openButton->setObjectName(QStringLiteral("openInventoryButton"));
    m_openButton->setToolTip(tr("An Ansible YAML inventory with a pilothouse: section"));
    m_importButton = new QPushButton(QIcon(QStringLiteral(":/icons/open.svg")),
                                     tr("Import an Ansible inventory…"), this);
    m_importButton->setObjectName(QStringLiteral("importAnsibleButton"));
    m_importButton->setToolTip(
        tr("The seed project's hosts.yaml (all: children: hosts: with ansible_host,\n"
           "ansible_port, ansible_user): the cluster's layout is taken from its groups and\n"
           "variables, Pilothouse's defaults fill in the rest."));
    m_labButton = new QPushButton(QIcon(QStringLiteral(":/icons/lab.svg")),
                                  tr("Start or attach to the local lab"), this);
    m_labButton->setObjectName(QStringLiteral("labButton"));
    m_labButton->setToolTip(
        tr("Three hosts swarm-01..03 on this machine, each with its own sshd and Docker engine,\n"
           "running the same stack as production. Attaches if it is already up."));
    for (QPushButton *b : {m_openButton, m_importButton, m_labButton}) {
        b->setMinimumHeight(40);
        b->setIconSize(QSize(22, 22));
    }

    auto *labBox = new QGroupBox(tr("Local lab"), this);
    m_labProgress = new QProgressBar(labBox);
    m_labProgress->setObjectName(QStringLiteral("labProgress"));
    m_labProgress->setRange(0, 1);
    m_labProgress->setValue(0);
    m_labProgress->setFormat(tr("%v of %m steps"));
    m_labMessage = new QLabel(tr("Not started from this console."), labBox);
    m_labMessage->setObjectName(QStringLiteral("labMessage"));
    m_labMessage->setWordWrap(true);
    m_labMessage->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_labSteps = new QListView(labBox);
    m_labSteps->setObjectName(QStringLiteral("labSteps"));
    m_labSteps->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_cancelButton = new QPushButton(tr("Cancel"), labBox);
    m_cancelButton->setEnabled(false);
    auto *labLayout = new QVBoxLayout(labBox);
    auto *progressRow = new QHBoxLayout;
    progressRow->addWidget(m_labProgress, 1);
    progressRow->addWidget(m_cancelButton);
    labLayout->addLayout(progressRow);
    labLayout->addWidget(m_labMessage);
    labLayout->addWidget(m_labSteps, 1);

    auto *recentBox = new QGroupBox(tr("Recent clusters"), this);
    m_recent = new QListView(recentBox);
    m_recent->setObjectName(QStringLiteral("recentClusters"));
    m_recent->setEditTriggers(QAbstractItemView::NoEditTriggers);
    auto *recentLayout = new QVBoxLayout(recentBox);
    recentLayout->addWidget(m_recent);

    auto *header = new QHBoxLayout;
    header->addWidget(logo, 0, Qt::AlignTop);
    auto *headerText = new QVBoxLayout;
    headerText->addWidget(title);
    headerText->addWidget(subtitle);
    header->addLayout(headerText, 1);

    auto *actions = new QHBoxLayout;
    actions->addWidget(m_openButton);
    actions->addWidget(m_importButton);
    actions->addWidget(m_labButton);
    actions->addStretch(1);

    auto *columns = new QHBoxLayout;
    columns->addWidget(labBox, 3);
    columns->addWidget(recentBox, 2);

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(32, 24, 32, 24);
    layout->setSpacing(16);
    layout->addLayout(header);
    layout->addLayout(actions);
    layout->addLayout(columns, 1);

    connect(m_openButton, &QPushButton::clicked, this, &WelcomeView::openInventoryRequested);
    connect(m_importButton, &QPushButton::clicked, this, &WelcomeView::importAnsibleRequested);
    connect(m_labButton, &QPushButton::clicked, this, &WelcomeView::labUpRequested);
    connect(m_cancelButton, &QPushButton::clicked, this, &WelcomeView::labCancelRequested);
    connect(m_recent, &QListView::activated, this, [this](const QModelIndex &index) {
        Q_EMIT recentRequested(index.data(RecentClustersModel::PathRole).toString());
    });
}

void WelcomeView::setRecentModel(QAbstractItemModel *model)
{
    m_recent->setModel(model);
}

void WelcomeView::setLabStepsModel(LabStepsModel *model)
{
    m_labSteps->setModel(model);
    connect(model, &LabStepsModel::progressChanged, this, [this](int finished, int total) {
        m_labProgress->setRange(0, qMax(total, 1));
        m_labProgress->setValue(finished);
    });
}

void WelcomeView::setLabState(bool busy, const QString &message)
{
    m_labButton->setEnabled(!busy);
    m_cancelButton->setEnabled(busy);
    m_labMessage->setText(message);
}

} // namespace Pilothouse
