"""One-shot publishing helpers, as paho-mqtt's ``paho.mqtt.publish``.

Owns ``single`` and ``multiple``: connect, publish, wait for every acknowledgement,
disconnect.
"""

from __future__ import annotations

from typing import Any, Iterable, Optional, Union

from .client import Client, PayloadType
from .enums import MQTTv311, MQTT_ERR_SUCCESS
from .properties import Properties

MessageSpec = Union[dict[str, Any], tuple[Any, ...], list[Any]]


def _normalize(msg: MessageSpec) -> tuple[str, PayloadType, int, bool, Optional[Properties]]:
    if isinstance(msg, dict):
        return (msg["topic"], msg.get("payload"), msg.get("qos", 0), msg.get("retain", False),
                msg.get("properties"))
    items = list(msg)
    if not items:
        raise ValueError("message tuple must name a topic")
    items += [None, 0, False, None][len(items) - 1:]
    topic, payload, qos, retain, props = items[:5]
    return topic, payload, qos, bool(retain), props


def multiple(
    msgs: Iterable[MessageSpec],
    hostname: str = "localhost",
    port: int = 1883,
    client_id: str = "",
    keepalive: int = 60,
    will: Optional[dict[str, Any]] = None,
    auth: Optional[dict[str, str]] = None,
    tls: Any = None,
    protocol: int = MQTTv311,
    transport: str = "tcp",
    proxy_args: Any = None,
    timeout: float = 30.0,
) -> None:
    """Connect, publish every message (dict or tuple form), wait until all complete, disconnect."""
    if tls:
        raise NotImplementedError("TLS is not supported by ferromq yet")
    specs = [_normalize(m) for m in msgs]
    client = Client(client_id=client_id, protocol=protocol, transport=transport)
    if auth:
        client.username_pw_set(auth["username"], auth.get("password"))
    if will:
        client.will_set(will["topic"], will.get("payload"), will.get("qos", 0),
                        will.get("retain", False), will.get("properties"))
    client.connect(hostname, port, keepalive)
    try:
        infos = [client.publish(*spec) for spec in specs]
        for info in infos:
            if info.rc != MQTT_ERR_SUCCESS:
                raise RuntimeError(f"publish failed with rc {info.rc}")
            info.wait_for_publish(timeout)
            if not info.is_published():
                raise TimeoutError("a message was not acknowledged in time")
    finally:
        client.disconnect()


def single(
    topic: str,
    payload: PayloadType = None,
    qos: int = 0,
    retain: bool = False,
    hostname: str = "localhost",
    port: int = 1883,
    client_id: str = "",
    keepalive: int = 60,
    will: Optional[dict[str, Any]] = None,
    auth: Optional[dict[str, str]] = None,
    tls: Any = None,
    protocol: int = MQTTv311,
    transport: str = "tcp",
    proxy_args: Any = None,
    properties: Optional[Properties] = None,
) -> None:
    """Publish one message and disconnect."""
    msg = {"topic": topic, "payload": payload, "qos": qos, "retain": retain,
           "properties": properties}
    multiple([msg], hostname, port, client_id, keepalive, will, auth, tls, protocol, transport)
