//! Generates the Paho-compatible C headers from src/ffi with cbindgen.
//!
//! Each header is a template (cbindgen/<name>.in) whose `@TYPES@` and
//! `@FUNCTIONS@` lines are replaced by cbindgen's output for the header's
//! Rust sources. The result goes to $OUT_DIR/include; with
//! FERROMQ_UPDATE_HEADERS=1 it is also written to include/ (committed, and
//! checked by tests/header_fresh.rs).

use std::path::{Path, PathBuf};
use std::{env, fs};

/// One generated header: its file name and the Rust files it is made from.
struct Header {
    name: &'static str,
    sources: &'static [&'static str],
}

const HEADERS: &[Header] = &[
    Header {
        name: "MQTTExportDeclarations.h",
        sources: &[],
    },
    Header {
        name: "MQTTProperties.h",
        sources: &[
            "src/ffi/types/properties.rs",
            "src/ffi/properties.rs",
            "src/ffi/properties_wire.rs",
        ],
    },
    Header {
        name: "MQTTReasonCodes.h",
        sources: &["src/ffi/types/reason_codes.rs", "src/ffi/reason_codes.rs"],
    },
    Header {
        name: "MQTTSubscribeOpts.h",
        sources: &["src/ffi/types/subscribe_opts.rs"],
    },
    Header {
        name: "MQTTClientPersistence.h",
        sources: &["src/ffi/types/persistence.rs"],
    },
    Header {
        name: "MQTTBroker.h",
        sources: &["src/ffi/types/broker.rs", "src/ffi/broker.rs"],
    },
    Header {
        name: "MQTTClient.h",
        sources: &[
            "src/ffi/types/client.rs",
            "src/ffi/types/options.rs",
            "src/ffi/mqttclient.rs",
            "src/ffi/mqttclient_pubsub.rs",
            "src/ffi/mqttclient_misc.rs",
        ],
    },
    Header {
        name: "MQTTAsync.h",
        sources: &[
            "src/ffi/types/async_client.rs",
            "src/ffi/types/async_options.rs",
            "src/ffi/mqttasync.rs",
            "src/ffi/mqttasync_pubsub.rs",
            "src/ffi/mqttasync_misc.rs",
        ],
    },
];

/// Run cbindgen over `sources`, emitting only `kinds` of items.
fn cbindgen_part(
    root: &Path,
    base: &cbindgen::Config,
    sources: &[&str],
    kinds: Vec<cbindgen::ItemType>,
) -> Result<String, String> {
    if sources.is_empty() {
        return Ok(String::new());
    }
    let mut config = base.clone();
    config.export.item_types = kinds;
    let mut builder = cbindgen::Builder::new().with_config(config);
    for src in sources {
        builder = builder.with_src(root.join(src));
    }
    let bindings = builder
        .generate()
        .map_err(|e| format!("cbindgen failed on {sources:?}: {e}"))?;
    let mut out = Vec::new();
    bindings.write(&mut out);
    String::from_utf8(out).map_err(|e| format!("cbindgen output is not UTF-8: {e}"))
}

/// The full text of one header.
fn generate(root: &Path, base: &cbindgen::Config, header: &Header) -> Result<String, String> {
    use cbindgen::ItemType::*;
    let template_path = root.join("cbindgen").join(format!("{}.in", header.name));
    let template = fs::read_to_string(&template_path)
        .map_err(|e| format!("reading {}: {e}", template_path.display()))?;
    let types = cbindgen_part(
        root,
        base,
        header.sources,
        vec![
            Constants,
            Globals,
            Enums,
            Structs,
            Unions,
            Typedefs,
            OpaqueItems,
        ],
    )?;
    let functions = cbindgen_part(root, base, header.sources, vec![Functions])?;
    let mut text = String::new();
    for line in template.lines() {
        match line.trim() {
            "@TYPES@" => text.push_str(types.trim()),
            "@FUNCTIONS@" => text.push_str(functions.trim()),
            _ => text.push_str(line),
        }
        text.push('\n');
    }
    Ok(text)
}

fn main() {
    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("set by cargo")).join("include");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-changed=cbindgen");
    println!("cargo:rerun-if-changed=src/ffi");
    println!("cargo:rerun-if-env-changed=FERROMQ_UPDATE_HEADERS");
    let update = env::var("FERROMQ_UPDATE_HEADERS").is_ok_and(|v| v == "1");
    // The C tests (tests/abi.rs) ask the cc crate for this target's compiler.
    for var in ["TARGET", "HOST"] {
        if let Ok(v) = env::var(var) {
            println!("cargo:rustc-env=FERROMQ_{var}={v}");
        }
    }

    let base = cbindgen::Config::from_file(root.join("cbindgen.toml"))
        .unwrap_or_else(|e| panic!("cbindgen.toml: {e}"));
    fs::create_dir_all(&out_dir).expect("create OUT_DIR/include");
    for header in HEADERS {
        // A failure here is usually a Rust syntax error in src/ffi: warn and
        // let rustc report it (tests/header_fresh.rs then fails as well).
        let text = match generate(&root, &base, header) {
            Ok(text) => text,
            Err(e) => {
                println!("cargo:warning=not generating {}: {e}", header.name);
                let _ = fs::remove_file(out_dir.join(header.name));
                continue;
            }
        };
        fs::write(out_dir.join(header.name), &text).expect("write generated header");
        if update {
            let dest = root.join("include").join(header.name);
            if fs::read_to_string(&dest).ok().as_deref() != Some(text.as_str()) {
                fs::create_dir_all(root.join("include")).expect("create include/");
                fs::write(&dest, &text).expect("write include/");
            }
        }
    }
}
