//! The socket under a client connection: TCP, or a Unix domain socket for
//! `unix://PATH` URIs. Both connect without blocking and are drained the
//! same way; this type gives the connection one set of calls for both.

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::path::PathBuf;

use mio::event::Source;
use mio::net::{TcpStream, UnixStream};
use mio::{Interest, Registry, Token};

/// Where a client connection goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dest {
    Tcp(SocketAddr),
    Unix(PathBuf),
}

pub enum ClientSocket {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl ClientSocket {
    /// Start a non-blocking connect.
    pub fn connect(dest: &Dest) -> io::Result<ClientSocket> {
        match dest {
            Dest::Tcp(a) => TcpStream::connect(*a).map(ClientSocket::Tcp),
            Dest::Unix(p) => UnixStream::connect(p).map(ClientSocket::Unix),
        }
    }

    /// The connect completed (Ok(true)), is under way (Ok(false)) or failed.
    pub fn connected(&self) -> io::Result<bool> {
        let (error, peer) = match self {
            ClientSocket::Tcp(s) => (s.take_error()?, s.peer_addr().map(|_| ())),
            ClientSocket::Unix(s) => (s.take_error()?, s.peer_addr().map(|_| ())),
        };
        if let Some(e) = error {
            return Err(e);
        }
        match peer {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(false),
            Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// After connecting: no Nagle delay on TCP.
    pub fn set_nodelay(&self) {
        if let ClientSocket::Tcp(s) = self {
            let _ = s.set_nodelay(true);
        }
    }

    pub fn shutdown(&self) {
        let _ = match self {
            ClientSocket::Tcp(s) => s.shutdown(std::net::Shutdown::Both),
            ClientSocket::Unix(s) => s.shutdown(std::net::Shutdown::Both),
        };
    }
}

impl Read for ClientSocket {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            ClientSocket::Tcp(s) => s.read(buf),
            ClientSocket::Unix(s) => s.read(buf),
        }
    }
}

impl Write for ClientSocket {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            ClientSocket::Tcp(s) => s.write(buf),
            ClientSocket::Unix(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Source for ClientSocket {
    fn register(&mut self, r: &Registry, t: Token, i: Interest) -> io::Result<()> {
        match self {
            ClientSocket::Tcp(s) => s.register(r, t, i),
            ClientSocket::Unix(s) => s.register(r, t, i),
        }
    }

    fn reregister(&mut self, r: &Registry, t: Token, i: Interest) -> io::Result<()> {
        match self {
            ClientSocket::Tcp(s) => s.reregister(r, t, i),
            ClientSocket::Unix(s) => s.reregister(r, t, i),
        }
    }

    fn deregister(&mut self, r: &Registry) -> io::Result<()> {
        match self {
            ClientSocket::Tcp(s) => s.deregister(r),
            ClientSocket::Unix(s) => s.deregister(r),
        }
    }
}
