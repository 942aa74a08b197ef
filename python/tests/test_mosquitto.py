"""ferromq.Client against mosquitto (a third-party broker): QoS 0/1/2 in every protocol
version, retained messages, wills and MQTT 5 properties."""

from __future__ import annotations

import pytest

import ferromq
from conftest import TIMEOUT, Recorder
from helpers import V1, V2, connect, disconnect, messages, recording_client, subscribe


@pytest.mark.parametrize("protocol", [ferromq.MQTTv31, ferromq.MQTTv311, ferromq.MQTTv5])
def test_qos_levels_against_mosquitto(mosquitto, rec, protocol):
    c = recording_client(rec, protocol, V2, f"mq-{protocol}")
    connect(c, rec, mosquitto.port)
    ev = subscribe(c, rec, [("mq/#", 2)])
    assert [int(x) for x in ev[4]] == [2]
    infos = [c.publish(f"mq/{q}", f"m{q}", q) for q in (0, 1, 2)]
    for i in infos:
        i.wait_for_publish(TIMEOUT)
        assert i.is_published()
    rec.wait("on_message", 3)
    assert sorted((m.topic, m.payload, m.qos) for m in messages(rec)) == [
        ("mq/0", b"m0", 0), ("mq/1", b"m1", 1), ("mq/2", b"m2", 2)]
    rec.wait("on_publish", 3)
    disconnect(c, rec)


def test_retained_and_unsubscribe_against_mosquitto(mosquitto, rec):
    c = recording_client(rec, ferromq.MQTTv311, V1, "mq-ret")
    connect(c, rec, mosquitto.port)
    c.publish("ret/a", "kept", 1, retain=True).wait_for_publish(TIMEOUT)
    subscribe(c, rec, "ret/#", 1)
    rec.wait("on_message")
    assert messages(rec)[0].retain and messages(rec)[0].payload == b"kept"
    rc, mid = c.unsubscribe("ret/#")
    assert rc == 0
    rec.wait("on_unsubscribe")
    assert rec.of("on_unsubscribe")[0][3] == mid
    disconnect(c, rec)


def test_mqtt5_properties_through_mosquitto(mosquitto, rec):
    c = recording_client(rec, ferromq.MQTTv5, V2, "mq-props")
    connect(c, rec, mosquitto.port)
    subscribe(c, rec, "p5", 1)
    props = ferromq.Properties(ferromq.PacketTypes.PUBLISH)
    props.UserProperty = [("a", "1")]
    props.ContentType = "text/plain"
    c.publish("p5", "x", 1, properties=props)
    rec.wait("on_message")
    p = messages(rec)[0].properties
    assert p.UserProperty == [("a", "1")] and p.ContentType == "text/plain"
    disconnect(c, rec)


def test_persistent_session_is_resumed(mosquitto, rec):
    c = recording_client(rec, ferromq.MQTTv311, V1, "mq-persist", clean_session=False)
    connect(c, rec, mosquitto.port)
    subscribe(c, rec, "ok/#", 1)
    disconnect(c, rec)
    again = Recorder()
    c2 = recording_client(again, ferromq.MQTTv311, V1, "mq-persist", clean_session=False)
    connect(c2, again, mosquitto.port)
    assert again.of("on_connect")[0][3] == {"session present": 1}
    c2.publish("ok/still", "subscribed", 1)  # the stored subscription still applies
    again.wait("on_message")
    disconnect(c2, again)
