//! The committed headers in include/ must be exactly what build.rs
//! generates from the current sources (into $OUT_DIR/include).

use std::path::PathBuf;

#[test]
fn committed_headers_match_generated() {
    let generated = PathBuf::from(env!("OUT_DIR")).join("include");
    let committed = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("include");
    let mut stale = Vec::new();
    let entries = std::fs::read_dir(&generated).expect("build.rs writes $OUT_DIR/include");
    let mut count = 0;
    for entry in entries {
        let path = entry.expect("directory entry").path();
        let name = path.file_name().expect("file name").to_owned();
        let fresh = std::fs::read_to_string(&path).expect("read generated header");
        let current = std::fs::read_to_string(committed.join(&name)).unwrap_or_default();
        count += 1;
        if fresh != current {
            stale.push(name.to_string_lossy().into_owned());
        }
    }
    assert!(count >= 6, "expected the six Paho headers, found {count}");
    assert!(
        stale.is_empty(),
        "include/ is stale for {stale:?}; regenerate with `FERROMQ_UPDATE_HEADERS=1 cargo build` and commit include/"
    );
}
