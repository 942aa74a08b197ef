//! ABI and header checks against Eclipse Paho C's headers: the probe in
//! tests/abi/probe.c is compiled against Debian's headers and against ours
//! and must print the same facts; our headers must accept Paho's own
//! declarations and compile warning-free as C and C++.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

const PAHO_HEADER: &str = "/usr/include/MQTTClient.h";

const OUR_HEADERS: &[&str] = &[
    "MQTTExportDeclarations.h",
    "MQTTProperties.h",
    "MQTTReasonCodes.h",
    "MQTTSubscribeOpts.h",
    "MQTTClientPersistence.h",
    "MQTTClient.h",
    "MQTTAsync.h",
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The C (or C++) compiler cc would use for this target.
fn compiler(cpp: bool) -> Command {
    let target = option_env!("FERROMQ_TARGET").unwrap_or("x86_64-unknown-linux-gnu");
    let host = option_env!("FERROMQ_HOST").unwrap_or(target);
    cc::Build::new()
        .cargo_metadata(false)
        .cargo_warnings(false)
        .opt_level(0)
        .debug(false)
        .target(target)
        .host(host)
        .cpp(cpp)
        .get_compiler()
        .to_command()
}

/// Run `cmd`, panicking with its output if it fails.
fn run(mut cmd: Command, what: &str) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({cmd:?}):\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Build the probe with `include` first on the include path and run it.
fn probe_output(include: &Path, dir: &Path, name: &str) -> String {
    let exe = dir.join(name);
    let mut cc = compiler(false);
    cc.arg("-std=c11")
        .arg("-I")
        .arg(include)
        .arg(root().join("tests/abi/probe.c"))
        .arg("-o")
        .arg(&exe);
    run(
        cc,
        &format!("compiling the probe against {}", include.display()),
    );
    run(Command::new(&exe), "running the probe")
}

#[test]
fn layouts_constants_and_initializers_match_paho() {
    if !Path::new(PAHO_HEADER).exists() {
        support::skip(&format!(
            "{PAHO_HEADER} not installed (apt-get install libpaho-mqtt-dev)"
        ));
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let paho = probe_output(Path::new("/usr/include"), dir.path(), "probe_paho");
    let ours = probe_output(&root().join("include"), dir.path(), "probe_ours");
    let (paho, ours): (Vec<&str>, Vec<&str>) = (paho.lines().collect(), ours.lines().collect());
    assert!(
        paho.len() > 200,
        "the probe printed too little: {}",
        paho.len()
    );
    let mut diffs = Vec::new();
    for i in 0..paho.len().max(ours.len()) {
        let (p, o) = (
            paho.get(i).copied().unwrap_or("<none>"),
            ours.get(i).copied().unwrap_or("<none>"),
        );
        if p != o {
            diffs.push(format!("paho: {p}\nours: {o}"));
        }
    }
    assert!(
        diffs.is_empty(),
        "{} ABI differences:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
}

/// Directory holding our built libferromq.so (the test binary lives in
/// target/<profile>/deps).
fn our_lib_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    exe.parent()
        .and_then(Path::parent)
        .expect("target/<profile>")
        .to_path_buf()
}

/// Build tests/abi/behaviour.c against `include`, linked with `libs`, and run it.
fn behaviour_output(
    include: &Path,
    libs: &[&str],
    lib_dir: Option<&Path>,
    exe: &Path,
) -> Option<String> {
    let mut cc = compiler(false);
    cc.arg("-std=c11")
        .arg("-I")
        .arg(include)
        .arg(root().join("tests/abi/behaviour.c"))
        .arg("-o")
        .arg(exe);
    if let Some(dir) = lib_dir {
        cc.arg("-L")
            .arg(dir)
            .arg(format!("-Wl,-rpath,{}", dir.display()));
    }
    cc.args(libs);
    let out = cc.output().ok()?;
    if !out.status.success() {
        println!("link failed: {}", String::from_utf8_lossy(&out.stderr));
        return None;
    }
    Some(run(Command::new(exe), "running the behaviour probe"))
}

/// Calls that need no server give the same results from both libraries.
#[test]
fn behaviour_matches_paho_library() {
    if !Path::new(PAHO_HEADER).exists() {
        support::skip(&format!(
            "{PAHO_HEADER} not installed (apt-get install libpaho-mqtt-dev)"
        ));
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let Some(paho) = behaviour_output(
        Path::new("/usr/include"),
        &["-lpaho-mqtt3c"],
        None,
        &dir.path().join("paho"),
    ) else {
        support::skip("cannot link against libpaho-mqtt3c");
        return;
    };
    let lib_dir = our_lib_dir();
    let ours = behaviour_output(
        &root().join("include"),
        &["-lferromq"],
        Some(&lib_dir),
        &dir.path().join("ours"),
    )
    .unwrap_or_else(|| panic!("cannot link against libferromq in {}", lib_dir.display()));
    assert!(
        paho.lines().count() > 300,
        "the behaviour probe printed too little"
    );
    let diffs: Vec<String> = paho
        .lines()
        .zip(ours.lines())
        .filter(|(p, o)| p != o)
        .map(|(p, o)| format!("paho: {p}\nours: {o}"))
        .collect();
    assert!(
        diffs.is_empty(),
        "{} differences:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
    assert_eq!(paho.lines().count(), ours.lines().count());
}

/// Our headers followed by Paho's own declarations of every function and
/// callback type: any incompatible prototype is a compile error.
#[test]
fn paho_declarations_are_compatible_with_ours() {
    let dir = tempfile::tempdir().expect("temp dir");
    let src = dir.path().join("prototypes.c");
    std::fs::write(
        &src,
        "#include \"MQTTClient.h\"\n#include \"MQTTAsync.h\"\n#include \"prototypes.h\"\nint main(void) { return 0; }\n",
    )
    .expect("write test source");
    let mut cc = compiler(false);
    cc.args([
        "-std=c11",
        "-pedantic-errors",
        "-Wall",
        "-Wextra",
        "-Werror",
        "-c",
    ])
    .arg("-I")
    .arg(root().join("include"))
    .arg("-I")
    .arg(root().join("tests/abi"))
    .arg(&src)
    .arg("-o")
    .arg(dir.path().join("prototypes.o"));
    run(cc, "compiling Paho's declarations after our headers");
}

/// Every header, alone and all together, compiles without warnings as C and C++.
#[test]
fn headers_compile_cleanly_as_c_and_cpp() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut all = String::new();
    for h in OUR_HEADERS {
        all.push_str(&format!("#include \"{h}\"\n"));
    }
    all.push_str(
        "int main(void)\n{\n\tMQTTClient_connectOptions o = MQTTClient_connectOptions_initializer5;\n\
         \tMQTTClient_message m = MQTTClient_message_initializer;\n\tMQTTResponse r = MQTTResponse_initializer;\n\
         \tMQTTSubscribe_options s = MQTTSubscribe_options_initializer;\n\
         \tMQTTProperty p;\n\tp.value.value.len = 0;\n\t(void)p; (void)m; (void)r; (void)s;\n\
         \tMQTTAsync_connectOptions ao = MQTTAsync_connectOptions_initializer5;\n\
         \tMQTTAsync_responseOptions ar = MQTTAsync_responseOptions_initializer;\n\
         \tMQTTAsync_createOptions ac = MQTTAsync_createOptions_initializer5;\n\
         \tMQTTAsync_disconnectOptions ad = MQTTAsync_disconnectOptions_initializer5;\n\
         \t(void)ar; (void)ac; (void)ad;\n\
         \treturn o.keepAliveInterval == 60 && ao.maxInflight == 65535 ? 0 : 1;\n}\n",
    );
    let mut sources = vec![("all".to_string(), all)];
    for h in OUR_HEADERS {
        sources.push((
            h.replace(".h", ""),
            format!("#include \"{h}\"\nint main(void) {{ return 0; }}\n"),
        ));
    }
    for (name, text) in &sources {
        for (cpp, std) in [
            (false, "-std=c99"),
            (false, "-std=c11"),
            (true, "-std=c++11"),
        ] {
            let src = dir
                .path()
                .join(format!("{name}.{}", if cpp { "cpp" } else { "c" }));
            std::fs::write(&src, text).expect("write test source");
            let mut cc = compiler(cpp);
            cc.args([std, "-Wall", "-Wextra", "-Werror", "-c"])
                .arg("-I")
                .arg(root().join("include"))
                .arg(&src)
                .arg("-o")
                .arg(dir.path().join(format!("{name}.o")));
            run(cc, &format!("compiling {name} ({std})"));
        }
    }
}
