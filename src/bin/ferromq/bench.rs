//! `ferromq bench`: a load generator speaking raw MQTT 3.1.1 over blocking
//! sockets, used to measure any broker (ours or mosquitto) the same way.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use ferromq::protocol::codec::{
    self, Connect, Packet, ProtocolVersion, PubResp, Publish, QoS, Subscribe, SubscriptionOptions,
};

const V: ProtocolVersion = ProtocolVersion::V311;

/// Options of one run.
#[derive(Debug, Clone)]
pub struct Bench {
    pub addr: SocketAddr,
    pub mode: String,
    pub qos: QoS,
    pub messages: u64,
    pub payload: usize,
    pub publishers: usize,
    pub subscribers: usize,
    pub connections: usize,
    pub window: usize,
}

fn usage() -> String {
    "usage: ferromq bench --port P [--host 127.0.0.1] --mode fanin|fanout|idle [--qos 0|1] \
     [--messages N] [--payload BYTES] [--publishers N] [--subscribers N] [--connections N]"
        .to_string()
}

/// Parse `ferromq bench` arguments.
pub fn parse(args: &[String]) -> Result<Bench, String> {
    let mut host = "127.0.0.1".to_string();
    let mut port: Option<u16> = None;
    let mut b = Bench {
        addr: "127.0.0.1:1883".parse().map_err(|_| usage())?,
        mode: "fanin".into(),
        qos: QoS::AtMostOnce,
        messages: 200_000,
        payload: 64,
        publishers: 8,
        subscribers: 1,
        connections: 5000,
        window: 64,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut val = || it.next().cloned().ok_or_else(usage);
        let num = |s: String| s.parse::<u64>().map_err(|_| usage());
        match a.as_str() {
            "--host" => host = val()?,
            "--port" => port = Some(num(val()?)? as u16),
            "--mode" => b.mode = val()?,
            "--qos" => b.qos = QoS::from_u8(num(val()?)? as u8).ok_or_else(usage)?,
            "--messages" => b.messages = num(val()?)?,
            "--payload" => b.payload = num(val()?)? as usize,
            "--publishers" => b.publishers = num(val()?)?.max(1) as usize,
            "--subscribers" => b.subscribers = num(val()?)?.max(1) as usize,
            "--connections" => b.connections = num(val()?)? as usize,
            "--window" => b.window = num(val()?)?.max(1) as usize,
            _ => return Err(usage()),
        }
    }
    let port = port.ok_or_else(usage)?;
    b.addr = format!("{host}:{port}").parse().map_err(|_| usage())?;
    Ok(b)
}

/// Run and print one result line.
pub fn run(b: &Bench) -> Result<(), String> {
    match b.mode.as_str() {
        "fanin" | "fanout" => throughput(b),
        "idle" => idle(b),
        _ => Err(usage()),
    }
}

fn send(stream: &mut TcpStream, p: &Packet) -> std::io::Result<()> {
    let mut out = BytesMut::new();
    codec::encode(p, V, &mut out).map_err(|e| std::io::Error::other(format!("{e:?}")))?;
    stream.write_all(&out)
}

/// Read until one whole packet is decoded.
fn next_packet(
    stream: &mut TcpStream,
    buf: &mut BytesMut,
    scratch: &mut [u8],
) -> std::io::Result<Packet> {
    loop {
        match codec::decode(buf, V, 0) {
            Ok(Some(p)) => return Ok(p),
            Ok(None) => {}
            Err(e) => return Err(std::io::Error::other(format!("{e:?}"))),
        }
        let n = stream.read(scratch)?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&scratch[..n]);
    }
}

fn connect(addr: SocketAddr, id: &str) -> std::io::Result<(TcpStream, BytesMut)> {
    let mut s = TcpStream::connect(addr)?;
    s.set_nodelay(true)?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    let connect = Connect {
        protocol: V,
        clean_start: true,
        keep_alive: 0,
        client_id: id.to_string(),
        ..Connect::default()
    };
    send(&mut s, &Packet::Connect(connect))?;
    let mut buf = BytesMut::new();
    let mut scratch = [0u8; 4096];
    match next_packet(&mut s, &mut buf, &mut scratch)? {
        Packet::ConnAck(a) if a.code.0 == 0 => Ok((s, buf)),
        other => Err(std::io::Error::other(format!("CONNECT refused: {other:?}"))),
    }
}

/// One subscriber: counts messages until `expect` arrived or the stream went
/// quiet for two seconds (a QoS 0 message may be dropped by a broker).
fn subscriber(
    addr: SocketAddr,
    id: String,
    topic: String,
    qos: QoS,
    expect: u64,
    ready: Arc<Barrier>,
) -> std::io::Result<(u64, Instant)> {
    let (mut s, mut buf) = connect(addr, &id)?;
    let sub = Subscribe {
        packet_id: 1,
        filters: vec![(
            topic,
            SubscriptionOptions {
                qos,
                ..Default::default()
            },
        )],
        ..Default::default()
    };
    send(&mut s, &Packet::Subscribe(sub))?;
    let mut scratch = vec![0u8; 256 * 1024];
    loop {
        if let Packet::SubAck(_) = next_packet(&mut s, &mut buf, &mut scratch)? {
            break;
        }
    }
    ready.wait();
    s.set_read_timeout(Some(Duration::from_secs(2)))?;
    let mut got = 0u64;
    let mut last = Instant::now();
    let mut acks = BytesMut::new();
    while got < expect {
        loop {
            match codec::decode(&mut buf, V, 0) {
                Ok(Some(Packet::Publish(p))) => {
                    got += 1;
                    if p.qos == QoS::AtLeastOnce {
                        let ack = Packet::PubAck(PubResp {
                            packet_id: p.packet_id,
                            ..Default::default()
                        });
                        let _ = codec::encode(&ack, V, &mut acks);
                    }
                }
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(e) => return Err(std::io::Error::other(format!("{e:?}"))),
            }
        }
        if !acks.is_empty() {
            s.write_all(&acks)?;
            acks.clear();
        }
        last = Instant::now();
        if got >= expect {
            break;
        }
        match s.read(&mut scratch) {
            Ok(0) => break,
            Ok(n) => buf.extend_from_slice(&scratch[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                break;
            }
            Err(e) => return Err(e),
        }
    }
    Ok((got, last))
}

/// What one publisher thread does.
struct PubJob {
    addr: SocketAddr,
    id: String,
    topic: String,
    qos: QoS,
    count: u64,
    payload: Bytes,
    window: usize,
    ready: Arc<Barrier>,
}

/// One publisher: `count` messages, QoS 1 with at most `window` unacknowledged.
fn publisher(job: PubJob) -> std::io::Result<()> {
    let PubJob {
        addr,
        id,
        topic,
        qos,
        count,
        payload,
        window,
        ready,
    } = job;
    let (mut s, mut buf) = connect(addr, &id)?;
    ready.wait();
    let mut scratch = vec![0u8; 64 * 1024];
    let mut out = BytesMut::with_capacity(64 * 1024);
    let mut inflight = 0usize;
    let mut next_id: u16 = 1;
    let mut sent = 0u64;
    while sent < count {
        while sent < count && (qos == QoS::AtMostOnce || inflight < window) && out.len() < 32 * 1024
        {
            let packet_id = if qos == QoS::AtMostOnce { 0 } else { next_id };
            next_id = next_id.checked_add(1).unwrap_or(1);
            let p = Publish {
                qos,
                topic: topic.clone(),
                packet_id,
                payload: payload.clone(),
                ..Default::default()
            };
            codec::encode(&Packet::Publish(p), V, &mut out)
                .map_err(|e| std::io::Error::other(format!("{e:?}")))?;
            sent += 1;
            if qos != QoS::AtMostOnce {
                inflight += 1;
            }
        }
        s.write_all(&out)?;
        out.clear();
        while qos != QoS::AtMostOnce && (inflight >= window || (sent == count && inflight > 0)) {
            if let Packet::PubAck(_) = next_packet(&mut s, &mut buf, &mut scratch)? {
                inflight -= 1;
            }
        }
    }
    // Let the broker see everything before the socket closes.
    send(&mut s, &Packet::Disconnect(Default::default()))?;
    Ok(())
}

fn throughput(b: &Bench) -> Result<(), String> {
    let (pubs, subs) = if b.mode == "fanin" {
        (b.publishers, 1)
    } else {
        (1, b.subscribers)
    };
    let topic = format!("bench/{}/{}", b.mode, std::process::id());
    let per_pub = b.messages / pubs as u64;
    let expect = per_pub * pubs as u64;
    let ready = Arc::new(Barrier::new(pubs + subs + 1));
    let mut sub_threads = Vec::new();
    for i in 0..subs {
        let (addr, topic, ready, qos) = (b.addr, topic.clone(), ready.clone(), b.qos);
        sub_threads.push(thread::spawn(move || {
            subscriber(addr, format!("bench-sub-{i}"), topic, qos, expect, ready)
        }));
    }
    let payload = Bytes::from(vec![0x5a; b.payload]);
    let mut pub_threads = Vec::new();
    for i in 0..pubs {
        let job = PubJob {
            addr: b.addr,
            id: format!("bench-pub-{i}"),
            topic: topic.clone(),
            qos: b.qos,
            count: per_pub,
            payload: payload.clone(),
            window: b.window,
            ready: ready.clone(),
        };
        pub_threads.push(thread::spawn(move || publisher(job)));
    }
    ready.wait();
    let start = Instant::now();
    for t in pub_threads {
        t.join()
            .map_err(|_| "publisher panicked".to_string())?
            .map_err(|e| format!("publisher: {e}"))?;
    }
    let mut delivered = 0u64;
    let mut end = start;
    for t in sub_threads {
        let (got, last) = t
            .join()
            .map_err(|_| "subscriber panicked".to_string())?
            .map_err(|e| format!("subscriber: {e}"))?;
        delivered += got;
        end = end.max(last);
    }
    let secs = end.duration_since(start).as_secs_f64().max(1e-9);
    println!(
        "mode={} qos={} publishers={} subscribers={} sent={} delivered={} expected={} seconds={:.3} msgs_per_sec={:.0}",
        b.mode,
        b.qos as u8,
        pubs,
        subs,
        expect,
        delivered,
        expect * subs as u64,
        secs,
        delivered as f64 / secs
    );
    Ok(())
}

/// Open `connections` idle MQTT connections, print `ready`, and hold them
/// until standard input closes (the caller measures the broker meanwhile).
fn idle(b: &Bench) -> Result<(), String> {
    let mut conns = Vec::with_capacity(b.connections);
    for i in 0..b.connections {
        let (s, _) =
            connect(b.addr, &format!("idle-{i}")).map_err(|e| format!("connection {i}: {e}"))?;
        conns.push(s);
    }
    println!("ready connections={}", conns.len());
    let _ = std::io::stdout().flush();
    let mut sink = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut sink);
    Ok(())
}
