//! `pyproject.toml` dependencies: PEP 621 `[project] dependencies` and
//! `optional-dependencies` (with their extra's name), and Poetry's
//! `[tool.poetry.dependencies]` (versions, git, path and url tables).

use ruff_text_size::{TextRange, TextSize};

use super::{
    line_span,
    requirements::{parse_requirement, url_source, ReqSource, Requirement},
};
use crate::source::{SourceFile, Span};

#[derive(Debug, Clone)]
pub struct PyProject {
    pub file: crate::source::FileId,
    pub deps: Vec<Requirement>,
}

pub fn parse_pyproject(file: &SourceFile) -> Result<PyProject, String> {
    let doc: toml::Table = file
        .text()
        .parse()
        .map_err(|e: toml::de::Error| e.message().to_string())?;
    let mut deps = Vec::new();
    // The line a dependency is written on: its first occurrence after `from`.
    let span_of = |needle: &str, from: usize| -> Span {
        let start = from.min(file.text().len());
        match file.text()[start..].find(needle) {
            Some(i) => {
                let line = file.line_of(TextSize::new((start + i) as u32));
                line_span(file.id, file.lines(), file.text(), line)
            }
            None => Span::new(file.id, TextRange::default()),
        }
    };
    let section = |header: &str| -> usize { file.text().find(&format!("[{header}]")).unwrap_or(0) };
    let project = doc.get("project");
    let mut pep621: Vec<(&str, Option<String>)> = Vec::new();
    if let Some(list) = project
        .and_then(|p| p.get("dependencies"))
        .and_then(|d| d.as_array())
    {
        pep621.extend(list.iter().filter_map(|v| v.as_str()).map(|s| (s, None)));
    }
    if let Some(groups) = project
        .and_then(|p| p.get("optional-dependencies"))
        .and_then(|d| d.as_table())
    {
        for (group, list) in groups {
            for v in list.as_array().into_iter().flatten() {
                if let Some(s) = v.as_str() {
                    pep621.push((s, Some(group.clone())));
                }
            }
        }
    }
    let project_at = section("project");
    for (text, group) in pep621 {
        let quoted = format!("\"{text}\"");
        let span = span_of(&quoted, project_at);
        if let Some(mut r) = parse_requirement(text, span, file.id) {
            r.group = group;
            deps.push(r);
        }
    }
    let poetry = doc
        .get("tool")
        .and_then(|t| t.get("poetry"))
        .and_then(|p| p.get("dependencies"))
        .and_then(|d| d.as_table());
    let poetry_at = section("tool.poetry.dependencies");
    for (name, spec) in poetry.into_iter().flatten() {
        if name == "python" {
            continue;
        }
        let span = span_of(&format!("{name} ="), poetry_at);
        let table = spec.as_table();
        let get = |k: &str| table.and_then(|t| t.get(k)).and_then(|v| v.as_str());
        let source = if table.is_some_and(|t| t.contains_key("path")) {
            Some(ReqSource::Local)
        } else if let Some(url) = get("url") {
            Some(url_source(url))
        } else if table.is_some_and(|t| t.contains_key("git")) {
            let fixed = get("rev").is_some() || get("tag").is_some();
            Some(ReqSource::Vcs { fixed })
        } else {
            None
        };
        if let Some(source) = source {
            deps.push(Requirement {
                name: super::requirements::normalize_name(name),
                spec: String::new(),
                pinned: None,
                markers: None,
                span,
                file: file.id,
                source,
                group: None,
            });
            continue;
        }
        let version = match spec {
            toml::Value::String(s) => s.clone(),
            _ => get("version").unwrap_or("").to_string(),
        };
        // Poetry's bare "1.2.3" means ==1.2.3; ^ and ~ are ranges.
        let spec = if version.chars().next().is_some_and(|c| c.is_ascii_digit())
            && !version.contains('*')
            && !version.contains(',')
        {
            format!("=={version}")
        } else {
            version
        };
        if let Some(r) = parse_requirement(&format!("{name}{spec}"), span, file.id) {
            deps.push(r);
        }
    }
    // TOML tables come back sorted by key: give them back in file order.
    deps.sort_by_key(|d| d.span.start);
    Ok(PyProject {
        file: file.id,
        deps,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pyproject_dependencies() {
        let text = "[project]\nname = \"x\"\ndependencies = [\"flask==3.0.3\", \"redis>=5\"]\n[project.optional-dependencies]\ndev = [\n  \"pytest\",\n]\n[tool.poetry.dependencies]\npython = \"^3.11\"\ngunicorn = \"22.0.0\"\nlib = { path = \"../lib\" }\ntool = { git = \"https://x/tool.git\", rev = \"abc1234\" }\nedge = { git = \"https://x/edge.git\" }\nflask-cors = { version = \"^4.0\", extras = [\"x\"] }\n";
        let f = SourceFile::new(0, "pyproject.toml".into(), text.into());
        let p = parse_pyproject(&f).unwrap();
        let got: Vec<(&str, bool, Option<&str>)> = p
            .deps
            .iter()
            .map(|d| (d.name.as_str(), d.is_fixed(), d.group.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                ("flask", true, None),
                ("redis", false, None),
                ("pytest", false, Some("dev")),
                ("gunicorn", true, None),
                ("lib", true, None),
                ("tool", true, None),
                ("edge", false, None),
                ("flask-cors", false, None),
            ]
        );
        let line = |i: usize| f.line_of(TextSize::new(p.deps[i].span.start));
        assert_eq!((line(0), line(2), line(3), line(7)), (3, 6, 10, 14));
        assert!(
            parse_pyproject(&SourceFile::new(0, "pyproject.toml".into(), "[x\n".into())).is_err()
        );
    }
}
