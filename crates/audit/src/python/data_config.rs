//! Config files Flask reads with `app.config.from_file(name, load=json.load)`,
//! `load=tomllib.load` or `load=yaml.safe_load`: a JSON object, a TOML
//! document or a YAML mapping whose upper-case top-level keys become config
//! keys (Flask's `from_mapping` keeps only those).
//!
//! Such a file becomes facts of a module of its own, its keys the module's
//! globals with the values as the Python literals they load as, each pointing at
//! its place in the file, so `from_file` resolves like `from_pyfile` and the
//! rules read and report the values where they are written. A file that is not
//! an object / table with at least one upper-case key yields nothing.

use std::collections::BTreeMap;

use ruff_text_size::{TextRange, TextSize};

use super::{
    facts::{GlobalBinding, PyFacts},
    value::{Kind, Value},
};
use crate::source::FileId;

/// Which syntax a data config file is in, by its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataSyntax {
    Json,
    Toml,
    Yaml,
}

impl DataSyntax {
    pub fn of(rel: &str) -> Option<DataSyntax> {
        let lower = rel.to_ascii_lowercase();
        if lower.ends_with(".json") {
            Some(DataSyntax::Json)
        } else if lower.ends_with(".toml") {
            Some(DataSyntax::Toml)
        } else if lower.ends_with(".yaml") || lower.ends_with(".yml") {
            Some(DataSyntax::Yaml)
        } else {
            None
        }
    }
}

/// Whether a top-level key is one `from_mapping` keeps.
fn is_config_name(k: &str) -> bool {
    k.bytes().next().is_some_and(|b| b.is_ascii_uppercase())
        && k.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

/// The facts of a data config file, or `None` when it holds no config keys
/// (any other JSON or TOML file: package.json, a fixture, a tool's settings).
pub fn analyze(file: FileId, text: &str, syntax: DataSyntax, module: &str) -> Option<PyFacts> {
    let globals = match syntax {
        DataSyntax::Json => json_globals(text)?,
        DataSyntax::Toml => toml_globals(text)?,
        DataSyntax::Yaml => yaml_globals(text)?,
    };
    if globals.is_empty() {
        return None;
    }
    // An empty module's facts (its module scope and nothing else), then the keys.
    let mut facts = super::analyze(file, "", module, false).ok()?;
    facts.globals = globals;
    Some(facts)
}

fn range(start: usize, end: usize) -> TextRange {
    let clamp = |n: usize| TextSize::new(u32::try_from(n).unwrap_or(u32::MAX));
    TextRange::new(clamp(start), clamp(end.max(start)))
}

fn json_globals(text: &str) -> Option<Vec<GlobalBinding>> {
    let parsed: serde_json::Value = serde_json::from_str(text).ok()?;
    let object = parsed.as_object()?;
    let places = json_key_places(text);
    let mut out = Vec::new();
    for (key, value) in object {
        if !is_config_name(key) {
            continue;
        }
        // The last occurrence wins, as it does for the parser.
        let Some(&(start, end)) = places.get(key.as_str()) else {
            continue;
        };
        let r = range(start, end);
        out.push(GlobalBinding {
            name: key.as_str().into(),
            value: Value::new(r, json_kind(value, r)),
            range: r,
        });
    }
    out.sort_by_key(|g| g.range.start());
    Some(out)
}

fn json_kind(v: &serde_json::Value, r: TextRange) -> Kind {
    match v {
        serde_json::Value::Null => Kind::None,
        serde_json::Value::Bool(b) => Kind::Bool(*b),
        serde_json::Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => Kind::Int(i),
            (None, Some(f)) => Kind::Float(f),
            _ => Kind::Unknown,
        },
        serde_json::Value::String(s) => str_kind(s),
        serde_json::Value::Array(items) => Kind::List(
            items
                .iter()
                .map(|i| Value::new(r, json_kind(i, r)))
                .collect(),
        ),
        serde_json::Value::Object(map) => Kind::Dict(
            map.iter()
                .map(|(k, v)| {
                    (
                        Some(Value::new(r, str_kind(k))),
                        Value::new(r, json_kind(v, r)),
                    )
                })
                .collect(),
        ),
    }
}

fn str_kind(s: &str) -> Kind {
    if s.len() > super::eval::MAX_STRING {
        Kind::LongStr(s.len())
    } else {
        Kind::Str(s.into())
    }
}

/// Where each key of the top-level object is written: from the key's opening
/// quote to the end of its value, by byte offset. The text is valid JSON (parsed
/// before), so a scan of strings and nesting depth suffices.
fn json_key_places(text: &str) -> BTreeMap<String, (usize, usize)> {
    let b = text.as_bytes();
    let mut out = BTreeMap::new();
    let mut depth = 0usize;
    let mut i = 0;
    // The key being read at depth 1: its text and start; then where its value began.
    let mut key: Option<(String, usize)> = None;
    let mut last_value_end = 0;
    let mut expect_key = false;
    while i < b.len() {
        match b[i] {
            b'"' => {
                let start = i;
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                let end = (i + 1).min(b.len());
                if depth == 1 && expect_key {
                    let k = serde_json::from_str::<String>(&text[start..end]).unwrap_or_default();
                    key = Some((k, start));
                    expect_key = false;
                } else {
                    last_value_end = end;
                }
            }
            b'{' | b'[' => {
                depth += 1;
                if depth == 1 && b[i] == b'{' {
                    expect_key = true;
                }
            }
            b'}' | b']' => {
                if depth == 1 {
                    if let Some((k, start)) = key.take() {
                        out.insert(k, (start, value_end(last_value_end, i)));
                    }
                }
                depth = depth.saturating_sub(1);
                last_value_end = i + 1;
            }
            b',' if depth == 1 => {
                if let Some((k, start)) = key.take() {
                    out.insert(k, (start, value_end(last_value_end, i)));
                }
                expect_key = true;
            }
            c if depth >= 1 && !c.is_ascii_whitespace() && c != b':' && c != b',' => {
                // A number, true, false or null: runs to the next delimiter.
                while i + 1 < b.len()
                    && !matches!(b[i + 1], b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t')
                {
                    i += 1;
                }
                last_value_end = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// The end of a value that ends before `delim`: the last value byte seen, or the
/// delimiter itself when nothing was (never before the key).
fn value_end(last_value_end: usize, delim: usize) -> usize {
    if last_value_end > 0 && last_value_end <= delim {
        last_value_end
    } else {
        delim
    }
}

fn toml_globals(text: &str) -> Option<Vec<GlobalBinding>> {
    let table: BTreeMap<String, toml::Spanned<toml::Value>> = toml::from_str(text).ok()?;
    let mut out = Vec::new();
    for (key, spanned) in &table {
        if !is_config_name(key) {
            continue;
        }
        let span = spanned.span();
        let r = range(span.start, span.end);
        out.push(GlobalBinding {
            name: key.as_str().into(),
            value: Value::new(r, toml_kind(spanned.get_ref(), r)),
            range: r,
        });
    }
    out.sort_by_key(|g| g.range.start());
    Some(out)
}

fn toml_kind(v: &toml::Value, r: TextRange) -> Kind {
    match v {
        toml::Value::String(s) => str_kind(s),
        toml::Value::Integer(i) => Kind::Int(*i),
        toml::Value::Float(f) => Kind::Float(*f),
        toml::Value::Boolean(b) => Kind::Bool(*b),
        toml::Value::Datetime(d) => str_kind(&d.to_string()),
        toml::Value::Array(items) => Kind::List(
            items
                .iter()
                .map(|i| Value::new(r, toml_kind(i, r)))
                .collect(),
        ),
        toml::Value::Table(map) => Kind::Dict(
            map.iter()
                .map(|(k, v)| {
                    (
                        Some(Value::new(r, str_kind(k))),
                        Value::new(r, toml_kind(v, r)),
                    )
                })
                .collect(),
        ),
    }
}

/// The first document's top-level mapping. Values are reported where their
/// key is written (the key's line and the indented lines under it).
fn yaml_globals(text: &str) -> Option<Vec<GlobalBinding>> {
    if flow_depth(text) > MAX_YAML_FLOW_DEPTH {
        return None;
    }
    let docs = yaml_rust2::YamlLoader::load_from_str(text).ok()?;
    let map = docs.first()?.as_hash()?;
    let places = yaml_key_places(text);
    let mut out = Vec::new();
    for (k, v) in map {
        let Some(key) = k.as_str() else { continue };
        if !is_config_name(key) {
            continue;
        }
        let Some(&(start, end)) = places.get(key) else {
            continue;
        };
        let r = range(start, end);
        // PyYAML (YAML 1.1) loads a plain `off` / `yes` as a boolean.
        let raw = text[start..end]
            .split_once(':')
            .map_or("", |(_, v)| v.trim());
        let kind = match v {
            yaml_rust2::Yaml::String(s) if !raw.starts_with(['"', '\'']) => {
                yaml11_bool(s).map_or_else(|| yaml_kind(v, r, 0), Kind::Bool)
            }
            _ => yaml_kind(v, r, 0),
        };
        out.push(GlobalBinding {
            name: key.into(),
            value: Value::new(r, kind),
            range: r,
        });
    }
    out.sort_by_key(|g| g.range.start());
    Some(out)
}

/// The YAML 1.1 booleans PyYAML reads from plain scalars (yaml-rust2 follows
/// YAML 1.2, where they are strings).
fn yaml11_bool(s: &str) -> Option<bool> {
    match s {
        "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "y" | "Y" => Some(true),
        "no" | "No" | "NO" | "off" | "Off" | "OFF" | "n" | "N" => Some(false),
        _ => None,
    }
}

/// Config values nest a few levels; deeper `[[[...` is not a config file, and
/// the YAML loader builds (and drops) its tree recursively.
const MAX_YAML_FLOW_DEPTH: usize = 64;

/// The deepest nesting of `[` / `{` (quotes not told apart: an overestimate).
fn flow_depth(text: &str) -> usize {
    let (mut depth, mut max) = (0usize, 0usize);
    for b in text.bytes() {
        match b {
            b'[' | b'{' => {
                depth += 1;
                max = max.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

fn yaml_kind(v: &yaml_rust2::Yaml, r: TextRange, depth: usize) -> Kind {
    use yaml_rust2::Yaml;
    if depth > 16 {
        return Kind::Unknown;
    }
    match v {
        // `${SECRET_KEY}`: a placeholder some loaders fill from the
        // environment; its value is not in the file.
        Yaml::String(s) if s.contains("${") => Kind::Unknown,
        // Nested: quoted or not cannot be told here, and PyYAML reads a
        // plain `off` as False.
        Yaml::String(s) if yaml11_bool(s).is_some() => Kind::Unknown,
        Yaml::String(s) => str_kind(s),
        Yaml::Integer(i) => Kind::Int(*i),
        Yaml::Real(f) => f.parse().map_or(Kind::Unknown, Kind::Float),
        Yaml::Boolean(b) => Kind::Bool(*b),
        Yaml::Null => Kind::None,
        Yaml::Array(items) => Kind::List(
            items
                .iter()
                .map(|i| Value::new(r, yaml_kind(i, r, depth + 1)))
                .collect(),
        ),
        Yaml::Hash(map) => Kind::Dict(
            map.iter()
                .map(|(k, v)| {
                    (
                        Some(Value::new(r, yaml_kind(k, r, depth + 1))),
                        Value::new(r, yaml_kind(v, r, depth + 1)),
                    )
                })
                .collect(),
        ),
        Yaml::Alias(_) | Yaml::BadValue => Kind::Unknown,
    }
}

/// Where each top-level key of a block mapping is written: from the key to
/// the end of its value (its line, and the more indented lines after it), by
/// byte offset. Keys are at column 0, bare or quoted.
fn yaml_key_places(text: &str) -> BTreeMap<String, (usize, usize)> {
    let mut out = BTreeMap::new();
    let mut current: Option<(String, usize, usize)> = None;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let body = line.trim_end();
        let end = start + body.len();
        let top_level = !body.is_empty()
            && !body.starts_with([' ', '\t', '#'])
            && !body.starts_with("---")
            && !body.starts_with("...");
        if !top_level {
            if let Some((_, _, e)) = current.as_mut() {
                if !body.trim_start().is_empty() && !body.trim_start().starts_with('#') {
                    *e = end;
                }
            }
            continue;
        }
        if let Some((k, s, e)) = current.take() {
            out.insert(k, (s, e));
        }
        let Some(colon) = body.find(':') else {
            continue;
        };
        let key = body[..colon].trim().trim_matches(['"', '\'']);
        if !key.is_empty() {
            current = Some((key.to_string(), start, end));
        }
    }
    if let Some((k, s, e)) = current {
        out.insert(k, (s, e));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn globals(text: &str, syntax: DataSyntax) -> Vec<(String, String, String)> {
        analyze(0, text, syntax, "<data:t>")
            .map(|f| {
                f.globals
                    .iter()
                    .map(|g| {
                        let r = g.range;
                        (
                            g.name.to_string(),
                            format!("{:?}", g.value.kind),
                            text[usize::from(r.start())..usize::from(r.end())].to_string(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    #[test]
    fn json_keys_point_at_their_place() {
        let text = "{\n  \"SECRET_KEY\": \"dev\",\n  \"debug\": true,\n  \"DEBUG\": true,\n  \"PORT\": 8000,\n  \"SESSION_COOKIE_SECURE\": false, \"NESTED\": {\"A\": [1, \"}\"]},\n  \"X\": null\n}\n";
        let g = globals(text, DataSyntax::Json);
        let names: Vec<&str> = g.iter().map(|(n, _, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "SECRET_KEY",
                "DEBUG",
                "PORT",
                "SESSION_COOKIE_SECURE",
                "NESTED",
                "X"
            ]
        );
        assert_eq!(g[0].2, "\"SECRET_KEY\": \"dev\"");
        assert!(g[0].1.contains("Str"), "{:?}", g[0]);
        assert_eq!(g[1].2, "\"DEBUG\": true");
        assert_eq!(g[1].1, "Bool(true)");
        assert_eq!(g[2].2, "\"PORT\": 8000");
        assert_eq!(g[3].2, "\"SESSION_COOKIE_SECURE\": false");
        assert_eq!(g[4].2, "\"NESTED\": {\"A\": [1, \"}\"]}");
        assert_eq!(g[5].2, "\"X\": null");
    }

    #[test]
    fn toml_keys_point_at_their_values() {
        let text = "SECRET_KEY = \"change-me\"\nDEBUG = true\nname = \"x\"\n\n[SQLALCHEMY_ENGINE_OPTIONS]\npool_size = 5\n";
        let g = globals(text, DataSyntax::Toml);
        let names: Vec<&str> = g.iter().map(|(n, _, _)| n.as_str()).collect();
        assert_eq!(names, ["SECRET_KEY", "DEBUG", "SQLALCHEMY_ENGINE_OPTIONS"]);
        assert_eq!(g[0].2, "\"change-me\"");
        assert_eq!(g[1].1, "Bool(true)");
    }

    #[test]
    fn other_json_and_toml_files_yield_nothing() {
        for (text, syntax) in [
            (
                "{\"name\": \"web\", \"version\": \"1.0.0\"}",
                DataSyntax::Json,
            ),
            ("[1, 2, 3]", DataSyntax::Json),
            ("{\"SECRET_KEY\": ", DataSyntax::Json),
            ("", DataSyntax::Json),
            ("[tool.black]\nline-length = 88\n", DataSyntax::Toml),
            ("SECRET_KEY = ", DataSyntax::Toml),
            ("\u{0}\u{ffff}", DataSyntax::Toml),
        ] {
            assert!(
                analyze(0, text, syntax, "<data:t>").is_none(),
                "{text:?} gave facts"
            );
        }
    }

    #[test]
    fn yaml_keys_point_at_their_lines() {
        let text = "# app settings\nSECRET_KEY: dev-key\ndebug: true\nDEBUG: yes\n\"PORT\": 8000\nSQLALCHEMY_ENGINE_OPTIONS:\n  pool_size: 5\n  # comment\n\nMAIL_PASSWORD: ${MAIL_PASSWORD}\nADMINS:\n  - a@example.com\n";
        let g = globals(text, DataSyntax::Yaml);
        let names: Vec<&str> = g.iter().map(|(n, _, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "SECRET_KEY",
                "DEBUG",
                "PORT",
                "SQLALCHEMY_ENGINE_OPTIONS",
                "MAIL_PASSWORD",
                "ADMINS"
            ]
        );
        assert_eq!(g[0].2, "SECRET_KEY: dev-key");
        assert!(g[0].1.contains("Str"), "{:?}", g[0]);
        // A plain `yes` loads as True with PyYAML (YAML 1.1).
        assert_eq!(g[1].1, "Bool(true)");
        assert_eq!(g[2].1, "Int(8000)");
        assert_eq!(g[3].2, "SQLALCHEMY_ENGINE_OPTIONS:\n  pool_size: 5");
        assert_eq!(g[4].1, "Unknown", "an env placeholder is not a value");
        assert_eq!(g[5].2, "ADMINS:\n  - a@example.com");
    }

    #[test]
    fn other_yaml_files_yield_nothing() {
        for text in [
            "name: CI\non: [push]\njobs: {}\n",
            "- SECRET_KEY\n- DEBUG\n",
            "SECRET_KEY: [\n",
            "",
            "plain text",
        ] {
            assert!(
                analyze(0, text, DataSyntax::Yaml, "<data:t>").is_none(),
                "{text:?} gave facts"
            );
        }
        let deep = format!("A: {}1{}\n", "[".repeat(100_000), "]".repeat(100_000));
        assert!(analyze(0, &deep, DataSyntax::Yaml, "<data:t>").is_none());
    }

    #[test]
    fn deep_nesting_is_refused_without_a_crash() {
        let deep = format!("{{\"A\": {}1{}}}", "[".repeat(100_000), "]".repeat(100_000));
        // serde_json stops at its recursion limit: no facts, no panic.
        assert!(analyze(0, &deep, DataSyntax::Json, "<data:t>").is_none());
        let deep_toml = format!("A = {}1{}\n", "[".repeat(100_000), "]".repeat(100_000));
        let _ = analyze(0, &deep_toml, DataSyntax::Toml, "<data:t>");
    }
}
