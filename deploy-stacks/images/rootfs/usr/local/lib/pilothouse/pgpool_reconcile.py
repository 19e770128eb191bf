"""Keep pgpool's backend view in line with what the backends themselves say.

pgpool 4.3 without a failover_command does not always catch up with repmgr: a primary detached while
it was briefly unreachable stays down (auto_failback only re-attaches standbys), and after a
switchover `role` can stay on the old primary (LAB-NOTES trap 7). Every couple of seconds this asks
each backend directly (pg_is_in_recovery, WAL receiver state) and, when a disagreement persists for
two rounds, detaches/attaches through PCP so pgpool re-reads the cluster.

pgpool 4.3 can also end up refusing every new session with "kind does not match between main(0)
slot[0]" while PCP shows every backend up: a child that could not resolve a restarting standby moved
the main node, and nothing resets it until a failover or failback event. Each round therefore opens
a new session; when new sessions fail with that error for two rounds while every backend answers for
itself, the standbys are detached and attached one at a time (never the primary) until a session
works.
"""
import os
import subprocess
import sys
import time

import psycopg2

PCP_PORT = os.environ.get("PH_PCP_PORT", "9898")
PCP_USER = os.environ.get("PH_PCP_USER", "admin")
SR_USER = os.environ["PH_SR_USER"]
SR_PASSWORD = os.environ["PH_SR_PASSWORD"]
INTERVAL = float(os.environ.get("PH_RECONCILE_INTERVAL", "2"))
KIND_MISMATCH = "kind does not match between main"


def log(msg):
    print(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "pgpool-reconcile:", msg,
          file=sys.stderr, flush=True)


def backends():
    out = []
    for entry in os.environ["PH_BACKENDS"].replace(" ", ",").split(","):
        if not entry:
            continue
        parts = entry.split(":")
        out.append((int(parts[0]), parts[1], int(parts[2]) if len(parts) > 2 and parts[2] else 5432))
    return out


def pcp(*args):
    cmd = [args[0], "-h", "127.0.0.1", "-p", PCP_PORT, "-U", PCP_USER, "-w"] + list(args[1:])
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=15)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed: {r.stderr.strip() or r.stdout.strip()}")
    return r.stdout.strip()


_session = {"error": None}  # why the last new session through pgpool failed, None when it worked


def pool_session():
    return psycopg2.connect(host="127.0.0.1", port=int(os.environ.get("PH_PGPOOL_PORT", "9999")),
                            user=SR_USER, password=SR_PASSWORD, dbname="postgres",
                            connect_timeout=2, application_name="pgpool-reconcile")


def pool_nodes_sql(count):
    """SHOW POOL_NODES over a new session each round (PCP forks a worker per call and pgpool logs
    three lines for each): a kept session would not see pgpool refusing new ones. Returns None when
    pgpool cannot serve a session and records why in _session."""
    try:
        conn = pool_session()
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute("SHOW POOL_NODES")
                cols = [d[0] for d in cur.description]
                rows = [dict(zip(cols, r)) for r in cur.fetchall()]
        finally:
            conn.close()
    except psycopg2.Error as exc:
        _session["error"] = " ".join(str(exc).split())
        return None
    _session["error"] = None
    if len(rows) != count:
        return None
    status = {"up": 2, "waiting": 1, "down": 3, "unused": 3, "quarantine": 3}
    return {int(r["node_id"]): (status.get(r["status"], 3), r["role"]) for r in rows}


def pool_nodes(count):
    """{node_id: (status, role)} as pgpool sees it; status 1/2 = up, 3 = down."""
    nodes = pool_nodes_sql(count)
    if nodes is not None:
        return nodes
    # No session possible (e.g. every backend down): PCP always answers.
    lines = pcp("pcp_node_info").splitlines()
    if len(lines) != count:
        raise RuntimeError(f"pcp_node_info returned {len(lines)} lines for {count} nodes")
    out = {}
    for nid, line in enumerate(lines):
        # host port status weight status_name pg_status role pg_role ...
        fields = line.split()
        out[nid] = (int(fields[2]), fields[6])
    return out


def real_state(host, port):
    """'primary', 'standby' (streaming), 'standby-idle', or None when unreachable."""
    try:
        conn = psycopg2.connect(host=host, port=port, user=SR_USER, password=SR_PASSWORD,
                                dbname="postgres", connect_timeout=2,
                                application_name="pgpool-reconcile")
    except psycopg2.Error:
        return None
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT pg_is_in_recovery()")
            if not cur.fetchone()[0]:
                return "primary"
            cur.execute("SELECT status FROM pg_stat_wal_receiver")
            row = cur.fetchone()
            return "standby" if row and row[0] == "streaming" else "standby-idle"
    except psycopg2.Error:
        return None
    finally:
        conn.close()


def session_works():
    try:
        pool_session().close()
        return True
    except psycopg2.Error:
        return False


def cycle_standbys(real):
    """Detach and attach each streaming standby in turn until a new session works; the failback
    event makes every pgpool child start over. Returns a line for the log."""
    for nid in sorted(n for n, st in real.items() if st == "standby"):
        try:
            pcp("pcp_detach_node", "-n", str(nid))
            pcp("pcp_attach_node", "-n", str(nid))
        except Exception as exc:
            return f"detach+attach of node {nid} failed: {exc}"
        for _ in range(10):
            time.sleep(0.2)
            if session_works():
                return f"detached and attached node {nid}: new sessions work again"
    return "new sessions still fail after every standby was detached and attached; " \
           "the primary is left alone (pilothouse pgpool-repair)"


def main():
    nodes = backends()
    pending = {}  # action key -> consecutive rounds seen
    log(f"watching {len(nodes)} backends")
    while True:
        time.sleep(INTERVAL)
        try:
            pool = pool_nodes(len(nodes))
        except Exception as exc:  # pgpool not up yet, or restarting
            pending.clear()
            continue
        real = {nid: real_state(host, port) for nid, host, port in nodes}
        primaries = [nid for nid, st in real.items() if st == "primary"]
        actions = []
        if (_session["error"] is not None and KIND_MISMATCH in _session["error"]
                and len(primaries) == 1 and None not in real.values()):
            # Every backend answers for itself, yet pgpool refuses new sessions. Only this error:
            # a failback restarts every child, which would make "too many clients" worse.
            actions.append(("cycle", None))
        elif len(primaries) == 1:
            p = primaries[0]
            p_status, p_role = pool[p]
            if p_status == 3:
                actions.append(("attach", p))
            elif p_role != "primary":
                # pgpool believes someone else is primary: detach that one so pgpool searches again.
                for nid, (st, role) in pool.items():
                    if nid != p and role == "primary" and st != 3:
                        actions.append(("detach", nid))
            for nid, (st, _) in pool.items():
                if nid != p and st == 3 and real[nid] == "standby":
                    actions.append(("attach", nid))
        seen = set()
        for act in actions:
            seen.add(act)
            pending[act] = pending.get(act, 0) + 1
            if pending[act] < 2:
                continue
            kind, nid = act
            if kind == "cycle":
                log(f"new sessions fail ({_session['error']}): {cycle_standbys(real)}")
                pending.pop(act, None)
                continue
            try:
                if kind == "attach":
                    pcp("pcp_attach_node", "-n", str(nid))
                else:
                    pcp("pcp_detach_node", "-n", str(nid))
                log(f"{kind}ed node {nid} (pgpool: {pool[nid]}, backend says: {real[nid]})")
            except Exception as exc:
                log(f"{kind} node {nid} failed: {exc}")
            pending.pop(act, None)
        for act in list(pending):
            if act not in seen:
                pending.pop(act)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
