//! The C ABI: Paho C's MQTTClient/MQTTProperties functions (MQTTAsync and
//! MQTTBroker_* later). Each entry point checks, converts, makes one call
//! into `client`, and maps the error; types are in `types`, guards in `guard`.

pub mod guard;
pub mod properties;
pub mod properties_convert;
pub mod properties_wire;
pub mod property_table;
pub mod reason_codes;
pub mod types;
