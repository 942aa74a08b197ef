#!/usr/bin/env python3
"""Writes the seed corpus under fuzz/corpus/<target>/ from valid MQTT packets
and small mosquitto-style files. Run it from anywhere; it replaces only the
seed files it names (seed-*), never what the fuzzers added."""
import base64
import hashlib
import os
import struct

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def varint(n):
    out = bytearray()
    while True:
        b = n % 128
        n //= 128
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def s(text):
    b = text.encode() if isinstance(text, str) else text
    return struct.pack(">H", len(b)) + b


def pkt(first, body):
    return bytes([first]) + varint(len(body)) + body


def props(raw=b""):
    return varint(len(raw)) + raw


def connect(level, cid, v5=False, will=False, user=None, pw=None, keep=60):
    name = s("MQIsdp") if level == 3 else s("MQTT")
    flags = 0x02
    payload = s(cid)
    if will:
        flags |= 0x04 | 0x08 | 0x20  # will, QoS 1, retain
        if v5:
            payload += props(b"\x18\x00\x00\x00\x05")  # will delay interval
        payload += s("will/t") + s("gone")
    if user is not None:
        flags |= 0x80
        payload += s(user)
    if pw is not None:
        flags |= 0x40
        payload += s(pw)
    body = name + bytes([level, flags]) + struct.pack(">H", keep)
    if v5:
        # session expiry 300, receive maximum 10, topic alias maximum 5
        body += props(b"\x11\x00\x00\x01\x2c" + b"\x21\x00\x0a" + b"\x22\x00\x05")
    return pkt(0x10, body + payload)


def publish(topic, payload, qos=0, pid=1, v5=False, retain=False, dup=False, p=b""):
    first = 0x30 | (qos << 1) | (1 if retain else 0) | (0x08 if dup else 0)
    body = s(topic)
    if qos:
        body += struct.pack(">H", pid)
    if v5:
        body += props(p)
    return pkt(first, body + payload)


def resp(kind, pid, v5=False, reason=0):
    first = {"puback": 0x40, "pubrec": 0x50, "pubrel": 0x62, "pubcomp": 0x70}[kind]
    body = struct.pack(">H", pid)
    if v5:
        body += bytes([reason]) + props()
    return pkt(first, body)


def subscribe(pid, filters, v5=False):
    body = struct.pack(">H", pid) + (props(b"\x0b\x07") if v5 else b"")
    for f, opts in filters:
        body += s(f) + bytes([opts])
    return pkt(0x82, body)


def unsubscribe(pid, filters, v5=False):
    body = struct.pack(">H", pid) + (props() if v5 else b"")
    for f in filters:
        body += s(f)
    return pkt(0xA2, body)


PING, PONG = pkt(0xC0, b""), pkt(0xD0, b"")


def codec_seeds():
    v3 = [
        connect(3, "c31", will=True, user="u", pw="p"),
        connect(4, "c311", will=True, user="u", pw="p"),
        connect(4, ""),
        pkt(0x20, b"\x00\x00"),
        pkt(0x20, b"\x01\x05"),
        publish("a/b", b"hello"),
        publish("a/b", b"x" * 40, qos=1, pid=7, retain=True),
        publish("a/b", b"", qos=2, pid=9, dup=True),
        resp("puback", 7), resp("pubrec", 9), resp("pubrel", 9), resp("pubcomp", 9),
        subscribe(1, [("a/#", 1), ("+/b", 2)]),
        pkt(0x90, b"\x00\x01\x01\x80"),
        unsubscribe(2, ["a/#", "+/b"]),
        pkt(0xB0, b"\x00\x02"),
        PING, PONG, pkt(0xE0, b""),
    ]
    v5 = [
        connect(5, "c5", v5=True, will=True, user="u", pw="p"),
        pkt(0x20, b"\x01\x00" + props(b"\x21\x00\x14\x24\x01\x25\x00")),
        publish("a/b", b"hi", qos=1, pid=3, v5=True,
                p=b"\x01\x01\x02\x00\x00\x00\x3c\x23\x00\x01\x08" + s("re/ply")
                + b"\x26" + s("k") + s("v") + b"\x0b\x05"),
        publish("", b"aliased", v5=True, p=b"\x23\x00\x01"),
        resp("puback", 3, v5=True, reason=0x10), resp("pubrec", 4, v5=True),
        resp("pubrel", 4, v5=True, reason=0x92), resp("pubcomp", 4, v5=True),
        pkt(0x40, b"\x00\x05"),
        subscribe(5, [("$share/g/a/#", 0x2D), ("x", 0)], v5=True),
        pkt(0x90, b"\x00\x05" + props(b"\x1f" + s("why")) + b"\x02\x87"),
        unsubscribe(6, ["x"], v5=True),
        pkt(0xB0, b"\x00\x06" + props() + b"\x00\x11"),
        pkt(0xE0, b"\x04" + props(b"\x11\x00\x00\x00\x00")),
        pkt(0xF0, b"\x18" + props(b"\x15" + s("SCRAM") + b"\x16" + s(b"\x01\x02"))),
        PING,
    ]
    seeds = {}
    for ver, packets in ((0, v3), (1, v3), (2, v5)):
        for i, p in enumerate(packets):
            seeds[f"v{ver}-{i:02}"] = bytes([ver]) + p
    seeds["v1-stream"] = bytes([1]) + b"".join(v3[1:6])
    seeds["v2-stream"] = bytes([2]) + b"".join(v5)
    return seeds


def broker_seeds():
    def feed(slot, data):
        out = b""
        while data:  # ops carry at most 255 bytes each
            out += bytes([slot, min(len(data), 255)]) + data[:255]
            data = data[255:]
        return out

    close, reopen, tick = 48 << 2, 54 << 2, 63 << 2
    v3 = feed(0, connect(4, "sub")) + feed(0, subscribe(1, [("a/#", 2)]))
    v3 += feed(1, connect(4, "pub", will=True)) + feed(1, publish("a/b", b"m1", qos=1, pid=1))
    v3 += feed(1, publish("a/c", b"m2", qos=2, pid=2) + resp("pubrel", 2))
    v3 += feed(0, resp("puback", 1) + resp("pubrec", 2)) + feed(0, resp("pubcomp", 2))
    v3 += bytes([close | 1]) + bytes([tick]) + feed(0, PING + unsubscribe(3, ["a/#"]))
    v5 = feed(2, connect(5, "s5", v5=True)) + feed(2, subscribe(1, [("t/+", 0x06)], v5=True))
    v5 += feed(3, connect(5, "p5", v5=True, will=True))
    v5 += feed(3, publish("t/x", b"r", qos=1, pid=1, v5=True, retain=True, p=b"\x23\x00\x01"))
    v5 += feed(3, publish("", b"again", qos=0, v5=True, p=b"\x23\x00\x01"))
    v5 += feed(2, resp("puback", 1, v5=True)) + bytes([reopen | 3])
    v5 += feed(3, connect(5, "p5", v5=True)) + bytes([tick])
    v5 += feed(2, pkt(0xE0, b"\x04" + props()))
    mixed = feed(0, connect(3, "old", user="u", pw="p")) + feed(1, connect(5, "new", v5=True))
    mixed += feed(0, subscribe(1, [("#", 1)])) + feed(1, subscribe(1, [("$share/g/#", 1)], v5=True))
    mixed += feed(2, connect(4, "x")) + feed(2, publish("q", b"z" * 300, qos=1, pid=4))
    mixed += feed(2, connect(4, "x"))  # a second CONNECT is a protocol error
    for _ in range(4):
        mixed += feed(3, connect(4, "x", keep=1)) + bytes([tick | 3])
    return {
        "v311-qos": bytes([0]) + v3,
        "v311-qos-small": bytes([1]) + v3,
        "v5-alias-will": bytes([0]) + v5,
        "mixed": bytes([1]) + mixed,
        "split": bytes([0]) + b"".join(feed(0, bytes([b])) for b in connect(4, "slow"))
        + feed(0, PING),
    }


CONFS = {
    "listeners": "per_listener_settings true\nlistener 0 127.0.0.1\nallow_anonymous true\n"
    "max_connections 10\n\nlistener 0\npassword_file /nonexistent/pw\nacl_file /nonexistent/acl\n",
    "limits": "# limits\nport 0\nallow_anonymous false\nmax_packet_size 2048\n"
    "message_size_limit 1000\nmax_inflight_messages 5\nmax_inflight_bytes 100000\n"
    "max_queued_messages 100\nmax_queued_bytes 0\nmax_keepalive 120\n"
    "persistent_client_expiration 2h\nretain_available false\nsys_interval 10\n",
    "logging": "log_dest stderr\nlog_dest file /nonexistent/log\nlog_type error\nlog_type all\n"
    "log_timestamp true\nlog_timestamp_format %Y-%m-%dT%H:%M:%S\nconnection_messages false\n",
    "misc": "bind_address 127.0.0.1\npid_file /nonexistent/pid\nmetrics_listener 127.0.0.1:0\n"
    "persistence true\nuser mosquitto\n",
    "empty": "\n\n# nothing\n",
}


def passwd_line(user, kind):
    salt = b"0123456789abcdef"
    if kind == 6:
        h = hashlib.sha512(b"secret" + salt).digest()
        return f"{user}:$6${base64.b64encode(salt).decode()}${base64.b64encode(h).decode()}"
    h = hashlib.pbkdf2_hmac("sha512", b"secret", salt, 101)
    return f"{user}:$7$101${base64.b64encode(salt).decode()}${base64.b64encode(h).decode()}"


PASSWDS = {
    "both": passwd_line("alice", 7) + "\n" + passwd_line("bob", 6) + "\n",
    "comment": "# users\n\n" + passwd_line("carol", 7) + "\r\n",
    "plain": "dave:notahash\n",
}

ACLS = {
    "users": "topic read $SYS/#\n\nuser alice\ntopic readwrite a/#\ntopic deny a/secret\n"
    "\nuser bob\ntopic write b/+/c\n",
    "patterns": "# per client\npattern readwrite c/%c/#\npattern read u/%u/+\npattern deny x\n",
    "anon": "topic #\ntopic read +/status\r\n",
}


def write(target, seeds):
    d = os.path.join(ROOT, target)
    os.makedirs(d, exist_ok=True)
    for name, data in seeds.items():
        if isinstance(data, str):
            data = data.encode()
        with open(os.path.join(d, f"seed-{name}"), "wb") as f:
            f.write(data)


write("codec", codec_seeds())
write("broker", broker_seeds())
write("conf", CONFS)
write("passwd", PASSWDS)
write("acl", ACLS)
