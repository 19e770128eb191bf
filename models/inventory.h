#pragma once
// Value types, usable on any thread.

#include <QJsonObject>
#include <QList>
#include <QMap>
#include <QString>
#include <QStringList>

namespace Pilothouse {

// One machine of the cluster as an Ansible inventory names it.
struct InventoryHost
{
    QString name;       // inventory hostname, e.g. "swarm-01"
    QString address;    // ansible_host
    int sshPort = 22;   // ansible_port
    QString user;       // ansible_user
    QString keyFile;    // ansible_ssh_private_key_file, absolute
    QStringList groups; // every group the host is a member of
};

// How `pilothouse provision` takes bare hosts to a Swarm: `pilothouse.provision`.
struct ProvisionSettings
{
    bool present = false;    // the section exists
    int initialSshPort = 22; // where sshd listens on a bare host (moved to ansible_port)
    QString operatorUser;    // created with passwordless sudo; empty: none
    QList<int> openPorts;    // published service ports the firewall opens
    QString imageArchive;    // a `docker save` archive loaded where its images are missing
    QStringList networks;    // attachable overlay networks to create
    QString nodeLabel;       // node label set to the host's inventory name; empty: none
    QString swarmDefaultAddrPool;
    int swarmMaskLength = 0;   // 0: the engine's default
    int taskHistoryLimit = -1; // -1: the engine's default
    QJsonObject dockerDaemon;  // daemon.json; "{host}" in a text value is the host's name
};

// What Pilothouse needs beyond Ansible's view: the `pilothouse:` section.
struct ClusterSettings
{
    QString cluster;    // display name
    QString stack;      // Docker stack name, e.g. "pilothouse"
    QString proxy;      // "haproxy" or "traefik"
    QString domain;     // the app's public host name
    QString knownHosts; // known_hosts file checked for host keys
    QString secretsDir; // directory of secret files, outside the repo

    int postgresPort = 5432;
    QString database;       // the app's database, where the monitor connects
    QString repmgrDatabase; // where repmgr keeps repmgr.nodes and repmgr.events
    QString monitorUser;
    QMap<QString, QString> postgresNodes; // pg-1 -> swarm-01

    QString pgpoolService;
    int pgpoolPort = 9999;
    int pcpPort = 9898;

    QMap<QString, QString> etcdMembers; // etcd1 -> swarm-01
    int etcdClientPort = 2379;

    // GlusterFS, when the cluster has it: shared app content, never database data.
    QString glusterVolume;
    QString glusterMount;                 // /mnt/glusterfs
    QString glusterAppContent;            // the app's content directory on the mount
    QMap<QString, QString> glusterBricks; // host -> brick path

    QString appService;
    int appReplicas = 0;
    int appPort = 0;

    ProvisionSettings provision;
};

struct Inventory
{
    QString path; // absolute path of the file it was read from
    QList<InventoryHost> hosts;
    ClusterSettings settings;

    const InventoryHost *host(const QString &name) const;
    // The name to show: the `cluster:` setting, else the file's base name.
    QString displayName() const;
};

} // namespace Pilothouse
