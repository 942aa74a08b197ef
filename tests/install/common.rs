//! Shared pieces of tests/install.rs: building the Paho-named libraries
//! once, `make install` into a temporary DESTDIR, our broker from that
//! install, and running or inspecting the programs built against it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use crate::support::{self, Running};

/// Where the tests install (inside their DESTDIR), as a user would.
pub const PREFIX: &str = "/usr/local";
/// Paho's library names, all provided by our library.
pub const NAMES: &[&str] = &["paho-mqtt3c", "paho-mqtt3a", "paho-mqtt3cs", "paho-mqtt3as"];
pub const PAHO_VERSION: &str = "1.3.12";
/// Bound on every wait for a program's output.
pub const WAIT: Duration = Duration::from_secs(30);
/// Function-name prefixes of the public C API; nothing else may be exported.
pub const API_PREFIXES: &[&str] = &[
    "MQTTClient_",
    "MQTTAsync_",
    "MQTTProperties_",
    "MQTTProperty",
    "MQTTResponse_free",
    "MQTTReasonCode_toString",
    "MQTTPersistence_",
    "MQTTBroker_",
];

/// The cargo target directory the test binary was built in
/// (target/<profile>/deps/<test> -> target).
pub fn target_dir() -> PathBuf {
    support::ferromq_lib_dir()
        .parent()
        .expect("target dir")
        .to_path_buf()
}

/// `make -f mk/install.mk` with a clean make environment (no jobserver from
/// an outer make) and our target dir.
pub fn make() -> Command {
    let mut cmd = Command::new("make");
    cmd.arg("--no-print-directory")
        .arg("-f")
        .arg(support::manifest_dir().join("mk/install.mk"))
        .env("CARGO_TARGET_DIR", target_dir())
        .env_remove("MAKEFLAGS")
        .env_remove("MFLAGS")
        .env_remove("MAKELEVEL");
    cmd
}

/// Panic with everything a failed command said.
pub fn check(what: &str, out: &Output) {
    assert!(
        out.status.success(),
        "{what} failed: {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// True when `tool` runs (`tool --version`); otherwise print a SKIP line.
pub fn have(tool: &str) -> bool {
    let ok = Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        support::skip(&format!("{tool} is not installed"));
    }
    ok
}

/// Build the release library and the Paho-named libraries once per test
/// binary (cargo and make decide what is out of date).
pub fn build_once() {
    static BUILT: OnceLock<Result<(), String>> = OnceLock::new();
    let result = BUILT.get_or_init(|| {
        let mut cmd = make();
        cmd.arg("paho-libs");
        let out = support::run_with_timeout(cmd, 1800);
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "make paho-libs failed: {}\n{}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// One `make install` into a temporary DESTDIR, removed on drop.
pub struct Install {
    pub destdir: tempfile::TempDir,
}

impl Install {
    pub fn new() -> Install {
        build_once();
        // Installs only copy files, but each also asks cargo whether the
        // crate is current; one at a time keeps those quick and quiet.
        static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
        let _guard = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
        let destdir = tempfile::tempdir().expect("tempdir");
        let mut cmd = make();
        cmd.arg("install")
            .arg(format!("PREFIX={PREFIX}"))
            .arg(format!("DESTDIR={}", destdir.path().display()));
        check("make install", &support::run_with_timeout(cmd, 600));
        Install { destdir }
    }

    /// `make uninstall` with the same PREFIX and DESTDIR.
    pub fn uninstall(&self) {
        let mut cmd = make();
        cmd.arg("uninstall")
            .arg(format!("PREFIX={PREFIX}"))
            .arg(format!("DESTDIR={}", self.destdir.path().display()));
        check("make uninstall", &support::run_with_timeout(cmd, 120));
    }

    /// $DESTDIR$PREFIX.
    pub fn root(&self) -> PathBuf {
        self.destdir.path().join(PREFIX.trim_start_matches('/'))
    }

    pub fn lib(&self) -> PathBuf {
        self.root().join("lib")
    }

    pub fn include(&self) -> PathBuf {
        self.root().join("include")
    }

    pub fn pkgconfig(&self) -> PathBuf {
        self.lib().join("pkgconfig")
    }

    /// A command that runs `program` on the installed libraries.
    pub fn command(&self, program: &Path) -> Command {
        let mut cmd = Command::new(program);
        cmd.env("LD_LIBRARY_PATH", self.lib());
        cmd
    }

    /// Our broker, as installed in $PREFIX/bin.
    pub fn broker(&self) -> Broker {
        Broker::start(&self.root().join("bin/ferromq"))
    }
}

/// `ferromq broker` on an ephemeral port of 127.0.0.1, killed on drop.
pub struct Broker {
    pub running: Running,
    pub port: u16,
}

impl Broker {
    pub fn start(exe: &Path) -> Broker {
        let mut cmd = Command::new(exe);
        cmd.args(["broker", "--listen", "127.0.0.1:0"]);
        let mut running = Running::spawn(cmd, 600);
        let needle = "listening on 127.0.0.1:";
        let Some(i) = running.stderr.wait_for_from(0, needle, WAIT) else {
            running.kill();
            panic!("broker did not start:\n{}", running.stderr.text());
        };
        let text = running.stderr.text();
        let line = text.lines().nth(i).unwrap_or_default();
        let port = line
            .rsplit(':')
            .next()
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or_else(|| panic!("no port in {line:?}"));
        Broker { running, port }
    }

    pub fn uri(&self) -> String {
        format!("tcp://127.0.0.1:{}", self.port)
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        self.running.kill();
    }
}

/// Run tests/install/client.c's program against `broker`: it must report
/// FerroMQ as its library and get its own message back.
pub fn run_client(mut cmd: Command, broker: &Broker, id: &str) {
    let topic = format!("install/{id}");
    cmd.args([broker.uri().as_str(), &topic, id]);
    let out = support::run_with_timeout(cmd, 60);
    check(id, &out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("Product name: FerroMQ"),
        "{id} did not load FerroMQ's library:\n{stdout}"
    );
    assert!(
        stdout.contains(&format!("received on {topic}: hello from {id}")),
        "{id} did not get its message back:\n{stdout}"
    );
}

/// The fixture projects' directory.
pub fn fixtures() -> PathBuf {
    support::manifest_dir().join("tests/install")
}

/// Strict C flags for the fixtures, so the installed headers compile cleanly.
pub const STRICT_CFLAGS: &str = "-O1 -Wall -Wextra -Werror";

/// Build `target` of the fixture Makefile in `build`, as a user would with
/// the install's include and lib directories.
pub fn make_fixture(install: &Install, build: &Path, target: &str) -> PathBuf {
    let mut cmd = Command::new("make");
    cmd.arg("--no-print-directory")
        .arg("-f")
        .arg(fixtures().join("make/Makefile"))
        .arg(target)
        .arg(format!("CFLAGS={STRICT_CFLAGS}"))
        .arg(format!("CPPFLAGS=-I{}", install.include().display()))
        .arg(format!("LDFLAGS=-L{}", install.lib().display()))
        .env("PKG_CONFIG_PATH", install.pkgconfig())
        .env_remove("PKG_CONFIG_LIBDIR")
        .env_remove("MAKEFLAGS")
        .env_remove("MAKELEVEL")
        .current_dir(build);
    check(
        &format!("make {target}"),
        &support::run_with_timeout(cmd, 300),
    );
    build.join(target)
}

/// The shared libraries a program or library depends on, and its SONAME.
pub fn dynamic_section(file: &Path) -> (Vec<String>, Option<String>) {
    let mut cmd = Command::new("readelf");
    cmd.arg("-d").arg(file);
    let out = support::run_with_timeout(cmd, 60);
    check("readelf -d", &out);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let bracketed = |line: &str| {
        let start = line.find('[')? + 1;
        let end = line.rfind(']')?;
        line.get(start..end).map(str::to_string)
    };
    let needed = text
        .lines()
        .filter(|l| l.contains("(NEEDED)"))
        .filter_map(bracketed)
        .collect();
    let soname = text
        .lines()
        .find(|l| l.contains("(SONAME)"))
        .and_then(bracketed);
    (needed, soname)
}

/// Function names declared in the installed headers: with LIBMQTT_API (the
/// exported API proper) and all of them.
pub fn declared_functions(include: &Path) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut api = BTreeSet::new();
    let mut all = BTreeSet::new();
    for entry in std::fs::read_dir(include).expect("include dir") {
        let path = entry.expect("entry").path();
        let text = std::fs::read_to_string(&path).expect("read header");
        for line in text.lines() {
            let line = line.trim();
            if line.starts_with("typedef") || line.starts_with('#') || line.starts_with('*') {
                continue;
            }
            let Some(open) = line.find('(') else { continue };
            let head = line[..open].trim_end();
            let name_start = head
                .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .map_or(0, |i| i + 1);
            let name = &head[name_start..];
            if !name.starts_with("MQTT") {
                continue;
            }
            if line.starts_with("LIBMQTT_API") {
                api.insert(name.to_string());
            }
            all.insert(name.to_string());
        }
    }
    (api, all)
}
