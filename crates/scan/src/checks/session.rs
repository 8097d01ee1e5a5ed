//! CKE004, KEY002: the Flask session cookie (placeholder until the session crate lands).

use super::CheckDef;

/// Candidate keys for the session cookie: the built-in list plus `--wordlist`.
#[derive(Debug, Clone, Default)]
pub struct Candidates {
    pub extra: Vec<Vec<u8>>,
}

impl Candidates {
    pub fn load(path: Option<&std::path::Path>) -> Result<Candidates, crate::ScanError> {
        let _ = path;
        Ok(Candidates::default())
    }
}

pub static CHECKS: &[CheckDef] = &[];
