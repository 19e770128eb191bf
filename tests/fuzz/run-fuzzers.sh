#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) and runs each one
# RUNS times from a seed corpus made of the real programs' captured outputs
# (tests/fixtures) and the project's own files. Prints one line per fuzzer:
# runs, seconds, executions per second, and whether it crashed (the input is
# then kept under BUILD/fuzz-crashes/ and must become a unit test).
# Usage: tests/fuzz/run-fuzzers.sh [BUILD_DIR]   (default build-fuzz)
#   env: RUNS=1000000  MAX_SECONDS=1800 (per fuzzer)  FUZZERS="inventory stackfile ..."
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=$(realpath -m "${1:-$here/build-fuzz}")
runs=${RUNS:-1000000}
max_seconds=${MAX_SECONDS:-1800}
fuzzers=(${FUZZERS:-inventory stackfile docker etcd pg pem archive})
fixtures=$here/tests/fixtures
die() { echo "run-fuzzers: $*" >&2; exit 1; }

command -v clang++ >/dev/null || die "clang++ is not installed (apt-get install clang)"
if [[ ! -f $build/build.ninja ]]; then
  CC=clang CXX=clang++ cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DPILOTHOUSE_FUZZ=ON -DPILOTHOUSE_BUILD_TESTS=OFF >/dev/null
fi
cmake --build "$build" --target "${fuzzers[@]/#/fuzz_}" >/dev/null

# Seeds: what each reader meets in real life.
seed() { # seed NAME FILE...
  [[ " ${fuzzers[*]} " == *" $1 "* ]] || return 0
  local dir=$build/fuzz-corpus/$1; shift
  mkdir -p "$dir"
  local f
  for f in "$@"; do [[ -f $f ]] && cp "$f" "$dir/seed-$(basename "$f")"; done
  return 0
}
for name in "${fuzzers[@]}"; do rm -rf "$build/fuzz-corpus/$name"; done
seed inventory "$fixtures"/inventories/*.yaml
seed stackfile "$here"/deploy-stacks/*.yml "$fixtures"/deploy/sample-stack.yml
seed docker "$fixtures"/docker/*.json
if [[ " ${fuzzers[*]} " == *" docker "* && -f $fixtures/docker/events.jsonl ]]; then
  n=0
  while IFS= read -r line && ((n < 20)); do
    printf '%s' "$line" >"$build/fuzz-corpus/docker/seed-event-$n.json"
    n=$((n + 1))
  done <"$fixtures/docker/events.jsonl"
fi
seed etcd "$fixtures"/etcd/*.json
seed pem "$fixtures"/http/*.pem
if [[ " ${fuzzers[*]} " == *" archive "* ]]; then
  # A `docker save`-shaped archive made by GNU tar: a layer, then the manifest.
  t=$(mktemp -d)
  mkdir -p "$t/l" "$build/fuzz-corpus/archive"
  printf 'layer' >"$t/l/layer.tar"
  printf '[{"Config":"c.json","RepoTags":["pilothouse/app:lab"],"Layers":["l/layer.tar"]}]' >"$t/manifest.json"
  tar -C "$t" -cf "$build/fuzz-corpus/archive/seed-save.tar" l manifest.json
  rm -rf "$t"
fi
# pg: result sets as the fuzzer cuts them (fields 0x1f, sets 0x1e), from the CSVs psql gave.
if [[ " ${fuzzers[*]} " == *" pg "* ]]; then
mkdir -p "$build/fuzz-corpus/pg"
for f in "$fixtures"/pg/*/*.csv; do
  tr ',' '\037' <"$f" >"$build/fuzz-corpus/pg/seed-$(basename "$(dirname "$f")")-$(basename "$f")"
done
for d in "$fixtures"/pg/*/; do
  parts=()
  for k in node-summary replication wal-receiver; do
    f=$(ls "$d"pg-1-$k.csv 2>/dev/null | head -n 1 || true)
    [[ -n $f ]] && parts+=("$f")
  done
  ((${#parts[@]})) || continue
  out=$build/fuzz-corpus/pg/seed-$(basename "$d")-pg-1-status
  : >"$out"
  for i in "${!parts[@]}"; do
    ((i > 0)) && printf '\036' >>"$out"
    tr ',' '\037' <"${parts[$i]}" >>"$out"
  done
done
fi

mkdir -p "$build/fuzz-crashes"
printf '%-10s %10s %8s %10s  %s\n' fuzzer runs seconds "exec/s" result
failed=0
for name in "${fuzzers[@]}"; do
  log=$build/fuzz-$name.log
  set +e
  "$build/tests/fuzz/fuzz_$name" -runs="$runs" -max_total_time="$max_seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$build/fuzz-crashes/$name-" "$build/fuzz-corpus/$name" >"$log" 2>&1
  rc=$?
  set -e
  done_line=$(grep -E '^Done [0-9]+ runs in [0-9]+ second' "$log" | tail -n 1 || true)
  runs_done=$(sed -E 's/^Done ([0-9]+) runs.*/\1/' <<<"$done_line")
  secs=$(sed -E 's/.* in ([0-9]+) second.*/\1/' <<<"$done_line")
  if ((rc == 0)) && [[ -n $done_line ]]; then
    result=ok
  else
    result="CRASH or error (exit $rc, see $log; inputs in $build/fuzz-crashes/)"
    failed=1
    runs_done=${runs_done:-?} secs=${secs:-?}
  fi
  rate=-
  [[ $secs =~ ^[0-9]+$ && $secs -gt 0 ]] && rate=$((runs_done / secs))
  printf '%-10s %10s %8s %10s  %s\n' "$name" "$runs_done" "$secs" "$rate" "$result"
done
exit $failed
