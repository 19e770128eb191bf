#include "app/provision/provisionscripts.h"

#include "app/connectors/ssh/sshcommand.h"

#include <QJsonArray>
#include <QJsonDocument>

#include <algorithm>

namespace Pilothouse::ProvisionScripts {
namespace {

QString quoted(const QString &text)
{
    return QString::fromUtf8(SshCommand::shellQuote(text.toUtf8()));
}

// Shared by every script: strict mode, the dry-run switch and the three
// kinds of finding. `fail` names what failed on stderr and exits 3.
constexpr auto Prelude = R"SH(set -eu
dry=${PH_DRY_RUN:-0}
ok() { echo "ok: $*"; }
changed() { echo "changed: $*"; }
would() { echo "would: $*"; }
fail() { echo "$*" >&2; exit 3; }
has() { command -v "$1" >/dev/null 2>&1; }
with_systemd() { [ -d /run/systemd/system ]; }
# stop_pidfile NAME PIDFILE: TERM to the daemon, then wait (30 s at most) until it is gone.
stop_pidfile() {
  pid=$(cat "$2" 2>/dev/null || true)
  [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null || return 0
  i=0
  while kill -0 "$pid" 2>/dev/null; do
    i=$((i + 1)); [ "$i" -le 300 ] || fail "$1 (pid $pid) did not stop within 30 s"
    sleep 0.1
  done
}
apt_install() {
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >/tmp/pilothouse-apt.log 2>&1 ||
    fail "apt-get install $* failed: $(tail -n 3 /tmp/pilothouse-apt.log | tr '\n' ' ')"
}
)SH";

QString withPrelude(const QString &body)
{
    return QString::fromLatin1(Prelude) + body;
}

QString portList(QList<int> ports)
{
    std::sort(ports.begin(), ports.end());
    ports.erase(std::unique(ports.begin(), ports.end()), ports.end());
    QStringList out;
    for (int p : std::as_const(ports))
        out.append(QString::number(p));
    return out.join(QStringLiteral(", "));
}

QJsonValue substituted(const QJsonValue &value, const QString &host)
{
    if (value.isString())
        return value.toString().replace(QStringLiteral("{host}"), host);
    if (value.isArray()) {
        QJsonArray out;
        for (const QJsonValue &v : value.toArray())
            out.append(substituted(v, host));
        return out;
    }
    if (value.isObject()) {
        QJsonObject out;
        const QJsonObject in = value.toObject();
        for (auto it = in.begin(); it != in.end(); ++it)
            out.insert(it.key(), substituted(it.value(), host));
        return out;
    }
    return value;
}

} // namespace

QString checkSystem()
{
    // Limits for one node of the cluster: PostgreSQL, pgpool, etcd, the proxy
    // and app replicas share it.
    return withPrelude(QStringLiteral(R"SH(
[ -r /etc/os-release ] || fail "no /etc/os-release: not a Debian host"
. /etc/os-release
[ "${ID:-}" = debian ] || fail "the host runs ${PRETTY_NAME:-an unknown system} (ID=${ID:-?}); Debian 12 is expected"
[ "${VERSION_ID:-}" = 12 ] || fail "the host runs ${PRETTY_NAME:-Debian ${VERSION_ID:-?}}; Debian 12 is expected"
cores=$(nproc)
mem=$(awk '/^MemTotal:/ { print int($2 / 1024) }' /proc/meminfo)
disk=$(df -Pm /var/lib | awk 'NR == 2 { print $4 }')
[ "$cores" -ge 2 ] || fail "$cores CPU core(s); at least 2 are needed"
[ "$mem" -ge 2048 ] || fail "$mem MiB of memory; at least 2048 MiB are needed"
[ "$disk" -ge 5120 ] || fail "$disk MiB free in /var/lib; at least 5120 MiB are needed"
[ "$(id -u)" = 0 ] || fail "not running as root"
ok "$PRETTY_NAME, $cores cores, $mem MiB memory, $disk MiB free in /var/lib"
)SH"));
}

QString operatorUser(const QString &user, const QString &publicKey)
{
    return withPrelude(QStringLiteral(R"SH(
u=%1
key=%2
done_any=0
if ! has sudo || ! has visudo; then
  if [ "$dry" = 1 ]; then would "install sudo"; else apt_install sudo; changed "installed sudo"; fi
  done_any=1
fi
if ! id "$u" >/dev/null 2>&1; then
  if [ "$dry" = 1 ]; then would "create user $u"; exit 0; fi
  # '*': no password can log in, yet the account is not locked ('!'), which
  # sshd without PAM would refuse for key logins too.
  useradd --create-home --shell /bin/bash --password '*' "$u" || fail "useradd $u failed"
  changed "created user $u"
  done_any=1
fi
rule="$u ALL=(ALL) NOPASSWD:ALL"
f=/etc/sudoers.d/pilothouse-$u
if [ "$(cat "$f" 2>/dev/null || true)" != "$rule" ]; then
  if [ "$dry" = 1 ]; then
    would "give $u passwordless sudo ($f)"
  else
    mkdir -p /etc/sudoers.d
    printf '%s\n' "$rule" >"$f.tmp"
    chmod 0440 "$f.tmp"
    visudo -c -q -f "$f.tmp" >/dev/null || { rm -f "$f.tmp"; fail "visudo refused $f"; }
    mv "$f.tmp" "$f"
    changed "gave $u passwordless sudo ($f)"
  fi
  done_any=1
fi
home=$(getent passwd "$u" | cut -d: -f6)
ak=$home/.ssh/authorized_keys
if ! grep -qxF "$key" "$ak" 2>/dev/null; then
  if [ "$dry" = 1 ]; then
    would "add the console's key to $ak"
  else
    install -d -m 0700 -o "$u" -g "$(id -gn "$u")" "$home/.ssh"
    printf '%s\n' "$key" >>"$ak"
    chown "$u:$(id -gn "$u")" "$ak"
    chmod 0600 "$ak"
    changed "added the console's key to $ak"
  fi
  done_any=1
fi
if [ "$dry" != 1 ]; then
  su -s /bin/sh "$u" -c 'sudo -n true' </dev/null >/dev/null 2>&1 || fail "sudo -n true as $u fails after the setup"
fi
[ "$done_any" = 1 ] || ok "user $u has passwordless sudo and the console's key"
)SH")
                           .arg(quoted(user), quoted(publicKey)));
}

QString docker(const QByteArray &daemonJson)
{
    return withPrelude(QStringLiteral(R"SH(
want=$(printf '%s' %1 | base64 -d)
done_any=0
restart=0
start=0
if ! has dockerd && [ ! -x /usr/sbin/dockerd ]; then
  if [ "$dry" = 1 ]; then would "install docker.io"; else apt_install docker.io; changed "installed docker.io"; fi
  done_any=1
fi
if [ "$(cat /etc/docker/daemon.json 2>/dev/null || true)" != "$want" ]; then
  if [ "$dry" = 1 ]; then
    would "write /etc/docker/daemon.json"
  else
    mkdir -p /etc/docker
    [ -e /etc/docker/daemon.json ] && cp -p /etc/docker/daemon.json /etc/docker/daemon.json.pilothouse-bak
    printf '%s\n' "$want" >/etc/docker/daemon.json.tmp
    mv /etc/docker/daemon.json.tmp /etc/docker/daemon.json
    changed "wrote /etc/docker/daemon.json"
  fi
  done_any=1
  restart=1
fi
running() {
  if with_systemd; then systemctl is-active --quiet docker; return; fi
  pid=$(cat /run/docker.pid 2>/dev/null || true)
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}
if running; then
  if [ "$restart" = 1 ]; then
    if [ "$dry" = 1 ]; then would "restart dockerd (new settings)"; exit 0; fi
    if with_systemd; then
      systemctl restart docker || fail "systemctl restart docker failed: $(journalctl -u docker -n 3 --no-pager 2>/dev/null | tr '\n' ' ')"
    else
      stop_pidfile dockerd /run/docker.pid
    fi
    changed "restarted dockerd"
  fi
else
  if [ "$dry" = 1 ]; then would "start dockerd"; exit 0; fi
  start=1
  done_any=1
fi
if [ "$dry" != 1 ] && ! running; then
  if with_systemd; then
    systemctl enable --now docker >/dev/null 2>&1 || fail "systemctl enable --now docker failed"
  else
    rm -f /run/docker.pid
    start-stop-daemon --start --background --pidfile /run/docker.pid --exec /usr/sbin/dockerd \
      </dev/null >>/var/log/pilothouse-dockerd.log 2>&1 || fail "start-stop-daemon could not start dockerd"
  fi
fi
i=0
until [ -S /run/docker.sock ] && running; do
  i=$((i + 1))
  [ "$i" -le 600 ] || fail "dockerd does not answer on /run/docker.sock after 60 s (log: /var/log/pilothouse-dockerd.log or journalctl -u docker)"
  sleep 0.1
done
if [ "$start" = 1 ]; then changed "started dockerd"; fi
[ "$done_any" = 1 ] || [ "$restart" = 1 ] || ok "docker.io installed, /etc/docker/daemon.json as wanted, dockerd running"
)SH")
                           .arg(quoted(QString::fromLatin1(daemonJson.toBase64()))));
}

QString sshdPorts(QList<int> ports)
{
    std::sort(ports.begin(), ports.end());
    ports.erase(std::unique(ports.begin(), ports.end()), ports.end());
    QStringList lines;
    QStringList words;
    for (int p : std::as_const(ports)) {
        lines.append(QStringLiteral("Port %1").arg(p));
        words.append(QString::number(p));
    }
    return withPrelude(QStringLiteral(R"SH(
want=%1
target=%2
main=/etc/ssh/sshd_config
f=/etc/ssh/sshd_config.d/pilothouse-port.conf
effective() { sshd -T 2>/dev/null | awk '$1 == "port" { print $2 }' | sort -n | tr '\n' ' ' | sed 's/ $//'; }
cur=$(effective)
[ -n "$cur" ] || fail "sshd -T prints no port: the sshd configuration does not load ($(sshd -t 2>&1 | head -n 2 | tr '\n' ' '))"
if [ "$cur" = "$target" ] && [ "$(cat "$f" 2>/dev/null || true)" = "$want" ]; then
  ok "sshd listens on port $target"
  exit 0
fi
if [ "$dry" = 1 ]; then would "move sshd from port(s) $cur to $target"; exit 0; fi
grep -Eq '^[[:space:]]*Include[[:space:]]+/etc/ssh/sshd_config\.d/\*\.conf' "$main" ||
  fail "$main has no 'Include /etc/ssh/sshd_config.d/*.conf' line: cannot set the port by a drop-in"
[ -e "$main.pilothouse-bak" ] || cp -p "$main" "$main.pilothouse-bak"
had=$(cat "$f" 2>/dev/null || true)
cp -p "$main" "$main.tmp"
sed -i 's/^\([[:space:]]*Port[[:space:]]\)/# pilothouse moved the port: \1/' "$main.tmp"
mv "$main.tmp" "$main"
mkdir -p /etc/ssh/sshd_config.d
printf '%s\n' "$want" >"$f.tmp"
mv "$f.tmp" "$f"
if ! err=$(sshd -t 2>&1); then
  cp -p "$main.pilothouse-bak" "$main"
  if [ -n "$had" ]; then printf '%s\n' "$had" >"$f"; else rm -f "$f"; fi
  fail "sshd -t refused the new configuration (put back): $err"
fi
if with_systemd; then
  systemctl reload ssh || fail "systemctl reload ssh failed"
else
  pid=$(cat /run/sshd.pid 2>/dev/null || true)
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || fail "no running sshd found through /run/sshd.pid"
  kill -HUP "$pid"
fi
for p in $target; do
  i=0
  until [ -n "$(ss -Hltn "sport = :$p" 2>/dev/null)" ]; do
    i=$((i + 1)); [ "$i" -le 100 ] || fail "sshd does not listen on port $p 10 s after the reload"
    sleep 0.1
  done
done
changed "sshd listens on port(s) $target (was $cur)"
)SH")
                           .arg(quoted(lines.join(u'\n')), quoted(words.join(u' '))));
}

QString firewall(const QString &ruleset)
{
    return withPrelude(QStringLiteral(R"SH(
want=$(printf '%s' %1 | base64 -d)
f=/etc/pilothouse/firewall.nft
if ! has nft; then
  if [ "$dry" = 1 ]; then would "install nftables"; else apt_install nftables; changed "installed nftables"; fi
fi
loaded() { has nft && nft list chain inet pilothouse input 2>/dev/null | grep -q 'policy drop'; }
if [ "$(cat "$f" 2>/dev/null || true)" = "$want" ] && loaded; then
  ok "nftables table inet pilothouse loaded as wanted"
  exit 0
fi
if [ "$dry" = 1 ]; then would "load the nftables table inet pilothouse ($f)"; exit 0; fi
mkdir -p /etc/pilothouse
printf '%s\n' "$want" >"$f.tmp"
nft -c -f "$f.tmp" || { rm -f "$f.tmp"; fail "nft refused the ruleset (nft -c -f)"; }
mv "$f.tmp" "$f"
nft -f "$f" || fail "nft -f $f failed"
conf=/etc/nftables.conf
if ! grep -qxF "include \"$f\"" "$conf" 2>/dev/null; then
  [ -e "$conf" ] || printf '#!/usr/sbin/nft -f\n' >"$conf"
  printf 'include "%s"\n' "$f" >>"$conf"
fi
if with_systemd; then systemctl enable nftables >/dev/null 2>&1 || true; fi
changed "loaded the nftables table inet pilothouse ($f, included by $conf)"
)SH")
                           .arg(quoted(QString::fromLatin1(ruleset.toUtf8().toBase64()))));
}

QString firewallRuleset(int sshPort, QList<int> openPorts, bool gluster)
{
    openPorts.append(sshPort);
    openPorts.append(2377);
    openPorts.append(7946);
    const QString ranges = gluster ? QStringLiteral(", 24007-24008, 49152-49251") : QString();
    return QStringLiteral(
               R"NFT(# Written by Pilothouse's provisioning: the cluster host's input filter.
table inet pilothouse
delete table inet pilothouse
table inet pilothouse {
	chain input {
		type filter hook input priority filter; policy drop;
		ct state established,related accept
		iif "lo" accept
		meta l4proto { icmp, ipv6-icmp } accept
		tcp dport { %1%2 } accept
		udp dport { 4789, 7946 } accept
	}
}
)NFT")
        .arg(portList(openPorts), ranges);
}

QString glusterDaemon(const QString &brick)
{
    return withPrelude(QStringLiteral(R"SH(
brick=%1
done_any=0
if ! has glusterd && [ ! -x /usr/sbin/glusterd ]; then
  if [ "$dry" = 1 ]; then would "install glusterfs-server"; else apt_install glusterfs-server; changed "installed glusterfs-server"; fi
  done_any=1
fi
running() {
  if with_systemd; then systemctl is-active --quiet glusterd; return; fi
  pid=$(cat /run/glusterd.pid 2>/dev/null || true)
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}
# Bricks take ports from 49152 up to max-port (60999 as shipped): keep them
# inside the range the firewall opens.
conf=/etc/glusterfs/glusterd.vol
if [ -f "$conf" ] && ! grep -Eq '^[[:space:]]*option[[:space:]]+max-port[[:space:]]+49251[[:space:]]*$' "$conf"; then
  if [ "$dry" = 1 ]; then
    would "keep brick ports within 49152-49251 (option max-port in $conf)"
  else
    if grep -Eq '^[[:space:]]*option[[:space:]]+max-port' "$conf"; then
      sed -i 's/^\([[:space:]]*option[[:space:]]*max-port\).*/\1 49251/' "$conf"
    else
      sed -i 's/^end-volume/    option max-port 49251\nend-volume/' "$conf"
    fi
    changed "kept brick ports within 49152-49251 (option max-port in $conf)"
    if running; then
      if with_systemd; then
        systemctl restart glusterd || fail "systemctl restart glusterd failed"
      else
        stop_pidfile glusterd /run/glusterd.pid
      fi
    fi
  fi
  done_any=1
fi
if ! running; then
  if [ "$dry" = 1 ]; then would "start glusterd"; else
    if with_systemd; then
      systemctl enable --now glusterd >/dev/null 2>&1 || fail "systemctl enable --now glusterd failed"
    else
      mkdir -p /run/gluster
      start-stop-daemon --start --pidfile /run/glusterd.pid --exec /usr/sbin/glusterd -- -p /run/glusterd.pid         </dev/null >/dev/null 2>&1 || fail "start-stop-daemon could not start glusterd"
    fi
    i=0
    until running && gluster --mode=script pool list >/dev/null 2>&1; do
      i=$((i + 1)); [ "$i" -le 300 ] || fail "glusterd does not answer 30 s after its start (log: /var/log/glusterfs/glusterd.log)"
      sleep 0.1
    done
    changed "started glusterd"
  fi
  done_any=1
fi
if [ ! -d "$brick" ]; then
  if [ "$dry" = 1 ]; then would "create the brick directory $brick"; else mkdir -p "$brick"; changed "created the brick directory $brick"; fi
  done_any=1
fi
[ "$done_any" = 1 ] || ok "glusterd running, brick directory $brick present"
)SH")
                           .arg(quoted(brick)));
}

QString glusterVolume(const QString &volume, const QStringList &peers, const QStringList &bricks)
{
    return withPrelude(QStringLiteral(R"SH(
vol=%1
peers=%2
bricks=%3
count=%4
g() { timeout 60 gluster --mode=script "$@"; }
if ! g pool list >/dev/null 2>&1; then
  [ "$dry" = 1 ] || fail "glusterd does not answer on this host"
  would "probe the peers $peers and create the replica-$count volume $vol over $bricks"
  exit 0
fi
connected() { g pool list 2>/dev/null | grep -c 'Connected' || true; }
for p in $peers; do
  if ! g pool list 2>/dev/null | awk '{ print $2 }' | grep -qxF "$p"; then
    if [ "$dry" = 1 ]; then would "probe the gluster peer $p"; continue; fi
    g peer probe "$p" >/dev/null || fail "gluster peer probe $p failed: $(g peer probe "$p" 2>&1 | tail -n 1)"
    changed "probed the gluster peer $p"
  fi
done
if [ "$dry" != 1 ]; then
  i=0
  until [ "$(connected)" -ge "$count" ]; do
    i=$((i + 1)); [ "$i" -le 300 ] || fail "only $(connected) of $count gluster peers are Connected after 60 s: $(g pool list 2>&1 | tr '\n' ' ')"
    sleep 0.2
  done
fi
if info=$(g volume info "$vol" 2>/dev/null); then
  have=$(printf '%s\n' "$info" | awk '/^Brick[0-9]+:/ { print $2 }' | tr '\n' ' ' | sed 's/ $//')
  [ "$have" = "$bricks" ] || fail "the volume $vol exists over other bricks ($have), not $bricks: change it by hand"
else
  if [ "$dry" = 1 ]; then would "create the replica-$count volume $vol over $bricks"; exit 0; fi
  # shellcheck disable=SC2086 # one word per brick
  g volume create "$vol" replica "$count" $bricks force >/dev/null ||
    fail "gluster volume create $vol failed: $(g volume create "$vol" replica "$count" $bricks force 2>&1 | tail -n 1)"
  changed "created the replica-$count volume $vol over $bricks"
  info=$(g volume info "$vol")
fi
if ! printf '%s\n' "$info" | grep -q '^Status: Started'; then
  if [ "$dry" = 1 ]; then would "start the volume $vol"; exit 0; fi
  g volume start "$vol" >/dev/null || fail "gluster volume start $vol failed"
  changed "started the volume $vol"
else
  ok "the volume $vol runs over $bricks"
fi
)SH")
                           .arg(quoted(volume), quoted(peers.join(u' ')), quoted(bricks.join(u' ')))
                           .arg(bricks.size()));
}

QString glusterMount(const QString &address, const QString &volume, const QString &mountPoint,
                     const QString &appContent)
{
    return withPrelude(QStringLiteral(R"SH(
src=%1
mnt=%2
app=%3
done_any=0
line="$src $mnt glusterfs defaults,_netdev 0 0"
if ! grep -qxF "$line" /etc/fstab 2>/dev/null; then
  if [ "$dry" = 1 ]; then would "add $src at $mnt to /etc/fstab"; else printf '%s\n' "$line" >>/etc/fstab; changed "added $src at $mnt to /etc/fstab"; fi
  done_any=1
fi
if ! mountpoint -q "$mnt" 2>/dev/null; then
  if [ "$dry" = 1 ]; then would "mount $src at $mnt"; exit 0; fi
  mkdir -p "$mnt"
  mount -t glusterfs "$src" "$mnt" </dev/null >/dev/null 2>&1 || fail "mount -t glusterfs $src $mnt failed (log: /var/log/glusterfs/)"
  i=0
  until mountpoint -q "$mnt"; do
    i=$((i + 1)); [ "$i" -le 100 ] || fail "$mnt is not mounted 10 s after mount"
    sleep 0.1
  done
  changed "mounted $src at $mnt"
  done_any=1
fi
if [ -n "$app" ] && [ ! -d "$app" ]; then
  if [ "$dry" = 1 ]; then would "create $app"; else mkdir -p "$app"; changed "created $app"; fi
  done_any=1
fi
[ "$done_any" = 1 ] || ok "$src mounted at $mnt"
)SH")
                           .arg(quoted(address + QStringLiteral(":/") + volume), quoted(mountPoint),
                                quoted(appContent)));
}

QByteArray daemonJson(const QJsonObject &settings, const QString &host)
{
    // QJsonDocument writes an object's keys sorted: the same settings give the same bytes.
    return QJsonDocument(substituted(settings, host).toObject())
        .toJson(QJsonDocument::Indented)
        .trimmed();
}

QString asRoot(const QString &script, const QString &user, bool dryRun)
{
    const QString env = dryRun ? QStringLiteral("PH_DRY_RUN=1 ") : QString();
    const QString shell = env + QStringLiteral("sh -c ") + quoted(script);
    if (user.isEmpty() || user == u"root")
        return shell;
    return QStringLiteral("sudo -n ") + (dryRun ? QStringLiteral("env ") : QString()) + shell;
}

Findings parseFindings(const QByteArray &standardOutput)
{
    Findings f;
    const QStringList lines = QString::fromUtf8(standardOutput).split(u'\n', Qt::SkipEmptyParts);
    for (const QString &raw : lines) {
        const QString line = raw.trimmed();
        if (line.startsWith(QLatin1String("ok: ")))
            f.ok.append(line.mid(4));
        else if (line.startsWith(QLatin1String("changed: ")))
            f.changed.append(line.mid(9));
        else if (line.startsWith(QLatin1String("would: ")))
            f.would.append(line.mid(7));
    }
    return f;
}

QString Findings::summary() const
{
    QStringList parts;
    for (const QString &c : changed)
        parts.append(QStringLiteral("changed: ") + c);
    for (const QString &w : would)
        parts.append(QStringLiteral("would: ") + w);
    if (parts.isEmpty())
        for (const QString &o : ok)
            parts.append(QStringLiteral("ok: ") + o);
    return parts.join(QStringLiteral("; "));
}

} // namespace Pilothouse::ProvisionScripts
