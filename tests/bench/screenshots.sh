#!/usr/bin/env bash
# Renders the console on the running lab into OUT_DIR (default
# BUILD_DIR/screenshots, ignored by git): the overview, charts, findings and
# timeline of a healthy cluster after HISTORY seconds of history, then the
# same while a standby's container is down (it is killed; Swarm restarts it).
# Look at every image after a UI change.
# Usage: tests/bench/screenshots.sh [BUILD_DIR] [OUT_DIR]   (env: HISTORY=90)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${1:-$here/build}
out=${2:-$build/screenshots}
bench=$build/tests/bench/bench_gui
lab=$here/deploy-stacks/lab/lab
history=${HISTORY:-90}

[[ -x $bench ]] || { echo "screenshots: $bench not built (ninja -C $build bench_gui)" >&2; exit 1; }
status=$("$lab" status 2>&1) || { printf '%s\n' "$status" >&2; echo "screenshots: the lab is not healthy; run: $lab up" >&2; exit 1; }
inventory=$(sed -n 's/^inventory: //p' <<<"$status" | tail -n 1)
export QT_QPA_PLATFORM=${QT_QPA_PLATFORM:-offscreen}
config=$(mktemp -d /tmp/pilothouse-screenshots.XXXXXX)
trap 'rm -rf "$config"' EXIT
export XDG_CONFIG_HOME=$config
mkdir -p "$out"

echo "healthy cluster, after $history s of history"
"$bench" --screenshots "$out" --phase healthy --wait "$history" "$inventory" | grep '^screenshot='

# The standby to kill: the lab's own view of who is primary.
primary=$(sed -n 's/.*postgres: primary \(pg-[0-9]\).*/\1/p' <<<"$status")
standby=pg-1
[[ $primary == pg-1 ]] && standby=pg-2
echo "standby $standby killed 10 s into the run"
( sleep 10; "$lab" kill-container "$standby" >/dev/null ) &
killer=$!
"$bench" --screenshots "$out" --phase standby-down --wait 12 "$inventory" | grep '^screenshot='
wait "$killer"
echo "images in $out"
