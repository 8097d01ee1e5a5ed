//! Reading and analysing each discovered file, in parallel: read (size cap,
//! UTF-8), parse Python once into facts, parse deploy files. Problems become
//! diagnostics; a panic in one file's analysis is caught and reported as a
//! diagnostic so the run continues.

use std::{
    collections::HashSet,
    panic::{catch_unwind, AssertUnwindSafe},
};

use rayon::prelude::*;
use report::{Diagnostic, DiagnosticLevel};

use crate::{
    deploy::{self, DeployFacts},
    discover::{Discovered, FileKind},
    model::ProjectFile,
    python::{self, PyFacts},
    settings::AuditSettings,
    source::{FileId, SourceFile},
};

/// What one file yields.
pub struct FileResult {
    pub file: ProjectFile,
    pub py: Option<PyFacts>,
    pub deploy: DeployFacts,
    pub diagnostics: Vec<Diagnostic>,
}

/// JSON / TOML / YAML files above this size are not config files (see `FileKind::DataConfig`).
const DATA_CONFIG_MAX: u64 = 256 * 1024;

/// Stack for analysis threads: syntax trees of long statements are deep.
const STACK_SIZE: usize = 64 * 1024 * 1024;

pub fn analyze_all(files: &[Discovered], settings: &AuditSettings) -> Vec<FileResult> {
    let packages: HashSet<String> = files
        .iter()
        .filter(|f| f.rel.ends_with("/__init__.py"))
        .filter_map(|f| f.rel.rsplit_once('/').map(|(dir, _)| dir.to_string()))
        .collect();
    let work = || {
        files
            .par_iter()
            .enumerate()
            .map(|(i, d)| {
                let id = i as FileId;
                match catch_unwind(AssertUnwindSafe(|| analyze_one(id, d, settings, &packages))) {
                    Ok(r) => r,
                    Err(_) => FileResult {
                        file: empty_file(id, d),
                        py: None,
                        deploy: DeployFacts::default(),
                        diagnostics: vec![diag(
                            DiagnosticLevel::Error,
                            &d.rel,
                            "internal error while analysing this file; it was skipped",
                        )],
                    },
                }
            })
            .collect::<Vec<_>>()
    };
    match rayon::ThreadPoolBuilder::new()
        .stack_size(STACK_SIZE)
        .build()
    {
        Ok(pool) => pool.install(work),
        Err(_) => work(),
    }
}

fn empty_file(id: FileId, d: &Discovered) -> ProjectFile {
    ProjectFile {
        source: SourceFile::new(id, d.rel.clone(), String::new()),
        kind: d.kind,
        is_test: d.is_test,
        gitignored: d.gitignored,
    }
}

fn diag(level: DiagnosticLevel, rel: &str, message: impl Into<String>) -> Diagnostic {
    Diagnostic {
        level,
        source: Some(rel.to_string()),
        message: message.into(),
    }
}

fn analyze_one(
    id: FileId,
    d: &Discovered,
    settings: &AuditSettings,
    packages: &HashSet<String>,
) -> FileResult {
    let mut result = FileResult {
        file: empty_file(id, d),
        py: None,
        deploy: DeployFacts::default(),
        diagnostics: Vec::new(),
    };
    // A lock file counts for DEP001 even when it is too big to read for pins.
    if d.kind == FileKind::LockFile {
        result.deploy.lockfiles.push(id);
    }
    let meta = match std::fs::metadata(&d.path) {
        Ok(m) => m,
        Err(e) => {
            result.diagnostics.push(diag(
                DiagnosticLevel::Warning,
                &d.rel,
                format!("cannot read: {}", io_message(&e)),
            ));
            return result;
        }
    };
    // JSON, TOML and INI files are read only in case one is a config file: a big
    // one is data, skipped without a word.
    if matches!(
        d.kind,
        FileKind::DataConfig | FileKind::Ini | FileKind::KeyFile
    ) && meta.len() > DATA_CONFIG_MAX
    {
        return result;
    }
    if meta.len() > settings.max_file_size {
        result.diagnostics.push(diag(
            DiagnosticLevel::Warning,
            &d.rel,
            format!(
                "skipped: {} bytes is over the {} MB limit",
                meta.len(),
                settings.max_file_size / (1024 * 1024)
            ),
        ));
        return result;
    }
    let bytes = match std::fs::read(&d.path) {
        Ok(b) => b,
        Err(e) => {
            result.diagnostics.push(diag(
                DiagnosticLevel::Warning,
                &d.rel,
                format!("cannot read: {}", io_message(&e)),
            ));
            return result;
        }
    };
    let text = match crate::source::decode(bytes) {
        Ok(t) => t,
        // JSON / TOML / INI files are read only in case they are config files
        // (an INI file may be UTF-16, like Windows' desktop.ini): skipped quietly.
        // A `.key` / `.pem` file in binary (DER) form is not read either.
        Err(_)
            if matches!(
                d.kind,
                FileKind::DataConfig | FileKind::Ini | FileKind::KeyFile
            ) =>
        {
            return result
        }
        Err(e) => {
            result.diagnostics.push(diag(
                DiagnosticLevel::Warning,
                &d.rel,
                format!(
                    "skipped: not valid UTF-8 (at byte {})",
                    e.utf8_error().valid_up_to()
                ),
            ));
            return result;
        }
    };
    let source = SourceFile::new(id, d.rel.clone(), text);
    // Test code and test data (under tests/, test_*.py...) are read but yield no
    // facts unless asked for.
    if d.is_test && !settings.include_tests {
        result.file.source = keep_text_if_needed(source, d);
        return result;
    }
    match d.kind {
        FileKind::Python | FileKind::GunicornConf => {
            let (module, is_package) = python::module_name(&d.rel, |dir| packages.contains(dir));
            match python::analyze(id, source.text(), &module, is_package) {
                Ok(facts) => {
                    if d.kind == FileKind::GunicornConf {
                        result
                            .deploy
                            .gunicorn
                            .push(deploy::gunicorn::from_facts(id, &facts));
                    }
                    result.py = Some(facts);
                }
                Err(e) => {
                    let (line, col) = source
                        .lines()
                        .position(source.text(), ruff_text_size::TextSize::new(e.offset));
                    result.diagnostics.push(diag(
                        DiagnosticLevel::Warning,
                        &d.rel,
                        format!(
                            "syntax error at {line}:{col}: {}; file not analysed",
                            e.message
                        ),
                    ));
                }
            }
        }
        // Read only through `from_pyfile` / `from_envvar`; a file that is not
        // Python after all (an INI file, a typo) is quietly left out. Its module
        // name cannot be imported, so it never shadows a real module.
        FileKind::PyConfig if looks_like_python_config(source.text()) => {
            let module = format!("<cfg:{}>", d.rel.replace(['.', '/'], "_"));
            if let Ok(facts) = python::analyze(id, source.text(), &module, false) {
                result.py = Some(facts);
            }
        }
        FileKind::DataConfig => {
            if let Some(syntax) = python::data_config::DataSyntax::of(&d.rel) {
                let module = format!("<data:{}>", d.rel.replace(['.', '/'], "_"));
                result.py = python::data_config::analyze(id, source.text(), syntax, &module);
            }
        }
        FileKind::DotEnv => result.deploy = deploy::dotenv::parse_dotenv(&source, d.gitignored),
        FileKind::Procfile => result.deploy = deploy::dotenv::parse_procfile(&source),
        FileKind::Dockerfile => result.deploy = deploy::dockerfile::parse(&source),
        FileKind::Compose => match deploy::compose::parse(&source) {
            Ok(facts) => result.deploy = facts,
            Err(e) => result.diagnostics.push(diag(
                DiagnosticLevel::Warning,
                &d.rel,
                format!("invalid YAML: {e}"),
            )),
        },
        // A `.conf` / `.ini` with a `[program:NAME]` section is a supervisord config.
        FileKind::Nginx | FileKind::Ini if deploy::supervisord::looks_like(source.text()) => {
            result.deploy = deploy::supervisord::parse(&source)
        }
        FileKind::Nginx => result.deploy.nginx.push(deploy::nginx::parse(&source)),
        FileKind::Requirements => {
            let parsed = deploy::requirements::parse_requirements(&source);
            result.deploy.requirements = parsed.requirements;
            result.deploy.requirement_refs = parsed.refs;
        }
        FileKind::LockFile => match deploy::lockfile::parse(&source) {
            Ok(pkgs) => result.deploy.locked = pkgs,
            Err(e) => result
                .diagnostics
                .push(diag(DiagnosticLevel::Warning, &d.rel, e)),
        },
        FileKind::ShellScript => result.deploy = deploy::script::parse(&source),
        FileKind::PyProject => match deploy::requirements::parse_pyproject(&source) {
            Ok(p) => result.deploy.pyprojects.push(p),
            Err(e) => result.diagnostics.push(diag(
                DiagnosticLevel::Warning,
                &d.rel,
                format!("invalid TOML: {e}"),
            )),
        },
        _ => {}
    }
    result.file.source = keep_text_if_needed(source, d);
    result
}

/// Whether a `.cfg` file reads like a Flask config file in Python syntax: at
/// least one upper-case assignment at the start of a line (`SECRET_KEY = ...`,
/// what `from_pyfile` keeps), and no INI section header (`[metadata]`).
fn looks_like_python_config(text: &str) -> bool {
    let mut assigns = false;
    for line in text.lines() {
        let t = line.trim_end();
        if t.starts_with('[') && t.ends_with(']') && !t.contains(',') {
            return false;
        }
        let name_len = t
            .bytes()
            .take_while(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || *b == b'_')
            .count();
        if name_len > 0
            && t.as_bytes()[0].is_ascii_uppercase()
            && t[name_len..].trim_start().starts_with('=')
            && !t[name_len..].trim_start().starts_with("==")
        {
            assigns = true;
        }
    }
    assigns
}

/// Drops the text of an analysed file unless the rules read it whole (the
/// templates, scanned for Jinja tags): the run keeps every file to the end, and
/// the texts were most of its memory. Rules that quote a released file have it
/// read again.
fn keep_text_if_needed(mut source: SourceFile, d: &Discovered) -> SourceFile {
    if d.kind != FileKind::Template {
        source.release_text(d.path.clone());
    }
    source
}

/// Requirements files named by `-r` / `-c` lines that the walk did not pick up
/// by name (`-c constraints.txt`, `-r base.in`), inside the audited root:
/// analysed as requirements files too, with ids after the others, until no new
/// file is named (at most [`MAX_REFERENCED`]).
pub fn follow_requirement_refs(
    files: &mut Vec<Discovered>,
    results: &mut Vec<FileResult>,
    root: &std::path::Path,
    settings: &AuditSettings,
) {
    let mut known: HashSet<std::path::PathBuf> = files.iter().map(|f| f.path.clone()).collect();
    let mut done = 0;
    let mut added = 0;
    while done < results.len() {
        let refs: Vec<(usize, String)> = results[done..]
            .iter()
            .flat_map(|r| r.deploy.requirement_refs.iter())
            .map(|r| (r.from as usize, r.target.clone()))
            .collect();
        done = results.len();
        for (from, target) in refs {
            if added >= MAX_REFERENCED || target.contains('$') {
                continue;
            }
            let Some(dir) = files.get(from).and_then(|f| f.path.parent()) else {
                continue;
            };
            let path = crate::discover::normalize(&dir.join(&target));
            if !path.is_file() || !path.starts_with(root) || !known.insert(path.clone()) {
                continue;
            }
            let rel = crate::discover::rel_string(root, &path);
            let d = Discovered {
                is_test: crate::discover::is_test_path(&rel),
                rel,
                path,
                kind: FileKind::Requirements,
                gitignored: false,
            };
            let id = files.len() as FileId;
            results.push(analyze_one(id, &d, settings, &HashSet::new()));
            files.push(d);
            added += 1;
        }
    }
}

/// Extensionless files (`boot`, `bin/start`) that a deploy command or a script
/// runs and that start with a `sh`/`bash` shebang: analysed as shell scripts,
/// with ids after the others, until no new one is named.
pub fn follow_script_refs(
    files: &mut Vec<Discovered>,
    results: &mut Vec<FileResult>,
    candidates: &[Discovered],
    settings: &AuditSettings,
) {
    if candidates.is_empty() {
        return;
    }
    let mut used = vec![false; candidates.len()];
    let mut done = 0;
    while done < results.len() {
        let mut tokens: HashSet<String> = HashSet::new();
        // A command may run a copy the image renamed (`COPY bin/serve
        // /usr/local/bin/run-app`): the copied file is named too.
        let dockerfiles: Vec<deploy::dockerfile::Dockerfile> = results
            .iter()
            .flat_map(|r| r.deploy.dockerfiles.iter().cloned())
            .collect();
        for r in &results[done..] {
            let commands = r.deploy.commands.iter().chain(
                r.deploy
                    .scripts
                    .iter()
                    .flat_map(|s| s.commands.iter().map(|c| &c.fact)),
            );
            for c in commands {
                let words = deploy::script::command_tokens(c);
                let copied = deploy::script::copied_sources(&dockerfiles, c, &words);
                for t in words.into_iter().chain(copied) {
                    tokens.insert(t.trim_start_matches("./").to_string());
                }
            }
        }
        done = results.len();
        for (i, c) in candidates.iter().enumerate() {
            if used[i] {
                continue;
            }
            let name = c.rel.rsplit('/').next().unwrap_or(&c.rel);
            let named = tokens
                .iter()
                .any(|t| t == name || t.ends_with(&format!("/{name}")))
                || deploy::script::is_s6_service_run(&c.rel);
            if !named || !starts_with_shell_shebang(&c.path) {
                continue;
            }
            used[i] = true;
            let id = files.len() as FileId;
            results.push(analyze_one(id, c, settings, &HashSet::new()));
            files.push(c.clone());
        }
    }
}

fn starts_with_shell_shebang(path: &std::path::Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 256];
    let Ok(mut f) = std::fs::File::open(path) else {
        return false;
    };
    let n = f.read(&mut head).unwrap_or(0);
    deploy::script::has_shell_shebang(&head[..n])
}

/// Files added by following `-r` / `-c` references, at most.
const MAX_REFERENCED: usize = 256;

fn io_message(e: &std::io::Error) -> String {
    // The OS message without the "(os error N)" suffix, so output is the same
    // everywhere.
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::looks_like_python_config;

    #[test]
    fn python_config_files_are_told_from_ini_files() {
        assert!(looks_like_python_config(
            "# prod\nSECRET_KEY = 'x'\nHOSTS = [\n    'a',\n]\n"
        ));
        assert!(looks_like_python_config("import os\nDEBUG=False\n"));
        assert!(looks_like_python_config("ORIGINS = \\\n[1, 2]\nA1 = 2\n"));
        // INI: a section header anywhere.
        assert!(!looks_like_python_config("[metadata]\nVERSION = 1\n"));
        assert!(!looks_like_python_config("SECRET = 1\n\n[tool:pytest]\n"));
        // No upper-case assignment at the start of a line.
        assert!(!looks_like_python_config("secret_key = 'x'\n"));
        assert!(!looks_like_python_config("    SECRET_KEY = 'x'\n"));
        assert!(!looks_like_python_config("DEBUG == True\n"));
        assert!(!looks_like_python_config(""));
        assert!(!looks_like_python_config("é = 1\nÉTAT = 2\n"));
    }
}
