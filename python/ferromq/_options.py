"""Configuration methods of :class:`ferromq.Client` (paho-mqtt's ``*_set`` family).

Owns credentials, will, userdata, reconnect back-off, in-flight/queue limits,
per-filter message callbacks and logging switches; read at the next connect.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Callable, Optional, Union

from .message import PayloadType, payload_bytes
from .properties import Properties


class Options:
    """Mixin of :class:`ferromq.Client` with its configuration setters."""

    _userdata: Any
    _username: Optional[bytes]
    _password: Optional[bytes]
    _will: Optional[tuple[bytes, bytes, int, bool, Optional[Properties]]]
    _min_delay: int
    _max_delay: int
    _max_inflight: int
    _max_queued: int
    _msg_callbacks: dict[str, Callable[..., Any]]
    _lock: threading.RLock
    _logger: Optional[logging.Logger]
    _protocol: int
    _connected: bool

    def username_pw_set(self, username: Optional[str], password: Union[str, bytes, None] = None) -> None:
        """Set the user name and password sent in CONNECT."""
        self._username = None if username is None else username.encode("utf-8")
        if password is None:
            self._password = None
        else:
            self._password = password.encode("utf-8") if isinstance(password, str) else bytes(password)

    def will_set(
        self,
        topic: str,
        payload: PayloadType = None,
        qos: int = 0,
        retain: bool = False,
        properties: Optional[Properties] = None,
    ) -> None:
        """Set the will message the broker publishes if this client vanishes."""
        if not topic or "+" in topic or "#" in topic:
            raise ValueError("Invalid topic.")
        if qos not in (0, 1, 2):
            raise ValueError("Invalid QoS level.")
        self._will = (topic.encode("utf-8"), payload_bytes(payload), qos, bool(retain), properties)

    def will_clear(self) -> None:
        """Remove the will."""
        self._will = None

    def user_data_set(self, userdata: Any) -> None:
        """Set the ``userdata`` passed to callbacks."""
        self._userdata = userdata

    def user_data_get(self) -> Any:
        """The ``userdata`` passed to callbacks."""
        return self._userdata

    @property
    def user_data(self) -> Any:
        """The ``userdata`` passed to callbacks."""
        return self._userdata

    @user_data.setter
    def user_data(self, value: Any) -> None:
        self._userdata = value

    @property
    def protocol(self) -> int:
        """The MQTT version (MQTTv31, MQTTv311 or MQTTv5)."""
        return self._protocol

    def reconnect_delay_set(self, min_delay: int = 1, max_delay: int = 120) -> None:
        """Bounds (seconds) of the automatic reconnect back-off."""
        if min_delay < 0 or max_delay < min_delay:
            raise ValueError("invalid reconnect delays")
        self._min_delay, self._max_delay = int(min_delay), int(max_delay)

    def max_inflight_messages_set(self, inflight: int) -> None:
        """The most QoS 1/2 messages in flight at once."""
        if inflight < 0:
            raise ValueError("Invalid inflight.")
        self._max_inflight = inflight or 65535

    def max_queued_messages_set(self, queue_size: int) -> "Options":
        """The most messages buffered while (re)connecting (0: the library's maximum)."""
        if queue_size < 0:
            raise ValueError("Invalid queue size.")
        self._max_queued = queue_size or 65535
        return self

    def message_callback_add(self, sub: str, callback: Callable[..., Any]) -> None:
        """Call ``callback`` instead of ``on_message`` for messages matching ``sub``."""
        if callback is None or sub is None:
            raise ValueError("sub and callback must both be defined.")
        with self._lock:
            self._msg_callbacks[sub] = callback

    def message_callback_remove(self, sub: str) -> None:
        """Remove a callback added with :meth:`message_callback_add`."""
        with self._lock:
            self._msg_callbacks.pop(sub, None)

    def enable_logger(self, logger: Optional[logging.Logger] = None) -> None:
        """Send the client's log messages to ``logger`` (``logging`` module)."""
        self._logger = logger or logging.getLogger("ferromq.client")

    def disable_logger(self) -> None:
        """Stop logging through the ``logging`` module."""
        self._logger = None

    def is_connected(self) -> bool:
        """True while the client holds an accepted connection."""
        return self._connected
