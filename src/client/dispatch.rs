//! The per-client dispatcher thread: runs user callbacks in event order,
//! never on the reactor thread and with no client lock held.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::thread::{JoinHandle, ThreadId};
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender};

use super::sync::{Callbacks, DisconnectedFn, Message, PublishedFn};
use crate::protocol::codec::{Properties, ReasonCode};

/// One callback to run.
pub enum Dispatch {
    Message(String, Message),
    DeliveryComplete(i32),
    ConnectionLost(Option<String>),
    Disconnected(Properties, ReasonCode),
    Published(i32, i32, Properties, ReasonCode),
    /// A completion or connected callback, already bound to its data.
    Run(Box<dyn FnOnce() + Send>),
}

/// The callbacks a client has installed.
#[derive(Default)]
pub struct Registry {
    pub main: RwLock<Option<Arc<dyn Callbacks>>>,
    pub disconnected: RwLock<Option<Arc<DisconnectedFn>>>,
    pub published: RwLock<Option<Arc<PublishedFn>>>,
    /// Set when the client is being destroyed: stop re-offering messages.
    pub stopping: AtomicBool,
}

/// Take a clone of a callback slot so no lock is held while user code runs.
fn get<T: ?Sized>(slot: &RwLock<Option<Arc<T>>>) -> Option<Arc<T>> {
    slot.read().ok().and_then(|g| g.clone())
}

impl Registry {
    pub fn has_main(&self) -> bool {
        self.main.read().map(|g| g.is_some()).unwrap_or(false)
    }
    pub fn has_disconnected(&self) -> bool {
        self.disconnected
            .read()
            .map(|g| g.is_some())
            .unwrap_or(false)
    }
    pub fn has_published(&self) -> bool {
        self.published.read().map(|g| g.is_some()).unwrap_or(false)
    }
}

/// The running dispatcher of one client.
pub struct Dispatcher {
    pub tx: Sender<Dispatch>,
    thread: Option<JoinHandle<()>>,
    thread_id: ThreadId,
}

impl Dispatcher {
    /// Start the thread.
    pub fn start(registry: Arc<Registry>) -> std::io::Result<Dispatcher> {
        let (tx, rx) = crossbeam_channel::unbounded();
        let thread = std::thread::Builder::new()
            .name("ferromq-callbacks".into())
            .spawn(move || run(registry, rx))?;
        let thread_id = thread.thread().id();
        Ok(Dispatcher {
            tx,
            thread: Some(thread),
            thread_id,
        })
    }

    /// True when called from this dispatcher's own thread.
    pub fn is_current(&self) -> bool {
        std::thread::current().id() == self.thread_id
    }

    /// Stop after the queued callbacks ran; wait for the thread unless we
    /// are on it (destroy called from inside a callback).
    pub fn stop(mut self) {
        let current = self.is_current();
        let thread = self.thread.take();
        drop(self.tx);
        if let Some(t) = thread
            && !current
        {
            let _ = t.join();
        }
    }
}

fn run(registry: Arc<Registry>, rx: Receiver<Dispatch>) {
    while let Ok(item) = rx.recv() {
        match item {
            Dispatch::Message(topic, msg) => {
                // Paho semantics: a callback that returns false gets the same
                // message again. Back off a little so a refusing callback
                // does not spin the CPU; give up when the client goes away.
                let mut delay = Duration::from_micros(100);
                while let Some(cb) = get(&registry.main) {
                    if cb.message_arrived(&topic, &msg) || registry.stopping.load(Ordering::Acquire)
                    {
                        break;
                    }
                    std::thread::sleep(delay);
                    delay = (delay * 2).min(Duration::from_millis(100));
                }
            }
            Dispatch::DeliveryComplete(token) => {
                if let Some(cb) = get(&registry.main) {
                    cb.delivery_complete(token);
                }
            }
            Dispatch::ConnectionLost(cause) => {
                if let Some(cb) = get(&registry.main) {
                    cb.connection_lost(cause.as_deref());
                }
            }
            Dispatch::Disconnected(props, reason) => {
                if let Some(cb) = get(&registry.disconnected) {
                    cb(&props, reason);
                }
            }
            Dispatch::Run(f) => f(),
            Dispatch::Published(token, ptype, props, reason) => {
                if let Some(cb) = get(&registry.published) {
                    cb(token, ptype, &props, reason);
                }
            }
        }
    }
}
