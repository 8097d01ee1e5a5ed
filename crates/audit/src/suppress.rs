//! Suppressions: `# flaskguard: ignore[ID,...]` (or a bare `# flaskguard: ignore`)
//! on a finding's line, or alone on the line above it; and `per-file-ignores` from
//! the config (glob relative to the root -> IDs or area prefixes).

use checklist::Selector;
use globset::{Glob, GlobMatcher};

/// What one comment suppresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ignore {
    All,
    Codes(Vec<String>),
}

impl Ignore {
    pub fn covers(&self, control: &str) -> bool {
        match self {
            Ignore::All => true,
            Ignore::Codes(codes) => codes.iter().any(|c| {
                let c = c.as_str();
                c.eq_ignore_ascii_case(control)
                    || (c.chars().all(|ch| ch.is_ascii_alphabetic())
                        && control.len() > c.len()
                        && control[..c.len()].eq_ignore_ascii_case(c)
                        && control[c.len()..].chars().all(|ch| ch.is_ascii_digit()))
            }),
        }
    }
}

/// Reads a suppression comment on a line (`# flaskguard: ignore[DBG001, KEY]`).
pub fn parse_comment(line: &str) -> Option<Ignore> {
    let idx = line.find("flaskguard:")?;
    let before = &line[..idx];
    if !before.trim_end().ends_with('#') && !before.contains('#') && !before.contains("{#") {
        return None;
    }
    let rest = line[idx + "flaskguard:".len()..].trim_start();
    let rest = rest.strip_prefix("ignore")?;
    let rest = rest.trim_start();
    match rest.strip_prefix('[') {
        Some(list) => {
            let end = list.find(']')?;
            let codes: Vec<String> = list[..end]
                .split(',')
                .map(|c| c.trim().to_string())
                .filter(|c| !c.is_empty())
                .collect();
            Some(if codes.is_empty() {
                Ignore::All
            } else {
                Ignore::Codes(codes)
            })
        }
        None => Some(Ignore::All),
    }
}

/// A line holding a suppression comment, found when the file is read so that
/// suppressions do not need the text later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineIgnore {
    /// 1-based.
    pub line: u32,
    /// The comment is alone on its line (so it also covers the line below).
    pub alone: bool,
    pub ignore: Ignore,
}

/// The suppression comments of a text, by line.
pub fn comments(text: &str, lines: &crate::source::LineIndex) -> Box<[LineIgnore]> {
    let mut out: Vec<LineIgnore> = Vec::new();
    for at in memchr::memmem::find_iter(text.as_bytes(), "flaskguard:") {
        let line = lines.line_of_offset(at as u32);
        if out.last().is_some_and(|l| l.line == line) {
            continue;
        }
        // The line as `str::lines` gives it: without "\n" or "\r\n".
        let Some(start) = lines.line_start(line) else {
            continue;
        };
        let end = memchr::memchr(b'\n', &text.as_bytes()[at..]).map_or(text.len(), |i| at + i);
        let Some(raw) = text.get(start..end) else {
            continue;
        };
        let raw = match end < text.len() {
            true => raw.strip_suffix('\r').unwrap_or(raw),
            false => raw,
        };
        if let Some(ignore) = parse_comment(raw) {
            let t = raw.trim_start();
            out.push(LineIgnore {
                line,
                alone: t.starts_with('#') || t.starts_with("{#"),
                ignore,
            });
        }
    }
    out.into_boxed_slice()
}

/// Whether a finding of `control` at 1-based `line` is suppressed inline, given
/// the file's [`comments`].
pub fn suppressed_at(comments: &[LineIgnore], line: u32, control: &str) -> bool {
    if line == 0 {
        return false;
    }
    let at = |l: u32| {
        comments
            .binary_search_by_key(&l, |c| c.line)
            .ok()
            .map(|i| &comments[i])
    };
    if at(line).is_some_and(|c| c.ignore.covers(control)) {
        return true;
    }
    // The line above counts only when it is a comment of its own.
    line > 1 && at(line - 1).is_some_and(|c| c.alone && c.ignore.covers(control))
}

/// Whether a finding of `control` at 1-based `line` of `text` is suppressed
/// inline, from the text itself: what [`suppressed_at`] must agree with.
#[cfg(test)]
pub fn suppressed_inline(text: &str, line: u32, control: &str) -> bool {
    let Some(idx) = (line as usize).checked_sub(1) else {
        return false;
    };
    let mut lines = text.lines();
    let above = if idx > 0 { lines.nth(idx - 1) } else { None };
    let this = lines.next();
    if this
        .and_then(parse_comment)
        .is_some_and(|i| i.covers(control))
    {
        return true;
    }
    // The line above counts only when it is a comment of its own.
    above.is_some_and(|l| {
        let t = l.trim_start();
        (t.starts_with('#') || t.starts_with("{#"))
            && parse_comment(t).is_some_and(|i| i.covers(control))
    })
}

/// `per-file-ignores` compiled.
#[derive(Debug, Clone)]
pub struct PerFileIgnores {
    entries: Vec<(GlobMatcher, Selector)>,
}

impl PerFileIgnores {
    pub fn new(entries: &[(String, Vec<String>)]) -> Result<PerFileIgnores, String> {
        let mut out = Vec::new();
        for (glob, codes) in entries {
            let g =
                Glob::new(glob).map_err(|e| format!("per-file-ignores: `{glob}`: {}", e.kind()))?;
            let selector = Selector::new(codes, &[] as &[String])
                .map_err(|e| format!("per-file-ignores: `{glob}`: {e}"))?;
            out.push((g.compile_matcher(), selector));
        }
        Ok(PerFileIgnores { entries: out })
    }

    /// Whether `control` is ignored for a root-relative path.
    pub fn ignored(&self, rel: &str, control: &str) -> bool {
        let name = rel.rsplit('/').next().unwrap_or(rel);
        self.entries
            .iter()
            .any(|(g, sel)| (g.is_match(rel) || g.is_match(name)) && sel.enabled(control))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments() {
        assert_eq!(
            parse_comment("x = 1  # flaskguard: ignore"),
            Some(Ignore::All)
        );
        assert_eq!(
            parse_comment("x  # noqa # flaskguard: ignore[DBG001, KEY]"),
            Some(Ignore::Codes(vec!["DBG001".into(), "KEY".into()]))
        );
        assert_eq!(parse_comment("x = 'flaskguard: ignore'"), None);
        let text = "a = 1\n# flaskguard: ignore[KEY001]\nSECRET_KEY = 'x'\nb = 2  # flaskguard: ignore[KEY]\nc = 3\n";
        assert!(suppressed_inline(text, 3, "KEY001"));
        assert!(!suppressed_inline(text, 3, "KEY002"));
        assert!(suppressed_inline(text, 4, "KEY002"));
        assert!(
            !suppressed_inline(text, 5, "KEY002"),
            "a trailing comment covers its own line only"
        );
        assert!(!suppressed_inline(text, 1, "KEY001"));
    }

    #[test]
    fn comment_index_agrees_with_the_text() {
        let texts = [
            "a = 1\n# flaskguard: ignore[KEY001]\nSECRET_KEY = 'x'\nb = 2  # flaskguard: ignore[KEY]\nc = 3\n",
            "x = 1  # flaskguard: ignore\r\n  # flaskguard: ignore[DBG]\r\ny = 2\r\n",
            "# flaskguard: ignore[INJ001]\n\n# flaskguard: ignore\nz = 'flaskguard: ignore' # flaskguard: ignore[KEY002]",
            "{# flaskguard: ignore[INJ002] #}\n{{ x|safe }}\nflaskguard: ignore\n# flaskguard:ignore[\n",
            "\u{e9}\u{e9} # flaskguard: ignore[KEY001, ,]\r\n# flaskguard: ignore[]\rq\n# flaskguard: ignore\r",
            "",
            "\n\n",
        ];
        for text in texts {
            let idx = crate::source::LineIndex::new(text);
            let found = super::comments(text, &idx);
            for line in 0..8 {
                for control in ["KEY001", "KEY002", "DBG001", "INJ001", "INJ002", "INJ"] {
                    assert_eq!(
                        suppressed_at(&found, line, control),
                        suppressed_inline(text, line, control),
                        "{text:?} line {line} {control}"
                    );
                }
            }
        }
    }

    #[test]
    fn per_file() {
        let p = PerFileIgnores::new(&[
            ("scripts/*.py".into(), vec!["DBG".into()]),
            ("settings_dev.py".into(), vec!["KEY001".into()]),
        ])
        .unwrap();
        assert!(p.ignored("scripts/run.py", "DBG001"));
        assert!(!p.ignored("scripts/run.py", "KEY001"));
        assert!(p.ignored("app/settings_dev.py", "KEY001"));
        assert!(PerFileIgnores::new(&[("x".into(), vec!["NOPE".into()])]).is_err());
    }
}
