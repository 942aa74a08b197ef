"""ferromq.Client's transports as paho-mqtt has them: tls_set (CA, client
certificate, cert_reqs=CERT_NONE), tls_insecure_set, transport="websockets"
with ws_set_options, and transport="unix", against ferromq.Broker's TLS and
WebSocket listeners (and a Unix-socket relay in front of a plain one)."""

from __future__ import annotations

import pathlib
import socket
import ssl
import threading
from typing import Any, Iterator

import pytest

import ferromq
from conftest import TIMEOUT, Recorder, make_broker
from helpers import connect, disconnect, messages, recording_client, subscribe
from tls_certs import make_certs


@pytest.fixture(scope="module")
def certs(tmp_path_factory: Any) -> pathlib.Path:
    return make_certs(tmp_path_factory.mktemp("certs"))


@pytest.fixture(scope="module")
def other_certs(tmp_path_factory: Any) -> pathlib.Path:
    return make_certs(tmp_path_factory.mktemp("other"))


def tls_broker(certs: pathlib.Path, **kw: Any) -> ferromq.Broker:
    return make_broker(certfile=certs / "server.pem", keyfile=certs / "server.key", **kw)


def round_trip(c: ferromq.Client, rec: Recorder, port: int, host: str = "127.0.0.1") -> None:
    before = len(rec.of("on_connect"))
    assert c.connect(host, port) == ferromq.MQTT_ERR_SUCCESS
    rec.wait("on_connect", before + 1)
    c.loop_start()
    try:
        subscribe(c, rec, "py/tls", 1)
        c.publish("py/tls", b"sealed" * 1000, 1)
        rec.wait("on_message")
        assert messages(rec)[-1].payload == b"sealed" * 1000
    finally:
        disconnect(c, rec)
        c.loop_stop()


def test_tls_with_a_ca_file(certs: pathlib.Path) -> None:
    rec = Recorder()
    with tls_broker(certs) as b:
        c = recording_client(rec)
        c.tls_set(ca_certs=str(certs / "ca.pem"))
        round_trip(c, rec, b.port)
        rec2 = Recorder()
        c2 = recording_client(rec2, protocol=ferromq.MQTTv5, api=ferromq.CallbackAPIVersion.VERSION2)
        c2.tls_set(ca_certs=str(certs / "ca.pem"), tls_version=ssl.PROTOCOL_TLSv1_2)
        round_trip(c2, rec2, b.port, host="localhost")


def test_an_untrusted_server_fails_unless_checks_are_off(certs: pathlib.Path,
                                                          other_certs: pathlib.Path) -> None:
    with tls_broker(certs) as b:
        c = recording_client(Recorder())
        c.tls_set(ca_certs=str(other_certs / "ca.pem"))
        with pytest.raises(ConnectionRefusedError):
            c.connect("127.0.0.1", b.port)
        rec = Recorder()
        c = recording_client(rec)
        c.tls_set(ca_certs=str(other_certs / "ca.pem"), cert_reqs=ssl.CERT_NONE)
        c.tls_insecure_set(True)
        round_trip(c, rec, b.port)


def test_client_certificate_over_wss(certs: pathlib.Path) -> None:
    users: list[Any] = []
    b = tls_broker(certs, protocol="websockets", cafile=certs / "ca.pem",
                   require_certificate=True, use_identity_as_username=True)
    b.on_client_connect = lambda client: users.append(client.username)
    with b:
        rec = Recorder()
        c = recording_client(rec, transport="websockets")
        c.ws_set_options(path="/mqtt", headers={"X-Test": "1"})
        c.tls_set(ca_certs=str(certs / "ca.pem"), certfile=str(certs / "client.pem"),
                  keyfile=str(certs / "client.key"))
        round_trip(c, rec, b.port)
        assert users == ["py-client"]
        # Without the certificate: refused.
        c = recording_client(Recorder(), transport="websockets")
        c.tls_set(ca_certs=str(certs / "ca.pem"))
        with pytest.raises(ConnectionRefusedError):
            c.connect("127.0.0.1", b.port)


def test_plain_websockets(certs: pathlib.Path) -> None:
    with make_broker(protocol="websockets") as b:
        rec = Recorder()
        c = recording_client(rec, transport="websockets")
        assert c.transport == "websockets"
        round_trip(c, rec, b.port)


@pytest.fixture
def unix_relay(tmp_path: pathlib.Path) -> Iterator[tuple[str, ferromq.Broker]]:
    """A Unix socket whose connections are relayed to a plain broker."""
    b = make_broker()
    b.start()
    path = str(tmp_path / "mqtt.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(4)
    stop = threading.Event()

    def pipe(a: socket.socket, z: socket.socket) -> None:
        try:
            while True:
                data = a.recv(65536)
                if not data:
                    break
                z.sendall(data)
        except OSError:
            pass
        finally:
            for s in (a, z):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                return
            up = socket.create_connection(("127.0.0.1", b.port), timeout=TIMEOUT)
            up.settimeout(None)
            for a, z in ((conn, up), (up, conn)):
                threading.Thread(target=pipe, args=(a, z), daemon=True).start()

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    yield path, b
    stop.set()
    # Wakes the accept() (closing alone does not on Linux).
    try:
        server.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    server.close()
    t.join(TIMEOUT)
    b.close()


def test_unix_socket(unix_relay: tuple[str, ferromq.Broker]) -> None:
    path, b = unix_relay
    rec = Recorder()
    c = recording_client(rec, transport="unix")
    assert c.transport == "unix"
    # The port is not used: the host is the socket's path.
    round_trip(c, rec, 1883, host=path)


def test_bad_settings() -> None:
    with pytest.raises(ValueError):
        ferromq.Client(transport="carrier-pigeon")
    c = ferromq.Client()
    with pytest.raises(ValueError):
        c.tls_insecure_set(True)
    c.tls_set()
    with pytest.raises(ValueError):
        c.tls_set()
    with pytest.raises(ValueError):
        ferromq.Client(transport="unix").tls_set()
    with pytest.raises(ValueError):
        ferromq.Client().tls_set(tls_version=getattr(ssl, "PROTOCOL_TLSv1", 3))
