"""The C callbacks of one client and their translation into paho-mqtt user callbacks.

Owns the ctypes trampolines handed to MQTTAsync (kept alive as long as the client's C
handle may call them), the 1.x/2.x callback signatures, and the rule that an
exception raised by user code is logged, never propagated into the C library.
"""

from __future__ import annotations

import ctypes
import logging
import threading
import weakref
from typing import Any, Callable, Optional

from . import _native
from .enums import (
    MQTT_ERR_CONN_LOST,
    MQTT_LOG_ERR,
    MQTTv5,
    CallbackAPIVersion,
    ConnectFlags,
    DisconnectFlags,
    topic_matches_sub,
)
from .message import MQTTMessage
from .properties import PacketTypes, Properties, ReasonCode, from_c

_log = logging.getLogger("ferromq")
_tls = threading.local()

# CONNACK return codes of MQTT 3 as the MQTT 5 reason codes paho-mqtt 2.x reports.
_V3_CONNACK_AS_REASON = {0: 0, 1: 132, 2: 133, 3: 136, 4: 134, 5: 135}


def in_callback() -> bool:
    """True on a thread that is currently running one of our C callbacks."""
    return bool(getattr(_tls, "depth", 0))


def _trampoline(owner: Any, proto: Any, method: str, default: Any = None) -> Any:
    """A C function pointer calling ``owner.<method>`` through a weak reference."""
    ref = weakref.ref(owner)

    def call(*args: Any) -> Any:
        _tls.depth = getattr(_tls, "depth", 0) + 1
        try:
            obj = ref()
            if obj is None:
                return default
            return getattr(obj, method)(*args)
        except BaseException:  # never let an exception unwind into C
            _log.exception("ferromq: internal error in %s", method)
            return default
        finally:
            _tls.depth -= 1

    return proto(call)


def _ctx_mid(ctx: Optional[int]) -> int:
    return int(ctx or 0)


class Dispatch:
    """Mixin of :class:`ferromq.Client`: receives the library's callbacks."""

    # Provided by Client.
    _protocol: int
    _api: CallbackAPIVersion
    _userdata: Any
    _logger: Optional[logging.Logger]
    _lock: threading.RLock
    _cond: threading.Condition
    _pending_pub: dict[int, Any]
    _pending_sub: dict[int, int]
    _pending_unsub: dict[int, int]
    _msg_callbacks: dict[str, Callable[..., Any]]
    on_connect: Optional[Callable[..., Any]]
    on_connect_fail: Optional[Callable[..., Any]]
    on_disconnect: Optional[Callable[..., Any]]
    on_message: Optional[Callable[..., Any]]
    on_publish: Optional[Callable[..., Any]]
    on_subscribe: Optional[Callable[..., Any]]
    on_unsubscribe: Optional[Callable[..., Any]]
    on_log: Optional[Callable[..., Any]]

    def _make_c_callbacks(self) -> None:
        n = _native
        self._cf_lost = _trampoline(self, n.CONNECTION_LOST, "_c_connection_lost")
        self._cf_arrived = _trampoline(self, n.MESSAGE_ARRIVED, "_c_message_arrived", 1)
        self._cf_delivered = n.DELIVERY_COMPLETE()  # NULL: completion comes per publish
        self._cf_connected = _trampoline(self, n.CONNECTED, "_c_connected")
        self._cf_disconnected = _trampoline(self, n.DISCONNECTED, "_c_server_disconnect")
        self._cf_conn_ok = _trampoline(self, n.ON_SUCCESS, "_c_conn_ok")
        self._cf_conn_ok5 = _trampoline(self, n.ON_SUCCESS5, "_c_conn_ok5")
        self._cf_conn_fail = _trampoline(self, n.ON_FAILURE, "_c_conn_fail")
        self._cf_conn_fail5 = _trampoline(self, n.ON_FAILURE5, "_c_conn_fail5")
        self._cf_pub_ok = _trampoline(self, n.ON_SUCCESS, "_c_pub_ok")
        self._cf_pub_ok5 = _trampoline(self, n.ON_SUCCESS5, "_c_pub_ok5")
        self._cf_pub_fail = _trampoline(self, n.ON_FAILURE, "_c_pub_fail")
        self._cf_pub_fail5 = _trampoline(self, n.ON_FAILURE5, "_c_pub_fail5")
        self._cf_sub_ok = _trampoline(self, n.ON_SUCCESS, "_c_sub_ok")
        self._cf_sub_ok5 = _trampoline(self, n.ON_SUCCESS5, "_c_sub_ok5")
        self._cf_sub_fail = _trampoline(self, n.ON_FAILURE, "_c_sub_fail")
        self._cf_sub_fail5 = _trampoline(self, n.ON_FAILURE5, "_c_sub_fail5")
        self._cf_unsub_ok = _trampoline(self, n.ON_SUCCESS, "_c_unsub_ok")
        self._cf_unsub_ok5 = _trampoline(self, n.ON_SUCCESS5, "_c_unsub_ok5")
        self._cf_unsub_fail = _trampoline(self, n.ON_FAILURE, "_c_unsub_fail")
        self._cf_unsub_fail5 = _trampoline(self, n.ON_FAILURE5, "_c_unsub_fail5")
        self._cf_disc_ok = _trampoline(self, n.ON_SUCCESS, "_c_disc_done")
        self._cf_disc_ok5 = _trampoline(self, n.ON_SUCCESS5, "_c_disc_done")
        self._cf_disc_fail = _trampoline(self, n.ON_FAILURE, "_c_disc_done")
        self._cf_disc_fail5 = _trampoline(self, n.ON_FAILURE5, "_c_disc_done")

    def _c_callback_objects(self) -> list[Any]:
        return [v for k, v in vars(self).items() if k.startswith("_cf_")]

    # --- calling user code --------------------------------------------------

    def _easy_log(self, level: int, fmt: str, *args: Any) -> None:
        if self.on_log is not None:
            try:
                # Both callback API versions use on_log(client, userdata, level, buf).
                self.on_log(self, self._userdata, level, fmt % args)
            except Exception:
                _log.exception("ferromq: exception in on_log")
        if self._logger is not None:
            self._logger.log(logging.ERROR if level == MQTT_LOG_ERR else logging.DEBUG, fmt, *args)

    def _call_user(self, name: str, cb: Optional[Callable[..., Any]], *args: Any) -> None:
        """Run a user callback; an exception is logged and swallowed."""
        if cb is None:
            return
        try:
            cb(*args)
        except Exception:
            _log.exception("ferromq: exception in user callback %s", name)
            self._easy_log(MQTT_LOG_ERR, "Caught exception in %s", name)

    def _props(self, cprops: _native.MQTTProperties, ptype: int) -> Properties:
        return from_c(cprops, ptype)

    def _notify(self) -> None:
        with self._cond:
            self._activity += 1  # type: ignore[has-type]
            self._cond.notify_all()

    # --- connection -----------------------------------------------------------

    def _fire_connect(self, rc: int, session_present: bool, props: Optional[Properties]) -> None:
        v5 = self._protocol == MQTTv5
        props = props if props is not None else Properties(PacketTypes.CONNACK)
        reason = ReasonCode(
            PacketTypes.CONNACK, identifier=rc if v5 else _V3_CONNACK_AS_REASON.get(rc, 128)
        )
        if self._api is CallbackAPIVersion.VERSION2:
            args: tuple[Any, ...] = (ConnectFlags(bool(session_present)), reason, props)
        elif v5:
            args = ({"session present": int(session_present)}, reason, props)
        else:
            args = ({"session present": int(session_present)}, rc)
        self._call_user("on_connect", self.on_connect, self, self._userdata, *args)

    def _connect_succeeded(self, session_present: bool, props: Optional[Properties]) -> None:
        with self._cond:
            fire = not self._connected  # type: ignore[has-type]
            self._connected = True
            self._connecting = False
            self._connect_result = 0
            self._first_connect_done = True
        if fire:
            self._fire_connect(0, session_present, props)
        self._drain_backlog()  # type: ignore[attr-defined]
        self._connect_event.set()  # type: ignore[attr-defined]
        self._notify()

    def _connect_failed(self, refused_rc: Optional[int], props: Optional[Properties], code: int) -> None:
        with self._cond:
            explicit = self._connecting
            self._connected = False
            self._connecting = False
            self._connect_result = refused_rc if refused_rc is not None else code
            self._connect_refused = refused_rc is not None
        if explicit:
            # A failed connect() ends here: stop the library's retries and end
            # whatever publish was waiting for this connection.
            self._release_handle()  # type: ignore[attr-defined]
            self._fail_pending_publishes(force=True)
        if refused_rc is not None:
            self._fire_connect(refused_rc, False, props)
        else:
            self._call_user("on_connect_fail", self.on_connect_fail, self, self._userdata)
        self._connect_event.set()  # type: ignore[attr-defined]
        self._notify()

    def _c_conn_ok(self, ctx: Any, data: Any) -> None:
        sp = bool(data.contents.alt.connect.sessionPresent) if data else False
        self._connect_succeeded(sp, None)

    def _c_conn_ok5(self, ctx: Any, data: Any) -> None:
        sp, props = False, None
        if data:
            sp = bool(data.contents.alt.connect.sessionPresent)
            props = self._props(data.contents.properties, PacketTypes.CONNACK)
        self._connect_succeeded(sp, props)

    def _c_conn_fail(self, ctx: Any, data: Any) -> None:
        code = data.contents.code if data else -1
        self._connect_failed(code if 1 <= code <= 5 else None, None, code)

    def _c_conn_fail5(self, ctx: Any, data: Any) -> None:
        if not data:
            self._connect_failed(None, None, -1)
            return
        d = data.contents
        # Paho reports a refusing CONNACK's reason in reasonCode or in code.
        reason = d.reasonCode if d.reasonCode >= 0x80 else d.code if d.code >= 0x80 else 0
        refused = reason >= 0x80 or d.packet_type == PacketTypes.CONNACK
        props = self._props(d.properties, PacketTypes.CONNACK) if refused else None
        self._connect_failed((reason or 0x80) if refused else None, props, d.code)

    def _c_connected(self, ctx: Any, cause: Optional[bytes]) -> None:
        # Automatic reconnects report here; the first connect reports via onSuccess.
        with self._cond:
            explicit = self._connecting
        if not explicit:
            self._connect_succeeded(False, None)

    def _fire_disconnect(self, rc: int, from_server: bool, props: Optional[Properties]) -> None:
        with self._cond:
            was = self._connected
            self._connected = False
        if not was:
            self._notify()
            return
        v5 = self._protocol == MQTTv5
        props = props if props is not None else Properties(PacketTypes.DISCONNECT)
        if v5:
            reason = ReasonCode(PacketTypes.DISCONNECT, identifier=rc)
        else:
            reason = ReasonCode(PacketTypes.DISCONNECT, identifier=0 if rc == 0 else 128)
        if self._api is CallbackAPIVersion.VERSION2:
            args: tuple[Any, ...] = (DisconnectFlags(from_server), reason, props)
        elif v5:
            args = (reason, props)
        else:
            args = (MQTT_ERR_CONN_LOST if rc else 0,)
        self._call_user("on_disconnect", self.on_disconnect, self, self._userdata, *args)
        self._notify()

    def _c_connection_lost(self, ctx: Any, cause: Optional[bytes]) -> None:
        self._easy_log(MQTT_LOG_ERR, "Connection lost: %s", cause)
        self._fail_pending_publishes()
        self._fire_disconnect(0x80, False, None)

    def _c_server_disconnect(self, ctx: Any, cprops: Any, reason: int) -> None:
        props = self._props(cprops.contents, PacketTypes.DISCONNECT) if cprops else None
        self._fire_disconnect(reason if reason else 0x80, True, props)

    def _c_disc_done(self, ctx: Any, data: Any) -> None:
        self._fire_disconnect(0, False, None)
        self._disconnect_event.set()  # type: ignore[attr-defined]

    def _fail_pending_publishes(self, force: bool = False) -> None:
        if self._reconnect_on_failure and not force:  # type: ignore[attr-defined]
            return  # the library may still deliver them after reconnecting
        with self._lock:
            pending = list(self._pending_pub.values())
            self._pending_pub.clear()
        for info in pending:
            info._set_failed(MQTT_ERR_CONN_LOST)
        self._drop_backlog()  # type: ignore[attr-defined]

    # --- messages -------------------------------------------------------------

    def _c_message_arrived(self, ctx: Any, topic_p: int, topic_len: int, msg_p: Any) -> int:
        lib = _native.lib()
        try:
            if topic_len > 0:
                topic = ctypes.string_at(topic_p, topic_len)
            else:
                topic = ctypes.string_at(topic_p) if topic_p else b""
            m = msg_p.contents
            msg = MQTTMessage(m.msgid, topic)
            msg.payload = ctypes.string_at(m.payload, m.payloadlen) if m.payloadlen > 0 else b""
            msg.qos = m.qos
            msg.retain = bool(m.retained)
            msg.dup = bool(m.dup)
            if self._protocol == MQTTv5:
                msg.properties = self._props(m.properties, PacketTypes.PUBLISH)
        finally:
            lib.MQTTAsync_freeMessage(ctypes.byref(msg_p))
            lib.MQTTAsync_free(topic_p)
        with self._lock:
            matched = [cb for f, cb in self._msg_callbacks.items() if topic_matches_sub(f, msg.topic)]
        if matched:
            for cb in matched:
                self._call_user("message callback", cb, self, self._userdata, msg)
        else:
            self._call_user("on_message", self.on_message, self, self._userdata, msg)
        self._notify()
        return 1

    # --- publish / subscribe / unsubscribe completions ------------------------

    def _published(self, mid: int, reason: int, props: Optional[Properties]) -> None:
        with self._lock:
            info = self._pending_pub.pop(mid, None)
        if info is not None:
            info._set_as_published()
        if self._api is CallbackAPIVersion.VERSION2:
            rc = ReasonCode(PacketTypes.PUBACK, identifier=reason)
            p = props if props is not None else Properties(PacketTypes.PUBACK)
            self._call_user("on_publish", self.on_publish, self, self._userdata, mid, rc, p)
        else:
            self._call_user("on_publish", self.on_publish, self, self._userdata, mid)
        self._drain_backlog()  # type: ignore[attr-defined]
        self._notify()

    def _c_pub_ok(self, ctx: Any, data: Any) -> None:
        self._published(_ctx_mid(ctx), 0, None)

    def _c_pub_ok5(self, ctx: Any, data: Any) -> None:
        reason, props = 0, None
        if data:
            reason = data.contents.reasonCode
            props = self._props(data.contents.properties, PacketTypes.PUBACK)
        self._published(_ctx_mid(ctx), reason, props)

    def _pub_failed(self, mid: int, code: int) -> None:
        with self._lock:
            info = self._pending_pub.pop(mid, None)
        if info is not None:
            info._set_failed(MQTT_ERR_CONN_LOST if code in (-1, -3) else code)
        self._drain_backlog()  # type: ignore[attr-defined]
        self._notify()

    def _c_pub_fail(self, ctx: Any, data: Any) -> None:
        self._pub_failed(_ctx_mid(ctx), data.contents.code if data else -1)

    def _c_pub_fail5(self, ctx: Any, data: Any) -> None:
        d = data.contents if data else None
        if d is not None and d.reasonCode >= 0x80:
            # The broker answered with a failure reason: the exchange is complete.
            self._published(_ctx_mid(ctx), d.reasonCode, self._props(d.properties, PacketTypes.PUBACK))
        else:
            self._pub_failed(_ctx_mid(ctx), d.code if d is not None else -1)

    def _subscribed(self, mid: int, codes: list[int], props: Optional[Properties]) -> None:
        with self._lock:
            self._pending_sub.pop(mid, None)
        v5 = self._protocol == MQTTv5
        p = props if props is not None else Properties(PacketTypes.SUBACK)
        rcs = [ReasonCode(PacketTypes.SUBACK, identifier=c) for c in codes]
        if self._api is CallbackAPIVersion.VERSION2:
            args: tuple[Any, ...] = (mid, rcs, p)
        elif v5:
            args = (mid, rcs, p)
        else:
            args = (mid, tuple(codes))
        self._call_user("on_subscribe", self.on_subscribe, self, self._userdata, *args)
        self._notify()

    def _sub_count(self, mid: int) -> int:
        with self._lock:
            return self._pending_sub.get(mid, 1)

    def _c_sub_ok(self, ctx: Any, data: Any) -> None:
        mid = _ctx_mid(ctx)
        n = self._sub_count(mid)
        codes: list[int] = [0] * n
        if data:
            alt = data.contents.alt
            if n == 1:
                codes = [alt.qos]
            elif alt.qosList:
                codes = [alt.qosList[i] for i in range(n)]
        self._subscribed(mid, codes, None)

    def _c_sub_ok5(self, ctx: Any, data: Any) -> None:
        mid = _ctx_mid(ctx)
        n = self._sub_count(mid)
        codes, props = [0] * n, None
        if data:
            d = data.contents
            props = self._props(d.properties, PacketTypes.SUBACK)
            # Paho fills the array only for several filters; one uses reasonCode.
            cnt = d.alt.sub.reasonCodeCount
            if n > 1 and cnt == n and d.alt.sub.reasonCodes:
                codes = [d.alt.sub.reasonCodes[i] for i in range(cnt)]
            else:
                codes = [d.reasonCode] * n
        self._subscribed(mid, codes, props)

    def _c_sub_fail(self, ctx: Any, data: Any) -> None:
        mid = _ctx_mid(ctx)
        self._subscribed(mid, [0x80] * self._sub_count(mid), None)

    def _c_sub_fail5(self, ctx: Any, data: Any) -> None:
        mid = _ctx_mid(ctx)
        code = data.contents.reasonCode if data and data.contents.reasonCode >= 0x80 else 0x80
        props = self._props(data.contents.properties, PacketTypes.SUBACK) if data else None
        self._subscribed(mid, [code] * self._sub_count(mid), props)

    def _unsubscribed(self, mid: int, codes: Optional[list[int]], props: Optional[Properties]) -> None:
        with self._lock:
            n = self._pending_unsub.pop(mid, 1)
        p = props if props is not None else Properties(PacketTypes.UNSUBACK)
        rcs = [ReasonCode(PacketTypes.UNSUBACK, identifier=c) for c in (codes or [0] * n)]
        if self._api is CallbackAPIVersion.VERSION2:
            args: tuple[Any, ...] = (mid, rcs, p)
        elif self._protocol == MQTTv5:
            args = (mid, p, rcs[0] if len(rcs) == 1 else rcs)
        else:
            args = (mid,)
        self._call_user("on_unsubscribe", self.on_unsubscribe, self, self._userdata, *args)
        self._notify()

    def _c_unsub_ok(self, ctx: Any, data: Any) -> None:
        self._unsubscribed(_ctx_mid(ctx), None, None)

    def _c_unsub_ok5(self, ctx: Any, data: Any) -> None:
        mid = _ctx_mid(ctx)
        with self._lock:
            n = self._pending_unsub.get(mid, 1)
        codes, props = None, None
        if data:
            d = data.contents
            props = self._props(d.properties, PacketTypes.UNSUBACK)
            cnt = d.alt.unsub.reasonCodeCount
            if n > 1 and cnt == n and d.alt.unsub.reasonCodes:
                codes = [d.alt.unsub.reasonCodes[i] for i in range(cnt)]
            else:
                codes = [d.reasonCode] * n
        self._unsubscribed(mid, codes, props)

    def _c_unsub_fail(self, ctx: Any, data: Any) -> None:
        mid = _ctx_mid(ctx)
        with self._lock:
            n = self._pending_unsub.get(mid, 1)
        self._unsubscribed(mid, [0x80] * n, None)

    def _c_unsub_fail5(self, ctx: Any, data: Any) -> None:
        mid = _ctx_mid(ctx)
        with self._lock:
            n = self._pending_unsub.get(mid, 1)
        code = data.contents.reasonCode if data and data.contents.reasonCode >= 0x80 else 0x80
        self._unsubscribed(mid, [code] * n, None)
