//! The broker's sans-IO core fed byte streams from four clients, as the
//! unit tests drive it (no sockets): accepts, bytes, closes and the clock,
//! in an order the input picks. Nothing panics, and everything the broker
//! sends decodes as MQTT at the client's protocol version.
#![no_main]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use ferromq::broker::{Broker, BrokerConfig, Limits};
use ferromq::protocol::codec::{Packet, ProtocolVersion, decode};
use libfuzzer_sys::fuzz_target;

const SLOTS: usize = 4;

/// One client: its current connection id (a closed id is never reused),
/// whether the broker still knows it, the bytes it has sent and not yet had
/// consumed, its version once its CONNECT is seen, and what it received.
#[derive(Default)]
struct Client {
    id: usize,
    live: bool,
    pending: BytesMut,
    version: Option<ProtocolVersion>,
    received: BytesMut,
}

struct Run {
    broker: Broker,
    now: Instant,
    clients: Vec<Client>,
    next_id: usize,
}

impl Run {
    fn accept(&mut self, slot: usize) {
        let id = self.next_id;
        self.next_id += 1;
        let peer = SocketAddr::from(([127, 0, 0, 1], 40000 + slot as u16));
        let live = self.broker.handle_accept(id, peer, self.now);
        self.clients[slot] = Client {
            id,
            live,
            ..Client::default()
        };
    }

    fn feed(&mut self, slot: usize, bytes: &[u8]) {
        let c = &mut self.clients[slot];
        if !c.live {
            return;
        }
        c.pending.extend_from_slice(bytes);
        if c.version.is_none() {
            let mut probe = c.pending.clone();
            if let Ok(Some(Packet::Connect(connect))) = decode(&mut probe, ProtocolVersion::V311, 0)
            {
                c.version = Some(connect.protocol);
            }
        }
        self.broker.handle_bytes(c.id, &mut c.pending, self.now);
    }

    fn close(&mut self, slot: usize) {
        let c = &mut self.clients[slot];
        if c.live {
            c.live = false;
            self.broker.handle_closed(c.id, self.now);
        }
    }

    fn drain(&mut self) {
        let mut chunks: Vec<Bytes> = Vec::new();
        while let Some(id) = self.broker.poll_transmit_bytes(&mut chunks) {
            let c = self.clients.iter_mut().find(|c| c.id == id);
            let c = c.unwrap_or_else(|| panic!("output for unknown connection {id}"));
            for chunk in chunks.drain(..) {
                c.received.extend_from_slice(&chunk);
            }
            check_output(c);
        }
        while let Some(id) = self.broker.poll_close() {
            if let Some(slot) = self.clients.iter().position(|c| c.id == id) {
                self.close(slot);
            }
        }
        while self.broker.poll_event().is_some() {}
    }
}

/// Decodes every whole packet the client received; it must be valid MQTT.
/// A client whose CONNECT did not decode may still get a CONNACK at the
/// level it named: then the first reply tells 3.x from 5.
fn check_output(c: &mut Client) {
    if c.version.is_none() {
        let mut probe = c.received.clone();
        if decode(&mut probe, ProtocolVersion::V311, 0).is_err() {
            c.version = Some(ProtocolVersion::V5);
        }
    }
    let version = c.version.unwrap_or(ProtocolVersion::V311);
    loop {
        match decode(&mut c.received, version, 0) {
            Ok(Some(_)) => {}
            Ok(None) => break,
            Err(e) => panic!(
                "broker sent undecodable bytes at {version:?}: {e:?}: {:02x?}",
                &c.received[..c.received.len().min(64)]
            ),
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&setup, mut ops)) = data.split_first() else {
        return;
    };
    // Small windows and queues half the time, so flow control is reached.
    let config = if setup & 1 == 1 {
        BrokerConfig {
            limits: Limits {
                max_inflight: 2,
                max_queued: 3,
                ..Limits::default()
            },
            ..BrokerConfig::default()
        }
    } else {
        BrokerConfig::default()
    };
    let mut run = Run {
        broker: Broker::new(config),
        now: Instant::now(),
        clients: (0..SLOTS).map(|_| Client::default()).collect(),
        next_id: 1,
    };
    for slot in 0..SLOTS {
        run.accept(slot);
    }
    // Each op: one byte (low 2 bits: client; the rest: what), then its data.
    while let Some((&op, rest)) = ops.split_first() {
        ops = rest;
        let slot = usize::from(op) % SLOTS;
        match op >> 2 {
            // Most ops carry bytes: a length byte, then up to that many.
            0..=47 => {
                let Some((&len, rest)) = ops.split_first() else {
                    break;
                };
                let n = usize::from(len).min(rest.len());
                run.feed(slot, &rest[..n]);
                ops = &rest[n..];
            }
            48..=53 => run.close(slot),
            54..=57 => {
                run.close(slot);
                run.accept(slot);
            }
            _ => {
                let secs = u64::from(op >> 2) * 7;
                run.now += Duration::from_secs(secs);
                run.broker.handle_timeout(run.now);
            }
        }
        run.drain();
    }
    run.now += Duration::from_secs(3600);
    run.broker.handle_timeout(run.now);
    run.drain();
});
