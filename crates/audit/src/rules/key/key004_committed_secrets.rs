//! KEY004 `committed-secrets`: secrets in files that are (or will be) committed.

use report::Finding;

use super::{
    key002_weak_secret_key::weak_env_value,
    strength::{entropy_bits, is_placeholder, is_unfilled, is_well_known_password},
};
use crate::{
    deploy::{compose::with_defaults, EnvRole, EnvSource},
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
  git checkout), and the credentials inside it. Env files named for local
  development or tests (`development.env`, `.env.test`) configure local runs
  and CI and are committed on purpose: only their credentials are read. A
  developer's own overrides (`.env.local`, `.env.development.local`) are not;
- connection URLs with a password (`postgresql://user:password@host/db`) in
  source code, Dockerfiles (`ENV`) and the `environment:` of compose services
  (list or mapping form; a compose file that .gitignore hides and git does
  not track, or named as an example or test stack, is not read), and
  password variables of compose services set to a well-known password
  (`POSTGRES_PASSWORD: postgres`, `MYSQL_ROOT_PASSWORD: root`; other values
  there are usual for a local database service);
- password variables (`DB_PASSWORD=...`) in env files and Dockerfiles, and
  other credentials there (`SECRET_KEY`, `*_SECRET`, `*_TOKEN`, `*_API_KEY`)
  when the value looks random (a weak secret key is KEY002's);
- in all three, the default of an interpolation as if it were the value
  (`POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:-postgres}`, `${DB_PASS-changeme}`):
  it is whenever the variable is not set. A required variable
  (`${POSTGRES_PASSWORD:?set it}`) or an empty default is not reported.

Variables about passwords are not passwords: flags and settings
(`MYSQL_ALLOW_EMPTY_PASSWORD=yes`, `MYSQL_RANDOM_ROOT_PASSWORD=yes`,
`*_PASSWORD_FILE`, `PASSWORD_MIN_LENGTH`, `PASSWORD_HASH_ROUNDS`,
`PASSWORD_RESET_TIMEOUT`, `ACCESS_TOKEN_EXPIRE_MINUTES`, `TOKEN_URL`) are not
read as credentials.
- private keys committed with the code: a `*.pem` / `*.key` / `id_rsa` file
  holding an unencrypted `-----BEGIN ... PRIVATE KEY-----` block (a JWT
  signing key, a TLS key), unless .gitignore hides it or it is test data or
  named as an example (`example`, `sample`, `dummy`, `fake`, `test` in its
  path);
- API keys with well-known prefixes in source code (`sk_live_`, `AKIA`,
  `ghp_`, `github_pat_`, `xox?-`, `AIza`, `glpat-`, `SG.`), when the rest looks
  random rather than like a placeholder.

A password written where a credential goes is reported however obvious it
is (`password`, `secret`, `changeme` are the first an attacker tries; the
message says so); only values that stand for one filled in elsewhere are
not: interpolations and template markers (`${DB_PASSWORD}`, `$DB_PASSWORD`,
`%(password)s`, `{password}`, `<password>`), masks (`***`, `xxx`) and empty
values. Example env files (`.env.example`), test code, URLs to
`localhost` and usage lines that show a URL's format
(`mysql://user:password@host:port/dbname[?key=value...]`: a port or host
that is a word) are not reported either, nor are strings documented as
examples: the value of a key or argument named for one, or inside a list,
dict or call that is (`"connection_examples": [{"connection_string":
"db://demo:demo@..."}]`, `Field(examples=[...])`).

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

/// Words that, after the credential word, make a name a setting about the
/// credential rather than the credential: where one is kept
/// (`DB_PASSWORD_FILE=/run/secrets/db`), how long one lives
/// (`ACCESS_TOKEN_EXPIRE_MINUTES`, `PASSWORD_RESET_TIMEOUT`), how one is
/// checked or hashed (`PASSWORD_MIN_LENGTH`, `PASSWORD_HASH_ROUNDS`,
/// `SECURITY_PASSWORD_HASH=pbkdf2_sha512`), where one is sent (`TOKEN_URL`).
const SETTING_WORDS: &[&str] = &[
    "FILE",
    "PATH",
    "DIR",
    "URL",
    "URI",
    "ENDPOINT",
    "HOST",
    "PORT",
    "EXPIRE",
    "EXPIRES",
    "EXPIRY",
    "EXPIRATION",
    "TTL",
    "TIMEOUT",
    "LIFETIME",
    "AGE",
    "SECONDS",
    "MINUTES",
    "HOURS",
    "DAYS",
    "LENGTH",
    "LEN",
    "MIN",
    "MAX",
    "ROUNDS",
    "ITERATIONS",
    "COST",
    "HASH",
    "SCHEME",
    "SCHEMES",
    "ALGORITHM",
    "ALGORITHMS",
    "ALG",
    "METHOD",
    "POLICY",
    "TYPE",
    "LOCATION",
    "HEADER",
    "NAME",
    "PREFIX",
    "ENABLED",
    "REQUIRED",
    "COUNT",
    "LIMIT",
];

/// Words that, before the password word, make a name a flag about passwords
/// rather than one (`MYSQL_ALLOW_EMPTY_PASSWORD=yes`,
/// `MYSQL_RANDOM_ROOT_PASSWORD=yes`, `MYSQL_ONETIME_PASSWORD`).
const FLAG_WORDS: &[&str] = &[
    "ALLOW", "EMPTY", "RANDOM", "ONETIME", "SKIP", "NO", "DISABLE", "ENABLE", "REQUIRE", "USE",
    "GENERATE", "FORCE", "CHECK", "VALIDATE",
];

/// The words of a variable name, upper-cased: `db-password` -> `DB`, `PASSWORD`.
/// Whether a key file's text holds an unencrypted private key (PEM, any
/// algorithm; OpenSSH's own format too).
fn holds_private_key(text: &str) -> bool {
    text.lines().any(|l| {
        let l = l.trim();
        l.starts_with("-----BEGIN ") && l.ends_with("PRIVATE KEY-----") && !l.contains("ENCRYPTED")
    }) && !text.contains("Proc-Type: 4,ENCRYPTED")
}

/// Committed private key files (`certs/jwt-private.pem`).
fn private_keys(ctx: &RuleContext, out: &mut Vec<Finding>) {
    let project = ctx.project;
    for f in &project.files {
        if f.kind != FileKind::KeyFile || f.is_test || f.gitignored {
            continue;
        }
        let rel = f.source.rel.to_ascii_lowercase();
        if ["example", "sample", "dummy", "fake", "test"]
            .iter()
            .any(|w| rel.contains(w))
        {
            continue;
        }
        if !holds_private_key(f.source.text()) {
            continue;
        }
        let span = Span::new(
            f.source.id,
            f.source
                .lines()
                .line_range(f.source.text(), 1)
                .unwrap_or_default(),
        );
        out.push(
            ctx.finding(
                RULE.code,
                RULE.name,
                span,
                format!(
                    "`{}` is a private key committed with the code: anyone with the repository can sign tokens or impersonate the server",
                    f.source.rel
                ),
            )
            .with_fix("Remove the key from the repository and its history, generate a new one where the app runs (a secret store or a mounted file), and list key files in .gitignore."),
        );
    }
}

fn name_words(name: &str) -> Vec<String> {
    name.to_ascii_uppercase()
        .split(['_', '-', '.'])
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// Names of env variables whose values are credentials (`*_PASSWORD`,
/// `*_SECRET`, `*_TOKEN`, `*_API_KEY`, `SECRET_KEY`, `*_PRIVATE_KEY`,
/// `AWS_SECRET_ACCESS_KEY`, `SECURITY_PASSWORD_SALT`), not settings about one
/// ([`SETTING_WORDS`] after the credential word, [`FLAG_WORDS`] before a
/// password word).
fn is_credential_name(name: &str) -> bool {
    let words = name_words(name);
    // The credential word, the last one if several: `SECRET_KEY`,
    // `API_KEY`, `*TOKEN`, `*PASSWORD`, `*SECRET`, a password or signing salt.
    let found = (0..words.len()).rev().find(|&i| {
        let w = words[i].as_str();
        let prev = i.checked_sub(1).map_or("", |p| words[p].as_str());
        [
            "PASSWORD",
            "PASSWD",
            "TOKEN",
            "APIKEY",
            "SECRET",
            "SECRETKEY",
        ]
        .iter()
        .any(|c| w.ends_with(c))
            || (w == "KEY" && matches!(prev, "API" | "PRIVATE" | "ACCESS" | "SECRET" | "SIGNING"))
            || (w == "SALT" && matches!(prev, "PASSWORD" | "SECRET" | "SIGNING" | "TOKEN"))
    });
    let Some(at) = found else {
        return false;
    };
    let setting = words[at + 1..]
        .iter()
        .any(|w| SETTING_WORDS.contains(&w.as_str()));
    let flag = matches!(words[at].as_str(), "PASSWORD" | "PASSWD")
        && words[..at].iter().any(|w| FLAG_WORDS.contains(&w.as_str()));
    !setting && !flag
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
        // `development.env`, `.env.test`: settings for local runs and CI,
        // committed on purpose next to the code they configure. A developer's
        // own overrides (`.env.local`, `.env.development.local`) are not.
        let name = pf.source.rel.rsplit('/').next().unwrap_or(&pf.source.rel);
        let personal = name
            .to_ascii_lowercase()
            .split(['.', '-', '_'])
            .any(|part| part == "local");
        if matches!(role, EnvRole::Development | EnvRole::Test) && !personal {
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
    private_keys(ctx, &mut out);
    // Credentials inside committed env files and Dockerfiles.
    let signing_names = super::key002_weak_secret_key::signing_variables(ctx);
    for e in &project.deploy.env {
        let committed = match &e.source {
            EnvSource::DotEnv { role, gitignored } => {
                (!gitignored || tracked(e.span.file))
                    && *role != EnvRole::Example
                    && *role != EnvRole::Test
            }
            EnvSource::Dockerfile => true,
            // Compose files are committed (unless .gitignore hides an
            // override file; examples and test stacks are not deployed);
            // only connection URLs and well-known passwords are read there:
            // a `POSTGRES_PASSWORD=...` of a local database service is usual,
            // `POSTGRES_PASSWORD: postgres` is the first an attacker tries.
            EnvSource::Compose { .. } => project.file(e.span.file).is_some_and(|f| {
                let role = EnvRole::of(f.source.rel.rsplit('/').next().unwrap_or(""));
                !f.is_test
                    && role != EnvRole::Example
                    && role != EnvRole::Test
                    && (!f.gitignored || tracked(e.span.file))
            }),
            _ => false,
        };
        if !committed {
            continue;
        }
        let compose = matches!(e.source, EnvSource::Compose { .. });
        let judge = |value: &str| -> Option<(&'static str, Option<String>)> {
            match url_password(value) {
                Some(p) => Some(("a connection URL with a password", Some(p.to_string()))),
                None if compose => obvious_password(&e.name, value)
                    .then(|| ("a password", Some(value.to_string()))),
                None if is_password_name(&e.name) && !is_unfilled(value) => {
                    Some(("a password", Some(value.to_string())))
                }
                // A weak secret key is KEY002's (one finding a line); a
                // strong one committed is this rule's.
                None => (is_credential_name(&e.name)
                    && weak_env_value(e, &signing_names).is_none()
                    && looks_secret(value))
                .then_some(("a credential", None)),
            }
        };
        // `${POSTGRES_PASSWORD:-postgres}`: the default is the value whenever
        // the variable is not set, as committed as a literal.
        let defaulted = with_defaults(&e.value);
        let ((what, password), default_of) = match judge(&e.value) {
            Some(j) => (j, None),
            None => match defaulted.as_ref().and_then(|d| Some((judge(&d.value)?, d))) {
                Some((j, d)) => (j, Some(d)),
                None => continue,
            },
        };
        let weak = password.as_deref().is_some_and(is_well_known_password);
        let fix = match (compose, default_of.is_some()) {
            (true, true) => "Drop the default so a missing variable stops the stack (`${DB_PASSWORD:?set DB_PASSWORD}`), set a long random password where it runs, and rotate the committed one.",
            (false, true) => "Drop the default, set the value where the app runs from its secret store, and rotate the committed one.",
            (true, false) => "Interpolate it from the environment (`${DB_PASSWORD}`) or use compose secrets, set a long random password where the stack runs, and rotate the committed one.",
            (false, false) => "Move the value to the deployment's secret store and rotate it.",
        };
        let default_note = default_of.map_or(String::new(), |d| {
            format!(
                " as the default of {}",
                super::key002_weak_secret_key::defaults_of(&d.vars)
            )
        });
        out.push(
            ctx.finding(
                RULE.code,
                RULE.name,
                e.span,
                format!(
                    "`{}` holds {what} in a committed file{default_note}{}",
                    e.name,
                    weak_note(weak)
                ),
            )
            .with_fix(fix)
            .with_evidence(format!("{}=…", e.name)),
        );
    }
    // Literals in source code.
    for (file, facts) in project.python() {
        let text = project.source(file).map_or("", |f| f.text());
        for s in &facts.strings {
            // Documentation: `"connection_examples": [{"connection_string":
            // "db://demo:demo@..."}]`, `Field(examples=[...])`.
            if in_example(text, usize::from(s.range.start())) {
                continue;
            }
            let (what, weak) = if let Some(p) = url_password(&s.value) {
                (
                    "a connection URL with a password",
                    is_well_known_password(p),
                )
            } else if api_key(&s.value) {
                ("an API key", false)
            } else {
                continue;
            };
            out.push(
                ctx.finding(
                    RULE.code,
                    RULE.name,
                    Span::new(file, s.range),
                    format!("the source contains {what}{}", weak_note(weak)),
                )
                .with_fix(
                    "Read it from the environment or a secret store, and rotate the committed one.",
                ),
            );
        }
    }
    out
}

/// Whether the string starting at `at` is the value of a key or argument
/// named as an example (`examples=`, `"sample_uri":`), or sits in a list,
/// dict or call that is (`"connection_examples": [{...}]`), up to three
/// levels out. Read from the text: brackets inside strings may mislead it,
/// within a bounded window.
fn in_example(text: &str, at: usize) -> bool {
    const WINDOW: usize = 1500;
    let Some(before) = text.get(..at) else {
        return false;
    };
    let mut from = at.saturating_sub(WINDOW);
    while !before.is_char_boundary(from) {
        from += 1;
    }
    let before = &before[from..];
    let names_example = |key: &str| {
        let key = key.to_ascii_lowercase();
        ["example", "sample", "placeholder"]
            .iter()
            .any(|w| key.contains(w))
    };
    // The name just before a position: back to the last separator.
    let key_before = |end: usize| -> &str {
        let seg = &before[..end];
        let cut = seg
            .rfind(['\n', ',', '{', '[', '(', ';'])
            .map_or(0, |i| i + 1);
        let key = seg[cut..].trim_end();
        // Only a key (`"name":`) or a keyword / assignment (`name=`).
        if key.ends_with(':') || key.ends_with('=') {
            key
        } else {
            ""
        }
    };
    if names_example(key_before(before.len())) {
        return true;
    }
    let mut depth = 0usize;
    let mut levels = 0;
    for (i, c) in before.char_indices().rev() {
        match c {
            ')' | ']' | '}' => depth += 1,
            '(' | '[' | '{' if depth > 0 => depth -= 1,
            '(' | '[' | '{' => {
                let key = key_before(i);
                // `Field(examples=...)`: the call's own name does not count.
                if names_example(key) {
                    return true;
                }
                levels += 1;
                if levels == 3 {
                    return false;
                }
            }
            _ => {}
        }
    }
    false
}

/// The password of `scheme://user:password@host`, when it is a value: not an
/// interpolation, template marker or mask ([`is_unfilled`]; `password`,
/// `changeme` and other obvious ones are values, and the first an attacker
/// tries), and not of a database on the machine itself.
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
    let after = &rest[at + 1..];
    let authority = after.split(['/', '?', '#']).next().unwrap_or("");
    let (host, port) = match authority.strip_prefix('[') {
        // An IPv6 literal: `[::1]:5432`.
        Some(v6) => match v6.split_once(']') {
            Some((h, p)) => (&authority[..h.len() + 2], p.strip_prefix(':')),
            None => (authority, None),
        },
        None => match authority.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        },
    };
    // Local development databases (`postgresql://scott:tiger@localhost/test`)
    // are not reachable credentials.
    let local = matches!(host, "localhost" | "127.0.0.1" | "[::1]" | "0.0.0.0");
    (!is_unfilled(password) && !local && !is_url_template(host, port, after)).then_some(password)
}

/// A URL written to show the format, not to connect: `user:password@host:port/dbname`
/// in a docstring or help text. Its port is a word (`:port`), its host a word for
/// "some host", or it has the optional parts of a usage line (`[?key=value...]`).
fn is_url_template(host: &str, port: Option<&str>, after_at: &str) -> bool {
    let port_is_word =
        port.is_some_and(|p| !p.is_empty() && !p.bytes().all(|b| b.is_ascii_digit()));
    let host_is_word = matches!(
        host.to_ascii_lowercase().as_str(),
        "host"
            | "hostname"
            | "server"
            | "servername"
            | "address"
            | "ip"
            | "domain"
            | "your-host"
            | "yourhost"
            | "your_host"
    );
    port_is_word || host_is_word || after_at.contains("[?") || after_at.contains("...")
}

/// Names of env variables whose value is a password by its name
/// (`POSTGRES_PASSWORD`, `DB_PASS`), not a setting about passwords
/// (`PASSWORD_MIN_LENGTH`), a flag (`MYSQL_ALLOW_EMPTY_PASSWORD=yes`,
/// `MYSQL_RANDOM_ROOT_PASSWORD=yes`) or a file holding one
/// (`POSTGRES_PASSWORD_FILE`).
fn is_password_name(name: &str) -> bool {
    let words = name_words(name);
    let Some((last, before)) = words.split_last() else {
        return false;
    };
    // `PWD` alone is the shell's working directory.
    matches!(last.as_str(), "PASSWORD" | "PASSWD" | "PASS" | "PWD")
        && !(before.is_empty() && last == "PWD")
        && !before.iter().any(|w| FLAG_WORDS.contains(&w.as_str()))
}

/// A password variable set to a password attackers try first
/// (`POSTGRES_PASSWORD: postgres`), not to an interpolation
/// (`${POSTGRES_PASSWORD:?}`) nor naming a file (`*_PASSWORD_FILE`).
fn obvious_password(name: &str, value: &str) -> bool {
    is_password_name(name) && !is_unfilled(value) && is_well_known_password(value)
}

/// Said of a password anyone can guess: committed or not, it is the first an
/// attacker tries.
fn weak_note(weak: bool) -> &'static str {
    if weak {
        "; the password is a well-known default, among the first an attacker tries"
    } else {
        ""
    }
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
        // Obvious passwords are passwords; only markers stand for one.
        assert_eq!(
            url_password("postgresql://scott:tiger@db.internal/test"),
            Some("tiger")
        );
        assert_eq!(
            url_password("postgres://app:password@[fd00::5]:5432/app"),
            Some("password")
        );
        // Usage lines and documentation hosts show a format, not a credential.
        for template in [
            "mysql://user:password@host:port/dbname[?key=value&key=value...]",
            "postgresql://user:password@host/dbname",
            "clickhouse://user:password@your-host:8123/default",
            "druid://user:password@broker:port/druid/v2/sql",
        ] {
            assert_eq!(url_password(template), None, "{template}");
        }
        assert_eq!(
            url_password("postgres://app:password@db/app"),
            Some("password")
        );
        assert_eq!(
            url_password("redis://:password@redis:6379"),
            Some("password")
        );
        assert_eq!(url_password("amqp://guest:guest@mq:5672/"), Some("guest"));
        for unfilled in [
            "postgres://app:${DB_PASSWORD}@db/app",
            "postgres://app:$DB_PASSWORD@db/app",
            "postgres://app:<password>@db/app",
            "postgres://app:***@db/app",
            "postgres://app:xxx@db/app",
            "postgres://app:@db/app",
            "redis://:@redis:6379",
            "postgresql://%s:%s@%s/%s",
            "postgresql://{user}:{password}@{host}/{db}",
        ] {
            assert_eq!(url_password(unfilled), None, "{unfilled}");
        }
        assert_eq!(
            url_password("postgresql://scott:tiger@localhost/test"),
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

    #[test]
    fn password_variables_by_name() {
        for name in [
            "POSTGRES_PASSWORD",
            "DB_PASS",
            "redis_passwd",
            "MYSQL_ROOT_PWD",
        ] {
            assert!(is_password_name(name), "{name}");
        }
        for name in [
            "PASSWORD_MIN_LENGTH",
            "POSTGRES_PASSWORD_FILE",
            "CSRF_BYPASS",
            "PWD",
            "API_TOKEN",
            // Flags and settings about passwords.
            "MYSQL_ALLOW_EMPTY_PASSWORD",
            "MARIADB_ALLOW_EMPTY_ROOT_PASSWORD",
            "MYSQL_RANDOM_ROOT_PASSWORD",
            "MYSQL_ONETIME_PASSWORD",
            "POSTGRES_HOST_AUTH_METHOD",
            "PASSWORD_HASH_ROUNDS",
            "PASSWORD_RESET_TIMEOUT",
            "",
            "_",
        ] {
            assert!(!is_password_name(name), "{name}");
        }
    }

    #[test]
    fn credential_variables_by_name() {
        for name in [
            "SECRET_KEY",
            "JWT_SECRET_KEY",
            "SECRET_KEY_BASE",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_ACCESS_KEY",
            "STRIPE_API_KEY",
            "OPENAI_APIKEY",
            "GITHUB_TOKEN",
            "SLACK_BOT_TOKEN",
            "CLIENT_SECRET",
            "DB_PASSWORD",
            "SECURITY_PASSWORD_SALT",
            "JWT_PRIVATE_KEY",
            "GITHUBTOKEN",
            "secret",
        ] {
            assert!(is_credential_name(name), "{name}");
        }
        for name in [
            "MYSQL_ALLOW_EMPTY_PASSWORD",
            "MYSQL_RANDOM_ROOT_PASSWORD",
            "POSTGRES_HOST_AUTH_METHOD",
            "POSTGRES_PASSWORD_FILE",
            "JWT_SECRET_KEY_PATH",
            "AUTH_PASSWORD_MIN_LENGTH",
            "PASSWORD_HASH_ROUNDS",
            "SECURITY_PASSWORD_HASH",
            "PASSWORD_RESET_TIMEOUT",
            "ACCESS_TOKEN_EXPIRE_MINUTES",
            "REFRESH_TOKEN_EXPIRE_DAYS",
            "EMAIL_RESET_TOKEN_EXPIRE_HOURS",
            "TOKEN_URL",
            "OAUTH_TOKEN_ENDPOINT",
            "JWT_ALGORITHM",
            "API_KEY_HEADER",
            "SECRETS_MANAGER_ARN",
            "POSTGRES_USER",
            "KEY",
            "",
        ] {
            assert!(!is_credential_name(name), "{name}");
        }
    }

    #[test]
    fn obvious_passwords_of_compose_services() {
        for (name, value) in [
            ("POSTGRES_PASSWORD", "postgres"),
            ("POSTGRES_PASSWORD", "password"),
            ("MYSQL_ROOT_PASSWORD", "root"),
            ("REDIS_PASSWORD", "changeme"),
            ("RABBITMQ_DEFAULT_PASS", "guest"),
        ] {
            assert!(obvious_password(name, value), "{name}={value}");
        }
        for (name, value) in [
            ("POSTGRES_PASSWORD", "${POSTGRES_PASSWORD}"),
            ("POSTGRES_PASSWORD", "${POSTGRES_PASSWORD:?}"),
            ("POSTGRES_PASSWORD", "$POSTGRES_PASSWORD"),
            ("POSTGRES_PASSWORD", ""),
            ("POSTGRES_PASSWORD_FILE", "/run/secrets/postgres"),
            ("MYSQL_PASSWORD", "r3plica-k7Qz"),
            ("MYSQL_ALLOW_EMPTY_PASSWORD", "yes"),
            ("MYSQL_RANDOM_ROOT_PASSWORD", "root"),
            ("POSTGRES_USER", "postgres"),
        ] {
            assert!(!obvious_password(name, value), "{name}={value}");
        }
    }
}
