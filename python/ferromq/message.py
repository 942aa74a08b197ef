"""Message objects handed to users: received messages and the publish-tracking info.

Owns :class:`MQTTMessage` (what ``on_message`` receives) and :class:`MQTTMessageInfo`
(what ``publish`` returns; completed by the client when the broker acknowledges).
"""

from __future__ import annotations

import threading
import time
from typing import Any, Iterator, Optional, Union

from .enums import MQTT_ERR_NO_CONN, MQTT_ERR_QUEUE_SIZE, MQTT_ERR_SUCCESS
from .properties import Properties

__all__ = ["MQTTMessage", "MQTTMessageInfo", "PayloadType", "payload_bytes"]

PayloadType = Union[str, bytes, bytearray, int, float, None]


def payload_bytes(payload: PayloadType) -> bytes:
    """A payload as bytes (paho-mqtt's accepted types)."""
    if payload is None:
        return b""
    if isinstance(payload, str):
        return payload.encode("utf-8")
    if isinstance(payload, (bytes, bytearray)):
        return bytes(payload)
    if isinstance(payload, (int, float)) and not isinstance(payload, bool):
        return str(payload).encode("ascii")
    raise TypeError("payload must be a string, bytearray, int, float or None.")


class MQTTMessage:
    """A message received from the broker (paho-mqtt's ``MQTTMessage``).

    Attributes: ``topic`` (str), ``payload`` (bytes), ``qos``, ``retain``, ``mid``,
    ``dup``, ``properties`` (MQTT 5 :class:`Properties` or None), ``timestamp``.
    """

    def __init__(self, mid: int = 0, topic: bytes = b"") -> None:
        self.timestamp = time.monotonic()
        self.state = 0
        self.dup = False
        self.mid = mid
        self._topic = topic
        self.payload = b""
        self.qos = 0
        self.retain = False
        self.info = MQTTMessageInfo(mid)
        self.properties: Optional[Properties] = None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MQTTMessage) and self.mid == other.mid

    __hash__ = object.__hash__

    @property
    def topic(self) -> str:
        """The topic, decoded as UTF-8."""
        return self._topic.decode("utf-8", "replace")

    @topic.setter
    def topic(self, value: str) -> None:
        self._topic = value.encode("utf-8")

    def __repr__(self) -> str:
        return (
            f"MQTTMessage(topic={self.topic!r}, payload={self.payload!r}, qos={self.qos}, "
            f"retain={self.retain}, mid={self.mid})"
        )


class MQTTMessageInfo:
    """The result of ``publish``: ``mid``, ``rc`` and a way to wait for completion.

    Completion means: written (QoS 0), PUBACK received (QoS 1), PUBCOMP received
    (QoS 2). Also unpacks as ``(rc, mid)`` like paho-mqtt's.
    """

    def __init__(self, mid: int) -> None:
        self.mid = mid
        self.rc: int = MQTT_ERR_SUCCESS
        self._done = threading.Event()
        self._published = False

    def __iter__(self) -> Iterator[Any]:
        return iter((self.rc, self.mid))

    def __getitem__(self, index: int) -> Any:
        return (self.rc, self.mid)[index]

    def __repr__(self) -> str:
        return f"MQTTMessageInfo(mid={self.mid}, rc={self.rc}, published={self._published})"

    def _set_as_published(self) -> None:
        self._published = True
        self._done.set()

    def _set_failed(self, rc: int) -> None:
        self.rc = rc
        self._done.set()

    def wait_for_publish(self, timeout: Optional[float] = None) -> None:
        """Block until the message is published, or ``timeout`` seconds pass.

        Raises ``RuntimeError`` when the message could not be queued (not connected)
        and ``ValueError`` when the outgoing queue was full, as paho-mqtt does.
        """
        if self.rc == MQTT_ERR_QUEUE_SIZE:
            raise ValueError("Message is not queued due to ERR_QUEUE_SIZE")
        if self.rc == MQTT_ERR_NO_CONN and not self._done.is_set():
            raise RuntimeError("The client is not currently connected.")
        self._done.wait(timeout)

    def is_published(self) -> bool:
        """True once the broker acknowledged the message (or QoS 0 was written)."""
        if self.rc == MQTT_ERR_QUEUE_SIZE:
            raise ValueError("Message is not queued due to ERR_QUEUE_SIZE")
        return self._published
