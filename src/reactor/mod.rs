//! The one mio event loop of the process: sockets, timers, readiness and
//! write queues for every client and broker connection. It never blocks on
//! anything but `poll` and never calls user code.

mod broker_conn;
mod client_conn;
mod event_loop;

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Instant;

use crossbeam_channel::{Receiver, Sender};
use mio::{Token, Waker};

use crate::protocol::session::client::ClientSession;

pub use broker_conn::BrokerEndpoint;
pub use client_conn::ClientDrive;

/// Token of the waker that says "commands are queued".
const WAKER: Token = Token(0);
/// First token handed to connections (slab key + this).
const FIRST_CONN: usize = 16;

/// What the reactor needs from the owner of a client connection (the client
/// layer). The owner holds the session behind its own lock.
pub trait ClientEndpoint: Send + Sync + 'static {
    /// Lock the session, run `f` on it, then let the owner route the events
    /// the session produced. Returns what the reactor must do next.
    fn drive(&self, now: Instant, f: &mut dyn FnMut(&mut ClientSession)) -> ClientDrive;
    /// The transport could not be established or failed; the session (if
    /// any) has already been told through `drive`.
    fn transport_failed(&self, error: &io::Error);
}

/// A request from an API thread to the reactor.
pub enum Command {
    /// Open a TCP connection for a client endpoint; `id` names it from now on.
    ClientConnect {
        id: u64,
        addr: SocketAddr,
        endpoint: Arc<dyn ClientEndpoint>,
    },
    /// The session of `id` has output (or new timers): flush it.
    ClientFlush { id: u64 },
    /// Close the connection of `id` now (after flushing what is queued).
    ClientClose { id: u64 },
    /// Serve a broker on these (already bound) listeners.
    BrokerAdd {
        id: u64,
        endpoint: Arc<dyn BrokerEndpoint>,
        listeners: Vec<std::net::TcpListener>,
    },
    /// The broker's state changed outside the loop (an injected message, a
    /// host decision): collect and write its output.
    BrokerFlush { id: u64 },
    /// Close the broker's listeners and connections; `done` is signalled after.
    BrokerRemove {
        id: u64,
        done: crossbeam_channel::Sender<()>,
    },
    /// Stop the loop (the last user went away).
    Shutdown,
}

/// The sending side of the reactor, shared by every handle.
pub struct Reactor {
    commands: Sender<Command>,
    waker: Waker,
}

impl Reactor {
    /// Queue a command and wake the loop.
    pub fn send(&self, command: Command) {
        // The receiver lives as long as the loop; if the loop is gone the
        // command has nothing left to act on.
        if self.commands.send(command).is_ok() {
            let _ = self.waker.wake();
        }
    }
}

struct Global {
    reactor: Arc<Reactor>,
    users: usize,
    thread: Option<JoinHandle<()>>,
}

static GLOBAL: Mutex<Option<Global>> = Mutex::new(None);

/// A counted reference to the process's reactor. The reactor thread starts
/// with the first and stops when the last is dropped.
pub struct ReactorRef {
    reactor: Arc<Reactor>,
}

impl std::ops::Deref for ReactorRef {
    type Target = Reactor;
    fn deref(&self) -> &Reactor {
        &self.reactor
    }
}

impl ReactorRef {
    /// The shared sending side (does not count as a user).
    pub fn handle(&self) -> Arc<Reactor> {
        self.reactor.clone()
    }

    /// Take a reference, starting the reactor thread if none runs.
    pub fn acquire() -> io::Result<ReactorRef> {
        let mut global = GLOBAL.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(g) = global.as_mut() {
            g.users += 1;
            return Ok(ReactorRef {
                reactor: g.reactor.clone(),
            });
        }
        let poll = mio::Poll::new()?;
        let waker = Waker::new(poll.registry(), WAKER)?;
        let (tx, rx): (Sender<Command>, Receiver<Command>) = crossbeam_channel::unbounded();
        let reactor = Arc::new(Reactor {
            commands: tx,
            waker,
        });
        let thread = std::thread::Builder::new()
            .name("ferromq-reactor".into())
            .spawn(move || event_loop::run(poll, rx))?;
        *global = Some(Global {
            reactor: reactor.clone(),
            users: 1,
            thread: Some(thread),
        });
        Ok(ReactorRef { reactor })
    }
}

impl Drop for ReactorRef {
    fn drop(&mut self) {
        let thread = {
            let mut global = GLOBAL.lock().unwrap_or_else(|e| e.into_inner());
            let Some(g) = global.as_mut() else { return };
            g.users -= 1;
            if g.users > 0 {
                return;
            }
            g.reactor.send(Command::Shutdown);
            let thread = g.thread.take();
            *global = None;
            thread
        };
        if let Some(t) = thread {
            // Never join ourselves (a ref dropped on the reactor thread).
            if t.thread().id() != std::thread::current().id() {
                let _ = t.join();
            }
        }
    }
}
