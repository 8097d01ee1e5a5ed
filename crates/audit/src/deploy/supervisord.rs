//! supervisord configs (`supervisord.conf`, `conf.d/*.conf`, `*.ini`): the
//! `command=` of each `[program:NAME]` / `[fcgi-program:NAME]` section, its
//! `environment=` and `numprocs=`. A file is one only when it has such a section
//! (see [`looks_like`]): tox.ini, alembic.ini, uwsgi.ini and nginx confs have none.
//!
//! The syntax is Python's configparser as supervisor sets it up: `key = value`
//! or `key: value`, full-line comments starting with `;` or `#`, inline comments
//! after whitespace, indented continuation lines, and `%(name)s` expansions
//! (`%(ENV_X)s` is the variable `X` of supervisord's environment, kept as `${X}`).

use super::{line_span, CommandOrigin, DeployFacts, EnvFact, EnvSource};
use crate::source::{SourceFile, Span};

/// A `[program:NAME]` section that has a command.
#[derive(Debug, Clone)]
pub struct Program {
    pub name: String,
    /// The `command=` line.
    pub span: Span,
    /// `numprocs=N`: supervisord starts N copies of the command.
    pub numprocs: Option<(u32, Span)>,
}

/// Whether a file is a supervisord config: it has a `[program:NAME]` (or
/// `[fcgi-program:NAME]`) section.
pub fn looks_like(text: &str) -> bool {
    text.lines()
        .any(|l| section_name(l).is_some_and(|s| program_name(&s).is_some()))
}

/// The section a header line opens (`[program:web]` -> `program:web`).
fn section_name(line: &str) -> Option<String> {
    let t = line.trim();
    let inner = t.strip_prefix('[')?;
    let end = inner.find(']')?;
    // Only a comment may follow the header.
    let after = inner[end + 1..].trim_start();
    if !(after.is_empty() || after.starts_with(';') || after.starts_with('#')) {
        return None;
    }
    Some(inner[..end].trim().to_string())
}

/// `program:web` -> `web`.
fn program_name(section: &str) -> Option<&str> {
    let (kind, name) = section.split_once(':')?;
    let name = name.trim();
    (matches!(kind.trim(), "program" | "fcgi-program") && !name.is_empty()).then_some(name)
}

/// One `key = value` with its first line (1-based).
#[derive(Debug, Clone)]
struct Entry {
    key: String,
    value: String,
    line: u32,
}

#[derive(Debug, Clone)]
struct Section {
    name: String,
    entries: Vec<Entry>,
}

impl Section {
    /// The last value of a key (configparser keeps the last).
    fn get(&self, key: &str) -> Option<&Entry> {
        self.entries.iter().rev().find(|e| e.key == key)
    }
}

/// Cuts an inline comment: `;` or `#` after whitespace.
fn strip_inline_comment(value: &str) -> &str {
    let bytes = value.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if (b == b';' || b == b'#') && i > 0 && bytes[i - 1].is_ascii_whitespace() {
            return value[..i].trim_end();
        }
    }
    value
}

fn sections(text: &str) -> Vec<Section> {
    let mut out: Vec<Section> = Vec::new();
    // Whether the last entry of the last section may take continuation lines.
    let mut open = false;
    for (i, raw) in text.lines().enumerate() {
        let line = i as u32 + 1;
        let t = raw.trim();
        if t.is_empty() || t.starts_with(';') || t.starts_with('#') {
            continue;
        }
        let indented = raw.starts_with([' ', '\t']);
        if indented && open {
            if let Some(e) = out.last_mut().and_then(|s| s.entries.last_mut()) {
                let more = strip_inline_comment(t);
                if !more.is_empty() {
                    if !e.value.is_empty() {
                        e.value.push(' ');
                    }
                    e.value.push_str(more);
                }
                continue;
            }
        }
        if let Some(name) = section_name(raw) {
            out.push(Section {
                name,
                entries: Vec::new(),
            });
            open = false;
            continue;
        }
        // `key = value` or `key: value`, whichever delimiter comes first.
        let Some(at) = t.find(['=', ':']) else {
            open = false;
            continue;
        };
        let key = t[..at].trim().to_ascii_lowercase();
        let Some(section) = out.last_mut() else {
            open = false;
            continue;
        };
        if key.is_empty() {
            open = false;
            continue;
        }
        section.entries.push(Entry {
            key,
            value: strip_inline_comment(t[at + 1..].trim()).to_string(),
            line,
        });
        open = true;
    }
    out
}

/// Expands supervisor's `%(name)s` references: `%(ENV_X)s` becomes `${X}`
/// (supervisord's environment, unknown here), `%(program_name)s` and
/// `%(group_name)s` the program's name, `%(process_num)d` 0, `%(numprocs)d`
/// the count, `%(here)s` the config's directory (`.`); `%%` is `%`.
fn expand(value: &str, program: &str, numprocs: u32) -> String {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(pos) = rest.find('%') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        if let Some(r) = after.strip_prefix('%') {
            out.push('%');
            rest = r;
            continue;
        }
        let parsed = after.strip_prefix('(').and_then(|a| {
            let close = a.find(')')?;
            let name = &a[..close];
            // The conversion: flags, width, precision, then a type letter.
            let spec = &a[close + 1..];
            let len = spec.find(|c: char| c.is_ascii_alphabetic()).filter(|&n| {
                spec[..n]
                    .chars()
                    .all(|c| "-#0 +.".contains(c) || c.is_ascii_digit())
            })?;
            // `(` name `)` spec-flags letter, counted from `after`.
            Some((name, close + len + 3))
        });
        let Some((name, used)) = parsed else {
            out.push('%');
            rest = after;
            continue;
        };
        match name {
            n if n.starts_with("ENV_") => {
                out.push_str("${");
                out.push_str(&n[4..]);
                out.push('}');
            }
            "program_name" | "group_name" => out.push_str(program),
            "process_num" => out.push('0'),
            "numprocs" => out.push_str(&numprocs.to_string()),
            "here" => out.push('.'),
            _ => {
                out.push('%');
                out.push_str(&after[..used]);
            }
        }
        rest = &after[used..];
    }
    out.push_str(rest);
    out
}

/// `environment=A="1",B='two words',C=3`.
fn env_pairs(value: &str) -> Vec<(String, String)> {
    let mut items = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    for c in value.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => cur.push(c),
            None if c == '"' || c == '\'' => quote = Some(c),
            None if c == ',' => items.push(std::mem::take(&mut cur)),
            None => cur.push(c),
        }
    }
    items.push(cur);
    items
        .into_iter()
        .filter_map(|item| {
            let (k, v) = item.split_once('=')?;
            let k = k.trim();
            (!k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
                .then(|| (k.to_string(), v.trim().to_string()))
        })
        .collect()
}

pub fn parse(file: &SourceFile) -> DeployFacts {
    let mut out = DeployFacts::default();
    let span_at = |line: u32| line_span(file.id, file.lines(), file.text(), line);
    for section in sections(file.text()) {
        let Some(name) = program_name(&section.name) else {
            continue;
        };
        let Some(command) = section.get("command") else {
            continue;
        };
        let numprocs = section
            .get("numprocs")
            .and_then(|e| Some((e.value.trim().parse::<u32>().ok()?, span_at(e.line))));
        let n = numprocs.map_or(1, |(n, _)| n);
        let span = span_at(command.line);
        let line = expand(&command.value, name, n);
        let origin = CommandOrigin::Supervisord {
            program: name.to_string(),
        };
        let mut env = Vec::new();
        if let Some(e) = section.get("environment") {
            for (k, v) in env_pairs(&expand(&e.value, name, n)) {
                env.push(EnvFact {
                    name: k,
                    value: v,
                    span: span_at(e.line),
                    source: EnvSource::Command,
                });
            }
        }
        for cmd in super::commands_of(&line, span, origin) {
            for (k, v) in &cmd.env {
                env.push(EnvFact {
                    name: k.clone(),
                    value: v.clone(),
                    span,
                    source: EnvSource::Command,
                });
            }
            out.commands.push(cmd);
        }
        out.env.extend(env);
        out.supervisord.push(Program {
            name: name.to_string(),
            span,
            numprocs,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deploy::Server;

    fn file(text: &str) -> SourceFile {
        SourceFile::new(0, "supervisord.conf".into(), text.into())
    }

    #[test]
    fn recognises_supervisord_by_content() {
        assert!(looks_like(
            "[supervisord]\nnodaemon=true\n\n[program:web]\ncommand=gunicorn app:app\n"
        ));
        assert!(looks_like("[fcgi-program:api] ; comment\ncommand=x\n"));
        // tox.ini, alembic.ini, uwsgi.ini, setup.cfg and nginx are not.
        assert!(!looks_like(
            "[tox]\nenvlist = py312\n\n[testenv:lint]\ncommands = flake8\n"
        ));
        assert!(!looks_like("[alembic]\nscript_location = migrations\n"));
        assert!(!looks_like("[uwsgi]\nmodule = app:app\nmaster = true\n"));
        assert!(!looks_like(
            "[metadata]\nname = shop\n[options]\npackages = find:\n"
        ));
        assert!(!looks_like(
            "server {\n  listen 80;\n  location / { proxy_pass http://[::1]:8000; }\n}\n"
        ));
        assert!(!looks_like("; [program:web]\n"));
        assert!(!looks_like("[program:]\n"));
    }

    #[test]
    fn reads_program_commands() {
        let text = "; supervisor config\n[supervisord]\nnodaemon=true\n\n[program:web]\ncommand=/venv/bin/gunicorn -w 4 --bind 0.0.0.0:8000 ; inline comment\n    wsgi:app  # the app\ndirectory=/srv/app\nnumprocs = 2\nprocess_name=%(program_name)s_%(process_num)02d\nenvironment=FLASK_ENV=\"production\",WEB_CONCURRENCY='3'\n\n[program:worker]\ncommand: celery -A tasks worker\n";
        let f = file(text);
        let d = parse(&f);
        assert_eq!(d.commands.len(), 2);
        let Some(Server::Gunicorn(g)) = &d.commands[0].server else {
            panic!("{:?}", d.commands[0])
        };
        assert_eq!(g.workers.as_deref(), Some("4"));
        assert_eq!(g.bind, ["0.0.0.0:8000"]);
        assert_eq!(g.app.as_deref(), Some("wsgi:app"));
        assert_eq!(
            f.line_of(ruff_text_size::TextSize::new(d.commands[0].span.start)),
            6
        );
        assert!(
            matches!(&d.commands[0].origin, CommandOrigin::Supervisord { program } if program == "web")
        );
        assert!(matches!(&d.commands[1].server, Some(Server::Other(p)) if p == "celery"));
        assert_eq!(d.supervisord.len(), 2);
        assert_eq!(d.supervisord[0].numprocs.map(|n| n.0), Some(2));
        let env: Vec<(&str, &str)> = d
            .env
            .iter()
            .map(|e| (e.name.as_str(), e.value.as_str()))
            .collect();
        assert_eq!(env, [("FLASK_ENV", "production"), ("WEB_CONCURRENCY", "3")]);
    }

    #[test]
    fn expands_env_and_names() {
        assert_eq!(
            expand(
                "gunicorn -w %(ENV_WORKERS)s -b unix:/run/%(program_name)s.sock",
                "api",
                1
            ),
            "gunicorn -w ${WORKERS} -b unix:/run/api.sock"
        );
        assert_eq!(
            expand("echo 100%% %(process_num)02d %(numprocs)d", "x", 3),
            "echo 100% 0 3"
        );
        // Unknown or malformed references are kept as written.
        assert_eq!(
            expand("a %(other)s %( b % c %(", "x", 1),
            "a %(other)s %( b % c %("
        );
        let d = parse(&file(
            "[program:api]\ncommand=gunicorn --workers=%(ENV_WEB_CONCURRENCY)s app:app\n",
        ));
        let Some(Server::Gunicorn(g)) = &d.commands[0].server else {
            panic!()
        };
        assert_eq!(g.workers.as_deref(), Some("${WEB_CONCURRENCY}"));
    }

    #[test]
    fn comments_continuations_and_malformed_lines() {
        let text = "[program:web]\n# a comment\ncommand =\n  uvicorn main:app\n  ; a comment line inside\n  --host 0.0.0.0 --workers 3\nnot a key line\n  stray continuation\n=value\n[broken\n[program:empty]\nnumprocs=x\n";
        let d = parse(&file(text));
        assert_eq!(d.commands.len(), 1);
        let Some(Server::Uvicorn(u)) = &d.commands[0].server else {
            panic!("{:?}", d.commands[0])
        };
        assert_eq!(
            (u.host.as_deref(), u.workers.as_deref()),
            (Some("0.0.0.0"), Some("3"))
        );
        // Entries before any section, odd bytes: no facts, no panic.
        let d = parse(&file("command=gunicorn app:app\n\u{feff}[\u{e9}]\n%(\n"));
        assert!(d.commands.is_empty());
        assert!(env_pairs("A=1,,=2,B").len() == 1);
    }

    #[test]
    fn odd_input_does_not_panic() {
        for text in [
            "[program:\u{fc}]\ncommand=gunicorn %(ENV_\u{e9})s %(\u{e9})\u{e9} \u{fc};x %%(\n",
            "[program:a]\ncommand=%(ENV_X)",
            "[program:a]\ncommand=%(x)99999",
            "[program:a]\ncommand=\n\t\n[program:b]\ncommand = ; only a comment\n",
            "[[program:a]]\n]\n[\n:\n=\n",
        ] {
            let _ = looks_like(text);
            let _ = parse(&file(text));
        }
    }
}
