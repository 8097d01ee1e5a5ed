//! Shell scripts that start the web server: `boot.sh`, `docker-entrypoint.sh`,
//! `entrypoints/gunicorn.sh`, `start.sh`, and extensionless scripts a deploy
//! command names (`ENTRYPOINT ["./boot"]`).
//!
//! A script is read line by line into simple commands with the shell splitter:
//! backslash-newline continuations and quotes across lines are joined, comments
//! and heredoc bodies skipped, leading keywords (`exec`, `then`, `else`, `do`,
//! `{`, `(`, `time`, `command`) dropped, and `if`/`elif`/`else`/`fi`, `case`,
//! `while`/`until`/`for` blocks followed. Variables the script assigns before a
//! command (`WORKERS=${WORKERS:-4}`, `export X=...`, `: ${X:=4}`) are expanded
//! in its words:
//!
//! - a plain value (`WORKERS=4`) replaces the variable;
//! - a default the environment may override (`${WORKERS:-4}`, `${X:=4}`, or a
//!   variable assigned such a default) is written `${NAME:-default}`, the form
//!   Dockerfile and compose commands carry too: the deployment model reads it
//!   the same way for every origin (the default, unless a deploy file sets the
//!   variable);
//! - a variable the script does not set stays `$NAME`: unknown (never read as
//!   a number or as `*`), unless a deploy file's environment sets it.
//!
//! Which scripts count as deployment is decided once every file is read
//! ([`adopt`]): a script that a deploy command runs (Dockerfile CMD /
//! ENTRYPOINT, compose `command:` / `entrypoint:`, the Procfile `web` process,
//! a supervisord program, or another such script, also through a `COPY` that
//! renames it) is production. A script no deploy file runs is weaker
//! evidence, weighed in [`adopt`]: it counts only when the project shows no
//! other way the app is started, and then only when its name says deployment
//! (`boot.sh`, `docker-entrypoint.sh`, `prestart.sh`, `gunicorn.sh`,
//! `prod.sh`, files under `entrypoints/`, `docker/`, `deploy/`), or when a
//! generic name (`start.sh`, `run.sh`, `serve.sh`) starts a production server
//! with no development flag. A name or directory that says development or
//! tests (`dev.sh`, `run_dev.sh`, `scripts/test.sh`, `start-reload.sh`) never
//! counts; other scripts are left out.
//!
//! Inside a production script, a command in a branch whose condition tests a
//! debug or development setting (`if [ "$DEBUG" = "true" ]`, `[ "$FLASK_ENV" =
//! development ]`, `case $ENV in dev)`, `[ -n "$DEBUG" ] && ...`) is a
//! development command and is left out; the other branch (`else`) is kept.
//! Assignments made in such a branch are left out too.

use std::collections::BTreeMap;

use super::{
    line_span,
    shell::{self, Sep, Word, LITERAL_DOLLAR},
    CommandFact, CommandOrigin, DeployFacts, ScriptCaller, Server,
};
use crate::source::{FileId, SourceFile};

/// A shell script and its commands, before [`adopt`] decides whether
/// deployment runs it.
#[derive(Debug, Clone)]
pub struct Script {
    pub file: FileId,
    /// Relative to the report root.
    pub path: String,
    pub commands: Vec<ScriptCommand>,
}

#[derive(Debug, Clone)]
pub struct ScriptCommand {
    /// Its origin is a [`CommandOrigin::Script`] without a caller until adopted.
    pub fact: CommandFact,
    /// In a branch taken only in development.
    pub dev: bool,
}

/// A joined line longer than this is cut (hostile input).
const MAX_LOGICAL_LINE: usize = 256 * 1024;
/// Nested blocks beyond this are not followed.
const MAX_DEPTH: usize = 256;
/// Commands kept per script.
const MAX_COMMANDS: usize = 5_000;
/// Nested `${...:-${...}}` defaults followed.
const MAX_EXPANSION_DEPTH: usize = 8;

/// Whether a file's first line is a `sh`/`bash`/`dash` shebang
/// (`#!/bin/sh`, `#!/usr/bin/env bash`).
pub fn has_shell_shebang(head: &[u8]) -> bool {
    let Some(rest) = head.strip_prefix(b"#!") else {
        return false;
    };
    let line = rest.split(|&b| b == b'\n').next().unwrap_or(rest);
    let Ok(line) = std::str::from_utf8(line) else {
        return false;
    };
    let mut words = line.split_whitespace();
    let Some(mut prog) = words.next().map(|w| w.rsplit('/').next().unwrap_or(w)) else {
        return false;
    };
    // `#!/usr/bin/env bash`, s6-overlay's `#!/command/with-contenv sh`.
    if prog == "env" || prog == "with-contenv" {
        prog = words.find(|w| !w.starts_with('-')).unwrap_or("");
    }
    matches!(prog, "sh" | "bash" | "dash" | "ash")
}

/// What a script's name says it is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScriptRole {
    /// The name is about deployment (`boot.sh`, `docker-entrypoint.sh`,
    /// `deploy/…`).
    Production,
    /// `start.sh`, `run.sh`, `serve.sh`: names used as much for a developer's
    /// local helper as for production.
    Generic,
    Development,
    Unknown,
}

/// Decides from the path alone (see the module docs).
/// An s6-overlay service script (`etc/s6-overlay/s6-rc.d/<service>/run`,
/// v2's `etc/services.d/<service>/run`): the image's init (`ENTRYPOINT
/// ["/init"]`) runs it, whatever runs nothing by name.
pub fn is_s6_service_run(rel: &str) -> bool {
    let lower = rel.to_ascii_lowercase();
    let parts: Vec<&str> = lower.split('/').collect();
    matches!(
        parts.as_slice(),
        [.., dir, _service, "run"] if *dir == "s6-rc.d" || *dir == "services.d"
    )
}

pub fn role_of_path(rel: &str) -> ScriptRole {
    if is_s6_service_run(rel) {
        return ScriptRole::Production;
    }
    let lower = rel.to_ascii_lowercase();
    let mut parts: Vec<&str> = lower.split('/').collect();
    let name = parts.pop().unwrap_or("");
    let stem = name
        .strip_suffix(".sh")
        .or_else(|| name.strip_suffix(".bash"))
        .unwrap_or(name);
    let tokens: Vec<&str> = stem.split(['-', '_', '.']).collect();
    const DEV: &[&str] = &[
        "dev",
        "devel",
        "develop",
        "development",
        "local",
        "test",
        "tests",
        "testing",
        "debug",
        "reload",
        "example",
        "sample",
    ];
    const DEV_DIRS: &[&str] = &[
        "dev",
        "development",
        "local",
        "test",
        "tests",
        "testing",
        "debug",
        "examples",
        "example",
        "docs",
    ];
    if tokens.iter().any(|t| DEV.contains(t)) || parts.iter().any(|d| DEV_DIRS.contains(d)) {
        return ScriptRole::Development;
    }
    const PROD: &[&str] = &[
        "entrypoint",
        "boot",
        "prestart",
        "gunicorn",
        "uvicorn",
        "hypercorn",
        "prod",
        "production",
    ];
    const PROD_DIRS: &[&str] = &["entrypoints", "docker", "deploy"];
    if tokens.iter().any(|t| PROD.contains(t)) || parts.iter().any(|d| PROD_DIRS.contains(d)) {
        return ScriptRole::Production;
    }
    if tokens
        .iter()
        .any(|t| matches!(*t, "start" | "serve" | "run"))
    {
        return ScriptRole::Generic;
    }
    ScriptRole::Unknown
}

/// Reads a script into its commands (all of them, development ones marked).
pub fn parse(file: &SourceFile) -> DeployFacts {
    let mut out = DeployFacts::default();
    let commands = parse_text(file.text())
        .into_iter()
        .map(|c| {
            let span = line_span(file.id, file.lines(), file.text(), c.line);
            let origin = CommandOrigin::Script {
                path: file.rel.clone(),
                caller: None,
            };
            let mut fact = super::command_of_words(c.words, span, origin);
            for (k, v) in c.exported {
                if !fact.env.iter().any(|(n, _)| *n == k) {
                    fact.env.push((k, v));
                }
            }
            ScriptCommand { fact, dev: c.dev }
        })
        .collect();
    out.scripts.push(Script {
        file: file.id,
        path: file.rel.clone(),
        commands,
    });
    out
}

/// A simple command of a script, its words expanded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedCommand {
    pub words: Vec<String>,
    /// Variables the script exported with a known value by then.
    pub exported: Vec<(String, String)>,
    /// 1-based line of the command (the first line of a continued one).
    pub line: u32,
    pub dev: bool,
}

/// A line as the shell reads it: continuations and multi-line quotes joined.
struct Logical {
    text: String,
    line: u32,
}

fn logical_lines(text: &str) -> Vec<Logical> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut start = 1u32;
    let mut quote: Option<char> = None;
    // Heredoc delimiters met on the current line, whose bodies follow it.
    let mut pending: Vec<(String, bool)> = Vec::new();
    let mut body: std::collections::VecDeque<(String, bool)> = Default::default();
    for (i, raw) in text.split('\n').enumerate() {
        let line_no = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        if let Some((delim, tabs)) = body.front() {
            let t = if *tabs {
                raw.trim_start_matches('\t')
            } else {
                raw
            };
            if t.trim() == delim {
                body.pop_front();
            }
            continue;
        }
        if cur.is_empty() && quote.is_none() {
            start = line_no;
        }
        let mut cut = raw.len();
        let mut continues = false;
        let mut boundary = true;
        let mut chars = raw.char_indices().peekable();
        while let Some((j, c)) = chars.next() {
            match quote {
                Some('\'') => {
                    if c == '\'' {
                        quote = None;
                    }
                }
                Some(_) => {
                    if c == '\\' {
                        chars.next();
                    } else if c == '"' {
                        quote = None;
                    }
                }
                None => match c {
                    '\'' | '"' => quote = Some(c),
                    '\\' => {
                        if chars.peek().is_none() {
                            continues = true;
                            cut = j;
                        } else {
                            chars.next();
                        }
                    }
                    '#' if boundary => {
                        cut = j;
                        break;
                    }
                    '<' if raw[j..].starts_with("<<") && !raw[j..].starts_with("<<<") => {
                        chars.next();
                        if let Some(d) = heredoc_delimiter(&raw[j + 2..]) {
                            pending.push(d);
                        }
                    }
                    _ => {}
                },
            }
            boundary = c.is_whitespace() || matches!(c, ';' | '&' | '|' | '(' | ')');
        }
        if cur.len() < MAX_LOGICAL_LINE {
            cur.push_str(&raw[..cut]);
        }
        if continues {
            continue;
        }
        if quote.is_some() {
            cur.push('\n');
            continue;
        }
        if !cur.trim().is_empty() {
            out.push(Logical {
                text: std::mem::take(&mut cur),
                line: start,
            });
        }
        cur.clear();
        body.extend(pending.drain(..));
    }
    if !cur.trim().is_empty() {
        out.push(Logical {
            text: cur,
            line: start,
        });
    }
    out
}

/// The delimiter after `<<` (`EOF`, `-EOF`, `'EOF'`, `"EOF"`) and whether
/// leading tabs are stripped (`<<-`).
fn heredoc_delimiter(after: &str) -> Option<(String, bool)> {
    let (after, tabs) = match after.strip_prefix('-') {
        Some(r) => (r, true),
        None => (after, false),
    };
    let after = after.trim_start();
    let word: String = after
        .chars()
        .take_while(|c| !c.is_whitespace() && !matches!(c, ';' | '&' | '|' | '<' | '>' | '(' | ')'))
        .filter(|c| !matches!(c, '\'' | '"' | '\\'))
        .collect();
    let first = word.chars().next()?;
    (first.is_ascii_alphabetic() || first == '_').then_some((word, tabs))
}

/// What a condition says about the branch it guards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cond {
    /// True in development (`[ "$DEBUG" = "true" ]`).
    Dev,
    /// True in production (`[ "$ENV" = production ]`, `[ -z "$DEBUG" ]`).
    Prod,
    Neutral,
}

impl Cond {
    fn not(self) -> Cond {
        match self {
            Cond::Dev => Cond::Prod,
            Cond::Prod => Cond::Dev,
            Cond::Neutral => Cond::Neutral,
        }
    }
}

#[derive(Debug)]
enum Frame {
    If {
        /// The branch being read is development only.
        dev: bool,
        /// Reading the condition (before `then`): (a dev test seen, a prod test seen).
        cond: Option<(bool, bool)>,
        /// An earlier condition of this `if` tested for development / production.
        prev_dev: bool,
        prev_prod: bool,
    },
    Loop,
    Case {
        dev: bool,
        awaiting_pattern: bool,
    },
}

impl Frame {
    fn dev(&self) -> bool {
        match self {
            Frame::If { dev, cond, .. } => *dev && cond.is_none(),
            Frame::Case { dev, .. } => *dev,
            Frame::Loop => false,
        }
    }
}

/// A variable's value as far as the script tells: text in which `$NAME`
/// stays for what is unknown and `${NAME:-default}` for a default the
/// environment may override.
#[derive(Debug, Clone)]
struct Var {
    text: String,
    exported: bool,
}

#[derive(Default)]
struct Parser {
    frames: Vec<Frame>,
    /// Frames past [`MAX_DEPTH`], counted only.
    overflow: usize,
    vars: BTreeMap<String, Var>,
    out: Vec<ParsedCommand>,
}

/// Reads a script's text into its simple commands.
pub fn parse_text(text: &str) -> Vec<ParsedCommand> {
    let mut p = Parser::default();
    for logical in logical_lines(text) {
        if p.out.len() >= MAX_COMMANDS {
            break;
        }
        let mut chain = Cond::Neutral;
        for (words, sep) in shell::split_line(&logical.text, true) {
            chain = p.command(words, sep, chain, logical.line);
        }
    }
    p.out
}

/// Words that start a simple command without being its program.
const KEYWORDS_DROPPED: &[&str] = &[
    "do", "{", "}", "(", ")", "time", "exec", "command", "builtin",
];

impl Parser {
    fn in_dev(&self) -> bool {
        self.frames.iter().any(Frame::dev)
    }

    fn push(&mut self, f: Frame) {
        if self.frames.len() >= MAX_DEPTH {
            self.overflow += 1;
        } else {
            self.frames.push(f);
        }
    }

    fn pop(&mut self, matches: fn(&Frame) -> bool) {
        if self.overflow > 0 {
            self.overflow -= 1;
            return;
        }
        if self.frames.last().is_some_and(matches) {
            self.frames.pop();
        }
    }

    /// Reads one simple command; returns the condition the next command of
    /// an `&&` / `||` chain runs under.
    fn command(&mut self, words: Vec<Word>, sep: Sep, chain: Cond, line: u32) -> Cond {
        let mut ws: std::collections::VecDeque<Word> = words.into();
        // A `case` arm's pattern: `dev)`, `dev|development)`, `(prod)`.
        if let Some(Frame::Case {
            awaiting_pattern: true,
            ..
        }) = self.frames.last()
        {
            let first = ws.front().map(|w| w.text.as_str());
            if first == Some("esac") {
                ws.pop_front();
                self.pop(|f| matches!(f, Frame::Case { .. }));
            } else if !ws.is_empty() {
                let mut pattern = String::new();
                let mut closed = false;
                while let Some(w) = ws.pop_front() {
                    pattern.push_str(&w.text);
                    if w.text.ends_with(')') {
                        closed = true;
                        break;
                    }
                }
                if closed {
                    let cond = pattern_cond(&pattern);
                    if let Some(Frame::Case {
                        dev,
                        awaiting_pattern,
                    }) = self.frames.last_mut()
                    {
                        *dev = cond == Cond::Dev;
                        *awaiting_pattern = false;
                    }
                }
            }
        }
        // Leading keywords.
        let mut negate = false;
        while let Some(first) = ws.front().map(|w| w.text.clone()) {
            match first.as_str() {
                "if" => {
                    ws.pop_front();
                    self.push(Frame::If {
                        dev: false,
                        cond: Some((false, false)),
                        prev_dev: false,
                        prev_prod: false,
                    });
                }
                "elif" => {
                    ws.pop_front();
                    if let Some(Frame::If { cond, .. }) = self.frames.last_mut() {
                        *cond = Some((false, false));
                    }
                }
                "then" => {
                    ws.pop_front();
                    if let Some(Frame::If {
                        dev,
                        cond,
                        prev_dev,
                        prev_prod,
                    }) = self.frames.last_mut()
                    {
                        if let Some((d, p)) = cond.take() {
                            let c = match (d, p) {
                                (true, false) => Cond::Dev,
                                (false, true) => Cond::Prod,
                                _ => Cond::Neutral,
                            };
                            *dev = c == Cond::Dev;
                            *prev_dev |= c == Cond::Dev;
                            *prev_prod |= c == Cond::Prod;
                        }
                    }
                }
                "else" => {
                    ws.pop_front();
                    if let Some(Frame::If {
                        dev,
                        cond,
                        prev_dev,
                        prev_prod,
                    }) = self.frames.last_mut()
                    {
                        // `if dev; then A; else B; fi`: B is production;
                        // `if prod; then A; else B; fi`: B is development.
                        *cond = None;
                        *dev = *prev_prod && !*prev_dev;
                    }
                }
                "fi" => {
                    ws.pop_front();
                    self.pop(|f| matches!(f, Frame::If { .. }));
                }
                "while" | "until" => {
                    ws.pop_front();
                    self.push(Frame::Loop);
                }
                "for" | "select" => {
                    // `for x in a b c`: the rest is not a command.
                    ws.clear();
                    self.push(Frame::Loop);
                }
                "done" => {
                    ws.pop_front();
                    self.pop(|f| matches!(f, Frame::Loop));
                }
                "case" => {
                    ws.clear();
                    self.push(Frame::Case {
                        dev: false,
                        awaiting_pattern: true,
                    });
                }
                "esac" => {
                    ws.pop_front();
                    self.pop(|f| matches!(f, Frame::Case { .. }));
                }
                "function" => {
                    // `function name {` / `function name() {`
                    ws.pop_front();
                    ws.pop_front();
                }
                w if w.ends_with("()") && !w.starts_with('$') => {
                    // `name() {`
                    ws.pop_front();
                }
                w if ws.get(1).is_some_and(|n| n.text == "()") && !w.starts_with('$') => {
                    ws.pop_front();
                    ws.pop_front();
                }
                "!" => {
                    ws.pop_front();
                    negate = !negate;
                }
                w if KEYWORDS_DROPPED.contains(&w) => {
                    ws.pop_front();
                }
                w if w.starts_with('(') && !w.starts_with("((") => {
                    // A subshell: `(cd app && exec gunicorn ...)`.
                    if let Some(f) = ws.front_mut() {
                        f.text.remove(0);
                        if f.text.is_empty() {
                            ws.pop_front();
                        }
                    }
                }
                _ => break,
            }
        }
        // Trailing `)` / `}` / `;;` of a group or case arm.
        while ws
            .back()
            .is_some_and(|w| matches!(w.text.as_str(), ")" | "}" | "fi" | "done" | "esac"))
        {
            let w = ws.pop_back().map(|w| w.text).unwrap_or_default();
            match w.as_str() {
                "fi" => self.pop(|f| matches!(f, Frame::If { .. })),
                "done" => self.pop(|f| matches!(f, Frame::Loop)),
                "esac" => self.pop(|f| matches!(f, Frame::Case { .. })),
                _ => {}
            }
        }
        if let Some(last) = ws.back_mut() {
            let open = last.text.matches('(').count();
            let close = last.text.matches(')').count();
            if close > open && last.text.ends_with(')') {
                last.text.pop();
            }
        }
        let words: Vec<Word> = ws.into_iter().collect();
        let dev_here = self.in_dev() || chain == Cond::Dev;
        let mut next_chain = Cond::Neutral;
        let in_condition = matches!(self.frames.last(), Some(Frame::If { cond: Some(_), .. }));
        if !words.is_empty() {
            let is_test = matches!(words[0].text.as_str(), "[" | "[[" | "test")
                || (words.len() == 1 && var_name(&words[0].text).is_some_and(debug_var));
            let raw: Vec<String> = words
                .iter()
                .map(|w| w.text.replace(LITERAL_DOLLAR, "$"))
                .collect();
            let this = match (is_test, negate) {
                (false, _) => Cond::Neutral,
                (true, false) => test_cond(&raw),
                (true, true) => test_cond(&raw).not(),
            };
            if in_condition {
                if let Some(Frame::If {
                    cond: Some((d, p)), ..
                }) = self.frames.last_mut()
                {
                    *d |= this == Cond::Dev;
                    *p |= this == Cond::Prod;
                }
            }
            let base = if is_test { this } else { chain };
            next_chain = match sep {
                Sep::And => base,
                Sep::Or => base.not(),
                _ => Cond::Neutral,
            };
            if !is_test {
                self.simple(&words, line, dev_here);
            }
        }
        if sep == Sep::CaseEnd {
            if let Some(Frame::Case {
                dev,
                awaiting_pattern,
            }) = self.frames.last_mut()
            {
                *dev = false;
                *awaiting_pattern = true;
            }
        }
        next_chain
    }

    /// Assignments, `export`, `:`, or a command to keep.
    fn simple(&mut self, words: &[Word], line: u32, dev: bool) {
        let is_assignment = |w: &Word| assignment(&w.text).is_some();
        if words.iter().all(is_assignment) {
            for w in words {
                if let Some((name, value)) = assignment(&w.text) {
                    let text = self.expand(value, dev, 0);
                    self.set(name, text, false, dev);
                }
            }
            return;
        }
        match words[0].text.as_str() {
            "export" | "declare" | "typeset" | "local" | "readonly" => {
                let mut export = words[0].text == "export";
                for w in &words[1..] {
                    if w.text.starts_with('-') {
                        export |= w.text.contains('x');
                        continue;
                    }
                    match assignment(&w.text) {
                        Some((name, value)) => {
                            let text = self.expand(value, dev, 0);
                            self.set(name, text, export, dev);
                        }
                        None if export && !dev => {
                            if let Some(v) = self.vars.get_mut(w.text.as_str()) {
                                v.exported = true;
                            }
                        }
                        None => {}
                    }
                }
                return;
            }
            ":" => {
                for w in &words[1..] {
                    self.expand(&w.text, dev, 0);
                }
                return;
            }
            _ => {}
        }
        let mut out = Vec::with_capacity(words.len());
        for w in words {
            let text = self.expand(&w.text, dev, 0);
            // An unquoted `$OPTS` holding `-w 4 --reload` is several words.
            if !w.quoted && w.text.starts_with('$') && !text.contains('$') {
                out.extend(
                    text.split_whitespace()
                        .map(|s| s.replace(LITERAL_DOLLAR, "$")),
                );
            } else {
                out.push(text.replace(LITERAL_DOLLAR, "$"));
            }
        }
        if out.is_empty() {
            return;
        }
        let exported = self
            .vars
            .iter()
            .filter(|(_, v)| v.exported && !v.text.contains('$'))
            .map(|(k, v)| (k.clone(), v.text.replace(LITERAL_DOLLAR, "$")))
            .collect();
        self.out.push(ParsedCommand {
            words: out,
            exported,
            line,
            dev,
        });
    }

    fn set(&mut self, name: &str, text: String, export: bool, dev: bool) {
        // What a development branch assigns is not what production runs with.
        if dev {
            return;
        }
        let exported = export || self.vars.get(name).is_some_and(|v| v.exported);
        self.vars.insert(name.to_string(), Var { text, exported });
    }

    /// Expands the variables of a word (see the module docs).
    fn expand(&mut self, s: &str, dev: bool, depth: usize) -> String {
        let mut out = String::new();
        let mut rest = s;
        while let Some(pos) = rest.find('$') {
            out.push_str(&rest[..pos]);
            let after = &rest[pos + 1..];
            if let Some(inner) = after.strip_prefix('{') {
                let Some(close) = matching_brace(inner) else {
                    // `${` unclosed: kept as written.
                    out.push_str(&rest[pos..]);
                    return out;
                };
                let body = &inner[..close];
                out.push_str(&self.expand_braced(body, dev, depth));
                rest = &inner[close + 1..];
                continue;
            }
            let len = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            let name = &after[..len];
            if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
                // `$1`, `$@`, `$?`, `$(...)`: kept as written.
                out.push('$');
                rest = after;
                continue;
            }
            out.push_str(&self.lookup(name));
            rest = &after[len..];
        }
        out.push_str(rest);
        out
    }

    fn lookup(&self, name: &str) -> String {
        match self.vars.get(name) {
            Some(v) => v.text.clone(),
            None => format!("${name}"),
        }
    }

    /// `${NAME}`, `${NAME:-default}`, `${NAME-default}`, `${NAME:=default}`;
    /// other forms (`${#X}`, `${X%.py}`, `${X:+y}`) stay as written.
    fn expand_braced(&mut self, body: &str, dev: bool, depth: usize) -> String {
        let len = body
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(body.len());
        let name = &body[..len];
        let op = &body[len..];
        if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
            return format!("${{{body}}}");
        }
        if op.is_empty() {
            return self.lookup(name);
        }
        let (default, assign) =
            if let Some(d) = op.strip_prefix(":-").or_else(|| op.strip_prefix('-')) {
                (d, false)
            } else if let Some(d) = op.strip_prefix(":=").or_else(|| op.strip_prefix('=')) {
                (d, true)
            } else {
                return format!("${{{body}}}");
            };
        if let Some(v) = self.vars.get(name) {
            return v.text.clone();
        }
        let d = if depth >= MAX_EXPANSION_DEPTH {
            default.to_string()
        } else {
            self.expand(default, dev, depth + 1)
        };
        let d = d.trim_matches(['"', '\'']).to_string();
        let text = if !d.contains('$') {
            format!("${{{name}:-{d}}}")
        } else if let Some(lit) = single_default(&d) {
            // `${A:-${B:-4}}`: A's default is 4 (B's override is not followed).
            format!("${{{name}:-{lit}}}")
        } else {
            format!("${name}")
        };
        if assign {
            self.set(name, text.clone(), false, dev);
        }
        text
    }
}

/// The default of a text that is exactly `${NAME:-literal}`.
fn single_default(s: &str) -> Option<&str> {
    let inner = s.strip_prefix("${")?.strip_suffix('}')?;
    let (_, d) = inner.split_once(":-")?;
    (!d.contains(['$', '{', '}'])).then_some(d)
}

/// The index of the `}` closing a `${`, nested ones counted.
fn matching_brace(s: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in s.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => return Some(i),
            '}' => depth -= 1,
            _ => {}
        }
    }
    None
}

/// `NAME=value` (a variable assignment, not an option).
fn assignment(w: &str) -> Option<(&str, &str)> {
    let (k, v) = w.split_once('=')?;
    let mut chars = k.chars();
    let first = chars.next()?;
    ((first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_'))
    .then_some((k, v))
}

/// The variable a word refers to first (`$DEBUG`, `${FLASK_ENV,,}`, `"$1"`).
fn var_name(w: &str) -> Option<&str> {
    let after = &w[w.find('$')? + 1..];
    let after = after.strip_prefix('{').unwrap_or(after);
    let len = after
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(after.len());
    (len > 0).then_some(&after[..len])
}

/// A variable that switches debugging (`DEBUG`, `FLASK_DEBUG`, `RELOAD`).
fn debug_var(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    upper.contains("DEBUG") || upper.contains("RELOAD")
}

/// A variable that names the environment (`ENV`, `FLASK_ENV`, `APP_ENV`,
/// `ENVIRONMENT`, `MODE`) or a script argument (`$1`).
fn env_var(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    matches!(
        upper.as_str(),
        "ENV" | "ENVIRONMENT" | "MODE" | "STAGE" | "RUN_MODE" | "APP_MODE"
    ) || upper.ends_with("_ENV")
        || upper.ends_with("_ENVIRONMENT")
        || upper.ends_with("_MODE")
        || upper.ends_with("_STAGE")
        || upper.chars().all(|c| c.is_ascii_digit())
}

const DEV_VALUES: &[&str] = &[
    "dev",
    "devel",
    "develop",
    "development",
    "local",
    "debug",
    "test",
    "testing",
];
const PROD_VALUES: &[&str] = &["prod", "production", "live"];
const TRUE_VALUES: &[&str] = &["true", "1", "yes", "on", "y"];
const FALSE_VALUES: &[&str] = &["false", "0", "no", "off", "n"];

/// A `[ ... ]` / `[[ ... ]]` / `test ...` condition, or a bare `$DEBUG`.
fn test_cond(words: &[String]) -> Cond {
    let mut ws: Vec<&str> = words
        .iter()
        .map(String::as_str)
        .filter(|w| !matches!(*w, "[" | "]" | "[[" | "]]" | "test"))
        .collect();
    let negate = ws.first() == Some(&"!");
    if negate {
        ws.remove(0);
    }
    let Some(vi) = ws.iter().position(|w| w.contains('$')) else {
        return Cond::Neutral;
    };
    let Some(name) = var_name(ws[vi]) else {
        return Cond::Neutral;
    };
    let debug = debug_var(name);
    let envish = env_var(name);
    let op = ws
        .iter()
        .copied()
        .find(|w| matches!(*w, "=" | "==" | "!=" | "-eq" | "-ne" | "-n" | "-z"));
    let literal = ws
        .iter()
        .enumerate()
        .filter(|(i, w)| *i != vi && Some(**w) != op)
        .map(|(_, w)| w.trim_matches(['*', '"', '\'']).to_ascii_lowercase())
        .next();
    let value = |lit: &str| -> Cond {
        if debug {
            if TRUE_VALUES.contains(&lit) {
                Cond::Dev
            } else if FALSE_VALUES.contains(&lit) {
                Cond::Prod
            } else {
                Cond::Neutral
            }
        } else if DEV_VALUES.contains(&lit)
            && (envish || matches!(lit, "development" | "dev" | "debug"))
        {
            Cond::Dev
        } else if PROD_VALUES.contains(&lit) {
            Cond::Prod
        } else {
            Cond::Neutral
        }
    };
    let c = match (op, literal.as_deref()) {
        (Some("-n"), _) | (None, None) if debug => Cond::Dev,
        (Some("-z"), _) if debug => Cond::Prod,
        (Some("=" | "==" | "-eq"), Some(lit)) => value(lit),
        (Some("!=" | "-ne"), Some(lit)) => value(lit).not(),
        _ => Cond::Neutral,
    };
    if negate {
        c.not()
    } else {
        c
    }
}

/// A `case` pattern (`dev|development)`, `prod*)`, `*)`).
fn pattern_cond(pattern: &str) -> Cond {
    let p = pattern
        .trim()
        .trim_start_matches('(')
        .trim_end_matches(')')
        .to_ascii_lowercase();
    let alts: Vec<String> = p
        .split('|')
        .map(|a| a.trim().trim_matches(['*', '"', '\'']).to_string())
        .collect();
    if alts.iter().any(|a| DEV_VALUES.contains(&a.as_str())) {
        Cond::Dev
    } else {
        Cond::Neutral
    }
}

/// Indexes of the scripts a command runs (`./boot.sh`, `sh /app/start.sh`,
/// `bash -c "scripts/prestart.sh && ..."`), by path: the script whose path
/// ends with the most of the word's components; among equals, those under the
/// directory of the calling file.
fn scripts_named(
    scripts: &[Script],
    cmd: &CommandFact,
    caller_dir: Option<&str>,
    not: Option<usize>,
) -> Vec<usize> {
    scripts_at(scripts, &command_tokens(cmd), caller_dir, not)
}

/// The words of a command split where the shell would run another command
/// (`sh -c "a.sh && b.sh"`), unquoted.
pub fn command_tokens(cmd: &CommandFact) -> Vec<String> {
    let mut out = Vec::new();
    for w in &cmd.words {
        for token in w.split(|c: char| c.is_whitespace() || matches!(c, ';' | '&' | '|')) {
            let token = token.trim_matches(['"', '\'']);
            if !token.is_empty() && !token.contains('$') {
                out.push(token.to_string());
            }
        }
    }
    out
}

/// The scripts at these paths (see [`scripts_named`]).
fn scripts_at(
    scripts: &[Script],
    tokens: &[String],
    caller_dir: Option<&str>,
    not: Option<usize>,
) -> Vec<usize> {
    let mut found = Vec::new();
    for token in tokens {
        let token = token.strip_prefix("./").unwrap_or(token);
        if token.is_empty() {
            continue;
        }
        {
            let t: Vec<&str> = token.split('/').filter(|p| !p.is_empty()).collect();
            let Some(base) = t.last() else { continue };
            let mut best: Vec<(usize, usize)> = Vec::new();
            for (i, s) in scripts.iter().enumerate() {
                if Some(i) == not {
                    continue;
                }
                let p: Vec<&str> = s.path.split('/').collect();
                if p.last() != Some(base) {
                    continue;
                }
                let common = t
                    .iter()
                    .rev()
                    .zip(p.iter().rev())
                    .take_while(|(a, b)| a == b)
                    .count();
                best.push((i, common));
            }
            let Some(top) = best.iter().map(|b| b.1).max() else {
                continue;
            };
            best.retain(|b| b.1 == top);
            if best.len() > 1 {
                if let Some(dir) = caller_dir {
                    let near: Vec<(usize, usize)> = best
                        .iter()
                        .copied()
                        .filter(|(i, _)| {
                            dir.is_empty() || scripts[*i].path.starts_with(&format!("{dir}/"))
                        })
                        .collect();
                    if !near.is_empty() {
                        best = near;
                    }
                }
            }
            found.extend(best.into_iter().map(|b| b.0));
        }
    }
    found.sort_unstable();
    found.dedup();
    found
}

/// Takes the scripts that the production commands of the queued scripts run.
fn follow(
    scripts: &[Script],
    taken: &mut [bool],
    callers: &mut [Option<ScriptCaller>],
    queue: &mut Vec<usize>,
) {
    while let Some(i) = queue.pop() {
        let dir = dir_of(&scripts[i].path).to_string();
        for c in scripts[i].commands.iter().filter(|c| !c.dev) {
            for j in scripts_named(scripts, &c.fact, Some(&dir), Some(i)) {
                if !taken[j] {
                    taken[j] = true;
                    callers[j] = callers[i].clone();
                    queue.push(j);
                }
            }
        }
    }
}

/// The build-context paths of what a command's words run when an image copies
/// it under another name or place (`COPY scripts/start.sh
/// /usr/local/bin/run-app` ... `CMD ["run-app"]`). A Dockerfile's own commands
/// look in its copies; others (compose, supervisord, scripts run in a
/// container) in every Dockerfile's.
pub fn copied_sources(
    dockerfiles: &[super::dockerfile::Dockerfile],
    cmd: &CommandFact,
    tokens: &[String],
) -> Vec<String> {
    let own = matches!(
        cmd.origin,
        CommandOrigin::DockerCmd | CommandOrigin::DockerEntrypoint
    );
    let mut out = Vec::new();
    for df in dockerfiles
        .iter()
        .filter(|df| !own || df.file == cmd.span.file)
    {
        for t in tokens {
            for c in &df.copies {
                if let Some(src) = c.source_of(t, &df.workdir) {
                    if src != "." && !out.contains(&src) && out.len() < MAX_COPIED_SOURCES {
                        out.push(src);
                    }
                }
            }
        }
    }
    out
}

/// gunicorn, uvicorn or hypercorn without a reload or debug flag.
fn production_server(cmd: &CommandFact) -> bool {
    match &cmd.server {
        Some(Server::Gunicorn(g)) => !g.reload,
        Some(Server::Uvicorn(u)) => !u.reload,
        Some(Server::Hypercorn(h)) => !h.reload && !h.debug,
        _ => false,
    }
}

/// A development server or a server with a reload or debug flag.
fn development_server(cmd: &CommandFact) -> bool {
    match &cmd.server {
        Some(Server::FlaskRun { .. } | Server::FastApiCli { dev: true, .. }) => true,
        Some(Server::Gunicorn(_) | Server::Uvicorn(_) | Server::Hypercorn(_)) => {
            !production_server(cmd)
        }
        _ => false,
    }
}

/// Copied sources followed per command (hostile input).
const MAX_COPIED_SOURCES: usize = 64;

fn dir_of(rel: &str) -> &str {
    rel.rsplit_once('/').map_or("", |(d, _)| d)
}

/// Moves the commands of the scripts that deployment runs into
/// `deploy.commands` (see the module docs); development commands stay out.
/// `rel_of` gives a file's path relative to the report root.
pub fn adopt(deploy: &mut DeployFacts, rel_of: &dyn Fn(FileId) -> Option<String>) {
    let scripts = std::mem::take(&mut deploy.scripts);
    if scripts.is_empty() {
        return;
    }
    let mut taken: Vec<bool> = vec![false; scripts.len()];
    let mut callers: Vec<Option<ScriptCaller>> = vec![None; scripts.len()];
    let mut queue = Vec::new();
    for cmd in &deploy.commands {
        if !cmd.origin.is_web() {
            continue;
        }
        let dir = rel_of(cmd.span.file).map(|r| dir_of(&r).to_string());
        let mut tokens = command_tokens(cmd);
        tokens.extend(copied_sources(&deploy.dockerfiles, cmd, &tokens));
        for i in scripts_at(&scripts, &tokens, dir.as_deref(), None) {
            if !taken[i] {
                taken[i] = true;
                callers[i] = Some(ScriptCaller {
                    origin: cmd.origin.clone(),
                    file: cmd.span.file,
                });
                queue.push(i);
            }
        }
    }
    // Scripts that those scripts run (with their caller).
    follow(&scripts, &mut taken, &mut callers, &mut queue);
    // Scripts nothing runs. A reviewer of a real repository reads a script
    // that no Dockerfile, compose file, Procfile or supervisord program runs
    // as a helper (for local runs, another host, or a leftover), not as how
    // production starts, so its name is weak evidence and weighs only when
    // the project shows no other start command for the app: then a name that
    // is about deployment (`boot.sh`, `docker-entrypoint.sh`, `deploy/…`) is
    // the best account of production there is. `start.sh`, `run.sh` and
    // `serve.sh` are as often the developer's `flask run --debug` or
    // `uvicorn --reload` shortcut: such a script counts only when it starts a
    // production server with no development flag, so it can tell how
    // production is configured (workers, bind) but never by itself convict
    // the project of running a development server.
    let starts_app = taken.iter().any(|t| *t)
        || deploy
            .commands
            .iter()
            .any(|c| c.origin.is_web() && c.server.as_ref().is_some_and(Server::is_python));
    if !starts_app {
        for (i, s) in scripts.iter().enumerate() {
            let counts = match role_of_path(&s.path) {
                ScriptRole::Production => true,
                ScriptRole::Generic => {
                    let live = || s.commands.iter().filter(|c| !c.dev);
                    live().any(|c| production_server(&c.fact))
                        && !live().any(|c| development_server(&c.fact))
                }
                ScriptRole::Development | ScriptRole::Unknown => false,
            };
            if !taken[i] && counts {
                taken[i] = true;
                queue.push(i);
            }
        }
        follow(&scripts, &mut taken, &mut callers, &mut queue);
    }
    for (i, s) in scripts.into_iter().enumerate() {
        if !taken[i] {
            continue;
        }
        let caller = callers[i].take().map(Box::new);
        for c in s.commands.into_iter().filter(|c| !c.dev) {
            let mut fact = c.fact;
            fact.origin = CommandOrigin::Script {
                path: s.path.clone(),
                caller: caller.clone(),
            };
            deploy.commands.push(fact);
        }
    }
}

#[cfg(test)]
mod tests;
