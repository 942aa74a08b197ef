//! MQTTBroker_bridgeOptions → a checked `BridgeConf` (the same parser as
//! the `connection` blocks of a configuration file).

use std::ffi::{c_char, c_int};

use super::guard::{FfiResult, c_str, checked_version};
use super::types::{MQTTBROKER_BAD_OPTION, MQTTBROKER_NULL_PARAMETER, MQTTBroker_bridgeOptions};
use crate::broker::bridge::BridgeConf;
use crate::broker::bridge::config::{apply, is_bridge_key};

/// `n` strings of a C array.
///
/// # Safety
/// `p` NULL or `n` readable pointers to NUL-terminated strings.
unsafe fn strings<'a>(p: *const *const c_char, n: c_int) -> FfiResult<Vec<&'a str>> {
    let n = usize::try_from(n).map_err(|_| MQTTBROKER_BAD_OPTION)?;
    if n == 0 {
        return Ok(Vec::new());
    }
    if p.is_null() {
        return Err(MQTTBROKER_NULL_PARAMETER);
    }
    (0..n)
        // SAFETY: `i < n` entries are readable; each is NULL or a C string.
        .map(|i| unsafe { c_str(p.add(i).read()) })
        .collect()
}

/// One bridge option; a key that is not a bridge option is BAD_OPTION.
fn option(b: &mut BridgeConf, key: &str, rest: &str) -> FfiResult<()> {
    if !is_bridge_key(key) {
        return Err(MQTTBROKER_BAD_OPTION);
    }
    let words: Vec<&str> = rest.split_whitespace().collect();
    apply(b, key, &words, rest.trim()).map_err(|_| MQTTBROKER_BAD_OPTION)
}

/// Check and convert bridge options.
///
/// # Safety
/// `opts` NULL or a readable MQTTBroker_bridgeOptions whose arrays hold
/// their counts of string pointers.
pub(crate) unsafe fn bridge_conf(opts: *const MQTTBroker_bridgeOptions) -> FfiResult<BridgeConf> {
    checked_version!(opts, b"MQBB", 0)?;
    // SAFETY: non-NULL, checked id and version 0 (the whole struct).
    let o = unsafe { opts.read_unaligned() };
    // SAFETY: each pointer below is NULL or a C string per the contract.
    let name = unsafe { c_str(o.name) }?;
    if name.is_empty() || name.contains(char::is_whitespace) {
        return Err(MQTTBROKER_BAD_OPTION);
    }
    let mut b = BridgeConf::new(name);
    // SAFETY: forwarded contract.
    for a in unsafe { strings(o.addresses, o.addressCount) }? {
        option(&mut b, "address", a)?;
    }
    // SAFETY: forwarded contract.
    for t in unsafe { strings(o.topics, o.topicCount) }? {
        option(&mut b, "topic", t)?;
    }
    if !o.options.is_null() {
        // SAFETY: non-NULL C string per the contract.
        let text = unsafe { c_str(o.options) }?;
        for line in text.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (key, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
            option(&mut b, key, rest)?;
        }
    }
    b.check().map_err(|_| MQTTBROKER_BAD_OPTION)?;
    Ok(b)
}
