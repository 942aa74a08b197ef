"""PyPI's paho-mqtt (2.x) against ferromq.Broker, alone and together with ferromq.Client:
every QoS, both protocol families, broker callbacks seeing paho clients, refusals."""

from __future__ import annotations

import pytest

import ferromq
from conftest import TIMEOUT, Recorder, make_broker
from helpers import V2, connect, disconnect, messages, recording_client, subscribe

paho = pytest.importorskip("paho.mqtt.client", reason="paho-mqtt is not installed (pip install 'paho-mqtt>=2')")
if int(paho.__version__.split(".")[0] if hasattr(paho, "__version__") else
       __import__("paho.mqtt").mqtt.__version__.split(".")[0]) < 2:
    pytest.skip("these tests need paho-mqtt>=2 (pip install 'paho-mqtt>=2')", allow_module_level=True)


def paho_client(rec: Recorder, client_id: str, protocol: int) -> "paho.Client":
    c = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=protocol)
    for name in ("on_connect", "on_disconnect", "on_message", "on_publish", "on_subscribe"):
        setattr(c, name, rec.cb(name))
    return c


@pytest.mark.parametrize("protocol", [paho.MQTTv311, paho.MQTTv5, paho.MQTTv31])
def test_paho_publishes_and_receives_every_qos(broker, rec, protocol):
    c = paho_client(rec, f"paho-{protocol}", protocol)
    c.connect("127.0.0.1", broker.port)
    c.loop_start()
    try:
        rec.wait("on_connect")
        assert rec.of("on_connect")[0][4] == 0
        c.subscribe("pq/#", 2)
        rec.wait("on_subscribe")
        assert [x.value for x in rec.of("on_subscribe")[0][4]] == [2]
        infos = [c.publish(f"pq/{q}", f"v{q}", q) for q in (0, 1, 2)]
        for i in infos:
            i.wait_for_publish(TIMEOUT)
        rec.wait("on_message", 3)
        got = sorted((e[3].topic, e[3].payload, e[3].qos) for e in rec.of("on_message"))
        assert got == [("pq/0", b"v0", 0), ("pq/1", b"v1", 1), ("pq/2", b"v2", 2)]
        c.disconnect()
        rec.wait("on_disconnect")
    finally:
        c.loop_stop()


def test_paho_and_ferromq_clients_talk_through_our_broker(broker, rec):
    theirs = Recorder()
    p = paho_client(theirs, "paho-peer", paho.MQTTv5)
    p.connect("127.0.0.1", broker.port)
    p.loop_start()
    try:
        theirs.wait("on_connect")
        p.subscribe("to-paho", 1)
        theirs.wait("on_subscribe")
        ours = recording_client(rec, ferromq.MQTTv5, V2, "ferromq-peer")
        connect(ours, rec, broker.port)
        subscribe(ours, rec, "to-ferromq", 1)
        props = ferromq.Properties(ferromq.PacketTypes.PUBLISH)
        props.UserProperty = ("from", "ferromq")
        ours.publish("to-paho", b"hello paho", 1, properties=props)
        p.publish("to-ferromq", b"hello ferromq", 2)
        theirs.wait("on_message")
        rec.wait("on_message")
        m = theirs.of("on_message")[0][3]
        assert m.payload == b"hello paho" and m.properties.UserProperty == [("from", "ferromq")]
        assert messages(rec)[0].payload == b"hello ferromq" and messages(rec)[0].qos == 1  # subscribed at 1
        disconnect(ours, rec)
        p.disconnect()
        theirs.wait("on_disconnect")
    finally:
        p.loop_stop()


def test_broker_callbacks_see_and_refuse_paho_clients(rec):
    b = make_broker()
    seen: list[ferromq.BrokerClient] = []
    b.on_client_connect = lambda cl: seen.append(cl) or cl.username == "ok"
    b.on_client_subscribe = lambda cl, topic: topic != "forbidden"
    with b:
        bad = paho_client(rec, "paho-anon", paho.MQTTv5)
        bad.connect("127.0.0.1", b.port)
        bad.loop_start()
        try:
            rec.wait("on_connect")
            assert rec.of("on_connect")[0][4] == 0x87
            bad.disconnect()
        finally:
            bad.loop_stop()
        good_rec = Recorder()
        good = paho_client(good_rec, "paho-user", paho.MQTTv5)
        good.username_pw_set("ok", "pw")
        good.connect("127.0.0.1", b.port)
        good.loop_start()
        try:
            good_rec.wait("on_connect")
            good.subscribe([("allowed", 1), ("forbidden", 1)])
            good_rec.wait("on_subscribe")
            codes = good_rec.of("on_subscribe")[0][4]
            assert codes[0].value == 1 and codes[1].is_failure
            good.disconnect()
            good_rec.wait("on_disconnect")
        finally:
            good.loop_stop()
    assert [(c.client_id, c.username, c.protocol) for c in seen] == [
        ("paho-anon", None, 5), ("paho-user", "ok", 5)]
    assert seen[1].password == b"pw"
