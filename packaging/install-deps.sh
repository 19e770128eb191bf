#!/usr/bin/env bash
# Installs everything Pilothouse needs to build, test and run its local lab
# on Debian 12, from Debian's own packages only. Idempotent: packages that are
# already installed are skipped by apt-get.
set -euo pipefail

if [[ $(id -u) -ne 0 ]]; then
  echo "install-deps: run as root (it calls apt-get)" >&2
  exit 1
fi

build=(
  build-essential cmake ninja-build pkg-config git
  qt6-base-dev qt6-base-dev-tools qt6-charts-dev qt6-svg-dev libqt6svg6
  libqt6opengl6-dev libxkbcommon-dev
  libgl-dev libpq-dev libssh-dev libssl-dev libyaml-cpp-dev libcurl4-openssl-dev
  qtkeychain-qt6-dev
  clang-format
)
# The keychain test: a private D-Bus session with GNOME Keyring's Secret Service.
keychain=(dbus-daemon gnome-keyring)
# Building and checking the Debian package (tests/packaging/check-deb.sh).
packaging=(dpkg-dev appstream desktop-file-utils)
lab=(
  docker.io containerd runc debootstrap
  openssh-client openssh-server iproute2 iptables util-linux procps
  curl openssl postgresql-client python3 ca-certificates glusterfs-server bc
  nftables sudo
)

marker=/var/lib/pilothouse/apt-updated
if [[ ! -e $marker || -n $(find "$marker" -mmin +1440 2>/dev/null) ]]; then
  apt-get update -q
  mkdir -p "$(dirname "$marker")" && touch "$marker"
fi

missing=()
for p in "${build[@]}" "${keychain[@]}" "${packaging[@]}" "${lab[@]}"; do
  [[ $(dpkg-query -W -f='${Status}' "$p" 2>/dev/null) == *'install ok installed'* ]] || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  # policy-rc.d keeps postinsts from starting dockerd/sshd in the host's own
  # namespaces: the lab starts its own, inside each host's namespace.
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "install-deps: all packages present"
fi
