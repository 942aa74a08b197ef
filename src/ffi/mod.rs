//! The C ABI: Paho C's MQTTClient/MQTTAsync/MQTTProperties functions and the
//! broker's MQTTBroker_*. Each entry point checks, converts, makes one call
//! into `client`/`broker`, and maps the error; types are in `types`, guards
//! in `guard`.

// Entry points take raw pointers from C by design: they are `extern "C"`
// functions with Paho's documented contracts, not Rust APIs, and they check
// what can be checked (NULL, struct ids) before dereferencing.
#![allow(clippy::not_unsafe_ptr_arg_deref)]

pub mod async_convert;
pub mod async_handle;
pub mod async_responses;
pub mod async_update;
pub mod broker;
mod broker_bridge;
pub mod broker_hooks;
pub mod broker_options;
pub mod client_callbacks;
pub mod client_convert;
pub mod client_errors;
pub mod guard;
pub mod handle;
pub mod mqttasync;
pub mod mqttasync_misc;
pub mod mqttasync_pubsub;
pub mod mqttclient;
pub mod mqttclient_misc;
pub mod mqttclient_pubsub;
pub mod persistence;
pub mod properties;
pub mod properties_convert;
pub mod properties_wire;
pub mod property_table;
pub mod reason_codes;
pub mod tls_convert;
pub mod types;

pub(crate) use handle::live_locks;

#[cfg(test)]
mod broker_bridge_tests;
#[cfg(test)]
mod broker_hooks_tests;
#[cfg(test)]
mod broker_store_tests;
#[cfg(test)]
mod broker_tests;
#[cfg(test)]
mod tests;
