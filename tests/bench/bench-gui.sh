#!/usr/bin/env bash
# GUI benchmarks of the console on the running local lab (issue: dashboard).
#   1. start-up: process launch -> first live overview of the lab (median and
#      worst of STARTS runs);
#   2. GUI-thread stall while watching the lab at 1 Hz for STALL_SECONDS
#      (a 5 ms timer's lateness: p99 and max), with CPU and RSS;
#   3. the same with 20 clusters open at once (20 copies of the lab's
#      inventory, each with its own monitor; the 19 behind the page shown
#      polled every 5 s) for MULTI_SECONDS;
#   4. with ALL_AT_1HZ=1 also step 3 with every cluster polled every second
#      (PILOTHOUSE_POLL_BEHIND_MS=1000), for comparison.
# Usage: tests/bench/bench-gui.sh [BUILD_DIR]
#        (env: STARTS=5 STALL_SECONDS=300 MULTI_SECONDS=120 CLUSTERS=20 ALL_AT_1HZ=0)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${1:-$here/build}
bench=$build/tests/bench/bench_gui
lab=$here/deploy-stacks/lab/lab
starts=${STARTS:-5}
stall_seconds=${STALL_SECONDS:-300}
multi_seconds=${MULTI_SECONDS:-120}
clusters=${CLUSTERS:-20}

[[ -x $bench ]] || { echo "bench-gui: $bench not built (ninja -C $build bench_gui)" >&2; exit 1; }
status=$("$lab" status 2>&1) || { printf '%s\n' "$status" >&2; echo "bench-gui: the lab is not healthy; run: $lab up" >&2; exit 1; }
inventory=$(sed -n 's/^inventory: //p' <<<"$status" | tail -n 1)

work=$(mktemp -d /tmp/pilothouse-bench-gui.XXXXXX)
trap 'rm -rf "$work"' EXIT
export QT_QPA_PLATFORM=${QT_QPA_PLATFORM:-offscreen}
export XDG_CONFIG_HOME=$work/config # recent clusters of the bench stay out of the user's settings
value() { sed -n "s/^$1=//p" "$2" | tail -n 1; }

echo "== 1. start to first live overview ($starts runs)"
for i in $(seq "$starts"); do
  t0=$(date +%s%3N)
  "$bench" --watch 1 "$inventory" >"$work/start.out" 2>"$work/start.err" || { cat "$work/start.err" >&2; exit 1; }
  t1=$(value first_overview_epoch_ms "$work/start.out")
  echo $((t1 - t0))
done | sort -n >"$work/starts"
echo "start-up ms: $(tr '\n' ' ' <"$work/starts")  median $(awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}' "$work/starts")  worst $(tail -n 1 "$work/starts")"

echo "== 2. GUI-thread stall watching one cluster for $stall_seconds s"
"$bench" --watch "$stall_seconds" "$inventory" >"$work/one.out" 2>"$work/one.err" || { cat "$work/one.err" >&2; exit 1; }
echo "stall p99 $(value stall_p99_ms "$work/one.out") ms  max $(value stall_max_ms "$work/one.out") ms  (samples $(value stall_samples "$work/one.out"))  CPU $(value cpu_percent_of_core "$work/one.out") % of a core  RSS $(value rss_mb "$work/one.out") MB"

echo "== 3. $clusters clusters open at once for $multi_seconds s"
inventories=()
for i in $(seq -w "$clusters"); do
  cp "$inventory" "$work/inventory-$i.yaml"
  inventories+=("$work/inventory-$i.yaml")
done
"$bench" --watch "$multi_seconds" "${inventories[@]}" >"$work/many.out" 2>"$work/many.err" || { cat "$work/many.err" >&2; exit 1; }
echo "clusters $(value clusters "$work/many.out")  stall p99 $(value stall_p99_ms "$work/many.out") ms  max $(value stall_max_ms "$work/many.out") ms  CPU $(value cpu_percent_of_core "$work/many.out") % of a core  RSS $(value rss_mb "$work/many.out") MB"

if [[ ${ALL_AT_1HZ:-0} == 1 ]]; then
  echo "== 4. $clusters clusters open at once for $multi_seconds s, every one polled every second"
  PILOTHOUSE_POLL_BEHIND_MS=1000 "$bench" --watch "$multi_seconds" "${inventories[@]}" >"$work/all.out" 2>"$work/all.err" || { cat "$work/all.err" >&2; exit 1; }
  echo "all at 1 Hz: clusters $(value clusters "$work/all.out")  stall p99 $(value stall_p99_ms "$work/all.out") ms  max $(value stall_max_ms "$work/all.out") ms  CPU $(value cpu_percent_of_core "$work/all.out") % of a core  RSS $(value rss_mb "$work/all.out") MB"
fi
