"""Python paho-mqtt (1.6 or 2.x) against a running ``ferromq broker``'s TLS and
WebSocket listeners: a QoS 1 round trip over each, and a client certificate.

Usage: broker_tls_peer.py TLS_PORT WS_PORT WSS_PORT CERT_PORT CERT_DIR.
Prints "ok <name>" per case and "ALL OK" at the end; any failure raises.
Every wait is bounded by TIMEOUT seconds.
"""

import os
import queue
import sys

import paho.mqtt.client as mqtt

TIMEOUT = 10.0
TLS, WS, WSS, CERT = (int(p) for p in sys.argv[1:5])
CERTS = sys.argv[5]
V2 = hasattr(mqtt, "CallbackAPIVersion")


def client(client_id, transport):
    if V2:
        return mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id,
                           transport=transport)
    return mqtt.Client(client_id=client_id, transport=transport)


def round_trip(name, port, transport="tcp", tls=False, cert=False, topic="open/py"):
    c = client(f"py-{name}", transport)
    if tls:
        kw = {"ca_certs": os.path.join(CERTS, "ca.pem")}
        if cert:
            kw["certfile"] = os.path.join(CERTS, "client.pem")
            kw["keyfile"] = os.path.join(CERTS, "client.key")
        c.tls_set(**kw)
    connected = queue.Queue()
    got = queue.Queue()
    c.on_connect = lambda *a: connected.put(a[3])
    c.on_message = lambda cl, u, m: got.put(m)
    c.connect("127.0.0.1", port, 30)
    c.loop_start()
    try:
        rc = connected.get(timeout=TIMEOUT)
        code = rc if isinstance(rc, int) else rc.value
        assert code == 0, f"{name}: CONNACK {rc}"
        c.subscribe(topic, 1)
        c.publish(topic, b"x" * 3000, 1)
        m = got.get(timeout=TIMEOUT)
        assert m.topic == topic and m.payload == b"x" * 3000, (m.topic, m.payload[:10])
    finally:
        c.disconnect()
        c.loop_stop()
    print(f"ok {name}", flush=True)


round_trip("tls", TLS, tls=True)
round_trip("ws", WS, transport="websockets")
round_trip("wss", WSS, transport="websockets", tls=True)
# The certificate's CN is the user the broker's ACL lets use id/#.
round_trip("client-cert", CERT, tls=True, cert=True, topic="id/py")
print("ALL OK", flush=True)
