"""FerroMQ for Python: a paho-mqtt compatible MQTT client and an embeddable broker.

Both are thin ctypes layers over FerroMQ's shared library: ``Client`` over its
Paho C compatible MQTTAsync API, ``Broker`` over its MQTTBroker API.
"""

from __future__ import annotations

from ._native import library_path
from .broker import AUTH_CONTINUE, AUTH_SUCCESS, Broker, BrokerClient, BrokerError, BrokerMessage
from .client import Client
from .enums import *  # noqa: F401,F403
from .enums import CallbackAPIVersion, MQTTErrorCode, connack_string, error_string, topic_matches_sub
from .message import MQTTMessage, MQTTMessageInfo
from .properties import PacketTypes, Properties, ReasonCode, SubscribeOptions

__version__ = "0.1.0"

__all__ = [
    "AUTH_CONTINUE",
    "AUTH_SUCCESS",
    "Broker",
    "BrokerClient",
    "BrokerError",
    "BrokerMessage",
    "CallbackAPIVersion",
    "Client",
    "MQTTErrorCode",
    "MQTTMessage",
    "MQTTMessageInfo",
    "PacketTypes",
    "Properties",
    "ReasonCode",
    "SubscribeOptions",
    "connack_string",
    "error_string",
    "library_path",
    "topic_matches_sub",
]
