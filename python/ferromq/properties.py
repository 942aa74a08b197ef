"""MQTT 5 properties, packet types, subscribe options and reason codes, paho-mqtt style.

Owns the Python-side value types (:class:`Properties`, :class:`PacketTypes`,
:class:`SubscribeOptions`, :class:`ReasonCode`) and their conversion to and from the
C ``MQTTProperties`` list of the library.
"""

from __future__ import annotations

import ctypes
from typing import Any, Iterable, Optional, Union

from . import _native

__all__ = ["PacketTypes", "Properties", "ReasonCode", "SubscribeOptions"]


class PacketTypes:
    """Packet type numbers (as in paho-mqtt's ``paho.mqtt.packettypes``)."""

    indexes = range(1, 17)
    CONNECT, CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP, SUBSCRIBE, SUBACK, \
        UNSUBSCRIBE, UNSUBACK, PINGREQ, PINGRESP, DISCONNECT, AUTH, WILLMESSAGE = indexes
    Names = ["reserved", "Connect", "Connack", "Publish", "Puback", "Pubrec", "Pubrel",
             "Pubcomp", "Subscribe", "Suback", "Unsubscribe", "Unsuback", "Pingreq",
             "Pingresp", "Disconnect", "Auth"]


# Wire types, as numbered by MQTTProperties.h's enum MQTTPropertyTypes.
_BYTE, _INT2, _INT4, _VARINT, _BINARY, _STRING, _PAIR = range(7)

# id -> (paho-mqtt attribute name, wire type)
_PROPS: dict[int, tuple[str, int]] = {
    1: ("PayloadFormatIndicator", _BYTE),
    2: ("MessageExpiryInterval", _INT4),
    3: ("ContentType", _STRING),
    8: ("ResponseTopic", _STRING),
    9: ("CorrelationData", _BINARY),
    11: ("SubscriptionIdentifier", _VARINT),
    17: ("SessionExpiryInterval", _INT4),
    18: ("AssignedClientIdentifier", _STRING),
    19: ("ServerKeepAlive", _INT2),
    21: ("AuthenticationMethod", _STRING),
    22: ("AuthenticationData", _BINARY),
    23: ("RequestProblemInformation", _BYTE),
    24: ("WillDelayInterval", _INT4),
    25: ("RequestResponseInformation", _BYTE),
    26: ("ResponseInformation", _STRING),
    28: ("ServerReference", _STRING),
    31: ("ReasonString", _STRING),
    33: ("ReceiveMaximum", _INT2),
    34: ("TopicAliasMaximum", _INT2),
    35: ("TopicAlias", _INT2),
    36: ("MaximumQoS", _BYTE),
    37: ("RetainAvailable", _BYTE),
    38: ("UserProperty", _PAIR),
    39: ("MaximumPacketSize", _INT4),
    40: ("WildcardSubscriptionAvailable", _BYTE),
    41: ("SubscriptionIdentifierAvailable", _BYTE),
    42: ("SharedSubscriptionAvailable", _BYTE),
}
_BY_NAME = {name: (pid, ty) for pid, (name, ty) in _PROPS.items()}
# Properties that may appear more than once hold lists.
_MULTI = {"UserProperty", "SubscriptionIdentifier"}


class Properties:
    """A set of MQTT 5 properties for one packet type.

    Set them as attributes named as in paho-mqtt (``props.MessageExpiryInterval = 30``,
    ``props.UserProperty = [("k", "v")]``); unknown names raise ``MQTTException``-like
    ``AttributeError``.
    """

    def __init__(self, packetType: int = PacketTypes.PUBLISH) -> None:
        object.__setattr__(self, "packetType", packetType)
        object.__setattr__(self, "_values", {})

    def __setattr__(self, name: str, value: Any) -> None:
        if name not in _BY_NAME:
            raise AttributeError(f"{name} is not an MQTT 5 property name")
        if name in _MULTI:
            if name == "UserProperty" and isinstance(value, tuple):
                value = [value]
            elif name == "SubscriptionIdentifier" and isinstance(value, int):
                value = [value]
            old = self._values.get(name, [])
            value = old + list(value)
        self._values[name] = value

    def __getattr__(self, name: str) -> Any:
        values = object.__getattribute__(self, "_values")
        if name in values:
            return values[name]
        raise AttributeError(name)

    def __delattr__(self, name: str) -> None:
        self._values.pop(name, None)

    def names(self) -> list[str]:
        """The names of the properties set."""
        return list(self._values)

    def isEmpty(self) -> bool:
        """True when no property is set."""
        return not self._values

    def clear(self) -> None:
        """Remove every property."""
        self._values.clear()

    def json(self) -> dict[str, Any]:
        """The properties as a plain dict."""
        return dict(self._values)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Properties) and self._values == other._values

    def __repr__(self) -> str:
        return "[" + ", ".join(f"{k} : {v!r}" for k, v in self._values.items()) + "]"

    __str__ = __repr__


def _as_bytes(value: Union[str, bytes, bytearray]) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)


class CProperties:
    """A C ``MQTTProperties`` list built from :class:`Properties`; free with :meth:`free`."""

    def __init__(self, props: Optional[Properties]) -> None:
        self.c = _native.MQTTProperties()
        if props is None:
            return
        lib = _native.lib()
        try:
            for name, value in props.json().items():
                pid, ty = _BY_NAME[name]
                items = value if name in _MULTI else [value]
                for item in items:
                    self._add(lib, pid, ty, item)
        except Exception:
            self.free()
            raise

    def _add(self, lib: ctypes.CDLL, pid: int, ty: int, value: Any) -> None:
        prop = _native.MQTTProperty()
        prop.identifier = pid
        keep: list[Any] = []
        if ty == _BYTE:
            prop.value.byte = int(value)
        elif ty == _INT2:
            prop.value.integer2 = int(value)
        elif ty in (_INT4, _VARINT):
            prop.value.integer4 = int(value)
        elif ty in (_BINARY, _STRING):
            raw = _as_bytes(value)
            buf = ctypes.create_string_buffer(raw, len(raw) or 1)
            keep.append(buf)
            prop.value.data.len = len(raw)
            prop.value.data.data = ctypes.cast(buf, ctypes.c_void_p)
        else:
            k, v = (_as_bytes(x) for x in value)
            kb = ctypes.create_string_buffer(k, len(k) or 1)
            vb = ctypes.create_string_buffer(v, len(v) or 1)
            keep += [kb, vb]
            prop.value.data.len = len(k)
            prop.value.data.data = ctypes.cast(kb, ctypes.c_void_p)
            prop.value.value.len = len(v)
            prop.value.value.data = ctypes.cast(vb, ctypes.c_void_p)
        # The library copies the strings, so `keep` may go after the call.
        rc = lib.MQTTProperties_add(ctypes.byref(self.c), ctypes.byref(prop))
        if rc != 0:
            raise ValueError(f"property {pid} rejected by the library (rc {rc})")

    def free(self) -> None:
        """Release what the library allocated for the list."""
        if self.c.count or self.c.array:
            _native.lib().MQTTProperties_free(ctypes.byref(self.c))


def _lenstring(s: _native.MQTTLenString) -> bytes:
    if s.len <= 0 or not s.data:
        return b""
    return ctypes.string_at(s.data, s.len)


def from_c(cprops: _native.MQTTProperties, packet_type: int) -> Properties:
    """A :class:`Properties` copy of a C list the library owns (unknown ids skipped)."""
    out = Properties(packet_type)
    count = cprops.count
    if count <= 0 or not cprops.array:
        return out
    for i in range(count):
        p = cprops.array[i]
        entry = _PROPS.get(p.identifier)
        if entry is None:
            continue
        name, ty = entry
        value: Any
        if ty == _BYTE:
            value = p.value.byte
        elif ty == _INT2:
            value = p.value.integer2
        elif ty in (_INT4, _VARINT):
            value = p.value.integer4
        elif ty == _BINARY:
            value = _lenstring(p.value.data)
        elif ty == _STRING:
            value = _lenstring(p.value.data).decode("utf-8", "replace")
        else:
            value = (
                _lenstring(p.value.data).decode("utf-8", "replace"),
                _lenstring(p.value.value).decode("utf-8", "replace"),
            )
        setattr(out, name, [value] if name in _MULTI else value)
    return out


class SubscribeOptions:
    """MQTT 5 subscription options (paho-mqtt's ``SubscribeOptions``)."""

    RETAIN_SEND_ON_SUBSCRIBE, RETAIN_SEND_IF_NEW_SUB, RETAIN_DO_NOT_SEND = range(3)

    def __init__(
        self,
        qos: int = 0,
        noLocal: bool = False,
        retainAsPublished: bool = False,
        retainHandling: int = RETAIN_SEND_ON_SUBSCRIBE,
    ) -> None:
        if qos not in (0, 1, 2):
            raise ValueError("qos must be 0, 1 or 2")
        if retainHandling not in (0, 1, 2):
            raise ValueError("retainHandling must be 0, 1 or 2")
        self.QoS = qos
        self.noLocal = bool(noLocal)
        self.retainAsPublished = bool(retainAsPublished)
        self.retainHandling = retainHandling

    def __repr__(self) -> str:
        return (
            f"{{'QoS': {self.QoS}, 'noLocal': {self.noLocal}, 'retainAsPublished': "
            f"{self.retainAsPublished}, 'retainHandling': {self.retainHandling}}}"
        )


_REASON_NAMES = {
    0: "Success", 1: "Granted QoS 1", 2: "Granted QoS 2", 4: "Disconnect with will message",
    16: "No matching subscribers", 17: "No subscription found", 24: "Continue authentication",
    25: "Re-authenticate", 128: "Unspecified error", 129: "Malformed packet",
    130: "Protocol error", 131: "Implementation specific error",
    132: "Unsupported protocol version", 133: "Client identifier not valid",
    134: "Bad user name or password", 135: "Not authorized", 136: "Server unavailable",
    137: "Server busy", 138: "Banned", 139: "Server shutting down",
    140: "Bad authentication method", 141: "Keep alive timeout", 142: "Session taken over",
    143: "Topic filter invalid", 144: "Topic name invalid", 145: "Packet identifier in use",
    146: "Packet identifier not found", 147: "Receive maximum exceeded",
    148: "Topic alias invalid", 149: "Packet too large", 150: "Message rate too high",
    151: "Quota exceeded", 152: "Administrative action", 153: "Payload format invalid",
    154: "Retain not supported", 155: "QoS not supported", 156: "Use another server",
    157: "Server moved", 158: "Shared subscription not supported",
    159: "Connection rate exceeded", 160: "Maximum connect time",
    161: "Subscription identifiers not supported", 162: "Wildcard subscription not supported",
}


class ReasonCode:
    """An MQTT 5 reason code; compares equal to its int value and to its name."""

    def __init__(self, packetType: int, aName: str = "Success", identifier: int = -1) -> None:
        self.packetType = packetType
        if identifier == -1:
            found = [k for k, v in _REASON_NAMES.items() if v == aName]
            identifier = found[0] if found else 0
        self.value = identifier

    def getName(self) -> str:
        """The specification's name for the code."""
        if self.value == 0 and self.packetType == PacketTypes.DISCONNECT:
            return "Normal disconnection"
        if self.value == 0 and self.packetType == PacketTypes.SUBACK:
            return "Granted QoS 0"
        return _REASON_NAMES.get(self.value, f"Reason code {self.value}")

    @property
    def is_failure(self) -> bool:
        """True for codes 0x80 and above."""
        return self.value >= 0x80

    def __eq__(self, other: object) -> bool:
        if isinstance(other, int):
            return self.value == other
        if isinstance(other, str):
            return self.getName() == other
        if isinstance(other, ReasonCode):
            return self.value == other.value
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.value)

    def __int__(self) -> int:
        return self.value

    def __lt__(self, other: object) -> bool:
        return self.value < int(other)  # type: ignore[call-overload]

    def __ge__(self, other: object) -> bool:
        return self.value >= int(other)  # type: ignore[call-overload]

    def __str__(self) -> str:
        return self.getName()

    def __repr__(self) -> str:
        return f"ReasonCode({PacketTypes.Names[self.packetType]}, {self.getName()!r})"

    def json(self) -> str:
        """The name, as paho-mqtt's ``json()``."""
        return self.getName()


def reason_codes(packet_type: int, values: Iterable[int]) -> list[ReasonCode]:
    """ReasonCode objects for a sequence of ints."""
    return [ReasonCode(packet_type, identifier=v) for v in values]
