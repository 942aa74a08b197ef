//! Session state machines (sans-IO). Each takes bytes, time and commands and
//! produces bytes, timeouts and events; none touches sockets or clocks.

pub mod client;
mod getters;
mod incoming;
pub mod inflight;
pub mod packet_ids;
pub mod timers;

#[cfg(test)]
mod test_support;
#[cfg(test)]
mod tests_connect;
#[cfg(test)]
mod tests_qos;
#[cfg(test)]
mod tests_v5;
