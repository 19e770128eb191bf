#!/usr/bin/env bash
# Runs every failover drill scenario through `pilothouse drill` N times on the
# lab and prints one table row per run: RTO through pgpool and through the
# app, RPO, time with two primaries, and the phases.
#
#   tests/bench/bench-drills.sh [-n N] [-b BUILD_DIR] [-i INVENTORY] [-o OUT_DIR] [SCENARIO...]
#
# Each run holds the lab's cluster lock (flock) for that run only, so other
# people's switchovers interleave; each drill ends with pg-1 primary again.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
runs=1
build=${PILOTHOUSE_BUILD_DIR:-$repo/build}
inventory=${PILOTHOUSE_LAB_INVENTORY:-/var/lib/pilothouse-lab/inventory.yaml}
out=""
lockfile=/var/lib/pilothouse-lab/cluster.flock

die() { echo "bench-drills: error: $*" >&2; exit 1; }

while getopts "n:b:i:o:h" opt; do
  case $opt in
    n) runs=$OPTARG ;;
    b) build=$OPTARG ;;
    i) inventory=$OPTARG ;;
    o) out=$OPTARG ;;
    h) sed -n '2,10p' "$0"; exit 0 ;;
    *) die "usage: $0 [-n N] [-b BUILD_DIR] [-i INVENTORY] [-o OUT_DIR] [SCENARIO...]" ;;
  esac
done
shift $((OPTIND - 1))
scenarios=("$@")
((${#scenarios[@]})) || scenarios=(kill-primary kill-pgpool stop-etcd-member lose-etcd-quorum stop-primary-host partition-primary)
[[ $runs =~ ^[1-9][0-9]*$ ]] || die "-n must be a positive number, not '$runs'"

bin=$build/app/pilothouse
[[ -x $bin ]] || bin=$build/pilothouse
[[ -x $bin ]] || die "no pilothouse binary under $build (build it, or pass -b BUILD_DIR)"
[[ -r $inventory ]] || die "cannot read the inventory $inventory (is the lab up?)"
[[ -e $lockfile ]] || die "no lab lock file $lockfile (is the lab up?)"
command -v jq >/dev/null || die "jq is required (apt-get install jq)"
[[ -n $out ]] || out=$(mktemp -d /tmp/bench-drills.XXXXXX)
mkdir -p "$out" || die "cannot create $out"

echo "bench-drills: $(date -u +%FT%TZ) on $(hostname), $(nproc) cores; reports in $out" >&2
rows=()
for s in "${scenarios[@]}"; do
  for ((k = 1; k <= runs; k++)); do
    report=$out/$s-$k.json
    log=$out/$s-$k.log
    echo "bench-drills: $s run $k/$runs ..." >&2
    rc=0
    flock "$lockfile" "$bin" drill --scenario "$s" --inventory "$inventory" \
      --reason "bench-drills $s $k/$runs" --json --out "$report" --writes "$out/$s-$k.writes.jsonl" \
      >/dev/null 2>"$log" || rc=$?
    if [[ ! -s $report ]]; then
      rows+=("$(printf '%-18s %3d  %-9s %s' "$s" "$k" "exit-$rc" "no report (see $log)")")
      continue
    fi
    rows+=("$(jq -r --arg k "$k" --arg rc "$rc" '
      def s(x): if x == null or x < 0 then "-" else (x * 100 | round / 100 | tostring) end;
      [ .scenario, $k, (.outcome + (if $rc != "0" then "(" + $rc + ")" else "" end)),
        s(.rto_pgpool_seconds), s(.rto_app_seconds),
        (if .rpo_writes < 0 then "-" else (.rpo_writes | tostring) end),
        s(.two_primaries_seconds), s(.prediction.seconds),
        ([.phases[] | "\(.name) \(.seconds * 100 | round / 100)s"] | join("; ")) ]
      | "\(.[0] | .[0:18] | . + " " * (18 - length)) \(.[1] | " " * (3 - length) + .)  \(.[2] | . + " " * (9 - length)) \(.[3] | " " * (7 - length) + .) \(.[4] | " " * (7 - length) + .) \(.[5] | " " * (4 - length) + .) \(.[6] | " " * (7 - length) + .) \(.[7] | " " * (8 - length) + .)  \(.[8])"
    ' "$report")")
  done
done

printf '%-18s %3s  %-9s %7s %7s %4s %7s %8s  %s\n' scenario run outcome "RTO-pg" "RTO-app" RPO "2-prim" predict phases
printf '%s\n' "${rows[@]}"
