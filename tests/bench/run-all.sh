#!/usr/bin/env bash
# Runs every benchmark of the project on the local lab and writes one table of
# the figures, with the machine and the date, into README.md (between the
# markers <!-- bench-table:begin --> and <!-- bench-table:end -->).
#
#   tests/bench/run-all.sh [-b BUILD_DIR] [-o OUT_DIR] [-n] [--skip PART]...
#
#   -b BUILD_DIR  the build to measure (default: build/)
#   -o OUT_DIR    where every script's full output stays (default: a new /tmp dir)
#   -n            print the table only; README.md is left as it is
#   --skip PART   leave out a part: lab, monitor, gui, switchover, drills
#
# Parts, in order (each one's own script has the details):
#   lab         `lab down`, then `lab up` timed (images cached: the usual start)
#   monitor     tests/bench/bench-monitor.sh: snapshot vs the CLI chain,
#               detection latency, console CPU and memory
#   switchover  `pilothouse switchover` to a standby and back: write gap, lost writes
#   drills      tests/bench/bench-drills.sh: every scenario once: RTO, RPO
#   gui         tests/bench/bench-gui.sh: start-up, GUI-thread stall (1 and 20
#               clusters), CPU and memory; last, because 20 monitors aimed at the
#               one lab leave its pgpool busy for minutes
# The other scripts' knobs pass through the environment (RUNS, KILLS,
# WATCH_SECONDS, STARTS, STALL_SECONDS, MULTI_SECONDS, CLUSTERS).
# A part that fails is reported in the table as failed, with its log; the run
# goes on with the next part and exits 1 at the end.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=$repo/build
out=""
write_readme=1
skip=" "
lab=$repo/deploy-stacks/lab/lab
readme=$repo/README.md
begin_marker='<!-- bench-table:begin -->'
end_marker='<!-- bench-table:end -->'

die() { echo "run-all: error: $*" >&2; exit 2; }

while (($#)); do
  case $1 in
    -b) build=${2:?-b needs a directory}; shift 2 ;;
    -o) out=${2:?-o needs a directory}; shift 2 ;;
    -n) write_readme=0; shift ;;
    --skip) skip+="${2:?--skip needs a part} "; shift 2 ;;
    -h | --help) sed -n '2,23p' "$0"; exit 0 ;;
    *) die "unknown argument '$1' (see $0 --help)" ;;
  esac
done
for part in $skip; do
  [[ $part =~ ^(lab|monitor|gui|switchover|drills)$ ]] || die "--skip: no part named '$part'"
done
bin=$build/app/pilothouse
[[ -x $bin ]] || die "$bin is not built (cmake --build $build)"
[[ -x $build/tests/bench/bench_gui ]] || die "$build/tests/bench/bench_gui is not built"
command -v jq >/dev/null || die "jq is required (apt-get install jq)"
if ((write_readme)); then
  if ! grep -qxF "$begin_marker" "$readme" || ! grep -qxF "$end_marker" "$readme"; then
    die "$readme has no '$begin_marker' ... '$end_marker' section to fill"
  fi
fi
[[ -n $out ]] || out=$(mktemp -d /tmp/pilothouse-bench.XXXXXX)
mkdir -p "$out" || die "cannot create $out"

wanted() { [[ $skip != *" $1 "* ]]; }
rows=()
failed=0
row() { rows+=("| $1 | $2 | $3 |"); }
# field KEY TEXT: the number after "KEY" in TEXT (its last occurrence).
field() { grep -o "$1 *[0-9.]*" <<<"$2" | tail -n 1 | grep -o '[0-9.]*$'; }
part_failed() {
  row "$1" "-" "**failed** (exit $2; log: \`$3\`)"
  failed=1
}
lab_inventory() { "$lab" status 2>/dev/null | sed -n 's/^inventory: //p' | tail -n 1; }
ensure_lab() {
  "$lab" status >/dev/null 2>&1 && return 0
  echo "run-all: the lab is not healthy; lab up" >&2
  "$lab" up >>"$out/lab-repair.log" 2>&1
}

echo "run-all: $(date -u +%FT%TZ); logs in $out" >&2

# ------------------------------------------------------------------ lab
if wanted lab; then
  echo "run-all: lab down + lab up" >&2
  "$lab" down >"$out/lab-down.log" 2>&1
  t0=$(date +%s%3N)
  if "$lab" up >"$out/lab-up.log" 2>&1; then
    t1=$(date +%s%3N)
    row "\`lab up\`, images cached (after \`lab down\`)" "-" "$(awk -v ms=$((t1 - t0)) 'BEGIN {printf "%.0f s", ms / 1000}')"
  else
    part_failed "\`lab up\`" $? "$out/lab-up.log"
  fi
fi
ensure_lab || die "the lab does not come up (see $out/lab-repair.log)"

# ------------------------------------------------------------------ monitor
if wanted monitor; then
  echo "run-all: tests/bench/bench-monitor.sh" >&2
  log=$out/bench-monitor.log
  if "$here/bench-monitor.sh" "$build" >"$log" 2>&1; then
    line=$(grep '^pilothouse status --json:' "$log")
    status_s=$(sed -n 's/^pilothouse status --json: \([0-9.]*\) s.*/\1/p' <<<"$line")
    chain_s=$(sed -n 's/.*CLI chain over SSH: \([0-9.]*\) s.*/\1/p' <<<"$line")
    speedup=$(sed -n 's/.*speed-up: \([0-9.]*\)x.*/\1/p' <<<"$line")
    row "snapshot: \`pilothouse status --json\` vs the CLI chain over SSH (median)" "≥ 5× faster" \
      "$status_s s vs $chain_s s: **${speedup}×**"
    row "detection: primary's container killed → reported unreachable (p95)" "≤ 1 s" \
      "**$(field 'detection p95:' "$(cat "$log")") ms**"
    cpu_line=$(grep '^CPU:' "$log")
    row "console watching one cluster at 1 Hz (\`pilothouse watch\`)" "≤ 2 % of a core, RSS ≤ 150 MB" \
      "$(sed -n 's/^CPU: \([0-9.]*\) % of one core *RSS: \([0-9.]*\) MB.*/**\1 %**, RSS \2 MB/p' <<<"$cpu_line")"
  else
    part_failed "engine benchmarks (bench-monitor.sh)" $? "$log"
  fi
  ensure_lab
fi

# ------------------------------------------------------------------ switchover
if wanted switchover; then
  echo "run-all: switchover there and back" >&2
  inventory=$(lab_inventory)
  primary=$("$lab" status 2>/dev/null | sed -n 's/.*postgres: primary \(pg-[0-9]\).*/\1/p')
  target=pg-2
  [[ $primary == pg-2 ]] && target=pg-1
  ok=1
  gaps=()
  for to in "$target" "$primary"; do
    log=$out/switchover-to-$to.json
    flock /var/lib/pilothouse-lab/cluster.flock "$bin" switchover --to "$to" --inventory "$inventory" \
      --reason "bench run-all: switchover to $to" --json >"$log" 2>"$out/switchover-to-$to.log" || ok=0
    gaps+=("$(jq -r '"to \(.new_primary // "?"): pgpool \(.write_gap_seconds.pgpool // "-") s, app \(.write_gap_seconds.app // "-") s, lost \(.lost_writes // "unknown")"' "$log" 2>/dev/null || echo "to $to: no report")")
  done
  if ((ok)); then
    row "switchover to a standby and back: write gap through pgpool / the app, lost writes" "gap ≤ 1 s, 0 lost" \
      "${gaps[0]}; ${gaps[1]}"
  else
    part_failed "switchover ($(IFS=';'; echo "${gaps[*]}"))" 1 "$out/switchover-to-*.log"
  fi
  ensure_lab
fi

# ------------------------------------------------------------------ drills
if wanted drills; then
  echo "run-all: tests/bench/bench-drills.sh (every scenario once)" >&2
  log=$out/bench-drills.log
  "$here/bench-drills.sh" -b "$build" -o "$out/drills" >"$log" 2>&1
  rc=$?
  any=0
  for report in "$out"/drills/*-1.json; do
    [[ -s $report ]] || continue
    any=1
    row "$(jq -r '"drill \(.scenario): RTO through pgpool / the app, RPO, two primaries"' "$report")" \
      "$(jq -r 'if .scenario == "partition-primary" then "RTO ≤ 5 s, no write on the isolated primary" else "RTO ≤ 5 s" end' "$report")" \
      "$(jq -r 'def s(x): if x == null or x < 0 then "-" else (x * 100 | round / 100 | tostring) + " s" end;
        "\(.outcome): **\(s(.rto_pgpool_seconds))** / \(s(.rto_app_seconds)), RPO \(if .rpo_writes < 0 then "-" else .rpo_writes end) writes, two primaries \(s(.two_primaries_seconds)); predicted \(s(.prediction.seconds))"' "$report")"
  done
  ((any)) || part_failed "drills (bench-drills.sh)" "$rc" "$log"
  ((rc == 0)) || failed=1
  ensure_lab
fi

# ------------------------------------------------------------------ gui
if wanted gui; then
  echo "run-all: tests/bench/bench-gui.sh" >&2
  log=$out/bench-gui.log
  if ALL_AT_1HZ=${ALL_AT_1HZ:-1} "$here/bench-gui.sh" "$build" >"$log" 2>&1; then
    start=$(grep '^start-up ms:' "$log")
    row "start to first live overview (median, worst)" "≤ 1.5 s" \
      "**$(field median "$start") ms**, worst $(field worst "$start") ms"
    one=$(grep '^stall p99' "$log")
    row "GUI-thread stall watching one cluster at 1 Hz (p99, max)" "p99 ≤ 16 ms, max ≤ 50 ms" \
      "p99 **$(field 'stall p99' "$one") ms**, max **$(field max "$one") ms**; CPU $(field CPU "$one") % of a core, RSS $(field RSS "$one") MB"
    many=$(grep '^clusters ' "$log")
    clusters=$(field clusters "$many")
    row "${clusters%.*} clusters open at once, those behind the page shown polled every 5 s (stall p99, max; CPU)" "p99 ≤ 16 ms, CPU ≤ 25 %" \
      "p99 **$(field 'stall p99' "$many") ms**, max $(field max "$many") ms; CPU **$(field CPU "$many") %** of a core, RSS $(field RSS "$many") MB"
    if all=$(grep '^all at 1 Hz: ' "$log"); then
      row "${clusters%.*} clusters open at once, every one polled every second (stall p99, max; CPU)" "(comparison)" \
        "p99 $(field 'stall p99' "$all") ms, max $(field max "$all") ms; CPU $(field CPU "$all") % of a core, RSS $(field RSS "$all") MB"
    fi
  else
    part_failed "GUI benchmarks (bench-gui.sh)" $? "$log"
  fi
  ensure_lab
fi

cpu_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
mem_gib=$(awk '/MemTotal/ {printf "%.0f", $2 / 1048576}' /proc/meminfo)
machine="$(date -u +%F), $(. /etc/os-release && echo "$PRETTY_NAME"), kernel $(uname -r), $(nproc) cores ($cpu_model), $mem_gib GiB; commit $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)"
table=$out/table.md
{
  echo "Measured by \`tests/bench/run-all.sh\` on $machine."
  echo
  echo "| what | target | measured |"
  echo "| --- | --- | --- |"
  printf '%s\n' "${rows[@]}"
} >"$table"
cat "$table"

if ((write_readme)); then
  tmp=$(mktemp "$readme.XXXXXX")
  awk -v b="$begin_marker" -v e="$end_marker" -v t="$table" '
    $0 == b { print; while ((getline line < t) > 0) print line; skipping = 1; next }
    $0 == e { skipping = 0 }
    !skipping { print }' "$readme" >"$tmp" || { rm -f "$tmp"; die "could not write $tmp"; }
  mv "$tmp" "$readme" || { rm -f "$tmp"; die "could not replace $readme"; }
  echo "run-all: table written into $readme" >&2
fi
exit "$failed"
