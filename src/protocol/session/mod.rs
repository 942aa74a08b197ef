//! Session state machines (sans-IO). Each takes bytes, time and commands and
//! produces bytes, timeouts and events; none touches sockets or clocks.

pub mod client;
mod getters;
mod incoming;
pub mod inflight;
pub mod packet_ids;
pub mod timers;

#[cfg(test)]
pub(crate) mod test_support;
#[cfg(test)]
mod tests_connect;
#[cfg(test)]
mod tests_deferred;
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

/// A small set of packet ids in arrival order. Acknowledgements nearly
/// always come in the order requests went out, so a lookup from the front
/// ends at once; an empty set holds no memory, and the set costs 24 bytes
/// in the session (a hash set costs 48 before its first id).
#[derive(Debug, Default, Clone)]
pub struct IdSet(Vec<u16>);

impl IdSet {
    /// Add `id`; false if it was present.
    pub fn insert(&mut self, id: u16) -> bool {
        if self.0.contains(&id) {
            return false;
        }
        if self.0.capacity() == 0 {
            self.0.reserve_exact(2);
        }
        self.0.push(id);
        true
    }

    /// Remove `id`; false if it was absent.
    pub fn remove(&mut self, id: &u16) -> bool {
        match self.0.iter().position(|x| x == id) {
            Some(i) => {
                self.0.remove(i);
                true
            }
            None => false,
        }
    }

    pub fn contains(&self, id: &u16) -> bool {
        self.0.contains(id)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn clear(&mut self) {
        self.0.clear();
    }

    /// Take every id out.
    pub fn drain(&mut self) -> std::vec::Drain<'_, u16> {
        self.0.drain(..)
    }

    /// With no ids, give the memory back.
    pub fn release_if_empty(&mut self) {
        if self.0.is_empty() && self.0.capacity() > 0 {
            self.0 = Vec::new();
        }
    }
}
