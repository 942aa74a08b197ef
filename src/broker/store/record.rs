//! The byte layout of the store's values: a retained message, one delivery
//! (a queued or in-flight message of a session) and a session's own state.
//! Little-endian integers, `u32`-length-prefixed strings and byte strings,
//! a format byte first; MQTT 5 properties in their wire form. Decoding is
//! strict: a short or malformed value is an error, never a guess.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::{Bytes, BytesMut};

use crate::protocol::codec::{
    Properties, QoS, SubscriptionOptions, decode_publish_properties, encode_publish_properties,
};

use super::super::message::{Message, Outgoing};
use super::super::session::Flight;
use super::super::trie::SubEntry;

/// The first byte of every value this version writes.
const FORMAT: u8 = 1;

/// A value that does not decode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Corrupt(pub &'static str);

/// Converts between the broker's monotonic instants and wall-clock
/// milliseconds since the epoch (0 = none), which survive a restart.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    now: Instant,
    wall_ms: u64,
}

impl Clock {
    pub fn new(now: Instant) -> Self {
        let wall_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        Clock { now, wall_ms }
    }

    pub fn to_wall(self, at: Option<Instant>) -> u64 {
        match at {
            None => 0,
            Some(at) => match at.checked_duration_since(self.now) {
                Some(d) => self.wall_ms.saturating_add(d.as_millis() as u64).max(1),
                None => self
                    .wall_ms
                    .saturating_sub((self.now - at).as_millis() as u64)
                    .max(1),
            },
        }
    }

    pub fn to_instant(self, wall: u64) -> Option<Instant> {
        if wall == 0 {
            return None;
        }
        let ahead = Duration::from_millis(wall.saturating_sub(self.wall_ms));
        let behind = Duration::from_millis(self.wall_ms.saturating_sub(wall));
        Some(
            self.now
                .checked_add(ahead)
                .and_then(|t| t.checked_sub(behind))
                .unwrap_or(self.now),
        )
    }
}

/// Appends values.
#[derive(Default)]
pub(crate) struct Writer(pub Vec<u8>);

impl Writer {
    pub fn new() -> Self {
        Writer(vec![FORMAT])
    }
    pub fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    pub fn u16(&mut self, v: u16) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    pub fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    pub fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    pub fn bytes(&mut self, v: &[u8]) {
        self.u32(v.len() as u32);
        self.0.extend_from_slice(v);
    }
    fn properties(&mut self, props: &Properties) {
        let mut buf = BytesMut::new();
        if encode_publish_properties(props, &mut buf).is_err() {
            buf.clear();
            buf.extend_from_slice(&[0]);
        }
        self.bytes(&buf);
    }
}

/// Reads values back.
pub(crate) struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    pub fn new(v: &'a [u8]) -> Result<Self, Corrupt> {
        match v.split_first() {
            Some((&FORMAT, rest)) => Ok(Reader(rest)),
            _ => Err(Corrupt("unknown record format")),
        }
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8], Corrupt> {
        if self.0.len() < n {
            return Err(Corrupt("record too short"));
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Ok(a)
    }
    pub fn u8(&mut self) -> Result<u8, Corrupt> {
        Ok(self.take(1)?[0])
    }
    pub fn u16(&mut self) -> Result<u16, Corrupt> {
        Ok(u16::from_le_bytes(
            self.take(2)?.try_into().unwrap_or([0; 2]),
        ))
    }
    pub fn u32(&mut self) -> Result<u32, Corrupt> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().unwrap_or([0; 4]),
        ))
    }
    pub fn u64(&mut self) -> Result<u64, Corrupt> {
        Ok(u64::from_le_bytes(
            self.take(8)?.try_into().unwrap_or([0; 8]),
        ))
    }
    pub fn bytes(&mut self) -> Result<&'a [u8], Corrupt> {
        let n = self.u32()? as usize;
        self.take(n)
    }
    pub fn string(&mut self) -> Result<String, Corrupt> {
        String::from_utf8(self.bytes()?.to_vec()).map_err(|_| Corrupt("string not UTF-8"))
    }
    pub fn qos(&mut self) -> Result<QoS, Corrupt> {
        QoS::from_u8(self.u8()?).ok_or(Corrupt("bad QoS"))
    }
    pub fn flag(&mut self) -> Result<bool, Corrupt> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(Corrupt("bad flag")),
        }
    }
    fn properties(&mut self) -> Result<Properties, Corrupt> {
        let b = Bytes::copy_from_slice(self.bytes()?);
        decode_publish_properties(b).map_err(|_| Corrupt("bad properties"))
    }
    pub fn finish(self) -> Result<(), Corrupt> {
        match self.0.is_empty() {
            true => Ok(()),
            false => Err(Corrupt("trailing bytes")),
        }
    }
}

/// Writes an application message (topic, payload, QoS, retain, expiry,
/// origin, properties).
pub(crate) fn put_message(w: &mut Writer, m: &Message, clock: Clock) {
    w.bytes(m.topic.as_bytes());
    w.bytes(&m.payload);
    w.u8(m.qos as u8);
    w.u8(u8::from(m.retain));
    w.u64(clock.to_wall(m.expires_at));
    match &m.origin {
        Some(o) => {
            w.u8(1);
            w.bytes(o.as_bytes());
        }
        None => w.u8(0),
    }
    w.properties(&m.properties);
}

pub(crate) fn get_message(r: &mut Reader<'_>, clock: Clock) -> Result<Message, Corrupt> {
    let topic = r.string()?;
    let payload = Bytes::copy_from_slice(r.bytes()?);
    let qos = r.qos()?;
    let retain = r.flag()?;
    let expires_at = clock.to_instant(r.u64()?);
    let origin = match r.flag()? {
        true => Some(Arc::from(r.string()?)),
        false => None,
    };
    let properties = r.properties()?;
    Ok(Message {
        topic,
        payload,
        qos,
        retain,
        properties,
        expires_at,
        origin,
    })
}

/// A retained message's value.
pub(crate) fn retained(m: &Message, clock: Clock) -> Vec<u8> {
    let mut w = Writer::new();
    put_message(&mut w, m, clock);
    w.0
}

pub(crate) fn read_retained(v: &[u8], clock: Clock) -> Result<Message, Corrupt> {
    let mut r = Reader::new(v)?;
    let m = get_message(&mut r, clock)?;
    r.finish()?;
    Ok(m)
}

/// Where a stored delivery stands: queued, or in flight in a [`Flight`]
/// state with its packet id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stage {
    Queued,
    Inflight(Flight, u16),
}

impl Stage {
    fn code(self) -> (u8, u16) {
        match self {
            Stage::Queued => (0, 0),
            Stage::Inflight(Flight::Ack, id) => (1, id),
            Stage::Inflight(Flight::Rec, id) => (2, id),
            Stage::Inflight(Flight::Comp, id) => (3, id),
        }
    }
}

/// A delivery's value: its stage, the subscriber's QoS, retain flag and
/// subscription ids, then the message.
pub(crate) fn delivery(stage: Stage, out: &Outgoing, clock: Clock) -> Vec<u8> {
    let mut w = Writer::new();
    let (kind, id) = stage.code();
    w.u8(kind);
    w.u16(id);
    w.u8(out.qos as u8);
    w.u8(u8::from(out.retain));
    w.u32(out.sub_ids.len() as u32);
    for s in &out.sub_ids {
        w.u32(*s);
    }
    put_message(&mut w, &out.msg, clock);
    w.0
}

pub(crate) fn read_delivery(v: &[u8], clock: Clock) -> Result<(Stage, Outgoing), Corrupt> {
    let mut r = Reader::new(v)?;
    let kind = r.u8()?;
    let id = r.u16()?;
    let stage = match kind {
        0 => Stage::Queued,
        1 => Stage::Inflight(Flight::Ack, id),
        2 => Stage::Inflight(Flight::Rec, id),
        3 => Stage::Inflight(Flight::Comp, id),
        _ => return Err(Corrupt("bad delivery stage")),
    };
    if matches!(stage, Stage::Inflight(_, 0)) {
        return Err(Corrupt("in-flight delivery without packet id"));
    }
    let qos = r.qos()?;
    let retain = r.flag()?;
    let n = r.u32()? as usize;
    let mut sub_ids = Vec::with_capacity(n.min(64));
    for _ in 0..n {
        sub_ids.push(r.u32()?);
    }
    let msg = Arc::new(get_message(&mut r, clock)?);
    r.finish()?;
    let out = Outgoing {
        msg,
        qos,
        retain,
        sub_ids,
        seq: 0,
    };
    Ok((stage, out))
}

/// A stored will: the message, its delay interval, when it is due.
#[derive(Debug)]
pub(crate) struct StoredWill {
    pub msg: Message,
    pub delay: u32,
}

/// A session's own state (its deliveries are stored apart).
#[derive(Debug, Default)]
pub(crate) struct SessionRecord {
    pub expiry: u32,
    pub expires_at: Option<Instant>,
    pub will_at: Option<Instant>,
    pub will: Option<StoredWill>,
    pub incoming_qos2: Vec<u16>,
    pub subs: Vec<(String, SubEntry)>,
}

pub(crate) fn session(s: &SessionRecord, clock: Clock) -> Vec<u8> {
    let mut w = Writer::new();
    w.u32(s.expiry);
    w.u64(clock.to_wall(s.expires_at));
    w.u64(clock.to_wall(s.will_at));
    w.u32(s.incoming_qos2.len() as u32);
    for id in &s.incoming_qos2 {
        w.u16(*id);
    }
    w.u32(s.subs.len() as u32);
    for (filter, e) in &s.subs {
        w.bytes(filter.as_bytes());
        w.u8(e.opts.qos as u8);
        w.u8(u8::from(e.opts.no_local));
        w.u8(u8::from(e.opts.retain_as_published));
        w.u8(e.opts.retain_handling);
        match e.sub_id {
            Some(id) => {
                w.u8(1);
                w.u32(id);
            }
            None => w.u8(0),
        }
    }
    match &s.will {
        Some(will) => {
            w.u8(1);
            w.u32(will.delay);
            put_message(&mut w, &will.msg, clock);
        }
        None => w.u8(0),
    }
    w.0
}

pub(crate) fn read_session(v: &[u8], clock: Clock) -> Result<SessionRecord, Corrupt> {
    let mut r = Reader::new(v)?;
    let expiry = r.u32()?;
    let expires_at = clock.to_instant(r.u64()?);
    let will_at = clock.to_instant(r.u64()?);
    let n = r.u32()? as usize;
    let mut incoming_qos2 = Vec::with_capacity(n.min(1024));
    for _ in 0..n {
        incoming_qos2.push(r.u16()?);
    }
    let n = r.u32()? as usize;
    let mut subs = Vec::with_capacity(n.min(1024));
    for _ in 0..n {
        let filter = r.string()?;
        let opts = SubscriptionOptions {
            qos: r.qos()?,
            no_local: r.flag()?,
            retain_as_published: r.flag()?,
            retain_handling: r.u8()?,
        };
        let sub_id = match r.flag()? {
            true => Some(r.u32()?),
            false => None,
        };
        subs.push((filter, SubEntry { opts, sub_id }));
    }
    let will = match r.flag()? {
        true => {
            let delay = r.u32()?;
            Some(StoredWill {
                msg: get_message(&mut r, clock)?,
                delay,
            })
        }
        false => None,
    };
    r.finish()?;
    Ok(SessionRecord {
        expiry,
        expires_at,
        will_at,
        will,
        incoming_qos2,
        subs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::codec::{Property, PropertyId, PropertyValue};

    fn msg(now: Instant) -> Message {
        let mut properties = Properties::default();
        properties.list.push(Property {
            id: PropertyId::CONTENT_TYPE,
            value: PropertyValue::String("text/plain".into()),
        });
        Message {
            topic: "a/b".into(),
            payload: Bytes::from_static(b"hello"),
            qos: QoS::ExactlyOnce,
            retain: true,
            properties,
            expires_at: Some(now + Duration::from_secs(60)),
            origin: Some("pub".into()),
        }
    }

    #[test]
    fn records_round_trip() {
        let now = Instant::now();
        let clock = Clock::new(now);
        let m = read_retained(&retained(&msg(now), clock), clock).unwrap();
        assert_eq!((m.topic.as_str(), &m.payload[..]), ("a/b", &b"hello"[..]));
        assert_eq!(m.properties, msg(now).properties);
        assert_eq!(m.origin.as_deref(), Some("pub"));
        let left = m.expires_at.unwrap() - now;
        assert!(left > Duration::from_secs(59) && left <= Duration::from_secs(61));

        let out = Outgoing {
            msg: Arc::new(msg(now)),
            qos: QoS::AtLeastOnce,
            retain: false,
            sub_ids: vec![7, 9],
            seq: 3,
        };
        let stage = Stage::Inflight(Flight::Ack, 42);
        let (s, o) = read_delivery(&delivery(stage, &out, clock), clock).unwrap();
        assert_eq!(s, stage);
        assert_eq!(
            (o.qos, o.retain, o.sub_ids.clone()),
            (QoS::AtLeastOnce, false, vec![7, 9])
        );

        let rec = SessionRecord {
            expiry: 300,
            expires_at: None,
            will_at: Some(now + Duration::from_secs(5)),
            will: Some(StoredWill {
                msg: msg(now),
                delay: 5,
            }),
            incoming_qos2: vec![1, 65535],
            subs: vec![(
                "x/+".into(),
                SubEntry {
                    opts: SubscriptionOptions {
                        qos: QoS::AtLeastOnce,
                        no_local: true,
                        retain_as_published: false,
                        retain_handling: 2,
                    },
                    sub_id: Some(5),
                },
            )],
        };
        let back = read_session(&session(&rec, clock), clock).unwrap();
        assert_eq!(back.expiry, 300);
        assert_eq!(back.incoming_qos2, vec![1, 65535]);
        assert_eq!(back.subs, rec.subs);
        assert_eq!(back.will.unwrap().delay, 5);
        assert!(back.will_at.is_some() && back.expires_at.is_none());
    }

    #[test]
    fn damaged_values_are_errors() {
        let now = Instant::now();
        let clock = Clock::new(now);
        let v = retained(&msg(now), clock);
        for cut in 0..v.len() {
            assert!(read_retained(&v[..cut], clock).is_err(), "cut at {cut}");
        }
        let mut longer = v.clone();
        longer.push(0);
        assert!(read_retained(&longer, clock).is_err());
        let mut bad = v;
        bad[0] = 99;
        assert_eq!(
            read_retained(&bad, clock).unwrap_err().0,
            "unknown record format"
        );
    }
}
