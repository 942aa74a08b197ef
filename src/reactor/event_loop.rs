//! The poll loop: wait for readiness, commands or the earliest timer, then
//! serve each in turn. The poll timeout is the minimum of the sessions' timers.

use std::collections::HashMap;
use std::io;
use std::time::{Duration, Instant};

use crossbeam_channel::Receiver;
use mio::{Events, Poll, Token};
use slab::Slab;

use super::client_conn::{ClientConn, Next};
use super::{Command, FIRST_CONN, WAKER};

struct Loop {
    poll: Poll,
    conns: Slab<ClientConn>,
    ids: HashMap<u64, usize>,
    scratch: Vec<u8>,
}

/// Run until `Command::Shutdown`.
pub fn run(poll: Poll, commands: Receiver<Command>) {
    let mut lp = Loop {
        poll,
        conns: Slab::new(),
        ids: HashMap::new(),
        scratch: vec![0u8; 64 * 1024],
    };
    let mut events = Events::with_capacity(1024);
    loop {
        let timeout = lp
            .next_deadline()
            .map(|d| d.saturating_duration_since(Instant::now()));
        if let Err(e) = lp.poll.poll(&mut events, timeout) {
            if e.kind() != io::ErrorKind::Interrupted {
                // A broken poll cannot serve anyone; back off and retry rather
                // than spin.
                std::thread::sleep(Duration::from_millis(10));
            }
            continue;
        }
        let now = Instant::now();
        for event in events.iter() {
            let token = event.token();
            if token == WAKER {
                continue;
            }
            let key = token.0 - FIRST_CONN;
            let readable = event.is_readable() || event.is_read_closed() || event.is_error();
            let writable = event.is_writable() || event.is_write_closed();
            let registry = lp.poll.registry();
            let next = match lp.conns.get_mut(key) {
                Some(c) => c.ready(registry, readable, writable, &mut lp.scratch, now),
                None => continue,
            };
            lp.after(key, next);
        }
        while let Ok(cmd) = commands.try_recv() {
            if !lp.command(cmd, now) {
                return;
            }
        }
        lp.fire_timers(Instant::now());
    }
}

impl Loop {
    fn next_deadline(&self) -> Option<Instant> {
        self.conns.iter().filter_map(|(_, c)| c.timeout).min()
    }

    fn after(&mut self, key: usize, next: Next) {
        if next == Next::Remove && self.conns.contains(key) {
            let conn = self.conns.remove(key);
            self.ids.remove(&conn.id);
        }
    }

    /// Serve one command; false means stop the loop.
    fn command(&mut self, cmd: Command, now: Instant) -> bool {
        match cmd {
            Command::ClientConnect { id, addr, endpoint } => {
                let entry = self.conns.vacant_entry();
                let key = entry.key();
                let token = Token(key + FIRST_CONN);
                match ClientConn::connect(id, addr, endpoint, self.poll.registry(), token) {
                    Ok(conn) => {
                        entry.insert(conn);
                        self.ids.insert(id, key);
                    }
                    Err((endpoint, e)) => endpoint.transport_failed(&e),
                }
            }
            Command::ClientFlush { id } => {
                if let Some(&key) = self.ids.get(&id) {
                    let next = self.conns[key].flush(self.poll.registry(), now);
                    self.after(key, next);
                }
            }
            Command::ClientClose { id } => {
                if let Some(&key) = self.ids.get(&id) {
                    let next = self.conns[key].close(self.poll.registry(), now);
                    self.after(key, next);
                }
            }
            Command::Shutdown => return false,
        }
        true
    }

    fn fire_timers(&mut self, now: Instant) {
        let due: Vec<usize> = self
            .conns
            .iter()
            .filter(|(_, c)| c.timeout.is_some_and(|t| t <= now))
            .map(|(k, _)| k)
            .collect();
        for key in due {
            let next = self.conns[key].on_timeout(self.poll.registry(), now);
            self.after(key, next);
        }
    }
}
