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

/// Push onto a queue that is usually empty or holds one item: the first
/// allocation holds exactly one (a session per client, thousands of clients
/// per process: 4 × 200-byte packets each would add up).
pub(crate) fn push_small<T>(q: &mut std::collections::VecDeque<T>, item: T) {
    if q.capacity() == 0 {
        q.reserve_exact(1);
    }
    q.push_back(item);
}
