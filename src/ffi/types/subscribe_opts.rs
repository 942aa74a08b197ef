//! C types of MQTTSubscribeOpts.h: the MQTT 5 subscription options that
//! MQTTClient_subscribe5/subscribeMany5 take in addition to the QoS.

use std::ffi::{c_char, c_int, c_uchar};

/// MQTT 5 subscription options (struct_id "MQSO", struct_version 0).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
#[allow(non_snake_case)]
pub struct MQTTSubscribe_options {
    /// Must be "MQSO".
    pub struct_id: [c_char; 4],
    /// Must be 0.
    pub struct_version: c_int,
    /// 1: do not receive our own publications on this subscription.
    pub noLocal: c_uchar,
    /// 1: keep the retain flag as published instead of clearing it.
    pub retainAsPublished: c_uchar,
    /// 0: send retained messages on subscribe; 1: only for a new
    /// subscription; 2: never.
    pub retainHandling: c_uchar,
}
