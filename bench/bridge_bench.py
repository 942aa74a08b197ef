#!/usr/bin/env python3
"""Bridge throughput: QoS 1 messages/s forwarded through a bridge.

Publishers on an edge broker, the subscriber on a hub broker, the edge
bridged to the hub with `topic # out 1`: FerroMQ to FerroMQ against
mosquitto to mosquitto, in the same run, zero loss required. Run alone:

    bench/bridge_bench.py [--runs N] [--scale F]

or as part of `bench/run_all.py` (the broker section).
"""

import argparse
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_all  # noqa: E402

BRIDGE_ID = "bench-edge"
GOAL = 4


def bridge_conf(kind, hub_port):
    conf = (f"connection hub\naddress 127.0.0.1:{hub_port}\ntopic # out 1\n"
            f"remote_clientid {BRIDGE_ID}\ncleansession true\nnotifications false\n")
    if kind == "ferromq":
        # MQTT 5: the hub's Receive Maximum sets the window (3.x: 20).
        conf += "bridge_protocol_version mqttv50\nbridge_max_queued 10000\n"
    return conf


def wait_log(path, needle, proc, limit=15.0):
    """Until `needle` is in the log at `path` (bounded)."""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"{path}: broker exited")
        with open(path, errors="replace") as f:
            if needle in f.read():
                return
        time.sleep(0.05)
    raise RuntimeError(f"{path}: no '{needle}' within {limit} s")


def run_once(kind, args, work):
    # The hub logs connections so the bridge can be seen arriving.
    hub_extra = "log_type notice\n" if kind == "mosquitto" else ""
    hub = run_all.Broker(kind, work, extra=hub_extra, name=f"{kind}-hub")
    try:
        edge = run_all.Broker(kind, work, extra=bridge_conf(kind, hub.port),
                              name=f"{kind}-edge")
        try:
            wait_log(hub.log_path, BRIDGE_ID, hub.proc)
            argv = ["--sub-port", str(hub.port)] + args
            return run_all.run_generator(edge, argv, work)
        finally:
            edge.stop()
    finally:
        hub.stop()


def bridge_case(scale, runs, work, rows, failures):
    n = max(10, int(25000 * scale))
    title = "bridge edge->hub, fan-in 4->1 QoS 1 (msg/s)"
    args = ["--mode", "fanin", "--qos", "1", "--publishers", "4", "--window", "64",
            "--messages", str(n)]
    vals = {"mosquitto": [], "ferromq": []}
    for i in range(runs):
        for kind in ("mosquitto", "ferromq"):
            try:
                r, err = run_once(kind, args, work)
            except RuntimeError as e:
                r, err = None, str(e)
            if err:
                failures.append(f"{title} [{kind}] run {i + 1}: {err}")
                run_all.log(f"  {title} [{kind}] FAILED: {err}")
            if r is None or r.get("exit"):
                continue
            vals[kind].append(r["msgs_per_sec"])
            run_all.log(f"  {title} [{kind}] {r['msgs_per_sec']:,.0f}  (lost {r['lost']}, "
                        f"duplicates {r.get('duplicates', 0)})")
    rows.append(run_all.row(title, "mosquitto", vals["mosquitto"], vals["ferromq"], True,
                            GOAL, f">= {GOAL}x, zero loss"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--scale", type=float, default=1.0)
    a = ap.parse_args()
    rows, failures = [], []
    work = tempfile.mkdtemp(prefix="ferromq-bridge-bench-")
    try:
        bridge_case(a.scale, max(1, a.runs), work, rows, failures)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(run_all.table(rows)[0])
    for f in failures:
        print(f"FAILED: {f}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
