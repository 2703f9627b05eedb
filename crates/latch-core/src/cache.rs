//! A small read-through cache for records read on nearly every request and rarely changed.
//!
//! Entries live for a fixed time: a change made by another node sharing the database is seen
//! once the entry expires, so the lifetime bounds how stale a node's view can be. Each entry also
//! carries a stamp, usually the store's write count (`Store::writes_seen`) noted before the read:
//! an entry is served only while the caller presents the same stamp, so any write through this
//! node, even one racing the read, makes it stale at once.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::RwLock;
use std::time::{Duration, Instant};

struct Entry<V> {
    at: Instant,
    stamp: u64,
    value: V,
}

pub struct TtlCache<K, V> {
    ttl: Duration,
    capacity: usize,
    entries: RwLock<HashMap<K, Entry<V>>>,
}

impl<K: Eq + Hash + Clone, V: Clone> TtlCache<K, V> {
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        Self {
            ttl,
            capacity,
            entries: RwLock::new(HashMap::new()),
        }
    }

    /// The value stored under `key` with `stamp`, if it is still young enough.
    pub fn get(&self, key: &K, stamp: u64) -> Option<V> {
        let entries = self.entries.read().expect("cache lock");
        entries
            .get(key)
            .filter(|e| e.stamp == stamp && e.at.elapsed() < self.ttl)
            .map(|e| e.value.clone())
    }

    pub fn put(&self, key: K, stamp: u64, value: V) {
        let mut entries = self.entries.write().expect("cache lock");
        if entries.len() >= self.capacity {
            // Expired entries go first; a cache still full of live ones starts over.
            entries.retain(|_, e| e.at.elapsed() < self.ttl);
            if entries.len() >= self.capacity {
                entries.clear();
            }
        }
        entries.insert(
            key,
            Entry {
                at: Instant::now(),
                stamp,
                value,
            },
        );
    }

    /// Drops every entry whose key fails `keep`.
    pub fn retain(&self, keep: impl Fn(&K) -> bool) {
        self.entries.write().expect("cache lock").retain(|k, _| keep(k));
    }

    /// The cached value, or `load`'s, which is kept when there is one (absence is not cached:
    /// a record created meanwhile must be found). `stamp` must be taken before `load` reads.
    pub async fn get_or_load<E, Fut>(&self, key: K, stamp: u64, load: impl FnOnce() -> Fut) -> Result<Option<V>, E>
    where
        Fut: Future<Output = Result<Option<V>, E>>,
    {
        if let Some(v) = self.get(&key, stamp) {
            return Ok(Some(v));
        }
        let loaded = load().await?;
        if let Some(v) = &loaded {
            self.put(key, stamp, v.clone());
        }
        Ok(loaded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expires_and_needs_the_same_stamp() {
        let c = TtlCache::new(Duration::from_millis(30), 2);
        c.put("a", 7, 1);
        assert_eq!(c.get(&"a", 7), Some(1));
        assert_eq!(c.get(&"a", 8), None, "a write since the read");
        c.put("b", 0, 2);
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(c.get(&"b", 0), None);
    }

    #[test]
    fn stays_bounded() {
        let c = TtlCache::new(Duration::from_secs(60), 2);
        c.put(1, 0, 1);
        c.put(2, 0, 2);
        c.put(3, 0, 3);
        assert_eq!(c.get(&3, 0), Some(3));
        assert!(c.entries.read().unwrap().len() <= 2);
    }

    #[tokio::test]
    async fn loads_once_and_never_keeps_absence() {
        let c: TtlCache<&str, u32> = TtlCache::new(Duration::from_secs(60), 8);
        let loaded = c.get_or_load("k", 1, || async { Ok::<_, ()>(Some(5)) }).await;
        assert_eq!(loaded, Ok(Some(5)));
        let again = c.get_or_load("k", 1, || async { Ok::<_, ()>(Some(6)) }).await;
        assert_eq!(again, Ok(Some(5)), "served from the cache");
        let moved = c.get_or_load("k", 2, || async { Ok::<_, ()>(Some(6)) }).await;
        assert_eq!(moved, Ok(Some(6)), "a new stamp reads again");
        assert_eq!(c.get_or_load("none", 2, || async { Ok::<_, ()>(None) }).await, Ok(None));
        assert_eq!(c.get(&"none", 2), None);
    }
}
