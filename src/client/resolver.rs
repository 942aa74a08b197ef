//! Name resolution off the reactor: a small pool shared by every client of
//! the process (at most `MAX_THREADS` threads, started on demand, retired
//! when idle). Numeric addresses never reach a thread.

use std::collections::VecDeque;
use std::io;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Duration;

/// What a lookup reports.
pub type Done = Box<dyn FnOnce(io::Result<Vec<SocketAddr>>) + Send>;

const MAX_THREADS: usize = 2;
const IDLE_RETIRE: Duration = Duration::from_secs(5);

struct Job {
    host: String,
    port: u16,
    done: Done,
}

pub(crate) struct State {
    jobs: VecDeque<Job>,
    threads: usize,
    idle: usize,
    pid: u32,
}

static STATE: Mutex<Option<State>> = Mutex::new(None);
static WORK: Condvar = Condvar::new();

/// Lock the pool (held across fork() by the fork handlers).
pub(crate) fn lock() -> MutexGuard<'static, Option<State>> {
    STATE.lock().unwrap_or_else(|e| e.into_inner())
}

/// Resolve `host:port`; `done` runs once with the addresses (on this thread
/// for a numeric address, else on a resolver thread).
pub fn resolve(host: &str, port: u16, done: Done) {
    let literal = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = literal.parse::<IpAddr>() {
        done(Ok(vec![SocketAddr::new(ip, port)]));
        return;
    }
    let mut g = lock();
    let pid = std::process::id();
    if g.as_ref().is_none_or(|s| s.pid != pid) {
        // First use, or a forked child: the parent's threads are not here.
        *g = Some(State {
            jobs: VecDeque::new(),
            threads: 0,
            idle: 0,
            pid,
        });
    }
    let Some(st) = g.as_mut() else { return };
    st.jobs.push_back(Job {
        host: host.to_string(),
        port,
        done,
    });
    if st.idle > 0 {
        WORK.notify_one();
        return;
    }
    if st.threads < MAX_THREADS {
        let spawned = std::thread::Builder::new()
            .name("ferromq-resolver".into())
            .stack_size(256 * 1024)
            .spawn(worker)
            .is_ok();
        if spawned {
            st.threads += 1;
            st.idle += 1;
        } else if st.threads == 0 {
            // No thread can be had: fail this lookup rather than hang it.
            if let Some(job) = st.jobs.pop_back() {
                drop(g);
                (job.done)(Err(io::Error::other("cannot start a resolver thread")));
            }
        }
    }
}

fn worker() {
    let mut g = lock();
    loop {
        let Some(st) = g.as_mut() else { return };
        if let Some(job) = st.jobs.pop_front() {
            st.idle -= 1;
            drop(g);
            let r = (job.host.as_str(), job.port)
                .to_socket_addrs()
                .map(|a| a.collect::<Vec<_>>());
            (job.done)(r);
            g = lock();
            if let Some(st) = g.as_mut() {
                st.idle += 1;
            }
            continue;
        }
        let (ng, t) = WORK
            .wait_timeout(g, IDLE_RETIRE)
            .unwrap_or_else(|e| e.into_inner());
        g = ng;
        if t.timed_out()
            && let Some(st) = g.as_mut()
            && st.jobs.is_empty()
        {
            st.threads -= 1;
            st.idle -= 1;
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    #[test]
    fn numeric_addresses_resolve_inline() {
        let (tx, rx) = mpsc::channel();
        resolve("127.0.0.1", 1883, Box::new(move |r| tx.send(r).unwrap()));
        let addrs = rx
            .try_recv()
            .expect("answered on the calling thread")
            .unwrap();
        assert_eq!(addrs, vec!["127.0.0.1:1883".parse().unwrap()]);
        let (tx, rx) = mpsc::channel();
        resolve("[::1]", 8883, Box::new(move |r| tx.send(r).unwrap()));
        let addrs = rx.try_recv().unwrap().unwrap();
        assert_eq!(addrs, vec!["[::1]:8883".parse().unwrap()]);
    }

    #[test]
    fn names_resolve_on_the_pool() {
        let (tx, rx) = mpsc::channel();
        resolve("localhost", 1, Box::new(move |r| tx.send(r).unwrap()));
        let r = rx.recv_timeout(Duration::from_secs(10)).expect("answered");
        let addrs = r.expect("localhost resolves");
        assert!(addrs.iter().all(|a| a.ip().is_loopback() && a.port() == 1));
    }
}
