//! A small read-through cache for records read on nearly every request and rarely changed.
//!
//! Entries live for a fixed time. This node drops an entry when it changes the record; a change
//! made by another node sharing the database is seen once the entry expires, so the lifetime is
//! the bound on how stale a node's view can be.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::RwLock;
use std::time::{Duration, Instant};

pub struct TtlCache<K, V> {
    ttl: Duration,
    capacity: usize,
    entries: RwLock<HashMap<K, (Instant, V)>>,
}

impl<K: Eq + Hash + Clone, V: Clone> TtlCache<K, V> {
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        Self {
            ttl,
            capacity,
            entries: RwLock::new(HashMap::new()),
        }
    }

    pub fn get(&self, key: &K) -> Option<V> {
        let entries = self.entries.read().expect("cache lock");
        entries
            .get(key)
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, v)| v.clone())
    }

    pub fn put(&self, key: K, value: V) {
        let mut entries = self.entries.write().expect("cache lock");
        if entries.len() >= self.capacity {
            // Expired entries go first; a cache still full of live ones starts over.
            entries.retain(|_, (at, _)| at.elapsed() < self.ttl);
            if entries.len() >= self.capacity {
                entries.clear();
            }
        }
        entries.insert(key, (Instant::now(), value));
    }

    pub fn remove(&self, key: &K) {
        self.entries.write().expect("cache lock").remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expires_and_forgets() {
        let c = TtlCache::new(Duration::from_millis(30), 2);
        c.put("a", 1);
        assert_eq!(c.get(&"a"), Some(1));
        c.remove(&"a");
        assert_eq!(c.get(&"a"), None);
        c.put("b", 2);
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(c.get(&"b"), None);
    }

    #[test]
    fn stays_bounded() {
        let c = TtlCache::new(Duration::from_secs(60), 2);
        c.put(1, 1);
        c.put(2, 2);
        c.put(3, 3);
        assert_eq!(c.get(&3), Some(3));
        assert!(c.entries.read().unwrap().len() <= 2);
    }
}
