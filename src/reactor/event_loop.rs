//! The poll loop: wait for readiness, commands or the earliest timer, then
//! serve each in turn. The poll timeout is the minimum of the sessions' and
//! brokers' timers; broker output is collected and written once per turn.

use foldhash::{HashMap, HashSet};
use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use crossbeam_channel::Receiver;
use mio::{Events, Interest, Poll, Token};
use slab::Slab;

use super::broker_conn::{BrokerConn, BrokerEndpoint, Listener};
use super::client_conn::{ClientConn, Next};
use super::{Command, FIRST_CONN, Reactor, Task, WAKER};
use std::collections::BinaryHeap;

/// Bits of a broker connection's id that hold its slab key; the bits
/// above count accepts, so an id is never reused while the key is. The
/// reactor finds a connection from its id without a map (a map entry per
/// connection cost about 28 bytes of the broker's idle footprint).
const KEY_BITS: u32 = 28;

/// The id of the `seq`-th broker connection at slab `key` (None past the
/// ranges: more than 2^28 sources at once, or 2^34 accepts).
fn broker_conn_id(seq: u64, key: usize) -> Option<u64> {
    let key = u64::try_from(key).ok().filter(|&k| k < 1 << KEY_BITS)?;
    // Below 2^62: the broker keeps ids from 2^62 up for its internal
    // (bridge) sessions.
    (seq < 1 << (62 - KEY_BITS)).then_some(seq << KEY_BITS | key)
}

/// The slab key a broker connection id points to (check the id there).
fn broker_conn_key(id: u64) -> usize {
    (id & ((1 << KEY_BITS) - 1)) as usize
}

/// The poll token of a broker connection (derived from its id, so the
/// connection need not keep it).
pub(super) fn token_of(id: u64) -> Token {
    Token(broker_conn_key(id) + FIRST_CONN)
}

enum Source {
    Client(ClientConn),
    Listener(Listener),
    Broker(BrokerConn),
}

struct BrokerEntry {
    endpoint: Arc<dyn BrokerEndpoint>,
    timeout: Option<Instant>,
    listeners: Vec<usize>,
    /// Connections whose reading is paused for a host decision or by flow
    /// control (few at a time, so a short list beats scanning every
    /// connection each turn).
    paused: Vec<usize>,
}

/// A task due at `at`; `seq` keeps equal instants in submission order.
struct TimerEntry {
    at: Instant,
    seq: u64,
    task: Task,
}

impl PartialEq for TimerEntry {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for TimerEntry {}
impl PartialOrd for TimerEntry {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for TimerEntry {
    /// Reversed: the heap's top is the earliest.
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (other.at, other.seq).cmp(&(self.at, self.seq))
    }
}

struct Loop {
    poll: Poll,
    timers: BinaryHeap<TimerEntry>,
    timer_seq: u64,
    sources: Slab<Source>,
    clients: HashMap<u64, usize>,
    brokers: HashMap<u64, BrokerEntry>,
    dirty: HashSet<u64>,
    scratch: Vec<u8>,
    next_conn: u64,
    out: Vec<(u64, Bytes)>,
    close: Vec<u64>,
    /// Broker connections whose last read stopped at its per-turn budget.
    more_input: Vec<usize>,
}

/// Run until `Command::Shutdown`. A panic inside a turn is contained: every
/// client connection is told the reactor died, the reactor is marked dead so
/// later calls fail at once, and the thread ends instead of aborting the
/// process.
pub fn run(poll: Poll, commands: Receiver<Command>, reactor: Arc<Reactor>) {
    let mut lp = Loop {
        poll,
        timers: BinaryHeap::new(),
        timer_seq: 0,
        sources: Slab::new(),
        clients: HashMap::default(),
        brokers: HashMap::default(),
        dirty: HashSet::default(),
        scratch: vec![0u8; 64 * 1024],
        next_conn: 1,
        out: Vec::new(),
        close: Vec::new(),
        more_input: Vec::new(),
    };
    let mut events = Events::with_capacity(1024);
    loop {
        let turn = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            lp.turn(&mut events, &commands)
        }));
        match turn {
            Ok(true) => {}
            Ok(false) => break,
            Err(panic) => {
                let why = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown".into());
                crate::client::trace::emit(
                    crate::client::trace::FATAL,
                    &format!("reactor thread panicked ({why}): every client fails from now on"),
                );
                reactor
                    .dead
                    .store(true, std::sync::atomic::Ordering::Release);
                lp.fail_all();
                break;
            }
        }
    }
    reactor
        .dead
        .store(true, std::sync::atomic::Ordering::Release);
    // Commands that raced with the end: run their timers' cleanup never;
    // drop them (their senders see a dead reactor).
    while commands.try_recv().is_ok() {}
}

impl Loop {
    /// One turn: poll, serve readiness, commands and timers. False: stop.
    fn turn(&mut self, events: &mut Events, commands: &Receiver<Command>) -> bool {
        let carried = std::mem::take(&mut self.more_input);
        let timeout = match carried.is_empty() {
            true => self
                .next_deadline()
                .map(|d| d.saturating_duration_since(Instant::now())),
            false => Some(Duration::ZERO),
        };
        if let Err(e) = self.poll.poll(events, timeout) {
            if e.kind() != io::ErrorKind::Interrupted {
                // A broken poll cannot serve anyone; back off rather than spin.
                std::thread::sleep(Duration::from_millis(10));
            }
            return true;
        }
        let now = Instant::now();
        for event in events.iter() {
            let token = event.token();
            if token == WAKER {
                continue;
            }
            let readable = event.is_readable() || event.is_read_closed() || event.is_error();
            let writable = event.is_writable() || event.is_write_closed();
            self.ready(token.0 - FIRST_CONN, readable, writable, now);
        }
        // Input left over by last turn's read budget (not re-signalled).
        for key in carried {
            if !self.more_input.contains(&key) {
                self.ready(key, true, false, now);
            }
        }
        while let Ok(cmd) = commands.try_recv() {
            if !self.command(cmd, now) {
                return false;
            }
        }
        let now = Instant::now();
        self.fire_timers(now);
        self.service_brokers(now);
        true
    }

    /// After a contained panic: tell every client connection, close sockets.
    fn fail_all(&mut self) {
        for (_, src) in self.sources.iter() {
            if let Source::Client(c) = src {
                c.endpoint().reactor_died();
            }
        }
        self.timers.clear();
    }
}

impl Loop {
    fn next_deadline(&self) -> Option<Instant> {
        let timer = self.timers.peek().map(|t| t.at);
        // Only client connections carry their own timers; walking the
        // client index keeps this independent of the broker's connections.
        let clients = self
            .clients
            .values()
            .filter_map(|&k| match self.sources.get(k) {
                Some(Source::Client(c)) => c.timeout,
                _ => None,
            });
        let brokers = self.brokers.values().filter_map(|b| b.timeout);
        clients.chain(brokers).chain(timer).min()
    }

    fn ready(&mut self, key: usize, readable: bool, writable: bool, now: Instant) {
        let registry = self.poll.registry();
        match self.sources.get_mut(key) {
            Some(Source::Client(c)) => {
                let next = c.ready(registry, readable, writable, &mut self.scratch, now);
                self.after_client(key, next);
            }
            Some(Source::Listener(_)) => self.accept(key, now),
            Some(Source::Broker(c)) => {
                let bid = c.broker;
                let Some(entry) = self.brokers.get_mut(&bid) else {
                    return;
                };
                let mut alive = true;
                // A paused connection is read again when the broker wants
                // its input (see `service_brokers`), not on readiness.
                if readable && !c.paused {
                    alive = c.read(&entry.endpoint, &mut self.scratch, now);
                    if alive && c.paused && !entry.paused.contains(&key) {
                        entry.paused.push(key);
                    }
                    if alive && c.more {
                        self.more_input.push(key);
                    }
                }
                // Input through a transport may call for a reply (handshake).
                if alive && (writable || c.has_transport()) {
                    alive = matches!(c.write(registry), Ok(true));
                    if !alive && !c.closing {
                        entry.endpoint.closed(c.id, now);
                    }
                }
                if alive && let Some(congested) = c.congestion_change() {
                    entry.endpoint.congested(c.id, congested, now);
                }
                self.dirty.insert(bid);
                if !alive {
                    self.remove_broker_conn(key);
                }
            }
            None => {}
        }
    }

    fn accept(&mut self, key: usize, now: Instant) {
        loop {
            let Some(Source::Listener(l)) = self.sources.get(key) else {
                return;
            };
            let (bid, index) = (l.broker, l.index);
            let (socket, peer) = match l.socket.accept() {
                Ok(x) => x,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                // Out of descriptors and the like: leave the rest in the
                // backlog and serve the others.
                Err(_) => return,
            };
            let Some(entry) = self.brokers.get_mut(&bid) else {
                return;
            };
            // A listener whose transport cannot be set up (no TLS
            // configuration) refuses the connection: the socket is dropped.
            let Ok(transport) = entry.endpoint.transport(index) else {
                continue;
            };
            let vacant = self.sources.vacant_entry();
            let ckey = vacant.key();
            let Some(id) = broker_conn_id(self.next_conn, ckey) else {
                continue;
            };
            self.next_conn += 1;
            let Ok(conn) = BrokerConn::new(
                id,
                bid,
                socket,
                self.poll.registry(),
                token_of(id),
                transport,
            ) else {
                continue;
            };
            vacant.insert(Source::Broker(conn));
            if !entry.endpoint.accept(id, index, peer, now) {
                self.remove_broker_conn(ckey);
            }
            self.dirty.insert(bid);
        }
    }

    fn remove_broker_conn(&mut self, key: usize) {
        if let Some(Source::Broker(mut c)) = self.sources.try_remove(key) {
            c.shutdown(self.poll.registry());
            if let Some(entry) = self.brokers.get_mut(&c.broker) {
                entry.paused.retain(|&k| k != key);
            }
        }
    }

    /// Collect each dirty broker's output and write it: one writev per
    /// connection per turn.
    fn service_brokers(&mut self, now: Instant) {
        if self.dirty.is_empty() {
            return;
        }
        let dirty: Vec<u64> = self.dirty.drain().collect();
        for bid in dirty {
            let Some(entry) = self.brokers.get_mut(&bid) else {
                continue;
            };
            self.out.clear();
            self.close.clear();
            entry.timeout = entry.endpoint.output(&mut self.out, &mut self.close);
            let mut touched: Vec<usize> = Vec::new();
            for (conn, chunk) in self.out.drain(..) {
                let key = broker_conn_key(conn);
                if let Some(Source::Broker(c)) = self.sources.get_mut(key)
                    && c.id == conn
                {
                    touched.push(key);
                    c.push(chunk);
                }
            }
            for conn in self.close.drain(..) {
                let key = broker_conn_key(conn);
                if let Some(Source::Broker(c)) = self.sources.get_mut(key)
                    && c.id == conn
                {
                    c.closing = true;
                    touched.push(key);
                }
            }
            let endpoint = entry.endpoint.clone();
            // Connections paused (host decision, flow control) that the
            // broker wants to hear from again.
            let sources = &self.sources;
            let (resumed, still): (Vec<usize>, Vec<usize>) = std::mem::take(&mut entry.paused)
                .into_iter()
                .partition(|&k| match sources.get(k) {
                    Some(Source::Broker(c)) => endpoint.wants_input(c.id),
                    _ => false,
                });
            entry.paused = still;
            for key in resumed {
                let Some(Source::Broker(c)) = self.sources.get_mut(key) else {
                    continue;
                };
                if !c.read(&endpoint, &mut self.scratch, now) {
                    self.remove_broker_conn(key);
                    continue;
                }
                if c.has_transport() {
                    touched.push(key);
                }
                if c.more {
                    self.more_input.push(key);
                }
                if c.paused
                    && let Some(entry) = self.brokers.get_mut(&bid)
                {
                    entry.paused.push(key);
                }
                self.dirty.insert(bid);
            }
            touched.sort_unstable();
            touched.dedup();
            for key in touched {
                let registry = self.poll.registry();
                let Some(Source::Broker(c)) = self.sources.get_mut(key) else {
                    continue;
                };
                match c.write(registry) {
                    Ok(true) => {
                        if let Some(congested) = c.congestion_change() {
                            endpoint.congested(c.id, congested, now);
                            self.dirty.insert(bid);
                        }
                    }
                    Ok(false) => self.remove_broker_conn(key),
                    Err(_) => {
                        if !c.closing {
                            endpoint.closed(c.id, now);
                            self.dirty.insert(bid);
                        }
                        self.remove_broker_conn(key);
                    }
                }
            }
        }
        // A connection that failed while writing told the broker, which may
        // have produced output (a will) for others: serve that too.
        if !self.dirty.is_empty() {
            self.service_brokers(now);
        }
    }

    fn after_client(&mut self, key: usize, next: Next) {
        if next == Next::Remove
            && let Some(Source::Client(c)) = self.sources.try_remove(key)
        {
            self.clients.remove(&c.id);
        }
    }

    /// Serve one command; false means stop the loop.
    fn command(&mut self, cmd: Command, now: Instant) -> bool {
        match cmd {
            Command::ClientConnect {
                id,
                dest,
                endpoint,
                transport,
            } => {
                let entry = self.sources.vacant_entry();
                let key = entry.key();
                let token = Token(key + FIRST_CONN);
                match ClientConn::connect(
                    id,
                    dest,
                    endpoint,
                    transport,
                    self.poll.registry(),
                    token,
                ) {
                    Ok(conn) => {
                        entry.insert(Source::Client(conn));
                        self.clients.insert(id, key);
                    }
                    Err((endpoint, e)) => endpoint.transport_failed(&e),
                }
            }
            Command::ClientFlush { id } => {
                if let Some(&key) = self.clients.get(&id)
                    && let Some(Source::Client(c)) = self.sources.get_mut(key)
                {
                    let next = c.flush(self.poll.registry(), now);
                    self.after_client(key, next);
                }
            }
            Command::ClientClose { id } => {
                if let Some(&key) = self.clients.get(&id)
                    && let Some(Source::Client(c)) = self.sources.get_mut(key)
                {
                    let next = c.close(self.poll.registry(), now);
                    self.after_client(key, next);
                }
            }
            Command::BrokerAdd {
                id,
                endpoint,
                listeners,
            } => {
                let mut keys = Vec::new();
                for (index, l) in listeners.into_iter().enumerate() {
                    if l.set_nonblocking(true).is_err() {
                        continue;
                    }
                    let mut socket = mio::net::TcpListener::from_std(l);
                    let entry = self.sources.vacant_entry();
                    let key = entry.key();
                    if self
                        .poll
                        .registry()
                        .register(&mut socket, Token(key + FIRST_CONN), Interest::READABLE)
                        .is_ok()
                    {
                        entry.insert(Source::Listener(Listener {
                            socket,
                            broker: id,
                            index,
                        }));
                        keys.push(key);
                    }
                }
                self.brokers.insert(
                    id,
                    BrokerEntry {
                        endpoint,
                        timeout: None,
                        listeners: keys,
                        paused: Vec::new(),
                    },
                );
                self.dirty.insert(id);
            }
            Command::BrokerFlush { id } => {
                self.dirty.insert(id);
            }
            Command::BrokerRemove { id, done } => {
                // Write what the broker still has to say (DISCONNECTs on
                // shutdown) before the sockets go.
                self.dirty.insert(id);
                self.service_brokers(now);
                if let Some(entry) = self.brokers.remove(&id) {
                    for key in entry.listeners {
                        if let Some(Source::Listener(mut l)) = self.sources.try_remove(key) {
                            let _ = self.poll.registry().deregister(&mut l.socket);
                        }
                    }
                    let conns: Vec<usize> = self
                        .sources
                        .iter()
                        .filter(|(_, s)| matches!(s, Source::Broker(c) if c.broker == id))
                        .map(|(k, _)| k)
                        .collect();
                    for key in conns {
                        if let Some(Source::Broker(mut c)) = self.sources.try_remove(key) {
                            let _ = c.write(self.poll.registry());
                            c.shutdown(self.poll.registry());
                        }
                    }
                }
                let _ = done.send(());
            }
            Command::Timer { at, task } => {
                self.timer_seq += 1;
                self.timers.push(TimerEntry {
                    at,
                    seq: self.timer_seq,
                    task,
                });
            }
            Command::ClientResume { id } => {
                if let Some(&key) = self.clients.get(&id)
                    && let Some(Source::Client(c)) = self.sources.get_mut(key)
                {
                    let next = c.resume(self.poll.registry(), &mut self.scratch, now);
                    self.after_client(key, next);
                }
            }
            Command::Shutdown => return false,
        }
        true
    }

    fn fire_timers(&mut self, now: Instant) {
        while self.timers.peek().is_some_and(|t| t.at <= now) {
            if let Some(t) = self.timers.pop() {
                (t.task)();
            }
        }
        let due: Vec<usize> = self
            .clients
            .values()
            .copied()
            .filter(|&k| matches!(self.sources.get(k), Some(Source::Client(c)) if c.timeout.is_some_and(|t| t <= now)))
            .collect();
        for key in due {
            if let Some(Source::Client(c)) = self.sources.get_mut(key) {
                let next = c.on_timeout(self.poll.registry(), now);
                self.after_client(key, next);
            }
        }
        for (&bid, entry) in &mut self.brokers {
            if entry.timeout.is_some_and(|t| t <= now) {
                entry.timeout = None;
                entry.endpoint.timeout(now);
                self.dirty.insert(bid);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broker_connection_ids_carry_their_key_and_never_repeat_for_it() {
        let a = broker_conn_id(1, 5).unwrap();
        let b = broker_conn_id(2, 5).unwrap();
        assert_ne!(a, b, "a reused key gets a new id");
        assert_eq!((broker_conn_key(a), broker_conn_key(b)), (5, 5));
        let big = broker_conn_id((1 << (62 - KEY_BITS)) - 1, (1 << KEY_BITS) - 1).unwrap();
        assert!(big < 1 << 62, "below the broker's internal ids");
        assert_eq!(broker_conn_key(big), (1 << KEY_BITS) - 1);
        assert_eq!(broker_conn_id(1 << (62 - KEY_BITS), 0), None);
        assert_eq!(broker_conn_id(1, 1 << KEY_BITS), None);
    }
}
#[cfg(test)]
mod size_tests {
    /// Every connection takes a slab slot, sized by the wider of a client
    /// and a broker connection. Client connections stay inline: boxing them
    /// made a slot 24 bytes narrower for the broker but cost a client 120
    /// (5,000 Paho clients took more than on Paho itself).
    #[test]
    fn a_slot_stays_small() {
        assert!(std::mem::size_of::<super::Source>() <= 136);
        assert!(std::mem::size_of::<super::BrokerConn>() <= 112);
    }
}
