"""``ferromq.Broker``: FerroMQ's embedded MQTT broker, started and hooked from Python.

Owns the ctypes declarations of ``MQTTBroker.h``, the broker handle's lifetime (the
callback trampolines live exactly as long as the handle) and the translation of the
C hooks into Python callbacks with ``True``/``False``/reason-code answers.
"""

from __future__ import annotations

import atexit
import ctypes
import os
import threading
import weakref
from ctypes import POINTER, Structure, c_char, c_char_p, c_int, c_void_p
from typing import Any, Optional, Union

from . import _native
from ._broker_hooks import (AUTH_CONTINUE, AUTH_SUCCESS, BrokerClient, BrokerMessage,
                            _Callbacks, _Hooks)
from ._dispatch import in_callback
from .properties import CProperties, Properties

__all__ = ["AUTH_CONTINUE", "AUTH_SUCCESS", "Broker", "BrokerClient", "BrokerError",
           "BrokerMessage"]




class _ListenerOptions(Structure):
    """MQTTBroker_listenerOptions (version 0): TLS and WebSocket settings."""

    _fields_ = [
        ("struct_id", c_char * 4),
        ("struct_version", c_int),
        ("protocol", c_int),
        ("certfile", c_char_p),
        ("keyfile", c_char_p),
        ("cafile", c_char_p),
        ("capath", c_char_p),
        ("requireCertificate", c_int),
        ("useIdentityAsUsername", c_int),
        ("tlsVersion", c_char_p),
        ("ciphers", c_char_p),
    ]


_PROTOCOLS = {"mqtt": 0, "websockets": 1}


class _Options(Structure):
    _fields_ = [
        ("struct_id", c_char * 4),
        ("struct_version", c_int),
        ("listeners", POINTER(c_char_p)),
        ("listenerCount", c_int),
        ("maxConnections", c_int),
        ("maxPacketSize", c_int),
        ("maxInflight", c_int),
        ("maxQueued", c_int),
        ("dropOldest", c_int),
        ("maxTopicLength", c_int),
        ("maxTopicLevels", c_int),
        ("keepAliveFactorPercent", c_int),
        ("connectTimeout", c_int),
        ("maxKeepAlive", c_int),
        ("topicAliasMaximum", c_int),
        ("topicAliasOutMaximum", c_int),
        ("receiveMaximum", c_int),
        # struct_version 1
        ("maxInflightBytes", c_int),
        ("maxQueuedBytes", c_int),
        ("slowConsumerTimeout", c_int),
        # struct_version 2
        ("listenerOptions", POINTER(_ListenerOptions)),
        ("persistenceLocation", c_char_p),
    ]


# Python keyword -> (C field, default of MQTTBroker_createOptions_initializer)
LIMITS: dict[str, tuple[str, int]] = {
    "max_connections": ("maxConnections", 100000),
    "max_packet_size": ("maxPacketSize", 16777216),
    "max_inflight": ("maxInflight", 32),
    "max_queued": ("maxQueued", 1000),
    "drop_oldest": ("dropOldest", 0),
    "max_topic_length": ("maxTopicLength", 65535),
    "max_topic_levels": ("maxTopicLevels", 128),
    "keepalive_factor_percent": ("keepAliveFactorPercent", 150),
    "connect_timeout": ("connectTimeout", 10),
    "max_keepalive": ("maxKeepAlive", 0),
    "topic_alias_maximum": ("topicAliasMaximum", 16),
    "topic_alias_out_maximum": ("topicAliasOutMaximum", 16),
    "receive_maximum": ("receiveMaximum", 1024),
    "max_inflight_bytes": ("maxInflightBytes", 0),
    "max_queued_bytes": ("maxQueuedBytes", 16777216),
    "slow_consumer_timeout": ("slowConsumerTimeout", 30),
}


class _Stats(Structure):
    _fields_ = [("struct_id", c_char * 4), ("struct_version", c_int)] + [
        (name, ctypes.c_longlong)
        for name in ("connections", "sessions", "retained", "messagesIn", "messagesOut",
                     "dropped", "expired", "refusedConnections",
                     # struct_version 1
                     "droppedQoS0", "droppedOffline", "flowPauses", "slowConsumers",
                     # struct_version 2
                     "deliveryDenied")
    ]


_STATS_KEYS = {"connections": "connections", "sessions": "sessions", "retained": "retained",
               "messagesIn": "messages_in", "messagesOut": "messages_out", "dropped": "dropped",
               "expired": "expired", "refusedConnections": "refused_connections",
               "droppedQoS0": "dropped_qos0", "droppedOffline": "dropped_offline",
               "flowPauses": "flow_pauses", "slowConsumers": "slow_consumers",
               "deliveryDenied": "delivery_denied"}


class _BridgeOptions(Structure):
    _fields_ = [
        ("struct_id", c_char * 4),
        ("struct_version", c_int),
        ("name", c_char_p),
        ("addresses", POINTER(c_char_p)),
        ("addressCount", c_int),
        ("topics", POINTER(c_char_p)),
        ("topicCount", c_int),
        ("options", c_char_p),
    ]


_declared = False
_declare_lock = threading.Lock()


def _lib() -> ctypes.CDLL:
    global _declared
    lib = _native.broker_lib()
    with _declare_lock:
        if not _declared:
            protos: dict[str, tuple[Any, list[Any]]] = {
                "MQTTBroker_create": (c_int, [POINTER(c_void_p), POINTER(_Options)]),
                "MQTTBroker_setCallbacks": (c_int, [c_void_p, c_void_p, POINTER(_Callbacks)]),
                "MQTTBroker_start": (c_int, [c_void_p]),
                "MQTTBroker_stop": (c_int, [c_void_p]),
                "MQTTBroker_destroy": (None, [POINTER(c_void_p)]),
                "MQTTBroker_getPort": (c_int, [c_void_p, c_int]),
                "MQTTBroker_publish": (
                    c_int,
                    [c_void_p, c_char_p, c_int, c_void_p, c_int, c_int,
                     POINTER(_native.MQTTProperties)],
                ),
                "MQTTBroker_strerror": (c_char_p, [c_int]),
                "MQTTBroker_getStats": (c_int, [c_void_p, POINTER(_Stats)]),
                "MQTTBroker_reloadCertificates": (c_int, [c_void_p]),
                "MQTTBroker_addBridge": (c_int, [c_void_p, POINTER(_BridgeOptions)]),
                "MQTTBroker_disconnectClient": (c_int, [c_void_p, c_char_p, c_int]),
            }
            _native.require(lib, "MQTTBroker_create", "MQTTBroker")
            for name, (res, args) in protos.items():
                fn = getattr(lib, name, None)
                if fn is None:
                    continue  # an older library: the method using it says so
                fn.restype, fn.argtypes = res, args
            _declared = True
    return lib


class BrokerError(Exception):
    """A broker call failed; ``code`` is the library's MQTTBROKER_* code."""

    def __init__(self, what: str, code: int) -> None:
        text = _lib().MQTTBroker_strerror(code) or b"unknown error"
        super().__init__(f"{what}: {text.decode('utf-8', 'replace')} ({code})")
        self.code = code


_live: "weakref.WeakSet[Broker]" = weakref.WeakSet()


class Broker(_Hooks):
    """An embedded MQTT 3.1/3.1.1/5.0 broker.

    ``Broker(host="127.0.0.1", port=1883, **limits)``; ``port=0`` picks a free port,
    readable from :attr:`port` after :meth:`start`. ``limits`` are keyword names of
    :data:`LIMITS` (``max_connections``, ``max_packet_size``, ``max_inflight``,
    ``max_queued``, ``max_queued_bytes``, ``slow_consumer_timeout``,
    ``receive_maximum``, ...). A full queue of an online client pauses the
    clients publishing into it; see the README's "Delivery guarantees".
    ``persistence_location=DIR`` keeps retained messages and durable sessions
    in ``DIR/ferromq.redb`` across restarts and crashes (read at the first
    :meth:`start`; every acknowledgement waits for the disk).

    The listener speaks TLS when ``certfile`` and ``keyfile`` are given, and
    MQTT over WebSocket with ``protocol="websockets"`` (mosquitto's listener
    keys): ``cafile``/``capath`` with ``require_certificate=True`` ask clients
    for a certificate, ``use_identity_as_username=True`` makes its common name
    the user name, ``tls_version`` ("tlsv1.2", "tlsv1.3") is the lowest
    version, ``ciphers`` an OpenSSL cipher list. :meth:`reload_certificates`
    re-reads the files (new connections get them; open ones stay).

    Callbacks (assign before :meth:`start`; they run on the broker's callback
    thread; an exception is logged and the request refused with 0x80):

    - ``on_client_connect(client)``: return False or a reason code (1..5 or
      0x80..0xFF) to refuse; anything else accepts.
    - ``on_client_publish(client, topic, message)``: return False or a code
      >= 0x80 to refuse the message.
    - ``on_client_subscribe(client, topic)``: return False (or a code >= 0x80)
      to refuse, an int 0..2 to grant at most that QoS.
    - ``on_client_unsubscribe(client, topic)``: a notice, once per filter.
    - ``on_client_deliver(client, topic, message)``: return False to skip this
      message for this subscriber (counted in ``stats()["delivery_denied"]``).
      It runs inline while the broker routes (not on the callback thread): keep
      it quick; broker methods called from it raise BrokerError.
    - ``on_client_auth(client, method, data, step)``: MQTT 5 enhanced
      authentication (without it a CONNECT naming a method gets 0x8C). Return
      True (or AUTH_SUCCESS) to accept, ``(AUTH_CONTINUE, data)`` to send AUTH
      0x18 with ``data`` and wait for the client's next AUTH (``step`` 1, 2,
      ...), ``(AUTH_SUCCESS, data)`` to accept with data in the CONNACK, or
      False / a code >= 0x80 to refuse. A client so connected may
      re-authenticate (AUTH 0x19): ``step`` starts at 0 again, success answers
      AUTH 0x00, a refusal ends the connection with that code.
    - ``on_client_disconnect(client)``: ``client.reason`` holds the reason code.

    ``client`` is a :class:`BrokerClient`: ``client_id``, ``username``,
    ``address``, ``cert_subject``, ``protocol``, ``bridge``.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 1883,
        persistence_location: Optional[str] = None,
        *,
        protocol: str = "mqtt",
        certfile: Optional[str] = None,
        keyfile: Optional[str] = None,
        cafile: Optional[str] = None,
        capath: Optional[str] = None,
        require_certificate: bool = False,
        use_identity_as_username: bool = False,
        tls_version: Optional[str] = None,
        ciphers: Optional[str] = None,
        **limits: int,
    ) -> None:
        if protocol not in _PROTOCOLS:
            raise ValueError(f"protocol must be 'mqtt' or 'websockets', not {protocol!r}")
        unknown = set(limits) - set(LIMITS)
        if unknown:
            raise TypeError(f"unknown broker limits: {', '.join(sorted(unknown))}")
        self.host = host
        self._port_asked = port
        self._init_hooks()
        self._lock = threading.Lock()
        self._started = False
        self._ever_started = False
        self._port: Optional[int] = None
        lib = _lib()
        h = host if ":" not in host or host.startswith("[") else f"[{host}]"
        self._listener = (c_char_p * 1)(f"{h}:{port}".encode("utf-8"))
        opts = _Options(b"MQBO", 2, self._listener, 1)
        for key, (field, default) in LIMITS.items():
            setattr(opts, field, int(limits.get(key, default)))

        def enc(v: Optional[Any]) -> Optional[bytes]:
            return None if v is None else str(v).encode("utf-8")

        tls = (certfile, keyfile, cafile, capath, tls_version, ciphers)
        if protocol != "mqtt" or any(v is not None for v in tls) or require_certificate \
                or use_identity_as_username:
            self._listener_opts = _ListenerOptions(
                b"MQBL", 0, _PROTOCOLS[protocol], enc(certfile), enc(keyfile), enc(cafile),
                enc(capath), int(require_certificate), int(use_identity_as_username),
                enc(tls_version), enc(ciphers))
            opts.listenerOptions = ctypes.pointer(self._listener_opts)
        # Kept referenced: the options struct points into it.
        self._location = (None if persistence_location is None
                          else os.fsencode(persistence_location))
        opts.persistenceLocation = self._location
        handle = c_void_p()
        rc = lib.MQTTBroker_create(ctypes.byref(handle), ctypes.byref(opts))
        if rc != 0:
            raise BrokerError("MQTTBroker_create", rc)
        self._handle: Optional[c_void_p] = handle
        _live.add(self)

    # --- lifetime -------------------------------------------------------------

    def _h(self) -> c_void_p:
        if self._handle is None:
            raise BrokerError("broker closed", -6)
        return self._handle

    def start(self) -> "Broker":
        """Bind the listener and start serving; returns self."""
        lib = _lib()
        handle = self._h()
        with self._lock:
            if not self._ever_started:
                cbs = self._callbacks_struct()
                rc = lib.MQTTBroker_setCallbacks(handle, None, ctypes.byref(cbs))
                if rc != 0:
                    raise BrokerError("MQTTBroker_setCallbacks", rc)
            rc = lib.MQTTBroker_start(handle)
            if rc != 0:
                raise BrokerError("MQTTBroker_start", rc)
            self._ever_started = True
            self._started = True
            port = lib.MQTTBroker_getPort(handle, 0)
            self._port = port if port > 0 else None
        return self

    def reload_certificates(self) -> None:
        """Read the TLS certificate and key files again (after renewal): new
        connections get them, open ones keep theirs. Raises BrokerError if
        the broker is not running or a file cannot be used (the old ones stay)."""
        lib = _lib()
        fn = getattr(lib, "MQTTBroker_reloadCertificates", None)
        if fn is None:
            raise BrokerError("MQTTBroker_reloadCertificates (library too old)", -1)
        rc = fn(self._h())
        if rc != 0:
            raise BrokerError("MQTTBroker_reloadCertificates", rc)

    def stop(self) -> None:
        """Close every connection and the listener (sessions and retained messages stay)."""
        with self._lock:
            if self._handle is None or not self._started:
                return
            self._started = False
            rc = _lib().MQTTBroker_stop(self._handle)
        if rc != 0 and rc != -22:
            raise BrokerError("MQTTBroker_stop", rc)

    def close(self) -> None:
        """Stop and free the broker; no callback runs after this returns."""
        with self._lock:
            handle, self._handle = self._handle, None
            self._started = False
        if handle is None:
            return
        keep = list(self._trampolines.values())

        def destroy() -> None:
            _lib().MQTTBroker_destroy(ctypes.byref(handle))
            keep.clear()

        if in_callback():
            threading.Thread(target=destroy, daemon=True).start()
        else:
            destroy()

    def __enter__(self) -> "Broker":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    @property
    def port(self) -> int:
        """The port the listener is bound to (after :meth:`start`)."""
        if self._port is None:
            raise BrokerError("port", -22)
        return self._port

    @property
    def running(self) -> bool:
        """True between :meth:`start` and :meth:`stop`."""
        return self._started

    def stats(self) -> dict[str, int]:
        """The broker's counters: ``connections``, ``sessions``, ``retained``,
        ``messages_in``, ``messages_out``, ``dropped``, ``expired``,
        ``refused_connections``, ``dropped_qos0``, ``dropped_offline``,
        ``flow_pauses``, ``slow_consumers``, ``delivery_denied``."""
        lib = _lib()
        _native.require(lib, "MQTTBroker_getStats", "MQTTBroker_getStats")
        st = _Stats(b"MQBS", 2)
        rc = lib.MQTTBroker_getStats(self._h(), ctypes.byref(st))
        if rc != 0:
            raise BrokerError("MQTTBroker_getStats", rc)
        return {key: int(getattr(st, field)) for field, key in _STATS_KEYS.items()}

    def disconnect_client(self, client_id: str, reason: int = 0x98) -> None:
        """End the connection of the connected client ``client_id``: an MQTT 5
        client gets DISCONNECT with ``reason`` (default 0x98, administrative
        action), a 3.x client is closed; its will is published. Raises
        BrokerError (``code`` MQTTBROKER_NOT_FOUND, -29) when no such client
        is connected."""
        lib = _lib()
        _native.require(lib, "MQTTBroker_disconnectClient", "MQTTBroker_disconnectClient")
        rc = lib.MQTTBroker_disconnectClient(self._h(), client_id.encode("utf-8"), int(reason))
        if rc != 0:
            raise BrokerError("MQTTBroker_disconnectClient", rc)

    def add_bridge(self, name: str, addresses: list[str], topics: list[str],
                   **options: Union[str, int, bool]) -> None:
        """Bridge to another broker, as mosquitto's ``connection NAME`` block:
        ``addresses`` are ``"host[:port]"`` tried in order, ``topics`` what
        follows ``topic`` in mosquitto.conf (``"sensors/# out 1 \"\" site7/"``),
        and ``options`` the other bridge keys (``bridge_protocol_version="mqttv50"``,
        ``remote_username="u"``, ``cleansession=False``, ``restart_timeout="5 30"``).
        It runs while the broker serves (now, if it is serving)."""
        lib = _lib()
        _native.require(lib, "MQTTBroker_addBridge", "MQTTBroker_addBridge")
        addrs = (c_char_p * max(1, len(addresses)))(*[a.encode("utf-8") for a in addresses])
        tops = (c_char_p * max(1, len(topics)))(*[t.encode("utf-8") for t in topics])
        lines = []
        for key, value in options.items():
            if isinstance(value, bool):
                value = "true" if value else "false"
            lines.append(f"{key} {value}")
        text = "\n".join(lines).encode("utf-8")
        o = _BridgeOptions(b"MQBB", 0, name.encode("utf-8"), addrs, len(addresses), tops,
                           len(topics), text or None)
        rc = lib.MQTTBroker_addBridge(self._h(), ctypes.byref(o))
        if rc != 0:
            raise BrokerError("MQTTBroker_addBridge", rc)

    # --- publishing ---------------------------------------------------------------

    def publish(
        self,
        topic: str,
        payload: Union[str, bytes, bytearray, int, float, None] = None,
        qos: int = 0,
        retain: bool = False,
        properties: Optional[Properties] = None,
    ) -> None:
        """Publish to the broker's subscribers as if a client had published."""
        if payload is None:
            data = b""
        elif isinstance(payload, str):
            data = payload.encode("utf-8")
        elif isinstance(payload, (bytes, bytearray)):
            data = bytes(payload)
        elif isinstance(payload, (int, float)):
            data = str(payload).encode("ascii")
        else:
            raise TypeError("payload must be str, bytes, int, float or None")
        cp = CProperties(properties)
        try:
            rc = _lib().MQTTBroker_publish(
                self._h(), topic.encode("utf-8"), len(data), data, qos, int(bool(retain)),
                ctypes.byref(cp.c) if properties is not None else None,
            )
        finally:
            cp.free()
        if rc != 0:
            raise BrokerError("MQTTBroker_publish", rc)


@atexit.register
def _close_all() -> None:
    for b in list(_live):
        try:
            b.close()
        except Exception:
            pass
