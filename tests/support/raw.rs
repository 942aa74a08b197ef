//! A raw MQTT peer for the broker tests: encodes packets with our codec,
//! reads with bounded waits, and checks exactly how a connection ends; plus
//! an embedded broker on port 0 and a watcher that proves it still serves.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use ferromq::broker::server::Server;
use ferromq::broker::{BrokerConfig, Limits};
use ferromq::protocol::codec::{
    Connect, Packet, Properties, ProtocolVersion, Publish, QoS, ReasonCode, Subscribe,
    SubscriptionOptions, decode, encode,
};

use ProtocolVersion::{V5, V311};

pub const WAIT: Duration = Duration::from_secs(5);

/// A raw MQTT connection: bytes out, decoded packets in, bounded reads.
pub struct Raw {
    pub s: TcpStream,
    pub buf: BytesMut,
    pub version: ProtocolVersion,
}

/// What a read saw.
#[derive(Debug, PartialEq)]
pub enum Got {
    Packet(Packet),
    Closed,
    Timeout,
}

impl Raw {
    pub fn open(port: u16, version: ProtocolVersion) -> Raw {
        let s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        s.set_nodelay(true).unwrap();
        Raw {
            s,
            buf: BytesMut::new(),
            version,
        }
    }

    /// Open and complete CONNECT/CONNACK (asserting success).
    pub fn connect(port: u16, version: ProtocolVersion, id: &str) -> Raw {
        Self::connect_with(
            port,
            Connect {
                protocol: version,
                client_id: id.into(),
                ..Connect::default()
            },
        )
    }

    pub fn connect_with(port: u16, c: Connect) -> Raw {
        let mut r = Raw::open(port, c.protocol);
        r.send(&Packet::Connect(Box::new(c)));
        match r.next(WAIT) {
            Got::Packet(Packet::ConnAck(a)) => assert_eq!(a.code, ReasonCode::SUCCESS, "{a:?}"),
            other => panic!("expected CONNACK, got {other:?}"),
        }
        r
    }

    pub fn send(&mut self, p: &Packet) {
        let mut out = BytesMut::new();
        encode(p, self.version, &mut out).expect("encode");
        self.bytes(&out);
    }

    pub fn bytes(&mut self, b: &[u8]) {
        self.s.write_all(b).expect("write");
    }

    /// The next packet, EOF, or nothing before `timeout`. A reset counts as
    /// closed.
    pub fn next(&mut self, timeout: Duration) -> Got {
        let deadline = Instant::now() + timeout;
        loop {
            match decode(&mut self.buf, self.version, 0) {
                Ok(Some(p)) => return Got::Packet(p),
                Ok(None) => {}
                Err(e) => panic!("broker sent a malformed packet: {e:?}"),
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Got::Timeout;
            }
            self.s.set_read_timeout(Some(left)).unwrap();
            let mut tmp = [0u8; 4096];
            match self.s.read(&mut tmp) {
                Ok(0) => return Got::Closed,
                Ok(n) => self.buf.extend_from_slice(&tmp[..n]),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    return Got::Timeout;
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return Got::Closed,
            }
        }
    }

    /// The broker must close this connection, sending (for MQTT 5) exactly a
    /// DISCONNECT with `code` first, or nothing at all when `code` is None.
    pub fn expect_closed(&mut self, code: Option<ReasonCode>, what: &str) {
        match (code, self.next(WAIT)) {
            (Some(c), Got::Packet(Packet::Disconnect(d))) => {
                assert_eq!(d.reason, c, "{what}: DISCONNECT reason");
                assert_eq!(
                    self.next(WAIT),
                    Got::Closed,
                    "{what}: closed after DISCONNECT"
                );
            }
            (None, Got::Closed) => {}
            (c, got) => panic!("{what}: expected DISCONNECT {c:?} then close, got {got:?}"),
        }
    }

    pub fn subscribe(&mut self, filter: &str, qos: QoS) {
        self.send(&Packet::Subscribe(Subscribe {
            packet_id: 1,
            properties: Properties::default(),
            filters: vec![(
                filter.into(),
                SubscriptionOptions {
                    qos,
                    ..Default::default()
                },
            )],
        }));
        match self.next(WAIT) {
            Got::Packet(Packet::SubAck(a)) => assert_eq!(a.codes, vec![ReasonCode(qos as u8)]),
            other => panic!("expected SUBACK, got {other:?}"),
        }
    }

    pub fn publish0(&mut self, topic: &str, payload: &'static [u8]) {
        self.send(&Packet::Publish(Publish {
            topic: topic.into(),
            payload: Bytes::from_static(payload),
            ..Default::default()
        }));
    }

    /// The next packet must be a PUBLISH with this topic and payload.
    pub fn expect_publish(&mut self, topic: &str, payload: &[u8]) {
        match self.next(WAIT) {
            Got::Packet(Packet::Publish(p)) => {
                assert_eq!((p.topic.as_str(), &p.payload[..]), (topic, payload));
            }
            other => panic!("expected PUBLISH {topic}, got {other:?}"),
        }
    }
}

pub fn server(limits: Limits) -> (Server, u16) {
    let config = BrokerConfig {
        limits,
        ..BrokerConfig::default()
    };
    let mut s = Server::new(config, vec!["127.0.0.1:0".into()], None).expect("server");
    s.start().expect("start");
    let port = s.ports()[0];
    (s, port)
}

/// A watcher subscribed to `raw/#` and a check that it still gets messages
/// from a fresh well-behaved client after each bad one.
pub struct Watch {
    pub port: u16,
    pub w: Raw,
    pub n: u32,
}

impl Watch {
    pub fn new(port: u16) -> Watch {
        let mut w = Raw::connect(port, V5, "watcher");
        w.subscribe("raw/#", QoS::AtMostOnce);
        Watch { port, w, n: 0 }
    }

    pub fn still_served(&mut self, what: &str) {
        self.n += 1;
        let mut p = Raw::connect(self.port, V311, &format!("good-{}", self.n));
        let payload: &'static [u8] =
            Box::leak(format!("alive {}", self.n).into_bytes().into_boxed_slice());
        p.publish0("raw/ok", payload);
        match self.w.next(WAIT) {
            Got::Packet(Packet::Publish(m)) => assert_eq!(&m.payload[..], payload, "after {what}"),
            other => panic!("watcher after {what}: {other:?}"),
        }
    }
}

/// A CONNECT's bytes for `version` (to splice malformed packets after it).
pub fn connected(port: u16, version: ProtocolVersion, id: &str) -> Raw {
    Raw::connect(port, version, id)
}
