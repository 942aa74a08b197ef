//! TLS connects from C (MQTTClient and MQTTAsync), case by case, on
//! Debian's libpaho-mqtt3cs/3as (the reference) and on FerroMQ (the same
//! Paho-built binary on our library under Paho's names, and the program
//! built on our headers): a good server, client certificates, ws:// and
//! wss://, proxies, and every bad certificate case must give the same
//! return code promptly, with a QoS 1 round trip when it connects.

mod support;

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use support::tls::TlsBroker;
use support::{CBuild, Mosquitto};

/// How long a connect may take; every case here must end well before the
/// program's 10 s connect timeout.
const PROMPT: Duration = Duration::from_secs(5);

struct Case {
    name: &'static str,
    /// Which listener.
    port: fn(&TlsBroker) -> u16,
    scheme: &'static str,
    ca: &'static str,
    key_store: &'static str,
    key: &'static str,
    verify: &'static str,
    ssl_version: &'static str,
    ciphers: &'static str,
    key_password: &'static str,
    /// SSL_CERT_FILE names the test CA: the "system" store of both
    /// OpenSSL and FerroMQ.
    system_store: bool,
    /// Environment variables naming an HTTP proxy: `proxy` is replaced by
    /// the test proxy's address, `dead` by a port nothing listens on.
    env: &'static [(&'static str, &'static str)],
    /// Where FerroMQ departs from Paho on purpose: our code
    /// (SSL_NOT_SUPPORTED is written as MQTTClient's -10; MQTTAsync's is -13).
    ours: Option<i32>,
}

const fn case(name: &'static str, port: fn(&TlsBroker) -> u16) -> Case {
    Case {
        name,
        port,
        scheme: "ssl",
        ca: "ca.pem",
        key_store: "-",
        key: "-",
        verify: "1",
        ssl_version: "0",
        ciphers: "-",
        key_password: "-",
        system_store: false,
        env: &[],
        ours: None,
    }
}

fn cases() -> Vec<Case> {
    vec![
        case("good server", |b| b.tls),
        Case {
            scheme: "mqtts",
            ..case("mqtts scheme", |b| b.tls)
        },
        Case {
            ca: "other-ca.pem",
            ..case("wrong CA", |b| b.tls)
        },
        // The program sets disableDefaultTrustStore from SSLOptions version
        // 4 on: there (v5) this fails, at v3 the system store is used.
        Case {
            ca: "-",
            system_store: true,
            ..case("no trustStore, system store", |b| b.tls)
        },
        Case {
            scheme: "ws",
            ..case("WebSocket", |b| b.ws)
        },
        Case {
            env: &[("https_proxy", "proxy"), ("http_proxy", "dead")],
            ..case("https_proxy", |b| b.tls)
        },
        Case {
            scheme: "ws",
            env: &[("http_proxy", "proxy"), ("https_proxy", "dead")],
            ..case("http_proxy, WebSocket", |b| b.ws)
        },
        Case {
            scheme: "wss",
            env: &[("https_proxy", "proxy")],
            ..case("https_proxy, WebSocket over TLS", |b| b.wss)
        },
        // Debian's Paho 1.3.11 ignores no_proxy and fails on the dead
        // proxy; Paho 1.3.12 and FerroMQ connect directly.
        Case {
            env: &[("https_proxy", "dead"), ("no_proxy", "localhost,127.0.0.1")],
            ours: Some(0),
            ..case("no_proxy", |b| b.tls)
        },
        Case {
            scheme: "wss",
            ..case("WebSocket over TLS", |b| b.wss)
        },
        Case {
            scheme: "wss",
            ca: "other-ca.pem",
            ..case("WebSocket over TLS, wrong CA", |b| b.wss)
        },
        case("host name mismatch", |b| b.wrong_name),
        Case {
            verify: "0",
            ..case("host name mismatch without verify", |b| b.wrong_name)
        },
        case("expired server certificate", |b| b.expired),
        case("missing client certificate", |b| b.client_cert),
        Case {
            key_store: "client.pem",
            key: "client.key",
            ..case("client certificate", |b| b.client_cert)
        },
        Case {
            key_store: "client.pem",
            key: "client-enc.key",
            key_password: "secret",
            ..case("encrypted client key", |b| b.client_cert)
        },
        Case {
            key_store: "client.pem",
            key: "client-enc.key",
            key_password: "wrong",
            ..case("encrypted client key, wrong password", |b| b.client_cert)
        },
        Case {
            key_store: "client.pem",
            key: "client-legacy.key",
            key_password: "secret",
            ..case("legacy encrypted client key", |b| b.client_cert)
        },
        Case {
            key_store: "client.pem",
            key: "client-legacy.key",
            key_password: "wrong",
            ..case("legacy encrypted client key, wrong password", |b| {
                b.client_cert
            })
        },
        Case {
            key_store: "client-full.pem",
            ..case("client certificate and key in one file", |b| b.client_cert)
        },
        Case {
            ssl_version: "3",
            ..case("TLS 1.2 asked", |b| b.tls)
        },
        Case {
            ciphers: "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256",
            ..case("cipher list", |b| b.tls)
        },
        Case {
            ciphers: "NOT-A-CIPHER",
            ..case("bad cipher list", |b| b.tls)
        },
        // Paho's OpenSSL takes 1.1 as the lowest version and still connects
        // with 1.3; rustls has no TLS 1.0/1.1, and a program asking for them
        // is told so (SSL_NOT_SUPPORTED) rather than silently upgraded.
        Case {
            ssl_version: "2",
            ours: Some(-10),
            ..case("TLS 1.1 asked", |b| b.tls)
        },
    ]
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Outcome {
    rc: i32,
    roundtrip: bool,
    /// ssl_error_cb was called with a reason (SSLOptions version 3+).
    error_cb: bool,
}

fn run(
    exe: &PathBuf,
    names_dir: Option<&std::path::Path>,
    args: &[String],
    system_ca: Option<&std::path::Path>,
    env: &[(String, String)],
) -> (Outcome, String) {
    let mut cmd = Command::new(exe);
    cmd.args(args)
        .env_remove("LD_LIBRARY_PATH")
        .env_remove("SSL_CERT_FILE")
        .env_remove("SSL_CERT_DIR");
    for v in [
        "http_proxy",
        "https_proxy",
        "no_proxy",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "NO_PROXY",
    ] {
        cmd.env_remove(v);
    }
    cmd.envs(env.iter().map(|(k, v)| (k, v)));
    if let Some(ca) = system_ca {
        cmd.env("SSL_CERT_FILE", ca);
    }
    if let Some(d) = names_dir {
        cmd.env("LD_LIBRARY_PATH", d);
    }
    let start = Instant::now();
    let out = support::run_with_timeout(cmd, 60);
    let took = start.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let text = format!(
        "{stdout}{}(exit {:?}, {took:?})",
        String::from_utf8_lossy(&out.stderr),
        out.status
    );
    let rc = stdout
        .lines()
        .find_map(|l| l.strip_prefix("rc="))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no rc from {args:?}: {text}"));
    assert!(out.status.success(), "{args:?} failed: {text}");
    let outcome = Outcome {
        rc,
        roundtrip: stdout.contains("roundtrip=ok"),
        error_cb: stdout.contains("errcb=1"),
    };
    if rc != 0 {
        assert!(
            took < PROMPT,
            "{args:?}: a failing connect took {took:?}: {text}"
        );
    }
    (outcome, text)
}

/// Build `program` (tests/c/PROGRAM.c) on our library or on `paho_lib`.
fn build(out: &std::path::Path, program: &str, paho_lib: &str, ours: bool) {
    let source = support::manifest_dir().join(format!("tests/c/{program}.c"));
    let mut b = CBuild {
        sources: vec![source],
        include_dirs: vec![support::manifest_dir().join("tests/c")],
        ..CBuild::default()
    };
    if ours {
        b.include_dirs
            .insert(0, support::manifest_dir().join("include"));
        b.defines.push("FERROMQ".into());
        b.lib_dirs.push(support::ferromq_lib_dir());
        b.libs.push("ferromq".into());
    } else {
        b.libs.push(paho_lib.into());
    }
    b.build(out);
}

/// Every case through `program`, built for Paho's `paho_lib` and for ours.
fn compare(program: &str, paho_lib: &str, ssl_not_supported: i32) {
    if !Mosquitto::available() {
        support::skip("mosquitto is not installed (/usr/sbin/mosquitto)");
        return;
    }
    if !std::path::Path::new(support::PAHO_HEADER).exists() {
        support::skip("Paho C headers are not installed (libpaho-mqtt-dev)");
        return;
    }
    let work = tempfile::tempdir().expect("tempdir");
    let paho_exe = work.path().join(format!("{program}_paho"));
    let ours_exe = work.path().join(format!("{program}_ferromq"));
    build(&paho_exe, program, paho_lib, false);
    build(&ours_exe, program, paho_lib, true);
    let names = support::paho_names_dir();
    let broker = TlsBroker::start();
    let proxy = support::proxy::Proxy::start(None);
    // A port nothing listens on (a proxy that must not be used).
    let dead = support::free_port();
    let mut report = Vec::new();
    let mut failures = Vec::new();
    for c in cases() {
        for ssl_struct in ["5", "3"] {
            let file = |n: &str| {
                if n == "-" {
                    n.to_string()
                } else {
                    broker.certs.file(n)
                }
            };
            let args = vec![
                format!("{}://127.0.0.1:{}", c.scheme, (c.port)(&broker)),
                file(c.ca),
                file(c.key_store),
                file(c.key),
                c.verify.to_string(),
                c.ssl_version.to_string(),
                c.ciphers.to_string(),
                ssl_struct.to_string(),
                c.key_password.to_string(),
            ];
            let system_ca = c.system_store.then(|| broker.certs.path("ca.pem"));
            let system_ca = system_ca.as_deref();
            let env: Vec<(String, String)> = c
                .env
                .iter()
                .map(|(k, v)| {
                    let v = match *v {
                        // Paho 1.3.11 strips only "https://" from https_proxy,
                        // so the bare form is the one both understand.
                        "proxy" => format!("127.0.0.1:{}", proxy.port),
                        "dead" => format!("127.0.0.1:{dead}"),
                        other => other.to_string(),
                    };
                    (k.to_string(), v)
                })
                .collect();
            let tunnels = proxy.requests().len();
            let (paho, paho_text) = run(&paho_exe, None, &args, system_ca, &env);
            let paho_tunnels = proxy.requests().len() - tunnels;
            // Return code and round trip as Paho; ssl_error_cb with a reason
            // on every TLS failure (Paho calls it only for errors OpenSSL
            // queues, so not for a host name mismatch or a missing client
            // certificate).
            let rc = match c.ours {
                Some(-10) => ssl_not_supported,
                Some(rc) => rc,
                None => paho.rc,
            };
            let want = Outcome {
                rc,
                roundtrip: if c.ours.is_some() {
                    rc == 0
                } else {
                    paho.roundtrip
                },
                error_cb: rc != 0 && ssl_struct != "2",
            };
            for (what, exe, dir) in [
                ("Paho binary on FerroMQ", &paho_exe, Some(names.path())),
                ("built on FerroMQ", &ours_exe, None),
            ] {
                let before = proxy.requests().len();
                let (got, text) = run(exe, dir, &args, system_ca, &env);
                let tunnels = proxy.requests().len() - before;
                if tunnels != paho_tunnels {
                    failures.push(format!(
                        "{} (v{ssl_struct}), {what}: {tunnels} tunnels through the proxy, \
                         Paho {paho_tunnels}",
                        c.name
                    ));
                }
                report.push(format!(
                    "{} (SSLOptions v{ssl_struct}): Paho {:?}, {what} {:?}",
                    c.name, paho, got
                ));
                if got != want {
                    failures.push(format!(
                        "{} (v{ssl_struct}), {what}: want {want:?}, got {got:?}\n  ours: {text}\n  \
                         Paho: {paho_text}",
                        c.name
                    ));
                }
            }
        }
    }
    println!("{}", report.join("\n"));
    assert!(
        failures.is_empty(),
        "{}\n--- broker log\n{}",
        failures.join("\n"),
        broker.broker.log().text()
    );
}

#[test]
fn mqttclient_cases_match_paho() {
    compare("tls_connect", "paho-mqtt3cs", -10);
}

#[test]
fn mqttasync_cases_match_paho() {
    compare("tls_connect_async", "paho-mqtt3as", -13);
}

/// Our library under valgrind through TLS, WebSocket-over-TLS, an
/// encrypted key and a failed handshake: no leak, no invalid access.
/// Uninitialised-value tracking is off here: ring's assembly (SHA, AES-GCM)
/// makes memcheck report its digests and records as undefined (origin: a
/// stack buffer in ring's hash finish), which would need suppressions over
/// our own frames; tests/c_client.rs keeps that check for everything else.
#[test]
fn mqttclient_tls_under_valgrind() {
    if !Mosquitto::available() {
        support::skip("mosquitto is not installed (/usr/sbin/mosquitto)");
        return;
    }
    if !support::valgrind::available() {
        support::skip("valgrind is not installed (apt-get install valgrind)");
        return;
    }
    let work = tempfile::tempdir().expect("tempdir");
    let exe = work.path().join("tls_connect_ferromq");
    build(&exe, "tls_connect", "paho-mqtt3cs", true);
    let broker = TlsBroker::start();
    let f = |n: &str| broker.certs.file(n);
    let cases = [
        ("ssl", broker.tls, "ca.pem", "-", "-", "-", 0),
        ("wss", broker.wss, "ca.pem", "-", "-", "-", 0),
        (
            "ssl",
            broker.client_cert,
            "ca.pem",
            "client.pem",
            "client-enc.key",
            "secret",
            0,
        ),
        ("ssl", broker.tls, "other-ca.pem", "-", "-", "-", -1),
    ];
    for (scheme, port, ca, cert, key, pass, want) in cases {
        let file = |n: &str| if n == "-" { n.to_string() } else { f(n) };
        let mut cmd = Command::new("valgrind");
        cmd.args([
            "--tool=memcheck",
            "--quiet",
            "--undef-value-errors=no",
            &format!("--error-exitcode={}", support::valgrind::ERROR_EXIT_CODE),
            "--leak-check=full",
            "--show-leak-kinds=definite,indirect",
            "--errors-for-leak-kinds=definite,indirect",
        ])
        .arg(format!(
            "--suppressions={}",
            support::valgrind::suppressions().display()
        ))
        .arg(&exe)
        .arg(format!("{scheme}://127.0.0.1:{port}"))
        .args([file(ca), file(cert), file(key)])
        .args(["1", "0", "-", "5", pass])
        .env_remove("LD_LIBRARY_PATH");
        let out = support::run_with_timeout(cmd, 180);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        support::valgrind::check("tls_connect", &out.status, &stderr);
        assert!(
            out.status.success() && stdout.contains(&format!("rc={want}\n")),
            "{scheme}:{port} {ca}: {}\n{stdout}{stderr}",
            out.status
        );
    }
}
