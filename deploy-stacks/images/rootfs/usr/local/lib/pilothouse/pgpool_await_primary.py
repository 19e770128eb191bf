"""pgpool's failover_command: wait, briefly, for repmgr's new primary. It decides nothing.

pgpool 4.3 detaches a dead primary after its health check gives up (2-3 s), then looks for a new
one once a second (find_primary_node_repeatedly). repmgr promotes a standby about a second later,
so pgpool's search usually finds it up to a second after it exists: measured 0.3-1.3 s of the
failover's write gap on the lab. pgpool runs failover_command after the detach and before that
search, in its main process, and waits for it. This script asks the other backends every 0.1 s
whether one of them is a primary (pg_is_in_recovery() is false) and returns as soon as one is, so
that pgpool's first look finds it. It returns at once when the detached node was not pgpool's
primary (a standby left), or is itself still a primary (an operator detached a healthy primary:
there is nothing to wait for), and after PH_AWAIT_PRIMARY_SECS at the latest (pgpool then goes on
searching on its own, search_primary_node_timeout).

Usage (pgpool.conf): failover_command = 'python3 .../pgpool_await_primary.py CONF %d %P'
CONF is a JSON file written by ph-pgpool, readable only by pgpool's user:
{"user": ..., "password": ..., "backends": "0:pg-1:5432,1:pg-2:5432,...", "wait_secs": 20}
It always exits 0: pgpool logs a failing failover_command but carries on the same way.
"""
import json
import sys
import threading
import time

import psycopg2

POLL_SECS = 0.1


def log(msg):
    print(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "pgpool-await-primary:", msg,
          file=sys.stderr, flush=True)


def parse_backends(spec):
    out = {}
    for entry in spec.replace(" ", ",").split(","):
        if not entry:
            continue
        parts = entry.split(":")
        out[int(parts[0])] = (parts[1], int(parts[2]) if len(parts) > 2 and parts[2] else 5432)
    return out


def is_primary(host, port, conf):
    """True or False as the backend says; None when it cannot be asked."""
    try:
        conn = psycopg2.connect(host=host, port=port, user=conf["user"], password=conf["password"],
                                dbname="postgres", connect_timeout=2,
                                application_name="pgpool-await-primary")
    except psycopg2.Error:
        return None
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT pg_is_in_recovery()")
            return not cur.fetchone()[0]
    except psycopg2.Error:
        return None
    finally:
        conn.close()


def main(argv):
    if len(argv) != 4:
        log(f"usage: {argv[0]} CONF FAILED_NODE_ID OLD_PRIMARY_ID (got {argv[1:]})")
        return 0
    try:
        with open(argv[1], encoding="utf-8") as f:
            conf = json.load(f)
        failed, old_primary = int(argv[2]), int(argv[3])
        backends = parse_backends(conf["backends"])
        wait_secs = float(conf.get("wait_secs", 20))
    except (OSError, ValueError, KeyError) as exc:
        log(f"cannot start: {exc}")
        return 0
    if failed != old_primary or failed not in backends:
        return 0  # a standby was detached: pgpool keeps its primary

    started = time.monotonic()
    deadline = started + wait_secs
    found = threading.Event()
    answer = {}

    def watch(node_id, host, port, want_primary_elsewhere):
        # One thread per backend, so that a silent host (connect timeout) delays nobody else.
        while not found.is_set() and time.monotonic() < deadline:
            primary = is_primary(host, port, conf)
            if primary:
                answer.setdefault("node", node_id)
                answer.setdefault("detached_is_primary", not want_primary_elsewhere)
                found.set()
                return
            if not want_primary_elsewhere and primary is not None:
                return  # the detached node answers as a standby: only the others matter now
            found.wait(POLL_SECS)

    threads = [threading.Thread(target=watch, args=(nid, host, port, nid != failed), daemon=True)
               for nid, (host, port) in backends.items()]
    for t in threads:
        t.start()
    found.wait(max(0.0, deadline - time.monotonic()))
    took = time.monotonic() - started
    if not found.is_set():
        log(f"node {failed} (the primary) was detached and no other backend became primary "
            f"within {wait_secs:.0f} s; pgpool searches on its own")
    elif answer["detached_is_primary"]:
        log(f"node {failed} was detached but still answers as a primary; not waiting")
    else:
        log(f"node {failed} (the primary) was detached; node {answer['node']} is primary "
            f"after {took:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
