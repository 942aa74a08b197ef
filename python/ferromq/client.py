"""``ferromq.Client``: paho-mqtt's ``Client`` API implemented on FerroMQ's MQTTAsync C ABI.

Owns the client's state (connect parameters, the C handle's lifetime, packet ids,
pending operations) and the public methods; the C callbacks live in ``_dispatch``.
Programs written for ``paho.mqtt.client`` run with ``import ferromq.client as mqtt``.
"""

from __future__ import annotations

import atexit
import ctypes
import itertools
import logging
import threading
import uuid
import weakref
from typing import Any, Callable, Optional, Union

from . import _native
from ._backlog import Backlog
from ._dispatch import Dispatch, in_callback
from ._loops import Loops
from ._options import Options
from ._transport import Transport
from .enums import *  # noqa: F401,F403  (paho-mqtt programs import constants from here)
from .enums import (
    MQTT_CLEAN_START_FIRST_ONLY,
    MQTT_ERR_INVAL,
    MQTT_ERR_NO_CONN,
    MQTT_ERR_QUEUE_SIZE,
    MQTT_ERR_SUCCESS,
    MQTT_ERR_UNKNOWN,
    CallbackAPIVersion,
    MQTTErrorCode,
    MQTTv5,
    MQTTv31,
    MQTTv311,
)
from .message import MQTTMessage, MQTTMessageInfo, PayloadType, payload_bytes
from .properties import CProperties, Properties, SubscribeOptions

__all__ = ["Client", "MQTTMessage", "MQTTMessageInfo", "CallbackAPIVersion"]

_live_clients: "weakref.WeakSet[Client]" = weakref.WeakSet()


def _map_rc(rc: int) -> MQTTErrorCode:
    """A C library return code as paho-mqtt's error code."""
    if rc == 0:
        return MQTT_ERR_SUCCESS
    if rc == -3:
        return MQTT_ERR_NO_CONN
    if rc in (-4, -12, -19):
        return MQTT_ERR_QUEUE_SIZE
    if rc in (-5, -6, -7, -8, -9, -15):
        return MQTT_ERR_INVAL
    return MQTT_ERR_UNKNOWN


def _destroy_handle(handle: ctypes.c_void_p, keep: list[Any]) -> None:
    """Destroy a C handle; ``keep`` holds the callbacks it may call until then."""
    _native.lib().MQTTAsync_destroy(ctypes.byref(handle))
    keep.clear()


class Client(Options, Transport, Loops, Backlog, Dispatch):
    """An MQTT client with paho-mqtt's API.

    ``Client(client_id="", clean_session=None, userdata=None, protocol=MQTTv311,
    transport="tcp", reconnect_on_failure=True)`` as in paho-mqtt 1.x (transport
    "tcp", "websockets" or "unix", where the host given to connect is the socket's
    path; TLS with :meth:`tls_set`), or with a
    :class:`CallbackAPIVersion` first, as in paho-mqtt 2.x, which also selects the
    callback signatures (VERSION1 is the default).

    Callbacks run on FerroMQ's per-client dispatcher thread, never on the thread
    that calls ``loop*``; any method may be called from inside a callback.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        api = CallbackAPIVersion.VERSION1
        if args and isinstance(args[0], CallbackAPIVersion):
            api, args = args[0], args[1:]
        elif "callback_api_version" in kwargs:
            api = kwargs.pop("callback_api_version")
        self._setup(api, *args, **kwargs)

    def _setup(
        self,
        api: CallbackAPIVersion,
        client_id: Optional[str] = "",
        clean_session: Optional[bool] = None,
        userdata: Any = None,
        protocol: int = MQTTv311,
        transport: str = "tcp",
        reconnect_on_failure: bool = True,
        manual_ack: bool = False,
    ) -> None:
        if protocol not in (MQTTv31, MQTTv311, MQTTv5):
            raise ValueError(f"unsupported protocol version {protocol}")
        self._transport_init(transport)
        if protocol == MQTTv5:
            if clean_session is not None:
                raise ValueError("Clean session is not used for MQTT 5.0")
        else:
            if clean_session is None:
                clean_session = True
            if not clean_session and not client_id:
                raise ValueError("A client id must be provided if clean session is False.")
        self._api = api
        self._client_id = (client_id or f"ferromq-py-{uuid.uuid4().hex[:16]}").encode("utf-8")
        self._clean_session = bool(clean_session)
        self._userdata = userdata
        self._protocol = protocol
        self._reconnect_on_failure = reconnect_on_failure
        self._logger: Optional[logging.Logger] = None
        self._lock = threading.RLock()
        self._cond = threading.Condition(threading.Lock())
        self._activity = 0
        self._mids = itertools.count(1)
        self._pending_pub: dict[int, MQTTMessageInfo] = {}
        self._pending_sub: dict[int, int] = {}
        self._pending_unsub: dict[int, int] = {}
        self._msg_callbacks: dict[str, Callable[..., Any]] = {}
        self._handle: Optional[ctypes.c_void_p] = None
        self._handle_uri = b""
        self._connected = False
        self._connecting = False
        self._connect_refused = False
        self._connect_result = 0
        self._first_connect_done = False
        self._user_disconnect = False
        self._connect_event = threading.Event()
        self._disconnect_event = threading.Event()
        self._loop_thread: Optional[threading.Thread] = None
        self._loop_stop = threading.Event()
        # connect parameters
        self._host = ""
        self._port = 1883
        self._keepalive = 60
        self._clean_start: Union[bool, int] = MQTT_CLEAN_START_FIRST_ONLY
        self._connect_properties: Optional[Properties] = None
        self._connect_pending = False
        self._username: Optional[bytes] = None
        self._password: Optional[bytes] = None
        self._will: Optional[tuple[bytes, bytes, int, bool, Optional[Properties]]] = None
        self._min_delay, self._max_delay = 1, 120
        self._max_inflight = 65535
        self._max_queued = 65535
        self.connect_timeout = 10.0
        self.suppress_exceptions = True
        self.on_connect: Optional[Callable[..., Any]] = None
        self.on_connect_fail: Optional[Callable[..., Any]] = None
        self.on_disconnect: Optional[Callable[..., Any]] = None
        self.on_message: Optional[Callable[..., Any]] = None
        self.on_publish: Optional[Callable[..., Any]] = None
        self.on_subscribe: Optional[Callable[..., Any]] = None
        self.on_unsubscribe: Optional[Callable[..., Any]] = None
        self.on_log: Optional[Callable[..., Any]] = None
        _native.require(_native.lib(), "MQTTAsync_createWithOptions", "MQTTAsync client")
        self._make_c_callbacks()
        self._backlog_init()
        _live_clients.add(self)

    # --- lifetime -------------------------------------------------------------

    def __del__(self) -> None:
        try:
            self._release_handle()
        except Exception:  # interpreter shutdown
            pass

    def _release_handle(self) -> None:
        """Destroy the C handle; from a callback thread, on a helper thread instead."""
        with self._lock:
            handle, self._handle = self._handle, None
            self._handle_uri = b""
        if handle is None:
            return
        keep = self._c_callback_objects()
        if in_callback():
            threading.Thread(target=_destroy_handle, args=(handle, keep), daemon=True).start()
        else:
            _destroy_handle(handle, keep)

    def _ensure_handle(self) -> ctypes.c_void_p:
        uri = self._server_uri()
        with self._lock:
            if self._handle is not None and self._handle_uri == uri:
                return self._handle
        self._release_handle()
        lib = _native.lib()
        opts = _native.MQTTAsync_createOptions(
            b"MQCO", 2, 1, self._max_queued, self._protocol, 1, 0, 1, 1
        )
        handle = ctypes.c_void_p()
        rc = lib.MQTTAsync_createWithOptions(
            ctypes.byref(handle), uri, self._client_id, 1, None, ctypes.byref(opts)
        )
        if rc != 0:
            raise ValueError(f"MQTTAsync_createWithOptions failed: {rc}")
        rc = lib.MQTTAsync_setCallbacks(handle, None, self._cf_lost, self._cf_arrived, self._cf_delivered)
        if rc == 0:
            rc = lib.MQTTAsync_setConnected(handle, None, self._cf_connected)
        if rc == 0 and self._protocol == MQTTv5:
            rc = lib.MQTTAsync_setDisconnected(handle, None, self._cf_disconnected)
        if rc != 0:
            _destroy_handle(handle, [])
            raise ValueError(f"setting the library's callbacks failed: {rc}")
        with self._lock:
            self._handle, self._handle_uri = handle, uri
        return handle

    # --- connecting -------------------------------------------------------------

    def connect(
        self,
        host: str,
        port: int = 1883,
        keepalive: int = 60,
        bind_address: str = "",
        bind_port: int = 0,
        clean_start: Union[bool, int] = MQTT_CLEAN_START_FIRST_ONLY,
        properties: Optional[Properties] = None,
    ) -> MQTTErrorCode:
        """Connect to a broker and wait for its answer (bounded by ``connect_timeout``).

        Returns MQTT_ERR_SUCCESS once the broker answered (a refusal is reported to
        ``on_connect``); raises ``ConnectionRefusedError``/``TimeoutError`` when no
        MQTT connection could be made, as paho-mqtt raises socket errors.
        """
        self.connect_async(host, port, keepalive, bind_address, bind_port, clean_start, properties)
        return self.reconnect()

    def connect_async(
        self,
        host: str,
        port: int = 1883,
        keepalive: int = 60,
        bind_address: str = "",
        bind_port: int = 0,
        clean_start: Union[bool, int] = MQTT_CLEAN_START_FIRST_ONLY,
        properties: Optional[Properties] = None,
    ) -> MQTTErrorCode:
        """Record the connect parameters; ``loop_start``/``loop_forever`` connect."""
        if not host:
            raise ValueError("Invalid host.")
        if port <= 0 or port > 65535:
            raise ValueError("Invalid port number.")
        if keepalive < 0:
            raise ValueError("Keepalive must be >=0.")
        if bind_address or bind_port:
            raise ValueError("bind_address/bind_port are not supported")
        if properties is not None and self._protocol != MQTTv5:
            raise ValueError("Properties only apply to MQTT V5")
        self._host, self._port, self._keepalive = host, port, keepalive
        self._clean_start = clean_start
        self._connect_properties = properties
        self._connect_pending = True
        return MQTT_ERR_SUCCESS

    def _clean_start_now(self) -> bool:
        if self._clean_start == MQTT_CLEAN_START_FIRST_ONLY:
            return not self._first_connect_done
        return bool(self._clean_start)

    def reconnect(self) -> MQTTErrorCode:
        """Connect again with the last parameters (see :meth:`connect`)."""
        if not self._host:
            raise ValueError("connect() or connect_async() must be called first")
        handle = self._ensure_handle()
        lib = _native.lib()
        v5 = self._protocol == MQTTv5
        o = _native.MQTTAsync_connectOptions()
        o.struct_id, o.struct_version = b"MQTC", 8
        o.keepAliveInterval = self._keepalive
        o.maxInflight = self._max_inflight
        o.connectTimeout = max(1, int(self.connect_timeout))
        o.MQTTVersion = self._protocol
        o.automaticReconnect = int(self._reconnect_on_failure)
        o.minRetryInterval = max(1, self._min_delay)
        o.maxRetryInterval = max(o.minRetryInterval, self._max_delay)
        if v5:
            o.cleanstart = int(self._clean_start_now())
            o.onSuccess5, o.onFailure5 = self._cf_conn_ok5, self._cf_conn_fail5
        else:
            o.cleansession = int(self._clean_session)
            o.onSuccess, o.onFailure = self._cf_conn_ok, self._cf_conn_fail
        o.username = self._username
        if self._password is not None:
            pw = ctypes.create_string_buffer(self._password, len(self._password) or 1)
            o.binarypwd.len = len(self._password)
            o.binarypwd.data = ctypes.cast(pw, ctypes.c_void_p)
        to_free: list[CProperties] = []
        keep: list[Any] = []
        ssl_opts = self._ssl_options(keep)
        if ssl_opts is not None:
            o.ssl = ctypes.cast(ssl_opts, ctypes.c_void_p)
        headers = self._http_headers(keep)
        if headers is not None:
            o.httpHeaders = headers
        will = None
        if self._will is not None:
            topic, payload, qos, retain, wprops = self._will
            wbuf = ctypes.create_string_buffer(payload, len(payload) or 1)
            will = _native.MQTTAsync_willOptions(b"MQTW", 1, topic, None, int(retain), qos)
            will.payload.len = len(payload)
            will.payload.data = ctypes.cast(wbuf, ctypes.c_void_p)
            o.will = ctypes.pointer(will)
            if v5 and wprops is not None:
                cw = CProperties(wprops)
                to_free.append(cw)
                o.willProperties = ctypes.pointer(cw.c)
        if v5 and self._connect_properties is not None:
            cp = CProperties(self._connect_properties)
            to_free.append(cp)
            o.connectProperties = ctypes.pointer(cp.c)
        with self._cond:
            self._connect_event.clear()
            self._connecting = True
            self._connect_refused = False
            self._user_disconnect = False
            self._connect_pending = False
        try:
            rc = lib.MQTTAsync_connect(handle, ctypes.byref(o))
        finally:
            for p in to_free:
                p.free()
        if rc != 0:
            with self._cond:
                self._connecting = False
            raise ValueError(f"connect rejected by the library: {rc}")
        if in_callback():
            return MQTT_ERR_SUCCESS
        try:
            answered = self._connect_event.wait(self.connect_timeout + 5)
        except KeyboardInterrupt:
            # Callbacks run on the library's thread, so the session may be
            # up (subscribed, receiving) before this wait wakes: Ctrl-C here
            # ends it as cleanly as in loop_forever.
            self.disconnect()
            raise
        if not answered:
            raise TimeoutError("timed out waiting for the broker's CONNACK")
        if not self._connected and not self._connect_refused:
            raise ConnectionRefusedError(
                f"could not connect to {self._host}:{self._port} (library code {self._connect_result})"
            )
        return MQTT_ERR_SUCCESS

    def disconnect(
        self, reasoncode: Any = None, properties: Optional[Properties] = None
    ) -> MQTTErrorCode:
        """Send DISCONNECT and close; stops ``loop_forever`` and automatic reconnects."""
        with self._cond:
            self._user_disconnect = True
            self._connect_pending = False
            connected = self._connected
            self._cond.notify_all()
        self._drop_backlog()
        handle = self._handle
        if handle is None or not connected:
            self._release_handle()  # also cancels a pending automatic reconnect
            self._notify()
            return MQTT_ERR_NO_CONN
        v5 = self._protocol == MQTTv5
        o = _native.MQTTAsync_disconnectOptions()
        o.struct_id, o.struct_version = b"MQTD", 1
        cp = CProperties(properties if v5 else None)
        if v5:
            o.onSuccess5, o.onFailure5 = self._cf_disc_ok5, self._cf_disc_fail5
            o.properties = cp.c
            o.reasonCode = int(reasoncode or 0)
        else:
            o.onSuccess, o.onFailure = self._cf_disc_ok, self._cf_disc_fail
        self._disconnect_event.clear()
        try:
            rc = _native.lib().MQTTAsync_disconnect(handle, ctypes.byref(o))
        finally:
            cp.free()
        if rc != 0:
            self._fire_disconnect(0, False, None)
            return _map_rc(rc)
        if not in_callback():
            self._disconnect_event.wait(self.connect_timeout)
        return MQTT_ERR_SUCCESS

    # --- publish / subscribe ----------------------------------------------------

    def _next_mid(self) -> int:
        with self._lock:
            mid = next(self._mids)
            if mid > 65535:
                self._mids = itertools.count(2)
                mid = 1
            return mid

    def _may_send(self) -> bool:
        if self._connected or self._connecting:
            return True
        return self._handle is not None and self._reconnect_on_failure and not self._user_disconnect

    def _response(self, ok: Any, fail: Any, ok5: Any, fail5: Any, mid: int) -> _native.MQTTAsync_responseOptions:
        r = _native.response_options()
        if self._protocol == MQTTv5:
            r.onSuccess5, r.onFailure5 = ok5, fail5
        else:
            r.onSuccess, r.onFailure = ok, fail
        r.context = mid
        return r

    def publish(
        self,
        topic: str,
        payload: PayloadType = None,
        qos: int = 0,
        retain: bool = False,
        properties: Optional[Properties] = None,
    ) -> MQTTMessageInfo:
        """Publish a message; the result tracks it until the broker acknowledges it."""
        if not topic or "+" in topic or "#" in topic:
            raise ValueError("Invalid topic.")
        if qos not in (0, 1, 2):
            raise ValueError("Invalid QoS level.")
        data = payload_bytes(payload)
        if len(data) > 268435455:
            raise ValueError("Payload too large.")
        if properties is not None and self._protocol != MQTTv5:
            raise ValueError("Properties only apply to MQTT V5")
        mid = self._next_mid()
        info = MQTTMessageInfo(mid)
        if self._handle is None or not self._may_send():
            info.rc = MQTT_ERR_NO_CONN
            return info
        rc = self._submit((info, topic.encode("utf-8"), data, qos, bool(retain), properties))
        if rc != 0:
            info.rc = _map_rc(rc)
        return info

    def subscribe(
        self,
        topic: Any,
        qos: int = 0,
        options: Optional[SubscribeOptions] = None,
        properties: Optional[Properties] = None,
    ) -> tuple[MQTTErrorCode, Optional[int]]:
        """Subscribe to a filter, a ``(filter, qos)`` tuple or a list of them.

        With MQTT 5, ``options`` (or the tuple's second item) may be
        :class:`SubscribeOptions`. Returns ``(result, mid)``.
        """
        items = self._subscription_list(topic, qos, options)
        if properties is not None and self._protocol != MQTTv5:
            raise ValueError("Properties only apply to MQTT V5")
        handle = self._handle
        if handle is None or not self._connected:
            return MQTT_ERR_NO_CONN, None
        n = len(items)
        topics = (ctypes.c_char_p * n)(*[t.encode("utf-8") for t, _, _ in items])
        qoss = (ctypes.c_int * n)(*[q for _, q, _ in items])
        mid = self._next_mid()
        r = self._response(self._cf_sub_ok, self._cf_sub_fail, self._cf_sub_ok5, self._cf_sub_fail5, mid)
        if self._protocol == MQTTv5 and any(o is not None for _, _, o in items):
            arr = (_native.MQTTSubscribe_options * n)()
            for i, (_, _, o) in enumerate(items):
                o = o or SubscribeOptions()
                arr[i] = _native.subscribe_options(o.noLocal, o.retainAsPublished, o.retainHandling)
            if n == 1:
                r.subscribeOptions = arr[0]
            else:
                r.subscribeOptionsCount = n
                r.subscribeOptionsList = arr
        cp = CProperties(properties)
        r.properties = cp.c
        with self._lock:
            self._pending_sub[mid] = n
        try:
            rc = _native.lib().MQTTAsync_subscribeMany(handle, n, topics, qoss, ctypes.byref(r))
        finally:
            cp.free()
        if rc != 0:
            with self._lock:
                self._pending_sub.pop(mid, None)
            return _map_rc(rc), mid
        return MQTT_ERR_SUCCESS, mid

    def _subscription_list(
        self, topic: Any, qos: int, options: Optional[SubscribeOptions]
    ) -> list[tuple[str, int, Optional[SubscribeOptions]]]:
        def one(t: Any, q: Any) -> tuple[str, int, Optional[SubscribeOptions]]:
            opts: Optional[SubscribeOptions] = None
            if isinstance(q, SubscribeOptions):
                opts, q = q, q.QoS
            if not isinstance(t, str) or not t:
                raise ValueError("Invalid topic.")
            if q not in (0, 1, 2):
                raise ValueError("Invalid QoS level.")
            if opts is not None and self._protocol != MQTTv5:
                raise ValueError("Subscribe options only apply to MQTT V5")
            return t, int(q), opts

        if isinstance(topic, tuple):
            return [one(*topic)]
        if isinstance(topic, str):
            return [one(topic, options if options is not None else qos)]
        if isinstance(topic, list):
            if not topic:
                raise ValueError("Empty topic list")
            return [one(*t) for t in topic]
        raise ValueError("Invalid topic.")

    def unsubscribe(
        self, topic: Union[str, list[str]], properties: Optional[Properties] = None
    ) -> tuple[MQTTErrorCode, Optional[int]]:
        """Unsubscribe from a filter or a list of filters; returns ``(result, mid)``."""
        topics_l = [topic] if isinstance(topic, str) else list(topic)
        if not topics_l or not all(isinstance(t, str) and t for t in topics_l):
            raise ValueError("Invalid topic.")
        handle = self._handle
        if handle is None or not self._connected:
            return MQTT_ERR_NO_CONN, None
        n = len(topics_l)
        topics = (ctypes.c_char_p * n)(*[t.encode("utf-8") for t in topics_l])
        mid = self._next_mid()
        r = self._response(self._cf_unsub_ok, self._cf_unsub_fail, self._cf_unsub_ok5, self._cf_unsub_fail5, mid)
        cp = CProperties(properties if self._protocol == MQTTv5 else None)
        r.properties = cp.c
        with self._lock:
            self._pending_unsub[mid] = n
        try:
            rc = _native.lib().MQTTAsync_unsubscribeMany(handle, n, topics, ctypes.byref(r))
        finally:
            cp.free()
        if rc != 0:
            with self._lock:
                self._pending_unsub.pop(mid, None)
            return _map_rc(rc), mid
        return MQTT_ERR_SUCCESS, mid


@atexit.register
def _destroy_all() -> None:
    """Stop every client's library threads before the interpreter goes away."""
    for client in list(_live_clients):
        try:
            client._release_handle()
        except Exception:
            pass
