//! Idle mode: open N connections (optionally one subscription each) on the
//! loop, print `ready connections=N secs=S` (S: from the first connect to
//! the last CONNACK/SUBACK, so N/S is the connects — with `--tls`, the
//! handshakes — per second the broker accepted), and hold them until stdin
//! closes.

use std::io::{self, Read, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ferromq::protocol::codec::{Properties, SubscriptionOptions};
use ferromq::protocol::session::client::Event;
use mio::{Events, Poll, Token, Waker};

use super::args::Options;
use super::conn::{Conn, config};

/// Connections whose CONNACK (or SUBACK) is still awaited at once; keeps the
/// broker's listen backlog from overflowing into SYN retries.
const OPENING: usize = 256;
const WAKE: Token = Token(usize::MAX);

pub fn run(o: &Options) -> Result<(), String> {
    let mut poll = Poll::new().map_err(|e| format!("poll: {e}"))?;
    let waker = Arc::new(Waker::new(poll.registry(), WAKE).map_err(|e| format!("waker: {e}"))?);
    let pid = std::process::id();
    let mut conns: Vec<Conn> = Vec::with_capacity(o.connections);
    let mut ready = vec![false; o.connections];
    let (mut n_ready, mut stdin_closed, mut announced) = (0usize, false, false);
    let mut events = Events::with_capacity(1024);
    let mut scratch = vec![0u8; 16 * 1024];
    let mut last_progress = Instant::now();
    let started = Instant::now();
    loop {
        let now = Instant::now();
        while conns.len() < o.connections && conns.len() - n_ready < OPENING {
            let i = conns.len();
            let cfg = config(format!("bench-{pid}-idle-{i}"), 1);
            let c = Conn::open(poll.registry(), Token(i), o.addr, cfg, now)
                .map_err(|e| format!("connection {i}: {e}"))?;
            conns.push(c);
        }
        if n_ready == o.connections && !announced {
            announced = true;
            println!(
                "ready connections={n_ready} secs={:.3}",
                started.elapsed().as_secs_f64()
            );
            let _ = io::stdout().flush();
            let w = waker.clone();
            std::thread::spawn(move || {
                let mut sink = [0u8; 4096];
                while matches!(io::stdin().read(&mut sink), Ok(n) if n > 0) {}
                let _ = w.wake();
            });
        }
        if stdin_closed {
            return Ok(());
        }
        if !announced && last_progress.elapsed() > Duration::from_secs(60) {
            return Err(format!(
                "only {n_ready} of {} connections ready",
                o.connections
            ));
        }
        match poll.poll(&mut events, Some(Duration::from_millis(500))) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(format!("poll: {e}")),
        }
        let now = Instant::now();
        for ev in events.iter() {
            if ev.token() == WAKE {
                stdin_closed = true;
                continue;
            }
            let i = ev.token().0;
            let Some(c) = conns.get_mut(i) else { continue };
            if (ev.is_writable() || ev.is_error())
                && c.check_connected()
                    .map_err(|e| format!("connection {i}: {e}"))?
            {
                c.flush(now).map_err(|e| format!("connection {i}: {e}"))?;
            }
            if ev.is_readable() || ev.is_read_closed() {
                c.read_all(&mut scratch, now);
            }
            while let Some(e) = c.next_event() {
                match e {
                    Event::Connected(_) if o.subscribe => {
                        let opts = SubscriptionOptions::default();
                        let topic = format!("bench/{pid}/idle/{i}");
                        c.session
                            .subscribe(vec![(topic, opts)], Properties::default(), now)
                            .map_err(|e| format!("subscribe: {e:?}"))?;
                    }
                    Event::Connected(_) | Event::SubAck(_) if !ready[i] => {
                        ready[i] = true;
                        n_ready += 1;
                        last_progress = now;
                    }
                    Event::ConnectRefused(a) => {
                        return Err(format!("connection {i}: CONNECT refused {:?}", a.code));
                    }
                    Event::Closed(why) => return Err(format!("connection {i} closed: {why:?}")),
                    _ => {}
                }
            }
            if c.tcp_up && !c.blocked {
                c.flush(now).map_err(|e| format!("connection {i}: {e}"))?;
            }
        }
    }
}
