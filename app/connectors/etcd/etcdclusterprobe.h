#pragma once
// Lives on the thread that creates it (usually the GUI thread); never blocks it.

#include "app/connectors/etcd/etcdstatereader.h"
#include "app/connectors/etcd/etcdtypes.h"

#include <QList>
#include <QObject>
#include <QUrl>

#include <optional>

namespace Pilothouse {

class EtcdClient;
struct Inventory;

// Asks every etcd member directly (health, status, member list) and turns the
// answers into one EtcdReading, so that disagreements between members show.
class EtcdClusterProbe final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(EtcdClusterProbe)

public:
    struct Member
    {
        QString name; // etcd1
        QString host; // swarm-01
        QUrl endpoint;
    };

    explicit EtcdClusterProbe(const QList<Member> &members, QObject *parent = nullptr);
    ~EtcdClusterProbe() override;

    // The members an inventory names: `etcd: members:` mapped to host addresses.
    static QList<Member> membersOf(const Inventory &inventory);

    void setTimeout(int msec);
    // One round of probes; finished() follows within the timeout. A refresh
    // while one runs is ignored (the running one answers).
    void refresh();
    bool isRunning() const { return m_outstanding > 0; }
    void cancel();

    EtcdClient *client(const QString &memberName) const;
    const std::optional<EtcdMemberList> &lastMemberList() const { return m_memberList; }

Q_SIGNALS:
    void finished(const Pilothouse::EtcdReading &reading);

private:
    void done();

    QList<Member> m_members;
    QList<EtcdClient *> m_clients;
    QList<EtcdMemberProbe> m_probes;
    std::optional<EtcdMemberList> m_memberList;
    int m_outstanding = 0;
    int m_refreshes = 0;
    static constexpr int HealthEveryRefreshes = 5;
    static constexpr int MembersEveryRefreshes = 30;
};

} // namespace Pilothouse
