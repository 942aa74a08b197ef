"""Publishing with paho-mqtt's queueing: messages beyond the in-flight window wait here.

Owns the one C call that sends a message (``MQTTAsync_sendMessage``) and the
backlog of messages the library refused with "too many in flight"; each completed
publish sends the next one, so order is kept and ``publish`` never fails for that.
"""

from __future__ import annotations

import collections
import ctypes
import threading
from typing import Any, Optional

from . import _native
from .enums import MQTT_ERR_NO_CONN, MQTT_ERR_SUCCESS
from .message import MQTTMessageInfo
from .properties import CProperties, Properties

_MAX_MESSAGES_INFLIGHT = -4

# (info, topic, payload, qos, retain, properties)
Pending = tuple[MQTTMessageInfo, bytes, bytes, int, bool, Optional[Properties]]


class Backlog:
    """Mixin of :class:`ferromq.Client`: sending and the in-flight backlog."""

    _lock: threading.RLock
    _handle: Optional[ctypes.c_void_p]
    _pending_pub: dict[int, MQTTMessageInfo]

    def _backlog_init(self) -> None:
        self._backlog: "collections.deque[Pending]" = collections.deque()
        # One thread at a time drains (FIFO); a drain asked for meanwhile is
        # remembered. No lock is held across a C call: Paho C runs some
        # callbacks under its own mutex, which a send takes too.
        self._draining = False
        self._drain_again = False

    def _response(self, ok: Any, fail: Any, ok5: Any, fail5: Any, mid: int) -> Any:
        raise NotImplementedError  # provided by Client

    def _send(self, item: Pending) -> int:
        """One ``MQTTAsync_sendMessage``; returns the library's code."""
        info, topic, data, qos, retain, properties = item
        handle = self._handle
        if handle is None:
            return -3
        msg = _native.MQTTAsync_message()
        msg.struct_id, msg.struct_version = b"MQTM", 1
        buf = ctypes.create_string_buffer(data, len(data) or 1)
        msg.payloadlen = len(data)
        msg.payload = ctypes.cast(buf, ctypes.c_void_p)
        msg.qos, msg.retained = qos, int(bool(retain))
        cp = CProperties(properties)
        msg.properties = cp.c
        r = self._response(self._cf_pub_ok, self._cf_pub_fail,  # type: ignore[attr-defined]
                           self._cf_pub_ok5, self._cf_pub_fail5, info.mid)  # type: ignore[attr-defined]
        with self._lock:
            self._pending_pub[info.mid] = info
        try:
            rc = _native.lib().MQTTAsync_sendMessage(handle, topic, ctypes.byref(msg), ctypes.byref(r))
        finally:
            cp.free()
        if rc != 0:
            with self._lock:
                self._pending_pub.pop(info.mid, None)
        return int(rc)

    def _submit(self, item: Pending) -> int:
        """Send now, or queue behind earlier messages / a full in-flight window."""
        with self._lock:
            direct = not self._backlog and not self._draining
            if not direct:
                self._backlog.append(item)
        if direct:
            rc = self._send(item)
            if rc != _MAX_MESSAGES_INFLIGHT:
                return rc
            with self._lock:
                self._backlog.appendleft(item)
        self._drain_backlog()  # a completion may have freed a slot meanwhile
        return 0

    def _drain_backlog(self) -> None:
        """Send queued messages until the window is full again (after each completion)."""
        with self._lock:
            if self._draining:
                self._drain_again = True
                return
            self._draining = True
            self._drain_again = False
        while True:
            with self._lock:
                if not self._backlog:
                    self._draining = False
                    return
                item = self._backlog.popleft()
            rc = self._send(item)
            if rc == _MAX_MESSAGES_INFLIGHT:
                with self._lock:
                    self._backlog.appendleft(item)
                    if not self._drain_again:
                        self._draining = False
                        return  # the window is full: the next completion drains again
                    self._drain_again = False  # a slot freed while we tried: retry
            elif rc != 0:
                item[0]._set_failed(MQTT_ERR_NO_CONN if rc == -3 else rc)

    def _drop_backlog(self) -> None:
        """End queued messages that will not be sent (user disconnect)."""
        with self._lock:
            items = list(self._backlog)
            self._backlog.clear()
        for item in items:
            item[0]._set_failed(MQTT_ERR_NO_CONN)


__all__ = ["Backlog", "MQTT_ERR_SUCCESS"]
