//! Output records with provenance: what was computed, with which version and parameters.

use serde::Serialize;

/// Where a result came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Provenance {
    /// spinbat version (`CARGO_PKG_VERSION`).
    pub version: String,
    /// Git revision at build time, when known.
    pub git_rev: Option<String>,
    /// Seconds since the Unix epoch when the record was made.
    pub created_unix: u64,
    /// Worker threads used.
    pub threads: usize,
}

impl Provenance {
    /// Provenance of this build and run.
    pub fn current() -> Self {
        Provenance {
            version: env!("CARGO_PKG_VERSION").to_string(),
            git_rev: option_env!("SPINBAT_GIT_REV").map(str::to_string),
            created_unix: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
            threads: rayon::current_num_threads(),
        }
    }
}
