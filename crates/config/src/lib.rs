//! Finding and reading the flaskguard configuration.
//!
//! The configuration is `flaskguard.toml` (or `.flaskguard.toml`), or the
//! `[tool.flaskguard]` table of a `pyproject.toml`, found by walking up from the
//! target. It has one section per engine: `[audit]`, `[scan]`, `[shield]`. This crate
//! finds and parses the file and checks its top level; each engine deserialises its
//! own section with [`ConfigFile::section`], whose errors name the file and the full
//! key path. Unknown keys are errors everywhere (engines use
//! `#[serde(deny_unknown_fields)]`).

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

/// The engine sections a configuration may have.
pub const SECTIONS: [&str; 3] = ["audit", "scan", "shield"];

/// File names tried in each directory, in order.
pub const FILE_NAMES: [&str; 3] = ["flaskguard.toml", ".flaskguard.toml", "pyproject.toml"];

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: cannot read: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: invalid TOML: {message}")]
    Syntax { path: PathBuf, message: String },
    #[error("{path}: unknown key `{key}` (expected one of: {expected})")]
    UnknownSection {
        path: PathBuf,
        key: String,
        expected: String,
    },
    #[error("{path}: `{key}`: {message}")]
    Invalid {
        path: PathBuf,
        key: String,
        message: String,
    },
}

/// A parsed configuration file.
#[derive(Debug, Clone)]
pub struct ConfigFile {
    pub path: PathBuf,
    /// `tool.flaskguard.` for pyproject.toml, empty otherwise: prefixed to key paths
    /// in messages so they match what the user sees in the file.
    key_prefix: String,
    table: toml::Table,
}

impl ConfigFile {
    /// An empty configuration (no file found).
    pub fn empty() -> ConfigFile {
        ConfigFile {
            path: PathBuf::new(),
            key_prefix: String::new(),
            table: toml::Table::new(),
        }
    }

    /// Whether this came from a file.
    pub fn is_file(&self) -> bool {
        !self.path.as_os_str().is_empty()
    }

    /// The directory relative paths in the file are resolved against.
    pub fn dir(&self) -> Option<&Path> {
        self.path.parent()
    }

    /// Reads an explicitly named file (`--config`). A `pyproject.toml` without a
    /// `[tool.flaskguard]` table is an empty configuration.
    pub fn load(path: &Path) -> Result<ConfigFile, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(path, &text)
    }

    /// Parses `text` as the contents of `path`.
    pub fn parse(path: &Path, text: &str) -> Result<ConfigFile, ConfigError> {
        let mut doc: toml::Table =
            text.parse()
                .map_err(|e: toml::de::Error| ConfigError::Syntax {
                    path: path.to_path_buf(),
                    message: syntax_message(&e, text),
                })?;
        let is_pyproject = path.file_name().and_then(|n| n.to_str()) == Some("pyproject.toml");
        let (table, key_prefix) = if is_pyproject {
            let tool = doc.remove("tool");
            let fg = match tool {
                Some(toml::Value::Table(mut t)) => t.remove("flaskguard"),
                _ => None,
            };
            match fg {
                Some(toml::Value::Table(t)) => (t, "tool.flaskguard.".to_string()),
                Some(_) => {
                    return Err(ConfigError::Invalid {
                        path: path.to_path_buf(),
                        key: "tool.flaskguard".into(),
                        message: "expected a table".into(),
                    })
                }
                None => (toml::Table::new(), "tool.flaskguard.".to_string()),
            }
        } else {
            (doc, String::new())
        };
        for (key, value) in &table {
            if !SECTIONS.contains(&key.as_str()) {
                return Err(ConfigError::UnknownSection {
                    path: path.to_path_buf(),
                    key: format!("{key_prefix}{key}"),
                    expected: SECTIONS.map(|s| format!("[{key_prefix}{s}]")).join(", "),
                });
            }
            if !value.is_table() {
                return Err(ConfigError::Invalid {
                    path: path.to_path_buf(),
                    key: format!("{key_prefix}{key}"),
                    message: "expected a table".into(),
                });
            }
        }
        Ok(ConfigFile {
            path: path.to_path_buf(),
            key_prefix,
            table,
        })
    }

    /// Walks up from `start` (a file or directory) to the first directory holding a
    /// configuration. A `pyproject.toml` counts only when it has `[tool.flaskguard]`.
    pub fn discover(start: &Path) -> Result<Option<ConfigFile>, ConfigError> {
        let start = if start.is_file() {
            start.parent().unwrap_or(start).to_path_buf()
        } else {
            start.to_path_buf()
        };
        let start = std::path::absolute(&start).unwrap_or(start);
        for dir in start.ancestors() {
            for name in FILE_NAMES {
                let candidate = dir.join(name);
                if !candidate.is_file() {
                    continue;
                }
                if name == "pyproject.toml" {
                    let text = std::fs::read_to_string(&candidate).map_err(|source| {
                        ConfigError::Read {
                            path: candidate.clone(),
                            source,
                        }
                    })?;
                    if !has_flaskguard_table(&text) {
                        continue;
                    }
                    return Self::parse(&candidate, &text).map(Some);
                }
                return Self::load(&candidate).map(Some);
            }
        }
        Ok(None)
    }

    /// Deserialises one engine section (`audit`, `scan`, `shield`); a missing section
    /// is `T::default()`. Errors name the file and the full key path.
    pub fn section<T: DeserializeOwned + Default>(&self, name: &str) -> Result<T, ConfigError> {
        debug_assert!(SECTIONS.contains(&name));
        let Some(value) = self.table.get(name) else {
            return Ok(T::default());
        };
        let prefix = format!("{}{name}", self.key_prefix);
        let de = value.clone();
        serde_path_to_error::deserialize(de).map_err(|e| {
            let inner = e.inner().to_string();
            let path = e.path().to_string();
            let mut key = if path == "." || path.is_empty() {
                prefix.clone()
            } else {
                format!("{prefix}.{path}")
            };
            // serde reports an unknown field at its parent; name the field itself.
            if let Some(field) = unknown_field(&inner) {
                if !key.ends_with(&format!(".{field}")) {
                    key = format!("{key}.{field}");
                }
            }
            ConfigError::Invalid {
                path: self.path.clone(),
                key,
                message: inner.trim_end_matches('\n').replace('\n', " "),
            }
        })
    }

    /// Whether the file has this section.
    pub fn has_section(&self, name: &str) -> bool {
        self.table.contains_key(name)
    }
}

fn has_flaskguard_table(pyproject: &str) -> bool {
    pyproject
        .parse::<toml::Table>()
        .ok()
        .and_then(|t| t.get("tool").and_then(|t| t.get("flaskguard")).map(|_| ()))
        .is_some()
}

fn unknown_field(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("unknown field `")?;
    rest.split('`').next()
}

fn syntax_message(e: &toml::de::Error, text: &str) -> String {
    let msg = e.message().trim_end().replace('\n', " ");
    match e.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let col = before
                .rsplit('\n')
                .next()
                .map(|l| l.chars().count())
                .unwrap_or(0)
                + 1;
            format!("line {line}, column {col}: {msg}")
        }
        None => msg,
    }
}

#[cfg(test)]
mod tests {
    use std::fs;

    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Default, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
    struct Audit {
        select: Vec<String>,
        fail_on: Option<String>,
        nested: Nested,
    }

    #[derive(Debug, Default, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields, default)]
    struct Nested {
        workers: u32,
    }

    #[test]
    fn finds_flaskguard_toml_walking_up() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(
            dir.path().join("flaskguard.toml"),
            "[audit]\nselect = [\"KEY\"]\n",
        )
        .unwrap();
        let deep = dir.path().join("a/b");
        fs::create_dir_all(&deep).unwrap();
        let cfg = ConfigFile::discover(&deep).unwrap().unwrap();
        let audit: Audit = cfg.section("audit").unwrap();
        assert_eq!(audit.select, ["KEY"]);
        assert_eq!(cfg.section::<Audit>("scan").unwrap(), Audit::default());
    }

    #[test]
    fn pyproject_counts_only_with_its_table() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(
            dir.path().join("pyproject.toml"),
            "[project]\nname = \"x\"\n",
        )
        .unwrap();
        let inner = dir.path().join("inner");
        fs::create_dir_all(&inner).unwrap();
        fs::write(inner.join("pyproject.toml"), "[project]\nname = \"y\"\n").unwrap();
        assert!(
            ConfigFile::discover(&inner).unwrap().is_none()
                || !ConfigFile::discover(&inner)
                    .unwrap()
                    .unwrap()
                    .path
                    .starts_with(dir.path())
        );
        fs::write(
            dir.path().join("pyproject.toml"),
            "[project]\nname = \"x\"\n[tool.flaskguard.audit]\nfail-on = \"high\"\n",
        )
        .unwrap();
        let cfg = ConfigFile::discover(&inner).unwrap().unwrap();
        assert_eq!(
            cfg.path,
            std::path::absolute(dir.path().join("pyproject.toml")).unwrap()
        );
        let audit: Audit = cfg.section("audit").unwrap();
        assert_eq!(audit.fail_on.as_deref(), Some("high"));
    }

    #[test]
    fn unknown_keys_name_file_and_key_path() {
        let p = Path::new("proj/flaskguard.toml");
        let cfg = ConfigFile::parse(p, "[audit]\nselct = []\n").unwrap();
        let e = cfg.section::<Audit>("audit").unwrap_err().to_string();
        assert!(
            e.starts_with("proj/flaskguard.toml: `audit.selct`: unknown field `selct`"),
            "{e}"
        );

        let cfg = ConfigFile::parse(p, "[audit.nested]\nworkrs = 2\n").unwrap();
        let e = cfg.section::<Audit>("audit").unwrap_err().to_string();
        assert!(e.contains("`audit.nested.workrs`"), "{e}");

        let e = ConfigFile::parse(p, "[audti]\n").unwrap_err().to_string();
        assert!(e.contains("unknown key `audti`"), "{e}");

        let py = Path::new("pyproject.toml");
        let cfg = ConfigFile::parse(py, "[tool.flaskguard.audit]\nbogus = 1\n").unwrap();
        let e = cfg.section::<Audit>("audit").unwrap_err().to_string();
        assert!(e.contains("`tool.flaskguard.audit.bogus`"), "{e}");
        let e = ConfigFile::parse(py, "[tool.flaskguard.oops]\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("`tool.flaskguard.oops`"), "{e}");
    }

    #[test]
    fn wrong_types_name_the_key() {
        let cfg = ConfigFile::parse(Path::new("f.toml"), "[audit]\nselect = \"KEY\"\n").unwrap();
        let e = cfg.section::<Audit>("audit").unwrap_err().to_string();
        assert!(e.contains("`audit.select`"), "{e}");
        let cfg = ConfigFile::parse(Path::new("f.toml"), "[audit.nested]\nworkers = -1\n").unwrap();
        let e = cfg.section::<Audit>("audit").unwrap_err().to_string();
        assert!(e.contains("`audit.nested.workers`"), "{e}");
    }

    #[test]
    fn syntax_errors_give_line_and_column() {
        let e = ConfigFile::parse(Path::new("f.toml"), "[audit]\nselect = [\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("f.toml: invalid TOML: line"), "{e}");
        let e = ConfigFile::parse(Path::new("f.toml"), "audit = 3\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("`audit`: expected a table"), "{e}");
    }

    #[test]
    fn unreadable_file_is_named() {
        let e = ConfigFile::load(Path::new("/nonexistent/flaskguard.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("/nonexistent/flaskguard.toml: cannot read"),
            "{e}"
        );
    }
}
