//! The plugin's in-memory caches (sessions, users, tokens, projects):
//! bounded, entries expire a fixed time after they were stored, and can be
//! dropped one by one or by a predicate (all of one user's).
//!
//! Built on quick_cache (sharded, S3-FIFO eviction, a read lock per
//! lookup) rather than moka: every signed-in request makes two lookups,
//! and a quick_cache hit costs a fraction of moka's bookkeeping (its log
//! of reads, its clock, its eviction deques, its invalidation closures).

use std::{
    hash::Hash,
    sync::Arc,
    time::{Duration, Instant},
};

use quick_cache::{Equivalent, UnitWeighter, sync::DefaultLifecycle};

/// A bounded cache whose entries expire `ttl` after they were stored.
/// Clones share the entries.
pub(crate) struct Cache<K, V> {
    entries: Arc<Entries<K, V>>,
    ttl: Option<Duration>,
}

type Entries<K, V> = quick_cache::sync::Cache<
    K,
    Entry<V>,
    UnitWeighter,
    foldhash::fast::RandomState,
    DefaultLifecycle<K, Entry<V>>,
>;

impl<K, V> Clone for Cache<K, V> {
    fn clone(&self) -> Self {
        Cache {
            entries: self.entries.clone(),
            ttl: self.ttl,
        }
    }
}

/// A value and when it was stored.
#[derive(Clone)]
pub(crate) struct Entry<V> {
    stored: Instant,
    value: V,
}

impl<K: Eq + Hash, V: Clone> Cache<K, V> {
    /// At most `capacity` entries, each kept at most `ttl` (`None`: until
    /// evicted).
    pub(crate) fn new(capacity: usize, ttl: Option<Duration>) -> Self {
        Cache {
            entries: Arc::new(quick_cache::sync::Cache::with(
                capacity,
                capacity as u64,
                UnitWeighter,
                foldhash::fast::RandomState::default(),
                DefaultLifecycle::default(),
            )),
            ttl,
        }
    }

    /// The value stored for `key`, unless it has expired.
    pub(crate) fn get<Q>(&self, key: &Q) -> Option<V>
    where
        Q: Hash + Equivalent<K> + ?Sized,
    {
        let entry = self.entries.get(key)?;
        if self.ttl.is_some_and(|ttl| entry.stored.elapsed() >= ttl) {
            self.entries.remove(key);
            return None;
        }
        Some(entry.value)
    }

    /// Whether a live value is stored for `key`.
    pub(crate) fn contains_key<Q>(&self, key: &Q) -> bool
    where
        Q: Hash + Equivalent<K> + ?Sized,
    {
        self.get(key).is_some()
    }

    /// Stores `value` for `key`.
    pub(crate) fn insert(&self, key: K, value: V) {
        self.entries.insert(
            key,
            Entry {
                stored: Instant::now(),
                value,
            },
        );
    }

    /// Drops the value of `key`.
    pub(crate) fn invalidate<Q>(&self, key: &Q)
    where
        Q: Hash + Equivalent<K> + ?Sized,
    {
        self.entries.remove(key);
    }

    /// Drops every entry `drop` says to.
    pub(crate) fn invalidate_entries_if(&self, drop: impl Fn(&K, &V) -> bool) {
        self.entries.retain(|key, entry| !drop(key, &entry.value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_and_are_dropped_by_key_or_predicate() {
        let cache = Cache::<String, u32>::new(100, Some(Duration::from_millis(50)));
        cache.insert("a".to_owned(), 1);
        cache.insert("b".to_owned(), 2);
        cache.insert("c".to_owned(), 3);
        assert_eq!(cache.get("a"), Some(1));
        cache.invalidate("a");
        assert_eq!(cache.get("a"), None);
        cache.invalidate_entries_if(|_, value| *value == 2);
        assert_eq!(cache.get("b"), None);
        assert!(cache.contains_key("c"));
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(cache.get("c"), None);
        let forever = Cache::<String, ()>::new(10, None);
        forever.insert("p".to_owned(), ());
        assert!(forever.contains_key("p"));
    }
}
