#!/usr/bin/env python3
"""`make bench`: FerroMQ side by side with its peers, in one go.

Client: the same C programs (built against Debian's Paho headers) run with
Paho's library and with ours (LD_LIBRARY_PATH=target/paho/lib), through the
same broker: `ferromq broker` by default (mosquitto tops out near 200k msg/s
on this machine and would cap both clients), or mosquitto with
BENCH_CLIENT_BROKER=mosquitto. Broker: `ferromq bench` against mosquitto and `ferromq
broker`, broker pinned to core 1, generator to core 0. Every case runs A B A B
... with a fresh broker per run; the table shows medians and ours / peer.
Results: bench/results/latest.{json,md,png} (and a time-stamped JSON copy).

Usage: bench/run_all.py [--runs N] [--scale F] [--only client|broker|tls] [--case KEY]
(--case runs only the broker cases named, e.g. fanin_qos1_durable, and saves
nothing under bench/results.)
"""

import argparse
import datetime
import json
import os
import platform
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import tls_rows

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
FERROMQ = os.path.join(ROOT, "target", "release", "ferromq")
# Our library under Paho's file names (make lib); FERROMQ_PAHO_LIBS overrides it.
OUR_LIBS = os.environ.get("FERROMQ_PAHO_LIBS", os.path.join(ROOT, "target", "paho", "lib"))
BUILD = os.path.join(ROOT, "build", "bench")
RESULTS = os.path.join(ROOT, "bench", "results")
MOSQUITTO = os.environ.get("MOSQUITTO", "/usr/sbin/mosquitto")
# The broker the client cases go through (the same one for both libraries).
CLIENT_BROKER = os.environ.get("BENCH_CLIENT_BROKER", "ferromq")
BROKER_CORE, GEN_CORE = "1", "0"
RUN_TIMEOUT = 180
NOISY_SPREAD = 0.30  # (max - min) / median above this: the figure is noisy
BUSY_LOAD = 1.5
GEN_BOUND = 0.9  # generator CPU / run time above this: the generator set the pace


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, limit=10.0):
    """Bounded wait until something accepts on 127.0.0.1:port."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("broker exited during start-up")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"nothing listens on port {port} after {limit}s")


def pinned(core, argv):
    return ["taskset", "-c", core] + argv if shutil.which("taskset") else argv


class Broker:
    """A fresh broker on a free port; `kind` is 'mosquitto' or 'ferromq'."""

    def __init__(self, kind, work, nodelay=False, defaults=False, tls=None, persist=False,
                 extra="", name=None):
        """`tls`: a directory with server.pem/server.key (its listener is TLS);
        `extra`: more configuration lines; `name`: for its files (default `kind`)."""
        self.kind = kind
        self.port = free_port()
        # A fresh store per run (persist): mosquitto snapshots it every
        # autosave_interval (1800 s by default), ferromq commits every turn.
        store = tempfile.mkdtemp(prefix=f"{kind}-store-", dir=work) if persist else None
        self.log_path = os.path.join(work, f"{name or kind}.log")
        self.log = open(self.log_path, "w")
        conf = os.path.join(work, f"{name or kind}.conf")
        with open(conf, "w") as f:
            if kind == "mosquitto":
                # Lossless: unlimited queue and in-flight per session.
                f.write(
                    f"listener {self.port} 127.0.0.1\nallow_anonymous true\n"
                    "persistence false\nmax_connections -1\nmax_queued_messages 0\n"
                    "max_inflight_messages 0\nlog_dest stderr\nlog_type error\n"
                )
                # Its best latency needs Nagle off (default on: +40 ms at p99);
                # for throughput its default is faster, so only then.
                if nodelay:
                    f.write("set_tcp_nodelay true\n")
                if tls:
                    f.write(f"certfile {tls}/server.pem\nkeyfile {tls}/server.key\n")
                if store:
                    f.write(f"persistence true\npersistence_location {store}/\n")
                argv = [MOSQUITTO, "-c", conf]
            else:
                # defaults: ferromq's own limits (flow control, window 32).
                if not defaults:
                    f.write("max_queued 10000000\nmax_inflight 65535\n")
                if store:
                    f.write(f"persistence true\npersistence_location {store}\n")
                argv = [FERROMQ, "broker", "--config", conf]
                if tls:
                    # The same listener keys as mosquitto's.
                    f.write(f"listener {self.port} 127.0.0.1\nallow_anonymous true\n"
                            f"certfile {tls}/server.pem\nkeyfile {tls}/server.key\n")
                else:
                    argv += ["--listen", f"127.0.0.1:{self.port}"]
            f.write(extra)
        self.proc = subprocess.Popen(pinned(BROKER_CORE, argv), stdout=self.log,
                                     stderr=subprocess.STDOUT)
        try:
            wait_port(self.port, self.proc)
        except Exception:
            self.stop()
            raise

    def rss_kb(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def parse_line(text):
    out = {}
    for tok in text.split():
        if "=" in tok:
            k, v = tok.split("=", 1)
            try:
                out[k] = float(v)
            except ValueError:
                pass
    return out


# ---------------------------------------------------------------- client side

def build_c_programs():
    os.makedirs(BUILD, exist_ok=True)
    cc = os.environ.get("CC", "cc")
    progs = {"mqtt_bench": "paho-mqtt3c", "mqtt_async_bench": "paho-mqtt3a",
             "mqtt_many_bench": "paho-mqtt3a"}
    for name, lib in progs.items():
        src = os.path.join(ROOT, "bench", f"{name}.c")
        subprocess.run([cc, "-O2", "-Wall", "-Wextra", "-Werror", "-pthread", src,
                        "-o", os.path.join(BUILD, name), f"-l{lib}"], check=True)
    # The TLS client rows: the same program on Paho's OpenSSL build.
    subprocess.run([cc, "-O2", "-Wall", "-Wextra", "-Werror", "-pthread",
                    os.path.join(ROOT, "bench", "mqtt_bench.c"), "-o",
                    os.path.join(BUILD, "mqtt_bench_tls"), "-lpaho-mqtt3cs"], check=True)


def client_cases(scale):
    n = lambda x: max(10, int(x * scale))
    # (key, title, program, qos, count, last argument)
    return [
        ("client_qos0", "MQTTClient QoS 0", "mqtt_bench", 0, n(100000), 100),
        ("client_qos1_wait", "MQTTClient QoS 1 publish+wait", "mqtt_bench", 1, n(30), 0),
        ("async_qos1", "MQTTAsync QoS 1 pipelined", "mqtt_async_bench", 1, n(10000), 0),
        ("async_qos1_inflight100", "MQTTAsync QoS 1 maxInflight=100", "mqtt_async_bench", 1,
         n(300), 100),
    ]


def run_client(case, lib, work):
    key, _, prog, qos, count, last = case
    env = dict(os.environ)
    if lib == "ours":
        env["LD_LIBRARY_PATH"] = OUR_LIBS
    else:
        env.pop("LD_LIBRARY_PATH", None)
    broker = Broker(CLIENT_BROKER, work)
    try:
        argv = [os.path.join(BUILD, prog), f"tcp://127.0.0.1:{broker.port}", str(qos),
                str(count), "64", str(last)]
        p = subprocess.run(pinned(GEN_CORE, argv), env=env, capture_output=True, text=True,
                           timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        return None, "timed out"
    finally:
        broker.stop()
    r = parse_line(p.stdout)
    if p.returncode != 0 or "msgs_per_s" not in r:
        return None, (p.stderr.strip() or p.stdout.strip() or f"exit {p.returncode}")[-200:]
    return r, None


def run_many(clients, lib, work):
    """Connect `clients` MQTTAsync clients at once: seconds, threads, RSS."""
    env = dict(os.environ)
    if lib == "ours":
        env["LD_LIBRARY_PATH"] = OUR_LIBS
    else:
        env.pop("LD_LIBRARY_PATH", None)
    broker = Broker(CLIENT_BROKER, work)
    try:
        argv = [os.path.join(BUILD, "mqtt_many_bench"), f"tcp://127.0.0.1:{broker.port}",
                str(clients)]
        p = subprocess.run(pinned(GEN_CORE, argv), env=env, capture_output=True, text=True,
                           timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        return None, "timed out"
    finally:
        broker.stop()
    r = parse_line(p.stdout)
    if "clients" not in r or "connect_s" not in r:
        return None, (p.stderr.strip() or p.stdout.strip() or f"exit {p.returncode}")[-200:]
    # A library that connects only some of them still gets its figures
    # reported, with how many made it.
    return r, None


# ---------------------------------------------------------------- broker side

def broker_cases(scale):
    n = lambda x: max(10, int(x * scale))
    return [
        ("fanin_qos0", "fan-in 4->1 QoS 0 (msg/s)",
         ["--mode", "fanin", "--qos", "0", "--publishers", "4", "--messages", str(n(150000))]),
        ("fanin_qos1", "fan-in 4->1 QoS 1 (msg/s)",
         ["--mode", "fanin", "--qos", "1", "--publishers", "4", "--window", "64",
          "--messages", str(n(50000))]),
        # The same with ferromq's DEFAULT configuration (queue 1,000 and
        # window 32 per session, publishers paused when it is full).
        ("fanin_qos1_defaults", "fan-in 4->1 QoS 1, ferromq defaults (msg/s)",
         ["--mode", "fanin", "--qos", "1", "--publishers", "4", "--window", "64",
          "--messages", str(n(50000))]),
        # Persistence on, durable subscriber: every PUBACK after the message
        # is on disk here; mosquitto only snapshots (kill -9 loses since).
        ("fanin_qos1_durable", "fan-in 4->1 QoS 1 durable, persistence on (msg/s)",
         ["--mode", "fanin", "--qos", "1", "--publishers", "4", "--window", "64",
          "--durable", "--messages", str(n(50000))]),
        ("p2p_qos2", "QoS 2 1->1 window 20 (msg/s)",
         ["--mode", "p2p", "--qos", "2", "--publishers", "1", "--window", "20",
          "--messages", str(n(40000))]),
        ("fanout_qos0", "fan-out 1->50 QoS 0 (deliveries/s)",
         ["--mode", "fanout", "--qos", "0", "--subscribers", "50", "--messages", str(n(10000))]),
        ("fanout_qos1", "fan-out 1->50 QoS 1 (deliveries/s)",
         ["--mode", "fanout", "--qos", "1", "--subscribers", "50", "--window", "64",
          "--messages", str(n(4000))]),
        ("latency", "p99 latency at 10k msg/s (us)",
         ["--mode", "p2p", "--qos", "0", "--publishers", "1", "--rate", "10000",
          "--messages", str(n(30000))]),
    ]


def run_generator(broker, args, work, extra=()):
    out = os.path.join(work, "gen.json")
    if os.path.exists(out):
        os.remove(out)
    argv = pinned(GEN_CORE, [FERROMQ, "bench", "--port", str(broker.port), "--payload", "64",
                             "--json", out] + list(extra) + args)
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        return None, "timed out"
    if not os.path.exists(out):
        return None, (p.stderr.strip() or f"exit {p.returncode}")[-300:]
    with open(out) as f:
        r = json.load(f)
    r["exit"] = p.returncode
    if p.returncode != 0:
        return r, (p.stderr.strip().splitlines() or [f"exit {p.returncode}"])[-1]
    return r, None


def retained_case(scale, runs, work, rows, failures):
    """N retained QoS 1 messages (200,000 x scale; --scale 5 is the
    1,000,000 case): seconds until a `#` subscriber has them all, and the
    median of 25 exact-topic subscriptions until each has its one message
    (a single round trip of ~0.1 ms was mostly noise). Both brokers keep their defaults
    but for mosquitto's queue and window, unlimited as in the other cases."""
    count = max(1000, int(200000 * scale))
    args = ["--mode", "retained", "--qos", "1", "--window", "64", "--messages", str(count)]
    wild = {"mosquitto": [], "ferromq": []}
    exact = {"mosquitto": [], "ferromq": []}
    title = f"{count} retained"
    for i in range(runs):
        for kind in ("mosquitto", "ferromq"):
            b = Broker(kind, work, nodelay=True, defaults=True)
            try:
                r, err = run_generator(b, args, work)
            finally:
                b.stop()
            if err or r is None:
                failures.append(f"{title} [{kind}] run {i + 1}: {err}")
                log(f"  {title} [{kind}] FAILED: {err}")
                continue
            wild[kind].append(r["wildcard_seconds"])
            exact[kind].append(r["exact_seconds"] * 1000.0)
            log(f"  {title} [{kind}] # in {r['wildcard_seconds']:.3f} s "
                f"({r['wildcard_delivered']} delivered), exact topic in "
                f"{r['exact_seconds'] * 1000.0:.3f} ms (stored in {r['store_seconds']:.2f} s)")
    rows.append(row(f"{title}: deliver # (s)", "mosquitto", wild["mosquitto"], wild["ferromq"],
                    False, 1.0, "<= 1x"))
    rows.append(row(f"{title}: deliver one exact topic (ms)", "mosquitto", exact["mosquitto"],
                    exact["ferromq"], False, 1.0, "<= 1x"))


def idle_rss(broker, conns, subscribe, extra=()):
    """Broker RSS growth (bytes per connection) while `conns` idle connections
    are held, and the seconds the generator took to have them all."""
    base = broker.rss_kb()
    argv = [FERROMQ, "bench", "--port", str(broker.port), "--mode", "idle",
            "--connections", str(conns)] + (["--subscribe"] if subscribe else []) + list(extra)
    p = subprocess.Popen(pinned(GEN_CORE, argv), stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = p.stdout.readline()  # bounded: the generator gives up after 60 s idle
        if not line.startswith("ready"):
            p.stdin.close()
            err = p.stderr.read()
            p.wait(30)
            return None, (err.strip() or line.strip() or "no ready line")[-200:]
        rss = broker.rss_kb()
    finally:
        if p.stdin and not p.stdin.closed:
            p.stdin.close()
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    return {"rss_kb": rss, "base_kb": base, "secs": parse_line(line).get("secs"),
            "bytes_per_conn": (rss - base) * 1024 / conns}, None


# ---------------------------------------------------------------- reporting

def median(xs):
    return statistics.median(xs) if xs else None


def spread(xs):
    m = median(xs)
    if not xs or len(xs) < 2 or not m:
        return 0.0
    return (max(xs) - min(xs)) / m


def row(name, peer_label, peer, ours, higher, goal=None, goal_text=""):
    """One table row: medians, ours / peer, and whether the goal is met."""
    pm, om = median(peer), median(ours)
    ratio = om / pm if pm and om is not None and pm > 0 else None
    met = None
    if goal is not None and ratio is not None:
        met = ratio >= goal if higher else ratio <= goal
    noisy = max(spread(peer), spread(ours)) > NOISY_SPREAD
    return {"name": name, "peer": peer_label, "peer_median": pm, "ours_median": om,
            "peer_runs": peer, "ours_runs": ours, "ratio": ratio,
            "higher_is_better": higher, "goal": goal, "goal_text": goal_text,
            "met": met, "noisy": noisy}


def fmt(x):
    if x is None:
        return "n/a"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:.2f}"


def table(rows):
    head = ("metric", "peer", "peer median", "ferromq median", "ours/peer", "goal", "met")
    lines = [head]
    for r in rows:
        met = {True: "yes", False: "NO", None: "-"}[r["met"]]
        ratio = "n/a" if r["ratio"] is None else f"{r['ratio']:.2f}" + ("*" if r["noisy"] else "")
        ours = r.get("ours_text") or fmt(r["ours_median"])
        lines.append((r["name"], r["peer"], r.get("peer_text") or fmt(r["peer_median"]), ours,
                      ratio, r["goal_text"], met))
    widths = [max(len(str(l[i])) for l in lines) for i in range(len(head))]
    text = []
    for l in lines:
        text.append("  ".join(str(c).ljust(w) if i < 2 else str(c).rjust(w)
                              for i, (c, w) in enumerate(zip(l, widths))))
    md = ["| " + " | ".join(head) + " |", "|" + "---|" * 2 + "---:|" * 5]
    for l in lines[1:]:
        md.append("| " + " | ".join(str(c) for c in l) + " |")
    return "\n".join(text), "\n".join(md)


def machine():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mosq = subprocess.run([MOSQUITTO, "-h"], capture_output=True, text=True).stdout
    mosq = mosq.splitlines()[0] if mosq else "mosquitto"
    return {"cpu": cpu, "cores": os.cpu_count(), "kernel": platform.release(),
            "mosquitto": mosq.strip(), "paho": "Debian libpaho-mqtt 1.3.12"}


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3, help="runs per side (median of these)")
    ap.add_argument("--scale", type=float, default=1.0, help="scale message counts")
    ap.add_argument("--only", choices=["client", "broker", "tls"])
    ap.add_argument("--idle", default="5000,10000", help="idle connection counts")
    ap.add_argument("--case", action="append", help="only these broker cases (not saved)")
    a = ap.parse_args()
    if a.case:
        a.only, a.idle = "broker", ""
    runs = max(1, a.runs)

    for need in (MOSQUITTO, FERROMQ, OUR_LIBS, "/usr/include/MQTTClient.h"):
        if not os.path.exists(need):
            sys.exit(f"bench: {need} is missing (make lib; apt-get install mosquitto "
                     "libpaho-mqtt-dev)")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # children inherit it
    load_before = os.getloadavg()
    started = datetime.datetime.now(datetime.timezone.utc)
    log(f"bench: {runs} runs per side, load average {load_before[0]:.2f}, "
        f"open files {hard}")
    build_c_programs()
    rows, failures, gen_bound = [], [], set()
    work = tempfile.mkdtemp(prefix="ferromq-bench-")
    try:
        if a.only in (None, "client"):
            for case in client_cases(a.scale):
                key, title = case[0], case[1]
                rate = {"paho": [], "ours": []}
                cpu = {"paho": [], "ours": []}
                for i in range(runs):
                    for lib in ("paho", "ours"):
                        r, err = run_client(case, lib, work)
                        if err:
                            failures.append(f"{title} [{lib}] run {i + 1}: {err}")
                            log(f"  {title} [{lib}] FAILED: {err}")
                            continue
                        rate[lib].append(r["msgs_per_s"])
                        cpu[lib].append(r["cpu_us_per_msg"])
                        log(f"  {title} [{lib}] {r['msgs_per_s']:.0f} msg/s, "
                            f"{r['cpu_us_per_msg']:.2f} us CPU/msg")
                goal = {"client_qos0": 3, "client_qos1_wait": 100, "async_qos1": 4,
                        "async_qos1_inflight100": 100}[key]
                rows.append(row(f"{title} (msg/s)", "paho", rate["paho"], rate["ours"], True,
                                goal, f">= {goal}x"))
                rows.append(row(f"{title} (CPU us/msg)", "paho", cpu["paho"], cpu["ours"],
                                False, 0.5, "<= 0.5x"))
            clients = max(100, int(10000 * a.scale))
            secs = {"paho": [], "ours": []}
            rss = {"paho": [], "ours": []}
            threads = {"paho": [], "ours": []}
            made = {"paho": [], "ours": []}
            for i in range(runs):
                for lib in ("paho", "ours"):
                    r, err = run_many(clients, lib, work)
                    if err:
                        failures.append(f"connect {clients} clients [{lib}] run {i + 1}: {err}")
                        log(f"  connect {clients} clients [{lib}] FAILED: {err}")
                        continue
                    secs[lib].append(r["connect_s"])
                    rss[lib].append(r["rss_kb"])
                    threads[lib].append(r["threads"])
                    made[lib].append(r["clients"])
                    log(f"  connect {clients} MQTTAsync clients [{lib}] {r['clients']:.0f} "
                        f"connected in {r['connect_s']:.2f} s, {r['rss_kb']:.0f} kB RSS, "
                        f"{r['threads']:.0f} threads")
            rows.append(row(f"{clients} MQTTAsync clients connected", "paho", made["paho"],
                            made["ours"], True, None, f"= {clients}"))
            rows.append(row(f"connect {clients} MQTTAsync clients (s)", "paho", secs["paho"],
                            secs["ours"], False, 1.0, "<= 1x"))
            rows.append(row(f"{clients} MQTTAsync clients, RSS (kB)", "paho", rss["paho"],
                            rss["ours"], False, 1.0, "<= 1x"))
            rows.append(row(f"{clients} MQTTAsync clients, threads", "paho", threads["paho"],
                            threads["ours"], False, None, "<= 16"))
        if a.only in (None, "broker"):
            goals = {"fanin_qos0": 4, "fanin_qos1": 4, "fanin_qos1_defaults": 4, "p2p_qos2": 3,
                     "fanout_qos0": 10, "fanin_qos1_durable": 1}
            for key, title, args in broker_cases(a.scale):
                if a.case and key not in a.case:
                    continue
                vals = {"mosquitto": [], "ferromq": []}
                for i in range(runs):
                    for kind in ("mosquitto", "ferromq"):
                        b = Broker(kind, work, nodelay=key == "latency",
                                   defaults=key.endswith("_defaults"),
                                   persist=key.endswith("_durable"))
                        try:
                            r, err = run_generator(b, args, work)
                        finally:
                            b.stop()
                        if err:
                            failures.append(f"{title} [{kind}] run {i + 1}: {err}")
                            log(f"  {title} [{kind}] FAILED: {err}")
                        if r is None or r.get("exit"):
                            continue
                        v = r["latency_us"]["p99"] if key == "latency" else r["msgs_per_sec"]
                        vals[kind].append(v)
                        busy = r.get("generator_cpu_seconds", 0) / max(r["seconds"], 1e-9)
                        if busy > GEN_BOUND and key != "latency":
                            gen_bound.add(f"{title} [{kind}]")
                        log(f"  {title} [{kind}] {v:,.0f}  (lost {r['lost']}, "
                            f"p50/p99 {r['latency_us']['p50']}/{r['latency_us']['p99']} us, "
                            f"generator CPU {busy:.0%})")
                if key == "latency":
                    rows.append(row(title, "mosquitto", vals["mosquitto"], vals["ferromq"],
                                    False, 1.0, "<= 1x"))
                else:
                    g = goals.get(key)
                    rows.append(row(title, "mosquitto", vals["mosquitto"], vals["ferromq"],
                                    True, g, f">= {g}x" if g else ""))
            if not a.case:
                retained_case(a.scale, runs, work, rows, failures)
                import bridge_bench
                bridge_bench.bridge_case(a.scale, runs, work, rows, failures)
            for conns in [int(x) for x in a.idle.split(",") if x]:
                for subscribe in (False, True):
                    title = f"RSS/conn, {conns} idle{' +1 sub' if subscribe else ''} (B)"
                    vals = {"mosquitto": [], "ferromq": []}
                    for i in range(runs):
                        for kind in ("mosquitto", "ferromq"):
                            b = Broker(kind, work)
                            try:
                                r, err = idle_rss(b, conns, subscribe)
                            finally:
                                b.stop()
                            if err:
                                failures.append(f"{title} [{kind}] run {i + 1}: {err}")
                                log(f"  {title} [{kind}] FAILED: {err}")
                                continue
                            vals[kind].append(r["bytes_per_conn"])
                            log(f"  {title} [{kind}] {r['bytes_per_conn']:.0f} B/conn "
                                f"(RSS {r['rss_kb']} kB, at start {r['base_kb']} kB)")
                    limit = 2048 if subscribe else 1024
                    pm = median(vals["mosquitto"])
                    # The goal is absolute (bytes); as a ratio it is limit / peer.
                    g = limit / pm if pm else None
                    rows.append(row(title, "mosquitto", vals["mosquitto"], vals["ferromq"],
                                    False, g, f"<= {limit} B"))
                    if conns >= 10000 and not subscribe:
                        held = len(vals["ferromq"]) == runs
                        rows.append({"name": f"{conns} connections held", "peer": "mosquitto",
                                     "peer_text": "yes" if len(vals["mosquitto"]) == runs
                                     else "no",
                                     "ours_text": "yes" if held else "no",
                                     "peer_median": None, "ours_median": None,
                                     "peer_runs": [], "ours_runs": [], "ratio": None,
                                     "higher_is_better": True, "goal": None,
                                     "goal_text": "yes", "met": held, "noisy": False})
        if a.only in (None, "tls"):
            tls_rows.run(sys.modules[__name__], a, runs, work, rows, failures)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    load_after = os.getloadavg()
    text, md = table(rows)
    warnings = []
    if load_before[0] > BUSY_LOAD:
        warnings.append(f"load average was {load_before[0]:.2f} (> {BUSY_LOAD}) before the "
                        "run: the machine was busy, the figures do not count")
    if load_after[0] > BUSY_LOAD + 1.0:
        warnings.append(f"load average {load_after[0]:.2f} after the run (the generator and "
                        "broker account for about 2)")
    noisy = [r["name"] for r in rows if r["noisy"]]
    if noisy:
        warnings.append(f"{len(noisy)} figure(s) marked * spread more than "
                        f"{NOISY_SPREAD:.0%} between runs: too noisy to count")
    if gen_bound:
        warnings.append("the generator used more than "
                        f"{GEN_BOUND:.0%} of its core in {', '.join(sorted(gen_bound))}: "
                        "there the broker figure is a lower bound")
    if failures:
        warnings.append(f"{len(failures)} run(s) failed (see 'failures' in the JSON)")
    doc = {"title": f"FerroMQ ÷ peer, {started:%Y-%m-%d %H:%M} UTC (medians of {runs})",
           "started": started.isoformat(), "runs": runs, "scale": a.scale,
           "machine": machine(), "load_before": load_before, "load_after": load_after,
           "command": "make bench", "rows": rows, "warnings": warnings,
           "failures": failures, "table_markdown": md}
    if a.case:
        print()
        print(text)
        for w in warnings:
            print(f"WARNING: {w}")
        print("(--case: not saved)")
        return
    os.makedirs(RESULTS, exist_ok=True)
    stamp = f"{started:%Y%m%dT%H%M%SZ}"
    for name in (f"results-{stamp}.json", "latest.json"):
        with open(os.path.join(RESULTS, name), "w") as f:
            json.dump(doc, f, indent=1)
            f.write("\n")
    m = doc["machine"]
    with open(os.path.join(RESULTS, "latest.md"), "w") as f:
        f.write(f"`make bench`, {started:%Y-%m-%d %H:%M} UTC: {m['cores']} cores ({m['cpu']}), "
                f"Linux {m['kernel']}, {m['mosquitto']}, {m['paho']}; medians of {runs} "
                f"runs; load average {load_before[0]:.2f} at the start.\n\n")
        f.write(md + "\n\n`*` = runs spread more than 30% (max - min over median).\n")
        for w in warnings:
            f.write(f"\n**Warning:** {w}\n")
    png = os.path.join(RESULTS, "latest.png")
    chart = subprocess.run([FERROMQ, "bench-chart", os.path.join(RESULTS, "latest.json"), png],
                           capture_output=True, text=True)
    if chart.returncode != 0:
        warnings.append(f"no chart: {chart.stderr.strip()}")
    print()
    print(text)
    print("\n(* = more than 30% spread between runs; ratio = ours / peer, medians)")
    for w in warnings:
        print(f"WARNING: {w}")
    print(f"results: {os.path.relpath(RESULTS, ROOT)}/latest.json, latest.md"
          + (", latest.png" if chart.returncode == 0 else ""))


if __name__ == "__main__":
    main()
