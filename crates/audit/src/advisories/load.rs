//! Reading advisory files: directories (recursively), zip exports, JSON files
//! holding one record, an array, or an OSV API answer (`vulns`).

use std::{
    io::Read,
    path::{Path, PathBuf},
};

use rayon::prelude::*;
use report::{Diagnostic, DiagnosticLevel};

use super::{osv, Advisory};

/// Advisory files (and zip entries) larger than this are skipped.
const MAX_ADVISORY_BYTES: u64 = 16 * 1024 * 1024;
/// Directory levels walked below the given directory.
const MAX_DEPTH: usize = 16;

/// The advisory files under a directory, sorted, or the path itself.
pub(super) fn inputs(path: &Path, diagnostics: &mut Vec<Diagnostic>) -> Vec<PathBuf> {
    let mut inputs = Vec::new();
    if path.is_dir() {
        collect_files(path, 0, &mut inputs, diagnostics);
        inputs.sort();
    } else {
        inputs.push(path.to_path_buf());
    }
    inputs
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

pub(super) fn read_input(path: &Path) -> (Vec<Advisory>, Vec<Diagnostic>) {
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
