"""Subscribing helpers, as paho-mqtt's ``paho.mqtt.subscribe``.

Owns ``simple`` (collect N messages, then return them) and ``callback`` (call a
function for every message until it, or Ctrl-C, stops the loop).
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Optional, Union

from .client import Client
from .enums import MQTTv311
from .message import MQTTMessage


def _subscriber(
    topics: Union[str, list[str]], qos: int, hostname: str, port: int, client_id: str,
    keepalive: int, will: Optional[dict[str, Any]], auth: Optional[dict[str, str]],
    tls: Any, protocol: int, clean_session: bool, userdata: Any,
) -> Client:
    if tls:
        raise NotImplementedError("TLS is not supported by ferromq yet")
    if qos < 0 or qos > 2:
        raise ValueError("qos must be in the range 0-2")
    topic_list = [topics] if isinstance(topics, str) else list(topics)
    client = Client(client_id=client_id, clean_session=clean_session if protocol != 5 else None,
                    userdata=userdata, protocol=protocol)
    if auth:
        client.username_pw_set(auth["username"], auth.get("password"))
    if will:
        client.will_set(will["topic"], will.get("payload"), will.get("qos", 0),
                        will.get("retain", False))

    def on_connect(c: Client, _ud: Any, _flags: Any, rc: Any, *_: Any) -> None:
        if int(rc) == 0:
            c.subscribe([(t, qos) for t in topic_list])

    client.on_connect = on_connect
    return client


def callback(
    callback: Callable[[Client, Any, MQTTMessage], Any],
    topics: Union[str, list[str]],
    qos: int = 0,
    userdata: Any = None,
    hostname: str = "localhost",
    port: int = 1883,
    client_id: str = "",
    keepalive: int = 60,
    will: Optional[dict[str, Any]] = None,
    auth: Optional[dict[str, str]] = None,
    tls: Any = None,
    protocol: int = MQTTv311,
    transport: str = "tcp",
    clean_session: bool = True,
    proxy_args: Any = None,
) -> None:
    """Subscribe and call ``callback(client, userdata, message)`` for each message.

    Runs until the callback calls ``client.disconnect()`` (or Ctrl-C).
    """
    client = _subscriber(topics, qos, hostname, port, client_id, keepalive, will, auth, tls,
                         protocol, clean_session, userdata)
    client.on_message = callback
    client.connect(hostname, port, keepalive)
    client.loop_forever()


def simple(
    topics: Union[str, list[str]],
    qos: int = 0,
    msg_count: int = 1,
    retained: bool = True,
    hostname: str = "localhost",
    port: int = 1883,
    client_id: str = "",
    keepalive: int = 60,
    will: Optional[dict[str, Any]] = None,
    auth: Optional[dict[str, str]] = None,
    tls: Any = None,
    protocol: int = MQTTv311,
    transport: str = "tcp",
    clean_session: bool = True,
    proxy_args: Any = None,
) -> Union[MQTTMessage, list[MQTTMessage]]:
    """Wait for ``msg_count`` messages and return them (one message when count is 1).

    With ``retained=False`` retained messages are ignored.
    """
    if msg_count < 1:
        raise ValueError("msg_count must be > 0")
    got: list[MQTTMessage] = []
    done = threading.Event()

    def on_message(c: Client, _ud: Any, msg: MQTTMessage) -> None:
        if done.is_set() or (msg.retain and not retained):
            return
        got.append(msg)
        if len(got) >= msg_count:
            done.set()
            c.disconnect()

    client = _subscriber(topics, qos, hostname, port, client_id, keepalive, will, auth, tls,
                         protocol, clean_session, None)
    client.on_message = on_message
    client.connect(hostname, port, keepalive)
    client.loop_forever()
    return got[0] if msg_count == 1 else got
