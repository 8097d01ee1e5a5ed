//! Dependency declarations in `requirements*.txt` files: pins, extras, markers,
//! hashes, line continuations, `-r` includes and `-c` constraints files,
//! editable and VCS / URL requirements. PEP 508 strings are shared with
//! pyproject.toml (`super::pyproject`).

use super::line_span;
use crate::source::{FileId, SourceFile, Span};

pub use super::pyproject::{parse_pyproject, PyProject};

/// Where a requirement is installed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReqSource {
    /// A package index, by name and version specifier.
    Index,
    /// A version control URL (`git+https://...@ref`); `fixed` when the ref is a
    /// commit or a tag-like name rather than a branch or nothing.
    Vcs { fixed: bool },
    /// An archive URL (`https://.../pkg-1.0.tar.gz`): one file.
    Archive,
    /// A local path (`.`, `./libs/x`, `file:...`): the project's own code.
    Local,
}

#[derive(Debug, Clone)]
pub struct Requirement {
    /// PEP 503 normalised name (the URL when a URL requirement names nothing).
    pub name: String,
    /// The version specifier as written (`==3.0.3`, `>=2,<3`, empty), or the URL.
    pub spec: String,
    /// The exact version when pinned with `==` / `===` (no wildcard).
    pub pinned: Option<String>,
    pub markers: Option<String>,
    pub span: Span,
    /// The file declares it: a requirements file or a pyproject.
    pub file: FileId,
    pub source: ReqSource,
    /// The pyproject group it belongs to (`[project.optional-dependencies]`
    /// extra); None for the main dependencies and requirements files.
    pub group: Option<String>,
}

impl Requirement {
    /// Whether the same thing is installed every time: an exact version, a
    /// fixed VCS ref, one archive, or local code.
    pub fn is_fixed(&self) -> bool {
        match self.source {
            ReqSource::Index => self.pinned.is_some(),
            ReqSource::Vcs { fixed } => fixed,
            ReqSource::Archive | ReqSource::Local => true,
        }
    }
}

/// A requirements file that names another one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefKind {
    /// `-r other.txt`: its requirements are installed too.
    Include,
    /// `-c constraints.txt`: its pins constrain what is installed.
    Constraint,
}

#[derive(Debug, Clone)]
pub struct RequirementRef {
    pub from: FileId,
    pub kind: RefKind,
    /// The path as written (relative to the naming file's directory).
    pub target: String,
    pub span: Span,
}

/// A requirements file: its requirements and the files it names.
#[derive(Debug, Clone, Default)]
pub struct RequirementsFile {
    pub requirements: Vec<Requirement>,
    pub refs: Vec<RequirementRef>,
}

/// PEP 503 name normalisation.
pub fn normalize_name(name: &str) -> String {
    crate::advisories::normalize_name(name)
}

/// Parses one PEP 508 requirement string (`flask[async]==3.0.3 ; python_version>"3.8"`,
/// `pkg @ https://...`).
pub fn parse_requirement(text: &str, span: Span, file: FileId) -> Option<Requirement> {
    let (body, markers) = split_markers(text);
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
    if let Some(url) = rest.strip_prefix('@') {
        let url = url.trim();
        return Some(Requirement {
            name: normalize_name(name),
            spec: url.to_string(),
            pinned: None,
            markers,
            span,
            file,
            source: url_source(url),
            group: None,
        });
    }
    let spec = rest
        .trim()
        .trim_start_matches('(')
        .trim_end_matches(')')
        .trim()
        .to_string();
    let exact = spec.strip_prefix("===").or_else(|| spec.strip_prefix("=="));
    let pinned = exact
        .map(str::trim)
        .filter(|v| !v.is_empty() && !v.contains('*') && !v.contains(','))
        .map(str::to_string);
    Some(Requirement {
        name: normalize_name(name),
        spec,
        pinned,
        markers,
        span,
        file,
        source: ReqSource::Index,
        group: None,
    })
}

/// `body ; markers`. In a URL requirement the marker separator must follow
/// whitespace (`; ` inside a URL is not a marker).
fn split_markers(text: &str) -> (&str, Option<String>) {
    let is_url = text.contains("://");
    let idx = if is_url {
        text.find(" ;").map(|i| i + 1)
    } else {
        text.find(';')
    };
    match idx {
        Some(i) => (text[..i].trim(), Some(text[i + 1..].trim().to_string())),
        None => (text.trim(), None),
    }
}

/// What a URL or path points at.
pub fn url_source(url: &str) -> ReqSource {
    let lower = url.to_ascii_lowercase();
    if ["git+", "hg+", "svn+", "bzr+"]
        .iter()
        .any(|p| lower.starts_with(p))
    {
        return ReqSource::Vcs {
            fixed: vcs_ref(url).is_some_and(ref_is_fixed),
        };
    }
    if lower.starts_with("file:")
        || lower.starts_with('.')
        || lower.starts_with('/')
        || lower.starts_with('~')
        || !lower.contains("://")
    {
        return ReqSource::Local;
    }
    ReqSource::Archive
}

/// The `@ref` of a VCS URL (`git+https://host/org/repo.git@v1.2#egg=x`), not the
/// user part of `git+ssh://git@host/...`.
fn vcs_ref(url: &str) -> Option<&str> {
    let no_fragment = url.split('#').next().unwrap_or(url);
    let after_scheme = no_fragment
        .split_once("://")
        .map_or(no_fragment, |(_, r)| r);
    let path_start = after_scheme.find('/')?;
    let path = &after_scheme[path_start..];
    let (_, r) = path.rsplit_once('@')?;
    (!r.is_empty()).then_some(r)
}

/// A commit id or a tag-like name (`v1.2.3`, `2024.01`); branch names such as
/// `main` move.
fn ref_is_fixed(r: &str) -> bool {
    let hex = r.len() >= 7 && r.chars().all(|c| c.is_ascii_hexdigit());
    hex || r.chars().any(|c| c.is_ascii_digit())
}

/// The name a bare URL line declares: `#egg=name`.
fn egg_name(url: &str) -> Option<String> {
    let (_, frag) = url.split_once('#')?;
    frag.split('&')
        .find_map(|p| p.strip_prefix("egg="))
        .map(|n| n.split('[').next().unwrap_or(n))
        .filter(|n| !n.is_empty())
        .map(normalize_name)
}

/// An option that names a file: `-r x`, `-rx`, `--requirement=x`.
fn option_value<'a>(line: &'a str, short: &str, long: &str) -> Option<&'a str> {
    let rest = if let Some(r) = line.strip_prefix(long) {
        r
    } else {
        line.strip_prefix(short)?
    };
    // `-rx` only for the short form; `--requirementx` is another option.
    let glued_ok = line.starts_with(short) && !line.starts_with(long);
    if !(rest.starts_with([' ', '\t', '=']) || glued_ok && !rest.is_empty()) {
        return None;
    }
    let v = rest.trim_start_matches([' ', '\t', '=']).trim();
    (!v.is_empty()).then_some(v)
}

pub fn parse_requirements(file: &SourceFile) -> RequirementsFile {
    let mut out = RequirementsFile::default();
    let mut pending = String::new();
    let mut start_line = 0u32;
    for (i, raw) in file.text().lines().enumerate() {
        let line_no = i as u32 + 1;
        if pending.is_empty() {
            start_line = line_no;
        }
        // pip strips `#` comments that start a line or follow whitespace.
        let without_comment = match raw
            .find(" #")
            .or_else(|| raw.find("\t#"))
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
        if line.is_empty() {
            continue;
        }
        let span = line_span(file.id, file.lines(), file.text(), start_line);
        for (short, long, kind) in [
            ("-r", "--requirement", RefKind::Include),
            ("-c", "--constraint", RefKind::Constraint),
        ] {
            if let Some(target) = option_value(line, short, long) {
                out.refs.push(RequirementRef {
                    from: file.id,
                    kind,
                    target: target
                        .split_whitespace()
                        .next()
                        .unwrap_or(target)
                        .to_string(),
                    span,
                });
            }
        }
        let editable = option_value(line, "-e", "--editable");
        if line.starts_with('-') && editable.is_none() {
            // Other options (--index-url, --hash on its own line...).
            continue;
        }
        // Per-requirement options (--hash=..., --config-settings) follow the
        // requirement.
        let req_text = editable
            .unwrap_or(line)
            .split(" --")
            .next()
            .unwrap_or(line)
            .trim();
        let lower = req_text.to_ascii_lowercase();
        let bare_url = [
            "git+", "hg+", "svn+", "bzr+", "http://", "https://", "file:",
        ]
        .iter()
        .any(|p| lower.starts_with(p))
            || req_text.starts_with(['.', '/', '~'])
            || editable.is_some() && !req_text.contains(" @ ");
        if bare_url {
            let (url, markers) = split_markers(req_text);
            out.requirements.push(Requirement {
                name: egg_name(url).unwrap_or_else(|| url.to_string()),
                spec: url.to_string(),
                pinned: None,
                markers,
                span,
                file: file.id,
                source: url_source(url),
                group: None,
            });
            continue;
        }
        if let Some(r) = parse_requirement(req_text, span, file.id) {
            out.requirements.push(r);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ruff_text_size::TextSize;

    fn parse(text: &str) -> RequirementsFile {
        parse_requirements(&SourceFile::new(0, "requirements.txt".into(), text.into()))
    }

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
        assert_eq!(r.refs[0].target, "base.txt");
        assert_eq!(r.refs[0].kind, RefKind::Include);
        assert_eq!(
            r.requirements[1].markers.as_deref(),
            Some("python_version > \"3.8\"")
        );
        assert_eq!(f.line_of(TextSize::new(r.requirements[2].span.start)), 6);
    }

    #[test]
    fn includes_constraints_and_their_spellings() {
        let r = parse("-r base.txt\n--requirement=prod.txt\n-rdev.txt\n-c constraints.txt\n--constraint pins.txt\n--require-hashes\n");
        let got: Vec<(RefKind, &str)> =
            r.refs.iter().map(|x| (x.kind, x.target.as_str())).collect();
        assert_eq!(
            got,
            [
                (RefKind::Include, "base.txt"),
                (RefKind::Include, "prod.txt"),
                (RefKind::Include, "dev.txt"),
                (RefKind::Constraint, "constraints.txt"),
                (RefKind::Constraint, "pins.txt"),
            ]
        );
        assert!(r.requirements.is_empty());
    }

    #[test]
    fn urls_vcs_and_local_paths() {
        let r = parse(concat!(
            "-e .\n",
            "-e git+https://github.com/org/lib.git#egg=lib\n",
            "git+ssh://git@github.com/org/tool.git@0123abcd#egg=tool\n",
            "git+https://github.com/org/x.git@main#egg=x\n",
            "thing @ git+https://github.com/org/thing.git@v1.4.0\n",
            "wheel @ https://files.example/wheel-1.0-py3-none-any.whl ; python_version >= \"3.8\"\n",
            "./libs/local\n",
            "https://files.example/pkg-2.0.tar.gz#egg=pkg\n",
        ));
        let got: Vec<(&str, bool)> = r
            .requirements
            .iter()
            .map(|x| (x.name.as_str(), x.is_fixed()))
            .collect();
        assert_eq!(
            got,
            [
                (".", true),
                ("lib", false),
                ("tool", true),
                ("x", false),
                ("thing", true),
                ("wheel", true),
                ("./libs/local", true),
                ("pkg", true),
            ]
        );
        assert_eq!(
            r.requirements[5].markers.as_deref(),
            Some("python_version >= \"3.8\"")
        );
        assert!(r.requirements.iter().all(|x| x.pinned.is_none()));
    }

    #[test]
    fn exact_pins_only() {
        let r = parse("a===1.0+local\nb == 2.0\nc==1.*\nd>=1,==1.2\ne~=1.0\n");
        let pins: Vec<Option<&str>> = r.requirements.iter().map(|x| x.pinned.as_deref()).collect();
        assert_eq!(pins, [Some("1.0+local"), Some("2.0"), None, None, None]);
    }
}
