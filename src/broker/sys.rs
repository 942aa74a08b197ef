//! The `$SYS/broker/...` tree with mosquitto's topic names and value
//! formats, published retained (QoS 0) every `sys_interval`: the version
//! once at the start, the uptime every time, the rest when it changed.
//! Load averages are computed as mosquitto computes them: the per-minute
//! rate over the last interval, smoothed with `exp(-interval / N minutes)`.

use std::time::{Duration, Instant};

use bytes::Bytes;

use super::message::Message;
use super::timers::Timer;
use super::{Broker, Stats};
use crate::protocol::codec::{Properties, QoS};

/// The version string published on `$SYS/broker/version`.
pub(crate) fn version() -> String {
    format!("ferromq version {}", env!("CARGO_PKG_VERSION"))
}

/// The counters behind the load averages, in `LOADS` order.
fn load_counters(s: &Stats) -> [u64; LOADS.len()] {
    [
        s.packets_in,
        s.packets_out,
        s.messages_in,
        s.messages_out,
        s.dropped,
        s.bytes_in,
        s.bytes_out,
        s.connects,
        s.sockets_accepted,
    ]
}

/// `$SYS/broker/load/<name>/{1min,5min,15min}`, per counter.
const LOADS: [&str; 9] = [
    "messages/received",
    "messages/sent",
    "publish/received",
    "publish/sent",
    "publish/dropped",
    "bytes/received",
    "bytes/sent",
    "connections",
    "sockets",
];

const MINUTES: [(f64, &str); 3] = [(1.0, "1min"), (5.0, "5min"), (15.0, "15min")];

/// What the last publication saw.
#[derive(Debug)]
pub(crate) struct SysTree {
    interval: Duration,
    started: Instant,
    /// When the last update ran and the load counters then.
    last: Option<(Instant, [u64; LOADS.len()])>,
    /// Smoothed loads, `[counter][1/5/15 min]`.
    loads: [[f64; 3]; LOADS.len()],
    /// Last published plain values (published again only when changed).
    values: Vec<(&'static str, u64)>,
}

impl SysTree {
    pub fn new(interval: Duration, now: Instant) -> Self {
        SysTree {
            interval,
            started: now,
            last: None,
            loads: [[0.0; 3]; LOADS.len()],
            values: Vec::new(),
        }
    }
}

/// One smoothing step: `rate` is the per-minute rate over the interval,
/// `factor` is `exp(-interval / window)`.
pub(crate) fn smooth(current: f64, rate: f64, factor: f64) -> f64 {
    rate + factor * (current - rate)
}

impl Broker {
    /// Starts the broker's own clock: the `$SYS` tree (when configured)
    /// publishes its version and first values now. Call once, when serving
    /// starts; without it no `$SYS` messages are published.
    pub fn handle_start(&mut self, now: Instant) {
        let Some(interval) = self.config.sys_interval else {
            return;
        };
        if self.sys.is_some() {
            return;
        }
        let interval = interval.max(Duration::from_secs(1));
        self.sys = Some(Box::new(SysTree::new(interval, now)));
        self.publish_sys("$SYS/broker/version", version(), now);
        self.sys_update(now);
    }

    /// Publishes one retained `$SYS` value (not counted as received).
    fn publish_sys(&mut self, topic: &str, value: String, now: Instant) {
        let msg = Message::new(
            topic.to_string(),
            Bytes::from(value),
            QoS::AtMostOnce,
            true,
            &Properties::default(),
            None,
            now,
        );
        self.route_uncounted(msg, now);
    }

    /// One `$SYS` publication, then the next one is scheduled.
    pub(super) fn sys_update(&mut self, now: Instant) {
        let stats = self.stats();
        let Some(sys) = self.sys.as_mut() else {
            return;
        };
        let uptime = now.duration_since(sys.started).as_secs();
        let interval = sys.interval;
        let counters = load_counters(&stats);
        // Loads: mosquitto publishes a value when it moved by 0.01 or more,
        // and every value the first time.
        let mut loads = Vec::new();
        let initial = sys.last.is_none();
        let elapsed = sys
            .last
            .map(|(at, _)| now.duration_since(at).as_secs_f64())
            .unwrap_or(0.0);
        if initial || elapsed > 0.0 {
            let previous = sys.last.map(|(_, c)| c).unwrap_or(counters);
            for (i, name) in LOADS.iter().enumerate() {
                let rate = if initial {
                    0.0
                } else {
                    (counters[i] - previous[i]) as f64 * 60.0 / elapsed
                };
                for (j, (minutes, label)) in MINUTES.iter().enumerate() {
                    let factor = libm::exp(-elapsed / (60.0 * minutes));
                    let current = sys.loads[i][j];
                    let new = smooth(current, rate, factor);
                    if initial || (new - current).abs() >= 0.01 {
                        loads.push((format!("$SYS/broker/load/{name}/{label}"), new));
                    }
                    sys.loads[i][j] = new;
                }
            }
            sys.last = Some((now, counters));
        }
        let disconnected = stats.sessions.saturating_sub(stats.clients_connected);
        let plain: [(&'static str, u64); 17] = [
            (
                "$SYS/broker/clients/connected",
                stats.clients_connected as u64,
            ),
            ("$SYS/broker/clients/disconnected", disconnected as u64),
            ("$SYS/broker/clients/total", stats.sessions as u64),
            ("$SYS/broker/clients/maximum", stats.clients_maximum as u64),
            ("$SYS/broker/messages/received", stats.packets_in),
            ("$SYS/broker/messages/sent", stats.packets_out),
            ("$SYS/broker/publish/messages/received", stats.messages_in),
            ("$SYS/broker/publish/messages/sent", stats.messages_out),
            ("$SYS/broker/publish/messages/dropped", stats.dropped),
            // FerroMQ's own: what of `dropped` flow control could not
            // avoid, and how often it paused publishers.
            (
                "$SYS/broker/publish/messages/dropped/qos0",
                stats.dropped_qos0,
            ),
            (
                "$SYS/broker/publish/messages/dropped/offline",
                stats.dropped_offline,
            ),
            ("$SYS/broker/flow/pauses", stats.flow_pauses),
            ("$SYS/broker/flow/slow consumers", stats.slow_consumers),
            ("$SYS/broker/bytes/received", stats.bytes_in),
            ("$SYS/broker/bytes/sent", stats.bytes_out),
            (
                "$SYS/broker/subscriptions/count",
                stats.subscriptions as u64,
            ),
            ("$SYS/broker/retained messages/count", stats.retained as u64),
        ];
        let mut changed = Vec::new();
        for (topic, value) in plain {
            match sys.values.iter_mut().find(|(t, _)| *t == topic) {
                Some((_, v)) if *v == value => {}
                Some((_, v)) => {
                    *v = value;
                    changed.push((topic, value));
                }
                None => {
                    sys.values.push((topic, value));
                    changed.push((topic, value));
                }
            }
        }
        self.timers.push(now + interval, Timer::Sys);
        self.publish_sys("$SYS/broker/uptime", format!("{uptime} seconds"), now);
        for (topic, value) in changed {
            self.publish_sys(topic, value.to_string(), now);
        }
        for (topic, value) in loads {
            self.publish_sys(&topic, format!("{value:.2}"), now);
        }
        for (topic, value) in self.bridge_sys() {
            self.publish_sys(&topic, value, now);
        }
    }
}
