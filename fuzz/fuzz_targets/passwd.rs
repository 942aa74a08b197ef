//! The password file parser (`mosquitto_passwd` format): any text parses or
//! is refused with an error. Hashes are not verified here: a `$7$` line may
//! name billions of PBKDF2 rounds, which is the file owner's choice.
#![no_main]

use ferromq::broker::auth::PasswordFile;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(file) = PasswordFile::parse(&text) {
        assert!(file.len() <= text.lines().count(), "more users than lines");
        // A username ends at the first ':', so this one can never be in it.
        assert_eq!(file.verify("no:such:user", b"x"), None);
    }
});
