"""ferromq.Broker: lifecycle, ports, limits, errors, host-side publish, and every
callback with what it is told and how its answer is applied."""

from __future__ import annotations

import gc
import logging
import weakref

import pytest

import ferromq
from conftest import TIMEOUT, Recorder, free_port, make_broker
from helpers import V2, connect, disconnect, messages, recording_client, subscribe


def test_context_manager_port_and_restart():
    b = make_broker()
    with pytest.raises(ferromq.BrokerError):
        b.port  # not started yet
    with b:
        assert b.running and 0 < b.port < 65536
        with make_broker() as other:
            assert other.port != b.port
    assert not b.running
    with pytest.raises(ferromq.BrokerError):
        b.start()  # closed


def test_fixed_port_stop_and_start_again(rec):
    port = free_port()
    b = make_broker(port=port)
    try:
        b.start()
        assert b.port == port
        b.publish("kept", "retained over restarts", 1, retain=True)
        b.stop()
        assert not b.running
        b.stop()  # idempotent
        b.start()
        c = recording_client(rec, client_id="after-restart")
        connect(c, rec, port)
        subscribe(c, rec, "kept", 1)
        rec.wait("on_message")
        assert messages(rec)[0].payload == b"retained over restarts"
        disconnect(c, rec)
    finally:
        b.close()


def test_errors_name_their_cause():
    with pytest.raises(TypeError):
        ferromq.Broker(port=0, no_such_limit=1)
    with pytest.raises(ferromq.BrokerError) as e:
        make_broker(max_inflight=0)
    assert e.value.code == -26
    with make_broker() as b:
        clash = make_broker(port=b.port)
        with pytest.raises(ferromq.BrokerError) as e:
            clash.start()
        assert e.value.code == -23
        clash.close()
        with pytest.raises(ferromq.BrokerError):
            b.publish("bad/+", "x")
        with pytest.raises(ferromq.BrokerError):
            b.publish("t", "x", qos=3)
    stopped = make_broker()
    with pytest.raises(ferromq.BrokerError) as e:
        stopped.publish("t", "x")
    assert e.value.code == -22
    stopped.close()


def test_host_publish_reaches_mqtt3_and_mqtt5_subscribers(broker):
    recs = []
    clients = []
    for proto in (ferromq.MQTTv311, ferromq.MQTTv5):
        r = Recorder()
        c = recording_client(r, proto, V2, f"host-{proto}")
        connect(c, r, broker.port)
        subscribe(c, r, "host/#", 2)
        recs.append(r)
        clients.append(c)
    props = ferromq.Properties(ferromq.PacketTypes.PUBLISH)
    props.UserProperty = ("origin", "host")
    for q in (0, 1, 2):
        broker.publish(f"host/{q}", f"q{q}", qos=q, properties=props)
    for r, c in zip(recs, clients):
        r.wait("on_message", 3)
        got = sorted((m.topic, m.payload, m.qos) for m in messages(r))
        assert got == [("host/0", b"q0", 0), ("host/1", b"q1", 1), ("host/2", b"q2", 2)]
        disconnect(c, r)
    assert messages(recs[1])[0].properties.UserProperty == [("origin", "host")]


def test_every_callback_sees_the_client(rec):
    b = make_broker()
    events = Recorder()
    b.on_client_connect = lambda cl: events.add("connect", cl)
    b.on_client_subscribe = lambda cl, topic: events.add("subscribe", cl, topic)
    b.on_client_publish = lambda cl, topic, msg: events.add("publish", cl, topic, msg)
    b.on_client_disconnect = lambda cl: events.add("disconnect", cl)
    with b:
        for proto in (ferromq.MQTTv31, ferromq.MQTTv311, ferromq.MQTTv5):
            r = Recorder()
            c = recording_client(r, proto, V2, f"who-{proto}")
            c.username_pw_set("user", b"\x00pw")
            connect(c, r, b.port)
            subscribe(c, r, "see/#", 1)
            c.publish("see/it", b"data", qos=1, retain=True).wait_for_publish(TIMEOUT)
            disconnect(c, r)
            events.wait("disconnect", [ferromq.MQTTv31, ferromq.MQTTv311, ferromq.MQTTv5].index(proto) + 1)
    conns = events.of("connect")
    assert [(e[1].client_id, e[1].username, e[1].password, e[1].protocol) for e in conns] == [
        ("who-3", "user", b"\x00pw", 3), ("who-4", "user", b"\x00pw", 4), ("who-5", "user", b"\x00pw", 5)]
    assert all(e[1].address.startswith("127.0.0.1:") for e in conns)
    assert [e[2] for e in events.of("subscribe")] == ["see/#"] * 3
    pubs = events.of("publish")
    assert [(e[1].client_id, e[2], e[3].payload, e[3].qos, e[3].retain) for e in pubs] == [
        (f"who-{p}", "see/it", b"data", 1, True) for p in (3, 4, 5)]
    assert [(e[1].client_id, e[1].reason) for e in events.of("disconnect")] == [
        ("who-3", 0), ("who-4", 0), ("who-5", 0)]
    # Outside on_client_connect the password is not given.
    assert events.of("publish")[0][1].password is None


@pytest.mark.parametrize("answer,v3_rc,v5_rc", [
    (False, 5, 0x87), (4, 4, 0x86), (0x88, 3, 0x88), (True, 0, 0), (None, 0, 0)])
def test_connect_answers(answer, v3_rc, v5_rc):
    b = make_broker()
    b.on_client_connect = lambda cl: answer
    with b:
        for proto, want in ((ferromq.MQTTv311, v3_rc), (ferromq.MQTTv5, v5_rc)):
            r = Recorder()
            c = recording_client(r, proto, client_id=f"ans-{proto}")
            c.connect("127.0.0.1", b.port)
            r.wait("on_connect")
            assert int(r.of("on_connect")[0][4]) == want
            if want == 0:
                disconnect(c, r)


def test_subscribe_answers_grant_downgrade_or_refuse(rec):
    b = make_broker()
    answers = {"yes": True, "low": 0, "one": 1, "no": False, "code": 0x97}
    b.on_client_subscribe = lambda cl, topic: answers[topic]
    with b:
        c = recording_client(rec, ferromq.MQTTv5, V2, "grants")
        connect(c, rec, b.port)
        ev = subscribe(c, rec, [(t, 2) for t in answers])
        assert [int(x) for x in ev[4]] == [2, 0, 1, 0x87, 0x97]
        disconnect(c, rec)


def test_publish_refusal_keeps_message_from_subscribers_and_retained(rec):
    b = make_broker()
    b.on_client_publish = lambda cl, topic, msg: msg.payload != b"forbidden"
    with b:
        c = recording_client(rec, client_id="pubcheck")
        connect(c, rec, b.port)
        c.publish("r", "forbidden", 1, retain=True).wait_for_publish(TIMEOUT)
        c.publish("r", "fine", 1).wait_for_publish(TIMEOUT)
        late = Recorder()
        l2 = recording_client(late, client_id="late")
        connect(l2, late, b.port)
        subscribe(l2, late, "r", 1)
        c.publish("r", "after", 1)
        late.wait("on_message")
        assert [m.payload for m in messages(late)] == [b"after"]  # nothing retained
        disconnect(l2, late)
        disconnect(c, rec)


def test_exceptions_in_broker_callbacks_are_logged_and_refuse(rec, caplog):
    b = make_broker()

    def bad_connect(cl):
        if cl.client_id == "explode":
            raise ValueError("bug in hook")
        return True

    b.on_client_connect = bad_connect
    with b, caplog.at_level(logging.ERROR, logger="ferromq"):
        c = recording_client(rec, client_id="explode")
        c.connect("127.0.0.1", b.port)
        rec.wait("on_connect")
        assert int(rec.of("on_connect")[0][4]) != 0
        ok = Recorder()
        d = recording_client(ok, client_id="fine")
        connect(d, ok, b.port)  # the broker still serves
        assert int(ok.of("on_connect")[0][4]) == 0
        disconnect(d, ok)
    assert any("on_client_connect" in r.getMessage() and r.exc_info for r in caplog.records)


def test_callbacks_may_call_the_broker_api(rec):
    b = make_broker()
    # A retained message published from inside the connect hook awaits the subscriber.
    b.on_client_connect = lambda cl: b.publish("welcome", f"hi {cl.client_id}", 1, retain=True)
    with b:
        c = recording_client(rec, client_id="guest")
        connect(c, rec, b.port)
        subscribe(c, rec, "welcome", 1)
        rec.wait("on_message")
        assert messages(rec)[0].payload == b"hi guest"
        disconnect(c, rec)


def test_stats_count_connections_and_messages(rec):
    with make_broker() as b:
        if not hasattr(ferromq._native.broker_lib(), "MQTTBroker_getStats"):
            pytest.skip("the library has no MQTTBroker_getStats")
        assert b.stats()["connections"] == 0
        c = recording_client(rec, client_id="counted")
        connect(c, rec, b.port)
        subscribe(c, rec, "s", 1)
        b.publish("s", "kept", 1, retain=True)
        rec.wait("on_message")
        st = b.stats()
        assert st["connections"] == 1 and st["retained"] == 1
        assert st["messages_in"] >= 1 and st["messages_out"] >= 1
        assert (st["dropped_qos0"], st["dropped_offline"]) == (0, 0)
        assert (st["flow_pauses"], st["slow_consumers"]) == (0, 0)
        disconnect(c, rec)


def test_flow_control_limits_are_accepted_and_checked():
    with ferromq.Broker(port=0, max_queued_bytes=4096, max_inflight_bytes=1024,
                slow_consumer_timeout=5) as b:
        assert b.port > 0
    with pytest.raises(ferromq.BrokerError):
        ferromq.Broker(port=0, slow_consumer_timeout=-1).start()


def test_persistence_location_keeps_sessions_and_retained(rec, tmp_path):
    b = make_broker(persistence_location=str(tmp_path))
    with b:
        port = b.port
        b.publish("kept", "over a new broker", 1, retain=True)
        c = recording_client(rec, client_id="durable", clean_session=False)
        connect(c, rec, port)
        subscribe(c, rec, "queued", 1)
        disconnect(c, rec)
        b.publish("queued", "while offline", 1)
    assert (tmp_path / "ferromq.redb").exists()
    # A new broker (as after a restart of the program) on the same store.
    with make_broker(persistence_location=str(tmp_path)) as b2:
        c = recording_client(rec, client_id="durable", clean_session=False)
        connect(c, rec, b2.port)
        rec.wait("on_message")
        assert [m.payload for m in messages(rec)] == [b"while offline"]
        subscribe(c, rec, "kept", 1)
        rec.wait("on_message", 2)
        assert messages(rec)[1].payload == b"over a new broker"
        disconnect(c, rec)


def test_a_damaged_store_is_persistence_error(tmp_path):
    (tmp_path / "ferromq.redb").write_bytes(b"\x07" * 4096)
    b = make_broker(persistence_location=str(tmp_path))
    with pytest.raises(ferromq.BrokerError) as e:
        b.start()
    assert e.value.code == -28
    b.close()
    assert (tmp_path / "ferromq.redb").read_bytes() == b"\x07" * 4096


def test_a_dropped_broker_is_collected():
    b = make_broker()
    b.on_client_connect = lambda cl: True
    b.start()
    ref = weakref.ref(b)
    del b
    gc.collect()
    assert ref() is None


def test_a_bridge_carries_messages_to_another_broker(rec):
    with make_broker() as hub:
        edge = make_broker()
        with pytest.raises(ferromq.BrokerError) as e:
            edge.add_bridge("hub", [f"127.0.0.1:{hub.port}"], [])  # no topic
        assert e.value.code == -26
        edge.add_bridge("hub", [f"127.0.0.1:{hub.port}"], ["# out 1 edge/ hub/"],
                        bridge_protocol_version="mqttv50", remote_clientid="py-edge",
                        cleansession=False)
        with edge:
            c = recording_client(rec, client_id="hub-sub")
            connect(c, rec, hub.port)
            subscribe(c, rec, "$SYS/broker/connection/py-edge/state", 1)
            rec.wait("on_message")  # "1": the bridge is up
            subscribe(c, rec, "hub/#", 1)
            edge.publish("edge/x", "across", 1)
            rec.wait("on_message", count=2)
            got = [(m.topic, m.payload) for m in messages(rec)]
            assert got == [("$SYS/broker/connection/py-edge/state", b"1"),
                           ("hub/x", b"across")]
            disconnect(c, rec)
