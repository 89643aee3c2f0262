//! `--shard I/N`: which part of a suite one machine runs. The partition is a function of
//! the case key alone, so every machine, platform and evalgate version cuts a suite the
//! same way, and filters select within a shard rather than moving cases between shards.
//!
//! The hash, written down so other tools can reproduce it: take the SHA-256 of the key's
//! UTF-8 bytes, read its first 8 bytes as a big-endian unsigned 64-bit integer `h`; the
//! case belongs to shard `h mod N + 1` (shards are numbered from 1).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// One of `count` parts of a suite; `index` counts from 1, as `--shard 2/8` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShardError {
    #[error("expected I/N, e.g. 2/8 (the second of eight shards)")]
    Shape,
    #[error("{0:?} is not a whole number")]
    NotANumber(String),
    #[error("the shard count must be at least 1")]
    NoShards,
    #[error("the shard index must be between 1 and {count} (shards count from 1)")]
    OutOfRange { count: u32 },
}

impl Shard {
    /// Parses `I/N`, e.g. `2/8`.
    pub fn parse(text: &str) -> Result<Shard, ShardError> {
        let (index, count) = text.trim().split_once('/').ok_or(ShardError::Shape)?;
        let number = |s: &str| {
            s.trim()
                .parse::<u32>()
                .map_err(|_| ShardError::NotANumber(s.trim().to_string()))
        };
        let (index, count) = (number(index)?, number(count)?);
        if count == 0 {
            return Err(ShardError::NoShards);
        }
        if index == 0 || index > count {
            return Err(ShardError::OutOfRange { count });
        }
        Ok(Shard { index, count })
    }

    /// Whether the case with this key is in this shard.
    pub fn takes(&self, key: &str) -> bool {
        shard_of(key, self.count) == self.index
    }

    /// This shard's part of a rate limit: N shards together keep to the whole.
    pub fn share(&self) -> u32 {
        self.count
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// The shard (1..=count) the case with this key belongs to; see the module docs.
pub fn shard_of(key: &str, count: u32) -> u32 {
    let digest = Sha256::digest(key.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    let h = u64::from_be_bytes(first);
    (h % u64::from(count.max(1))) as u32 + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fixed values, computed apart from this code (Python's hashlib:
    /// `int.from_bytes(sha256(key.encode()).digest()[:8], 'big') % n + 1`). If this test
    /// fails, shards of one version no longer merge with those of another.
    #[test]
    fn the_partition_is_the_written_down_hash() {
        for (key, h) in [
            ("en/refund-1", 15_199_260_563_690_530_818u64),
            ("pl/fraud-claim", 12_678_437_747_068_218_680),
            ("sv/c0001", 17_745_529_879_692_804_205),
            ("ja/返金", 4_807_471_973_801_837_447),
            ("de/x", 13_368_209_639_242_462_586),
        ] {
            for n in [1u32, 3, 8, 35] {
                assert_eq!(shard_of(key, n) as u64, h % n as u64 + 1, "{key} of {n}");
            }
        }
        assert_eq!(shard_of("en/refund-1", 8), 3);
        assert_eq!(shard_of("pl/fraud-claim", 8), 1);
        assert_eq!(shard_of("sv/c0001", 8), 6);
        assert_eq!(shard_of("ja/返金", 8), 8);
        assert_eq!(shard_of("sv/c0001", 3), 2);
    }

    #[test]
    fn each_of_n_shards_takes_an_nth_of_a_rate_limit() {
        assert_eq!(Shard { index: 2, count: 8 }.share(), 8);
        assert_eq!(Shard { index: 1, count: 1 }.share(), 1);
    }

    #[test]
    fn every_key_is_in_exactly_one_shard() {
        for i in 0..500 {
            let key = format!("en/case-{i}");
            let owners: Vec<u32> = (1..=7)
                .filter(|&index| Shard { index, count: 7 }.takes(&key))
                .collect();
            assert_eq!(owners.len(), 1, "{key}: {owners:?}");
        }
    }

    #[test]
    fn parses_i_of_n_and_refuses_the_rest() {
        assert_eq!(Shard::parse("2/8"), Ok(Shard { index: 2, count: 8 }));
        assert_eq!(Shard::parse("1/1"), Ok(Shard { index: 1, count: 1 }));
        assert_eq!(Shard::parse("8"), Err(ShardError::Shape));
        assert_eq!(
            Shard::parse("0/8"),
            Err(ShardError::OutOfRange { count: 8 })
        );
        assert_eq!(
            Shard::parse("9/8"),
            Err(ShardError::OutOfRange { count: 8 })
        );
        assert_eq!(Shard::parse("1/0"), Err(ShardError::NoShards));
        assert_eq!(Shard::parse("a/8"), Err(ShardError::NotANumber("a".into())));
        assert_eq!(Shard { index: 2, count: 8 }.to_string(), "2/8");
    }
}
