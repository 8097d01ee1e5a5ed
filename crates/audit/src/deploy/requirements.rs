//! Dependency declarations: `requirements*.txt` lines (pins, extras, markers,
//! `-r` includes, line continuations) and `pyproject.toml` dependencies (PEP 621
//! and Poetry).

use ruff_text_size::{TextRange, TextSize};

use super::line_span;
use crate::source::{FileId, SourceFile, Span};

#[derive(Debug, Clone)]
pub struct Requirement {
    /// Normalised name (lowercase, `-` for `_` and `.`).
    pub name: String,
    /// The version specifier as written (`==3.0.3`, `>=2,<3`, empty).
    pub spec: String,
    /// The exact version when pinned with `==` / `===` (no wildcard).
    pub pinned: Option<String>,
    pub markers: Option<String>,
    pub span: Span,
    /// The file declares it: a requirements file or a pyproject.
    pub file: FileId,
}

#[derive(Debug, Clone)]
pub struct PyProject {
    pub file: FileId,
    pub deps: Vec<Requirement>,
}

/// A requirements file: its requirements and the files it includes with `-r`.
#[derive(Debug, Clone, Default)]
pub struct RequirementsFile {
    pub requirements: Vec<Requirement>,
    pub includes: Vec<(String, Span)>,
}

pub fn normalize_name(name: &str) -> String {
    name.trim().to_ascii_lowercase().replace(['_', '.'], "-")
}

/// Parses one PEP 508 requirement string (`flask[async]==3.0.3 ; python_version>"3.8"`).
pub fn parse_requirement(text: &str, span: Span, file: FileId) -> Option<Requirement> {
    let (body, markers) = match text.split_once(';') {
        Some((b, m)) => (b.trim(), Some(m.trim().to_string())),
        None => (text.trim(), None),
    };
    if body.is_empty() {
        return None;
    }
    let name_end = body
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.'))
        .unwrap_or(body.len());
    let name = &body[..name_end];
    if name.is_empty() {
        return None;
    }
    let mut rest = body[name_end..].trim_start();
    if rest.starts_with('[') {
        rest = rest.find(']').map_or("", |i| rest[i + 1..].trim_start());
    }
    let spec = rest
        .trim()
        .trim_start_matches('(')
        .trim_end_matches(')')
        .trim()
        .to_string();
    let pinned = if spec.starts_with('@') {
        Some(spec.trim_start_matches('@').trim().to_string())
    } else {
        let exact = spec.strip_prefix("===").or_else(|| spec.strip_prefix("=="));
        exact
            .map(str::trim)
            .filter(|v| !v.is_empty() && !v.contains('*') && !v.contains(','))
            .map(str::to_string)
    };
    Some(Requirement {
        name: normalize_name(name),
        spec,
        pinned,
        markers,
        span,
        file,
    })
}

pub fn parse_requirements(file: &SourceFile) -> RequirementsFile {
    let mut out = RequirementsFile::default();
    let mut pending = String::new();
    let mut start_line = 0u32;
    for (i, raw) in file.text.lines().enumerate() {
        let line_no = i as u32 + 1;
        if pending.is_empty() {
            start_line = line_no;
        }
        let without_comment = match raw
            .find(" #")
            .or_else(|| raw.trim_start().starts_with('#').then_some(0))
        {
            Some(idx) => &raw[..idx],
            None => raw,
        };
        let (body, continues) = match without_comment.trim_end().strip_suffix('\\') {
            Some(b) => (b, true),
            None => (without_comment, false),
        };
        pending.push_str(body.trim());
        pending.push(' ');
        if continues {
            continue;
        }
        let line = std::mem::take(&mut pending);
        let line = line.trim();
        let span = line_span(file.id, &file.lines, &file.text, start_line);
        if line.is_empty() {
            continue;
        }
        if let Some(rest) = line
            .strip_prefix("-r")
            .or_else(|| line.strip_prefix("--requirement"))
        {
            let target = rest.trim_start_matches('=').trim();
            out.includes.push((target.to_string(), span));
            continue;
        }
        if line.starts_with('-') || line.contains("://") && !line.contains(" @ ") {
            // Options (-e, -c, --index-url) and bare URLs.
            continue;
        }
        // Drop per-requirement options such as --hash.
        let req_text = line.split(" --").next().unwrap_or(line);
        if let Some(r) = parse_requirement(req_text, span, file.id) {
            out.requirements.push(r);
        }
    }
    out
}

pub fn parse_pyproject(file: &SourceFile) -> Result<PyProject, String> {
    let doc: toml::Table = file
        .text
        .parse()
        .map_err(|e: toml::de::Error| e.message().to_string())?;
    let mut deps = Vec::new();
    let span_of = |needle: &str| -> Span {
        match file.text.find(needle) {
            Some(i) => {
                let line = file.line_of(TextSize::new(i as u32));
                line_span(file.id, &file.lines, &file.text, line)
            }
            None => Span::new(file.id, TextRange::default()),
        }
    };
    let project = doc.get("project");
    let mut pep621: Vec<&str> = Vec::new();
    if let Some(list) = project
        .and_then(|p| p.get("dependencies"))
        .and_then(|d| d.as_array())
    {
        pep621.extend(list.iter().filter_map(|v| v.as_str()));
    }
    if let Some(groups) = project
        .and_then(|p| p.get("optional-dependencies"))
        .and_then(|d| d.as_table())
    {
        for list in groups.values().filter_map(|v| v.as_array()) {
            pep621.extend(list.iter().filter_map(|v| v.as_str()));
        }
    }
    for text in pep621 {
        if let Some(r) = parse_requirement(text, span_of(text), file.id) {
            deps.push(r);
        }
    }
    let poetry = doc
        .get("tool")
        .and_then(|t| t.get("poetry"))
        .and_then(|p| p.get("dependencies"))
        .and_then(|d| d.as_table());
    for (name, spec) in poetry.into_iter().flatten() {
        if name == "python" {
            continue;
        }
        let version = match spec {
            toml::Value::String(s) => s.clone(),
            toml::Value::Table(t) => t
                .get("version")
                .and_then(|v| v.as_str())
                .unwrap_or("")
                .to_string(),
            _ => String::new(),
        };
        // Poetry's bare "1.2.3" means ==1.2.3; ^ and ~ are ranges.
        let spec = if version.chars().next().is_some_and(|c| c.is_ascii_digit())
            && !version.contains('*')
        {
            format!("=={version}")
        } else {
            version
        };
        let span = span_of(&format!("{name} ="));
        if let Some(r) = parse_requirement(&format!("{name}{spec}"), span, file.id) {
            deps.push(r);
        }
    }
    Ok(PyProject {
        file: file.id,
        deps,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requirement_lines() {
        let text = "# pinned\nFlask==3.0.3\nflask_limiter[redis]>=3.5 ; python_version > \"3.8\"\n-r base.txt\n--index-url https://x\ngunicorn==22.0.0 \\\n    --hash=sha256:abc\nrequests\nwerkzeug==3.*\n";
        let f = SourceFile::new(0, "requirements.txt".into(), text.into());
        let r = parse_requirements(&f);
        let got: Vec<(&str, Option<&str>)> = r
            .requirements
            .iter()
            .map(|r| (r.name.as_str(), r.pinned.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                ("flask", Some("3.0.3")),
                ("flask-limiter", None),
                ("gunicorn", Some("22.0.0")),
                ("requests", None),
                ("werkzeug", None)
            ]
        );
        assert_eq!(r.includes[0].0, "base.txt");
        assert_eq!(
            r.requirements[1].markers.as_deref(),
            Some("python_version > \"3.8\"")
        );
        assert_eq!(f.line_of(TextSize::new(r.requirements[2].span.start)), 6);
    }

    #[test]
    fn pyproject_dependencies() {
        let text = "[project]\nname = \"x\"\ndependencies = [\"flask==3.0.3\", \"redis>=5\"]\n[tool.poetry.dependencies]\npython = \"^3.11\"\ngunicorn = \"22.0.0\"\n";
        let f = SourceFile::new(0, "pyproject.toml".into(), text.into());
        let p = parse_pyproject(&f).unwrap();
        let got: Vec<(&str, bool)> = p
            .deps
            .iter()
            .map(|d| (d.name.as_str(), d.pinned.is_some()))
            .collect();
        assert_eq!(got, [("flask", true), ("redis", false), ("gunicorn", true)]);
        assert!(
            parse_pyproject(&SourceFile::new(0, "pyproject.toml".into(), "[x\n".into())).is_err()
        );
    }
}
