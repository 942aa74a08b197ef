//! `make install` as a Paho C user meets it: each test installs into its own
//! temporary DESTDIR, then builds or runs a Paho C program against that tree —
//! CMake's find_package, a plain Makefile (-l and pkg-config), static linking,
//! the exported symbols, and Debian's prebuilt Paho programs on our broker.

#[path = "install/common.rs"]
mod common;
mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use support::Running;

#[test]
fn libraries_have_paho_names_sonames_and_links() {
    let install = Install::new();
    let lib = install.lib();
    for name in NAMES {
        let full = format!("lib{name}.so.{PAHO_VERSION}");
        let major = format!("lib{name}.so.1");
        let dev = format!("lib{name}.so");
        let link = |from: &str| std::fs::read_link(lib.join(from)).ok();
        assert_eq!(link(&dev), Some(PathBuf::from(&major)), "{dev}");
        assert_eq!(link(&major), Some(PathBuf::from(&full)), "{major}");
        let (needed, soname) = dynamic_section(&lib.join(&full));
        assert_eq!(soname.as_deref(), Some(major.as_str()), "SONAME of {full}");
        assert!(
            needed.iter().all(|n| !n.contains("ferromq")),
            "{full} needs {needed:?}"
        );
        assert!(lib.join(format!("lib{name}.a")).is_file(), "lib{name}.a");
        assert!(
            install.pkgconfig().join(format!("{name}.pc")).is_file(),
            "{name}.pc"
        );
    }
    // The command and every header of include/.
    assert!(install.root().join("bin/ferromq").is_file());
    for entry in std::fs::read_dir(support::manifest_dir().join("include")).expect("include/") {
        let name = entry.expect("entry").file_name();
        assert!(install.include().join(&name).is_file(), "{name:?}");
    }
}

#[test]
fn libraries_export_exactly_the_c_api() {
    let install = Install::new();
    let (api, declared) = declared_functions(&install.include());
    assert!(
        api.contains("MQTTClient_create") && api.contains("MQTTProperties_add"),
        "header scan found too little: {api:?}"
    );
    // The shared libraries' dynamic symbols, and the static archives'
    // global ones (only the API stays global in them).
    let files = NAMES.iter().flat_map(|name| {
        [
            (format!("lib{name}.so.1"), "-D"),
            (format!("lib{name}.a"), "-g"),
        ]
    });
    for (name, scope) in files {
        let mut cmd = Command::new("nm");
        cmd.args([scope, "--defined-only"])
            .arg(install.lib().join(&name));
        let out = support::run_with_timeout(cmd, 60);
        check(&format!("nm {scope} --defined-only {name}"), &out);
        let exported: BTreeSet<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.split_whitespace().nth(2))
            .map(str::to_string)
            .collect();
        let foreign: Vec<_> = exported
            .iter()
            .filter(|s| !API_PREFIXES.iter().any(|p| s.starts_with(p)))
            .collect();
        assert!(
            foreign.is_empty(),
            "{name} exports non-API symbols: {foreign:?}"
        );
        let undeclared: Vec<_> = exported.difference(&declared).collect();
        assert!(
            undeclared.is_empty(),
            "{name} exports functions no header declares: {undeclared:?}"
        );
        let missing: Vec<_> = api.difference(&exported).collect();
        assert!(missing.is_empty(), "{name} lacks {missing:?}");
    }
}

/// A header with every shape that must not count as an exported function
/// (comments, macros, typedefs, struct fields) and the ones that must.
const GENERATOR_PROBE: &str = r#"
#define LIBMQTT_API __attribute__((visibility("default")))
/* MQTTProbe_inBlockComment(int x); */
// MQTTProbe_inLineComment(void);
#define MQTTProbe_macro(x) (x)
#define MQTTProbe_multiLine(a, b) \
    MQTTProbe_continued(a, b)
typedef int MQTTProbe_callback(void *context);
typedef int (*MQTTProbe_pointer)(void *context);
typedef struct { int (*fn)(void); int MQTTProbe_field; } MQTTProbe_struct;
#if 0
LIBMQTT_API int MQTTProbe_disabled(void);
#endif
LIBMQTT_API int MQTTProbe_plain(void);
LIBMQTT_API const char *MQTTProbe_returnsPointer(int code);
int
MQTTProbe_splitOverLines(int a,
                         int b);
MQTTProbe_struct MQTTProbe_returnsStruct(void);
int notOurs(void);
"#;

#[test]
fn export_list_follows_the_headers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let header = dir.path().join("MQTTProbe.h");
    std::fs::write(&header, GENERATOR_PROBE).expect("write header");
    let mut cmd = Command::new(support::manifest_dir().join("packaging/gen-exports.sh"));
    cmd.arg(support::c_compiler().path())
        .arg(dir.path())
        .arg(&header);
    let out = support::run_with_timeout(cmd, 60);
    check("gen-exports.sh", &out);
    let map = String::from_utf8_lossy(&out.stdout).into_owned();
    let global: Vec<&str> = map
        .split("global:")
        .nth(1)
        .and_then(|rest| rest.split("local:").next())
        .unwrap_or_default()
        .split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    assert_eq!(
        global,
        [
            "MQTTProbe_plain",
            "MQTTProbe_returnsPointer",
            "MQTTProbe_returnsStruct",
            "MQTTProbe_splitOverLines"
        ],
        "{map}"
    );
    assert!(
        map.contains("local:\n    *;"),
        "everything else is local:\n{map}"
    );
}

#[test]
fn cmake_find_package_builds_and_runs() {
    if !have("cmake") {
        return;
    }
    let install = Install::new();
    let build = tempfile::tempdir().expect("tempdir");
    let mut configure = Command::new("cmake");
    configure
        .arg("-S")
        .arg(fixtures().join("cmake"))
        .arg("-B")
        .arg(build.path())
        .arg(format!("-DCMAKE_PREFIX_PATH={}", install.root().display()))
        .arg(format!("-DCMAKE_C_FLAGS={STRICT_CFLAGS}"))
        .env_remove("MAKEFLAGS");
    check(
        "cmake configure",
        &support::run_with_timeout(configure, 300),
    );
    let mut compile = Command::new("cmake");
    compile
        .arg("--build")
        .arg(build.path())
        .env_remove("MAKEFLAGS");
    check("cmake --build", &support::run_with_timeout(compile, 300));

    let broker = install.broker();
    let shared = build.path().join("client_shared");
    let (needed, _) = dynamic_section(&shared);
    assert!(
        needed.iter().any(|n| n == "libpaho-mqtt3c.so.1"),
        "{needed:?}"
    );
    run_client(install.command(&shared), &broker, "cmake-shared");
    let static_exe = build.path().join("client_static");
    let (needed, _) = dynamic_section(&static_exe);
    assert!(!needed.iter().any(|n| n.contains("paho")), "{needed:?}");
    run_client(Command::new(static_exe), &broker, "cmake-static");
}

#[test]
fn cmake_package_version_is_checked() {
    if !have("cmake") {
        return;
    }
    let install = Install::new();
    let cmake_dir = install.lib().join("cmake/eclipse-paho-mqtt-c");
    // A project without languages: configuring it only runs find_package.
    let project = tempfile::tempdir().expect("tempdir");
    let body = format!(
        "cmake_minimum_required(VERSION 3.13)\n\
         project(version_check NONE)\n\
         set(eclipse-paho-mqtt-c_DIR \"{}\")\n\
         find_package(eclipse-paho-mqtt-c 1.3 QUIET)\n\
         message(STATUS \"want-1.3=${{eclipse-paho-mqtt-c_FOUND}} ${{eclipse-paho-mqtt-c_VERSION}}\")\n\
         find_package(eclipse-paho-mqtt-c 2.0 QUIET)\n\
         message(STATUS \"want-2.0=${{eclipse-paho-mqtt-c_FOUND}}\")\n\
         find_package(eclipse-paho-mqtt-c 1.9 QUIET)\n\
         message(STATUS \"want-1.9=${{eclipse-paho-mqtt-c_FOUND}}\")\n",
        cmake_dir.display()
    );
    std::fs::write(project.path().join("CMakeLists.txt"), body).expect("write CMakeLists.txt");
    let mut cmd = Command::new("cmake");
    cmd.arg("-S")
        .arg(project.path())
        .arg("-B")
        .arg(project.path().join("build"));
    let out = support::run_with_timeout(cmd, 120);
    check("cmake configure", &out);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!("want-1.3=1 {PAHO_VERSION}")),
        "{text}"
    );
    assert!(text.contains("want-2.0=0"), "{text}");
    assert!(text.contains("want-1.9=0"), "{text}");
}

#[test]
fn makefile_with_dash_l_builds_and_runs() {
    let install = Install::new();
    let build = tempfile::tempdir().expect("tempdir");
    let exe = make_fixture(&install, build.path(), "client");
    let broker = install.broker();
    run_client(install.command(&exe), &broker, "make-l");
}

#[test]
fn makefile_with_pkg_config_builds_and_runs() {
    if !have("pkg-config") {
        return;
    }
    let install = Install::new();
    let mut cmd = Command::new("pkg-config");
    cmd.args([
        "--modversion",
        "paho-mqtt3c",
        "paho-mqtt3a",
        "paho-mqtt3cs",
        "paho-mqtt3as",
    ])
    .env("PKG_CONFIG_PATH", install.pkgconfig());
    let out = support::run_with_timeout(cmd, 60);
    check("pkg-config --modversion", &out);
    let versions = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(versions.lines().collect::<Vec<_>>(), [PAHO_VERSION; 4]);

    let build = tempfile::tempdir().expect("tempdir");
    let exe = make_fixture(&install, build.path(), "client-pkgconfig");
    let broker = install.broker();
    run_client(install.command(&exe), &broker, "make-pkgconfig");
}

#[test]
fn static_link_against_libpaho_mqtt3c_a() {
    if !have("pkg-config") {
        return;
    }
    let install = Install::new();
    let build = tempfile::tempdir().expect("tempdir");
    let exe = make_fixture(&install, build.path(), "client-static");
    let (needed, _) = dynamic_section(&exe);
    assert!(!needed.iter().any(|n| n.contains("paho")), "{needed:?}");
    let broker = install.broker();
    // No LD_LIBRARY_PATH: the program carries the library.
    let mut cmd = Command::new(&exe);
    cmd.env_remove("LD_LIBRARY_PATH");
    run_client(cmd, &broker, "make-static");
}

#[test]
fn uninstall_removes_every_installed_file() {
    let install = Install::new();
    install.uninstall();
    let mut left = Vec::new();
    let mut dirs = vec![install.destdir.path().to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("read_dir") {
            let entry = entry.expect("entry");
            let kind = entry.file_type().expect("file_type");
            if kind.is_dir() {
                dirs.push(entry.path());
            } else {
                left.push(entry.path());
            }
        }
    }
    assert!(left.is_empty(), "left behind: {left:?}");
}

/// Debian's prebuilt programs (linked against Paho's libraries) on the
/// installed libraries, publishing and subscribing through our broker.
/// A retained message first proves the subscription is in place; then a
/// live message must arrive too.
fn debian_programs(publisher: &str, subscriber: &str, version: &str) {
    let (pub_exe, sub_exe) = (Path::new(publisher), Path::new(subscriber));
    if !pub_exe.exists() || !sub_exe.exists() {
        support::skip(&format!(
            "{publisher}/{subscriber} are not installed (paho.mqtt.c-examples)"
        ));
        return;
    }
    let install = Install::new();
    // Both report our library in their usage text.
    for exe in [pub_exe, sub_exe] {
        let mut cmd = install.command(exe);
        cmd.arg("--help");
        let out = support::run_with_timeout(cmd, 30);
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(
            text.contains("Product name: FerroMQ"),
            "{} did not load FerroMQ:\n{text}",
            exe.display()
        );
    }

    let broker = install.broker();
    let port = broker.port.to_string();
    let tag = format!(
        "{}-v{version}",
        pub_exe.file_name().unwrap_or_default().to_string_lossy()
    );
    let topic = format!("debian/{tag}");
    let program = |exe: &Path, id: &str| {
        let mut cmd = install.command(exe);
        cmd.args(["-h", "127.0.0.1", "-p", &port, "-t", &topic, "-q", "1"])
            .args(["-V", version, "-i", id]);
        cmd
    };
    let publish = |payload: &str, retained: bool, id: &str| {
        let mut cmd = program(pub_exe, id);
        cmd.args(["-m", payload]);
        if retained {
            cmd.arg("-r");
        }
        check(
            &format!("{publisher} {payload}"),
            &support::run_with_timeout(cmd, 60),
        );
    };

    let retained = format!("retained {tag}");
    let live = format!("live {tag}");
    publish(&retained, true, "pub-1");
    let mut sub = Running::spawn(program(sub_exe, "sub-1"), 120);
    for payload in [&retained, &live] {
        if payload == &live {
            publish(&live, false, "pub-2");
        }
        if !sub.stdout.wait_for(payload, WAIT) {
            sub.kill();
            panic!(
                "{subscriber} never printed {payload:?}\nstdout:\n{}\nstderr:\n{}\nbroker:\n{}",
                sub.stdout.text(),
                sub.stderr.text(),
                broker.running.stderr.text()
            );
        }
    }
    sub.kill();
    // The broker saw each program connect with the version asked for.
    let want = if version == "5" {
        "MQTT 5.0"
    } else {
        "MQTT 3.1.1"
    };
    for id in ["pub-1", "sub-1", "pub-2"] {
        // The broker's log may lag behind the programs' output. The leading
        // space keeps "disconnect: client …" lines from matching.
        let needle = format!(" connect: client '{id}'");
        let found = broker.running.stderr.wait_for_from(0, &needle, WAIT);
        let log = broker.running.stderr.text();
        let line = found.and_then(|i| log.lines().nth(i).map(str::to_string));
        assert!(
            line.is_some_and(|l| l.contains(want)),
            "{id} did not connect with {want}:\n{log}"
        );
    }
}

#[test]
fn debian_paho_cs_programs_mqtt311() {
    debian_programs("/usr/bin/paho_cs_pub", "/usr/bin/paho_cs_sub", "311");
}

#[test]
fn debian_paho_cs_programs_mqtt5() {
    debian_programs("/usr/bin/paho_cs_pub", "/usr/bin/paho_cs_sub", "5");
}

#[test]
fn debian_paho_c_programs_mqtt311() {
    debian_programs("/usr/bin/paho_c_pub", "/usr/bin/paho_c_sub", "311");
}

#[test]
fn debian_paho_c_programs_mqtt5() {
    debian_programs("/usr/bin/paho_c_pub", "/usr/bin/paho_c_sub", "5");
}
