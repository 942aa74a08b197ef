//! MQTTReasonCodes.h: MQTTReasonCode_toString, with the texts Paho C prints
//! (so logs look the same whichever library is loaded).

use std::ffi::{CStr, c_char};

use super::types::enum_MQTTReasonCodes;

/// The text for a reason code, None for values that are not reason codes.
pub(crate) fn reason_text(code: enum_MQTTReasonCodes) -> Option<&'static CStr> {
    Some(match code {
        0 => c"SUCCESS",
        1 => c"Granted QoS 1",
        2 => c"Granted QoS 2",
        4 => c"Disconnect with Will Message",
        16 => c"No matching subscribers",
        17 => c"No subscription found",
        24 => c"Continue authentication",
        25 => c"Re-authenticate",
        128 => c"Unspecified error",
        129 => c"Malformed Packet",
        130 => c"Protocol error",
        131 => c"Implementation specific error",
        132 => c"Unsupported Protocol Version",
        133 => c"Client Identifier not valid",
        134 => c"Bad User Name or Password",
        135 => c"Not authorized",
        136 => c"Server unavailable",
        137 => c"Server busy",
        138 => c"Banned",
        139 => c"Server shutting down",
        140 => c"Bad authentication method",
        141 => c"Keep Alive timeout",
        142 => c"Session taken over",
        143 => c"Topic filter invalid",
        144 => c"Topic name invalid",
        145 => c"Packet Identifier in use",
        146 => c"Packet Identifier not found",
        147 => c"Receive Maximum exceeded",
        148 => c"Topic Alias invalid",
        149 => c"Packet too large",
        150 => c"Message rate too high",
        151 => c"Quota exceeded",
        152 => c"Administrative action",
        153 => c"Payload format invalid",
        154 => c"Retain not supported",
        155 => c"QoS not supported",
        156 => c"Use another server",
        157 => c"Server moved",
        158 => c"Shared subscriptions not supported",
        159 => c"Connection rate exceeded",
        160 => c"Maximum connect time",
        161 => c"Subscription Identifiers not supported",
        162 => c"Wildcard Subscriptions not supported",
        _ => return None,
    })
}

/// A static description of reason code `value`, or NULL if it is not one.
#[unsafe(no_mangle)]
pub extern "C" fn MQTTReasonCode_toString(value: enum_MQTTReasonCodes) -> *const c_char {
    reason_text(value).map_or(std::ptr::null(), CStr::as_ptr)
}
