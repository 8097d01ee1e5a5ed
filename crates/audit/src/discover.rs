//! Finding the files an audit reads.
//!
//! Walks each given path with the `ignore` crate (so `.gitignore` is respected),
//! prunes excluded directories, and classifies every file it keeps by [`FileKind`].
//! `.env*` files are picked up even when `.gitignore` hides them, because what they
//! hold is deployed all the same; they are marked [`Discovered::gitignored`] so the
//! secrets rule can tell a committed `.env` from an ignored one.

use std::{
    collections::BTreeSet,
    path::{Component, Path, PathBuf},
};

use globset::{Glob, GlobSet, GlobSetBuilder};
use ignore::WalkBuilder;

use crate::settings::AuditSettings;

/// What a file is, by its name and place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FileKind {
    Python,
    /// gunicorn.conf.py: Python, also read for gunicorn settings.
    GunicornConf,
    /// `*.cfg`: maybe a Flask config file in Python syntax (`from_pyfile(
    /// "application.cfg")`); analysed as Python only when it reads like one (see
    /// `analyze::looks_like_python_config`), so `setup.cfg` and other INI files
    /// are left alone.
    PyConfig,
    /// `*.json` / `*.toml` (other than pyproject.toml and lock files) and
    /// `*.yaml` / `*.yml` (other than compose files): maybe a config file Flask
    /// reads with `from_file(name, load=json.load)`; only an object / table /
    /// mapping with upper-case keys yields facts (`python::data_config`).
    DataConfig,
    Template,
    DotEnv,
    Dockerfile,
    Procfile,
    Compose,
    Requirements,
    PyProject,
    /// poetry.lock, uv.lock, Pipfile.lock, pdm.lock, pylock.toml, rye's
    /// requirements.lock: read for the versions they pin.
    LockFile,
    Nginx,
    /// `*.ini`: read only when it is a supervisord config (a `[program:NAME]`
    /// section); tox.ini, alembic.ini, uwsgi.ini and the like yield nothing.
    Ini,
    /// `*.sh` / `*.bash`, or an extensionless file with a `sh`/`bash` shebang
    /// that a deploy command runs: read for the commands that start the server
    /// (`deploy::script`).
    ShellScript,
    GitIgnore,
    /// `*.pem`, `*.key`, `id_rsa`...: read only by KEY004, for a private key
    /// committed with the code.
    KeyFile,
}

impl FileKind {
    /// Classifies a path relative to the walk root.
    pub fn of(rel: &Path) -> Option<FileKind> {
        let name = rel.file_name()?.to_str()?;
        let lower = name.to_ascii_lowercase();
        let parent_is = |dir: &str| {
            rel.components()
                .rev()
                .skip(1)
                .any(|c| matches!(c, Component::Normal(n) if n.eq_ignore_ascii_case(dir)))
        };
        if lower == "gunicorn.conf.py"
            || lower == "gunicorn_conf.py"
            || lower == "gunicorn_config.py"
        {
            return Some(FileKind::GunicornConf);
        }
        if lower.ends_with(".py") || lower.ends_with(".pyw") {
            return Some(FileKind::Python);
        }
        if lower.ends_with(".cfg") {
            return Some(FileKind::PyConfig);
        }
        if (lower.ends_with(".html")
            || lower.ends_with(".htm")
            || lower.ends_with(".jinja")
            || lower.ends_with(".jinja2")
            || lower.ends_with(".j2"))
            && parent_is("templates")
        {
            return Some(FileKind::Template);
        }
        if lower == ".env"
            || lower.starts_with(".env.")
            || (lower.ends_with(".env") && lower.len() > 4)
        {
            return Some(FileKind::DotEnv);
        }
        if lower == "dockerfile"
            || lower.starts_with("dockerfile.")
            || lower.ends_with(".dockerfile")
            || lower.ends_with(".containerfile")
            || lower == "containerfile"
        {
            return Some(FileKind::Dockerfile);
        }
        if lower == "procfile" || lower.starts_with("procfile.") {
            return Some(FileKind::Procfile);
        }
        let yaml = lower.ends_with(".yml") || lower.ends_with(".yaml");
        if yaml && (lower.starts_with("docker-compose") || lower.starts_with("compose")) {
            return Some(FileKind::Compose);
        }
        if lower.ends_with(".txt")
            && (lower.starts_with("requirements")
                || lower.starts_with("constraints")
                || parent_is("requirements"))
        {
            return Some(FileKind::Requirements);
        }
        if lower == "pyproject.toml" {
            return Some(FileKind::PyProject);
        }
        if matches!(
            lower.as_str(),
            "poetry.lock" | "uv.lock" | "pipfile.lock" | "pdm.lock" | "pylock.toml"
        ) || (lower.starts_with("requirements") && lower.ends_with(".lock"))
            || (lower.starts_with("pylock.") && lower.ends_with(".toml"))
        {
            return Some(FileKind::LockFile);
        }
        // Any `.conf` may be an nginx site (`deploy/site.conf`); the nginx reader
        // only finds facts in files with nginx directives. One with a
        // `[program:NAME]` section is a supervisord config instead.
        if lower.ends_with(".nginx") || lower.ends_with(".conf") {
            return Some(FileKind::Nginx);
        }
        if lower.ends_with(".ini") {
            return Some(FileKind::Ini);
        }
        if lower == ".gitignore" {
            return Some(FileKind::GitIgnore);
        }
        if lower.ends_with(".pem")
            || lower.ends_with(".key")
            || matches!(
                lower.as_str(),
                "id_rsa" | "id_dsa" | "id_ecdsa" | "id_ed25519"
            )
        {
            return Some(FileKind::KeyFile);
        }
        if lower.ends_with(".sh") || lower.ends_with(".bash") {
            return Some(FileKind::ShellScript);
        }
        if lower.ends_with(".json") || lower.ends_with(".toml") || yaml {
            return Some(FileKind::DataConfig);
        }
        None
    }

    pub fn is_python(self) -> bool {
        matches!(self, FileKind::Python | FileKind::GunicornConf)
    }
}

/// One file to analyse.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Discovered {
    /// Relative to the report root, `/`-separated. Sorting by it makes runs deterministic.
    pub rel: String,
    pub path: PathBuf,
    pub kind: FileKind,
    /// Hidden by a .gitignore (found anyway because it is a `.env` file).
    pub gitignored: bool,
    /// Test code: under tests/, test_*.py, *_test.py, conftest.py, and pytest
    /// plugins (pytest_*.py).
    pub is_test: bool,
}

/// A problem met while walking (an unreadable directory, a broken link).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct WalkProblem {
    pub rel: Option<String>,
    pub message: String,
}

#[derive(Debug, Default)]
pub struct Discovery {
    pub files: Vec<Discovered>,
    pub problems: Vec<WalkProblem>,
    /// Files without an extension and of no known kind (`boot`, `bin/start`),
    /// walked like the others: read as shell scripts only when a deploy
    /// command runs one (`analyze::follow_script_refs`).
    pub extensionless: Vec<Discovered>,
}

#[derive(Debug, thiserror::Error)]
pub enum DiscoverError {
    #[error("{path}: no such file or directory")]
    Missing { path: PathBuf },
    #[error("exclude pattern `{pattern}`: {message}")]
    BadGlob { pattern: String, message: String },
}

/// The directory findings are reported relative to: the deepest directory that
/// holds every given path (a file's directory for a file).
pub fn common_root(paths: &[PathBuf]) -> PathBuf {
    let dirs: Vec<PathBuf> = paths
        .iter()
        .map(|p| {
            let abs = std::path::absolute(p).unwrap_or_else(|_| p.clone());
            let abs = normalize(&abs);
            if abs.is_file() {
                abs.parent().map(Path::to_path_buf).unwrap_or(abs)
            } else {
                abs
            }
        })
        .collect();
    let Some(first) = dirs.first() else {
        return PathBuf::from(".");
    };
    let mut root: Vec<Component> = first.components().collect();
    for d in &dirs[1..] {
        let comps: Vec<Component> = d.components().collect();
        let common = root.iter().zip(&comps).take_while(|(a, b)| a == b).count();
        root.truncate(common);
    }
    root.iter().collect()
}

/// Removes `.` and resolves `..` lexically (no symlink resolution).
pub(crate) fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// Whether a root-relative path is test code.
pub fn is_test_path(rel: &str) -> bool {
    let mut parts = rel.split('/').peekable();
    while let Some(part) = parts.next() {
        let last = parts.peek().is_none();
        if !last && (part == "tests" || part == "test" || part == "testing") {
            return true;
        }
        if last {
            let stem = part.strip_suffix(".py").unwrap_or(part);
            return part.ends_with(".py")
                && (stem.starts_with("test_")
                    // A pytest plugin module (`pytest_<name>.py`, its
                    // fixtures and hooks).
                    || stem.starts_with("pytest_")
                    || stem.ends_with("_test")
                    || stem == "conftest"
                    || stem == "tests");
        }
    }
    false
}

fn glob_set(patterns: &[String]) -> Result<GlobSet, DiscoverError> {
    let mut b = GlobSetBuilder::new();
    for p in patterns {
        let glob = Glob::new(p).map_err(|e| DiscoverError::BadGlob {
            pattern: p.clone(),
            message: e.kind().to_string(),
        })?;
        b.add(glob);
    }
    b.build().map_err(|e| DiscoverError::BadGlob {
        pattern: patterns.join(", "),
        message: e.to_string(),
    })
}

pub(crate) fn rel_string(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    let parts: Vec<String> = rel
        .components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_string_lossy().into_owned()),
            Component::ParentDir => Some("..".into()),
            _ => None,
        })
        .collect();
    if parts.is_empty() {
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    } else {
        parts.join("/")
    }
}

/// Walks `paths` and returns the files to analyse, sorted by relative path.
pub fn discover(
    paths: &[PathBuf],
    root: &Path,
    settings: &AuditSettings,
) -> Result<Discovery, DiscoverError> {
    let excludes = glob_set(&settings.exclude)?;
    let mut out = Discovery::default();
    let mut seen: BTreeSet<PathBuf> = BTreeSet::new();
    let mut dirs: BTreeSet<PathBuf> = BTreeSet::new();
    for given in paths {
        let abs = normalize(&std::path::absolute(given).unwrap_or_else(|_| given.clone()));
        if std::fs::symlink_metadata(&abs).is_err() {
            return Err(DiscoverError::Missing {
                path: given.clone(),
            });
        }
        let mut walk = WalkBuilder::new(&abs);
        walk.hidden(false)
            .follow_links(false)
            .require_git(false)
            .git_global(false)
            .parents(true);
        let ex = excludes.clone();
        let root_for_filter = root.to_path_buf();
        let given_abs = abs.clone();
        walk.filter_entry(move |entry| {
            // Explicitly given paths are never excluded.
            if entry.path() == given_abs {
                return true;
            }
            let name = entry.file_name();
            if ex.is_match(Path::new(name)) {
                return false;
            }
            let rel = entry
                .path()
                .strip_prefix(&root_for_filter)
                .unwrap_or(entry.path());
            !ex.is_match(rel)
        });
        // Walked in parallel; everything found is sorted below, so the order
        // of the walk does not show.
        let found: std::sync::Mutex<Vec<Result<ignore::DirEntry, ignore::Error>>> =
            std::sync::Mutex::new(Vec::new());
        walk.build_parallel().run(|| {
            let found = &found;
            Box::new(move |result| {
                found
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .push(result);
                ignore::WalkState::Continue
            })
        });
        let found = found
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for result in found {
            let entry = match result {
                Ok(e) => e,
                Err(err) => {
                    out.problems.push(walk_problem(root, &err));
                    continue;
                }
            };
            let path = entry.path();
            let Some(ft) = entry.file_type() else {
                continue;
            };
            if ft.is_dir() {
                dirs.insert(path.to_path_buf());
                continue;
            }
            if ft.is_symlink() {
                // A link to a file is read (a loop or dangling link becomes a
                // diagnostic when read); links to directories are not followed.
                if std::fs::metadata(path).is_ok_and(|m| m.is_dir()) {
                    continue;
                }
            }
            let rel = rel_string(root, path);
            if let Some(kind) = FileKind::of(Path::new(&rel)) {
                if seen.insert(path.to_path_buf()) {
                    out.files.push(Discovered {
                        is_test: is_test_path(&rel),
                        rel,
                        path: path.to_path_buf(),
                        kind,
                        gitignored: false,
                    });
                }
            } else if entry.file_name().to_str().is_some_and(|n| !n.contains('.'))
                && seen.insert(path.to_path_buf())
            {
                out.extensionless.push(Discovered {
                    is_test: is_test_path(&rel),
                    rel,
                    path: path.to_path_buf(),
                    kind: FileKind::ShellScript,
                    gitignored: false,
                });
            }
        }
        if abs.is_dir() {
            dirs.insert(abs);
        }
    }
    // .env files hidden by .gitignore, in every directory walked.
    let dotenvs: Vec<Vec<PathBuf>> = {
        use rayon::prelude::*;
        dirs.par_iter()
            .map(|dir| {
                let Ok(read) = std::fs::read_dir(dir) else {
                    return Vec::new();
                };
                // By name first: a stat for every file of every directory is
                // most of this pass's cost on large trees.
                let mut names: Vec<PathBuf> = read
                    .flatten()
                    .map(|e| e.path())
                    .filter(|p| FileKind::of(p) == Some(FileKind::DotEnv))
                    .collect();
                names.sort();
                names
            })
            .collect()
    };
    for names in dotenvs {
        for path in names {
            if seen.contains(&path) {
                continue;
            }
            if !path.is_file() {
                continue;
            }
            let rel = rel_string(root, &path);
            if FileKind::of(Path::new(&rel)) == Some(FileKind::DotEnv) {
                seen.insert(path.clone());
                out.files.push(Discovered {
                    is_test: is_test_path(&rel),
                    rel,
                    path,
                    kind: FileKind::DotEnv,
                    gitignored: true,
                });
            }
        }
    }
    out.files.sort();
    out.files.dedup_by(|a, b| a.rel == b.rel);
    out.extensionless.sort();
    out.extensionless.dedup_by(|a, b| a.rel == b.rel);
    out.problems.sort();
    out.problems.dedup();
    Ok(out)
}

fn walk_problem(root: &Path, err: &ignore::Error) -> WalkProblem {
    fn path_of(err: &ignore::Error) -> Option<&Path> {
        match err {
            ignore::Error::WithPath { path, .. } => Some(path),
            ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
                path_of(err)
            }
            ignore::Error::Loop { child, .. } => Some(child),
            _ => None,
        }
    }
    WalkProblem {
        rel: path_of(err).map(|p| rel_string(root, p)),
        message: err.to_string().replace(&format!("{}/", root.display()), ""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_by_name_and_place() {
        let k = |p: &str| FileKind::of(Path::new(p));
        assert_eq!(k("app/views.py"), Some(FileKind::Python));
        assert_eq!(k("gunicorn.conf.py"), Some(FileKind::GunicornConf));
        assert_eq!(k("instance/application.cfg"), Some(FileKind::PyConfig));
        assert_eq!(k("setup.cfg"), Some(FileKind::PyConfig));
        assert_eq!(k("app/templates/base.html"), Some(FileKind::Template));
        assert_eq!(k("static/index.html"), None);
        assert_eq!(k(".env"), Some(FileKind::DotEnv));
        assert_eq!(k(".env.production"), Some(FileKind::DotEnv));
        assert_eq!(k("deploy/prod.env"), Some(FileKind::DotEnv));
        assert_eq!(k("Dockerfile.prod"), Some(FileKind::Dockerfile));
        assert_eq!(k("Procfile"), Some(FileKind::Procfile));
        assert_eq!(k("docker-compose.prod.yaml"), Some(FileKind::Compose));
        assert_eq!(k("compose.yml"), Some(FileKind::Compose));
        assert_eq!(k("requirements-dev.txt"), Some(FileKind::Requirements));
        assert_eq!(k("requirements/base.txt"), Some(FileKind::Requirements));
        assert_eq!(k("constraints.txt"), Some(FileKind::Requirements));
        assert_eq!(k("uv.lock"), Some(FileKind::LockFile));
        assert_eq!(k("requirements-dev.lock"), Some(FileKind::LockFile));
        assert_eq!(k("pylock.prod.toml"), Some(FileKind::LockFile));
        assert_eq!(k("deploy/nginx/site.conf"), Some(FileKind::Nginx));
        assert_eq!(k("deploy/site.conf"), Some(FileKind::Nginx));
        assert_eq!(k("etc/supervisord.d/web.ini"), Some(FileKind::Ini));
        assert_eq!(k("tox.ini"), Some(FileKind::Ini));
        assert_eq!(k("notes.txt"), None);
        assert_eq!(k("boot.sh"), Some(FileKind::ShellScript));
        assert_eq!(k("entrypoints/gunicorn.sh"), Some(FileKind::ShellScript));
        assert_eq!(k("bin/start"), None);
    }

    #[test]
    fn test_code_is_recognised() {
        assert!(is_test_path("tests/test_app.py"));
        assert!(is_test_path("orders/tests/helpers.py"));
        assert!(is_test_path("test_app.py"));
        assert!(is_test_path("orders/app_test.py"));
        assert!(is_test_path("conftest.py"));
        assert!(is_test_path("ledger/pytest_ledger.py"));
        assert!(!is_test_path("ledger/pytest.py"));
        assert!(!is_test_path("orders/testimonials.py"));
        assert!(!is_test_path("tests.txt"));
        assert!(!is_test_path("orders/contest.py"));
    }

    #[test]
    fn common_root_of_paths() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a/x");
        let b = dir.path().join("a/y");
        std::fs::create_dir_all(&a).unwrap();
        std::fs::create_dir_all(&b).unwrap();
        std::fs::write(b.join("f.py"), "").unwrap();
        let root = common_root(&[a.clone(), b.join("f.py")]);
        assert_eq!(
            root,
            normalize(&std::path::absolute(dir.path().join("a")).unwrap())
        );
        assert_eq!(
            common_root(std::slice::from_ref(&a)),
            normalize(&std::path::absolute(&a).unwrap())
        );
    }
}
