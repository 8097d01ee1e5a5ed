//! KEY004: secrets and source served as files. A hit needs content that looks like
//! the file (KEY=VALUE lines, a git ref, Python source, an SQL dump), not just a
//! 200: catch-all apps answer 200 to everything, and the soft-404 baseline is
//! compared too. Values in evidence are masked.

use super::{check, outcomes, CheckDef, Verdicts};
use crate::{
    client::HttpResponse,
    observations::{excerpt, Observations},
};

outcomes! {
    pub enum Env for "KEY004" {
        Exposed = "exposed-env-file" [Critical, -40, Flaskguard]
            "A dotenv file is served: its secrets (SECRET_KEY, database passwords) are public",
            "Never serve the project root: point static_folder at a dedicated directory, block dotfiles at the proxy, and rotate every secret in the file.";
        Absent = "env-file-not-served" [Pass, 0, Flaskguard]
            "No dotenv file is served",
            "";
    }
}

outcomes! {
    pub enum Git for "KEY004" {
        Exposed = "exposed-git-metadata" [High, -40, Flaskguard]
            "The .git directory is served: the whole source history (and any secret ever committed) can be downloaded",
            "Do not deploy .git, or block /.git/ at the proxy.";
        Absent = "git-metadata-not-served" [Pass, 0, Flaskguard]
            "No .git metadata is served",
            "";
    }
}

outcomes! {
    pub enum Source for "KEY004" {
        Exposed = "exposed-python-source" [High, -30, Flaskguard]
            "Python source or configuration is served as a file (config.py, settings.py, app.py)",
            "Serve static files from a dedicated folder (Flask(static_folder=\"static\")), never the project root.";
        Absent = "python-source-not-served" [Pass, 0, Flaskguard]
            "No Python source is served",
            "";
    }
}

outcomes! {
    pub enum Backup for "KEY004" {
        Exposed = "exposed-backup-file" [High, -30, Flaskguard]
            "A backup or database dump is served",
            "Remove backups and dumps from the web root and block such extensions at the proxy.";
        Absent = "backup-files-not-served" [Pass, 0, Flaskguard]
            "No backup files are served",
            "";
    }
}

pub static CHECKS: &[CheckDef] = &[
    check!("exposed-env-file", "KEY004", Env, env),
    check!("exposed-git", "KEY004", Git, git),
    check!("exposed-python-source", "KEY004", Source, source),
    check!("exposed-backup", "KEY004", Backup, backup),
];

fn looks_binary_or_html(resp: &HttpResponse) -> bool {
    resp.is_html() || resp.body.contains(&0) || resp.text().trim_start().starts_with('<')
}

/// `KEY=VALUE` lines (optionally `export KEY=...`), with the values masked.
pub fn env_keys(body: &str) -> Vec<String> {
    let mut keys = Vec::new();
    for line in body.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((k, _)) = line.split_once('=') else {
            return Vec::new();
        };
        let k = k.trim();
        let valid = !k.is_empty()
            && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !k.starts_with(|c: char| c.is_ascii_digit());
        if !valid {
            return Vec::new();
        }
        keys.push(k.to_string());
    }
    keys
}

fn is_python(body: &str) -> bool {
    let markers = [
        "import ",
        "def ",
        "class ",
        "from ",
        "SECRET_KEY",
        "app = ",
        "= os.environ",
        "os.getenv",
    ];
    markers.iter().filter(|m| body.contains(**m)).count() >= 2
}

fn is_sql_dump(body: &str) -> bool {
    let upper = body.to_ascii_uppercase();
    upper.contains("CREATE TABLE")
        || upper.contains("INSERT INTO")
        || upper.contains("DATABASE DUMP")
}

/// Each exposed-file probe whose path matches `paths` and whose content passes
/// `valid`, with evidence.
fn hits<'a>(
    obs: &'a Observations,
    paths: &'a [&'a str],
    valid: impl Fn(&str) -> Option<String> + 'a,
) -> impl Iterator<Item = (String, String)> + 'a {
    obs.with_prefix("file:").filter_map(move |e| {
        let path = &e.key["file:".len()..];
        if !paths.contains(&path) {
            return None;
        }
        let resp = e.response()?;
        if resp.status != 200 || looks_binary_or_html(resp) || obs.is_soft404(resp, path) {
            return None;
        }
        valid(&resp.text()).map(|ev| (e.url(), ev))
    })
}

fn report<O: super::Outcome>(
    obs: &Observations,
    v: &mut Verdicts,
    found: Vec<(String, String)>,
    exposed: O,
    absent: O,
) {
    if found.is_empty() {
        if let Some((url, _)) = super::page(obs) {
            v.add(absent, url);
        }
    }
    for (url, ev) in found {
        v.add(exposed, url).evidence(ev);
    }
}

fn env(obs: &Observations, v: &mut Verdicts) {
    let found: Vec<_> = hits(obs, &["/.env", "/.env.production", "/.env.bak"], |body| {
        let keys = env_keys(body);
        (!keys.is_empty()).then(|| format!("variables (values hidden): {}", keys.join(", ")))
    })
    .collect();
    report(obs, v, found, Env::Exposed, Env::Absent);
}

fn git(obs: &Observations, v: &mut Verdicts) {
    let found: Vec<_> = hits(obs, &["/.git/HEAD", "/.git/config"], |body| {
        let t = body.trim();
        let head = t.starts_with("ref: refs/")
            || (t.len() == 40 && t.chars().all(|c| c.is_ascii_hexdigit()));
        let config = t.contains("[core]") && t.contains("repositoryformatversion");
        (head || config).then(|| excerpt(t.lines().next().unwrap_or(""), 80))
    })
    .collect();
    report(obs, v, found, Git::Exposed, Git::Absent);
}

fn source(obs: &Observations, v: &mut Verdicts) {
    let paths = [
        "/config.py",
        "/instance/config.py",
        "/settings.py",
        "/app.py",
        "/wsgi.py",
    ];
    let found: Vec<_> = hits(obs, &paths, |body| {
        is_python(body).then(|| {
            let secret = if body.contains("SECRET_KEY") {
                "; contains SECRET_KEY"
            } else {
                ""
            };
            format!("{} lines of Python{secret}", body.lines().count())
        })
    })
    .collect();
    report(obs, v, found, Source::Exposed, Source::Absent);
}

fn backup(obs: &Observations, v: &mut Verdicts) {
    let paths = ["/config.py.bak", "/app.py~", "/backup.sql", "/dump.sql"];
    let found: Vec<_> = hits(obs, &paths, |body| {
        if is_sql_dump(body) {
            Some(format!("SQL dump, {} bytes", body.len()))
        } else if is_python(body) {
            Some(format!(
                "Python source backup, {} lines",
                body.lines().count()
            ))
        } else {
            None
        }
    })
    .collect();
    report(obs, v, found, Backup::Exposed, Backup::Absent);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotenv_is_recognised_and_masked() {
        let keys = env_keys(
            "# c\nFLASK_DEBUG=1\nexport SECRET_KEY=change-me\n\nDATABASE_URL=postgres://u:p@h/db\n",
        );
        assert_eq!(keys, ["FLASK_DEBUG", "SECRET_KEY", "DATABASE_URL"]);
        assert!(env_keys("<html>not found</html>").is_empty());
        assert!(env_keys("").is_empty());
        assert!(env_keys("hello world\nA=b").is_empty());
    }

    #[test]
    fn python_needs_two_markers() {
        assert!(is_python("import os\nclass Config:\n    SECRET_KEY = 'x'"));
        assert!(!is_python("from here to there"));
    }
}
