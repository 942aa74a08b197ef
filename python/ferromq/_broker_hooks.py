"""The broker's C callbacks (``MQTTBroker_callbacks`` version 1) as Python callbacks.

Holds the ctypes layouts of the callback table, the client record and the
message a hook is shown, the Python objects made from them (``BrokerClient``,
``BrokerMessage``), and ``_Hooks``, the part of ``Broker`` that turns each C
call into a call of the user's callable and its answer into the C return value.
"""

from __future__ import annotations

import ctypes
import logging
import weakref
from ctypes import CFUNCTYPE, POINTER, Structure, c_char, c_char_p, c_int, c_void_p
from typing import Any, Callable, Optional

from . import _native
from ._dispatch import _tls
from .properties import PacketTypes, Properties, from_c

_log = logging.getLogger("ferromq.broker")

_NOT_AUTHORIZED = 0x87
_UNSPECIFIED = 0x80

#: on_client_auth: the client is authenticated.
AUTH_SUCCESS = 0
#: on_client_auth: send AUTH 0x18 (continue authentication) and wait for the client.
AUTH_CONTINUE = 0x18


class _ClientInfo(Structure):
    """MQTTBroker_clientInfo, version 1 (what a version 1 callbacks table is shown)."""

    _fields_ = [
        ("struct_id", c_char * 4),
        ("struct_version", c_int),
        ("clientId", c_char_p),
        ("username", c_char_p),
        ("password", c_void_p),
        ("passwordLen", c_int),
        ("address", c_char_p),
        ("MQTTVersion", c_int),
        # struct_version 1
        ("certSubject", c_char_p),
        ("bridge", c_int),
    ]


class _Message(Structure):
    _fields_ = [
        ("struct_id", c_char * 4),
        ("struct_version", c_int),
        ("payloadlen", c_int),
        ("payload", c_void_p),
        ("qos", c_int),
        ("retained", c_int),
        ("properties", _native.MQTTProperties),
    ]


_ON_CONNECT = CFUNCTYPE(c_int, c_void_p, POINTER(_ClientInfo))
_ON_PUBLISH = CFUNCTYPE(c_int, c_void_p, POINTER(_ClientInfo), c_char_p, POINTER(_Message))
_ON_SUBSCRIBE = CFUNCTYPE(c_int, c_void_p, POINTER(_ClientInfo), c_char_p, c_int)
_ON_DISCONNECT = CFUNCTYPE(None, c_void_p, POINTER(_ClientInfo), c_int)
_ON_UNSUBSCRIBE = CFUNCTYPE(None, c_void_p, POINTER(_ClientInfo), c_char_p)
_ON_DELIVER = CFUNCTYPE(c_int, c_void_p, POINTER(_ClientInfo), c_char_p, POINTER(_Message))
_ON_AUTH = CFUNCTYPE(c_int, c_void_p, POINTER(_ClientInfo), c_char_p, c_void_p, c_int, c_int,
                     c_void_p, c_int, POINTER(c_int))


class _Callbacks(Structure):
    _fields_ = [
        ("struct_id", c_char * 4),
        ("struct_version", c_int),
        ("on_client_connect", _ON_CONNECT),
        ("on_client_publish", _ON_PUBLISH),
        ("on_client_subscribe", _ON_SUBSCRIBE),
        ("on_client_disconnect", _ON_DISCONNECT),
        # struct_version 1
        ("on_client_unsubscribe", _ON_UNSUBSCRIBE),
        ("on_client_deliver", _ON_DELIVER),
        ("on_client_auth", _ON_AUTH),
    ]


def _dec(b: Optional[bytes]) -> Optional[str]:
    return None if b is None else b.decode("utf-8", "replace")


class BrokerClient:
    """The client a broker callback is about (a copy; valid after the callback).

    ``client_id``, ``username``, ``password`` (on_client_connect only),
    ``address`` ("ip:port"), ``cert_subject`` (the client certificate's common
    name, on a listener that asks for one), ``protocol`` (3, 4 or 5) and
    ``bridge`` (connected as a bridge).
    """

    def __init__(self, info: Optional[_ClientInfo]) -> None:
        self.client_id = ""
        self.username: Optional[str] = None
        self.password: Optional[bytes] = None
        self.address: Optional[str] = None
        self.cert_subject: Optional[str] = None
        self.protocol = 0
        self.bridge = False
        #: The MQTT 5 reason code the connection ended with (on_client_disconnect
        #: only; -1 when the socket closed without one).
        self.reason: Optional[int] = None
        if info is None:
            return
        self.client_id = _dec(info.clientId) or ""
        self.username = _dec(info.username)
        if info.password and info.passwordLen >= 0:
            self.password = ctypes.string_at(info.password, info.passwordLen)
        self.address = _dec(info.address)
        self.protocol = info.MQTTVersion
        if info.struct_version >= 1:
            self.cert_subject = _dec(info.certSubject)
            self.bridge = bool(info.bridge)

    def __repr__(self) -> str:
        return (f"BrokerClient(client_id={self.client_id!r}, username={self.username!r}, "
                f"address={self.address!r}, protocol={self.protocol}, bridge={self.bridge})")


class BrokerMessage:
    """A message a client published: ``payload`` (bytes), ``qos``, ``retain``, ``properties``."""

    def __init__(self, topic: str, m: _Message) -> None:
        self.topic = topic
        self.payload = ctypes.string_at(m.payload, m.payloadlen) if m.payloadlen > 0 else b""
        self.qos = m.qos
        self.retain = bool(m.retained)
        self.properties: Properties = from_c(m.properties, PacketTypes.PUBLISH)

    def __repr__(self) -> str:
        return f"BrokerMessage(topic={self.topic!r}, payload={self.payload!r}, qos={self.qos})"


def _trampoline(owner: Any, proto: Any, method: str, default: Any) -> Any:
    ref = weakref.ref(owner)

    def call(*args: Any) -> Any:
        _tls.depth = getattr(_tls, "depth", 0) + 1
        try:
            obj = ref()
            return default if obj is None else getattr(obj, method)(*args)
        except BaseException:
            _log.exception("ferromq: internal error in broker %s", method)
            return default
        finally:
            _tls.depth -= 1

    return proto(call)


def _verdict(answer: Any, accept: int) -> int:
    """A callback's answer as the C hook's return value."""
    if answer is None or answer is True:
        return accept
    if answer is False:
        return _NOT_AUTHORIZED
    return int(answer)


#: Python callback name -> (C member, ctypes prototype, trampoline method, default answer).
_HOOKS = {
    "on_client_connect": ("on_client_connect", _ON_CONNECT, "_c_on_connect", _UNSPECIFIED),
    "on_client_publish": ("on_client_publish", _ON_PUBLISH, "_c_on_publish", _UNSPECIFIED),
    "on_client_subscribe": ("on_client_subscribe", _ON_SUBSCRIBE, "_c_on_subscribe",
                            _UNSPECIFIED),
    "on_client_disconnect": ("on_client_disconnect", _ON_DISCONNECT, "_c_on_disconnect", None),
    "on_client_unsubscribe": ("on_client_unsubscribe", _ON_UNSUBSCRIBE, "_c_on_unsubscribe",
                              None),
    # A failing delivery check skips the message (fail closed).
    "on_client_deliver": ("on_client_deliver", _ON_DELIVER, "_c_on_deliver", 1),
    "on_client_auth": ("on_client_auth", _ON_AUTH, "_c_on_auth", _UNSPECIFIED),
}


class _Hooks:
    """The callback half of ``Broker``: the user's callables and their C trampolines."""

    on_client_connect: Optional[Callable[[BrokerClient], Any]]
    on_client_publish: Optional[Callable[[BrokerClient, str, BrokerMessage], Any]]
    on_client_subscribe: Optional[Callable[[BrokerClient, str], Any]]
    on_client_unsubscribe: Optional[Callable[[BrokerClient, str], Any]]
    on_client_deliver: Optional[Callable[[BrokerClient, str, BrokerMessage], Any]]
    on_client_auth: Optional[Callable[[BrokerClient, str, Optional[bytes], int], Any]]
    on_client_disconnect: Optional[Callable[[BrokerClient], Any]]

    def _init_hooks(self) -> None:
        for name in _HOOKS:
            setattr(self, name, None)
        self._trampolines = {
            name: _trampoline(self, proto, method, default)
            for name, (_, proto, method, default) in _HOOKS.items()
        }

    def _callbacks_struct(self) -> _Callbacks:
        """The version 1 table with a trampoline for each callback set."""
        cbs = _Callbacks(b"MQBK", 1)
        for name, (member, _, _, _) in _HOOKS.items():
            if getattr(self, name) is not None:
                setattr(cbs, member, self._trampolines[name])
        return cbs

    def _run(self, name: str, cb: Optional[Callable[..., Any]], *args: Any) -> tuple[bool, Any]:
        if cb is None:
            return True, None
        try:
            return True, cb(*args)
        except Exception:
            _log.exception("ferromq: exception in Broker.%s", name)
            return False, None

    def _c_on_connect(self, ctx: Any, info: Any) -> int:
        client = BrokerClient(info.contents if info else None)
        ok, answer = self._run("on_client_connect", self.on_client_connect, client)
        return _verdict(answer, 0) if ok else _UNSPECIFIED

    def _c_on_publish(self, ctx: Any, info: Any, topic: Optional[bytes], msg: Any) -> int:
        client = BrokerClient(info.contents if info else None)
        t = (topic or b"").decode("utf-8", "replace")
        message = BrokerMessage(t, msg.contents)
        ok, answer = self._run("on_client_publish", self.on_client_publish, client, t, message)
        if not ok:
            return _UNSPECIFIED
        code = _verdict(answer, 0)
        return code if code >= 0x80 or code == 0 else 0

    def _c_on_subscribe(self, ctx: Any, info: Any, flt: Optional[bytes], qos: int) -> int:
        client = BrokerClient(info.contents if info else None)
        f = (flt or b"").decode("utf-8", "replace")
        ok, answer = self._run("on_client_subscribe", self.on_client_subscribe, client, f)
        if not ok:
            return _UNSPECIFIED
        code = _verdict(answer, qos)
        return code if code >= 0x80 else min(max(code, 0), qos)

    def _c_on_unsubscribe(self, ctx: Any, info: Any, flt: Optional[bytes]) -> None:
        client = BrokerClient(info.contents if info else None)
        f = (flt or b"").decode("utf-8", "replace")
        self._run("on_client_unsubscribe", self.on_client_unsubscribe, client, f)

    def _c_on_deliver(self, ctx: Any, info: Any, topic: Optional[bytes], msg: Any) -> int:
        client = BrokerClient(info.contents if info else None)
        t = (topic or b"").decode("utf-8", "replace")
        message = BrokerMessage(t, msg.contents)
        ok, answer = self._run("on_client_deliver", self.on_client_deliver, client, t, message)
        # Anything but an explicit refusal delivers; a failing check does not.
        return 1 if not ok or answer is False else 0

    def _c_on_auth(self, ctx: Any, info: Any, method: Optional[bytes], data: Any, length: int,
                   step: int, out: Any, capacity: int, out_len: Any) -> int:
        client = BrokerClient(info.contents if info else None)
        m = (method or b"").decode("utf-8", "replace")
        got = ctypes.string_at(data, length) if data and length >= 0 else None
        ok, answer = self._run("on_client_auth", self.on_client_auth, client, m, got, step)
        if not ok:
            return _UNSPECIFIED
        reply: Optional[bytes] = None
        if isinstance(answer, tuple):
            answer, reply = answer
        code = _verdict(answer, AUTH_SUCCESS)
        if reply is not None and code in (AUTH_SUCCESS, AUTH_CONTINUE):
            reply = bytes(reply)
            if len(reply) > capacity:
                _log.error("ferromq: on_client_auth data longer than %d bytes", capacity)
                return _UNSPECIFIED
            ctypes.memmove(out, reply, len(reply))
            out_len[0] = len(reply)
        return code

    def _c_on_disconnect(self, ctx: Any, info: Any, reason: int) -> None:
        client = BrokerClient(info.contents if info else None)
        client.reason = reason
        self._run("on_client_disconnect", self.on_client_disconnect, client)
