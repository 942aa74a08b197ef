//! `#[repr(C)]` definitions of every public type and constant of Paho C's
//! MQTTClient.h and the headers it includes; cbindgen turns each file into
//! the header of the same name (see build.rs).

#![allow(non_camel_case_types, non_snake_case)]

pub mod async_client;
pub mod async_options;
pub mod broker;
pub mod client;
pub mod options;
pub mod persistence;
pub mod properties;
pub mod reason_codes;
pub mod subscribe_opts;

pub use async_client::*;
pub use async_options::*;
pub use broker::*;
pub use client::*;
pub use options::*;
pub use persistence::*;
pub use properties::*;
pub use reason_codes::*;
pub use subscribe_opts::*;
