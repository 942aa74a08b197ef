//! MQTTCLIENT_PERSISTENCE_DEFAULT and _USER, one C program per case built
//! against Paho's headers and run on Debian's Paho C (the reference) and on
//! FerroMQ (the same binary under Paho's library names), through mosquitto.
//!
//! Crash: tests/c/persist_publish.c publishes QoS 1 and 2 messages with
//! cleansession=0 and is killed with SIGKILL mid-stream; restarted on the
//! same store it must get every message `publish` accepted to a durable
//! subscriber, QoS 2 exactly once. Also a store written by Paho and resumed
//! by FerroMQ, and one with damaged records. User persistence:
//! tests/c/persist_user.c records the calls its store gets.

mod support;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use ferromq::client::sync::{Client, ConnectOptions, CreateOptions};
use ferromq::protocol::codec::{Properties, QoS, SubscriptionOptions};
use support::{CBuild, Mosquitto, Running};

/// Messages per crash run (bounded disk: a few kB of records at most).
const COUNT: usize = 400;
/// The publisher is killed once it has printed this many acceptances.
const KILL_AFTER: usize = 150;
const PROGRAM_SECS: u64 = 60;

/// Which library a run of the Paho-built program loads.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Lib {
    Paho,
    Ours,
}

/// A Paho-built C program and the directory of our library under Paho's names.
struct Program {
    exe: PathBuf,
    names: tempfile::TempDir,
    _work: tempfile::TempDir,
}

impl Program {
    /// Build tests/c/NAME.c against Paho's headers and libpaho-mqtt3c, or
    /// None (SKIP) when Paho or mosquitto is not installed.
    fn build(name: &str, lib: &str) -> Option<Program> {
        if !Mosquitto::available() {
            support::skip("mosquitto is not installed (/usr/sbin/mosquitto)");
            return None;
        }
        if !Path::new(support::PAHO_HEADER).exists() {
            support::skip("Paho C headers are not installed (libpaho-mqtt-dev)");
            return None;
        }
        let c = support::manifest_dir().join("tests").join("c");
        let work = tempfile::tempdir().expect("tempdir");
        let exe = work.path().join(name);
        CBuild {
            sources: vec![c.join(format!("{name}.c"))],
            include_dirs: vec![c],
            libs: vec![lib.into()],
            ..CBuild::default()
        }
        .build(&exe);
        Some(Program {
            exe,
            names: support::paho_names_dir(),
            _work: work,
        })
    }

    fn command(&self, lib: Lib) -> Command {
        let mut cmd = Command::new(&self.exe);
        cmd.env_remove("LD_LIBRARY_PATH");
        if lib == Lib::Ours {
            cmd.env("LD_LIBRARY_PATH", self.names.path());
        }
        cmd
    }
}

/// A durable subscriber to persist/t on our client library, counting what
/// arrives by payload.
struct Subscriber {
    client: Client,
}

impl Subscriber {
    fn start(uri: &str, topic: &str) -> Subscriber {
        let client = Client::new(uri, "persist-sub", CreateOptions::default()).expect("create");
        let opts = ConnectOptions {
            clean_session: false,
            clean_start: false,
            ..support::connect_options(0)
        };
        client.connect(opts).expect("subscriber connect");
        let sub = SubscriptionOptions {
            qos: QoS::ExactlyOnce,
            ..SubscriptionOptions::default()
        };
        client
            .subscribe_many(vec![(topic.into(), sub)], Properties::default())
            .expect("subscribe");
        Subscriber { client }
    }

    /// Add to `got` until every index in `want` has arrived or `limit` passes;
    /// then drain what else comes within a short quiet period. Returns the
    /// count per index.
    fn collect(
        &self,
        mut got: HashMap<usize, usize>,
        want: &[usize],
        limit: Duration,
    ) -> HashMap<usize, usize> {
        let until = Instant::now() + limit;
        let all = |got: &HashMap<usize, usize>| want.iter().all(|i| got.contains_key(i));
        loop {
            let quiet = if all(&got) {
                Duration::from_millis(300)
            } else {
                until.saturating_duration_since(Instant::now())
            };
            if quiet.is_zero() {
                break;
            }
            match self.client.receive(quiet) {
                Ok(Some((_, m))) => {
                    let text = String::from_utf8_lossy(&m.payload).into_owned();
                    // "m<i>" (persist_publish), "off<i>" (persist_async), "x<i>" (persist_xor).
                    let i = Some(text.trim_start_matches(['m', 'o', 'f', 'x']))
                        .and_then(|n| n.parse::<usize>().ok())
                        .unwrap_or_else(|| panic!("unexpected payload {text:?}"));
                    *got.entry(i).or_default() += 1;
                }
                Ok(None) if all(&got) => break,
                Ok(None) => {}
                Err(e) => panic!("receive: {e:?}"),
            }
        }
        got
    }
}

/// A TCP relay in front of the broker for one publisher connection. Once
/// `cut` is set it stops passing the publisher's bytes on (they are
/// dropped), so publishes accepted after that never reach the broker and
/// only the store can bring them back. Replies still flow back.
struct Relay {
    port: u16,
    cut: Arc<AtomicBool>,
}

impl Relay {
    fn start(broker_port: u16) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind relay");
        let port = listener.local_addr().unwrap().port();
        let cut = Arc::new(AtomicBool::new(false));
        let cut2 = cut.clone();
        thread::spawn(move || {
            // The first connection (the publisher) can be cut; later ones
            // (the restarted publisher, on the same URI and so the same
            // store) pass everything. Ends with the test process.
            let mut first = true;
            for client in listener.incoming() {
                let Ok(client) = client else {
                    return;
                };
                let cut = if first {
                    cut2.clone()
                } else {
                    Arc::new(AtomicBool::new(false))
                };
                first = false;
                thread::spawn(move || pump(client, broker_port, &cut));
            }
        });
        Relay { port, cut }
    }
}

/// Relay one connection to the broker, dropping the client's bytes once
/// `cut` is set.
fn pump(client: TcpStream, broker_port: u16, cut: &AtomicBool) {
    let Ok(broker) = TcpStream::connect(("127.0.0.1", broker_port)) else {
        return;
    };
    let (Ok(mut c_in), Ok(mut b_out)) = (client.try_clone(), broker.try_clone()) else {
        return;
    };
    let (mut b_in, mut c_out) = (broker, client);
    thread::spawn(move || {
        let _ = std::io::copy(&mut b_in, &mut c_out);
        let _ = c_out.shutdown(Shutdown::Both);
    });
    let mut buf = [0u8; 16384];
    // Ends when the client goes (read returns 0 or an error).
    while let Ok(n @ 1..) = c_in.read(&mut buf) {
        if !cut.load(Ordering::Acquire) && b_out.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = b_out.shutdown(Shutdown::Both);
}

/// The files under `dir` with their sizes, one a line (for failure reports).
fn list_store(dir: &Path) -> String {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let len = e.metadata().map(|m| m.len()).unwrap_or(0);
                out.push(format!(
                    "{} {len}",
                    p.strip_prefix(dir).unwrap_or(&p).display()
                ));
            }
        }
    }
    out.sort();
    out.join("\n")
}

/// Damaged records a crash or an earlier run may leave: empty, garbage, torn.
fn damage(store: &Path) {
    let dir = std::fs::read_dir(store)
        .expect("store dir")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .find(|p| p.is_dir())
        .expect("the client's directory in the store");
    std::fs::write(dir.join("s-60000.msg"), b"").unwrap();
    std::fs::write(dir.join("sc-60001.msg"), b"\xde\xad\xbe\xef").unwrap();
    std::fs::write(dir.join("s-60002.msg"), b"\x32\x7f\x00\x03a/b").unwrap();
}

/// Publish on `first`, kill it mid-stream, resume on `second`: every
/// accepted message arrives, QoS 2 (odd index) exactly once.
fn crash_and_resume(first: Lib, second: Lib, damaged: bool) {
    let Some(program) = Program::build("persist_publish", "paho-mqtt3c") else {
        return;
    };
    let broker = Mosquitto::start();
    let uri = format!("tcp://127.0.0.1:{}", broker.port);
    let store = tempfile::tempdir().expect("tempdir");
    let sub = Subscriber::start(&uri, "persist/t");

    let relay = Relay::start(broker.port);
    let mut cmd = program.command(first);
    cmd.arg(format!("tcp://127.0.0.1:{}", relay.port))
        .arg("persist-pub")
        .arg(store.path())
        .arg("publish")
        .arg(COUNT.to_string());
    let mut publisher = Running::spawn(cmd, PROGRAM_SECS);
    publisher.expect_line(&format!("accepted {}", KILL_AFTER - 1));
    relay.cut.store(true, Ordering::Release);
    // Publishes that start from now on go nowhere: wait until a few more
    // are accepted (the in-flight window of 20 leaves room), then crash.
    let seen = publisher.stdout.len();
    publisher.expect_line(&format!("accepted {}", KILL_AFTER + 4));
    publisher.kill();
    let accepted = publisher
        .stdout
        .text()
        .lines()
        .filter(|l| l.starts_with("accepted "))
        .count();
    assert!(
        accepted > KILL_AFTER && accepted < COUNT,
        "killed after {accepted} ({seen} lines at the cut)"
    );
    // Proof that the restart is what delivers: accepted messages the broker
    // never saw are missing before it.
    let before = sub.collect(HashMap::new(), &[], Duration::ZERO);
    let unseen = (0..accepted).filter(|i| !before.contains_key(i)).count();
    assert!(
        unseen > 0,
        "every accepted message arrived before the restart"
    );
    if damaged {
        damage(store.path());
    }

    let mut cmd = program.command(second);
    cmd.arg(format!("tcp://127.0.0.1:{}", relay.port))
        .arg("persist-pub")
        .arg(store.path())
        .arg("resume");
    let listing = list_store(store.path());
    let (status, out, err) = Running::spawn(cmd, PROGRAM_SECS).finish();
    assert!(
        status.success(),
        "resume on {second:?} failed: {status}\n{out}\n{err}\n--- store before\n{listing}\n--- broker\n{}",
        broker.log().text()
    );
    let want: Vec<usize> = (0..accepted).collect();
    let got = sub.collect(before, &want, Duration::from_secs(20));
    let missing: Vec<usize> = want
        .iter()
        .copied()
        .filter(|i| !got.contains_key(i))
        .collect();
    assert!(
        missing.is_empty(),
        "{first:?} then {second:?}: {} of {accepted} accepted messages lost: {missing:?}\n{out}\n--- broker\n{}",
        missing.len(),
        broker.log().text()
    );
    let twice: Vec<usize> = got
        .iter()
        .filter(|(i, n)| *i % 2 == 1 && **n > 1)
        .map(|(i, _)| *i)
        .collect();
    assert!(
        twice.is_empty(),
        "QoS 2 messages delivered twice: {twice:?}"
    );
    println!(
        "{first:?} then {second:?}: {accepted} accepted, {unseen} of them delivered only after the restart; {}",
        out.trim()
    );
}

#[test]
fn paho_crash_and_resume_reference() {
    crash_and_resume(Lib::Paho, Lib::Paho, false);
}

#[test]
fn ferromq_crash_and_resume() {
    crash_and_resume(Lib::Ours, Lib::Ours, false);
}

#[test]
fn store_written_by_paho_is_resumed_by_ferromq() {
    crash_and_resume(Lib::Paho, Lib::Ours, false);
}

#[test]
fn ferromq_skips_damaged_records() {
    crash_and_resume(Lib::Ours, Lib::Ours, true);
}

fn want_len(persist_qos0: bool) -> usize {
    if persist_qos0 { 3 } else { 2 }
}

/// MQTTAsync: publishes buffered while disconnected (never connected,
/// allowDisconnectedSendAtAnyTime) are kept as command records; killed and
/// restarted on the same store, the client sends them after connecting.
/// With persistQoS0=0 the QoS 0 one is not kept (and so not sent).
fn offline_buffer_survives(first: Lib, second: Lib, persist_qos0: bool) {
    let Some(program) = Program::build("persist_async", "paho-mqtt3a") else {
        return;
    };
    let broker = Mosquitto::start();
    let uri = format!("tcp://127.0.0.1:{}", broker.port);
    let store = tempfile::tempdir().expect("tempdir");
    let sub = Subscriber::start(&uri, "persist/a");
    let q0 = if persist_qos0 { "1" } else { "0" };
    let run = |lib: Lib, phase: &str| {
        let mut cmd = program.command(lib);
        cmd.arg(&uri)
            .arg("persist-async")
            .arg(store.path())
            .arg(phase)
            .arg(q0);
        Running::spawn(cmd, PROGRAM_SECS)
    };
    let mut buffering = run(first, "buffer");
    buffering.expect_line("buffered");
    buffering.kill();
    // One record per persisted publish, each through beforeWrite.
    let calls = format!("beforeWrite calls {}", want_len(persist_qos0));
    assert!(
        buffering.stdout.text().contains(&calls),
        "{first:?}: expected {calls:?}\n{}",
        buffering.stdout.text()
    );
    let (status, out, err) = run(second, "resume").finish();
    assert!(
        status.success(),
        "resume on {second:?} failed: {status}\n{out}\n{err}"
    );
    // "off<i>": the subscriber counts index i.
    let want: Vec<usize> = if persist_qos0 {
        vec![0, 1, 2]
    } else {
        vec![1, 2]
    };
    let got = sub.collect(HashMap::new(), &want, Duration::from_secs(10));
    let mut keys: Vec<usize> = got.keys().copied().collect();
    keys.sort_unstable();
    assert_eq!(keys, want, "{first:?} then {second:?}: got {got:?}\n{out}");
    assert!(got.values().all(|&n| n == 1), "duplicates: {got:?}");
    println!(
        "{first:?} then {second:?}: {want:?} delivered after the restart; {}",
        out.trim()
    );
}

#[test]
fn paho_async_offline_buffer_reference() {
    offline_buffer_survives(Lib::Paho, Lib::Paho, true);
}

#[test]
fn ferromq_async_offline_buffer() {
    offline_buffer_survives(Lib::Ours, Lib::Ours, true);
}

#[test]
fn ferromq_async_offline_buffer_without_qos0() {
    offline_buffer_survives(Lib::Ours, Lib::Ours, false);
}

#[test]
fn paho_offline_buffer_resumed_by_ferromq() {
    offline_buffer_survives(Lib::Paho, Lib::Ours, true);
}

#[test]
fn paho_async_offline_buffer_without_qos0_reference() {
    offline_buffer_survives(Lib::Paho, Lib::Paho, false);
}

#[test]
fn store_written_by_ferromq_is_resumed_by_paho() {
    crash_and_resume(Lib::Ours, Lib::Paho, false);
}

#[test]
fn ferromq_offline_buffer_resumed_by_paho() {
    offline_buffer_survives(Lib::Ours, Lib::Paho, true);
}

/// MQTTAsync_setBeforePersistenceWrite / setAfterPersistenceRead as an
/// encrypting application uses them (tests/c/persist_xor.c XORs every byte
/// both ways): the records on disk are transformed, and after a crash the
/// restarted client reads them back through the callback and sends them.
#[test]
fn ferromq_async_store_through_transform_callbacks() {
    let Some(program) = Program::build("persist_xor", "paho-mqtt3a") else {
        return;
    };
    let broker = Mosquitto::start();
    let uri = format!("tcp://127.0.0.1:{}", broker.port);
    let store = tempfile::tempdir().expect("tempdir");
    let sub = Subscriber::start(&uri, "persist/x");
    let run = |phase: &str| {
        let mut cmd = program.command(Lib::Ours);
        cmd.arg(&uri)
            .arg("persist-xor")
            .arg(store.path())
            .arg(phase);
        Running::spawn(cmd, PROGRAM_SECS)
    };
    let mut buffering = run("buffer");
    buffering.expect_line("buffered");
    buffering.kill();
    let dir = std::fs::read_dir(store.path())
        .expect("store")
        .flatten()
        .map(|e| e.path())
        .find(|p| p.is_dir())
        .expect("the client's directory");
    let mut commands = 0;
    for e in std::fs::read_dir(&dir).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.starts_with("c-") {
            continue;
        }
        commands += 1;
        let stored = std::fs::read(e.path()).unwrap();
        let plain: Vec<u8> = stored.iter().map(|b| b ^ 0x5A).collect();
        let has_topic = |b: &[u8]| b.windows(9).any(|w| w == b"persist/x");
        assert!(
            !has_topic(&stored),
            "{name} is stored as written: {stored:?}"
        );
        assert!(
            has_topic(&plain) && plain[..4] == 3i32.to_ne_bytes(),
            "{name} is not a transformed publish command: {plain:?}"
        );
    }
    assert_eq!(commands, 2, "{}", list_store(store.path()));
    let (status, out, err) = run("resume").finish();
    assert!(status.success(), "resume failed: {status}\n{out}\n{err}");
    assert!(out.contains("afterRead calls 2"), "{out}");
    let got = sub.collect(HashMap::new(), &[0, 1], Duration::from_secs(10));
    let mut keys: Vec<usize> = got.keys().copied().collect();
    keys.sort_unstable();
    assert_eq!(keys, vec![0, 1], "got {got:?}\n{out}");
    assert!(got.values().all(|&n| n == 1), "duplicates: {got:?}");
}
