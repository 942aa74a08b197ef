"""Client-building helpers shared by the test modules (recording every callback)."""

from __future__ import annotations

from typing import Any, Optional

import ferromq
from conftest import Recorder, need_client

V1 = ferromq.CallbackAPIVersion.VERSION1
V2 = ferromq.CallbackAPIVersion.VERSION2

# (protocol, callback API) combinations the client supports.
FLAVOURS = [
    (ferromq.MQTTv311, V1),
    (ferromq.MQTTv31, V1),
    (ferromq.MQTTv5, V1),
    (ferromq.MQTTv311, V2),
    (ferromq.MQTTv5, V2),
]
FLAVOUR_IDS = ["311-v1", "31-v1", "5-v1", "311-v2", "5-v2"]


def recording_client(
    rec: Recorder, protocol: int = ferromq.MQTTv311, api: Any = V1, client_id: str = "",
    **kw: Any,
) -> ferromq.Client:
    """A client whose every callback records ``(name, *args)`` into ``rec``."""
    need_client()
    c = ferromq.Client(api, client_id, protocol=protocol, **kw)
    for name in ("on_connect", "on_disconnect", "on_message", "on_publish", "on_subscribe",
                 "on_unsubscribe", "on_connect_fail"):
        setattr(c, name, rec.cb(name))
    return c


def connect(c: ferromq.Client, rec: Recorder, port: int, **kw: Any) -> None:
    """Connect and wait (bounded) for on_connect."""
    before = len(rec.of("on_connect"))
    assert c.connect("127.0.0.1", port, **kw) == ferromq.MQTT_ERR_SUCCESS
    rec.wait("on_connect", before + 1)


def subscribe(c: ferromq.Client, rec: Recorder, topic: Any, qos: int = 0) -> tuple[Any, ...]:
    """Subscribe and wait for on_subscribe of that mid; return that event."""
    rc, mid = c.subscribe(topic, qos)
    assert rc == ferromq.MQTT_ERR_SUCCESS
    rec.wait_for(lambda ev: any(e[0] == "on_subscribe" and e[3] == mid for e in ev))
    return [e for e in rec.of("on_subscribe") if e[3] == mid][0]


def rc_of(connect_event: tuple[Any, ...]) -> int:
    """The CONNACK code of a recorded on_connect, whatever its signature."""
    return int(connect_event[4])


def messages(rec: Recorder) -> list[ferromq.MQTTMessage]:
    return [e[3] for e in rec.of("on_message")]


def disconnect(c: ferromq.Client, rec: Optional[Recorder] = None) -> None:
    """Disconnect; when recording, wait for on_disconnect."""
    before = len(rec.of("on_disconnect")) if rec else 0
    c.disconnect()
    if rec is not None:
        rec.wait("on_disconnect", before + 1)
