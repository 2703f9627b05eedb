//! A small read-through cache for records read on nearly every request and rarely changed.
//!
//! Entries live for a fixed time: a change made by another node sharing the database is seen
//! once the entry expires, so the lifetime bounds how stale a node's view can be. Each entry also
//! carries a stamp, usually the store's write count (`Store::writes_seen`) noted before the read:
//! an entry is served only while the caller presents the same stamp, so any write through this
//! node, even one racing the read, makes it stale at once.
//!
//! The caller passes the time (`Ctx::now()`, from its `Clock`), so a test moves a `ManualClock`
//! past the lifetime instead of sleeping through it. That time is the wall clock, which can step
//! backwards: an entry stamped in the future counts as stale, so a step back never stretches a
//! lifetime.

use crate::clock::Timestamp;
use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::RwLock;
use std::time::Duration;

struct Entry<V> {
    at: Timestamp,
    stamp: u64,
    value: V,
}

pub struct TtlCache<K, V> {
    /// The `cache` label of its hit and miss counters (`latch_cache_lookups_total`).
    name: &'static str,
    ttl_ms: i64,
    capacity: usize,
    entries: RwLock<HashMap<K, Entry<V>>>,
}

impl<K: Eq + Hash + Clone, V: Clone> TtlCache<K, V> {
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        Self::named("unnamed", ttl, capacity)
    }

    pub fn named(name: &'static str, ttl: Duration, capacity: usize) -> Self {
        Self {
            name,
            ttl_ms: i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX),
            capacity,
            entries: RwLock::new(HashMap::new()),
        }
    }

    fn fresh(&self, at: Timestamp, now: Timestamp) -> bool {
        (0..self.ttl_ms).contains(&(now.millis() - at.millis()))
    }

    /// The value stored under `key` with `stamp`, if it is still young enough at `now`.
    pub fn get(&self, key: &K, stamp: u64, now: Timestamp) -> Option<V> {
        let entries = self.entries.read().expect("cache lock");
        entries
            .get(key)
            .filter(|e| e.stamp == stamp && self.fresh(e.at, now))
            .map(|e| e.value.clone())
    }

    pub fn put(&self, key: K, stamp: u64, now: Timestamp, value: V) {
        let mut entries = self.entries.write().expect("cache lock");
        if entries.len() >= self.capacity {
            // Expired entries go first; a cache still full of live ones starts over.
            entries.retain(|_, e| self.fresh(e.at, now));
            if entries.len() >= self.capacity {
                entries.clear();
            }
        }
        entries.insert(key, Entry { at: now, stamp, value });
    }

    /// Drops every entry whose key fails `keep`.
    pub fn retain(&self, keep: impl Fn(&K) -> bool) {
        self.entries.write().expect("cache lock").retain(|k, _| keep(k));
    }

    /// `get`, counted as a hit or a miss in the cache metrics.
    pub fn lookup(&self, key: &K, stamp: u64, now: Timestamp) -> Option<V> {
        let found = self.get(key, stamp, now);
        let result = if found.is_some() { "hit" } else { "miss" };
        metrics::counter!("latch_cache_lookups_total", "cache" => self.name, "result" => result).increment(1);
        found
    }

    /// The cached value, or `load`'s, which is kept when there is one (absence is not cached:
    /// a record created meanwhile must be found). `stamp` must be taken before `load` reads.
    pub async fn get_or_load<E, Fut>(
        &self,
        key: K,
        stamp: u64,
        now: Timestamp,
        load: impl FnOnce() -> Fut,
    ) -> Result<Option<V>, E>
    where
        Fut: Future<Output = Result<Option<V>, E>>,
    {
        if let Some(v) = self.lookup(&key, stamp, now) {
            return Ok(Some(v));
        }
        let loaded = load().await?;
        if let Some(v) = &loaded {
            self.put(key, stamp, now, v.clone());
        }
        Ok(loaded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: Timestamp = Timestamp(1_700_000_000_000);

    fn at(ms: i64) -> Timestamp {
        Timestamp(T0.0 + ms)
    }

    #[test]
    fn expires_and_needs_the_same_stamp() {
        let c = TtlCache::new(Duration::from_millis(30), 2);
        c.put("a", 7, T0, 1);
        assert_eq!(c.get(&"a", 7, T0), Some(1));
        assert_eq!(c.get(&"a", 8, T0), None, "a write since the read");
        assert_eq!(c.get(&"a", 7, at(29)), Some(1), "still young");
        assert_eq!(c.get(&"a", 7, at(30)), None, "lived its time");
    }

    #[test]
    fn a_clock_stepping_back_does_not_stretch_a_lifetime() {
        let c = TtlCache::new(Duration::from_secs(2), 2);
        c.put("a", 0, at(5_000), 1);
        assert_eq!(c.get(&"a", 0, T0), None);
    }

    #[test]
    fn stays_bounded_and_drops_the_expired_first() {
        let c = TtlCache::new(Duration::from_secs(60), 2);
        c.put(1, 0, T0, 1);
        c.put(2, 0, at(59_000), 2);
        c.put(3, 0, at(61_000), 3);
        assert_eq!(c.get(&3, 0, at(61_000)), Some(3));
        assert_eq!(c.get(&2, 0, at(61_000)), Some(2), "only the expired entry went");
        c.put(4, 0, at(61_000), 4);
        assert!(c.entries.read().unwrap().len() <= 2);
    }

    #[tokio::test]
    async fn loads_once_and_never_keeps_absence() {
        let c: TtlCache<&str, u32> = TtlCache::new(Duration::from_secs(60), 8);
        let loaded = c.get_or_load("k", 1, T0, || async { Ok::<_, ()>(Some(5)) }).await;
        assert_eq!(loaded, Ok(Some(5)));
        let again = c.get_or_load("k", 1, T0, || async { Ok::<_, ()>(Some(6)) }).await;
        assert_eq!(again, Ok(Some(5)), "served from the cache");
        let moved = c.get_or_load("k", 2, T0, || async { Ok::<_, ()>(Some(6)) }).await;
        assert_eq!(moved, Ok(Some(6)), "a new stamp reads again");
        let later = c
            .get_or_load("k", 2, at(60_000), || async { Ok::<_, ()>(Some(7)) })
            .await;
        assert_eq!(later, Ok(Some(7)), "an old entry reads again");
        assert_eq!(
            c.get_or_load("none", 2, T0, || async { Ok::<_, ()>(None) }).await,
            Ok(None)
        );
        assert_eq!(c.get(&"none", 2, T0), None);
    }
}
