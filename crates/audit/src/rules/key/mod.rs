//! KEY — secrets.

pub mod key001_hardcoded_secret_key;
pub mod key002_weak_secret_key;
pub mod key003_secret_key_fallback;
pub mod key004_committed_secrets;
pub mod startup;
pub mod strength;
