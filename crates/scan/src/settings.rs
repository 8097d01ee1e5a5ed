//! The `[scan]` section of flaskguard.toml: the same options as the command line.
//! Unknown keys are errors naming the key and the file.

use std::path::PathBuf;

use serde::Deserialize;

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct ScanSettings {
    /// Target URLs scanned when none is given on the command line.
    pub targets: Vec<String>,
    /// Run the intrusive probes (login bursts, oversized bodies, cross-site POSTs…).
    pub active: Option<bool>,
    /// Login endpoints to test besides the discovered ones.
    pub login_paths: Vec<String>,
    /// Extra candidate keys for the session cookie, one per line (relative to the config file).
    pub wordlist: Option<PathBuf>,
    pub concurrency: Option<usize>,
    /// Per-request timeout in seconds.
    pub timeout: Option<f64>,
    /// Total time budget in seconds.
    pub budget: Option<f64>,
    pub select: Option<Vec<String>>,
    pub ignore: Option<Vec<String>>,
    pub fail_on: Option<String>,
    pub output_format: Option<String>,
}
