//! Broker sockets inside the reactor: listeners that accept until WouldBlock,
//! and accepted connections whose output is a queue of shared `Bytes` chunks
//! written with one `writev` per turn. A listener's connections may carry a
//! transport (TLS, WebSocket, both): its handshake runs here, on readiness,
//! and the broker sees only application bytes.

use std::collections::VecDeque;
use std::io::{self, IoSlice, Read, Write};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::{Buf, Bytes, BytesMut};
use mio::net::{TcpListener, TcpStream};
use mio::{Interest, Registry, Token};

use super::event_loop::token_of;
use super::transport::{Transport, TransportError};

/// What the reactor needs from an embedded broker. The broker keeps its
/// state behind its own lock; every call is short and never blocks on I/O.
pub trait BrokerEndpoint: Send + Sync + 'static {
    /// A connection was accepted on listener `listener` (its index in the
    /// list given to `BrokerAdd`); false refuses it (closed at once).
    fn accept(&self, conn: u64, listener: usize, peer: SocketAddr, now: Instant) -> bool;
    /// Bytes arrived on `conn`. Returns `wants_input(conn)` as it stands
    /// afterwards (one call, one lock).
    fn input(&self, conn: u64, data: &mut BytesMut, now: Instant) -> bool;
    /// False while `conn` waits for a host decision or for a full
    /// subscriber to drain: the reactor stops reading it (TCP pushes back
    /// on the client) until told otherwise.
    fn wants_input(&self, conn: u64) -> bool;
    /// `conn` reached end of stream or failed.
    fn closed(&self, conn: u64, now: Instant);
    /// The output written to `conn` piles up (its peer does not read):
    /// true past `CONGESTED_BYTES` unwritten, false once down to a quarter.
    fn congested(&self, conn: u64, congested: bool, now: Instant);
    /// The transport for a connection accepted on `listener` (`None`: plain
    /// TCP) and whether the peer's certificate name must be reported with
    /// `identity` once the handshake is done. An error refuses the
    /// connection.
    fn transport(&self, listener: usize) -> Result<Option<(Transport, bool)>, TransportError> {
        let _ = listener;
        Ok(None)
    }
    /// The handshake of `conn` is complete: `name` is the common name of the
    /// client's certificate (`None`: it presented none). Called before any
    /// of its input, only when `transport` asked for it.
    fn identity(&self, conn: u64, name: Option<String>) {
        let _ = (conn, name);
    }
    /// A transport layer of `conn` failed (bad handshake, garbage): the
    /// reason, for the log; `closed` follows.
    fn transport_error(&self, conn: u64, reason: &str) {
        let _ = (conn, reason);
    }
    /// The broker's timer fired.
    fn timeout(&self, now: Instant);
    /// Hand over queued output (chunks per connection, in order) and the
    /// connections to close once their output is written. Returns the
    /// broker's next timer.
    fn output(&self, out: &mut Vec<(u64, Bytes)>, close: &mut Vec<u64>) -> Option<Instant>;
}

/// A listening socket of a broker.
pub struct Listener {
    pub socket: TcpListener,
    pub broker: u64,
    /// Its index in the broker's listener list.
    pub index: usize,
}

/// One accepted connection.
pub struct BrokerConn {
    pub id: u64,
    pub broker: u64,
    socket: TcpStream,
    inbuf: BytesMut,
    out: VecDeque<Bytes>,
    queued: usize,
    write_interest: bool,
    pub closing: bool,
    /// More than `CONGESTED_BYTES` were waiting to be written (and not yet
    /// back down to a quarter of it); the broker knows.
    congested: bool,
    /// The last read stopped at its budget with input left: read again next
    /// turn (readiness is edge-triggered and will not say so again).
    pub more: bool,
    /// Reading stopped while the broker holds its input (a host decision,
    /// or flow control: a subscriber it feeds is full). Readiness is then
    /// ignored; the reactor reads again once `wants_input` says so.
    pub paused: bool,
    /// TLS/WebSocket layers and their state (None: plain TCP, which so
    /// pays one pointer for all of it).
    transport: Option<Box<Layered>>,
}

/// What a connection with a transport carries besides the plain one.
struct Layered {
    layers: Transport,
    /// Output for the transport not yet encoded (held while it handshakes).
    plain: BytesMut,
    /// The peer's certificate name is still to be reported.
    identity_pending: bool,
    /// The transport's orderly close (close_notify, close frame) is queued.
    closed: bool,
}

/// How much is read from one connection before the broker sees it.
const READ_SLICE: usize = 256 * 1024;

/// How much is read from one connection per reactor turn: between turns the
/// output is written and its congestion reported, so a flooding publisher
/// cannot fill the broker with output for a peer that does not read.
const READ_TURN: usize = 4 * READ_SLICE;

/// Unwritten output beyond which a connection counts as congested: the
/// broker then queues its QoS 0 messages too (and flow control applies)
/// instead of handing them over unbounded.
pub const CONGESTED_BYTES: usize = 1024 * 1024;

/// How many chunks one writev takes.
const MAX_IOV: usize = 64;

impl BrokerConn {
    pub fn new(
        id: u64,
        broker: u64,
        mut socket: TcpStream,
        registry: &Registry,
        token: Token,
        transport: Option<(Transport, bool)>,
    ) -> io::Result<BrokerConn> {
        registry.register(&mut socket, token, Interest::READABLE)?;
        let _ = socket.set_nodelay(true);
        Ok(BrokerConn {
            id,
            broker,
            socket,
            inbuf: BytesMut::new(),
            out: VecDeque::new(),
            queued: 0,
            write_interest: false,
            closing: false,
            congested: false,
            more: false,
            paused: false,
            transport: transport.map(|(layers, identity_pending)| {
                Box::new(Layered {
                    layers,
                    plain: BytesMut::new(),
                    identity_pending,
                    closed: false,
                })
            }),
        })
    }

    /// Wire bytes from the socket: through the transport (if any) into the
    /// input buffer. Reports the peer's identity once the handshake is
    /// done. False: the transport failed (the broker was told why).
    fn take_input(&mut self, ep: &Arc<dyn BrokerEndpoint>, wire: &[u8]) -> bool {
        let Some(t) = self.transport.as_mut() else {
            self.inbuf.extend_from_slice(wire);
            return true;
        };
        if let Err(e) = t.layers.receive(wire, &mut self.inbuf) {
            if !e.closed {
                ep.transport_error(self.id, &e.reason);
            }
            return false;
        }
        if t.identity_pending && t.layers.ready() {
            t.identity_pending = false;
            ep.identity(self.id, t.layers.peer_identity());
        }
        true
    }

    /// It has a transport: input may have produced output (a handshake
    /// reply, a pong) that `write` encodes and sends.
    pub fn has_transport(&self) -> bool {
        self.transport.is_some()
    }

    /// Encode pending output through the transport (what it can take: all
    /// of it once the handshake is done) and queue the wire bytes.
    fn encode(&mut self) -> io::Result<()> {
        let Some(t) = self.transport.as_mut() else {
            return Ok(());
        };
        if self.closing && !t.closed {
            t.closed = true;
            t.layers.close();
        }
        let before = t.plain.len();
        t.layers
            .send(&mut t.plain)
            .map_err(|e| io::Error::other(e.reason))?;
        self.queued -= before - t.plain.len();
        if t.plain.is_empty() && t.plain.capacity() > 0 {
            t.plain = BytesMut::new();
        }
        if !t.layers.wire.is_empty() {
            let wire = t.layers.wire.split().freeze();
            self.queued += wire.len();
            self.out.push_back(wire);
        }
        Ok(())
    }

    /// Read what is available and hand it to the broker, in slices of at
    /// most `READ_SLICE` bytes, stopping early (paused) while the broker
    /// waits for a host decision on this connection. Returns false when the
    /// connection is finished (EOF or error), after telling the broker.
    pub fn read(&mut self, ep: &Arc<dyn BrokerEndpoint>, scratch: &mut [u8], now: Instant) -> bool {
        self.paused = false;
        self.more = false;
        let mut alive = true;
        let mut drained = false;
        let mut total = 0;
        while alive && !drained && !self.closing {
            if total >= READ_TURN {
                self.more = true;
                break;
            }
            let mut got = 0;
            while got < READ_SLICE {
                match self.socket.read(scratch) {
                    Ok(0) => {
                        alive = false;
                        break;
                    }
                    Ok(n) => {
                        got += n;
                        total += n;
                        if !self.take_input(ep, &scratch[..n]) {
                            alive = false;
                            break;
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        drained = true;
                        break;
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(_) => {
                        alive = false;
                        break;
                    }
                }
            }
            // Only its own input can make the broker hold a connection, so
            // without new bytes the answer is still yes.
            let mut wants = true;
            if !self.inbuf.is_empty() {
                wants = ep.input(self.id, &mut self.inbuf, now);
                if self.inbuf.is_empty() {
                    // Idle connections hold no read buffer: most of a
                    // broker's connections are idle most of the time.
                    self.inbuf = BytesMut::new();
                }
            }
            // Paused even when drained: the next readable event must not
            // read more while the broker holds this connection's input.
            if alive && !wants {
                self.paused = true;
                break;
            }
        }
        if !alive {
            ep.closed(self.id, now);
        }
        alive
    }

    /// Queue one chunk of output.
    pub fn push(&mut self, chunk: Bytes) {
        self.queued += chunk.len();
        match self.transport.as_mut() {
            // Encoded in one go at write time: fewer, larger TLS records.
            Some(t) => t.plain.extend_from_slice(&chunk),
            None => self.out.push_back(chunk),
        }
    }

    /// Write queued chunks with writev until done or WouldBlock. Returns
    /// false when the socket failed or, closing, everything was written.
    pub fn write(&mut self, registry: &Registry) -> io::Result<bool> {
        self.encode()?;
        while !self.out.is_empty() {
            let mut iov = [IoSlice::new(&[]); MAX_IOV];
            let mut n_iov = 0;
            for chunk in self.out.iter().take(MAX_IOV) {
                iov[n_iov] = IoSlice::new(chunk);
                n_iov += 1;
            }
            match self.socket.write_vectored(&iov[..n_iov]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(mut n) => {
                    self.queued -= n;
                    while n > 0 {
                        let Some(front) = self.out.front_mut() else {
                            break;
                        };
                        if front.len() <= n {
                            n -= front.len();
                            self.out.pop_front();
                        } else {
                            front.advance(n);
                            n = 0;
                        }
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
        if self.closing && self.out.is_empty() {
            return Ok(false);
        }
        if self.out.is_empty() && self.out.capacity() > 0 {
            // Give back the queue's memory between bursts.
            self.out = VecDeque::new();
        }
        let want = !self.out.is_empty();
        if want != self.write_interest {
            let interest = if want {
                Interest::READABLE | Interest::WRITABLE
            } else {
                Interest::READABLE
            };
            registry.reregister(&mut self.socket, token_of(self.id), interest)?;
            self.write_interest = want;
        }
        Ok(true)
    }

    /// The new congestion state when it changed since the last call.
    pub fn congestion_change(&mut self) -> Option<bool> {
        let now = if self.congested {
            self.queued > CONGESTED_BYTES / 4
        } else {
            self.queued > CONGESTED_BYTES
        };
        (now != self.congested).then(|| {
            self.congested = now;
            now
        })
    }

    pub fn shutdown(&mut self, registry: &Registry) {
        let _ = registry.deregister(&mut self.socket);
        let _ = self.socket.shutdown(std::net::Shutdown::Both);
    }
}
