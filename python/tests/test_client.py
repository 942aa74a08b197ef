"""ferromq.Client against ferromq.Broker: callbacks in both API versions, QoS 0/1/2,
subscribe forms, the message-info object, loops, wills, refusals and MQTT 5 extras."""

from __future__ import annotations

import gc
import logging
import os
import subprocess
import sys
import threading
import weakref

import pytest

import ferromq
from conftest import Recorder, client_env, free_port, make_broker
from helpers import (FLAVOUR_IDS, FLAVOURS, V2, connect, disconnect, messages,
                     rc_of, recording_client, subscribe)


@pytest.mark.parametrize("protocol,api", FLAVOURS, ids=FLAVOUR_IDS)
def test_callback_signatures_follow_the_api_version(broker, rec, protocol, api):
    c = recording_client(rec, protocol, api, "sig")
    connect(c, rec, broker.port)
    ev = rec.of("on_connect")[0]
    assert ev[1] is c and ev[2] is None
    v5 = protocol == ferromq.MQTTv5
    if api is V2:
        assert len(ev) == 6
        assert isinstance(ev[3], ferromq.enums.ConnectFlags) and ev[3].session_present is False
        assert isinstance(ev[4], ferromq.ReasonCode) and ev[4] == 0 and not ev[4].is_failure
        assert isinstance(ev[5], ferromq.Properties)
    elif v5:
        assert len(ev) == 6 and ev[3] == {"session present": 0}
        assert isinstance(ev[4], ferromq.ReasonCode) and ev[4] == 0
    else:
        assert ev[3:] == ({"session present": 0}, 0)

    sub = subscribe(c, rec, "sig/#", 1)
    if api is V2 or v5:
        assert [int(r) for r in sub[4]] == [1]
    else:
        assert sub[4] == (1,)

    info = c.publish("sig/x", "p", qos=1)
    info.wait_for_publish(10)
    rec.wait("on_message")
    pub = rec.wait_for(lambda ev: any(e[0] == "on_publish" and e[3] == info.mid for e in ev))
    pub = [e for e in rec.of("on_publish") if e[3] == info.mid][0]
    if api is V2:
        assert len(pub) == 6 and pub[4] == 0 and isinstance(pub[5], ferromq.Properties)
    else:
        assert len(pub) == 4

    rc, mid = c.unsubscribe("sig/#")
    assert rc == 0
    rec.wait("on_unsubscribe")
    un = rec.of("on_unsubscribe")[0]
    assert un[3] == mid
    if api is V2:
        assert [int(r) for r in un[4]] == [0] and isinstance(un[5], ferromq.Properties)
    elif v5:
        assert isinstance(un[4], ferromq.Properties) and un[5] == 0
    else:
        assert len(un) == 4

    disconnect(c, rec)
    d = rec.of("on_disconnect")[0]
    if api is V2:
        assert d[3].is_disconnect_packet_from_server is False and d[4] == 0
    elif v5:
        assert d[3] == 0 and isinstance(d[4], ferromq.Properties)
    else:
        assert d[3:] == (0,)


@pytest.mark.parametrize("protocol", [ferromq.MQTTv31, ferromq.MQTTv311, ferromq.MQTTv5])
def test_qos_0_1_2_round_trip(broker, rec, protocol):
    c = recording_client(rec, protocol, V2, "qos")
    connect(c, rec, broker.port)
    subscribe(c, rec, "q/#", 2)
    infos = [c.publish(f"q/{q}", f"payload {q}".encode(), qos=q) for q in (0, 1, 2)]
    assert [i.rc for i in infos] == [0, 0, 0]
    assert len({i.mid for i in infos}) == 3
    for i in infos:
        i.wait_for_publish(10)
        assert i.is_published()
    rec.wait("on_message", 3)
    got = sorted(messages(rec), key=lambda m: m.topic)
    assert [(m.topic, m.payload, m.qos, m.retain) for m in got] == [
        ("q/0", b"payload 0", 0, False),
        ("q/1", b"payload 1", 1, False),
        ("q/2", b"payload 2", 2, False),
    ]
    rec.wait("on_publish", 3)
    assert sorted(e[3] for e in rec.of("on_publish")) == sorted(i.mid for i in infos)
    disconnect(c, rec)


def test_subscribe_accepts_str_tuple_and_list(broker, rec):
    c = recording_client(rec, client_id="forms")
    connect(c, rec, broker.port)
    assert subscribe(c, rec, "a", 0)[4] == (0,)
    assert subscribe(c, rec, ("b", 1))[4] == (1,)
    assert subscribe(c, rec, [("c", 2), ("d", 0), ("e", 1)])[4] == (2, 0, 1)
    with pytest.raises(ValueError):
        c.subscribe([])
    with pytest.raises(ValueError):
        c.subscribe("x", 3)
    for t in "abcde":
        c.publish(t, t, 1)
    rec.wait("on_message", 5)
    assert sorted(m.topic for m in messages(rec)) == list("abcde")
    disconnect(c, rec)


def test_unsubscribe_stops_delivery(broker, rec):
    c = recording_client(rec, client_id="unsub")
    connect(c, rec, broker.port)
    subscribe(c, rec, [("gone", 1), ("kept", 1)])
    rc, mid = c.unsubscribe(["gone"])
    assert rc == 0
    rec.wait("on_unsubscribe")
    c.publish("gone", "no", 1)
    c.publish("kept", "yes", 1)
    rec.wait_for(lambda ev: any(e[0] == "on_message" and e[3].topic == "kept" for e in ev))
    # Messages from one publisher arrive in order, so "gone" would have come first.
    assert [m.topic for m in messages(rec)] == ["kept"]
    disconnect(c, rec)


def test_message_info_object(broker, rec):
    c = recording_client(rec, client_id="info")
    idle = c.publish("t", "before connect")
    assert idle.rc == ferromq.MQTT_ERR_NO_CONN and not idle.is_published()
    with pytest.raises(RuntimeError):
        idle.wait_for_publish(0.1)
    connect(c, rec, broker.port)
    info = c.publish("t", b"x", qos=2)
    rc, mid = info
    assert (rc, mid) == (info.rc, info.mid) == (0, info[1])
    info.wait_for_publish(10)
    assert info.is_published()
    assert c.publish("t", "y", qos=1).mid == info.mid + 1
    with pytest.raises(ValueError):
        c.publish("bad/#", "x")
    with pytest.raises(ValueError):
        c.publish("t", "x", qos=5)
    with pytest.raises(TypeError):
        c.publish("t", object())  # type: ignore[arg-type]
    disconnect(c, rec)
    after = c.publish("t", "after")
    assert after.rc == ferromq.MQTT_ERR_NO_CONN


def test_payload_types(broker, rec):
    c = recording_client(rec, client_id="payloads")
    connect(c, rec, broker.port)
    subscribe(c, rec, "p/#", 1)
    for i, p in enumerate(["text", b"\x00\xff", bytearray(b"ba"), 42, 1.5, None]):
        c.publish(f"p/{i}", p, 1)
    rec.wait("on_message", 6)
    got = {m.topic: m.payload for m in messages(rec)}
    assert got == {"p/0": b"text", "p/1": b"\x00\xff", "p/2": b"ba", "p/3": b"42",
                   "p/4": b"1.5", "p/5": b""}
    disconnect(c, rec)


def test_retained_and_message_callback_add(broker, rec):
    c = recording_client(rec, client_id="filters")
    connect(c, rec, broker.port)
    c.publish("r/keep", "kept", 1, retain=True).wait_for_publish(10)
    special: list[ferromq.MQTTMessage] = []
    got_special = threading.Event()

    def on_special(client, userdata, msg):
        special.append(msg)
        got_special.set()

    c.message_callback_add("r/special/+", on_special)
    subscribe(c, rec, "r/#", 1)
    rec.wait("on_message")
    assert messages(rec)[0].retain and messages(rec)[0].payload == b"kept"
    c.publish("r/special/1", "s", 1)
    c.publish("r/plain", "p", 1)
    rec.wait_for(lambda ev: any(e[0] == "on_message" and e[3].topic == "r/plain" for e in ev))
    assert got_special.wait(10)
    assert [m.topic for m in special] == ["r/special/1"]
    assert "r/special/1" not in [m.topic for m in messages(rec)]
    c.message_callback_remove("r/special/+")
    c.publish("r/special/2", "s", 1)
    rec.wait_for(lambda ev: any(e[0] == "on_message" and e[3].topic == "r/special/2" for e in ev))
    disconnect(c, rec)


def test_exception_in_callback_is_logged_not_fatal(broker, rec, caplog):
    c = recording_client(rec, client_id="boom")
    seen: list[bytes] = []

    def on_message(client, userdata, msg):
        seen.append(msg.payload)
        if msg.payload == b"boom":
            raise RuntimeError("user bug")
        rec.add("ok", msg.payload)

    c.on_message = on_message
    c.on_log = rec.cb("on_log")
    connect(c, rec, broker.port)
    subscribe(c, rec, "e", 1)
    with caplog.at_level(logging.ERROR, logger="ferromq"):
        c.publish("e", "boom", 1)
        c.publish("e", "after", 1)
        rec.wait("ok")
    assert seen == [b"boom", b"after"]
    assert any("on_message" in r.getMessage() and r.exc_info for r in caplog.records)
    assert any(e[3] == ferromq.MQTT_LOG_ERR and "on_message" in e[4] for e in rec.of("on_log"))
    assert c.is_connected()
    disconnect(c, rec)


def test_callbacks_may_call_the_api(broker, rec):
    """An echo from on_message and a disconnect from inside a callback do not deadlock."""
    c = recording_client(rec, client_id="echo")

    def on_message(client, userdata, msg):
        rec.add("msg", msg.topic)
        if msg.topic == "ping":
            client.publish("pong", msg.payload, 1)
        else:
            client.disconnect()

    c.on_message = on_message
    connect(c, rec, broker.port)
    subscribe(c, rec, [("ping", 1), ("pong", 1)])
    c.publish("ping", "x", 1)
    assert c.loop_forever() == ferromq.MQTT_ERR_SUCCESS
    assert [e[1] for e in rec.of("msg")] == ["ping", "pong"]
    assert not c.is_connected()


def test_userdata_and_credentials_reach_callbacks_and_broker(rec):
    b = make_broker()
    seen: list[ferromq.BrokerClient] = []
    b.on_client_connect = lambda cl: seen.append(cl) or cl.password == b"s3cret"
    with b:
        c = recording_client(rec, client_id="creds", userdata={"k": 1})
        c.username_pw_set("alice", "s3cret")
        connect(c, rec, b.port)
        assert rec.of("on_connect")[0][2] == {"k": 1} and rc_of(rec.of("on_connect")[0]) == 0
        c.user_data_set("other")
        assert c.user_data_get() == "other"
        disconnect(c, rec)
        assert rec.of("on_disconnect")[0][2] == "other"
        assert (seen[0].client_id, seen[0].username) == ("creds", "alice")
        wrong = recording_client(rec, client_id="wrong")
        wrong.username_pw_set("alice", b"nope")
        wrong.connect("127.0.0.1", b.port)
        rec.wait("on_connect", 2)
        assert rc_of(rec.of("on_connect")[1]) == ferromq.CONNACK_REFUSED_NOT_AUTHORIZED


@pytest.mark.parametrize("protocol,api", FLAVOURS, ids=FLAVOUR_IDS)
def test_refused_connect_is_reported_to_on_connect(rec, protocol, api):
    b = make_broker()
    b.on_client_connect = lambda cl: False
    with b:
        c = recording_client(rec, protocol, api, "refused")
        assert c.connect("127.0.0.1", b.port) == ferromq.MQTT_ERR_SUCCESS
        rec.wait("on_connect")
        code = rc_of(rec.of("on_connect")[0])
        if protocol == ferromq.MQTTv5:
            assert code == 0x87
        elif api is V2:
            assert code == 135  # paho 2.x reports MQTT 3 refusals as MQTT 5 codes
        else:
            assert code == ferromq.CONNACK_REFUSED_NOT_AUTHORIZED
        assert not c.is_connected()
        assert c.loop_forever() == ferromq.MQTT_ERR_CONN_REFUSED
        assert not rec.of("on_disconnect")


def test_connect_to_a_closed_port_raises(rec):
    c = recording_client(rec, client_id="nobody")
    c.connect_timeout = 3
    with pytest.raises(OSError):
        c.connect("127.0.0.1", free_port())
    assert not c.is_connected()
    assert len(rec.of("on_connect_fail")) == 1 and not rec.of("on_connect")


@pytest.mark.parametrize("protocol", [ferromq.MQTTv311, ferromq.MQTTv5])
def test_refused_subscription(rec, protocol):
    b = make_broker()
    b.on_client_subscribe = lambda cl, topic: not topic.startswith("secret")
    with b:
        c = recording_client(rec, protocol, V2, "subref")
        connect(c, rec, b.port)
        ev = subscribe(c, rec, [("open", 1), ("secret/#", 1)])
        codes = ev[4]
        assert int(codes[0]) == 1 and codes[1].is_failure
        disconnect(c, rec)


def test_refused_publish_reaches_on_publish_with_its_reason_code(rec):
    b = make_broker()
    b.on_client_publish = lambda cl, topic, msg: 0x87 if topic == "deny" else True
    with b:
        c = recording_client(rec, ferromq.MQTTv5, V2, "pubref")
        connect(c, rec, b.port)
        subscribe(c, rec, "#", 1)
        denied = c.publish("deny", "x", 1)
        allowed = c.publish("allow", "y", 1)
        denied.wait_for_publish(10)
        allowed.wait_for_publish(10)
        rec.wait("on_publish", 2)
        codes = {e[3]: int(e[4]) for e in rec.of("on_publish")}
        assert codes == {denied.mid: 0x87, allowed.mid: 0}
        rec.wait("on_message")
        assert [m.topic for m in messages(rec)] == ["allow"]
        disconnect(c, rec)


_DOOMED = """
import sys, threading, ferromq
c = ferromq.Client("doomed")
c.will_set("wills/doomed", "gone", 1)
c.connect("127.0.0.1", int(sys.argv[1]))
print("connected", flush=True)
threading.Event().wait()
"""


def test_will_is_published_when_the_client_vanishes(broker, rec):
    watcher = recording_client(rec, client_id="watcher")
    connect(watcher, rec, broker.port)
    subscribe(watcher, rec, "wills/#", 1)
    proc = subprocess.Popen([sys.executable, "-c", _DOOMED, str(broker.port)], env=client_env(),
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "connected"
    finally:
        proc.kill()  # no DISCONNECT: the broker must publish the will
        proc.wait()
        if proc.stdout:
            proc.stdout.close()
    rec.wait("on_message")
    m = messages(rec)[0]
    assert (m.topic, m.payload, m.qos) == ("wills/doomed", b"gone", 1)
    disconnect(watcher, rec)


@pytest.mark.parametrize("protocol", [ferromq.MQTTv311, ferromq.MQTTv5])
def test_unexpected_disconnect_and_automatic_reconnect(rec, protocol):
    port = free_port()
    b = make_broker(port=port)
    b.start()
    try:
        c = recording_client(rec, protocol, client_id="again")
        c.reconnect_delay_set(1, 1)
        connect(c, rec, port)
        b.stop()
        rec.wait("on_disconnect")
        if protocol == ferromq.MQTTv5:
            assert rec.of("on_disconnect")[0][3] == 0x8B  # server shutting down
        else:
            assert rec.of("on_disconnect")[0][3] == ferromq.MQTT_ERR_CONN_LOST
        b.start()
        rec.wait("on_connect", 2)
        assert c.is_connected()
        disconnect(c, rec)
    finally:
        b.close()


def test_loop_start_with_connect_async_and_publish_loop(broker, rec):
    got = Recorder()
    sub = recording_client(got, client_id="listener")
    connect(sub, got, broker.port)
    subscribe(sub, got, "loop/#", 1)
    c = recording_client(rec, client_id="looper")
    c.connect_async("127.0.0.1", broker.port)
    assert c.loop_start() == ferromq.MQTT_ERR_SUCCESS
    assert c.loop_start() == ferromq.MQTT_ERR_INVAL
    rec.wait("on_connect")
    infos = [c.publish("loop/n", str(i), 1) for i in range(20)]
    for i in infos:
        i.wait_for_publish(10)
    got.wait("on_message", 20)
    assert [m.payload for m in messages(got)] == [str(i).encode() for i in range(20)]
    disconnect(c, rec)
    assert c.loop_stop() == ferromq.MQTT_ERR_SUCCESS
    disconnect(sub, got)


@pytest.mark.parametrize("qos", [1, 2])
@pytest.mark.parametrize("protocol", [ferromq.MQTTv311, ferromq.MQTTv5])
def test_messages_beyond_max_inflight_are_queued_in_order(broker, rec, protocol, qos):
    got = Recorder()
    sub = recording_client(got, client_id="inflight-sub")
    connect(sub, got, broker.port)
    subscribe(sub, got, "win", 2)
    c = recording_client(rec, protocol, V2, "inflight")
    c.max_inflight_messages_set(2)
    connect(c, rec, broker.port)
    infos = [c.publish("win", str(i), qos=qos) for i in range(30)]
    assert [i.rc for i in infos] == [0] * 30
    for i in infos:
        i.wait_for_publish(10)
        assert i.is_published()
    got.wait("on_message", 30)
    assert [m.payload for m in messages(got)] == [str(i).encode() for i in range(30)]
    disconnect(c, rec)
    disconnect(sub, got)


def test_manual_loop_calls(broker, rec):
    c = recording_client(rec, client_id="manual")
    c.connect_async("127.0.0.1", broker.port)
    assert c.loop(5) == ferromq.MQTT_ERR_SUCCESS  # connects
    rec.wait("on_connect")
    subscribe(c, rec, "m", 0)
    c.publish("m", "x")
    while not rec.of("on_message"):
        assert c.loop(5) == ferromq.MQTT_ERR_SUCCESS
    disconnect(c, rec)
    assert c.loop(0.01) == ferromq.MQTT_ERR_NO_CONN


def _native_threads() -> int:
    return len(os.listdir("/proc/self/task"))


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_connect_disconnect_cycles_do_not_leak(broker, rec):
    def cycle(i: int) -> None:
        r = Recorder()
        c = recording_client(r, client_id=f"cycle{i}")
        connect(c, r, broker.port)
        c.publish("cycle", "x", 1).wait_for_publish(10)
        disconnect(c, r)
        connect(c, r, broker.port)  # a client may connect again
        disconnect(c, r)
        ref = weakref.ref(c)
        del c, r  # the recorder's events hold the client too
        gc.collect()
        assert ref() is None, "a disconnected client must be collectable"

    cycle(0)
    threads, fds = _native_threads(), _open_fds()
    for i in range(1, 10):
        cycle(i)
    gc.collect()
    assert _native_threads() <= threads + 1
    assert _open_fds() <= fds + 1


def test_mqtt5_properties_and_subscribe_options(broker, rec):
    c = recording_client(rec, ferromq.MQTTv5, V2, "props")
    connect(c, rec, broker.port)
    opts = ferromq.SubscribeOptions(qos=1, noLocal=True)
    rc, mid = c.subscribe([("own", opts), ("others", ferromq.SubscribeOptions(qos=1))])
    assert rc == 0
    rec.wait("on_subscribe")
    props = ferromq.Properties(ferromq.PacketTypes.PUBLISH)
    props.UserProperty = [("k", "v"), ("k2", "v2")]
    props.ResponseTopic = "reply/here"
    props.CorrelationData = b"\x01\x02"
    props.MessageExpiryInterval = 60
    c.publish("own", "not for me", 1)  # noLocal: not delivered back
    c.publish("others", "with props", 1, properties=props)
    rec.wait("on_message")
    m = messages(rec)[0]
    assert m.topic == "others"
    p = m.properties
    assert p.UserProperty == [("k", "v"), ("k2", "v2")]
    assert p.ResponseTopic == "reply/here" and p.CorrelationData == b"\x01\x02"
    assert 0 < p.MessageExpiryInterval <= 60
    with pytest.raises(AttributeError):
        props.NoSuchProperty = 1
    disconnect(c, rec)


def test_mqtt3_rejects_mqtt5_only_arguments(rec):
    c = recording_client(rec, client_id="v3only")
    with pytest.raises(ValueError):
        c.publish("t", "x", properties=ferromq.Properties(ferromq.PacketTypes.PUBLISH))
    with pytest.raises(ValueError):
        ferromq.Client(client_id="", clean_session=False)
    with pytest.raises(ValueError):
        ferromq.Client(protocol=ferromq.MQTTv5, clean_session=True)
