//! The mosquitto.conf parser: any text parses or is refused with an error
//! (strict and lenient), and a parsed file yields each listener's security.
//! Inputs naming `include_dir` are skipped: that option reads directories of
//! the real file system, which would make runs depend on the machine.
#![no_main]

use ferromq::broker::config::mosquitto::parse_str;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if text.contains("include_dir") {
        return;
    }
    for lenient in [false, true] {
        if let Ok(conf) = parse_str(&text, "fuzz.conf", lenient) {
            for i in 0..4 {
                let _ = conf.security_for(i);
            }
        }
    }
});
