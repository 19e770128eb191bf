#!/usr/bin/env bash
# Benchmarks of the engine against the running local lab (issue: engine).
#   1. snapshot latency: `pilothouse status --json` vs the equivalent CLI chain
#      over SSH (docker node ls + docker service ps + repmgr cluster show +
#      etcdctl endpoint status + psql SHOW POOL_NODES per pgpool); median of N.
#   2. detection latency: the primary's container killed -> `pilothouse watch`
#      prints it unreachable; p95 over R runs (each run is a real failover; the
#      script waits for the lab to be healthy again between runs).
#   3. console cost while watching at 1 Hz: CPU % of one core, RSS, and the
#      number of monitoring connections per PostgreSQL node.
# Usage: tests/bench/bench-monitor.sh [BUILD_DIR]   (env: RUNS=10 KILLS=5 WATCH_SECONDS=60)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${1:-$here/build}
bin=$build/app/pilothouse
lab=$here/deploy-stacks/lab/lab
runs=${RUNS:-10}
kills=${KILLS:-5}
watch_seconds=${WATCH_SECONDS:-60}

[[ -x $bin ]] || { echo "bench: $bin not built" >&2; exit 1; }
status=$("$lab" status 2>&1) || { printf '%s\n' "$status" >&2; echo "bench: the lab is not healthy; run: $lab up" >&2; exit 1; }
inventory=$(sed -n 's/^inventory: //p' <<<"$status" | tail -n 1)

lab_dir=$(dirname "$inventory")
key=$lab_dir/ssh/id_ed25519
known=$lab_dir/ssh/known_hosts
stack=pilothouse
ssh_to() { ssh -F /dev/null -i "$key" -o UserKnownHostsFile="$known" -o StrictHostKeyChecking=yes -o BatchMode=yes -p 15122 "root@$1" "${@:2}"; }
now() { date +%s.%N; }
median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
p95() { sort -n | awk '{a[NR]=$1} END {i=int(NR*0.95+0.999); if (i<1) i=1; print a[i]}'; }

monitor_pw=$(cat "$lab_dir/secrets/pg_monitor_password")
watch_pid=
# A step that fails under set -e must not leave its `pilothouse watch` running.
# (Under set -e, a `kill` of a process already gone would end the script with 1.)
trap 'if [[ -n $watch_pid ]]; then kill "$watch_pid" 2>/dev/null || true; fi' EXIT

cli_chain() {
  ssh_to 10.213.0.11 docker node ls >/dev/null
  for s in pg-1 pg-2 pg-3 pgpool etcd1 etcd2 etcd3 haproxy app; do
    ssh_to 10.213.0.11 docker service ps "${stack}_$s" >/dev/null
  done
  ssh_to 10.213.0.11 "docker exec -u postgres \$(docker ps -q -f label=com.docker.swarm.service.name=${stack}_pg-1) repmgr cluster show" >/dev/null || true
  ssh_to 10.213.0.11 "docker exec \$(docker ps -q -f label=com.docker.swarm.service.name=${stack}_etcd1) etcdctl --endpoints=http://127.0.0.1:2379 endpoint status --cluster" >/dev/null
  for node in $(ssh_to 10.213.0.11 docker service ps -f desired-state=running --format '{{.Node}}' "${stack}_pgpool"); do
    addr=10.213.0.1${node: -1}
    PGPASSWORD=$monitor_pw PGCONNECT_TIMEOUT=5 psql -h "$addr" -p 9999 -U pilothouse_monitor -d app -Atc 'SHOW POOL_NODES' >/dev/null
  done
}

echo "== 1. snapshot latency (median of $runs)"
: >/tmp/bench-status.txt; : >/tmp/bench-chain.txt
for _ in $(seq "$runs"); do
  t0=$(now); "$bin" status --json --inventory "$inventory" >/dev/null || true; t1=$(now)
  echo "$t1 - $t0" | bc >>/tmp/bench-status.txt
  t0=$(now); cli_chain; t1=$(now)
  echo "$t1 - $t0" | bc >>/tmp/bench-chain.txt
done
status_median=$(median </tmp/bench-status.txt)
chain_median=$(median </tmp/bench-chain.txt)
printf 'pilothouse status --json: %.3f s   CLI chain over SSH: %.3f s   speed-up: %.1fx\n' \
  "$status_median" "$chain_median" "$(echo "$chain_median / $status_median" | bc -l)"

echo "== 2. console cost while watching at 1 Hz for $watch_seconds s"
out=$(mktemp)
"$bin" watch --inventory "$inventory" >"$out" 2>&1 &
watch_pid=$!
sleep 5
read -r u0 s0 < <(awk '{print $14, $15}' "/proc/$watch_pid/stat")
t0=$(now)
sleep "$watch_seconds"
read -r u1 s1 < <(awk '{print $14, $15}' "/proc/$watch_pid/stat")
t1=$(now)
ticks=$(getconf CLK_TCK)
cpu=$(echo "(($u1 + $s1) - ($u0 + $s0)) / $ticks / ($t1 - $t0) * 100" | bc -l)
rss=$(awk '/VmRSS/ {print $2}' "/proc/$watch_pid/status")
conns=$(for n in 1 2 3; do
  PGPASSWORD=$monitor_pw psql -h 10.213.0.1$n -U pilothouse_monitor -d app -Atc \
    "select count(*) from pg_stat_activity where application_name = 'pilothouse-monitor' and client_addr = '10.213.0.1'"
done | tr '\n' ' ')
printf 'CPU: %.2f %% of one core   RSS: %.1f MB   monitoring connections per node (from the console): %s\n' \
  "$cpu" "$(echo "$rss / 1024" | bc -l)" "$conns"
kill "$watch_pid"; wait "$watch_pid" 2>/dev/null || true

echo "== 3. detection latency: primary killed -> reported down (p95 of $kills)"
detect=$(mktemp)
for i in $(seq "$kills"); do
  "$lab" status >/dev/null 2>&1 || { echo "waiting for the lab to be healthy"; for _ in $(seq 120); do sleep 2; "$lab" status >/dev/null 2>&1 && break; done; }
  "$bin" watch --inventory "$inventory" >"$out" 2>&1 &
  watch_pid=$!
  for _ in $(seq 100); do grep -q 'watching;' "$out" && break; sleep 0.1; done
  primary=$("$lab" status 2>/dev/null | sed -n 's/.*postgres: primary \(pg-[0-9]\).*/\1/p')
  [[ -n $primary ]] || { echo "run $i: the lab names no primary; skipped"; kill "$watch_pid"; wait "$watch_pid" 2>/dev/null || true; continue; }
  t0=$(date +%s%3N)
  "$lab" kill-container "$primary" >/dev/null
  for _ in $(seq 100); do grep -q "pg:$primary.reachable: yes -> no" "$out" && break; sleep 0.05; done
  line=$(grep -m1 "pg:$primary.reachable: yes -> no" "$out" || true)
  kill "$watch_pid"; wait "$watch_pid" 2>/dev/null || true
  [[ -n $line ]] || { echo "run $i: never reported down"; continue; }
  seen=$(date -d "$(date +%F) ${line%% *}" +%s%3N)
  echo "run $i: $primary reported down after $(( seen - t0 )) ms"
  echo $(( seen - t0 )) >>"$detect"
  sleep 5
done
printf 'detection p95: %s ms over %s runs (from before the kill command)\n' "$(p95 <"$detect")" "$(wc -l <"$detect")"
rm -f "$out" "$detect"
