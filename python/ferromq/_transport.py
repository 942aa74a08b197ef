"""Transport settings of :class:`ferromq.Client` (paho-mqtt's ``tls_set``,
``tls_insecure_set``, ``ws_set_options`` and the ``transport`` argument).

Owns the server URI the C handle is created with (``tcp://``, ``ssl://``,
``ws://``, ``wss://``, ``unix://``), the ``MQTTAsync_SSLOptions`` and the
WebSocket HTTP headers handed to each connect.
"""

from __future__ import annotations

import ctypes
import ssl
from ctypes import POINTER, Structure, c_char, c_char_p, c_int, c_uint, c_void_p
from typing import Any, Optional

TRANSPORTS = ("tcp", "websockets", "unix")

# Paho's sslVersion values (MQTT_SSL_VERSION_*).
_SSL_VERSION_DEFAULT = 0
_SSL_VERSION_TLS_1_2 = 3


class MQTTAsync_SSLOptions(Structure):
    """``MQTTAsync_SSLOptions`` (struct id ``MQTS``, version 5)."""

    _fields_ = [
        ("struct_id", c_char * 4),
        ("struct_version", c_int),
        ("trustStore", c_char_p),
        ("keyStore", c_char_p),
        ("privateKey", c_char_p),
        ("privateKeyPassword", c_char_p),
        ("enabledCipherSuites", c_char_p),
        ("enableServerCertAuth", c_int),
        ("sslVersion", c_int),
        ("verify", c_int),
        ("CApath", c_char_p),
        ("ssl_error_cb", c_void_p),
        ("ssl_error_context", c_void_p),
        ("ssl_psk_cb", c_void_p),
        ("ssl_psk_context", c_void_p),
        ("disableDefaultTrustStore", c_int),
        ("protos", POINTER(ctypes.c_ubyte)),
        ("protos_len", c_uint),
    ]


class MQTTAsync_nameValue(Structure):
    """One HTTP header (``MQTTAsync_nameValue``); an array ends with NULLs."""

    _fields_ = [("name", c_char_p), ("value", c_char_p)]


def _enc(v: Optional[Any]) -> Optional[bytes]:
    return None if v is None else str(v).encode("utf-8")


class Transport:
    """Mixin of :class:`ferromq.Client` with its transport and TLS settings."""

    _transport: str
    _host: str
    _port: int
    _tls: Optional[dict[str, Any]]
    _tls_insecure: bool
    _ws_path: str
    _ws_headers: dict[str, str]

    def _transport_init(self, transport: str) -> None:
        if transport not in TRANSPORTS:
            raise ValueError(f"transport must be one of {TRANSPORTS}, not {transport!r}")
        self._transport = transport
        self._tls = None
        self._tls_insecure = False
        self._ws_path = "/mqtt"
        self._ws_headers = {}

    @property
    def transport(self) -> str:
        """``tcp``, ``websockets`` or ``unix``."""
        return self._transport

    def tls_set(
        self,
        ca_certs: Optional[str] = None,
        certfile: Optional[str] = None,
        keyfile: Optional[str] = None,
        cert_reqs: Optional[int] = None,
        tls_version: Optional[int] = None,
        ciphers: Optional[str] = None,
        keyfile_password: Optional[str] = None,
        alpn_protocols: Optional[list[str]] = None,
    ) -> None:
        """Use TLS (rustls underneath) as paho-mqtt's ``tls_set``: ``ca_certs`` a PEM
        CA file (None: the system's trust store), ``certfile``/``keyfile`` a client
        certificate, ``cert_reqs=ssl.CERT_NONE`` skips checking the server,
        ``tls_version=ssl.PROTOCOL_TLSv1_2`` is accepted (TLS 1.2 and 1.3 are used;
        older versions are not available), ``ciphers`` an OpenSSL cipher list."""
        if self._tls is not None:
            raise ValueError("SSL/TLS has already been configured.")
        if self._transport == "unix":
            raise ValueError("TLS is not available over a Unix socket")
        if keyfile is not None and certfile is None:
            raise ValueError("keyfile needs certfile")
        version = _SSL_VERSION_DEFAULT
        if tls_version is not None and tls_version not in (
            getattr(ssl, "PROTOCOL_TLS", -1),
            getattr(ssl, "PROTOCOL_TLS_CLIENT", -1),
        ):
            if tls_version == getattr(ssl, "PROTOCOL_TLSv1_2", -2):
                version = _SSL_VERSION_TLS_1_2
            else:
                raise ValueError("only TLS 1.2 and 1.3 are available")
        self._tls = {
            "ca_certs": ca_certs,
            "certfile": certfile,
            "keyfile": keyfile,
            "verify": cert_reqs != ssl.CERT_NONE,
            "version": version,
            "ciphers": ciphers,
            "password": keyfile_password,
            "alpn": list(alpn_protocols or []),
        }

    def tls_insecure_set(self, value: bool) -> None:
        """True: do not check that the server's certificate names the host (its
        chain is still checked unless ``cert_reqs=ssl.CERT_NONE``)."""
        if self._tls is None:
            raise ValueError("Must configure SSL context before using tls_insecure_set.")
        self._tls_insecure = bool(value)

    def ws_set_options(self, path: str = "/mqtt", headers: Optional[dict[str, str]] = None) -> None:
        """The WebSocket path and extra HTTP headers of the upgrade request."""
        if callable(headers):
            raise ValueError("headers as a callable are not supported; pass a dict")
        self._ws_path = path if path.startswith("/") else "/" + path
        self._ws_headers = dict(headers or {})

    def _server_uri(self) -> bytes:
        if self._transport == "unix":
            return f"unix://{self._host}".encode("utf-8")
        host = self._host
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"
        tls = self._tls is not None
        if self._transport == "websockets":
            scheme = "wss" if tls else "ws"
            return f"{scheme}://{host}:{self._port}{self._ws_path}".encode("utf-8")
        return f"{'ssl' if tls else 'tcp'}://{host}:{self._port}".encode("utf-8")

    def _ssl_options(self, keep: list[Any]) -> Optional[Any]:
        """A pointer to the SSL options for a connect (None without TLS); what it
        points to is appended to ``keep``."""
        t = self._tls
        if t is None:
            return None
        o = MQTTAsync_SSLOptions()
        o.struct_id, o.struct_version = b"MQTS", 5
        o.trustStore = _enc(t["ca_certs"])
        o.keyStore = _enc(t["certfile"])
        o.privateKey = _enc(t["keyfile"])
        o.privateKeyPassword = _enc(t["password"])
        o.enabledCipherSuites = _enc(t["ciphers"])
        o.enableServerCertAuth = int(t["verify"])
        o.sslVersion = t["version"]
        o.verify = int(t["verify"] and not self._tls_insecure)
        if t["alpn"]:
            wire = b"".join(bytes([len(p)]) + p.encode("utf-8") for p in t["alpn"])
            buf = (ctypes.c_ubyte * len(wire)).from_buffer_copy(wire)
            keep.append(buf)
            o.protos = ctypes.cast(buf, POINTER(ctypes.c_ubyte))
            o.protos_len = len(wire)
        keep.append(o)
        return ctypes.pointer(o)

    def _http_headers(self, keep: list[Any]) -> Optional[int]:
        """The address of the header array for a connect (None: no headers)."""
        if self._transport != "websockets" or not self._ws_headers:
            return None
        items = list(self._ws_headers.items())
        arr = (MQTTAsync_nameValue * (len(items) + 1))()
        for i, (k, v) in enumerate(items):
            arr[i].name, arr[i].value = _enc(k), _enc(v)
        keep.append(arr)
        return ctypes.addressof(arr)
