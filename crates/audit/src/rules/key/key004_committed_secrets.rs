//! KEY004 `committed-secrets`: secrets in files that are (or will be) committed.

use report::Finding;

use super::strength::{entropy_bits, is_placeholder};
use crate::{
    deploy::{EnvRole, EnvSource},
    discover::FileKind,
    rules::{Rule, RuleContext},
    source::Span,
};

pub const RULE: Rule = Rule {
    code: "KEY004",
    name: "committed-secrets",
    doc: DOC,
    check,
};

const DOC: &str = r#"## What it does
Finds secrets that end up in the repository:
- a `.env` file that no `.gitignore` covers (reported on the `.gitignore`, or
  on the `.env` file when there is none), or that git tracks although
  `.gitignore` lists it (read from the index when the audited directory is a
  git checkout), and the credentials inside it;
- connection URLs with a password (`postgresql://user:password@host/db`) in
  source code, Dockerfiles (`ENV`) and the `environment:` of compose services
  (list or mapping form; a compose file that .gitignore hides and git does
  not track is not read);
- API keys with well-known prefixes in source code (`sk_live_`, `AKIA`,
  `ghp_`, `github_pat_`, `xox?-`, `AIza`, `glpat-`, `SG.`), when the rest looks
  random rather than like a placeholder.

Example env files (`.env.example`) and test code are not reported, nor
placeholder or documentation passwords (`password`, `changeme`, `${DB_PASSWORD}`
interpolation) and URLs to `localhost`.

## Why is this bad?
Anything committed is copied to every clone, fork, CI runner and backup, and
stays in history after it is deleted. Leaked keys are found by scanners within
minutes of a push.

## Example
```text
DATABASE_URL=postgresql://orders:Orders2019!@db.internal.example:5432/orders
```
in a `.env` that `.gitignore` does not list.

Use instead: add `.env` to `.gitignore`, commit a `.env.example` with
placeholders, keep real values in the deployment's secret store, and rotate
anything that was committed.
"#;

const KEY_PREFIXES: &[(&str, usize)] = &[
    ("sk_live_", 16),
    ("rk_live_", 16),
    ("AKIA", 16),
    ("ASIA", 16),
    ("ghp_", 30),
    ("gho_", 30),
    ("ghu_", 30),
    ("ghs_", 30),
    ("github_pat_", 40),
    ("xoxb-", 20),
    ("xoxp-", 20),
    ("xoxa-", 20),
    ("xoxr-", 20),
    ("xoxs-", 20),
    ("AIza", 30),
    ("glpat-", 20),
    ("SG.", 40),
];

/// Names of env variables whose values are credentials.
fn is_credential_name(name: &str) -> bool {
    let n = name.to_ascii_uppercase();
    [
        "PASSWORD",
        "PASSWD",
        "TOKEN",
        "API_KEY",
        "APIKEY",
        "SECRET",
        "PRIVATE_KEY",
        "ACCESS_KEY",
    ]
    .iter()
    .any(|w| n.contains(w))
}

fn check(ctx: &RuleContext) -> Vec<Finding> {
    let project = ctx.project;
    let mut out = Vec::new();
    // .env files outside .gitignore.
    let gitignore = project
        .files
        .iter()
        .filter(|f| f.kind == FileKind::GitIgnore)
        .min_by_key(|f| f.source.rel.matches('/').count());
    let tracked = |file: crate::source::FileId| {
        let rel = project.file(file).map(|f| f.source.rel.as_str());
        project
            .git_tracked
            .as_ref()
            .is_some_and(|set| rel.is_some_and(|r| set.contains(r)))
    };
    for &(file, role, gitignored) in &project.deploy.dotenvs {
        if role == EnvRole::Example {
            continue;
        }
        let Some(pf) = project.file(file) else {
            continue;
        };
        if gitignored {
            // Listed in .gitignore, but committed before it was: still in git.
            if tracked(file) {
                let span = Span::new(
                    file,
                    pf.source
                        .lines()
                        .line_range(pf.source.text(), 1)
                        .unwrap_or_default(),
                );
                out.push(
                    ctx.finding(RULE.code, RULE.name, span, format!("`{}` is committed to git although .gitignore lists it", pf.source.rel))
                        .with_fix("Remove it from the repository (git rm --cached), purge it from history, and rotate its secrets."),
                );
            }
            continue;
        }
        let (span, message) = match gitignore {
            Some(gi) => (
                Span::new(gi.source.id, gi.source.lines().line_range(gi.source.text(), 1).unwrap_or_default()),
                format!("`{}` is not listed in .gitignore, so it is committed with the secrets in it", pf.source.rel),
            ),
            None => (
                Span::new(file, pf.source.lines().line_range(pf.source.text(), 1).unwrap_or_default()),
                format!("`{}` is not covered by any .gitignore, so it is committed with the secrets in it", pf.source.rel),
            ),
        };
        out.push(
            ctx.finding(RULE.code, RULE.name, span, message)
                .with_fix("Add `.env` (and `.env.*`, keeping `!.env.example`) to .gitignore, remove the file from the repository and rotate its secrets."),
        );
    }
    // Credentials inside committed env files and Dockerfiles.
    for e in &project.deploy.env {
        let committed = match &e.source {
            EnvSource::DotEnv { role, gitignored } => {
                (!gitignored || tracked(e.span.file))
                    && *role != EnvRole::Example
                    && *role != EnvRole::Test
            }
            EnvSource::Dockerfile => true,
            // Compose files are committed (unless .gitignore hides an
            // override file); only connection URLs are read there: a
            // `POSTGRES_PASSWORD=...` of a local database service is usual.
            EnvSource::Compose { .. } => project
                .file(e.span.file)
                .is_some_and(|f| !f.is_test && (!f.gitignored || tracked(e.span.file))),
            _ => false,
        };
        if !committed {
            continue;
        }
        let compose = matches!(e.source, EnvSource::Compose { .. });
        let credential = url_password(&e.value)
            .map(|_| "a connection URL with a password")
            .or_else(|| {
                (!compose
                    && is_credential_name(&e.name)
                    && !e.name.contains("SECRET_KEY")
                    && looks_secret(&e.value))
                .then_some("a credential")
            });
        let Some(what) = credential else { continue };
        out.push(
            ctx.finding(
                RULE.code,
                RULE.name,
                e.span,
                format!("`{}` holds {what} in a committed file", e.name),
            )
            .with_fix("Move the value to the deployment's secret store and rotate it.")
            .with_evidence(format!("{}=…", e.name)),
        );
    }
    // Literals in source code.
    for (file, facts) in project.python() {
        for s in &facts.strings {
            let what = if url_password(&s.value).is_some() {
                "a connection URL with a password"
            } else if api_key(&s.value) {
                "an API key"
            } else {
                continue;
            };
            out.push(
                ctx.finding(
                    RULE.code,
                    RULE.name,
                    Span::new(file, s.range),
                    format!("the source contains {what}"),
                )
                .with_fix(
                    "Read it from the environment or a secret store, and rotate the committed one.",
                ),
            );
        }
    }
    out
}

/// The password of `scheme://user:password@host`, when it is a real value.
pub fn url_password(s: &str) -> Option<&str> {
    let (scheme, rest) = s.split_once("://")?;
    if scheme.is_empty()
        || !scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    {
        return None;
    }
    let at = rest.find('@')?;
    let userinfo = &rest[..at];
    if userinfo.contains('/') {
        return None;
    }
    let (_, password) = userinfo.split_once(':')?;
    // Documentation placeholders (`scott:tiger`, `user:password`) and local
    // development databases are not leaked credentials.
    const DOC_PASSWORDS: &[&str] = &[
        "password", "passwd", "pass", "pwd", "secret", "tiger", "xxx", "***", "pw",
    ];
    let host = rest[at + 1..].split(['/', ':', '?']).next().unwrap_or("");
    let local = matches!(host, "localhost" | "127.0.0.1" | "[::1]" | "0.0.0.0");
    let doc = DOC_PASSWORDS.contains(&password.to_ascii_lowercase().as_str());
    (!is_placeholder(password) && !doc && !local && password.len() >= 4).then_some(password)
}

fn looks_secret(v: &str) -> bool {
    v.len() >= 8 && !is_placeholder(v) && entropy_bits(v) >= 30.0
}

/// A token with a known API-key prefix whose rest looks random.
pub fn api_key(s: &str) -> bool {
    KEY_PREFIXES.iter().any(|(prefix, min_rest)| {
        let Some(rest) = s.strip_prefix(prefix) else {
            return false;
        };
        rest.len() >= *min_rest
            && rest
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
            && !is_placeholder(rest)
            && entropy_bits(rest) / rest.chars().count() as f64 >= 3.0
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_keys() {
        assert_eq!(
            url_password("postgresql://orders:Orders2019!@db:5432/o"),
            Some("Orders2019!")
        );
        assert_eq!(
            url_password("postgresql://orders:${DB_PASSWORD}@db/o"),
            None
        );
        assert_eq!(url_password("redis://localhost:6379/0"), None);
        assert_eq!(
            url_password("postgresql://scott:tiger@db.example/test"),
            None
        );
        assert_eq!(
            url_password("postgresql://app:Zx9-Qw8-Er7@localhost/app"),
            None
        );
        assert_eq!(
            url_password("amqp://svc:K7v-2qPz-91@mq.internal:5672/"),
            Some("K7v-2qPz-91")
        );
        assert_eq!(url_password("https://user@example.com"), None);
        assert!(api_key("sk_live_4eC39HqLyjWDarjtT1zdp7dc"));
        assert!(!api_key("sk_live_xxxxxxxxxxxxxxxxxxxxxxxx"));
        assert!(
            !api_key("AKIAIOSFODNN7EXAMPLE"),
            "AWS documentation example key"
        );
        assert!(api_key("AKIAZ7QH2M4KXW3PLR9T"));
        assert!(!api_key("AKIA"));
    }
}
