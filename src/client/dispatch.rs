//! The shared callback dispatcher: one serial queue per client over a small
//! pool of worker threads shared by every client of the process. A client's
//! callbacks run in order and never two at once, never on the reactor thread
//! and with no client lock held. The pool starts one worker, adds one when
//! every worker has been stuck in a callback past a short grace (so a
//! blocking callback delays only its own client), and retires idle workers.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, RwLock};
use std::thread::ThreadId;
use std::time::Duration;

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
pub struct Slots {
    pub main: Option<Arc<dyn Callbacks>>,
    pub disconnected: Option<Arc<DisconnectedFn>>,
    pub published: Option<Arc<PublishedFn>>,
    /// MQTTAsync_setConnected.
    pub connected: Option<Arc<super::r#async::ConnectedFn>>,
    /// MQTTAsync_setUpdateConnectOptions.
    pub update: Option<Arc<super::r#async::UpdateConnectFn>>,
}

/// A client's callbacks behind one lock (one per slot cost 24 bytes each,
/// per client; they change rarely and are read briefly).
#[derive(Default)]
pub struct Registry {
    slots: RwLock<Slots>,
    /// Set when the client is being destroyed: stop re-offering messages.
    pub stopping: AtomicBool,
    /// Acknowledges a message with a receipt once messageArrived took it.
    settle: OnceLock<SettleFn>,
}

/// See `Registry::settle`.
pub type SettleFn = Box<dyn Fn(&str, &Message) + Send + Sync>;

impl Registry {
    /// A clone of one slot, so that no lock is held while user code runs.
    pub fn get<T: ?Sized>(&self, slot: impl FnOnce(&Slots) -> &Option<Arc<T>>) -> Option<Arc<T>> {
        let g = self.slots.read().unwrap_or_else(|e| e.into_inner());
        slot(&g).clone()
    }

    /// Change the slots (a poisoned lock is still usable: slots are plain values).
    pub fn set(&self, f: impl FnOnce(&mut Slots)) {
        f(&mut self.slots.write().unwrap_or_else(|e| e.into_inner()));
    }

    /// Install what settles a delivered message (once per client).
    pub fn set_settle(&self, f: SettleFn) {
        let _ = self.settle.set(f);
    }

    pub fn has_main(&self) -> bool {
        self.get(|s| &s.main).is_some()
    }
    pub fn has_disconnected(&self) -> bool {
        self.get(|s| &s.disconnected).is_some()
    }
    pub fn has_published(&self) -> bool {
        self.get(|s| &s.published).is_some()
    }
}

/// Most workers the pool runs at once (each one stuck in a callback).
const MAX_WORKERS: usize = 128;
/// How long every worker may be busy before one more is started.
const GRACE: Duration = Duration::from_millis(20);
/// An idle worker beyond the first retires after this long.
const IDLE_RETIRE: Duration = Duration::from_secs(10);
/// Items a worker runs from one queue before giving other queues a turn.
const BATCH: usize = 64;

/// Items waiting beyond which the client stops reading its socket.
pub const HIGH_WATER: usize = 1024;
/// Items waiting at or below which reading resumes.
pub const LOW_WATER: usize = 256;

struct QueueState {
    items: VecDeque<Dispatch>,
    /// On the pool's ready list or being run by a worker.
    scheduled: bool,
    /// The worker running this queue's callback right now.
    running_on: Option<ThreadId>,
    closed: bool,
    /// Threads waiting on `done` (notifying costs a system call, so only
    /// when someone listens).
    waiters: usize,
}

/// One client's serial queue.
pub struct Queue {
    state: Mutex<QueueState>,
    /// Signalled when an item finished (for `stop` and `wait_below`).
    done: Condvar,
    registry: Arc<Registry>,
    /// Items waiting (read without the lock by the reactor's flow control).
    len: AtomicUsize,
    /// Called once when the queue drains to LOW_WATER after passing HIGH_WATER.
    resume: Mutex<Option<Arc<dyn Fn() + Send + Sync>>>,
    over_high: AtomicBool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

struct PoolState {
    ready: VecDeque<Arc<Queue>>,
    workers: usize,
    idle: usize,
    /// Items finished by any worker (progress, for the starvation check).
    finished: u64,
    /// A starvation check is scheduled.
    check_armed: bool,
}

pub(crate) struct Pool {
    /// The process this pool's threads live in (a forked child starts anew).
    pid: u32,
    state: Mutex<PoolState>,
    work: Condvar,
}

static POOL: Mutex<Option<Arc<Pool>>> = Mutex::new(None);

/// Lock the pool slot (held across fork() by the fork handlers).
pub(crate) fn pool_lock() -> MutexGuard<'static, Option<Arc<Pool>>> {
    lock(&POOL)
}

/// The process's pool, made on first use (and anew in a forked child, whose
/// copy of the parent's pool has no threads).
fn pool() -> Arc<Pool> {
    let mut g = lock(&POOL);
    let pid = std::process::id();
    if let Some(p) = g.as_ref()
        && p.pid == pid
    {
        return p.clone();
    }
    if let Some(old) = g.take() {
        // The parent's pool: its lock may be held by a thread that does not
        // exist here, so never touch it again.
        std::mem::forget(old);
    }
    let p = Arc::new(Pool {
        pid,
        state: Mutex::new(PoolState {
            ready: VecDeque::new(),
            workers: 0,
            idle: 0,
            finished: 0,
            check_armed: false,
        }),
        work: Condvar::new(),
    });
    *g = Some(p.clone());
    p
}

/// Workers alive now (for tests and diagnostics).
pub fn worker_count() -> usize {
    let p = lock(&POOL).clone();
    p.map(|p| lock(&p.state).workers).unwrap_or(0)
}

thread_local! {
    /// The queue whose callback this thread is running, if any.
    static CURRENT: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

impl Pool {
    fn spawn_worker(self: &Arc<Self>, st: &mut PoolState) -> bool {
        let pool = self.clone();
        let ok = std::thread::Builder::new()
            .name("ferromq-callbacks".into())
            .stack_size(256 * 1024)
            .spawn(move || pool.worker())
            .is_ok();
        if ok {
            st.workers += 1;
            st.idle += 1;
        }
        ok
    }

    /// Put a queue on the ready list and make sure someone will run it.
    fn schedule(self: &Arc<Self>, q: Arc<Queue>) {
        let mut st = lock(&self.state);
        st.ready.push_back(q);
        if st.workers == 0 {
            self.spawn_worker(&mut st);
        }
        if st.idle > 0 {
            self.work.notify_one();
        } else if !st.check_armed && st.workers < MAX_WORKERS {
            st.check_armed = true;
            let seen = st.finished;
            drop(st);
            self.arm_check(seen);
        }
    }

    /// After GRACE: when no worker finished anything meanwhile and work is
    /// waiting, every worker is stuck in a callback: add one.
    fn arm_check(self: &Arc<Self>, seen: u64) {
        let pool = self.clone();
        crate::reactor::after(GRACE, move || {
            let mut st = lock(&pool.state);
            st.check_armed = false;
            if st.ready.is_empty() || st.idle > 0 {
                return;
            }
            if st.finished == seen && st.workers < MAX_WORKERS {
                pool.spawn_worker(&mut st);
                pool.work.notify_one();
            }
            if !st.ready.is_empty() && st.idle == 0 && st.workers < MAX_WORKERS {
                st.check_armed = true;
                let seen = st.finished;
                drop(st);
                pool.arm_check(seen);
            }
        });
    }

    fn worker(self: Arc<Self>) {
        let mut st = lock(&self.state);
        loop {
            let Some(q) = st.ready.pop_front() else {
                let (g, timeout) = self
                    .work
                    .wait_timeout(st, IDLE_RETIRE)
                    .unwrap_or_else(|e| e.into_inner());
                st = g;
                if timeout.timed_out() && st.ready.is_empty() && st.workers > 1 {
                    st.workers -= 1;
                    st.idle -= 1;
                    return;
                }
                continue;
            };
            st.idle -= 1;
            drop(st);
            let more = q.run_batch();
            st = lock(&self.state);
            st.idle += 1;
            st.finished += 1;
            if more {
                st.ready.push_back(q);
            }
        }
    }
}

impl Queue {
    /// Run up to BATCH items. True when items remain (requeue).
    fn run_batch(self: &Arc<Self>) -> bool {
        let me = std::thread::current().id();
        let key = Arc::as_ptr(self) as usize;
        let mut ran = 0;
        let mut st = lock(&self.state);
        loop {
            if st.running_on.take().is_some() && st.waiters > 0 {
                self.done.notify_all();
            }
            if ran == BATCH {
                if st.items.is_empty() {
                    break;
                }
                return true;
            }
            let Some(item) = st.items.pop_front() else {
                break;
            };
            st.running_on = Some(me);
            drop(st);
            ran += 1;
            self.len.fetch_sub(1, Ordering::AcqRel);
            CURRENT.with(|c| c.set(key));
            // A panicking callback must not take the worker (and every other
            // client's callbacks) down with it.
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                run_one(&self.registry, item)
            }));
            CURRENT.with(|c| c.set(0));
            self.maybe_resume();
            st = lock(&self.state);
        }
        st.scheduled = false;
        // An idle client's queue holds no memory.
        st.items = VecDeque::new();
        if st.waiters > 0 {
            self.done.notify_all();
        }
        false
    }

    fn maybe_resume(&self) {
        if self.over_high.load(Ordering::Acquire)
            && self.len.load(Ordering::Acquire) <= LOW_WATER
            && self.over_high.swap(false, Ordering::AcqRel)
        {
            // Called with no lock held: it takes the client's lock, which
            // the reactor may hold while it queues more.
            let f = lock(&self.resume).clone();
            if let Some(f) = f {
                f();
            }
        }
    }
}

/// A client's handle on the shared dispatcher.
pub struct Dispatcher {
    queue: Arc<Queue>,
    pool: Arc<Pool>,
}

impl Dispatcher {
    /// A new serial queue for one client.
    pub fn start(registry: Arc<Registry>) -> std::io::Result<Dispatcher> {
        Ok(Dispatcher {
            queue: Arc::new(Queue {
                state: Mutex::new(QueueState {
                    items: VecDeque::new(),
                    scheduled: false,
                    running_on: None,
                    closed: false,
                    waiters: 0,
                }),
                done: Condvar::new(),
                registry,
                len: AtomicUsize::new(0),
                resume: Mutex::new(None),
                over_high: AtomicBool::new(false),
            }),
            pool: pool(),
        })
    }

    /// Queue one callback. Returns false when the queue is past HIGH_WATER
    /// (the caller should stop reading input until `on_resume` fires).
    pub fn push(&self, d: Dispatch) -> bool {
        let schedule = {
            let mut st = lock(&self.queue.state);
            if st.closed {
                return true;
            }
            st.items.push_back(d);
            let s = !st.scheduled;
            st.scheduled = true;
            s
        };
        let n = self.queue.len.fetch_add(1, Ordering::AcqRel) + 1;
        if schedule {
            self.pool.schedule(self.queue.clone());
        }
        if n > HIGH_WATER {
            self.queue.over_high.store(true, Ordering::Release);
            false
        } else {
            true
        }
    }

    /// Items waiting now.
    pub fn len(&self) -> usize {
        self.queue.len.load(Ordering::Acquire)
    }

    /// True when nothing waits.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True when more than HIGH_WATER items wait.
    pub fn is_full(&self) -> bool {
        self.len() > HIGH_WATER
    }

    /// What to call when a full queue has drained to LOW_WATER.
    pub fn on_resume(&self, f: Box<dyn Fn() + Send + Sync>) {
        *lock(&self.queue.resume) = Some(Arc::from(f));
    }

    /// True when called from inside one of this client's callbacks.
    pub fn is_current(&self) -> bool {
        CURRENT.with(|c| c.get()) == Arc::as_ptr(&self.queue) as usize
    }

    /// Stop after the queued callbacks ran; wait for them unless we are
    /// inside one of them (destroy called from a callback), in which case
    /// what is still queued is dropped.
    pub fn stop(self) {
        let current = self.is_current();
        let mut st = lock(&self.queue.state);
        if current {
            st.closed = true;
            let dropped = st.items.len();
            st.items.clear();
            self.queue.len.fetch_sub(dropped, Ordering::AcqRel);
            return;
        }
        while st.scheduled || st.running_on.is_some() {
            st.waiters += 1;
            st = self
                .queue
                .done
                .wait_timeout(st, Duration::from_millis(100))
                .unwrap_or_else(|e| e.into_inner())
                .0;
            st.waiters -= 1;
        }
        st.closed = true;
        *lock(&self.queue.resume) = None;
    }
}

fn run_one(registry: &Registry, item: Dispatch) {
    match item {
        Dispatch::Message(topic, msg) => {
            // Paho semantics: a callback that returns false gets the same
            // message again. Back off a little so a refusing callback does
            // not spin the CPU; give up when the client goes away.
            let mut delay = Duration::from_micros(100);
            while let Some(cb) = registry.get(|s| &s.main) {
                if cb.message_arrived(&topic, &msg) {
                    // Taken: acknowledge it (when that waited for this).
                    if msg.receipt.is_some()
                        && let Some(settle) = registry.settle.get()
                    {
                        settle(&topic, &msg);
                    }
                    break;
                }
                if registry.stopping.load(Ordering::Acquire) {
                    break;
                }
                std::thread::sleep(delay);
                delay = (delay * 2).min(Duration::from_millis(100));
            }
        }
        Dispatch::DeliveryComplete(token) => {
            if let Some(cb) = registry.get(|s| &s.main) {
                cb.delivery_complete(token);
            }
        }
        Dispatch::ConnectionLost(cause) => {
            if let Some(cb) = registry.get(|s| &s.main) {
                cb.connection_lost(cause.as_deref());
            }
        }
        Dispatch::Disconnected(props, reason) => {
            if let Some(cb) = registry.get(|s| &s.disconnected) {
                cb(&props, reason);
            }
        }
        Dispatch::Run(f) => f(),
        Dispatch::Published(token, ptype, props, reason) => {
            if let Some(cb) = registry.get(|s| &s.published) {
                cb(token, ptype, &props, reason);
            }
        }
    }
}
