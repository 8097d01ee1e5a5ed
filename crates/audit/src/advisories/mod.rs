//! OSV advisories for DEP002, read once per run from what `--advisories` names:
//! one JSON advisory, a JSON array of them (or an OSV API answer with `vulns`),
//! a directory of `*.json` files (recursively), or an OSV zip export such as
//! osv.dev's `all.zip`. Nothing is fetched. A file that cannot be read or
//! parsed becomes a diagnostic naming it; the rest is still used.

mod load;
pub mod osv;

use std::{collections::HashMap, path::Path};

use rayon::prelude::*;
use report::Diagnostic;

pub use osv::{normalize_name, Advisory, AffectedPackage, Remedy};

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
    let inputs = load::inputs(path, &mut diagnostics);
    let results: Vec<(Vec<Advisory>, Vec<Diagnostic>)> =
        inputs.par_iter().map(|p| load::read_input(p)).collect();
    let mut advisories = Vec::new();
    for (a, d) in results {
        advisories.extend(a);
        diagnostics.extend(d);
    }
    (AdvisoryDb::new(advisories), diagnostics)
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
