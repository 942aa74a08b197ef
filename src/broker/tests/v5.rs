//! MQTT 5 extras: properties forwarded, message expiry, topic aliases,
//! receive maximum, maximum packet size, subscription ids, no-local, shared.
