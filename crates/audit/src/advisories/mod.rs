//! OSV advisories for DEP002, read once per run from what `--advisories` names:
//! one JSON advisory, a JSON array of them (or an OSV API answer with `vulns`),
//! a directory of `*.json` files (recursively), or an OSV zip export such as
//! osv.dev's `all.zip`. Nothing is fetched. A file that cannot be read or
//! parsed becomes a diagnostic naming it; the rest is still used.

pub mod osv;

use std::{
    collections::HashMap,
    io::Read,
    path::{Path, PathBuf},
};

use rayon::prelude::*;
use report::{Diagnostic, DiagnosticLevel};

pub use osv::{normalize_name, Advisory, AffectedPackage, Remedy};

/// Advisory files (and zip entries) larger than this are skipped.
const MAX_ADVISORY_BYTES: u64 = 16 * 1024 * 1024;
/// Directory levels walked below the given directory.
const MAX_DEPTH: usize = 16;

/// The advisories of a run, indexed by package.
#[derive(Debug, Default)]
pub struct AdvisoryDb {
    pub advisories: Vec<Advisory>,
    /// Normalised package name -> (advisory, affected entry).
    by_package: HashMap<String, Vec<(usize, usize)>>,
}

/// An advisory that affects a pinned version.
#[derive(Debug, Clone)]
pub struct Match<'a> {
    pub advisory: &'a Advisory,
    pub remedy: Remedy,
}

impl AdvisoryDb {
    fn new(mut advisories: Vec<Advisory>) -> AdvisoryDb {
        // One record per id: the last modified wins (an export and a newer copy).
        advisories.sort_by(|a, b| a.id.cmp(&b.id).then_with(|| a.modified.cmp(&b.modified)));
        let mut deduped: Vec<Advisory> = Vec::with_capacity(advisories.len());
        for a in advisories {
            match deduped.last_mut() {
                Some(last) if last.id == a.id => *last = a,
                _ => deduped.push(a),
            }
        }
        let mut by_package: HashMap<String, Vec<(usize, usize)>> = HashMap::new();
        for (i, a) in deduped.iter().enumerate() {
            for (j, p) in a.affected.iter().enumerate() {
                by_package.entry(p.name.clone()).or_default().push((i, j));
            }
        }
        AdvisoryDb {
            advisories: deduped,
            by_package,
        }
    }

    pub fn len(&self) -> usize {
        self.advisories.len()
    }

    pub fn is_empty(&self) -> bool {
        self.advisories.is_empty()
    }

    /// Advisories affecting `version` of `name` (any spelling of the name).
    pub fn matches(&self, name: &str, version: &str) -> Vec<Match<'_>> {
        let Some(entries) = self.by_package.get(&normalize_name(name)) else {
            return Vec::new();
        };
        let mut out: Vec<Match> = Vec::new();
        for &(i, j) in entries {
            let advisory = &self.advisories[i];
            if out.iter().any(|m| std::ptr::eq(m.advisory, advisory)) {
                continue;
            }
            if let Some(remedy) = advisory.affected[j].affects(version) {
                out.push(Match { advisory, remedy });
            }
        }
        out
    }
}

/// Reads every advisory under `path`. Problems are diagnostics, never errors.
pub fn load(path: &Path) -> (AdvisoryDb, Vec<Diagnostic>) {
    let mut diagnostics = Vec::new();
    let mut inputs: Vec<PathBuf> = Vec::new();
    if path.is_dir() {
        collect_files(path, 0, &mut inputs, &mut diagnostics);
        inputs.sort();
    } else {
        inputs.push(path.to_path_buf());
    }
    let results: Vec<(Vec<Advisory>, Vec<Diagnostic>)> =
        inputs.par_iter().map(|p| read_input(p)).collect();
    let mut advisories = Vec::new();
    for (a, d) in results {
        advisories.extend(a);
        diagnostics.extend(d);
    }
    (AdvisoryDb::new(advisories), diagnostics)
}

fn diag(source: &str, message: impl Into<String>) -> Diagnostic {
    Diagnostic {
        level: DiagnosticLevel::Warning,
        source: Some(source.to_string()),
        message: message.into(),
    }
}

fn collect_files(dir: &Path, depth: usize, out: &mut Vec<PathBuf>, diags: &mut Vec<Diagnostic>) {
    if depth > MAX_DEPTH {
        return;
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            diags.push(diag(
                &dir.display().to_string(),
                format!("cannot read advisory directory: {e}"),
            ));
            return;
        }
    };
    for entry in entries.flatten() {
        let p = entry.path();
        // file_type does not follow symbolic links: a linked directory is not
        // walked (no cycles), a linked file is read.
        let Ok(ft) = entry.file_type() else { continue };
        if ft.is_dir() {
            collect_files(&p, depth + 1, out, diags);
        } else if is_advisory_file(&p) {
            out.push(p);
        }
    }
}

fn is_advisory_file(p: &Path) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("json") || e.eq_ignore_ascii_case("zip"))
}

fn read_input(path: &Path) -> (Vec<Advisory>, Vec<Diagnostic>) {
    let shown = path.display().to_string();
    let mut file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) => return (Vec::new(), vec![diag(&shown, format!("cannot read: {e}"))]),
    };
    let mut magic = [0u8; 4];
    let is_zip = file.read_exact(&mut magic).is_ok() && magic == *b"PK\x03\x04";
    if is_zip {
        return read_zip(file, &shown);
    }
    match std::fs::metadata(path) {
        Ok(m) if m.len() > MAX_ADVISORY_BYTES => {
            return (
                Vec::new(),
                vec![diag(&shown, "skipped: advisory file over 16 MB")],
            )
        }
        _ => {}
    }
    match std::fs::read(path) {
        Ok(bytes) => parse_json(&bytes, &shown),
        Err(e) => (Vec::new(), vec![diag(&shown, format!("cannot read: {e}"))]),
    }
}

fn read_zip(file: std::fs::File, shown: &str) -> (Vec<Advisory>, Vec<Diagnostic>) {
    let mut archive = match zip::ZipArchive::new(file) {
        Ok(a) => a,
        Err(e) => {
            return (
                Vec::new(),
                vec![diag(shown, format!("not a readable zip: {e}"))],
            )
        }
    };
    let mut entries: Vec<(String, Vec<u8>)> = Vec::new();
    let mut diags = Vec::new();
    for i in 0..archive.len() {
        let mut entry = match archive.by_index(i) {
            Ok(e) => e,
            Err(e) => {
                diags.push(diag(shown, format!("zip entry {i}: {e}")));
                continue;
            }
        };
        let name = match entry.name() {
            Ok(n) => n.into_owned(),
            Err(e) => {
                diags.push(diag(shown, format!("zip entry {i}: {e}")));
                continue;
            }
        };
        if !entry.is_file() || !name.to_ascii_lowercase().ends_with(".json") {
            continue;
        }
        let label = format!("{shown}:{name}");
        if entry.size() > MAX_ADVISORY_BYTES {
            diags.push(diag(&label, "skipped: advisory over 16 MB"));
            continue;
        }
        let mut bytes = Vec::new();
        // `take` bounds what a lying size header can make us read.
        if let Err(e) = (&mut entry)
            .take(MAX_ADVISORY_BYTES + 1)
            .read_to_end(&mut bytes)
        {
            diags.push(diag(&label, format!("cannot read: {e}")));
            continue;
        }
        entries.push((label, bytes));
    }
    let parsed: Vec<(Vec<Advisory>, Vec<Diagnostic>)> = entries
        .par_iter()
        .map(|(label, bytes)| parse_json(bytes, label))
        .collect();
    let mut out = Vec::new();
    for (a, d) in parsed {
        out.extend(a);
        diags.extend(d);
    }
    (out, diags)
}

/// One advisory, an array of them, or `{"vulns": [...]}`.
fn parse_json(bytes: &[u8], shown: &str) -> (Vec<Advisory>, Vec<Diagnostic>) {
    // The common case, one record per file: straight into the record type
    // (unknown fields skipped), without building a JSON tree first.
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'{') {
        if let Ok(raw) = serde_json::from_slice::<osv::RawRecord>(bytes) {
            return records(vec![(shown.to_string(), Ok(raw))]);
        }
    }
    let value: serde_json::Value = match serde_json::from_slice(bytes) {
        Ok(v) => v,
        Err(e) => {
            return (
                Vec::new(),
                vec![diag(shown, format!("not valid JSON: {e}"))],
            )
        }
    };
    let items: Vec<(String, serde_json::Value)> = match value {
        serde_json::Value::Array(items) => items
            .into_iter()
            .enumerate()
            .map(|(i, v)| (format!("{shown}[{i}]"), v))
            .collect(),
        serde_json::Value::Object(mut map)
            if !map.contains_key("id") && map.contains_key("vulns") =>
        {
            match map.remove("vulns") {
                Some(serde_json::Value::Array(items)) => items
                    .into_iter()
                    .enumerate()
                    .map(|(i, v)| (format!("{shown}: vulns[{i}]"), v))
                    .collect(),
                _ => Vec::new(),
            }
        }
        other => vec![(shown.to_string(), other)],
    };
    records(
        items
            .into_iter()
            .map(|(label, v)| {
                let raw = serde_json::from_value::<osv::RawRecord>(v).map_err(|e| e.to_string());
                (label, raw)
            })
            .collect(),
    )
}

/// Advisories from parsed records; records that did not parse are diagnostics.
fn records(
    items: Vec<(String, Result<osv::RawRecord, String>)>,
) -> (Vec<Advisory>, Vec<Diagnostic>) {
    let mut out = Vec::new();
    let mut diags = Vec::new();
    for (label, raw) in items {
        let raw = match raw {
            Ok(r) => r,
            Err(e) => {
                diags.push(diag(&label, format!("not an OSV advisory: {e}")));
                continue;
            }
        };
        if raw.id.trim().is_empty() {
            diags.push(diag(&label, "not an OSV advisory: empty `id`"));
            continue;
        }
        let id = raw.id.clone();
        let (adv, problems) = raw.into_advisory(label.clone());
        for p in problems {
            match p {
                osv::RecordProblem::BadVersion(v) => diags.push(diag(
                    &label,
                    format!("{id}: range skipped, `{v}` is not a PEP 440 version"),
                )),
            }
        }
        out.extend(adv);
    }
    (out, diags)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    const ADV: &str = r#"{"id":"GHSA-aaaa","aliases":["CVE-2099-1"],"summary":"bad",
      "affected":[{"package":{"ecosystem":"PyPI","name":"Werkzeug"},
      "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"2.2.3"}]}]}]}"#;

    #[test]
    fn directory_array_and_bad_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("nested/deeper")).unwrap();
        std::fs::write(dir.path().join("nested/deeper/a.json"), ADV).unwrap();
        std::fs::write(
            dir.path().join("list.json"),
            r#"[{"id":"PYSEC-1","affected":[{"package":{"ecosystem":"PyPI","name":"flask"},"versions":["2.2.2"]}]}, {"no":"id"}]"#,
        )
        .unwrap();
        std::fs::write(dir.path().join("broken.json"), "{ not json").unwrap();
        std::fs::write(dir.path().join("README.md"), "ignored").unwrap();
        let (db, diags) = load(dir.path());
        assert_eq!(db.len(), 2);
        let m = db.matches("werkzeug", "2.2.2");
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].remedy, Remedy::Fixed("2.2.3".into()));
        assert_eq!(db.matches("Flask", "2.2.2").len(), 1);
        assert!(db.matches("flask", "2.2.3").is_empty());
        assert_eq!(diags.len(), 2, "{diags:?}");
        assert!(diags
            .iter()
            .any(|d| d.source.as_deref().unwrap().ends_with("broken.json")));
        assert!(diags
            .iter()
            .any(|d| d.source.as_deref().unwrap().ends_with("list.json[1]")));
    }

    #[test]
    fn zip_export_and_osv_api_answer() {
        let dir = tempfile::tempdir().unwrap();
        let zip_path = dir.path().join("all.zip");
        {
            let f = std::fs::File::create(&zip_path).unwrap();
            let mut w = zip::ZipWriter::new(f);
            let opts = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated);
            w.start_file("GHSA-aaaa.json", opts).unwrap();
            w.write_all(ADV.as_bytes()).unwrap();
            w.start_file("bad.json", opts).unwrap();
            w.write_all(b"[1, 2").unwrap();
            w.finish().unwrap();
        }
        let (db, diags) = load(&zip_path);
        assert_eq!(db.len(), 1);
        assert_eq!(db.matches("werkzeug", "1.0").len(), 1);
        assert_eq!(diags.len(), 1);
        assert!(diags[0]
            .source
            .as_deref()
            .unwrap()
            .ends_with("all.zip:bad.json"));

        let api = dir.path().join("answer.json");
        std::fs::write(&api, format!("{{\"vulns\": [{ADV}]}}")).unwrap();
        let (db, diags) = load(&api);
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(db.len(), 1);

        let fake = dir.path().join("fake.zip");
        std::fs::write(&fake, b"PK\x03\x04 truncated").unwrap();
        let (db, diags) = load(&fake);
        assert!(db.is_empty());
        assert!(diags[0].message.contains("zip"), "{diags:?}");
    }

    #[test]
    fn the_same_id_twice_keeps_the_newest() {
        let older = ADV.replace(
            "\"summary\":\"bad\"",
            "\"summary\":\"old\",\"modified\":\"2020-01-01T00:00:00Z\"",
        );
        let newer = ADV.replace(
            "\"summary\":\"bad\"",
            "\"summary\":\"new\",\"modified\":\"2024-01-01T00:00:00Z\"",
        );
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.json"), newer).unwrap();
        std::fs::write(dir.path().join("b.json"), older).unwrap();
        let (db, _) = load(dir.path());
        assert_eq!(db.len(), 1);
        assert_eq!(db.advisories[0].summary, "new");
    }
}
