//! The ACL file parser: any text parses or is refused with an error, and a
//! parsed ACL answers access questions without panicking.
#![no_main]

use ferromq::broker::auth::{Acl, Want};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(acl) = Acl::parse(&text) {
        for user in [None, Some("u"), Some("admin")] {
            for topic in ["a/b", "c1/u/x", "$SYS/broker/load", "/", ""] {
                acl.check("c1", user, topic, Want::Read);
                acl.check("c1", user, topic, Want::Write);
            }
            for filter in ["#", "a/+", "+/+/#", "$SYS/#"] {
                acl.can_subscribe("c1", user, filter);
            }
        }
    }
});
