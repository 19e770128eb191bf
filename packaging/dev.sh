#!/usr/bin/env bash
# The README's two commands, for a fresh Debian 12 machine, as root:
#   packaging/dev.sh console   install, build, bring the local lab up, open the console on it
#   packaging/dev.sh test      install, build, run every test (unit, gui, integration on the lab)
# Both are idempotent and pick up after a run that was killed half-way.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${PILOTHOUSE_BUILD_DIR:-$here/build}
lab=$here/deploy-stacks/lab/lab

stamp() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*"; }

usage() {
  echo "usage: $0 console|test" >&2
  exit 2
}

install_and_build() {
  local t0=$SECONDS
  stamp "installing Debian packages (packaging/install-deps.sh)"
  "$here/packaging/install-deps.sh"
  stamp "configuring and building in $build"
  # A build dir left by a killed configure has no build.ninja: configure again.
  cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPILOTHOUSE_WERROR=ON >/dev/null
  cmake --build "$build" --parallel "$(nproc)"
  stamp "installed and built in $((SECONDS - t0)) s"
}

[[ $# -eq 1 ]] || usage
[[ $(id -u) -eq 0 ]] || { echo "$0: run as root (it installs packages and starts the lab)" >&2; exit 1; }

case $1 in
console)
  install_and_build
  stamp "bringing the local lab up (deploy-stacks/lab/lab up)"
  "$lab" up
  inventory=$("$lab" status | sed -n 's/^inventory: //p' | tail -n 1)
  [[ -n $inventory ]] || { echo "$0: the lab printed no inventory path" >&2; exit 1; }
  if [[ -z ${DISPLAY:-}${WAYLAND_DISPLAY:-} && -z ${QT_QPA_PLATFORM:-} ]]; then
    echo "$0: no display (DISPLAY/WAYLAND_DISPLAY unset). Run it from a desktop session," >&2
    echo "  or under Xvfb: xvfb-run -a $build/app/pilothouse --inventory $inventory" >&2
    exit 1
  fi
  stamp "opening the console on $inventory"
  exec "$build/app/pilothouse" --inventory "$inventory"
  ;;
test)
  install_and_build
  stamp "running the suite (the integration tests bring the lab up through the lab_up fixture)"
  cd "$build"
  ctest --output-on-failure --no-tests=error
  ;;
*)
  usage
  ;;
esac
