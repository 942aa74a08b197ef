//! The one mio event loop of the process: sockets, timers, readiness and
//! write queues for every client and broker connection. It never blocks on
//! anything but `poll` and never calls user code.

mod broker_conn;
mod client_conn;
pub mod client_socket;
mod event_loop;
pub mod transport;

use std::io;
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
    /// A transport layer (TLS, WebSocket) failed for `reason`; the
    /// session hears of the lost connection through `drive` next.
    fn transport_error(&self, reason: &str);
    /// The reactor thread died (a panic it contained): fail what waits.
    fn reactor_died(&self);
    /// The connection is gone from the reactor: whatever it had to write
    /// was written (or could not be), and nothing more comes from it.
    fn released(&self) {}
}

/// A request from an API thread to the reactor.
pub enum Command {
    /// Open a TCP connection for a client endpoint; `id` names it from now on.
    ClientConnect {
        id: u64,
        dest: client_socket::Dest,
        endpoint: Arc<dyn ClientEndpoint>,
        /// TLS/WebSocket layers over the TCP stream (None: plain TCP).
        transport: Option<Box<transport::Transport>>,
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
    /// Run `task` on the reactor thread at `at` (or at once when past).
    /// Tasks are the library's own code (never user code); they find out
    /// themselves whether they are still wanted.
    Timer { at: Instant, task: Task },
    /// Reading of client connection `id` may resume (its consumer drained).
    ClientResume { id: u64 },
    /// Stop the loop (the last user went away).
    Shutdown,
}

/// A deferred piece of work for the reactor thread.
pub type Task = Box<dyn FnOnce() + Send>;

/// The sending side of the reactor, shared by every handle.
pub struct Reactor {
    commands: Sender<Command>,
    waker: Waker,
    /// Set when the loop stopped or died (a panic on the reactor thread).
    dead: std::sync::atomic::AtomicBool,
}

impl Reactor {
    /// Queue a command and wake the loop. False when the loop is gone
    /// (stopped, or dead after a panic): the command was not taken.
    pub fn send(&self, command: Command) -> bool {
        if self.dead.load(std::sync::atomic::Ordering::Acquire) {
            return false;
        }
        if self.commands.send(command).is_ok() {
            let _ = self.waker.wake();
            true
        } else {
            false
        }
    }

    /// Run `task` on the reactor thread after `delay`.
    pub fn after(&self, delay: std::time::Duration, task: impl FnOnce() + Send + 'static) -> bool {
        let at = Instant::now() + delay;
        self.send(Command::Timer {
            at,
            task: Box::new(task),
        })
    }

    /// False once the loop has stopped or died.
    pub fn is_alive(&self) -> bool {
        !self.dead.load(std::sync::atomic::Ordering::Acquire)
    }
}

/// Run `task` on the process's reactor after `delay`, if a reactor runs
/// (it does whenever a client or broker exists). False when none does.
pub fn after(delay: std::time::Duration, task: impl FnOnce() + Send + 'static) -> bool {
    let reactor = {
        let global = global_lock();
        match global.as_ref() {
            Some(g) if g.pid == std::process::id() => g.reactor.clone(),
            _ => return false,
        }
    };
    reactor.after(delay, task)
}

pub(crate) struct Global {
    reactor: Arc<Reactor>,
    users: usize,
    thread: Option<JoinHandle<()>>,
    /// Which start of the reactor this is (refs of an older one ignore this).
    epoch: u64,
    /// The process that started it: a forked child starts its own.
    pid: u32,
}

static GLOBAL: Mutex<Option<Global>> = Mutex::new(None);
static EPOCH: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// Lock the global slot (held across fork() by the fork handlers).
pub(crate) fn global_lock() -> std::sync::MutexGuard<'static, Option<Global>> {
    GLOBAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// A counted reference to the process's reactor. The reactor thread starts
/// with the first and stops when the last is dropped.
pub struct ReactorRef {
    reactor: Arc<Reactor>,
    epoch: u64,
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

    /// Take a reference, starting the reactor thread if none runs here (in
    /// this process: a forked child has no reactor thread; or none alive:
    /// a reactor that died of a panic is replaced for new users).
    pub fn acquire() -> io::Result<ReactorRef> {
        crate::fork::install();
        let mut global = global_lock();
        let pid = std::process::id();
        if let Some(g) = global.as_mut()
            && g.pid == pid
            && g.reactor.is_alive()
        {
            g.users += 1;
            return Ok(ReactorRef {
                reactor: g.reactor.clone(),
                epoch: g.epoch,
            });
        }
        if let Some(old) = global.take() {
            // The parent's reactor (after fork) or a dead one: its thread is
            // gone; its handles fail on their own. Never join or signal it.
            std::mem::forget(old.thread);
        }
        let poll = mio::Poll::new()?;
        let waker = Waker::new(poll.registry(), WAKER)?;
        let (tx, rx): (Sender<Command>, Receiver<Command>) = crossbeam_channel::unbounded();
        let reactor = Arc::new(Reactor {
            commands: tx,
            waker,
            dead: std::sync::atomic::AtomicBool::new(false),
        });
        let r2 = reactor.clone();
        let thread = std::thread::Builder::new()
            .name("ferromq-reactor".into())
            .spawn(move || event_loop::run(poll, rx, r2))?;
        let epoch = EPOCH.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        *global = Some(Global {
            reactor: reactor.clone(),
            users: 1,
            thread: Some(thread),
            epoch,
            pid,
        });
        Ok(ReactorRef { reactor, epoch })
    }
}

impl Drop for ReactorRef {
    fn drop(&mut self) {
        let thread = {
            let mut global = global_lock();
            let Some(g) = global.as_mut() else { return };
            if g.epoch != self.epoch || g.pid != std::process::id() {
                // A ref of an older reactor (dead, or the parent's).
                return;
            }
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
