//! The in-memory counter store: one per shield process, shared by every worker
//! thread and every pipeline generation (a reload keeps the counts), so every
//! upstream worker behind shield is counted once.
//!
//! Sharded maps of counter id -> TAT under short mutexes. A decision locks the
//! shards of its counters in index order (no deadlock), evaluates them together and
//! charges all or none. Memory is bounded: a shard at its share of `max_keys`
//! first drops expired counters (a TAT in the past is the same as no counter), and
//! if none expired evicts the one nearest to replenished among a sample, which is
//! the eviction that forgives the least.

use std::{
    collections::HashMap,
    sync::{Mutex, MutexGuard, OnceLock},
    time::Instant,
};

use super::algorithm::{self, CellOutcome, Gcra};

const SHARDS: usize = 64;
/// Entries looked at when evicting from a full shard with nothing expired.
const SAMPLE: usize = 16;

struct Shard {
    map: HashMap<u128, u64>,
    /// When the shard was last swept for expired entries.
    swept_at: u64,
}

/// The store.
pub struct MemoryStore {
    shards: Vec<Mutex<Shard>>,
    per_shard: usize,
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStore")
            .field("per_shard", &self.per_shard)
            .finish()
    }
}

/// Microseconds on a process-wide monotonic clock.
pub fn now_us() -> u64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    // Start at 1 s so "now" is never 0.
    EPOCH.get_or_init(Instant::now).elapsed().as_micros() as u64 + 1_000_000
}

/// One counter of a decision.
#[derive(Debug, Clone, Copy)]
pub struct CellRef {
    pub id: [u8; 16],
    pub gcra: Gcra,
    pub cost: u64,
}

impl MemoryStore {
    pub fn new(max_keys: usize) -> MemoryStore {
        let per_shard = max_keys.div_ceil(SHARDS).max(1);
        MemoryStore {
            shards: (0..SHARDS)
                .map(|_| {
                    Mutex::new(Shard {
                        map: HashMap::new(),
                        swept_at: 0,
                    })
                })
                .collect(),
            per_shard,
        }
    }

    fn shard_of(id: u128) -> usize {
        (id as usize) % SHARDS
    }

    /// How many counters are held.
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().map_or(0, |s| s.map.len()))
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Decides a request at `now` (µs, [`now_us`]).
    pub fn decide(&self, cells: &[CellRef], now: u64) -> (bool, Vec<CellOutcome>) {
        let ids: Vec<u128> = cells.iter().map(|c| u128::from_be_bytes(c.id)).collect();
        let mut order: Vec<usize> = ids.iter().map(|id| Self::shard_of(*id)).collect();
        order.sort_unstable();
        order.dedup();
        // Lock in index order; a poisoned shard (a panic elsewhere) is still usable:
        // its map holds plain numbers.
        let mut guards: Vec<(usize, MutexGuard<'_, Shard>)> = order
            .iter()
            .map(|&i| {
                (
                    i,
                    self.shards[i]
                        .lock()
                        .unwrap_or_else(|poisoned| poisoned.into_inner()),
                )
            })
            .collect();
        let shard = |id: u128| -> usize {
            let s = Self::shard_of(id);
            guards.iter().position(|(i, _)| *i == s).unwrap_or(0)
        };
        let slots: Vec<usize> = ids.iter().map(|id| shard(*id)).collect();
        let inputs: Vec<(Gcra, Option<u64>, u64)> = cells
            .iter()
            .zip(&ids)
            .zip(&slots)
            .map(|((c, id), &slot)| (c.gcra, guards[slot].1.map.get(id).copied(), c.cost))
            .collect();
        let (allowed, outcomes) = algorithm::decide(&inputs, now);
        if allowed {
            for ((id, &slot), o) in ids.iter().zip(&slots).zip(&outcomes) {
                let per_shard = self.per_shard;
                let g = &mut guards[slot].1;
                if !g.map.contains_key(id) && g.map.len() >= per_shard {
                    make_room(g, now, per_shard);
                }
                g.map.insert(*id, o.new_tat);
            }
        }
        (allowed, outcomes)
    }
}

fn make_room(shard: &mut Shard, now: u64, per_shard: usize) {
    // A full sweep at most once a second per shard; between sweeps, sample.
    if now.saturating_sub(shard.swept_at) >= 1_000_000 {
        shard.swept_at = now;
        shard.map.retain(|_, tat| *tat > now);
        if shard.map.len() < per_shard {
            return;
        }
    }
    // Nothing expired: evict the sampled entry nearest to replenished.
    let victim = shard
        .map
        .iter()
        .take(SAMPLE)
        .min_by_key(|(_, tat)| **tat)
        .map(|(k, _)| *k);
    if let Some(k) = victim {
        shard.map.remove(&k);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(n: u8, quota: u64) -> CellRef {
        let window = 60_000_000;
        CellRef {
            id: [n; 16],
            gcra: Gcra {
                interval: window / quota,
                window,
            },
            cost: 1,
        }
    }

    #[test]
    fn exactly_the_quota_under_threads() {
        let store = std::sync::Arc::new(MemoryStore::new(1000));
        let passed = std::sync::atomic::AtomicUsize::new(0);
        let now = now_us();
        std::thread::scope(|s| {
            for _ in 0..8 {
                s.spawn(|| {
                    for _ in 0..50 {
                        if store.decide(&[cell(1, 37)], now).0 {
                            passed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        }
                    }
                });
            }
        });
        assert_eq!(passed.into_inner(), 37);
    }

    #[test]
    fn all_or_nothing_across_shards() {
        let store = MemoryStore::new(1000);
        let now = now_us();
        let (a, b) = (cell(1, 5), cell(2, 1));
        assert!(store.decide(&[a, b], now).0);
        // b is exhausted: a is not charged by the refused requests.
        for _ in 0..10 {
            assert!(!store.decide(&[a, b], now).0);
        }
        let (_, o) = store.decide(&[a], now);
        assert_eq!(o[0].remaining, 3);
    }

    #[test]
    fn bounded_with_eviction() {
        let store = MemoryStore::new(SHARDS * 4);
        let now = now_us();
        for i in 0..10_000u32 {
            let mut id = [0u8; 16];
            id[..4].copy_from_slice(&i.to_be_bytes());
            id[15] = (i % 251) as u8;
            let c = CellRef { id, ..cell(0, 10) };
            assert!(store.decide(&[c], now).0);
        }
        assert!(store.len() <= SHARDS * 4, "{} keys", store.len());
    }
}
