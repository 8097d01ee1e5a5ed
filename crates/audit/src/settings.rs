//! What a run is asked to do: the `[audit]` config section as written by the user
//! ([`AuditConfig`]) and the resolved settings the engine runs with
//! ([`AuditSettings`]).

use std::{collections::BTreeMap, path::PathBuf};

use checklist::Selector;
use serde::Deserialize;

/// Directories never walked into unless named on the command line (Ruff's list).
pub const DEFAULT_EXCLUDE: &[&str] = &[
    ".bzr",
    ".direnv",
    ".eggs",
    ".git",
    ".git-rewrite",
    ".hg",
    ".ipynb_checkpoints",
    ".mypy_cache",
    ".nox",
    ".pants.d",
    ".pyenv",
    ".pytest_cache",
    ".pytype",
    ".ruff_cache",
    ".svn",
    ".tox",
    ".venv",
    ".vscode",
    "__pypackages__",
    "_build",
    "buck-out",
    "dist",
    "node_modules",
    "site-packages",
    "venv",
];

/// Files larger than this are reported as a diagnostic and not read.
pub const MAX_FILE_SIZE: u64 = 10 * 1024 * 1024;

/// The `[audit]` section of flaskguard.toml / `[tool.flaskguard.audit]`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct AuditConfig {
    pub select: Option<Vec<String>>,
    pub ignore: Option<Vec<String>>,
    pub fail_on: Option<String>,
    pub output_format: Option<String>,
    /// Replaces the default exclude list.
    pub exclude: Option<Vec<String>>,
    /// Added to the exclude list.
    pub extend_exclude: Vec<String>,
    /// Glob (relative to the project root) -> control IDs or area prefixes.
    pub per_file_ignores: BTreeMap<String, Vec<String>>,
    /// An OSV advisory export (file or directory) for DEP002.
    pub advisories: Option<PathBuf>,
    /// Audit test code (tests/, test_*.py, *_test.py, conftest.py, pytest_*.py) too.
    pub include_tests: bool,
    /// The config class to treat as production, by simple or dotted name.
    pub production_config: Option<String>,
}

/// Resolved settings for one run.
#[derive(Debug, Clone)]
pub struct AuditSettings {
    /// Glob patterns excluded while walking (matched against names and root-relative paths).
    pub exclude: Vec<String>,
    pub per_file_ignores: Vec<(String, Vec<String>)>,
    pub advisories: Option<PathBuf>,
    pub include_tests: bool,
    pub production_config: Option<String>,
    /// Rules whose control is not selected are not run at all.
    pub selector: Selector,
    pub max_file_size: u64,
}

impl Default for AuditSettings {
    fn default() -> Self {
        AuditSettings {
            exclude: DEFAULT_EXCLUDE.iter().map(|s| s.to_string()).collect(),
            per_file_ignores: Vec::new(),
            advisories: None,
            include_tests: false,
            production_config: None,
            selector: Selector::default(),
            max_file_size: MAX_FILE_SIZE,
        }
    }
}

impl AuditSettings {
    /// Settings from a config section; command-line values are applied by the caller
    /// on the returned struct. Relative paths in the section are resolved against
    /// `config_dir`.
    pub fn from_config(cfg: &AuditConfig, config_dir: Option<&std::path::Path>) -> AuditSettings {
        let mut s = AuditSettings::default();
        if let Some(exclude) = &cfg.exclude {
            s.exclude = exclude.clone();
        }
        s.exclude.extend(cfg.extend_exclude.iter().cloned());
        s.per_file_ignores = cfg
            .per_file_ignores
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        s.advisories = cfg.advisories.as_ref().map(|p| match config_dir {
            Some(dir) if p.is_relative() => dir.join(p),
            _ => p.clone(),
        });
        s.include_tests = cfg.include_tests;
        s.production_config = cfg.production_config.clone();
        s
    }
}
