"""The TLS rows of `make bench` (issue 11): MQTTClient QoS 0 over ssl:// on
Paho's libpaho-mqtt3cs (OpenSSL) and on ours; broker fan-in QoS 0 and
fan-out over TLS, TLS handshakes accepted per second and RSS per idle TLS
connection, ferromq against mosquitto's TLS listener. Certificates (a CA and
a P-256 server certificate for 127.0.0.1) are made with the openssl command.
`run` is called by run_all.py with run_all's module, whose helpers it uses.
"""

import os
import subprocess


def make_certs(work):
    """A CA and a server certificate for 127.0.0.1 in work/tls; returns the dir."""
    d = os.path.join(work, "tls")
    os.makedirs(d, exist_ok=True)

    def ossl(*args):
        subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True, timeout=60)

    ossl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-subj", "/CN=bench CA", "-days", "2", "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign", "-keyout", "ca.key", "-out", "ca.pem")
    ossl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-subj", "/CN=127.0.0.1", "-keyout", "server.key", "-out", "server.csr")
    with open(os.path.join(d, "server.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
    ossl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
         "-CAcreateserial", "-days", "2", "-extfile", "server.ext", "-out", "server.pem")
    # mosquitto may read them after dropping privileges.
    for name in os.listdir(d):
        os.chmod(os.path.join(d, name), 0o644)
    os.chmod(d, 0o755)
    os.chmod(work, 0o755)
    return d


def client_row(ra, a, runs, work, tls, rows, failures):
    count = max(10, int(50000 * a.scale))
    title = "TLS MQTTClient QoS 0"
    rate = {"paho": [], "ours": []}
    cpu = {"paho": [], "ours": []}
    for i in range(runs):
        for lib in ("paho", "ours"):
            env = dict(os.environ, BENCH_CA=os.path.join(tls, "ca.pem"))
            if lib == "ours":
                env["LD_LIBRARY_PATH"] = ra.OUR_LIBS
            else:
                env.pop("LD_LIBRARY_PATH", None)
            broker = ra.Broker(ra.CLIENT_BROKER, work, tls=tls)
            try:
                argv = [os.path.join(ra.BUILD, "mqtt_bench_tls"), f"ssl://127.0.0.1:{broker.port}",
                        "0", str(count), "64", "100"]
                p = subprocess.run(ra.pinned(ra.GEN_CORE, argv), env=env, capture_output=True,
                                   text=True, timeout=ra.RUN_TIMEOUT)
                r = ra.parse_line(p.stdout)
                err = None if p.returncode == 0 and "msgs_per_s" in r else \
                    (p.stderr.strip() or f"exit {p.returncode}")[-200:]
            except subprocess.TimeoutExpired:
                err = "timed out"
            finally:
                broker.stop()
            if err:
                failures.append(f"{title} [{lib}] run {i + 1}: {err}")
                ra.log(f"  {title} [{lib}] FAILED: {err}")
                continue
            rate[lib].append(r["msgs_per_s"])
            cpu[lib].append(r["cpu_us_per_msg"])
            ra.log(f"  {title} [{lib}] {r['msgs_per_s']:.0f} msg/s, "
                   f"{r['cpu_us_per_msg']:.2f} us CPU/msg")
    rows.append(ra.row(f"{title} (msg/s)", "paho", rate["paho"], rate["ours"], True, 3, ">= 3x"))
    rows.append(ra.row(f"{title} (CPU us/msg)", "paho", cpu["paho"], cpu["ours"], False, 0.5,
                       "<= 0.5x"))


def broker_rows(ra, a, runs, work, tls, rows, failures):
    n = lambda x: str(max(10, int(x * a.scale)))
    ca = ["--tls", os.path.join(tls, "ca.pem")]
    cases = [
        ("TLS fan-in 4->1 QoS 0 (msg/s)", 4,
         ["--mode", "fanin", "--qos", "0", "--publishers", "4", "--messages", n(100000)]),
        ("TLS fan-out 1->50 QoS 0 (deliveries/s)", None,
         ["--mode", "fanout", "--qos", "0", "--subscribers", "50", "--messages", n(10000)]),
    ]
    for title, goal, args in cases:
        vals = {"mosquitto": [], "ferromq": []}
        for i in range(runs):
            for kind in ("mosquitto", "ferromq"):
                b = ra.Broker(kind, work, tls=tls)
                try:
                    r, err = ra.run_generator(b, args, work, ca)
                finally:
                    b.stop()
                if err or r is None:
                    failures.append(f"{title} [{kind}] run {i + 1}: {err}")
                    ra.log(f"  {title} [{kind}] FAILED: {err}")
                    continue
                vals[kind].append(r["msgs_per_sec"])
                ra.log(f"  {title} [{kind}] {vals[kind][-1]:,.0f} (lost {r['lost']})")
        rows.append(ra.row(title, "mosquitto", vals["mosquitto"], vals["ferromq"], True, goal,
                           f">= {goal}x" if goal else ""))
    conns = max(100, int(2000 * a.scale))
    hs = {"mosquitto": [], "ferromq": []}
    rss = {"mosquitto": [], "ferromq": []}
    for i in range(runs):
        for kind in ("mosquitto", "ferromq"):
            b = ra.Broker(kind, work, tls=tls)
            try:
                r, err = ra.idle_rss(b, conns, False, ca)
            finally:
                b.stop()
            if err or not r.get("secs"):
                failures.append(f"{conns} idle TLS [{kind}] run {i + 1}: {err}")
                ra.log(f"  {conns} idle TLS [{kind}] FAILED: {err}")
                continue
            hs[kind].append(conns / r["secs"])
            rss[kind].append(r["bytes_per_conn"])
            ra.log(f"  {conns} idle TLS [{kind}] {conns / r['secs']:,.0f} handshakes/s, "
                   f"{r['bytes_per_conn']:.0f} B/conn")
    rows.append(ra.row(f"TLS handshakes accepted/s ({conns} connects)", "mosquitto",
                       hs["mosquitto"], hs["ferromq"], True, 1.0, ">= 1x"))
    rows.append(ra.row(f"RSS/conn, {conns} idle TLS (B)", "mosquitto", rss["mosquitto"],
                       rss["ferromq"], False, 1.0, "<= 1x"))


def run(ra, a, runs, work, rows, failures):
    tls = make_certs(work)
    client_row(ra, a, runs, work, tls, rows, failures)
    broker_rows(ra, a, runs, work, tls, rows, failures)
