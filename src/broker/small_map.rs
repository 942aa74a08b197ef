//! A map keyed by strings that stays a short vector while it is small.
//!
//! Most nodes of the subscription trie have one child and one subscriber:
//! a hash map costs at least four buckets plus control bytes for each
//! (hundreds of bytes per subscription), where a vector of one pair costs
//! the pair. Lookups in a few entries are a handful of string compares;
//! past `FEW` entries the map moves to a hash map and stays there.

use foldhash::HashMap;
use std::borrow::Borrow;
use std::hash::Hash;

/// Entries kept in the vector before moving to a hash map.
const FEW: usize = 8;

#[derive(Debug)]
pub(crate) enum SmallMap<K, V> {
    Few(Vec<(K, V)>),
    /// Boxed, so that the map is as small as the vector in its owner.
    Many(Box<HashMap<K, V>>),
}

impl<K, V> Default for SmallMap<K, V> {
    fn default() -> Self {
        SmallMap::Few(Vec::new())
    }
}

impl<K: Borrow<str> + Hash + Eq, V> SmallMap<K, V> {
    pub fn is_empty(&self) -> bool {
        match self {
            SmallMap::Few(v) => v.is_empty(),
            SmallMap::Many(m) => m.is_empty(),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            SmallMap::Few(v) => v.len(),
            SmallMap::Many(m) => m.len(),
        }
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut V> {
        match self {
            SmallMap::Few(v) => v
                .iter_mut()
                .find(|(k, _)| k.borrow() == key)
                .map(|(_, v)| v),
            SmallMap::Many(m) => m.get_mut(key),
        }
    }

    /// Insert or replace; the old value when there was one.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        if let Some(slot) = self.get_mut(key.borrow()) {
            return Some(std::mem::replace(slot, value));
        }
        match self {
            SmallMap::Few(v) if v.len() < FEW => {
                if v.capacity() == 0 {
                    // One subscriber or child is the common case.
                    v.reserve_exact(1);
                }
                v.push((key, value));
            }
            SmallMap::Few(v) => {
                let mut m: HashMap<K, V> = std::mem::take(v).into_iter().collect();
                m.insert(key, value);
                *self = SmallMap::Many(Box::new(m));
            }
            SmallMap::Many(m) => {
                m.insert(key, value);
            }
        }
        None
    }

    /// The value under `key`, inserted from `make(key)` when absent.
    pub fn get_or_insert_with(&mut self, key: &str, make: impl FnOnce() -> (K, V)) -> &mut V {
        if self.get_mut(key).is_none() {
            let (k, v) = make();
            self.insert(k, v);
        }
        self.get_mut(key).expect("just inserted")
    }

    pub fn remove(&mut self, key: &str) -> Option<V> {
        match self {
            SmallMap::Few(v) => {
                let i = v.iter().position(|(k, _)| k.borrow() == key)?;
                let (_, value) = v.swap_remove(i);
                if v.is_empty() {
                    *v = Vec::new();
                }
                Some(value)
            }
            SmallMap::Many(m) => m.remove(key),
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        let (few, many) = match self {
            SmallMap::Few(v) => (Some(v.iter().map(|(k, v)| (k, v))), None),
            SmallMap::Many(m) => (None, Some(m.iter())),
        };
        few.into_iter().flatten().chain(many.into_iter().flatten())
    }

    pub fn keys(&self) -> impl Iterator<Item = &K> {
        self.iter().map(|(k, _)| k)
    }

    pub fn for_each(&self, mut f: impl FnMut(&K, &V)) {
        match self {
            SmallMap::Few(v) => v.iter().for_each(|(k, v)| f(k, v)),
            SmallMap::Many(m) => m.iter().for_each(|(k, v)| f(k, v)),
        }
    }

    pub fn for_each_value_mut(&mut self, mut f: impl FnMut(&mut V)) {
        match self {
            SmallMap::Few(v) => v.iter_mut().for_each(|(_, v)| f(v)),
            SmallMap::Many(m) => m.values_mut().for_each(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn behaves_as_a_map_across_the_switch() {
        let mut m: SmallMap<Arc<str>, usize> = SmallMap::default();
        assert!(m.is_empty());
        for i in 0..3 * FEW {
            assert_eq!(m.insert(i.to_string().into(), i), None);
            assert_eq!(m.insert(i.to_string().into(), i + 100), Some(i));
        }
        assert!(matches!(m, SmallMap::Many(_)));
        assert_eq!(m.len(), 3 * FEW);
        for i in 0..3 * FEW {
            assert_eq!(m.get_mut(&i.to_string()).copied(), Some(i + 100));
        }
        let mut sum = 0;
        m.for_each(|_, v| sum += v);
        assert_eq!(sum, (0..3 * FEW).map(|i| i + 100).sum::<usize>());
        assert_eq!(m.iter().map(|(_, v)| v).sum::<usize>(), sum);
        assert_eq!(m.keys().count(), 3 * FEW);
        for i in 0..3 * FEW {
            assert_eq!(m.remove(&i.to_string()), Some(i + 100));
            assert_eq!(m.remove(&i.to_string()), None);
        }
        assert!(m.is_empty());
    }

    #[test]
    fn a_small_map_is_a_vector_and_frees_its_memory_when_emptied() {
        let mut m: SmallMap<Box<str>, u8> = SmallMap::default();
        *m.get_or_insert_with("a", || ("a".into(), 0)) += 1;
        *m.get_or_insert_with("a", || ("a".into(), 0)) += 1;
        assert_eq!(m.get_mut("a").copied(), Some(2));
        let SmallMap::Few(v) = &m else {
            panic!("one entry stays a vector")
        };
        assert_eq!(v.capacity(), 1);
        m.for_each_value_mut(|v| *v = 9);
        assert_eq!(m.remove("a"), Some(9));
        let SmallMap::Few(v) = &m else {
            panic!("still a vector")
        };
        assert_eq!(v.capacity(), 0);
    }
}
