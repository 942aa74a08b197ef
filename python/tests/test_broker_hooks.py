"""ferromq.Broker's version 1 hooks: the client record every hook gets, the
unsubscribe notice, the per-delivery check, disconnect_client(), and MQTT 5
enhanced authentication (one step with the ferromq client; several steps and
a re-authentication with a client speaking AUTH on a raw socket)."""

from __future__ import annotations

import socket
import struct
from typing import Optional

import pytest

import ferromq
from conftest import TIMEOUT, Recorder, make_broker
from helpers import V2, connect, disconnect, messages, recording_client, subscribe


def test_every_hook_gets_the_record_and_unsubscribes_are_told(rec):
    b = make_broker()
    events = Recorder()
    b.on_client_subscribe = lambda cl, topic: events.add("subscribe", cl, topic)
    b.on_client_unsubscribe = lambda cl, topic: events.add("unsubscribe", cl, topic)
    with b:
        c = recording_client(rec, ferromq.MQTTv5, V2, "rec-5")
        c.username_pw_set("ann")
        connect(c, rec, b.port)
        subscribe(c, rec, "a/#", 1)
        c.unsubscribe(["a/#", "never/held"])
        events.wait("unsubscribe", 2)
        disconnect(c, rec)
    for name, cl, _ in events.events:
        assert (cl.client_id, cl.username, cl.protocol, cl.bridge, cl.cert_subject) == (
            "rec-5", "ann", 5, False, None), name
        assert cl.address.startswith("127.0.0.1:")
    assert [e[2] for e in events.of("unsubscribe")] == ["a/#", "never/held"]


def test_the_delivery_check_skips_messages_per_subscriber(rec):
    b = make_broker()
    calls = Recorder()

    def may_read(cl, topic, msg):
        # The broker is busy routing: calling it from here is refused.
        try:
            b.publish("x", "y")
        except ferromq.BrokerError as e:
            calls.add("refused", e.code)
        calls.add("deliver", cl.client_id, topic, msg.payload)
        return not (cl.client_id == "reader" and topic.startswith("secret/"))

    b.on_client_deliver = may_read
    with b:
        other = Recorder()
        reader = recording_client(rec, client_id="reader")
        admin = recording_client(other, client_id="admin")
        for c, r in ((reader, rec), (admin, other)):
            connect(c, r, b.port)
            subscribe(c, r, "#", 1)
        b.publish("secret/1", "hush", 1)
        b.publish("open/1", "hello", 1)
        rec.wait("on_message")
        other.wait("on_message", 2)
        assert [m.topic for m in messages(rec)] == ["open/1"]
        assert [m.topic for m in messages(other)] == ["secret/1", "open/1"]
        assert b.stats()["delivery_denied"] == 1
        disconnect(reader, rec)
        disconnect(admin, other)
    assert {e[1] for e in calls.of("refused")} == {-31}
    assert len(calls.of("deliver")) == 4


def test_disconnect_client_ends_it_with_its_will(rec):
    b = make_broker()
    gone = Recorder()
    b.on_client_disconnect = lambda cl: gone.add("gone", cl.client_id, cl.reason)
    with b:
        watcher = recording_client(rec, client_id="watcher")
        connect(watcher, rec, b.port)
        subscribe(watcher, rec, "wills/#", 1)
        r5 = Recorder()
        kicked = recording_client(r5, ferromq.MQTTv5, V2, "kicked")
        kicked.will_set("wills/kicked", "bye", 1)
        connect(kicked, r5, b.port)
        b.disconnect_client("kicked", 0x98)
        r5.wait("on_disconnect")
        assert int(r5.of("on_disconnect")[0][4]) == 0x98  # the DISCONNECT's reason
        rec.wait("on_message")
        assert messages(rec)[0].payload == b"bye"
        gone.wait("gone")
        assert gone.of("gone") == [("gone", "kicked", 0x98)]
        with pytest.raises(ferromq.BrokerError) as e:
            b.disconnect_client("kicked")
        assert e.value.code == -29
        with pytest.raises(ferromq.BrokerError) as e:
            b.disconnect_client("watcher", 0x04)  # a client's code, not a server's
        assert e.value.code == -30
        kicked.loop_stop()
        disconnect(watcher, rec)


def auth_props(method: str, data: Optional[bytes]) -> ferromq.Properties:
    p = ferromq.Properties(ferromq.PacketTypes.CONNECT)
    p.AuthenticationMethod = method
    if data is not None:
        p.AuthenticationData = data
    return p


def test_one_step_authentication_with_the_client(rec):
    b = make_broker()
    seen = Recorder()

    def auth(cl, method, data, step):
        seen.add("auth", cl.client_id, method, data, step)
        if data == b"letmein":
            return (ferromq.AUTH_SUCCESS, b"welcome")
        return 0x87

    b.on_client_auth = auth
    with b:
        c = recording_client(rec, ferromq.MQTTv5, V2, "token-user")
        connect(c, rec, b.port, properties=auth_props("TOKEN", b"letmein"))
        ev = rec.of("on_connect")[0]
        assert int(ev[4]) == 0
        assert ev[5].AuthenticationMethod == "TOKEN"
        assert ev[5].AuthenticationData == b"welcome"
        disconnect(c, rec)
        bad = Recorder()
        d = recording_client(bad, ferromq.MQTTv5, V2, "intruder")
        d.connect("127.0.0.1", b.port, properties=auth_props("TOKEN", b"guess"))
        bad.wait("on_connect")
        assert int(bad.of("on_connect")[0][4]) == 0x87
        d.loop_stop()
    assert seen.of("auth") == [("auth", "token-user", "TOKEN", b"letmein", 0),
                               ("auth", "intruder", "TOKEN", b"guess", 0)]


def test_without_an_auth_hook_a_method_is_refused_with_0x8c(rec):
    with make_broker() as b:
        c = recording_client(rec, ferromq.MQTTv5, V2, "no-hook")
        c.connect("127.0.0.1", b.port, properties=auth_props("TOKEN", b"x"))
        rec.wait("on_connect")
        assert int(rec.of("on_connect")[0][4]) == 0x8C
        c.loop_stop()


# --- a minimal MQTT 5 client speaking AUTH on a raw socket --------------------

def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def utf8(s: str) -> bytes:
    return struct.pack("!H", len(s)) + s.encode()


def auth_properties(method: str, data: bytes) -> bytes:
    body = b"\x15" + utf8(method) + b"\x16" + struct.pack("!H", len(data)) + data
    return varint(len(body)) + body


def packet(first: int, body: bytes) -> bytes:
    return bytes([first]) + varint(len(body)) + body


def read_packet(s: socket.socket) -> tuple[int, bytes]:
    def exactly(n: int) -> bytes:
        buf = b""
        while len(buf) < n:
            chunk = s.recv(n - len(buf))
            assert chunk, "connection closed"
            buf += chunk
        return buf

    first = exactly(1)[0]
    length, shift = 0, 0
    while True:
        b = exactly(1)[0]
        length |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            break
    return first, exactly(length)


# Fixed-size CONNACK/AUTH property values by id; the others used here are
# length-prefixed (strings, binary data).
FIXED = {0x11: 4, 0x13: 2, 0x21: 2, 0x22: 2, 0x24: 1, 0x25: 1, 0x27: 4, 0x28: 1, 0x29: 1,
         0x2A: 1}


def auth_data_of(props: bytes) -> tuple[str, bytes]:
    """Method and data of a property block (after its length)."""
    method, data, i = "", b"", 0
    while i < len(props):
        pid = props[i]
        if pid in FIXED:
            i += 1 + FIXED[pid]
            continue
        assert pid != 0x26, "no user properties expected"
        n = struct.unpack("!H", props[i + 1:i + 3])[0]
        value = props[i + 3:i + 3 + n]
        if pid == 0x15:
            method = value.decode()
        elif pid == 0x16:
            data = value
        i += 3 + n
    return method, data


def test_several_authentication_steps_over_auth_packets():
    b = make_broker()
    steps = Recorder()

    def auth(cl, method, data, step):
        steps.add("auth", step, data)
        if step == 0 and data == b"again":  # the re-authentication
            return (ferromq.AUTH_SUCCESS, b"re-ok")
        if step == 0:
            return (ferromq.AUTH_CONTINUE, b"nonce-1")
        if step == 1 and data == b"proof-1":
            return (ferromq.AUTH_CONTINUE, b"nonce-2")
        if step == 2 and data == b"proof-2":
            return (ferromq.AUTH_SUCCESS, b"done")
        return False

    b.on_client_auth = auth
    with b, socket.create_connection(("127.0.0.1", b.port), timeout=TIMEOUT) as s:
        header = utf8("MQTT") + bytes([5, 0x02]) + struct.pack("!H", 30)
        s.sendall(packet(0x10, header + auth_properties("SCRAM", b"hello") + utf8("multi")))
        for i in (1, 2):
            kind, body = read_packet(s)
            assert kind == 0xF0 and body[0] == 0x18, (kind, body)
            assert auth_data_of(body[2:]) == ("SCRAM", f"nonce-{i}".encode())
            s.sendall(packet(0xF0, b"\x18" + auth_properties("SCRAM", f"proof-{i}".encode())))
        kind, body = read_packet(s)
        assert kind == 0x20 and body[1] == 0, body  # CONNACK, success
        assert auth_data_of(body[3:]) == ("SCRAM", b"done")
        # Re-authentication while connected: AUTH 0x19, answered AUTH 0x00.
        s.sendall(packet(0xF0, b"\x19" + auth_properties("SCRAM", b"again")))
        kind, body = read_packet(s)
        assert kind == 0xF0 and body[0] == 0x00, (kind, body)
        assert auth_data_of(body[2:]) == ("SCRAM", b"re-ok")
        s.sendall(packet(0xE0, b"\x00\x00"))  # DISCONNECT
    assert [(e[1], e[2]) for e in steps.of("auth")] == [
        (0, b"hello"), (1, b"proof-1"), (2, b"proof-2"), (0, b"again")]
