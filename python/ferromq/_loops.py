"""The ``loop*`` methods of :class:`ferromq.Client`.

Callbacks run on FerroMQ's dispatcher threads, so these loops only wait: for
:meth:`disconnect`, for the end of the connection, or for activity; they also make
the connection that ``connect_async`` deferred.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Optional

from .enums import (MQTT_ERR_CONN_LOST, MQTT_ERR_CONN_REFUSED, MQTT_ERR_INVAL,
                    MQTT_ERR_NO_CONN, MQTT_ERR_SUCCESS, MQTTErrorCode)


class Loops:
    """Mixin of :class:`ferromq.Client` with loop_forever/loop/loop_start/loop_stop."""

    _cond: threading.Condition
    _activity: int
    _connected: bool
    _connecting: bool
    _connect_refused: bool
    _connect_pending: bool
    _user_disconnect: bool
    _reconnect_on_failure: bool
    _handle: Any
    _disconnect_event: threading.Event
    _loop_thread: Optional[threading.Thread]
    _loop_stop: threading.Event
    _min_delay: int

    def reconnect(self) -> MQTTErrorCode:  # provided by Client
        raise NotImplementedError

    def disconnect(self, reasoncode: Any = None, properties: Any = None) -> MQTTErrorCode:
        raise NotImplementedError

    def _loop_should_end(self) -> Optional[MQTTErrorCode]:
        if self._user_disconnect:
            # Wait for the DISCONNECT to complete so on_disconnect has run.
            return None if self._connected and not self._disconnect_event.is_set() else MQTT_ERR_SUCCESS
        if self._connected or self._connecting:
            return None
        if self._connect_refused:
            return MQTT_ERR_CONN_REFUSED
        if not self._reconnect_on_failure or self._handle is None:
            return MQTT_ERR_CONN_LOST
        return None  # the library reconnects automatically

    def loop_forever(self, timeout: float = 1.0, retry_first_connection: bool = False) -> MQTTErrorCode:
        """Block until :meth:`disconnect` (or, without reconnects, until the connection ends).

        Connects first when :meth:`connect_async` was used. Ctrl-C disconnects
        cleanly and re-raises ``KeyboardInterrupt``.
        """
        try:
            if self._connect_pending:
                self._connect_with_retry(retry_first_connection)
            with self._cond:
                while True:
                    end = self._loop_should_end()
                    if end is not None:
                        return end
                    self._cond.wait(max(timeout, 0.1))
        except KeyboardInterrupt:
            self.disconnect()
            raise

    def _connect_with_retry(self, retry: bool) -> None:
        while True:
            try:
                self.reconnect()
                return
            except (OSError, TimeoutError):
                if not retry or self._user_disconnect:
                    raise
                with self._cond:
                    self._cond.wait(self._min_delay)

    def loop(self, timeout: float = 1.0) -> MQTTErrorCode:
        """Wait up to ``timeout`` seconds for network activity (callbacks run anyway)."""
        if self._connect_pending:
            self.reconnect()
        with self._cond:
            seen = self._activity
            self._cond.wait_for(lambda: self._activity != seen, timeout)
        return MQTT_ERR_SUCCESS if self._connected else MQTT_ERR_NO_CONN

    def loop_start(self) -> MQTTErrorCode:
        """Start a background thread that connects (after ``connect_async``) and keeps reconnecting."""
        if self._loop_thread is not None:
            return MQTT_ERR_INVAL
        self._loop_stop.clear()
        t = threading.Thread(target=self._thread_main, name=f"ferromq-loop-{id(self):x}", daemon=True)
        self._loop_thread = t
        t.start()
        return MQTT_ERR_SUCCESS

    def loop_stop(self) -> MQTTErrorCode:
        """Stop the thread started by :meth:`loop_start` (does not disconnect)."""
        t = self._loop_thread
        if t is None:
            return MQTT_ERR_INVAL
        self._loop_stop.set()
        with self._cond:
            self._cond.notify_all()
        if t is not threading.current_thread():
            t.join()
        self._loop_thread = None
        return MQTT_ERR_SUCCESS

    def _thread_main(self) -> None:
        while not self._loop_stop.is_set():
            if self._connect_pending:
                try:
                    self._connect_with_retry_until_stopped()
                except Exception:
                    logging.getLogger("ferromq").exception("ferromq: connect failed")
            with self._cond:
                self._cond.wait(1.0)

    def _connect_with_retry_until_stopped(self) -> None:
        while not self._loop_stop.is_set() and self._connect_pending:
            try:
                self.reconnect()
                return
            except (OSError, TimeoutError):
                self._connect_pending = True
                self._loop_stop.wait(self._min_delay)
