"""Loading FerroMQ's shared library and declaring the Paho C MQTTAsync ABI for ctypes.

Owns: where the library is found (``FERROMQ_LIB``, the copy bundled in the package,
a development build next to the sources) and the ctypes structs/prototypes of the
MQTTAsync and MQTTProperties C API that :mod:`ferromq.client` calls.
"""

from __future__ import annotations

import ctypes
import os
import pathlib
import threading
from ctypes import (
    CFUNCTYPE,
    POINTER,
    Structure,
    Union,
    c_char,
    c_char_p,
    c_int,
    c_uint,
    c_ubyte,
    c_ulong,
    c_ushort,
    c_void_p,
)
from typing import Optional

__all__ = ["lib", "library_path"]

_LIB_NAME = "libferromq.so"


def _candidates() -> list[pathlib.Path]:
    here = pathlib.Path(__file__).resolve().parent
    out = [here / "_lib" / _LIB_NAME]
    # A development checkout: python/ferromq/ -> repository root -> target/
    root = here.parent.parent
    out.append(root / "target" / "release" / _LIB_NAME)
    out.append(root / "target" / "debug" / _LIB_NAME)
    return out


def library_path() -> str:
    """The path of the shared library this package uses.

    ``FERROMQ_LIB`` wins when set; otherwise the copy bundled by the package build,
    then a development build (``target/release`` or ``target/debug``) of the
    repository this package sits in.
    """
    env = os.environ.get("FERROMQ_LIB")
    if env:
        return env
    for cand in _candidates():
        if cand.is_file():
            return str(cand)
    raise OSError(
        "FerroMQ's shared library was not found: set FERROMQ_LIB to the path of "
        "libferromq.so or install the package with `pip install ./python`"
    )


# --- MQTTProperties.h ---------------------------------------------------------


class MQTTLenString(Structure):
    """``MQTTLenString``: a length-prefixed byte string."""

    _fields_ = [("len", c_int), ("data", c_void_p)]


class _PropPair(Structure):
    _fields_ = [("data", MQTTLenString), ("value", MQTTLenString)]


class _PropValue(Union):
    _anonymous_ = ("pair",)
    _fields_ = [
        ("byte", c_ubyte),
        ("integer2", c_ushort),
        ("integer4", c_uint),
        ("pair", _PropPair),
    ]


class MQTTProperty(Structure):
    """``MQTTProperty``: one MQTT 5 property (identifier + value union)."""

    _fields_ = [("identifier", c_int), ("value", _PropValue)]


class MQTTProperties(Structure):
    """``MQTTProperties``: a growable array of properties owned by the C library."""

    _fields_ = [
        ("count", c_int),
        ("max_count", c_int),
        ("length", c_int),
        ("array", POINTER(MQTTProperty)),
    ]


class MQTTSubscribe_options(Structure):
    """``MQTTSubscribe_options`` (struct id ``MQSO``)."""

    _fields_ = [
        ("struct_id", c_char * 4),
        ("struct_version", c_int),
        ("noLocal", c_ubyte),
        ("retainAsPublished", c_ubyte),
        ("retainHandling", c_ubyte),
    ]


def subscribe_options(no_local: bool, rap: bool, handling: int) -> MQTTSubscribe_options:
    """A filled ``MQTTSubscribe_options``."""
    return MQTTSubscribe_options(b"MQSO", 0, int(no_local), int(rap), handling)


# --- MQTTAsync.h ----------------------------------------------------------------


class MQTTAsync_message(Structure):
    """``MQTTAsync_message`` (struct id ``MQTM``, version 1 carries properties)."""

    _fields_ = [
        ("struct_id", c_char * 4),
        ("struct_version", c_int),
        ("payloadlen", c_int),
        ("payload", c_void_p),
        ("qos", c_int),
        ("retained", c_int),
        ("dup", c_int),
        ("msgid", c_int),
        ("properties", MQTTProperties),
    ]


class _Pub(Structure):
    _fields_ = [("message", MQTTAsync_message), ("destinationName", c_char_p)]


class _ConnectAlt(Structure):
    _fields_ = [("serverURI", c_char_p), ("MQTTVersion", c_int), ("sessionPresent", c_int)]


class _CodeList(Structure):
    _fields_ = [("reasonCodeCount", c_int), ("reasonCodes", POINTER(c_int))]


class _SuccessAlt(Union):
    _fields_ = [
        ("qos", c_int),
        ("qosList", POINTER(c_int)),
        ("pub", _Pub),
        ("connect", _ConnectAlt),
    ]


class MQTTAsync_successData(Structure):
    """``MQTTAsync_successData`` (MQTT 3 responses)."""

    _fields_ = [("token", c_int), ("alt", _SuccessAlt)]


class _Success5Alt(Union):
    _fields_ = [
        ("sub", _CodeList),
        ("pub", _Pub),
        ("connect", _ConnectAlt),
        ("unsub", _CodeList),
    ]


class MQTTAsync_successData5(Structure):
    """``MQTTAsync_successData5`` (MQTT 5 responses, struct id ``MQSD``)."""

    _fields_ = [
        ("struct_id", c_char * 4),
        ("struct_version", c_int),
        ("token", c_int),
        ("reasonCode", c_int),
        ("properties", MQTTProperties),
        ("alt", _Success5Alt),
    ]


class MQTTAsync_failureData(Structure):
    """``MQTTAsync_failureData`` (MQTT 3 failures)."""

    _fields_ = [("token", c_int), ("code", c_int), ("message", c_char_p)]


class MQTTAsync_failureData5(Structure):
    """``MQTTAsync_failureData5`` (MQTT 5 failures, struct id ``MQFD``)."""

    _fields_ = [
        ("struct_id", c_char * 4),
        ("struct_version", c_int),
        ("token", c_int),
        ("reasonCode", c_int),
        ("properties", MQTTProperties),
        ("code", c_int),
        ("message", c_char_p),
        ("packet_type", c_int),
    ]


ON_SUCCESS = CFUNCTYPE(None, c_void_p, POINTER(MQTTAsync_successData))
ON_SUCCESS5 = CFUNCTYPE(None, c_void_p, POINTER(MQTTAsync_successData5))
ON_FAILURE = CFUNCTYPE(None, c_void_p, POINTER(MQTTAsync_failureData))
ON_FAILURE5 = CFUNCTYPE(None, c_void_p, POINTER(MQTTAsync_failureData5))
CONNECTION_LOST = CFUNCTYPE(None, c_void_p, c_char_p)
MESSAGE_ARRIVED = CFUNCTYPE(c_int, c_void_p, c_void_p, c_int, POINTER(MQTTAsync_message))
DELIVERY_COMPLETE = CFUNCTYPE(None, c_void_p, c_int)
CONNECTED = CFUNCTYPE(None, c_void_p, c_char_p)
DISCONNECTED = CFUNCTYPE(None, c_void_p, POINTER(MQTTProperties), c_int)


class MQTTAsync_responseOptions(Structure):
    """``MQTTAsync_responseOptions`` (struct id ``MQTR``, version 1)."""

    _fields_ = [
        ("struct_id", c_char * 4),
        ("struct_version", c_int),
        ("onSuccess", ON_SUCCESS),
        ("onFailure", ON_FAILURE),
        ("context", c_void_p),
        ("token", c_int),
        ("onSuccess5", ON_SUCCESS5),
        ("onFailure5", ON_FAILURE5),
        ("properties", MQTTProperties),
        ("subscribeOptions", MQTTSubscribe_options),
        ("subscribeOptionsCount", c_int),
        ("subscribeOptionsList", POINTER(MQTTSubscribe_options)),
    ]


def response_options() -> MQTTAsync_responseOptions:
    """A response-options struct as ``MQTTAsync_responseOptions_initializer`` makes it."""
    r = MQTTAsync_responseOptions()
    r.struct_id = b"MQTR"
    r.struct_version = 1
    r.subscribeOptions = subscribe_options(False, False, 0)
    return r


class MQTTAsync_createOptions(Structure):
    """``MQTTAsync_createOptions`` (struct id ``MQCO``, version 2)."""

    _fields_ = [
        ("struct_id", c_char * 4),
        ("struct_version", c_int),
        ("sendWhileDisconnected", c_int),
        ("maxBufferedMessages", c_int),
        ("MQTTVersion", c_int),
        ("allowDisconnectedSendAtAnyTime", c_int),
        ("deleteOldestMessages", c_int),
        ("restoreMessages", c_int),
        ("persistQoS0", c_int),
    ]


class _BinData(Structure):
    _fields_ = [("len", c_int), ("data", c_void_p)]


class MQTTAsync_willOptions(Structure):
    """``MQTTAsync_willOptions`` (struct id ``MQTW``, version 1: binary payload)."""

    _fields_ = [
        ("struct_id", c_char * 4),
        ("struct_version", c_int),
        ("topicName", c_char_p),
        ("message", c_char_p),
        ("retained", c_int),
        ("qos", c_int),
        ("payload", _BinData),
    ]


class MQTTAsync_connectOptions(Structure):
    """``MQTTAsync_connectOptions`` (struct id ``MQTC``, version 8)."""

    _fields_ = [
        ("struct_id", c_char * 4),
        ("struct_version", c_int),
        ("keepAliveInterval", c_int),
        ("cleansession", c_int),
        ("maxInflight", c_int),
        ("will", POINTER(MQTTAsync_willOptions)),
        ("username", c_char_p),
        ("password", c_char_p),
        ("connectTimeout", c_int),
        ("retryInterval", c_int),
        ("ssl", c_void_p),
        ("onSuccess", ON_SUCCESS),
        ("onFailure", ON_FAILURE),
        ("context", c_void_p),
        ("serverURIcount", c_int),
        ("serverURIs", c_void_p),
        ("MQTTVersion", c_int),
        ("automaticReconnect", c_int),
        ("minRetryInterval", c_int),
        ("maxRetryInterval", c_int),
        ("binarypwd", _BinData),
        ("cleanstart", c_int),
        ("connectProperties", POINTER(MQTTProperties)),
        ("willProperties", POINTER(MQTTProperties)),
        ("onSuccess5", ON_SUCCESS5),
        ("onFailure5", ON_FAILURE5),
        ("httpHeaders", c_void_p),
        ("httpProxy", c_char_p),
        ("httpsProxy", c_char_p),
    ]


class MQTTAsync_disconnectOptions(Structure):
    """``MQTTAsync_disconnectOptions`` (struct id ``MQTD``, version 1)."""

    _fields_ = [
        ("struct_id", c_char * 4),
        ("struct_version", c_int),
        ("timeout", c_int),
        ("onSuccess", ON_SUCCESS),
        ("onFailure", ON_FAILURE),
        ("context", c_void_p),
        ("properties", MQTTProperties),
        ("reasonCode", c_int),
        ("onSuccess5", ON_SUCCESS5),
        ("onFailure5", ON_FAILURE5),
    ]


_HANDLE_P = POINTER(c_void_p)

_PROTOTYPES: dict[str, tuple[object, list[object]]] = {
    "MQTTAsync_createWithOptions": (
        c_int,
        [_HANDLE_P, c_char_p, c_char_p, c_int, c_void_p, POINTER(MQTTAsync_createOptions)],
    ),
    "MQTTAsync_setCallbacks": (
        c_int,
        [c_void_p, c_void_p, CONNECTION_LOST, MESSAGE_ARRIVED, DELIVERY_COMPLETE],
    ),
    "MQTTAsync_setConnected": (c_int, [c_void_p, c_void_p, CONNECTED]),
    "MQTTAsync_setDisconnected": (c_int, [c_void_p, c_void_p, DISCONNECTED]),
    "MQTTAsync_connect": (c_int, [c_void_p, POINTER(MQTTAsync_connectOptions)]),
    "MQTTAsync_disconnect": (c_int, [c_void_p, POINTER(MQTTAsync_disconnectOptions)]),
    "MQTTAsync_isConnected": (c_int, [c_void_p]),
    "MQTTAsync_subscribeMany": (
        c_int,
        [c_void_p, c_int, POINTER(c_char_p), POINTER(c_int), POINTER(MQTTAsync_responseOptions)],
    ),
    "MQTTAsync_unsubscribeMany": (
        c_int,
        [c_void_p, c_int, POINTER(c_char_p), POINTER(MQTTAsync_responseOptions)],
    ),
    "MQTTAsync_sendMessage": (
        c_int,
        [c_void_p, c_char_p, POINTER(MQTTAsync_message), POINTER(MQTTAsync_responseOptions)],
    ),
    "MQTTAsync_waitForCompletion": (c_int, [c_void_p, c_int, c_ulong]),
    "MQTTAsync_freeMessage": (None, [POINTER(POINTER(MQTTAsync_message))]),
    "MQTTAsync_free": (None, [c_void_p]),
    "MQTTAsync_destroy": (None, [_HANDLE_P]),
    "MQTTAsync_strerror": (c_char_p, [c_int]),
    "MQTTProperties_add": (c_int, [POINTER(MQTTProperties), POINTER(MQTTProperty)]),
    "MQTTProperties_free": (None, [POINTER(MQTTProperties)]),
}

_lock = threading.Lock()
_lib: Optional[ctypes.CDLL] = None
_broker_lib: Optional[ctypes.CDLL] = None


def lib() -> ctypes.CDLL:
    """The loaded library with the MQTTAsync prototypes declared (loaded once)."""
    global _lib
    with _lock:
        if _lib is None:
            handle = ctypes.CDLL(library_path())
            for name, (restype, argtypes) in _PROTOTYPES.items():
                fn = getattr(handle, name, None)
                if fn is None:
                    continue  # a library without that API: its users say so
                fn.restype = restype
                fn.argtypes = argtypes
            _lib = handle
        return _lib


def require(handle: ctypes.CDLL, symbol: str, what: str) -> None:
    """Raise a clear ``OSError`` when the loaded library lacks an API."""
    if getattr(handle, symbol, None) is None:
        raise OSError(f"{handle._name} has no {what} API ({symbol} is missing)")


def broker_lib() -> ctypes.CDLL:
    """The library serving :class:`ferromq.Broker`: :func:`lib`, unless the development
    override ``FERROMQ_BROKER_LIB`` names another build (e.g. while a client API is
    tested against Paho C's library)."""
    global _broker_lib
    path = os.environ.get("FERROMQ_BROKER_LIB")
    if not path:
        return lib()
    with _lock:
        if _broker_lib is None:
            _broker_lib = ctypes.CDLL(path)
        return _broker_lib
