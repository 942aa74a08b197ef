"""Constants and small enums that paho-mqtt programs import from the client module.

Owns the protocol versions, error codes (``MQTT_ERR_*``), CONNACK codes, log levels,
``CallbackAPIVersion`` and the flag objects passed to 2.x-style callbacks.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

MQTTv31 = 3
MQTTv311 = 4
MQTTv5 = 5

MQTT_CLEAN_START_FIRST_ONLY = 3

MQTT_LOG_INFO = 0x01
MQTT_LOG_NOTICE = 0x02
MQTT_LOG_WARNING = 0x04
MQTT_LOG_ERR = 0x08
MQTT_LOG_DEBUG = 0x10

CONNACK_ACCEPTED = 0
CONNACK_REFUSED_PROTOCOL_VERSION = 1
CONNACK_REFUSED_IDENTIFIER_REJECTED = 2
CONNACK_REFUSED_SERVER_UNAVAILABLE = 3
CONNACK_REFUSED_BAD_USERNAME_PASSWORD = 4
CONNACK_REFUSED_NOT_AUTHORIZED = 5


class MQTTErrorCode(enum.IntEnum):
    """Return codes of the client's methods (paho-mqtt's values)."""

    MQTT_ERR_AGAIN = -1
    MQTT_ERR_SUCCESS = 0
    MQTT_ERR_NOMEM = 1
    MQTT_ERR_PROTOCOL = 2
    MQTT_ERR_INVAL = 3
    MQTT_ERR_NO_CONN = 4
    MQTT_ERR_CONN_REFUSED = 5
    MQTT_ERR_NOT_FOUND = 6
    MQTT_ERR_CONN_LOST = 7
    MQTT_ERR_TLS = 8
    MQTT_ERR_PAYLOAD_SIZE = 9
    MQTT_ERR_NOT_SUPPORTED = 10
    MQTT_ERR_AUTH = 11
    MQTT_ERR_ACL_DENIED = 12
    MQTT_ERR_UNKNOWN = 13
    MQTT_ERR_ERRNO = 14
    MQTT_ERR_QUEUE_SIZE = 15
    MQTT_ERR_KEEPALIVE = 16


MQTT_ERR_AGAIN = MQTTErrorCode.MQTT_ERR_AGAIN
MQTT_ERR_SUCCESS = MQTTErrorCode.MQTT_ERR_SUCCESS
MQTT_ERR_NOMEM = MQTTErrorCode.MQTT_ERR_NOMEM
MQTT_ERR_PROTOCOL = MQTTErrorCode.MQTT_ERR_PROTOCOL
MQTT_ERR_INVAL = MQTTErrorCode.MQTT_ERR_INVAL
MQTT_ERR_NO_CONN = MQTTErrorCode.MQTT_ERR_NO_CONN
MQTT_ERR_CONN_REFUSED = MQTTErrorCode.MQTT_ERR_CONN_REFUSED
MQTT_ERR_NOT_FOUND = MQTTErrorCode.MQTT_ERR_NOT_FOUND
MQTT_ERR_CONN_LOST = MQTTErrorCode.MQTT_ERR_CONN_LOST
MQTT_ERR_TLS = MQTTErrorCode.MQTT_ERR_TLS
MQTT_ERR_PAYLOAD_SIZE = MQTTErrorCode.MQTT_ERR_PAYLOAD_SIZE
MQTT_ERR_NOT_SUPPORTED = MQTTErrorCode.MQTT_ERR_NOT_SUPPORTED
MQTT_ERR_AUTH = MQTTErrorCode.MQTT_ERR_AUTH
MQTT_ERR_ACL_DENIED = MQTTErrorCode.MQTT_ERR_ACL_DENIED
MQTT_ERR_UNKNOWN = MQTTErrorCode.MQTT_ERR_UNKNOWN
MQTT_ERR_ERRNO = MQTTErrorCode.MQTT_ERR_ERRNO
MQTT_ERR_QUEUE_SIZE = MQTTErrorCode.MQTT_ERR_QUEUE_SIZE
MQTT_ERR_KEEPALIVE = MQTTErrorCode.MQTT_ERR_KEEPALIVE


class CallbackAPIVersion(enum.Enum):
    """Which callback signatures a :class:`~ferromq.Client` uses (paho-mqtt 2.x)."""

    VERSION1 = 1
    VERSION2 = 2


@dataclass
class ConnectFlags:
    """CONNACK flags given to a VERSION2 ``on_connect``."""

    session_present: bool


@dataclass
class DisconnectFlags:
    """Flags given to a VERSION2 ``on_disconnect``."""

    is_disconnect_packet_from_server: bool


class MQTTException(Exception):
    """Raised for misuse the client cannot report through a return code."""


_ERROR_TEXT = {
    MQTT_ERR_AGAIN: "Success (operation in progress).",
    MQTT_ERR_SUCCESS: "No error.",
    MQTT_ERR_NOMEM: "Out of memory.",
    MQTT_ERR_PROTOCOL: "A network protocol error occurred when communicating with the broker.",
    MQTT_ERR_INVAL: "Invalid function arguments provided.",
    MQTT_ERR_NO_CONN: "The client is not currently connected.",
    MQTT_ERR_CONN_REFUSED: "The connection was refused.",
    MQTT_ERR_NOT_FOUND: "Message not found (internal error).",
    MQTT_ERR_CONN_LOST: "The connection was lost.",
    MQTT_ERR_TLS: "A TLS error occurred.",
    MQTT_ERR_PAYLOAD_SIZE: "Payload too large.",
    MQTT_ERR_NOT_SUPPORTED: "This feature is not supported.",
    MQTT_ERR_AUTH: "Authorisation failed.",
    MQTT_ERR_ACL_DENIED: "Access denied by ACL.",
    MQTT_ERR_UNKNOWN: "Unknown error.",
    MQTT_ERR_ERRNO: "Error defined by errno.",
    MQTT_ERR_QUEUE_SIZE: "Message queue full.",
    MQTT_ERR_KEEPALIVE: "Client or broker did not communicate in the keepalive interval.",
}

_CONNACK_TEXT = {
    0: "Connection Accepted.",
    1: "Connection Refused: unacceptable protocol version.",
    2: "Connection Refused: identifier rejected.",
    3: "Connection Refused: broker unavailable.",
    4: "Connection Refused: bad user name or password.",
    5: "Connection Refused: not authorised.",
}


def error_string(mqtt_errno: int) -> str:
    """A description of an ``MQTT_ERR_*`` code."""
    try:
        return _ERROR_TEXT[MQTTErrorCode(mqtt_errno)]
    except ValueError:
        return "Unknown error."


def connack_string(connack_code: int) -> str:
    """A description of a CONNACK return code."""
    return _CONNACK_TEXT.get(int(connack_code), "Connection Refused: unknown reason.")


def topic_matches_sub(sub: str, topic: str) -> bool:
    """True when ``topic`` matches the subscription filter ``sub`` (``+``/``#`` rules)."""
    fparts = sub.split("/")
    tparts = topic.split("/")
    if topic.startswith("$") and fparts[0] in ("+", "#"):
        return False
    for i, f in enumerate(fparts):
        if f == "#":
            return i == len(fparts) - 1
        if i >= len(tparts):
            return False
        if f != "+" and f != tparts[i]:
            return False
    return len(fparts) == len(tparts)
