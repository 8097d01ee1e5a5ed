//! Lock files: the exact version of every package they install, at the line
//! that names it. `poetry.lock`, `uv.lock`, `pdm.lock` (`[[package]]` tables),
//! `pylock.toml` (PEP 751, `[[packages]]`), `Pipfile.lock` (JSON, the
//! `default` section: `develop` is never deployed) and rye's
//! `requirements.lock` (pip syntax).

use super::line_span;
use crate::source::{FileId, SourceFile, Span};

#[derive(Debug, Clone)]
pub struct LockedPackage {
    /// PEP 503 normalised.
    pub name: String,
    pub version: String,
    /// The line that names the package.
    pub span: Span,
    pub file: FileId,
}

pub fn parse(file: &SourceFile) -> Result<Vec<LockedPackage>, String> {
    let name = file
        .rel
        .rsplit('/')
        .next()
        .unwrap_or(&file.rel)
        .to_ascii_lowercase();
    if name == "pipfile.lock" {
        return pipfile_lock(file);
    }
    if name.ends_with(".lock") && name.starts_with("requirements") {
        let reqs = super::requirements::parse_requirements(file);
        return Ok(reqs
            .requirements
            .into_iter()
            .filter_map(|r| {
                Some(LockedPackage {
                    version: r.pinned?,
                    name: r.name,
                    span: r.span,
                    file: file.id,
                })
            })
            .collect());
    }
    Ok(toml_lock(file))
}

/// A package table being read: its name with the line, and its version.
type Entry = (Option<(String, u32)>, Option<String>);

/// `[[package]]` / `[[packages]]` tables: the first top-level `name = "..."`
/// and `version = "..."` keys of each (dependency lists inside are indented or
/// inline tables, so they are not mistaken for the package's own keys).
fn toml_lock(file: &SourceFile) -> Vec<LockedPackage> {
    let mut out = Vec::new();
    let mut current: Option<Entry> = None;
    let flush = |cur: &mut Option<Entry>, out: &mut Vec<LockedPackage>| {
        if let Some((Some((name, line)), Some(version))) = cur.take() {
            out.push(LockedPackage {
                name: super::requirements::normalize_name(&name),
                version,
                span: line_span(file.id, file.lines(), file.text(), line),
                file: file.id,
            });
        }
    };
    for (i, line) in file.text().lines().enumerate() {
        if line.starts_with('[') {
            let header = line.trim();
            if header == "[[package]]" || header == "[[packages]]" {
                flush(&mut current, &mut out);
                current = Some((None, None));
            } else if !header.starts_with("[package.")
                && !header.starts_with("[packages.")
                && !header.starts_with("[[package.")
                && !header.starts_with("[[packages.")
            {
                flush(&mut current, &mut out);
            }
            continue;
        }
        let Some((name_slot, version_slot)) = current.as_mut() else {
            continue;
        };
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let value = value.trim();
        let Some(value) = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .or_else(|| value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
        else {
            continue;
        };
        match key.trim_end() {
            "name" if name_slot.is_none() => *name_slot = Some((value.to_string(), i as u32 + 1)),
            "version" if version_slot.is_none() => *version_slot = Some(value.to_string()),
            _ => {}
        }
    }
    flush(&mut current, &mut out);
    out
}

fn pipfile_lock(file: &SourceFile) -> Result<Vec<LockedPackage>, String> {
    let doc: serde_json::Value =
        serde_json::from_str(file.text()).map_err(|e| format!("invalid JSON: {e}"))?;
    let Some(default) = doc.get("default").and_then(|d| d.as_object()) else {
        return Ok(Vec::new());
    };
    let section_at = file.text().find("\"default\"").unwrap_or(0);
    let mut out = Vec::new();
    for (name, entry) in default {
        let Some(version) = entry
            .get("version")
            .and_then(|v| v.as_str())
            .and_then(|v| v.strip_prefix("===").or_else(|| v.strip_prefix("==")))
        else {
            continue;
        };
        let needle = format!("\"{name}\"");
        let at = file.text()[section_at..]
            .find(&needle)
            .map_or(section_at, |i| section_at + i);
        let line = file.line_of(ruff_text_size::TextSize::new(at as u32));
        out.push(LockedPackage {
            name: super::requirements::normalize_name(name),
            version: version.trim().to_string(),
            span: line_span(file.id, file.lines(), file.text(), line),
            file: file.id,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(file: &SourceFile, pkgs: &[LockedPackage]) -> Vec<(String, String, u32)> {
        pkgs.iter()
            .map(|p| {
                (
                    p.name.clone(),
                    p.version.clone(),
                    file.line_of(ruff_text_size::TextSize::new(p.span.start)),
                )
            })
            .collect()
    }

    #[test]
    fn uv_and_poetry_locks() {
        let text = "version = 1\n\n[[package]]\nname = \"Flask\"\nversion = \"2.2.2\"\nsource = { registry = \"https://pypi.org/simple\" }\ndependencies = [\n    { name = \"werkzeug\" },\n]\n\n[package.metadata]\nrequires-dist = [{ name = \"werkzeug\", specifier = \">=2\" }]\n\n[[package]]\nname = \"werkzeug\"\nversion = \"2.2.2\"\n\n[metadata]\nname = \"not-a-package\"\nversion = \"0\"\n";
        let f = SourceFile::new(0, "uv.lock".into(), text.into());
        let got = lines(&f, &parse(&f).unwrap());
        assert_eq!(
            got,
            [
                ("flask".to_string(), "2.2.2".to_string(), 4),
                ("werkzeug".to_string(), "2.2.2".to_string(), 15),
            ]
        );
    }

    #[test]
    fn pipfile_lock_default_only() {
        let text = "{\n  \"_meta\": {},\n  \"default\": {\n    \"flask\": {\n      \"version\": \"==2.2.2\"\n    },\n    \"PyJWT\": {\"version\": \"==1.7.1\"}\n  },\n  \"develop\": {\"pytest\": {\"version\": \"==7.0.0\"}}\n}\n";
        let f = SourceFile::new(0, "Pipfile.lock".into(), text.into());
        let mut got = lines(&f, &parse(&f).unwrap());
        got.sort();
        assert_eq!(
            got,
            [
                ("flask".to_string(), "2.2.2".to_string(), 4),
                ("pyjwt".to_string(), "1.7.1".to_string(), 7),
            ]
        );
        let bad = SourceFile::new(0, "Pipfile.lock".into(), "{".into());
        assert!(parse(&bad).is_err());
    }

    #[test]
    fn rye_requirements_lock() {
        let f = SourceFile::new(
            0,
            "requirements.lock".into(),
            "# generated\n-e file:.\nflask==3.0.3\n".into(),
        );
        let got = lines(&f, &parse(&f).unwrap());
        assert_eq!(got, [("flask".to_string(), "3.0.3".to_string(), 3)]);
    }
}
