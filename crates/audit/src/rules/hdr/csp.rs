//! Content-Security-Policy values as Talisman reads them: a dict of directive
//! -> source string or list, or a policy string (`"default-src 'self'; ..."`),
//! switched off by any falsy value.

use crate::{
    model::Project,
    python::value::{Kind, Value},
    source::{FileId, Span},
};

#[derive(Debug, Clone)]
pub struct Directive {
    /// Lower case (`script-src`).
    pub name: String,
    /// Sources as written (`'self'`, `'unsafe-inline'`, `*`); None when the
    /// value is not a literal.
    pub sources: Option<Vec<String>>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Policy {
    pub directives: Vec<Directive>,
    /// Directives may be missing from what we read (`**extra` in the dict).
    pub partial: bool,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum PolicyValue {
    /// A falsy value: no policy is sent.
    Off,
    Policy(Policy),
    Unknown,
}

impl Policy {
    pub fn get(&self, name: &str) -> Option<&Directive> {
        self.directives.iter().rev().find(|d| d.name == name)
    }

    /// The directive that governs scripts: `script-src`, else `default-src`.
    pub fn script_directive(&self) -> Option<&Directive> {
        self.get("script-src").or_else(|| self.get("default-src"))
    }
}

/// Reads a policy value given in `file` (following names to their literal).
pub fn read(project: &Project, file: FileId, v: &Value) -> PolicyValue {
    let (f, v) = project.resolver().deref(file, v);
    let span = Span::new(f, v.range);
    if v.truthy() == Some(false) {
        return PolicyValue::Off;
    }
    match &v.kind {
        Kind::Str(s) => PolicyValue::Policy(parse_str(s, span)),
        Kind::Dict(items) => {
            let mut directives = Vec::new();
            let mut partial = false;
            for (k, val) in items {
                let Some(name) = k.as_ref().and_then(Value::as_str) else {
                    partial = true;
                    continue;
                };
                let (vf, val) = project.resolver().deref(f, val);
                let sources = match &val.kind {
                    Kind::Str(s) => Some(s.split_whitespace().map(str::to_string).collect()),
                    _ => val.as_seq().and_then(|items| {
                        items
                            .iter()
                            .map(|i| i.as_str().map(str::to_string))
                            .collect::<Option<Vec<_>>>()
                    }),
                };
                directives.push(Directive {
                    name: name.trim().to_ascii_lowercase(),
                    sources,
                    span: Span::new(vf, val.range),
                });
            }
            PolicyValue::Policy(Policy {
                directives,
                partial,
                span,
            })
        }
        _ => PolicyValue::Unknown,
    }
}

/// A policy string: `directive source source; directive ...`.
pub fn parse_str(s: &str, span: Span) -> Policy {
    let directives = s
        .split(';')
        .filter_map(|part| {
            let mut words = part.split_whitespace();
            let name = words.next()?.to_ascii_lowercase();
            Some(Directive {
                name,
                sources: Some(words.map(str::to_string).collect()),
                span,
            })
        })
        .collect();
    Policy {
        directives,
        partial: false,
        span,
    }
}

/// What is wrong with the script sources of a policy, given the directives
/// Talisman adds a nonce to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScriptWeakness {
    /// `'unsafe-inline'` with no nonce or hash: injected inline scripts run.
    UnsafeInline,
    /// `*` or a scheme-only source (`https:`, `data:`): scripts from anywhere.
    Wildcard(String),
    /// Neither `script-src` nor `default-src`: scripts are not restricted.
    Unrestricted,
}

/// The weaknesses of a policy's script directive (empty when it is sound or
/// not known).
pub fn script_weaknesses(policy: &Policy, nonce_in: &[String]) -> Vec<(ScriptWeakness, Span)> {
    let Some(dir) = policy.script_directive() else {
        if policy.partial {
            return Vec::new();
        }
        return vec![(ScriptWeakness::Unrestricted, policy.span)];
    };
    let Some(sources) = &dir.sources else {
        return Vec::new();
    };
    let lower: Vec<String> = sources.iter().map(|s| s.to_ascii_lowercase()).collect();
    let has_nonce_or_hash = nonce_in.iter().any(|n| n.eq_ignore_ascii_case(&dir.name))
        || lower.iter().any(|s| {
            s.starts_with("'nonce-")
                || s.starts_with("'sha256-")
                || s.starts_with("'sha384-")
                || s.starts_with("'sha512-")
        });
    // With a nonce or hash, browsers ignore 'unsafe-inline'; with
    // 'strict-dynamic' as well, they ignore host and scheme sources too.
    let strict_dynamic = has_nonce_or_hash && lower.iter().any(|s| s == "'strict-dynamic'");
    let mut out = Vec::new();
    for s in &lower {
        match s.as_str() {
            "'unsafe-inline'" if !has_nonce_or_hash => {
                out.push((ScriptWeakness::UnsafeInline, dir.span))
            }
            "*" | "http:" | "https:" | "data:" | "blob:" if !strict_dynamic => {
                out.push((ScriptWeakness::Wildcard(s.clone()), dir.span))
            }
            _ => {}
        }
    }
    out
}

/// The string items of a literal list (or a single string).
pub fn string_list(project: &Project, file: FileId, v: &Value) -> Option<Vec<String>> {
    let (_, v) = project.resolver().deref(file, v);
    match &v.kind {
        Kind::Str(s) => Some(vec![s.to_string()]),
        Kind::None => Some(Vec::new()),
        _ => v.as_seq().map(|items| {
            items
                .iter()
                .filter_map(|i| i.as_str().map(str::to_string))
                .collect()
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span() -> Span {
        Span::new(0, ruff_text_size::TextRange::default())
    }

    #[test]
    fn string_policies_and_script_weaknesses() {
        let p = parse_str("default-src 'self'; object-src 'none'", span());
        assert!(script_weaknesses(&p, &[]).is_empty(), "Talisman's default");
        let p = parse_str(
            "default-src 'self'; script-src 'self' 'unsafe-inline' *",
            span(),
        );
        let w: Vec<_> = script_weaknesses(&p, &[])
            .into_iter()
            .map(|(w, _)| w)
            .collect();
        assert_eq!(
            w,
            vec![
                ScriptWeakness::UnsafeInline,
                ScriptWeakness::Wildcard("*".into())
            ]
        );
        assert!(
            script_weaknesses(&p, &["script-src".into()])
                .iter()
                .all(|(w, _)| *w != ScriptWeakness::UnsafeInline),
            "a nonce makes browsers ignore 'unsafe-inline'"
        );
        let p = parse_str("img-src 'self'", span());
        assert_eq!(
            script_weaknesses(&p, &[])[0].0,
            ScriptWeakness::Unrestricted
        );
        let p = parse_str(
            "script-src 'nonce-abc' 'strict-dynamic' https: 'unsafe-inline'",
            span(),
        );
        assert!(script_weaknesses(&p, &[]).is_empty());
    }
}
