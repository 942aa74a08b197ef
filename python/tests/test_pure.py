"""Parts of the package that need no library: topic matching, constants, properties,
reason codes, payload conversion, the message-info object and the wheel build."""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import os
import pathlib
import zipfile

import pytest

import ferromq
import ferromq.client as mqtt
from ferromq.message import MQTTMessageInfo, payload_bytes
from ferromq.properties import PacketTypes, Properties, ReasonCode


@pytest.mark.parametrize("sub,topic,match", [
    ("a/b", "a/b", True), ("a/+", "a/b", True), ("a/+", "a/b/c", False),
    ("a/#", "a", True), ("a/#", "a/b/c", True), ("#", "a/b", True),
    ("+/+", "/x", True), ("+", "$SYS", False), ("#", "$SYS/x", False),
    ("$SYS/#", "$SYS/x", True), ("a/b", "a/c", False), ("a/+/c", "a//c", True),
])
def test_topic_matches_sub(sub, topic, match):
    assert ferromq.topic_matches_sub(sub, topic) is match


def test_constants_match_paho_mqtt():
    assert (mqtt.MQTTv31, mqtt.MQTTv311, mqtt.MQTTv5) == (3, 4, 5)
    assert (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN, mqtt.MQTT_ERR_CONN_LOST) == (0, 4, 7)
    assert mqtt.MQTT_ERR_QUEUE_SIZE == 15 and mqtt.CONNACK_REFUSED_NOT_AUTHORIZED == 5
    assert mqtt.error_string(mqtt.MQTT_ERR_NO_CONN) == "The client is not currently connected."
    assert mqtt.connack_string(4).endswith("bad user name or password.")
    assert mqtt.CallbackAPIVersion.VERSION2.value == 2


def test_properties_collect_paho_style_attributes():
    p = Properties(PacketTypes.PUBLISH)
    assert p.isEmpty()
    p.UserProperty = ("a", "1")
    p.UserProperty = [("b", "2")]  # appends, as paho-mqtt does
    p.MessageExpiryInterval = 10
    assert p.UserProperty == [("a", "1"), ("b", "2")]
    assert p.json() == {"UserProperty": [("a", "1"), ("b", "2")], "MessageExpiryInterval": 10}
    assert p.names() == ["UserProperty", "MessageExpiryInterval"]
    with pytest.raises(AttributeError):
        p.Bogus = 1
    with pytest.raises(AttributeError):
        p.ContentType  # not set


def test_reason_codes_compare_like_paho():
    ok = ReasonCode(PacketTypes.CONNACK, identifier=0)
    bad = ReasonCode(PacketTypes.CONNACK, "Not authorized")
    assert ok == 0 and not ok.is_failure and str(ok) == "Success"
    assert bad == 0x87 and bad.is_failure and bad == "Not authorized"
    assert str(ReasonCode(PacketTypes.DISCONNECT, identifier=0)) == "Normal disconnection"
    assert str(ReasonCode(PacketTypes.SUBACK, identifier=1)) == "Granted QoS 1"


def test_payload_conversion():
    assert payload_bytes("é") == "é".encode()
    assert payload_bytes(7) == b"7" and payload_bytes(None) == b""
    with pytest.raises(TypeError):
        payload_bytes([1])  # type: ignore[arg-type]


def test_message_info_completes_and_unpacks():
    info = MQTTMessageInfo(9)
    assert tuple(info) == (0, 9) and not info.is_published()
    info.wait_for_publish(0.01)  # bounded: returns without completion
    info._set_as_published()
    info.wait_for_publish()
    assert info.is_published()


def test_wheel_build_without_cargo(tmp_path, monkeypatch):
    backend_path = pathlib.Path(__file__).resolve().parent.parent / "_build_backend" / "ferromq_build.py"
    spec = importlib.util.spec_from_file_location("ferromq_build", backend_path)
    assert spec and spec.loader
    backend = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(backend)
    monkeypatch.setenv("FERROMQ_SKIP_CARGO", "1")
    name = backend.build_wheel(str(tmp_path))
    with zipfile.ZipFile(tmp_path / name) as whl:
        names = whl.namelist()
        assert "ferromq/client.py" in names and "ferromq/py.typed" in names
        assert not any(n.endswith(".so") for n in names)
        record = whl.read("ferromq-0.1.0.dist-info/RECORD").decode().splitlines()
        for line in record:
            path, digest, size = line.split(",")
            if not digest:
                continue
            data = whl.read(path)
            want = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            assert digest == f"sha256={want}" and int(size) == len(data)
    sdist = backend.build_sdist(str(tmp_path))
    assert os.path.exists(tmp_path / sdist)
