//! The command line (clap derive).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Make Flask and FastAPI APIs production-safe.
///
/// flaskguard audits a project's code, config and deploy files (`audit`), checks a
/// live deployment from the outside (`scan`) and enforces the runtime controls as a
/// gateway in front of gunicorn or uvicorn (`shield`). All three speak the control
/// IDs of one checklist: see `flaskguard checklist` and `flaskguard explain ID`.
///
/// Exit codes: 0 clean, 1 findings at or above --fail-on, 2 usage, config or I/O error.
#[derive(Debug, Parser)]
#[command(
    name = "flaskguard",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// When to colour output: auto (only on a terminal, and never with NO_COLOR set), always, never.
    #[arg(long, global = true, value_enum, default_value_t = Color::Auto, value_name = "WHEN")]
    pub color: Color,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Audit a project's source, config and deploy files (runs nothing).
    Audit(Box<AuditArgs>),
    /// List every control with its severity and which engines check or enforce it.
    Checklist(ChecklistArgs),
    /// Print the documentation of a control: what it checks, why, and how to fix it.
    Explain(ExplainArgs),
    /// Check a live deployment from the outside and grade it (see docs/scan-scoring.md).
    ///
    /// Passive by default: ordinary GET/HEAD/OPTIONS requests, a few unusual methods
    /// and crafted headers, a few dozen requests per target. --active adds intrusive
    /// probes. Requests only ever go to each target's own host.
    Scan(Box<ScanArgs>),
    /// Run the gateway in front of gunicorn/uvicorn that enforces the runtime controls.
    ///
    /// Every protection is on with safe defaults; `[shield]` in flaskguard.toml tunes
    /// them. SIGHUP reloads the config (and TLS certificates), SIGTERM drains and stops.
    Shield(ShieldArgs),
    /// Read a Flask session cookie: decode what it carries, or find its signing key.
    ///
    /// Runs offline on a cookie you give (nothing is sent anywhere): `decode` shows
    /// the session as the browser holds it (CKE004: readable sensitive data), `crack`
    /// tries the built-in list of weak and well-known keys and your word lists under
    /// every key derivation Flask and itsdangerous use (KEY002). Exit code 1 when a
    /// sensitive key is readable (decode) or the signing key is found (crack).
    #[command(subcommand)]
    Session(SessionCommand),
}

#[derive(Debug, Subcommand)]
pub enum SessionCommand {
    /// Decode a session cookie without its key: the session's contents, when it was signed, and sensitive entries.
    Decode(SessionDecodeArgs),
    /// Find the key a session cookie is signed with, among weak and well-known keys and your word lists.
    Crack(SessionCrackArgs),
}

#[derive(Debug, Args)]
pub struct SessionCookieArg {
    /// The cookie: its value, `session=VALUE` as a browser shows it, or `-` to read it from standard input (keeps it out of the shell history).
    #[arg(value_name = "COOKIE")]
    pub cookie: String,
}

#[derive(Debug, Args)]
pub struct SessionDecodeArgs {
    #[command(flatten)]
    pub cookie: SessionCookieArg,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct SessionCrackArgs {
    #[command(flatten)]
    pub cookie: SessionCookieArg,
    /// More candidate keys, one per line (repeatable); tried after the built-in list.
    #[arg(long, value_name = "FILE")]
    pub wordlist: Vec<PathBuf>,
    /// Try only the given word lists, not the built-in one.
    #[arg(long, requires = "wordlist")]
    pub no_builtin: bool,
    /// Print a found key in full (by default it is masked like in reports: `de…34 (19 chars)`).
    #[arg(long)]
    pub show_key: bool,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Target URLs (http:// or https://).
    #[arg(value_name = "URL")]
    pub urls: Vec<String>,
    /// Read more target URLs from FILE, one per line (blank lines and # comments ignored).
    #[arg(long, value_name = "FILE")]
    pub targets: Option<PathBuf>,
    /// Also run INTRUSIVE probes: a burst of failed logins, a 20 MiB body, cross-site POSTs with the session cookie, open-redirect parameters, spoofed X-Forwarded-For, malformed JSON, forged JWTs. They can lock accounts, trip alerts and write to the database: only against deployments you may test.
    #[arg(long)]
    pub active: bool,
    /// A login endpoint to test for rate limiting (repeatable), e.g. /api/auth/login.
    #[arg(long = "login-path", value_name = "PATH")]
    pub login_paths: Vec<String>,
    /// More candidate keys for the Flask session cookie, one per line.
    #[arg(long, value_name = "FILE")]
    pub wordlist: Option<PathBuf>,
    /// Send this header with every request (repeatable), e.g. "Authorization: Bearer $TOKEN", to scan an API behind a login. Forged-token probes go without it; reports never show its value. With --header or --cookie every target must be on one host.
    #[arg(long = "header", value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
    /// Send this cookie with every request (repeatable; "a=1; b=2" holds two), e.g. a logged-in "session=…": the session checks (contents, weak SECRET_KEY) and the cross-site POST probe then use it. Reports never show its value.
    #[arg(long = "cookie", value_name = "NAME=VALUE")]
    pub cookies: Vec<String>,
    /// At most N requests in flight [default: 8].
    #[arg(long, value_name = "N")]
    pub concurrency: Option<usize>,
    /// Per-request timeout in seconds [default: 10].
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<f64>,
    /// Time budget for the whole scan in seconds [default: 120].
    #[arg(long, value_name = "SECS")]
    pub budget: Option<f64>,
    #[command(flatten)]
    pub report: crate::output::ReportArgs,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = false)]
pub struct ShieldArgs {
    /// Configuration file (default: flaskguard.toml, .flaskguard.toml or pyproject.toml
    /// with [tool.flaskguard], found from the current directory upward).
    #[arg(long, value_name = "FILE", global = true)]
    pub config: Option<PathBuf>,
    /// Public listener address, overriding `shield.listen` (e.g. 127.0.0.1:8080).
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    /// The app, overriding `shield.upstream`: http://127.0.0.1:8000 or unix:/path/to/sock.
    #[arg(long, value_name = "URL")]
    pub upstream: Option<String>,
    /// Validate the configuration, print it with every default made explicit, and
    /// exit (0 valid, 2 invalid).
    #[arg(long)]
    pub check_config: bool,
    #[command(subcommand)]
    pub action: Option<ShieldAction>,
}

#[derive(Debug, Subcommand)]
pub enum ShieldAction {
    /// End server-side sessions now ([shield.seal] mode = "server").
    ///
    /// Give the cookie values as the browser holds them (`fgs1.…`, with or without
    /// `session=`); the keys in the seal key variable open them. --all ends every
    /// session. The next request with a revoked cookie reaches the app without one.
    Revoke(RevokeArgs),
}

#[derive(Debug, Args)]
pub struct RevokeArgs {
    /// Sealed session cookie values.
    #[arg(value_name = "COOKIE", required_unless_present = "all")]
    pub cookies: Vec<String>,
    /// Revoke every session.
    #[arg(long, conflicts_with = "cookies")]
    pub all: bool,
}

#[derive(Debug, Args)]
pub struct ChecklistArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = ChecklistFormat::Text, value_name = "FORMAT")]
    pub output_format: ChecklistFormat,
    /// Write to this file (atomically) instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ChecklistFormat {
    Text,
    Json,
    Markdown,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// A control ID, such as DBG001 (case does not matter).
    #[arg(value_name = "ID")]
    pub id: String,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Files or directories to audit [default: .]
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub report: crate::output::ReportArgs,
    /// Print the route inventory (method, path, endpoint, location, rate limit, CSRF
    /// exemption, auth) instead of findings: a table, or JSON with `--output-format json`.
    #[arg(long)]
    pub routes: bool,
    /// An OSV advisory export (a JSON file or a directory of them) for DEP002.
    #[arg(long, value_name = "DIR|FILE")]
    pub advisories: Option<PathBuf>,
    /// Glob patterns to exclude instead of the default list; comma-separated.
    #[arg(long, value_name = "GLOBS", value_delimiter = ',')]
    pub exclude: Option<Vec<String>>,
    /// Glob patterns to exclude on top of the default list; comma-separated.
    #[arg(long, value_name = "GLOBS", value_delimiter = ',')]
    pub extend_exclude: Option<Vec<String>>,
    /// Audit test code too (tests/, test_*.py, *_test.py, conftest.py, pytest_*.py).
    #[arg(long)]
    pub include_tests: bool,
}
