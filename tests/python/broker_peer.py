"""Python paho-mqtt (1.6 or 2.x) as a client of a running FerroMQ broker.

Usage: broker_peer.py PORT. Runs every check against 127.0.0.1:PORT, prints
"ok <name>" per check and "ALL OK" at the end; any failure raises (exit 1).
Every wait is bounded by TIMEOUT seconds.
"""

import queue
import socket
import sys
import threading
import time

import paho.mqtt
import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

TIMEOUT = 10.0
PORT = int(sys.argv[1])
V2 = hasattr(mqtt, "CallbackAPIVersion")


class Peer:
    """One client with a background loop, its messages in a queue."""

    def __init__(self, client_id, proto, clean=True, will=None, props=None, keepalive=30):
        kwargs = {"client_id": client_id, "protocol": proto}
        if proto != mqtt.MQTTv5:
            kwargs["clean_session"] = clean
        if V2:
            self.c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, **kwargs)
        else:
            self.c = mqtt.Client(**kwargs)
        self.proto = proto
        self.messages = queue.Queue()
        self.connected = threading.Event()
        self.connack = None
        self.subacks = queue.Queue()
        self.c.on_connect = self._on_connect
        self.c.on_message = lambda c, u, m: self.messages.put(m)
        self.c.on_subscribe = self._on_subscribe
        if will is not None:
            topic, payload, qos = will
            self.c.will_set(topic, payload, qos)
        connect_kwargs = {}
        if proto == mqtt.MQTTv5:
            connect_kwargs["clean_start"] = clean
            if props is not None:
                connect_kwargs["properties"] = props
        self.c.connect("127.0.0.1", PORT, keepalive, **connect_kwargs)
        self.c.loop_start()
        check(self.connected.wait(TIMEOUT), f"{client_id}: no CONNACK")

    def _on_connect(self, client, userdata, flags, rc, properties=None):
        # rc is an int (1.6, 3.1.1) or a ReasonCodes (1.6 v5, 2.x).
        code = rc if isinstance(rc, int) else rc.value
        self.connack = (flags, code, properties)
        self.connected.set()

    def _on_subscribe(self, client, userdata, mid, granted, properties=None):
        codes = [g if isinstance(g, int) else g.value for g in granted]
        self.subacks.put(codes)

    def subscribe(self, topic, qos_or_opts, props=None):
        kwargs = {}
        if isinstance(qos_or_opts, SubscribeOptions):
            kwargs["options"] = qos_or_opts
        else:
            kwargs["qos"] = qos_or_opts
        if props is not None:
            kwargs["properties"] = props
        self.c.subscribe(topic, **kwargs)
        try:
            return self.subacks.get(timeout=TIMEOUT)
        except queue.Empty:
            raise AssertionError(f"no SUBACK for {topic}")

    def publish(self, topic, payload, qos=0, retain=False, props=None):
        info = self.c.publish(topic, payload, qos, retain, properties=props)
        info.wait_for_publish(TIMEOUT)
        check(info.is_published(), f"publish to {topic!r} not completed")

    def next(self):
        try:
            return self.messages.get(timeout=TIMEOUT)
        except queue.Empty:
            raise AssertionError("no message in time")

    def close(self):
        self.c.disconnect()
        self.c.loop_stop()


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def props(kind, **values):
    p = Properties(kind)
    for k, v in values.items():
        setattr(p, k, v)
    return p


def marker_first(peer, topic, publisher):
    """Publish a marker and check it is the next message `peer` sees."""
    publisher.publish(topic, b"marker", 1)
    m = peer.next()
    check(m.payload == b"marker", f"expected the marker first, got {m.topic} {m.payload!r}")


def t_connect_versions():
    for proto in (mqtt.MQTTv31, mqtt.MQTTv311, mqtt.MQTTv5):
        p = Peer(f"py-conn-{proto}", proto)
        check(p.connack[1] == 0, f"CONNACK {p.connack}")
        p.close()
    # MQTT 5 with an empty client id gets one assigned.
    p = Peer("", mqtt.MQTTv5)
    assigned = getattr(p.connack[2], "AssignedClientIdentifier", "")
    check(assigned != "", f"no assigned client id: {p.connack[2]}")
    p.close()


def t_qos_order():
    for proto in (mqtt.MQTTv311, mqtt.MQTTv5):
        s = Peer(f"py-qs-{proto}", proto)
        p = Peer(f"py-qp-{proto}", proto)
        check(s.subscribe("py/qos/#", 2) == [2], "granted qos 2")
        sent = []
        for qos in (0, 1, 2):
            for i in range(20):
                payload = f"{qos}-{i}".encode()
                p.publish(f"py/qos/{qos}", payload, qos)
                sent.append((payload, qos))
        got = [(m.payload, m.qos) for m in (s.next() for _ in sent)]
        check(got == sent, f"order/qos mismatch: {got[:5]}...")
        s.close()
        p.close()


def t_retained():
    for proto in (mqtt.MQTTv311, mqtt.MQTTv5):
        p = Peer(f"py-rp-{proto}", proto)
        topic = f"py/ret/{proto}"
        p.publish(topic, b"old", 1, retain=True)
        p.publish(topic, b"new", 1, retain=True)
        s = Peer(f"py-rs-{proto}", proto)
        s.subscribe(topic, 1)
        m = s.next()
        check((m.payload, m.retain) == (b"new", True), f"retained {m.payload!r} {m.retain}")
        p.publish(topic, b"", 1, retain=True)
        check(s.next().payload == b"", "clear delivered live")
        s2 = Peer(f"py-rs2-{proto}", proto)
        s2.subscribe(topic, 1)
        marker_first(s2, topic, p)
        for x in (p, s, s2):
            x.close()


def t_will():
    for proto in (mqtt.MQTTv311, mqtt.MQTTv5):
        topic = f"py/will/{proto}"
        w = Peer(f"py-ww-{proto}", proto)
        w.subscribe(topic, 1)
        # A clean DISCONNECT: no will.
        calm = Peer(f"py-calm-{proto}", proto, will=(topic, b"calm", 1))
        calm.close()
        # An abrupt close: the will.
        doomed = Peer(f"py-doomed-{proto}", proto, will=(topic, b"doomed", 1))
        doomed.c.loop_stop()
        doomed.c.socket().shutdown(socket.SHUT_RDWR)
        doomed.c.socket().close()
        m = w.next()
        check(m.payload == b"doomed", f"will: got {m.payload!r}")
        w.close()


def t_v5_properties():
    s = Peer("py-props-s", mqtt.MQTTv5)
    p = Peer("py-props-p", mqtt.MQTTv5)
    sid = props(PacketTypes.SUBSCRIBE, SubscriptionIdentifier=77)
    s.subscribe("py/props/#", 1, sid)
    pp = props(
        PacketTypes.PUBLISH,
        UserProperty=[("a", "1"), ("b", "2")],
        ContentType="application/json",
        ResponseTopic="py/reply",
        CorrelationData=b"\x00\x01corr",
        PayloadFormatIndicator=1,
        MessageExpiryInterval=300,
    )
    p.publish("py/props/x", b"{}", 1, props=pp)
    m = s.next()
    mp = m.properties
    check(mp.UserProperty == [("a", "1"), ("b", "2")], f"user props {mp.UserProperty}")
    check(mp.ContentType == "application/json", "content type")
    check(mp.ResponseTopic == "py/reply", "response topic")
    check(mp.CorrelationData == b"\x00\x01corr", "correlation data")
    check(mp.PayloadFormatIndicator == 1, "payload format")
    check(0 < mp.MessageExpiryInterval <= 300, "expiry")
    check(mp.SubscriptionIdentifier == [77], f"subscription id {mp.SubscriptionIdentifier}")
    s.close()
    p.close()


def t_topic_alias_from_client():
    s = Peer("py-alias-s", mqtt.MQTTv5)
    p = Peer("py-alias-p", mqtt.MQTTv5)
    s.subscribe("py/alias/#", 1)
    p.publish("py/alias/long/topic", b"first", 1, props=props(PacketTypes.PUBLISH, TopicAlias=3))
    p.publish("", b"second", 1, props=props(PacketTypes.PUBLISH, TopicAlias=3))
    for want in (b"first", b"second"):
        m = s.next()
        check((m.topic, m.payload) == ("py/alias/long/topic", want), f"alias: {m.topic} {m.payload!r}")
    s.close()
    p.close()


def t_no_local_and_retain_handling():
    c = Peer("py-nl", mqtt.MQTTv5)
    other = Peer("py-nl-other", mqtt.MQTTv5)
    c.subscribe("py/nl", SubscribeOptions(qos=1, noLocal=True))
    c.publish("py/nl", b"mine", 1)
    other.publish("py/nl", b"theirs", 1)
    m = c.next()
    check(m.payload == b"theirs", f"no-local delivered own message {m.payload!r}")
    # Retain handling 2: no retained messages at subscribe time.
    other.publish("py/rh", b"kept", 1, retain=True)
    c.subscribe("py/rh", SubscribeOptions(qos=1, retainHandling=2))
    marker_first(c, "py/rh", other)
    # Retain handling 1: only for a new subscription.
    c.subscribe("py/rh1", SubscribeOptions(qos=1, retainHandling=1))
    other.publish("py/rh1", b"kept1", 1, retain=True)
    check(c.next().payload == b"kept1", "live retained")
    c.subscribe("py/rh1", SubscribeOptions(qos=1, retainHandling=1))
    marker_first(c, "py/rh1", other)
    # Retain as published keeps the flag on live delivery.
    c.subscribe("py/rap", SubscribeOptions(qos=1, retainAsPublished=True))
    other.publish("py/rap", b"flagged", 1, retain=True)
    m = c.next()
    check((m.payload, m.retain) == (b"flagged", True), f"retain-as-published {m.retain}")
    c.close()
    other.close()


def t_persistent_session():
    s = Peer("py-persist", mqtt.MQTTv311, clean=False)
    s.subscribe("py/persist", 1)
    s.close()
    p = Peer("py-persist-p", mqtt.MQTTv311)
    for i in range(10):
        p.publish("py/persist", f"q{i}".encode(), 1)
    s = Peer("py-persist", mqtt.MQTTv311, clean=False)
    flags = s.connack[0]
    present = flags.session_present if V2 else flags.get("session present")
    check(present in (1, True), f"session present {flags}")
    got = [s.next().payload for _ in range(10)]
    check(got == [f"q{i}".encode() for i in range(10)], f"queued {got}")
    s.close()
    p.close()


TESTS = [
    t_connect_versions,
    t_qos_order,
    t_retained,
    t_will,
    t_v5_properties,
    t_topic_alias_from_client,
    t_no_local_and_retain_handling,
    t_persistent_session,
]

if __name__ == "__main__":
    print(f"paho-mqtt {paho.mqtt.__version__}", flush=True)
    start = time.monotonic()
    for t in TESTS:
        t()
        print(f"ok {t.__name__}", flush=True)
    print(f"ALL OK in {time.monotonic() - start:.2f}s", flush=True)
