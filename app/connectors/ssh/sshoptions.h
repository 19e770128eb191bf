#pragma once
// Value type, usable on any thread.

#include <QString>
#include <QStringList>

namespace Pilothouse {

struct InventoryHost;

// Where and as whom an SshSession connects. Explicit values win over
// ~/.ssh/config; empty ones are taken from it (when useSshConfig), then from
// libssh's defaults.
struct SshOptions
{
    QString name;                 // shown in messages, e.g. the inventory name "swarm-01"
    QString host;                 // address or host name
    int port = 0;                 // 0: from ~/.ssh/config, else 22
    QString user;                 // empty: from ~/.ssh/config, else the local user
    QStringList identityFiles;    // private keys tried after the agent and the defaults
    QString knownHostsFile;       // empty: from ~/.ssh/config, else ~/.ssh/known_hosts
    bool useSshConfig = true;     // read ~/.ssh/config (and /etc/ssh/ssh_config)
    QString sshConfigFile;        // read this file instead of those two (when useSshConfig)
    bool useAgent = true;         // try ssh-agent and the default identities first
    int connectTimeoutMs = 10000; // TCP + key exchange + authentication, each attempt
    // Wrap commands so that a timeout or cancel also stops them on the host
    // (see SshCommand::stoppable; needs a POSIX login shell).
    bool stopCommandsOnCancel = true;

    // "swarm-01 (root@10.213.0.11:15122)", for messages.
    QString describe() const;
    // The options for an inventory host, checked against the inventory's known_hosts.
    static SshOptions fromInventory(const InventoryHost &host, const QString &knownHostsFile);
};

} // namespace Pilothouse
