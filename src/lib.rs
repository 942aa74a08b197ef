//! FerroMQ: an MQTT client library with Paho C's API and ABI, and an
//! embeddable MQTT broker, both driven by one mio reactor thread.

pub mod broker;
pub mod client;
pub mod ffi;
pub mod fork;
pub mod protocol;
pub mod reactor;
