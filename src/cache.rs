//! A content-addressed response cache on disk: one file per key, written atomically
//! (write beside, then rename), so concurrent writers never leave a torn entry, and an
//! unreadable entry is simply a miss.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

#[derive(Debug, Clone)]
pub struct Cache {
    dir: PathBuf,
}

impl Cache {
    pub fn new(dir: PathBuf) -> Cache {
        Cache { dir }
    }

    /// The key for a request: a hash of every part that could change the response.
    pub fn key(parts: &[&str]) -> String {
        let mut h = Sha256::new();
        for p in parts {
            h.update((p.len() as u64).to_le_bytes());
            h.update(p.as_bytes());
        }
        format!("{:x}", h.finalize())
    }

    fn path(&self, key: &str) -> PathBuf {
        let shard = key.get(..2).unwrap_or("00");
        self.dir.join(shard).join(format!("{key}.json"))
    }

    pub fn get(&self, key: &str) -> Option<String> {
        std::fs::read_to_string(self.path(key)).ok()
    }

    /// Stores a value; failures are ignored (a cache must never fail a run).
    pub fn put(&self, key: &str, value: &str) {
        let path = self.path(key);
        let _ = write_atomic(&path, value);
    }
}

fn write_atomic(path: &Path, value: &str) -> std::io::Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| std::io::Error::other("no parent"))?;
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(
        ".{}.{}.{:x}.tmp",
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        std::process::id(),
        fastrand::u64(..)
    ));
    std::fs::write(&tmp, value)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_separates_keys() {
        let dir = crate::test_support::TempDir::new("cache");
        let c = Cache::new(dir.to_path_buf());
        let k1 = Cache::key(&["model", "prompt"]);
        let k2 = Cache::key(&["modelp", "rompt"]);
        assert_ne!(k1, k2, "part boundaries matter");
        assert_eq!(c.get(&k1), None);
        c.put(&k1, "value");
        assert_eq!(c.get(&k1).as_deref(), Some("value"));
    }
}
