"""ferromq.publish.single/multiple and ferromq.subscribe.simple/callback, paho-style."""

from __future__ import annotations

import threading

import pytest

import ferromq
import ferromq.publish as publish
import ferromq.subscribe as subscribe
from conftest import TIMEOUT, Recorder, make_broker, need_client
from helpers import connect, disconnect, messages, recording_client
from helpers import subscribe as sub_and_wait


def test_single_and_multiple_deliver_with_their_qos_and_retain(broker, rec):
    need_client()
    c = recording_client(rec, client_id="watch")
    connect(c, rec, broker.port)
    sub_and_wait(c, rec, "h/#", 2)
    publish.single("h/one", "1", qos=2, retain=True, hostname="127.0.0.1", port=broker.port)
    publish.multiple(
        [("h/two", "2", 1), {"topic": "h/three", "payload": b"3"}, ("h/four",)],
        hostname="127.0.0.1", port=broker.port, protocol=ferromq.MQTTv5)
    rec.wait("on_message", 4)
    assert [(m.topic, m.payload, m.qos) for m in messages(rec)] == [
        ("h/one", b"1", 2), ("h/two", b"2", 1), ("h/three", b"3", 0), ("h/four", b"", 0)]
    disconnect(c, rec)


def test_single_with_auth_and_will_reaches_the_broker():
    need_client()
    b = make_broker()
    seen: list[ferromq.BrokerClient] = []
    b.on_client_connect = lambda cl: seen.append(cl) or cl.password == b"pw"
    with b:
        publish.single("t", "x", hostname="127.0.0.1", port=b.port, client_id="helper",
                       auth={"username": "u", "password": "pw"},
                       will={"topic": "w", "payload": "bye"})
        with pytest.raises(RuntimeError):
            publish.single("t", "x", qos=1, hostname="127.0.0.1", port=b.port,
                           auth={"username": "u", "password": "wrong"})
    assert (seen[0].client_id, seen[0].username) == ("helper", "u")


def test_simple_returns_messages_and_callback_runs_until_disconnect(monkeypatch):
    need_client()
    subscribed = threading.Event()

    class SignallingClient(ferromq.Client):
        """Tells the test when the helper's subscription is acknowledged."""

        def __init__(self, *a, **kw):
            super().__init__(*a, **kw)
            self.on_subscribe = lambda *args: subscribed.set()

    monkeypatch.setattr(subscribe, "Client", SignallingClient)
    b = make_broker()
    with b:
        publish.single("s/old", "retained", qos=1, retain=True, hostname="127.0.0.1", port=b.port)
        m = subscribe.simple("s/old", hostname="127.0.0.1", port=b.port)
        assert (m.topic, m.payload, m.retain) == ("s/old", b"retained", True)

        result: list[object] = []
        subscribed.clear()
        t = threading.Thread(target=lambda: result.append(subscribe.simple(
            "s/#", qos=1, msg_count=2, retained=False, hostname="127.0.0.1", port=b.port)))
        t.start()
        assert subscribed.wait(TIMEOUT)
        publish.multiple([("s/a", "1", 1), ("s/b", "2", 1)], hostname="127.0.0.1", port=b.port)
        t.join(TIMEOUT)
        assert not t.is_alive()
        assert [x.payload for x in result[0]] == [b"1", b"2"]  # type: ignore[attr-defined]

        got = Recorder()

        def on_msg(client, userdata, msg):
            got.add("msg", userdata, msg.payload)
            client.disconnect()

        subscribed.clear()
        t = threading.Thread(target=subscribe.callback, args=(on_msg, "cb"),
                             kwargs={"hostname": "127.0.0.1", "port": b.port, "userdata": "ud"})
        t.start()
        assert subscribed.wait(TIMEOUT)
        publish.single("cb", "ping", hostname="127.0.0.1", port=b.port)
        t.join(TIMEOUT)
        assert not t.is_alive()
        assert got.of("msg") == [("msg", "ud", b"ping")]
