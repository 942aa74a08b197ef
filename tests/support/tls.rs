//! Certificates made by the test (rcgen) and a mosquitto with TLS,
//! client-certificate and WebSocket listeners on free loopback ports.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use rcgen::{
    BasicConstraints, Certificate, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};

use super::{Mosquitto, free_port};

/// Test certificates in a temp dir (removed on drop), readable by
/// mosquitto after it drops privileges.
pub struct Certs {
    pub dir: tempfile::TempDir,
}

impl Certs {
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The path as a string (for C arguments and config files).
    pub fn file(&self, name: &str) -> String {
        self.path(name).display().to_string()
    }
}

fn ca(name: &str) -> (Certificate, KeyPair) {
    let key = KeyPair::generate().expect("CA key");
    let mut p = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.distinguished_name.push(DnType::CommonName, name);
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let cert = p.self_signed(&key).expect("CA cert");
    (cert, key)
}

fn leaf(
    names: &[&str],
    usage: ExtendedKeyUsagePurpose,
    expired: bool,
    issuer: &(Certificate, KeyPair),
) -> (String, String) {
    let key = KeyPair::generate().expect("key");
    let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    let mut p = CertificateParams::new(names.clone()).expect("params");
    p.distinguished_name.push(
        DnType::CommonName,
        names.first().cloned().unwrap_or_default(),
    );
    p.extended_key_usages = vec![usage];
    if expired {
        p.not_before = rcgen::date_time_ymd(2020, 1, 1);
        p.not_after = rcgen::date_time_ymd(2021, 1, 1);
    }
    let cert = p.signed_by(&key, &issuer.0, &issuer.1).expect("sign");
    (cert.pem(), key.serialize_pem())
}

/// ca.pem (the trusted CA), other-ca.pem (a CA nobody uses), server.pem/key
/// (127.0.0.1 and localhost), other-name.pem/key (for 127.0.0.2 and
/// elsewhere.test only), expired.pem/key, client.pem/key, client-full.pem
/// (client certificate and key in one file), client-enc.key (the key as
/// encrypted PKCS#8) and client-legacy.key (in OpenSSL's legacy encrypted
/// PEM), both with the password "secret".
pub fn make_certs() -> Certs {
    let dir = tempfile::tempdir().expect("tempdir");
    let (ca_cert, ca_key) = ca("ferromq test CA");
    let (other_cert, _other_key) = ca("ferromq untrusted CA");
    let server = ExtendedKeyUsagePurpose::ServerAuth;
    let mut files = vec![
        ("ca.pem".to_string(), ca_cert.pem()),
        ("other-ca.pem".to_string(), other_cert.pem()),
    ];
    let issuer = (ca_cert, ca_key);
    for (name, names, usage, expired) in [
        (
            "server",
            &["127.0.0.1", "localhost"][..],
            server.clone(),
            false,
        ),
        (
            "other-name",
            &["127.0.0.2", "elsewhere.test"][..],
            server.clone(),
            false,
        ),
        ("expired", &["127.0.0.1", "localhost"][..], server, true),
        (
            "client",
            &["ferromq-test-client"][..],
            ExtendedKeyUsagePurpose::ClientAuth,
            false,
        ),
    ] {
        let (cert, key) = leaf(names, usage, expired, &issuer);
        if name == "client" {
            files.push(("client-full.pem".into(), format!("{cert}{key}")));
        }
        files.push((format!("{name}.pem"), cert));
        files.push((format!("{name}.key"), key));
    }
    for (name, text) in files {
        let p = dir.path().join(name);
        std::fs::write(&p, text).expect("write cert");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    }
    // client-enc.key: the client key as encrypted PKCS#8 (password
    // "secret"), made by the openssl command as users make theirs.
    let out = Command::new("openssl")
        .args([
            "pkcs8",
            "-topk8",
            "-v2",
            "aes-256-cbc",
            "-passout",
            "pass:secret",
            "-in",
        ])
        .arg(dir.path().join("client.key"))
        .arg("-out")
        .arg(dir.path().join("client-enc.key"))
        .output()
        .expect("run openssl (package openssl)");
    assert!(
        out.status.success(),
        "openssl pkcs8: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // client-legacy.key: the same key in OpenSSL's legacy encrypted PEM
    // (`Proc-Type: 4,ENCRYPTED`, AES-256-CBC, password "secret"), as
    // `openssl ec -aes256` and OpenSSL 1.x write keys.
    let out = Command::new("openssl")
        .args(["ec", "-aes256", "-passout", "pass:secret", "-in"])
        .arg(dir.path().join("client.key"))
        .arg("-out")
        .arg(dir.path().join("client-legacy.key"))
        .output()
        .expect("run openssl (package openssl)");
    assert!(
        out.status.success(),
        "openssl ec: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::set_permissions(
        dir.path().join("client-legacy.key"),
        std::fs::Permissions::from_mode(0o644),
    )
    .expect("chmod");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    Certs { dir }
}

/// mosquitto with one listener of each kind the TLS tests need.
pub struct TlsBroker {
    pub broker: Mosquitto,
    /// TLS, server cert for 127.0.0.1/localhost.
    pub tls: u16,
    /// TLS requiring a client certificate signed by the CA.
    pub client_cert: u16,
    /// TLS with a certificate for another name.
    pub wrong_name: u16,
    /// TLS with an expired certificate.
    pub expired: u16,
    /// Plain WebSockets.
    pub ws: u16,
    /// WebSockets over TLS.
    pub wss: u16,
    /// A Unix domain socket listener.
    pub unix: PathBuf,
    pub certs: Certs,
}

impl TlsBroker {
    pub fn start() -> TlsBroker {
        let certs = make_certs();
        let mut last = String::new();
        for _ in 0..5 {
            let ports: Vec<u16> = (0..6).map(|_| free_port()).collect();
            let f = |n: &str| certs.file(n);
            let tls = |port: u16, cert: &str, extra: &str| {
                format!(
                    "listener {port} 127.0.0.1\ncafile {}\ncertfile {}\nkeyfile {}\n{extra}",
                    f("ca.pem"),
                    f(&format!("{cert}.pem")),
                    f(&format!("{cert}.key"))
                )
            };
            let dir = tempfile::tempdir().expect("tempdir");
            let conf = dir.path().join("mosquitto.conf");
            let unix = dir.path().join("mqtt.sock");
            let text = [
                "per_listener_settings false\nallow_anonymous true\npersistence false\n\
                 log_dest stderr\nlog_type all\nconnection_messages true\n"
                    .to_string(),
                tls(ports[0], "server", ""),
                tls(
                    ports[1],
                    "server",
                    "require_certificate true\nuse_identity_as_username true\n",
                ),
                tls(ports[2], "other-name", ""),
                tls(ports[3], "expired", ""),
                format!("listener {} 127.0.0.1\nprotocol websockets\n", ports[4]),
                tls(ports[5], "server", "protocol websockets\n"),
                format!("listener 0 {}\n", unix.display()),
            ]
            .join("");
            std::fs::write(&conf, text).expect("write conf");
            // mosquitto binds the Unix socket after dropping privileges.
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777))
                .expect("chmod");
            std::fs::set_permissions(&conf, std::fs::Permissions::from_mode(0o644)).expect("chmod");
            let mut cmd = Command::new(super::MOSQUITTO);
            cmd.arg("-c").arg(&conf).arg("-v");
            let mut broker = Mosquitto::spawn(cmd, ports[0], dir);
            if broker.log().wait_for(" running", Duration::from_secs(10)) {
                return TlsBroker {
                    broker,
                    tls: ports[0],
                    client_cert: ports[1],
                    wrong_name: ports[2],
                    expired: ports[3],
                    ws: ports[4],
                    wss: ports[5],
                    unix,
                    certs,
                };
            }
            last = broker.log().text();
            broker.kill();
        }
        panic!("mosquitto with TLS listeners did not start:\n{last}");
    }
}

/// True when a file exists (for skip messages).
pub fn exists(p: &str) -> bool {
    Path::new(p).exists()
}
