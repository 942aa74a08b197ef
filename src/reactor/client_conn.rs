//! One client connection inside the reactor: non-blocking TCP connect, an
//! optional transport (TLS, WebSocket) between socket and session, reads
//! drained until WouldBlock, one batched write per turn, session timers.

use std::io::{self, Read, Write};
use std::sync::Arc;
use std::time::Instant;

use bytes::{Buf, BytesMut};
use mio::{Interest, Registry, Token};

use super::ClientEndpoint;
use super::client_socket::{ClientSocket, Dest};
use super::transport::{Transport, TransportError};

/// What the owner tells the reactor after driving a session.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientDrive {
    /// The session is over: flush what is queued and close the socket.
    pub closed: bool,
    /// When the session next needs `handle_timeout`.
    pub timeout: Option<Instant>,
    /// The consumer of this client's messages is full: stop reading the
    /// socket (TCP pushes back) until `Command::ClientResume`.
    pub pause: bool,
}

/// What the loop must do with a connection after an operation on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    Keep,
    Remove,
}

pub struct ClientConn {
    pub id: u64,
    socket: ClientSocket,
    endpoint: Arc<dyn ClientEndpoint>,
    token: Token,
    tcp_connected: bool,
    inbuf: BytesMut,
    /// The session's output (application bytes).
    out: BytesMut,
    /// With a transport: the layers between socket and session (they hold
    /// the wire bytes waiting for the socket, so a plain TCP connection
    /// pays one pointer for all this).
    transport: Option<Box<Transport>>,
    pub timeout: Option<Instant>,
    write_interest: bool,
    closing: bool,
    /// Reading is held back (see `ClientDrive::pause`).
    paused: bool,
}

/// An emptied buffer is given back, so an idle connection holds no buffer
/// memory (thousands of idle clients in one process are the common case; a
/// busy one pays one allocation per reactor turn, far below its system calls).
fn trim(buf: &mut BytesMut) {
    if buf.is_empty() && buf.capacity() > 0 {
        *buf = BytesMut::new();
    }
}

impl ClientConn {
    /// Start a non-blocking connect and register for writability.
    pub fn connect(
        id: u64,
        dest: Dest,
        endpoint: Arc<dyn ClientEndpoint>,
        transport: Option<Box<Transport>>,
        registry: &Registry,
        token: Token,
    ) -> Result<ClientConn, (Arc<dyn ClientEndpoint>, io::Error)> {
        let mut socket = match ClientSocket::connect(&dest) {
            Ok(s) => s,
            Err(e) => return Err((endpoint, e)),
        };
        if let Err(e) =
            registry.register(&mut socket, token, Interest::READABLE | Interest::WRITABLE)
        {
            return Err((endpoint, e));
        }
        Ok(ClientConn {
            id,
            socket,
            endpoint,
            token,
            tcp_connected: false,
            inbuf: BytesMut::new(),
            out: BytesMut::new(),
            transport,
            timeout: None,
            write_interest: true,
            closing: false,
            paused: false,
        })
    }

    /// The owner of this connection.
    pub fn endpoint(&self) -> &Arc<dyn ClientEndpoint> {
        &self.endpoint
    }

    /// The consumer drained: read what waited in the socket.
    pub fn resume(&mut self, registry: &Registry, scratch: &mut [u8], now: Instant) -> Next {
        if !self.paused || !self.tcp_connected {
            return Next::Keep;
        }
        self.paused = false;
        if !self.inbuf.is_empty() {
            self.feed(now);
            if self.paused {
                return self.write_out(registry, now);
            }
        }
        self.ready(registry, true, false, scratch, now)
    }

    /// Hand buffered input to the session and collect its output.
    fn feed(&mut self, now: Instant) {
        let (inbuf, out) = (&mut self.inbuf, &mut self.out);
        let drive = self.endpoint.drive(now, &mut |s| {
            s.handle_bytes(inbuf, now);
            s.poll_transmit(now, out);
        });
        self.apply(drive);
        trim(&mut self.inbuf);
    }

    /// Readiness reported by poll.
    pub fn ready(
        &mut self,
        registry: &Registry,
        readable: bool,
        writable: bool,
        scratch: &mut [u8],
        now: Instant,
    ) -> Next {
        if !self.tcp_connected {
            if !(writable || readable) {
                return Next::Keep;
            }
            match self.check_connected() {
                Ok(true) => {
                    self.tcp_connected = true;
                    self.socket.set_nodelay();
                }
                Ok(false) => return Next::Keep,
                Err(e) => {
                    self.endpoint.transport_failed(&e);
                    self.lost(now);
                    return Next::Remove;
                }
            }
            return self.flush(registry, now);
        }
        if readable && !self.paused {
            loop {
                match self.read_chunk(scratch) {
                    Ok(Some(0)) => {
                        if self.closing {
                            break;
                        }
                        self.lost(now);
                        return Next::Remove;
                    }
                    Ok(Some(n)) => {
                        if let Some(t) = self.transport.as_mut() {
                            if let Err(e) = t.receive(&scratch[..n], &mut self.inbuf) {
                                return self.transport_error(registry, &e, now);
                            }
                            if self.inbuf.is_empty() {
                                continue;
                            }
                        }
                        self.feed(now);
                        if self.paused || self.closing {
                            break;
                        }
                    }
                    Ok(None) => break,
                    Err(_) => {
                        self.lost(now);
                        return Next::Remove;
                    }
                }
            }
        }
        self.write_out(registry, now)
    }

    /// Collect the session's output and write it.
    pub fn flush(&mut self, registry: &Registry, now: Instant) -> Next {
        if self.tcp_connected {
            let out = &mut self.out;
            let drive = self.endpoint.drive(now, &mut |s| {
                s.poll_transmit(now, out);
            });
            self.apply(drive);
            self.write_out(registry, now)
        } else {
            // Timers of a session still connecting are the owner's concern;
            // record them so the loop keeps its deadline.
            let drive = self.endpoint.drive(now, &mut |_| {});
            self.timeout = drive.timeout;
            Next::Keep
        }
    }

    /// The session's timer fired.
    pub fn on_timeout(&mut self, registry: &Registry, now: Instant) -> Next {
        let out = &mut self.out;
        let connected = self.tcp_connected;
        let drive = self.endpoint.drive(now, &mut |s| {
            s.handle_timeout(now);
            if connected {
                s.poll_transmit(now, out);
            }
        });
        self.apply(drive);
        if !self.tcp_connected {
            return if self.closing {
                Next::Remove
            } else {
                Next::Keep
            };
        }
        self.write_out(registry, now)
    }

    /// The owner asked to close: flush what is queued, then go.
    pub fn close(&mut self, registry: &Registry, now: Instant) -> Next {
        self.closing = true;
        if self.tcp_connected {
            if let Some(t) = self.transport.as_mut() {
                t.close();
            }
            let _ = self.write_out(registry, now);
        }
        self.shutdown(registry);
        Next::Remove
    }

    /// A transport layer failed (or the peer closed it in order): send what
    /// it has left (a TLS alert or close frame tells the peer why), report
    /// a failure's reason, and drop the connection.
    fn transport_error(&mut self, registry: &Registry, e: &TransportError, now: Instant) -> Next {
        if let Some(t) = self.transport.as_mut() {
            let mut none = BytesMut::new();
            let _ = t.send(&mut none);
            let _ = self.socket.write(&t.wire);
        }
        if !e.closed {
            self.endpoint.transport_error(&e.reason);
        }
        self.lost(now);
        self.shutdown(registry);
        Next::Remove
    }

    fn apply(&mut self, drive: ClientDrive) {
        self.timeout = drive.timeout;
        if drive.pause {
            self.paused = true;
        }
        if drive.closed {
            self.closing = true;
        }
    }

    fn check_connected(&mut self) -> io::Result<bool> {
        self.socket.connected()
    }

    /// One read into the input buffer: Some(0) at end of stream, None when
    /// nothing is waiting.
    /// With a transport the bytes stay in `scratch` for it to decode.
    fn read_chunk(&mut self, scratch: &mut [u8]) -> io::Result<Option<usize>> {
        loop {
            match self.socket.read(scratch) {
                Ok(n) => {
                    if self.transport.is_none() {
                        self.inbuf.extend_from_slice(&scratch[..n]);
                    }
                    return Ok(Some(n));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Write what is queued; keep WRITABLE interest only while output waits.
    fn write_out(&mut self, registry: &Registry, now: Instant) -> Next {
        if let Some(t) = self.transport.as_mut()
            && let Err(e) = t.send(&mut self.out)
        {
            return self.transport_error(registry, &e, now);
        }
        let buf = match self.transport.as_mut() {
            Some(t) => &mut t.wire,
            None => &mut self.out,
        };
        while !buf.is_empty() {
            match self.socket.write(buf) {
                Ok(0) => {
                    self.lost(now);
                    return Next::Remove;
                }
                Ok(n) => buf.advance(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => {
                    self.lost(now);
                    return Next::Remove;
                }
            }
        }
        let pending = !buf.is_empty();
        trim(buf);
        trim(&mut self.out);
        if self.closing && !pending {
            self.shutdown(registry);
            return Next::Remove;
        }
        let want = pending;
        if want != self.write_interest {
            let interest = if want {
                Interest::READABLE | Interest::WRITABLE
            } else {
                Interest::READABLE
            };
            if registry
                .reregister(&mut self.socket, self.token, interest)
                .is_ok()
            {
                self.write_interest = want;
            }
        }
        Next::Keep
    }

    /// Tell the session the transport is gone.
    fn lost(&mut self, now: Instant) {
        if self.closing {
            return;
        }
        self.closing = true;
        let drive = self
            .endpoint
            .drive(now, &mut |s| s.handle_connection_lost(now));
        self.timeout = drive.timeout;
    }

    fn shutdown(&mut self, registry: &Registry) {
        let _ = registry.deregister(&mut self.socket);
        self.socket.shutdown();
    }
}

impl Drop for ClientConn {
    /// Every way out of the reactor passes here, after the last write.
    fn drop(&mut self) {
        self.endpoint.released();
    }
}
