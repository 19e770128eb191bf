#include "app/connectors/etcd/etcdclusterprobe.h"

#include "app/connectors/etcd/etcdclient.h"
#include "models/inventory.h"

namespace Pilothouse {

EtcdClusterProbe::EtcdClusterProbe(const QList<Member> &members, QObject *parent)
    : QObject(parent)
    , m_members(members)
{
    for (const Member &m : members)
        m_clients.append(new EtcdClient(m.endpoint, m.name, this));
}

EtcdClusterProbe::~EtcdClusterProbe() = default;

QList<EtcdClusterProbe::Member> EtcdClusterProbe::membersOf(const Inventory &inventory)
{
    QList<Member> out;
    const auto &etcd = inventory.settings.etcdMembers;
    for (auto it = etcd.cbegin(); it != etcd.cend(); ++it) {
        const InventoryHost *h = inventory.host(it.value());
        QUrl url;
        url.setScheme(QStringLiteral("http"));
        url.setHost(h ? h->address : it.value());
        url.setPort(inventory.settings.etcdClientPort);
        out.append(Member{it.key(), it.value(), url});
    }
    return out;
}

void EtcdClusterProbe::setTimeout(int msec)
{
    for (EtcdClient *c : std::as_const(m_clients))
        c->setTimeout(msec);
}

EtcdClient *EtcdClusterProbe::client(const QString &memberName) const
{
    for (EtcdClient *c : m_clients) {
        if (c->memberName() == memberName)
            return c;
    }
    return nullptr;
}

void EtcdClusterProbe::refresh()
{
    if (m_outstanding > 0)
        return;
    m_probes.clear();
    // Status answers every refresh (leader, term, index, alarms). /health is a
    // quorum read and the member list rarely changes: both are asked less
    // often, which keeps a 1 Hz monitor cheap for etcd and for the console.
    const bool withHealth = m_refreshes % HealthEveryRefreshes == 0;
    const bool withMembers = !m_memberList || m_refreshes % MembersEveryRefreshes == 0;
    ++m_refreshes;
    const QDateTime now = QDateTime::currentDateTimeUtc();
    for (const Member &m : std::as_const(m_members))
        m_probes.append(EtcdMemberProbe{m.name, m.host, {}, {}, {}, {}, now});
    if (m_members.isEmpty()) {
        QMetaObject::invokeMethod(this, &EtcdClusterProbe::done, Qt::QueuedConnection);
        m_outstanding = 1;
        return;
    }
    if (withMembers)
        m_memberList.reset();
    m_outstanding = static_cast<int>(m_clients.size()) * (1 + int(withHealth) + int(withMembers));
    for (qsizetype i = 0; i < m_clients.size(); ++i) {
        EtcdClient *c = m_clients.at(i);
        if (withHealth) {
            c->health(this, [this, i](Result<EtcdHealth> r) {
                if (r)
                    m_probes[i].health = r.value();
                else
                    m_probes[i].healthError = r.error().message;
                done();
            });
        }
        c->status(this, [this, i](Result<EtcdStatus> r) {
            if (r)
                m_probes[i].status = r.value();
            else
                m_probes[i].statusError = r.error().message;
            done();
        });
        if (withMembers) {
            // Every member is asked: the first answer gives the cluster's size.
            c->memberList(this, [this](Result<EtcdMemberList> r) {
                if (r && !m_memberList)
                    m_memberList = r.value();
                done();
            });
        }
    }
}

void EtcdClusterProbe::cancel()
{
    for (EtcdClient *c : std::as_const(m_clients))
        c->cancelAll();
}

void EtcdClusterProbe::done()
{
    if (--m_outstanding > 0)
        return;
    m_outstanding = 0;
    const int size = m_memberList ? static_cast<int>(m_memberList->members.size()) : 0;
    Q_EMIT finished(EtcdStateReader::read(m_probes, size));
}

} // namespace Pilothouse
