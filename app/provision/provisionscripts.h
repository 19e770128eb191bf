#pragma once
// Free functions on values; safe on any thread.

#include "models/inventory.h"

#include <QByteArray>
#include <QJsonObject>
#include <QList>
#include <QString>
#include <QStringList>

namespace Pilothouse::ProvisionScripts {

// The shell scripts the provisioning runbook runs on a host over SSH, as root.
// Each is idempotent: it looks first and changes only what differs. With
// PH_DRY_RUN=1 in its environment it changes nothing. Its standard output is
// one line per finding, "ok: …" (already so), "changed: …" (made so) or
// "would: …" (dry run); a failure exits non-zero with the reason on stderr.

// Debian 12, at least 2 cores... see the .cpp for the limits.
QString checkSystem();
// The operator user with passwordless sudo and `publicKey` in its
// authorized_keys; proves `sudo -n true` works as that user.
QString operatorUser(const QString &user, const QString &publicKey);
// docker.io installed, /etc/docker/daemon.json equal to `daemonJson`, dockerd
// running (restarted when the file changed): systemd when it runs the host,
// else start-stop-daemon.
QString docker(const QByteArray &daemonJson);
// sshd listening on exactly `ports` (a drop-in in /etc/ssh/sshd_config.d,
// Port lines of the main file commented out, `sshd -t` before the reload,
// the old files back when it refuses); checks the listeners after the reload.
QString sshdPorts(QList<int> ports);
// The nftables table `inet pilothouse` loaded from `ruleset` (kept in
// /etc/pilothouse/firewall.nft and included by /etc/nftables.conf).
QString firewall(const QString &ruleset);

// The table: input dropped except established traffic, loopback, ICMP, SSH
// on `sshPort`, Swarm (2377/tcp, 7946/tcp+udp, 4789/udp), `openPorts`, and
// with `gluster` GlusterFS (24007-24008/tcp, bricks 49152-49251/tcp).
// Replaces an existing table of that name in one transaction.
QString firewallRuleset(int sshPort, QList<int> openPorts, bool gluster = false);

// glusterfs-server installed, glusterd running (systemd, else
// start-stop-daemon with /run/glusterd.pid) and answering, `brick` created.
QString glusterDaemon(const QString &brick);
// Run on the first host: every address of `peers` probed and Connected,
// `volume` created over `bricks` ("address:/path", one per host, replica of
// their count) and started. A volume of that name over other bricks is
// refused, never changed.
QString glusterVolume(const QString &volume, const QStringList &peers, const QStringList &bricks);
// `volume` mounted from `address` at `mountPoint` (and in /etc/fstab), and
// `appContent` (may be empty) created on it.
QString glusterMount(const QString &address, const QString &volume, const QString &mountPoint,
                     const QString &appContent);

// daemon.json for `host`: the inventory's settings with "{host}" replaced,
// as indented JSON with sorted keys.
QByteArray daemonJson(const QJsonObject &settings, const QString &host);

// The script run through `sh -c` as root: as is for root, else through
// `sudo -n` (the user must have passwordless sudo). `dryRun` sets PH_DRY_RUN.
QString asRoot(const QString &script, const QString &user, bool dryRun);

// A script's findings: its "ok:", "changed:" and "would:" lines.
struct Findings
{
    QStringList ok;
    QStringList changed;
    QStringList would;

    // "changed: a; changed: b" or "ok: …": for a step's message.
    QString summary() const;
};
Findings parseFindings(const QByteArray &standardOutput);

} // namespace Pilothouse::ProvisionScripts
