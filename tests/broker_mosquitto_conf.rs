//! `ferromq broker -c mosquitto.conf` with a password file written by the
//! real `mosquitto_passwd` and an ACL file with patterns: allow/deny outcomes
//! seen by the real mosquitto_pub/mosquitto_sub (MQTT 3.1.1 and 5), the same
//! as mosquitto's own on the same files; per_listener_settings; SIGHUP picks
//! up a new user and new rules without dropping a connected client.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use support::{FerroBroker, Mosquitto, Running};

const PUB: &str = "/usr/bin/mosquitto_pub";
const SUB: &str = "/usr/bin/mosquitto_sub";
const PASSWD: &str = "/usr/bin/mosquitto_passwd";
const WAIT: Duration = Duration::from_secs(15);

const ACL: &str = "# anonymous clients\ntopic read pub/#\n\n\
    user alice\ntopic readwrite a/#\ntopic deny a/secret\ntopic read r/#\ntopic write w/#\n\
    user carol\ntopic write r/#\ntopic readwrite pub/#\n\
    pattern readwrite p/%u/#\npattern read c/%c/#\n";

/// A temp dir (readable by everyone: mosquitto may drop privileges) with
/// `passwd` made by mosquitto_passwd (alice: $7$, carol: $6$) and `acl`.
/// None, after printing SKIP, when the mosquitto tools are missing.
fn fixture() -> Option<tempfile::TempDir> {
    if ![PUB, SUB, PASSWD].iter().all(|p| Path::new(p).exists()) {
        support::skip("mosquitto and mosquitto-clients not installed");
        return None;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let pw = dir.path().join("passwd");
    passwd(&["-c", "-b"], &pw, "alice", "secret");
    passwd(&["-H", "sha512", "-b"], &pw, "carol", "pw6");
    std::fs::write(dir.path().join("acl"), ACL).unwrap();
    readable(&pw);
    readable(&dir.path().join("acl"));
    Some(dir)
}

fn readable(p: &Path) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o644)).unwrap();
}

/// Run the real mosquitto_passwd.
fn passwd(flags: &[&str], file: &Path, user: &str, password: &str) {
    let mut cmd = Command::new(PASSWD);
    cmd.args(flags).arg(file).args([user, password]);
    let out = support::run_with_timeout(cmd, 20);
    assert!(out.status.success(), "mosquitto_passwd: {out:?}");
}

/// `ferromq broker -c` on `dir/NAME` written from `conf(port)`, on a free
/// port (another one if it was taken meanwhile).
fn start_ferro(dir: &Path, conf: &dyn Fn(u16) -> String) -> FerroBroker {
    let mut last = String::new();
    for _ in 0..5 {
        let port = support::free_port();
        let path = dir.join(format!("ferromq-{port}.conf"));
        std::fs::write(&path, conf(port)).unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ferromq"));
        cmd.arg("broker").arg("-c").arg(&path);
        let mut b = FerroBroker::spawn(cmd, port, tempfile::tempdir().unwrap());
        if b.log()
            .wait_for(&format!("listening on 127.0.0.1:{port}"), WAIT)
        {
            return b;
        }
        last = b.log().text();
        b.kill();
    }
    panic!("ferromq broker did not start:\n{last}");
}

/// mosquitto on the same kind of file (plus `user root`, so that it keeps
/// reading the files), or None when it is not installed.
fn start_mosquitto(dir: &Path, conf: &dyn Fn(u16) -> String) -> Option<Mosquitto> {
    if !Mosquitto::available() {
        support::skip("mosquitto not installed: no comparison with mosquitto's outcomes");
        return None;
    }
    let mut last = String::new();
    for _ in 0..5 {
        let port = support::free_port();
        let path = dir.join(format!("mosquitto-{port}.conf"));
        std::fs::write(&path, format!("user root\n{}", conf(port))).unwrap();
        readable(&path);
        let mut cmd = Command::new(support::MOSQUITTO);
        cmd.arg("-c").arg(&path);
        let mut m = Mosquitto::spawn(cmd, port, tempfile::tempdir().unwrap());
        if m.log().wait_for(" running", WAIT) {
            return Some(m);
        }
        last = m.log().text();
        m.kill();
    }
    panic!("mosquitto did not start:\n{last}");
}

fn matrix_conf(dir: &Path) -> impl Fn(u16) -> String {
    let dir = dir.to_path_buf();
    move |port| {
        format!(
            "per_listener_settings false\nlistener {port} 127.0.0.1\nallow_anonymous true\n\
             password_file {pw}\nacl_file {acl}\nlog_dest stderr\nlog_type all\n\
             connection_messages true\nlog_timestamp_format %Y-%m-%dT%H:%M:%S\n",
            pw = dir.join("passwd").display(),
            acl = dir.join("acl").display(),
        )
    }
}

/// Credentials for mosquitto_pub/sub.
fn who(user: &str) -> Vec<String> {
    match user {
        "anon" => vec![],
        "alice" => vec!["-u".into(), "alice".into(), "-P".into(), "secret".into()],
        "carol" => vec!["-u".into(), "carol".into(), "-P".into(), "pw6".into()],
        other => {
            let (u, p) = other.split_once(':').unwrap();
            vec!["-u".into(), u.into(), "-P".into(), p.into()]
        }
    }
}

/// One mosquitto_pub: its exit code and acknowledgement as a short line.
fn publish(port: u16, version: &str, user: &str, topic: &str, qos: &str) -> String {
    let mut cmd = Command::new(PUB);
    cmd.args([
        "-d",
        "-h",
        "127.0.0.1",
        "-p",
        &port.to_string(),
        "-V",
        version,
    ]);
    cmd.args(who(user))
        .args(["-t", topic, "-m", "m", "-q", qos]);
    let out = support::run_with_timeout(cmd, 20);
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    let ack: Vec<&str> = text
        .lines()
        .filter_map(|l| l.split_once("received ").map(|(_, r)| r))
        .filter(|r| r.starts_with("PUB") || r.starts_with("CONNACK"))
        .collect();
    format!(
        "pub {user} {topic} v{version} q{qos}: exit {:?} {}",
        out.status.code(),
        ack.join(" ")
    )
}

/// A mosquitto_sub that has had its SUBACK, printing `topic` per message.
fn subscribe(port: u16, version: &str, user: &str, id: &str, filters: &[&str]) -> Running {
    let mut cmd = Command::new("stdbuf");
    cmd.args(["-oL", SUB, "-d", "-h", "127.0.0.1", "-p", &port.to_string()]);
    cmd.args(["-V", version, "-i", id, "-F", "M|%t"])
        .args(who(user));
    for f in filters {
        cmd.args(["-t", f]);
    }
    let mut r = Running::spawn(cmd, 60);
    r.expect_line("Subscribed (mid");
    r
}

fn received(r: &Running, last: &str) -> Vec<String> {
    assert!(
        r.stdout.wait_for(&format!("M|{last}"), WAIT),
        "never got {last}:\n{}",
        r.stdout.text()
    );
    let lines = r.stdout.lines_from(0);
    lines.into_iter().filter(|l| l.starts_with("M|")).collect()
}

/// Everything the matrix observes on the broker at `port`.
fn matrix(port: u16) -> Vec<String> {
    let mut seen = Vec::new();
    for v in ["mqttv311", "mqttv5"] {
        seen.push(publish(port, v, "alice:wrong", "a/x", "1"));
        seen.push(publish(port, v, "nobody:x", "a/x", "1"));
        seen.push(publish(port, v, "anon", "pub/x", "1"));
    }
    let alice = subscribe(port, "mqttv5", "alice", "alice-sub", &["#"]);
    let anon = subscribe(port, "mqttv311", "anon", "anon-sub", &["#"]);
    seen.push(format!("alice SUBACK {:?}", suback(&alice)));
    seen.push(format!("anon SUBACK {:?}", suback(&anon)));
    for v in ["mqttv311", "mqttv5"] {
        seen.push(publish(port, v, "alice", "a/x", "1"));
        seen.push(publish(port, v, "alice", "a/secret", "1"));
        seen.push(publish(port, v, "alice", "a/secret", "2"));
        seen.push(publish(port, v, "carol", "r/1", "1"));
        seen.push(publish(port, v, "carol", "a/y", "1"));
        seen.push(publish(port, v, "alice", "w/1", "0"));
        seen.push(publish(port, v, "carol", "p/carol/1", "1"));
        seen.push(publish(port, v, "alice", "p/alice/z", "1"));
        seen.push(publish(port, v, "carol", "c/alice-sub/1", "1"));
        seen.push(publish(port, v, "carol", "pub/news", "1"));
        seen.push(publish(port, v, "anon", "pub/x", "0"));
    }
    seen.push(publish(port, "mqttv5", "alice", "a/done", "1"));
    seen.push(publish(port, "mqttv5", "carol", "pub/done", "1"));
    seen.push(format!("alice got {:?}", received(&alice, "a/done")));
    seen.push(format!("anon got {:?}", received(&anon, "pub/done")));
    seen
}

fn suback(r: &Running) -> String {
    let lines = r.stdout.lines_from(0);
    lines
        .iter()
        .find_map(|l| l.strip_prefix("Subscribed (mid: 1): "))
        .unwrap_or("?")
        .to_string()
}

#[test]
fn password_file_and_acl_outcomes_match_mosquitto() {
    let Some(dir) = fixture() else { return };
    let conf = matrix_conf(dir.path());
    let ours = start_ferro(dir.path(), &conf);
    let got = matrix(ours.port);
    let text = got.join("\n");
    // What mosquitto does (and so we): refusals are "not authorised".
    assert!(
        text.contains("pub alice:wrong a/x vmqttv311 q1: exit Some(5)"),
        "{text}"
    );
    assert!(
        text.contains("pub nobody:x a/x vmqttv5 q1: exit Some(135)"),
        "{text}"
    );
    assert!(
        text.contains(
            "pub alice a/secret vmqttv5 q1: exit Some(0) CONNACK (0) PUBACK (Mid: 1, RC:135)"
        ),
        "{text}"
    );
    assert!(
        text.contains("pub carol a/y vmqttv5 q1: exit Some(0) CONNACK (0) PUBACK (Mid: 1, RC:135)"),
        "{text}"
    );
    assert!(
        text.contains("pub alice a/x vmqttv5 q1: exit Some(0) CONNACK (0) PUBACK (Mid: 1, RC:16)")
            || text.contains(
                "pub alice a/x vmqttv5 q1: exit Some(0) CONNACK (0) PUBACK (Mid: 1, RC:0)"
            ),
        "{text}"
    );
    assert!(
        text.contains(r#"alice got ["M|a/x", "M|r/1", "M|p/alice/z", "M|a/x", "M|r/1", "M|p/alice/z", "M|a/done"]"#),
        "{text}\nbroker log:\n{}",
        ours.log().text()
    );
    assert!(
        text.contains(r#"anon got ["M|pub/news", "M|pub/news", "M|pub/done"]"#),
        "{text}"
    );
    // Log lines carry the configured timestamp format.
    let first = ours.log().line(0).unwrap_or_default();
    assert!(
        first.len() > 20 && first.as_bytes()[4] == b'-' && first.as_bytes()[10] == b'T',
        "{first}"
    );
    drop(ours);
    let Some(theirs) = start_mosquitto(dir.path(), &conf) else {
        return;
    };
    let want = matrix(theirs.port);
    assert_eq!(got, want, "ours (left) and mosquitto's (right) differ");
}

#[test]
fn denied_subscriptions_get_0x80_and_0x87() {
    let Some(dir) = fixture() else { return };
    let b = start_ferro(dir.path(), &matrix_conf(dir.path()));
    // alice may not read w/# (write only) nor a/secret (deny); anonymous
    // clients may read pub/# only.
    let v5 = subscribe(b.port, "mqttv5", "alice", "s1", &["w/#", "a/+", "a/secret"]);
    assert_eq!(suback(&v5), "135, 0, 135");
    let v3 = subscribe(b.port, "mqttv311", "anon", "s2", &["secret/#", "pub/+"]);
    assert_eq!(suback(&v3), "128, 0");
}

#[test]
fn per_listener_settings_give_each_listener_its_security() {
    let Some(dir) = fixture() else { return };
    let pw = dir.path().join("passwd");
    let second = support::free_port();
    let conf = move |port: u16| {
        format!(
            "per_listener_settings true\nlistener {port} 127.0.0.1\nallow_anonymous true\n\
             listener {second} 127.0.0.1\nallow_anonymous false\npassword_file {}\n",
            pw.display()
        )
    };
    let run = |first: u16| {
        vec![
            publish(first, "mqttv311", "anon", "t", "1"),
            publish(first, "mqttv311", "someone:x", "t", "1"),
            publish(second, "mqttv311", "anon", "t", "1"),
            publish(second, "mqttv5", "anon", "t", "1"),
            publish(second, "mqttv5", "alice", "t", "1"),
            publish(second, "mqttv5", "alice:bad", "t", "1"),
        ]
    };
    let ours = start_ferro(dir.path(), &conf);
    assert!(
        ours.log()
            .wait_for(&format!("listening on 127.0.0.1:{second}"), WAIT)
    );
    let got = run(ours.port);
    let codes: Vec<&str> = got
        .iter()
        .map(|l| l.split(": exit ").nth(1).unwrap_or(""))
        .collect();
    assert!(
        codes[0].starts_with("Some(0)") && codes[1].starts_with("Some(0)"),
        "{got:?}"
    );
    assert!(
        codes[2].starts_with("Some(5)") && codes[3].starts_with("Some(135)"),
        "{got:?}"
    );
    assert!(
        codes[4].starts_with("Some(0)") && codes[5].starts_with("Some(135)"),
        "{got:?}"
    );
    drop(ours);
    if let Some(theirs) = start_mosquitto(dir.path(), &conf) {
        assert_eq!(
            got,
            run(theirs.port),
            "ours (left) and mosquitto's (right) differ"
        );
    }
}

#[test]
fn sighup_picks_up_a_new_user_and_rules_without_dropping_clients() {
    let Some(dir) = fixture() else { return };
    let pw: PathBuf = dir.path().join("passwd");
    let acl = dir.path().join("acl-reload");
    std::fs::write(&acl, "user alice\ntopic read d/#\n").unwrap();
    let (pw2, acl2) = (pw.clone(), acl.clone());
    let conf = move |port: u16| {
        format!(
            "listener {port} 127.0.0.1\nallow_anonymous false\npassword_file {}\nacl_file {}\n",
            pw2.display(),
            acl2.display()
        )
    };
    let b = start_ferro(dir.path(), &conf);
    let alice = subscribe(b.port, "mqttv5", "alice", "alice-keeps", &["d/#"]);
    let refused = publish(b.port, "mqttv5", "dave:pw", "d/1", "1");
    assert!(refused.contains("exit Some(135)"), "{refused}");

    passwd(&["-b"], &pw, "dave", "pw");
    std::fs::write(
        &acl,
        "user alice\ntopic read d/#\nuser dave\ntopic write d/#\n",
    )
    .unwrap();
    let mark = b.log().len();
    let pid = b.pid().expect("running") as libc::pid_t;
    // SAFETY: kill(2) on our own child, still running (the guard reaps it
    // only when dropped).
    assert_eq!(unsafe { libc::kill(pid, libc::SIGHUP) }, 0);
    assert!(
        b.log()
            .wait_for_from(mark, "reloaded configuration", WAIT)
            .is_some(),
        "{}",
        b.log().text()
    );
    let ok = publish(b.port, "mqttv5", "dave:pw", "d/1", "1");
    assert!(ok.contains("exit Some(0)") && ok.contains("RC:0"), "{ok}");
    assert_eq!(received(&alice, "d/1"), vec!["M|d/1"]);
    let log = b.log().text();
    assert!(
        !log.contains("disconnect: client 'alice-keeps'"),
        "alice was dropped:\n{log}"
    );
    // A broken file on reload keeps the rules in force.
    std::fs::write(&acl, "user dave\ntopic nonsense a/#/b\n").unwrap();
    let mark = b.log().len();
    // SAFETY: as above.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGHUP) }, 0);
    assert!(b.log().wait_for_from(mark, "reload failed", WAIT).is_some());
    let still = publish(b.port, "mqttv5", "dave:pw", "d/2", "1");
    assert!(still.contains("RC:0"), "{still}");
}

/// Run `ferromq ARGS` to completion.
fn ferromq(args: &[&str]) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ferromq"));
    cmd.args(args);
    support::run_with_timeout(cmd, 30)
}

#[test]
fn ferromq_passwd_writes_files_mosquitto_reads() {
    let Some(dir) = fixture() else { return };
    let pw = dir.path().join("ours");
    let file = pw.to_str().unwrap();
    for args in [
        &["passwd", "-c", "-b", file, "alice", "secret"][..],
        &["passwd", "-H", "sha512", "-b", file, "carol", "pw6"],
        &["passwd", "-b", file, "gone", "x"],
        &["passwd", "-D", file, "gone"],
    ] {
        let out = ferromq(args);
        assert!(out.status.success(), "{args:?}: {out:?}");
    }
    let text = std::fs::read_to_string(&pw).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[0].starts_with("alice:$7$101$") && lines[1].starts_with("carol:$6$"));
    // -U hashes a plain-text file in place, as mosquitto_passwd -U does.
    let plain = dir.path().join("plain");
    std::fs::write(&plain, "dave:pw\n").unwrap();
    assert!(
        ferromq(&["passwd", "-U", plain.to_str().unwrap()])
            .status
            .success()
    );
    let hashed = std::fs::read_to_string(&plain).unwrap();
    assert!(hashed.starts_with("dave:$7$"), "{hashed}");
    std::fs::write(&pw, format!("{text}{hashed}")).unwrap();
    readable(&pw);
    let bad = ferromq(&["passwd", "-b", file, "a:b", "x"]);
    assert!(!bad.status.success());
    // Without -b the password is asked twice (here on a pipe, not a tty).
    let ask = |input: &[u8]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ferromq"));
        cmd.args(["passwd", file, "erin"]);
        Running::spawn_with_input(cmd, input, 30).finish()
    };
    let (status, _, err) = ask(b"one\ntwo\n");
    assert!(!status.success() && err.contains("do not match"), "{err}");
    let (status, _, err) = ask(b"erinpw\nerinpw\n");
    assert!(status.success(), "{err}");

    let conf = |port: u16| {
        format!(
            "listener {port} 127.0.0.1\nallow_anonymous false\npassword_file {}\n",
            pw.display()
        )
    };
    let check = |port: u16| {
        let ok = |l: &str| l.contains("exit Some(0)");
        assert!(ok(&publish(port, "mqttv311", "alice", "t", "1")));
        assert!(ok(&publish(port, "mqttv5", "carol", "t", "1")));
        assert!(ok(&publish(port, "mqttv5", "dave:pw", "t", "1")));
        assert!(ok(&publish(port, "mqttv311", "erin:erinpw", "t", "1")));
        assert!(!ok(&publish(port, "mqttv5", "gone:x", "t", "1")));
    };
    let ours = start_ferro(dir.path(), &conf);
    check(ours.port);
    drop(ours);
    if let Some(theirs) = start_mosquitto(dir.path(), &conf) {
        check(theirs.port);
    }
}

#[test]
fn unsupported_options_stop_the_broker_unless_lenient() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("m.conf");
    let port = support::free_port();
    std::fs::write(
        &conf,
        format!("listener {port} 127.0.0.1\nallow_anonymous true\ncrlfile /x.pem\n"),
    )
    .unwrap();
    let c = conf.to_str().unwrap();
    let out = ferromq(&["broker", "-c", c]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(
        err.contains("line 3") && err.contains("crlfile") && err.contains("not supported yet"),
        "{err}"
    );
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ferromq"));
    cmd.args(["broker", "--lenient", "-c", c]);
    let b = FerroBroker::spawn(cmd, port, tempfile::tempdir().unwrap());
    assert!(
        b.log()
            .wait_for(&format!("listening on 127.0.0.1:{port}"), WAIT),
        "{}",
        b.log().text()
    );
    assert!(
        b.log()
            .text()
            .contains("line 3: option 'crlfile' is not supported yet")
    );
}

#[test]
fn pid_file_log_file_and_help() {
    let dir = tempfile::tempdir().unwrap();
    let (pid, log) = (dir.path().join("b.pid"), dir.path().join("b.log"));
    let conf = {
        let (pid, log) = (pid.clone(), log.clone());
        move |port: u16| {
            format!(
                "listener {port} 127.0.0.1\nallow_anonymous true\npid_file {}\n\
                 log_dest stderr\nlog_dest file {}\nlog_timestamp_format [%H:%M]\n",
                pid.display(),
                log.display()
            )
        }
    };
    let b = start_ferro(dir.path(), &conf);
    let child = b.pid().unwrap();
    let written = std::fs::read_to_string(&pid).unwrap();
    assert_eq!(written.trim(), child.to_string());
    let line = b.log().line(0).unwrap();
    assert!(
        line.starts_with('[') && line.as_bytes()[6] == b']',
        "{line}"
    );
    // SAFETY: kill(2) on our own running child.
    assert_eq!(
        unsafe { libc::kill(child as libc::pid_t, libc::SIGTERM) },
        0
    );
    assert!(b.log().wait_for("stopped:", WAIT), "{}", b.log().text());
    assert!(b.log().wait_closed(WAIT));
    assert!(!pid.exists(), "pid_file removed at exit");
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.contains("listening on 127.0.0.1") && text.contains("shutting down"),
        "{text}"
    );

    let help = ferromq(&["--help"]);
    let help = String::from_utf8_lossy(&help.stdout);
    for needle in [
        "broker",
        "passwd",
        "bench",
        "--config",
        "--lenient",
        "-U",
        "--mode",
    ] {
        assert!(help.contains(needle), "{needle} missing from:\n{help}");
    }
}

#[test]
fn dash_p_listens_on_the_loopback_port_as_mosquitto_does() {
    let mut last = String::new();
    for _ in 0..5 {
        let port = support::free_port();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ferromq"));
        cmd.args(["broker", "-p", &port.to_string(), "-v"]);
        let mut b = FerroBroker::spawn(cmd, port, tempfile::tempdir().unwrap());
        if !b
            .log()
            .wait_for(&format!("listening on 127.0.0.1:{port}"), WAIT)
        {
            last = b.log().text();
            b.kill();
            continue;
        }
        let text = b.log().text();
        assert!(!text.contains(":1883"), "-p replaces the default:\n{text}");
        let out = Command::new("mosquitto_pub")
            .args(["-h", "127.0.0.1", "-p", &port.to_string()])
            .args(["-i", "dash-p", "-t", "t", "-m", "x", "-q", "1"])
            .output()
            .expect("mosquitto_pub runs");
        assert!(out.status.success(), "{out:?}");
        assert!(
            b.log().wait_for("client 'dash-p'", WAIT),
            "{}",
            b.log().text()
        );
        b.kill();
        let bad = ferromq(&["broker", "-p", "not-a-port"]);
        assert!(!bad.status.success());
        assert!(String::from_utf8_lossy(&bad.stderr).contains("-p takes a port number"));
        return;
    }
    panic!("ferromq broker -p did not start:\n{last}");
}
