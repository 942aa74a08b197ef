"""ferromq.Broker with TLS and WebSocket listeners, used by PyPI's paho-mqtt:
ssl, websockets, websockets over TLS with a required client certificate whose
common name becomes the user name; bad settings raise; reload_certificates."""

from __future__ import annotations

import pathlib
import queue
import ssl
from typing import Any

import pytest

import ferromq
from conftest import TIMEOUT, make_broker
from tls_certs import make_certs

paho = pytest.importorskip("paho.mqtt.client", reason="paho-mqtt is not installed (pip install 'paho-mqtt>=2')")
if not hasattr(paho, "CallbackAPIVersion"):
    pytest.skip("these tests need paho-mqtt>=2 (pip install 'paho-mqtt>=2')", allow_module_level=True)


@pytest.fixture(scope="module")
def certs(tmp_path_factory: Any) -> pathlib.Path:
    return make_certs(tmp_path_factory.mktemp("certs"))


def round_trip(port: int, certs: pathlib.Path, transport: str = "tcp", tls: bool = False,
               client_cert: bool = False, host: str = "127.0.0.1") -> None:
    """A paho client's QoS 1 message to itself through the broker."""
    got: "queue.Queue[Any]" = queue.Queue()
    connected: "queue.Queue[Any]" = queue.Queue()
    c = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=f"paho-{transport}-{tls}",
                    transport=transport)
    if tls:
        kw: dict[str, Any] = {"ca_certs": str(certs / "ca.pem")}
        if client_cert:
            kw.update(certfile=str(certs / "client.pem"), keyfile=str(certs / "client.key"))
        c.tls_set(**kw)
    c.on_connect = lambda cl, u, f, rc, p=None: connected.put(rc)
    c.on_message = lambda cl, u, m: got.put(m)
    c.connect(host, port, 30)
    c.loop_start()
    try:
        rc = connected.get(timeout=TIMEOUT)
        assert not rc.is_failure, rc
        c.subscribe("tls/py", 1)
        c.publish("tls/py", b"sealed", 1)
        m = got.get(timeout=TIMEOUT)
        assert (m.topic, m.payload) == ("tls/py", b"sealed")
    finally:
        c.disconnect()
        c.loop_stop()


def test_tls_listener(certs: pathlib.Path) -> None:
    with make_broker(certfile=certs / "server.pem", keyfile=certs / "server.key") as b:
        round_trip(b.port, certs, tls=True)
        round_trip(b.port, certs, tls=True, host="localhost")
        b.reload_certificates()
        round_trip(b.port, certs, tls=True)


def test_websocket_listener(certs: pathlib.Path) -> None:
    with make_broker(protocol="websockets") as b:
        round_trip(b.port, certs, transport="websockets")


def test_wss_with_client_certificate_as_user_name(certs: pathlib.Path) -> None:
    users: "queue.Queue[Any]" = queue.Queue()
    b = make_broker(protocol="websockets", certfile=certs / "server.pem",
                    keyfile=certs / "server.key", cafile=certs / "ca.pem",
                    require_certificate=True, use_identity_as_username=True)
    b.on_client_connect = lambda client: users.put((client.username, client.cert_subject))
    with b:
        round_trip(b.port, certs, transport="websockets", tls=True, client_cert=True)
        assert users.get(timeout=TIMEOUT) == ("py-client", "py-client")
        # Without a certificate the handshake fails: no CONNACK ever.
        accepted: list[Any] = []
        c = paho.Client(paho.CallbackAPIVersion.VERSION2, transport="websockets")
        c.tls_set(ca_certs=str(certs / "ca.pem"))

        def on_connect(cl: Any, u: Any, f: Any, rc: Any, p: Any = None) -> None:
            accepted.append(rc)
            cl.disconnect()  # ends loop_forever below

        c.on_connect = on_connect
        try:
            c.connect("127.0.0.1", b.port, 30)
            # TLS 1.3: the refusal may come with the first read.
            c.loop_forever(timeout=TIMEOUT, retry_first_connection=False)
        except (ssl.SSLError, OSError):
            pass
        assert accepted == [], accepted


def test_the_certificate_name_reaches_the_hooks_without_becoming_the_user(
        certs: pathlib.Path) -> None:
    seen: "queue.Queue[Any]" = queue.Queue()
    b = make_broker(certfile=certs / "server.pem", keyfile=certs / "server.key",
                    cafile=certs / "ca.pem", require_certificate=True)
    b.on_client_subscribe = lambda client, topic: seen.put(
        (client.username, client.cert_subject)) or True
    with b:
        round_trip(b.port, certs, tls=True, client_cert=True)
        assert seen.get(timeout=TIMEOUT) == (None, "py-client")


def test_bad_listener_settings_raise(certs: pathlib.Path) -> None:
    with pytest.raises(ferromq.BrokerError) as e:
        make_broker(certfile=certs / "missing.pem", keyfile=certs / "server.key")
    assert e.value.code == -27
    with pytest.raises(ferromq.BrokerError):
        make_broker(certfile=certs / "server.pem", keyfile=certs / "server.key",
                    require_certificate=True)
    with pytest.raises(ValueError):
        make_broker(protocol="http")
    b = make_broker(certfile=certs / "server.pem", keyfile=certs / "server.key")
    try:
        with pytest.raises(ferromq.BrokerError):
            b.reload_certificates()  # not started
    finally:
        b.close()
