//! Paho's `q-` records: a received message queued for the application
//! across a client crash (MQTTCLIENT_PERSISTENCE_DEFAULT), through mosquitto.
//!
//! Run 1: tests/c/persist_queue.c subscribes with cleansession=0 and holds
//! the first message inside messageArrived; the process is killed with
//! SIGKILL. On Debian's Paho C, the message has been acknowledged
//! (PUBACK, or PUBREC..PUBCOMP) and lives only in a `q-1` record; on
//! FerroMQ it has not been acknowledged (an MQTT 3.x QoS 2 flow waits for
//! its PUBCOMP, with its `r-` record), so the broker still has it. Run 2 on
//! the same store, on Paho (the reference) or on FerroMQ (the same binary
//! under Paho's library names): tests/c/persist_receive.c must get the
//! held message once, before what the broker queued meanwhile, and no
//! record may be left afterwards.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use bytes::Bytes;
use ferromq::client::sync::{Client, CreateOptions};
use ferromq::protocol::codec::{Properties, QoS, ReasonCode};
use support::{CBuild, Mosquitto, Running};

const PROGRAM_SECS: u64 = 60;
const TOPIC: &str = "persist/q";
const CLIENT: &str = "q-crash";

#[derive(Clone, Copy, Debug, PartialEq)]
enum Lib {
    Paho,
    Ours,
}

/// The C programs built against Paho's headers, and our library under
/// Paho's names.
struct Programs {
    hold: PathBuf,
    /// The slow subscriber on the MQTTAsync API.
    hold_async: PathBuf,
    receive: PathBuf,
    names: tempfile::TempDir,
    _work: tempfile::TempDir,
}

impl Programs {
    /// None (SKIP) when Paho or mosquitto is not installed.
    fn build() -> Option<Programs> {
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
        let build = |name: &str, lib: &str| {
            let exe = work.path().join(name);
            CBuild {
                sources: vec![c.join(format!("{name}.c"))],
                include_dirs: vec![c.clone()],
                libs: vec![lib.into()],
                ..CBuild::default()
            }
            .build(&exe);
            exe
        };
        Some(Programs {
            hold: build("persist_queue", "paho-mqtt3c"),
            hold_async: build("persist_queue_async", "paho-mqtt3a"),
            receive: build("persist_receive", "paho-mqtt3c"),
            names: support::paho_names_dir(),
            _work: work,
        })
    }

    fn command(&self, exe: &Path, lib: Lib) -> Command {
        let mut cmd = Command::new(exe);
        cmd.env_remove("LD_LIBRARY_PATH");
        if lib == Lib::Ours {
            cmd.env("LD_LIBRARY_PATH", self.names.path());
        }
        cmd
    }
}

/// Publish one message from a client of our library and wait for its
/// acknowledgement.
fn publish(uri: &str, payload: &str, qos: QoS) {
    let c = Client::new(uri, "q-publisher", CreateOptions::default()).expect("create");
    c.connect(support::connect_options(0)).expect("connect");
    let r = c
        .publish(
            TOPIC,
            Bytes::copy_from_slice(payload.as_bytes()),
            qos,
            false,
            Properties::default(),
        )
        .expect("publish");
    c.wait_for_completion(r.token, Duration::from_secs(10))
        .expect("publish completes");
    c.disconnect(
        Duration::from_secs(1),
        ReasonCode::SUCCESS,
        Properties::default(),
    )
    .expect("disconnect");
}

/// The record files of the (only) client directory under `store`.
fn records(store: &Path) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(store)
        .expect("store dir")
        .flatten()
        .filter(|e| e.path().is_dir())
        .flat_map(|d| std::fs::read_dir(d.path()).expect("client dir").flatten())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        // Our store's directory for records being written (empty).
        .filter(|name| name != ".ferromq-tmp")
        .collect();
    out.sort();
    out
}

/// `holder` holds a message in messageArrived and is killed: its store.
fn crash_holding(
    programs: &Programs,
    holder: Lib,
    uri: &str,
    version: &str,
    qos: QoS,
) -> tempfile::TempDir {
    let store = tempfile::tempdir().expect("tempdir");
    let mut cmd = programs.command(&programs.hold, holder);
    cmd.args([uri, CLIENT])
        .arg(store.path())
        .args([version, TOPIC]);
    let mut holder = Running::spawn(cmd, PROGRAM_SECS);
    holder.expect_line("subscribed");
    publish(uri, "held", qos);
    holder.expect_line(&format!("arrived {TOPIC} held"));
    holder.kill();
    store
}

/// What the holder leaves in its store when killed holding a message:
/// Paho its `q-` record; FerroMQ nothing but, for an MQTT 3.x QoS 2
/// message, the `r-` record of a flow whose PUBCOMP it has not sent (it
/// acknowledges only what the application took, so the server still has
/// the message).
fn left_behind(holder: Lib, version: &str, qos: QoS) -> Vec<&'static str> {
    match (holder, version, qos) {
        (Lib::Paho, _, _) => vec!["q-1.msg"],
        (Lib::Ours, "4", QoS::ExactlyOnce) => vec!["r-1.msg"],
        (Lib::Ours, _, _) => vec![],
    }
}

/// `holder` is killed holding a message; `second` resumes the store and
/// must get that message first, once, and leave no record of it.
fn resume_after(holder: Lib, second: Lib, version: &str, qos: QoS) {
    let Some(programs) = Programs::build() else {
        return;
    };
    let broker = Mosquitto::start();
    let uri = format!("tcp://127.0.0.1:{}", broker.port);
    let store = crash_holding(&programs, holder, &uri, version, qos);
    assert_eq!(
        records(store.path()),
        left_behind(holder, version, qos),
        "{holder:?} killed holding a QoS {qos:?} message (MQTT level {version})"
    );
    // "end" waits for the client in its session.
    publish(&uri, "end", QoS::AtLeastOnce);

    let mut cmd = programs.command(&programs.receive, second);
    cmd.args([uri.as_str(), CLIENT])
        .arg(store.path())
        .arg(version);
    let (status, out, err) = Running::spawn(cmd, PROGRAM_SECS).finish();
    assert!(
        status.success(),
        "resume on {second:?} failed: {status}\n{out}\n{err}\n--- broker\n{}",
        broker.log().text()
    );
    let arrived: Vec<&str> = out.lines().filter(|l| l.starts_with("arrived")).collect();
    assert_eq!(
        arrived,
        vec![
            format!("arrived {TOPIC} held").as_str(),
            &format!("arrived {TOPIC} end")
        ],
        "{second:?} after {holder:?} (QoS {qos:?}, level {version}): the held message \
         must come first, once\n{out}\n{err}"
    );
    let after = records(store.path());
    assert!(after.is_empty(), "records outlived their flows: {after:?}");
}

fn resume(second: Lib, qos: QoS) {
    resume_after(Lib::Paho, second, "4", qos);
}

#[test]
fn paho_resumes_its_queued_message_reference() {
    resume(Lib::Paho, QoS::AtLeastOnce);
}

#[test]
fn ferromq_resumes_a_message_paho_queued_qos1() {
    resume(Lib::Ours, QoS::AtLeastOnce);
}

#[test]
fn ferromq_resumes_a_message_paho_queued_qos2() {
    resume(Lib::Ours, QoS::ExactlyOnce);
}

/// Our client killed inside messageArrived has not acknowledged the
/// message: the broker sends it again to the next run.
#[test]
fn ferromq_killed_holding_a_message_gets_it_again_qos1() {
    resume_after(Lib::Ours, Lib::Ours, "4", QoS::AtLeastOnce);
}

#[test]
fn ferromq_killed_holding_a_message_gets_it_again_qos2() {
    resume_after(Lib::Ours, Lib::Ours, "4", QoS::ExactlyOnce);
}

/// MQTT 5, where Debian's Paho loses the held message (see below).
#[test]
fn ferromq_killed_holding_a_message_gets_it_again_mqtt5() {
    resume_after(Lib::Ours, Lib::Ours, "5", QoS::AtLeastOnce);
    resume_after(Lib::Ours, Lib::Ours, "5", QoS::ExactlyOnce);
}

/// The store our client leaves (an `r-` record mid QoS 2) is Paho's: Paho
/// resumes it and delivers the message on the resent PUBREL.
#[test]
fn paho_resumes_a_message_ferromq_held() {
    resume_after(Lib::Ours, Lib::Paho, "4", QoS::AtLeastOnce);
    resume_after(Lib::Ours, Lib::Paho, "4", QoS::ExactlyOnce);
}

/// The fact our reader relies on for MQTT 5: Debian's Paho C 1.3.12 writes
/// no `q5-` record (its MQTT 5 write path returns before storing), so an
/// MQTT 5 client of it loses a held message on a crash. Should a newer
/// Paho write them, this fails: then test resuming them too.
#[test]
fn paho_writes_no_mqtt5_queue_records() {
    let Some(programs) = Programs::build() else {
        return;
    };
    let broker = Mosquitto::start();
    let uri = format!("tcp://127.0.0.1:{}", broker.port);
    let store = crash_holding(&programs, Lib::Paho, &uri, "5", QoS::AtLeastOnce);
    let left = records(store.path());
    assert!(
        left.iter().all(|r| !r.starts_with('q')),
        "Paho wrote MQTT 5 queue records: {left:?}"
    );
}

/// Messages in the stream of `stream_crash`.
const STREAM: usize = 300;
/// The stream's subscriber is killed once it has taken this one.
const KILL_AT: usize = 100;

/// The payloads in `arrived <topic> <payload>` lines.
fn payloads(out: &str) -> Vec<String> {
    let prefix = format!("arrived {TOPIC} ");
    out.lines()
        .filter_map(|l| l.strip_prefix(&prefix).map(str::to_owned))
        .collect()
}

/// A subscriber on `lib` (persistence DEFAULT, cleansession 0, taking each
/// message in messageArrived; MQTTClient, or MQTTAsync with
/// `asynchronous`) is killed with SIGKILL mid-stream while a
/// publisher sends `STREAM` messages at `qos`; the same library resumes the
/// store. Every message the broker accepted must reach the application in
/// one of the two runs; at QoS 2 only the one being handed over at the kill
/// may come twice (taken, not yet acknowledged: so on Paho too).
fn stream_crash(lib: Lib, asynchronous: bool, qos: QoS) {
    let Some(programs) = Programs::build() else {
        return;
    };
    let broker = Mosquitto::start();
    let uri = format!("tcp://127.0.0.1:{}", broker.port);
    let store = tempfile::tempdir().expect("tempdir");
    let cmd = if asynchronous {
        let mut cmd = programs.command(&programs.hold_async, lib);
        cmd.args([uri.as_str(), CLIENT])
            .arg(store.path())
            .arg(TOPIC);
        cmd
    } else {
        let mut cmd = programs.command(&programs.hold, lib);
        cmd.args([uri.as_str(), CLIENT])
            .arg(store.path())
            .args(["4", TOPIC, "take"]);
        cmd
    };
    let mut first = Running::spawn(cmd, PROGRAM_SECS);
    first.expect_line("subscribed");

    let publisher = {
        let uri = uri.clone();
        std::thread::spawn(move || {
            let c = Client::new(&uri, "q-stream-pub", CreateOptions::default()).expect("create");
            c.connect(support::connect_options(0)).expect("connect");
            // One at a time: mosquitto refuses a 3.x QoS 2 PUBLISH past its
            // max_inflight_messages (PUBREC 0x97) rather than waiting.
            for i in 0..STREAM {
                let payload = Bytes::from(format!("m{i}"));
                let token = c
                    .publish(TOPIC, payload, qos, false, Properties::default())
                    .expect("publish")
                    .token;
                c.wait_for_completion(token, Duration::from_secs(30))
                    .expect("the broker accepts every message");
            }
            c.disconnect(
                Duration::from_secs(1),
                ReasonCode::SUCCESS,
                Properties::default(),
            )
            .expect("disconnect");
        })
    };
    let kill_line = format!("arrived {TOPIC} m{KILL_AT}");
    if !first.stdout.wait_for(&kill_line, first.remaining()) {
        first.kill();
        panic!(
            "{lib:?} never took m{KILL_AT}:\n{}\n{}\n--- broker\n{}",
            first.stdout.text(),
            first.stderr.text(),
            broker.log().text()
        );
    }
    first.kill();
    first.stdout.wait_closed(Duration::from_secs(5));
    let before = payloads(&first.stdout.text());
    publisher.join().expect("publisher");
    // At the stream's QoS: mosquitto keeps order within a QoS only.
    publish(&uri, "end", qos);

    let mut cmd = programs.command(&programs.receive, lib);
    cmd.args([uri.as_str(), CLIENT]).arg(store.path()).arg("4");
    let (status, out, err) = Running::spawn(cmd, PROGRAM_SECS).finish();
    assert!(
        status.success(),
        "resume on {lib:?} failed: {status}\n{out}\n{err}"
    );
    let after = payloads(&out);
    let mut seen = std::collections::HashMap::new();
    for p in before.iter().chain(after.iter()) {
        *seen.entry(p.as_str()).or_insert(0usize) += 1;
    }
    let lost: Vec<usize> = (0..STREAM)
        .filter(|i| !seen.contains_key(format!("m{i}").as_str()))
        .collect();
    assert!(
        lost.is_empty(),
        "{lib:?} (async {asynchronous}), QoS {qos:?}: {} accepted messages never reached the application \
         (first run took {}, second {}): {lost:?}",
        lost.len(),
        before.len(),
        after.len()
    );
    if qos == QoS::ExactlyOnce {
        let twice: Vec<&str> = seen
            .iter()
            .filter(|(p, n)| **n > 1 && **p != "end")
            .map(|(p, _)| *p)
            .collect();
        let last = before.last().map(String::as_str);
        assert!(
            twice.is_empty() || (twice.len() == 1 && Some(twice[0]) == last),
            "{lib:?}, QoS 2: only the message in hand at the kill ({last:?}) may repeat: {twice:?}"
        );
    }
    assert_eq!(after.last().map(String::as_str), Some("end"));
}

#[test]
fn paho_subscriber_killed_mid_stream_loses_nothing_reference() {
    stream_crash(Lib::Paho, false, QoS::AtLeastOnce);
    stream_crash(Lib::Paho, false, QoS::ExactlyOnce);
}

#[test]
fn ferromq_subscriber_killed_mid_stream_loses_nothing_qos1() {
    stream_crash(Lib::Ours, false, QoS::AtLeastOnce);
}

#[test]
fn ferromq_subscriber_killed_mid_stream_loses_nothing_qos2() {
    stream_crash(Lib::Ours, false, QoS::ExactlyOnce);
}

/// MQTTAsync: Paho calls messageArrived before it acknowledges (a `q-`
/// record only when the callback refuses), ours acknowledges once it
/// returned; either way nothing accepted is lost.
#[test]
fn async_subscriber_killed_mid_stream_loses_nothing() {
    for lib in [Lib::Paho, Lib::Ours] {
        stream_crash(lib, true, QoS::AtLeastOnce);
        stream_crash(lib, true, QoS::ExactlyOnce);
    }
}

/// What an earlier run queued is session state: a connect with
/// cleansession=1 drops it undelivered, on Paho as on ours (ours also
/// removes the record, with the rest of the store; Paho leaves it).
fn clean_start_after_crash(second: Lib) {
    let Some(programs) = Programs::build() else {
        return;
    };
    let broker = Mosquitto::start();
    let uri = format!("tcp://127.0.0.1:{}", broker.port);
    let store = crash_holding(&programs, Lib::Paho, &uri, "4", QoS::AtLeastOnce);
    assert_eq!(records(store.path()), vec!["q-1.msg"]);
    let mut cmd = programs.command(&programs.receive, second);
    cmd.args([uri.as_str(), CLIENT])
        .arg(store.path())
        .args(["4", "clean", TOPIC]);
    let mut run = Running::spawn(cmd, PROGRAM_SECS);
    run.expect_line("connected");
    publish(&uri, "end", QoS::AtLeastOnce);
    let (status, out, err) = run.finish();
    assert!(status.success(), "{second:?}: {status}\n{out}\n{err}");
    assert_eq!(
        payloads(&out),
        vec!["end"],
        "{second:?}: a clean session delivers nothing of the last one"
    );
}

#[test]
fn paho_drops_a_queued_message_on_a_clean_session_reference() {
    clean_start_after_crash(Lib::Paho);
}

#[test]
fn ferromq_drops_a_queued_message_on_a_clean_session() {
    clean_start_after_crash(Lib::Ours);
}
