//! One bench connection on the shared mio loop: a non-blocking socket, the
//! sans-IO `ClientSession` that speaks MQTT over it, and its buffers; over
//! TLS (`--tls CAFILE`) through the library's own TLS layer.

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use bytes::BytesMut;
use ferromq::protocol::codec::{Properties, ProtocolVersion};
use ferromq::protocol::session::client::{ClientConfig, ClientSession, Event};
use ferromq::reactor::transport::Transport;
use ferromq::reactor::transport::tls::TlsLayer;
use ferromq::reactor::transport::tls_config::{TlsSettings, client_config};
use mio::net::TcpStream;
use mio::{Interest, Registry, Token};

/// The TLS client configuration every connection uses, once `--tls` set it.
static TLS: OnceLock<Arc<rustls::ClientConfig>> = OnceLock::new();

/// Make every connection of this run a TLS connection trusting `ca`
/// (server name 127.0.0.1 checked).
pub fn use_tls(ca: &std::path::Path) -> Result<(), String> {
    let s = TlsSettings {
        trust_store: Some(ca.to_path_buf()),
        verify_server: true,
        verify_host: true,
        ..TlsSettings::default()
    };
    let config = client_config(&s).map_err(|e| format!("--tls: {e}"))?;
    let _ = TLS.set(config);
    Ok(())
}

/// Stop adding to a connection's output buffer beyond this many bytes.
pub const WRITE_HIGH_WATER: usize = 256 * 1024;

/// A connection and its session.
pub struct Conn {
    pub stream: TcpStream,
    pub session: ClientSession,
    rbuf: BytesMut,
    wbuf: BytesMut,
    /// The TCP handshake finished.
    pub tcp_up: bool,
    /// The last write attempt hit WouldBlock; wait for WRITABLE.
    pub blocked: bool,
    /// The socket reached EOF or failed.
    pub dead: bool,
    /// TLS: the layer, and session output it has not encrypted yet.
    tls: Option<Box<Transport>>,
    plain: BytesMut,
}

/// The session configuration every bench connection uses: MQTT 3.1.1, clean
/// session, no keepalive (runs are short and idle mode must stay silent).
pub fn config(client_id: String, window: u16) -> ClientConfig {
    ClientConfig {
        version: ProtocolVersion::V311,
        client_id,
        clean_start: true,
        keep_alive: Duration::ZERO,
        will: None,
        username: None,
        password: None,
        properties: Properties::default(),
        max_inflight: window,
        retry_interval: Duration::ZERO,
        connect_timeout: Duration::from_secs(30),
        max_packet_size: 0,
        bridge: false,
        track_incoming_qos2: false,
        ack_on_delivery: false,
    }
}

impl Conn {
    /// Start a non-blocking connect to `addr` registered under `token`; the
    /// CONNECT is queued and goes out once the handshake completes.
    pub fn open(
        registry: &Registry,
        token: Token,
        addr: SocketAddr,
        cfg: ClientConfig,
        now: Instant,
    ) -> io::Result<Conn> {
        let mut stream = TcpStream::connect(addr)?;
        registry.register(&mut stream, token, Interest::READABLE | Interest::WRITABLE)?;
        let tls = match TLS.get() {
            Some(config) => {
                let host = addr.ip().to_string();
                let layer = TlsLayer::client(config.clone(), &host)
                    .map_err(|e| io::Error::other(e.reason))?;
                Some(Box::new(Transport::new(vec![Box::new(layer)])))
            }
            None => None,
        };
        Ok(Conn {
            stream,
            session: ClientSession::new(cfg, now),
            rbuf: BytesMut::new(),
            wbuf: BytesMut::new(),
            tcp_up: false,
            blocked: false,
            dead: false,
            tls,
            plain: BytesMut::new(),
        })
    }

    /// Bytes waiting in our output buffer.
    pub fn pending_output(&self) -> usize {
        self.wbuf.len() + self.plain.len()
    }

    /// Check a pending non-blocking connect (call on WRITABLE). Ok(true) once
    /// the connection is established.
    pub fn check_connected(&mut self) -> io::Result<bool> {
        if self.tcp_up {
            return Ok(true);
        }
        if let Some(e) = self.stream.take_error()? {
            return Err(e);
        }
        match self.stream.peer_addr() {
            Ok(_) => {
                self.tcp_up = true;
                let _ = self.stream.set_nodelay(true);
                Ok(true)
            }
            Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Move the session's output into the buffer and write as much as the
    /// socket takes. Sets `blocked` when it stopped on WouldBlock.
    pub fn flush(&mut self, now: Instant) -> io::Result<()> {
        match self.tls.as_mut() {
            None => {
                self.session.poll_transmit(now, &mut self.wbuf);
            }
            Some(t) => {
                self.session.poll_transmit(now, &mut self.plain);
                t.send(&mut self.plain)
                    .map_err(|e| io::Error::other(e.reason))?;
                self.wbuf.extend_from_slice(&t.wire.split());
            }
        }
        if !self.tcp_up || self.dead {
            return Ok(());
        }
        self.blocked = false;
        while !self.wbuf.is_empty() {
            match self.stream.write(&self.wbuf) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    let _ = self.wbuf.split_to(n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.blocked = true;
                    break;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if self.wbuf.is_empty() && self.wbuf.capacity() > 4 * WRITE_HIGH_WATER {
            self.wbuf = BytesMut::new();
        }
        Ok(())
    }

    /// Read until WouldBlock and feed the session. On EOF or error the
    /// session learns the connection is lost.
    pub fn read_all(&mut self, scratch: &mut [u8], now: Instant) {
        loop {
            match self.stream.read(scratch) {
                Ok(0) => {
                    self.dead = true;
                    break;
                }
                Ok(n) => {
                    match self.tls.as_mut() {
                        None => self.rbuf.extend_from_slice(&scratch[..n]),
                        Some(t) => {
                            if t.receive(&scratch[..n], &mut self.rbuf).is_err() {
                                self.dead = true;
                                break;
                            }
                        }
                    }
                    self.session.handle_bytes(&mut self.rbuf, now);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => {
                    self.dead = true;
                    break;
                }
            }
        }
        if self.dead {
            self.session.handle_connection_lost(now);
        } else if self.tls.is_some() {
            // The handshake's next flight (or a key update) goes out now.
            let _ = self.flush(now);
        }
    }

    /// Run the session's timers if one is due.
    pub fn tick(&mut self, now: Instant) {
        if self.session.poll_timeout().is_some_and(|t| t <= now) {
            self.session.handle_timeout(now);
        }
    }

    /// The next event of the session.
    pub fn next_event(&mut self) -> Option<Event> {
        self.session.poll_event()
    }
}
