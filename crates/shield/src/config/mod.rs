//! The `[shield]` section of flaskguard.toml: what the user writes.
//!
//! Every key is snake_case (like `allowed_hosts` and `trusted_proxies`) and every
//! sub-table belongs to one layer. Unknown keys are errors naming the key path
//! (`shield.headers.hsts_maxage`). [`Settings`] is the raw, serde form; it is turned
//! into the runtime form by [`validate`](crate::config::validate), which refuses
//! invalid and dangerous combinations naming the key, and into the *effective*
//! settings (every default and preset made explicit) for `--check-config`.

pub mod policy;
mod units;
pub mod validate;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use policy::{
    AuthRuleSettings, CorsRouteSettings, CorsSettings, CsrfMode, CsrfSettings, OnStorageError,
    RateLimitHeaders, RateLimitSettings, RuleSettings, SealMode, SealSettings, StringList,
};
pub use units::Dur;
pub use validate::{ConfigError, Validated};

/// `[shield]`.
///
/// Field order matters for printing: TOML needs plain values before sub-tables.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// The public listener, `host:port`.
    pub listen: String,
    /// `http://host:port` or `unix:/path/to/gunicorn.sock`.
    pub upstream: String,
    /// Host names a request may address (with or without port; `*.example.com`
    /// matches subdomains). Empty: every host is allowed, with a warning at start.
    pub allowed_hosts: Vec<String>,
    /// Which peers may speak for the client: CIDRs / addresses, or a hop count.
    pub trusted_proxies: TrustedProxies,
    /// Worker threads: a count, or `"auto"` (one per two CPUs, at least one).
    pub workers: Workers,
    pub tls: TlsSettings,
    pub methods: MethodsSettings,
    pub blocked_paths: BlockedPathsSettings,
    pub traversal: TraversalSettings,
    pub limits: LimitsSettings,
    pub json_body: JsonBodySettings,
    pub schema: SchemaSettings,
    pub headers: HeadersSettings,
    pub cookies: CookiesSettings,
    pub errors: ErrorsSettings,
    pub timeouts: TimeoutsSettings,
    pub upstream_pool: UpstreamPoolSettings,
    pub audit_log: AuditLogSettings,
    pub access_log: AccessLogSettings,
    pub admin: AdminSettings,
    pub rate_limit: RateLimitSettings,
    pub cors: CorsSettings,
    pub csrf: CsrfSettings,
    pub seal: SealSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            listen: "127.0.0.1:8080".into(),
            upstream: "http://127.0.0.1:8000".into(),
            allowed_hosts: Vec::new(),
            trusted_proxies: TrustedProxies::default(),
            workers: Workers::Auto,
            tls: TlsSettings::default(),
            methods: MethodsSettings::default(),
            blocked_paths: BlockedPathsSettings::default(),
            traversal: TraversalSettings::default(),
            limits: LimitsSettings::default(),
            json_body: JsonBodySettings::default(),
            schema: SchemaSettings::default(),
            headers: HeadersSettings::default(),
            cookies: CookiesSettings::default(),
            errors: ErrorsSettings::default(),
            timeouts: TimeoutsSettings::default(),
            upstream_pool: UpstreamPoolSettings::default(),
            audit_log: AuditLogSettings::default(),
            access_log: AccessLogSettings::default(),
            admin: AdminSettings::default(),
            rate_limit: RateLimitSettings::default(),
            cors: CorsSettings::default(),
            csrf: CsrfSettings::default(),
            seal: SealSettings::default(),
        }
    }
}

/// `workers = 2` or `workers = "auto"`: how many threads serve traffic, each with its
/// own single-threaded runtime, connections and upstream pool (like nginx's worker
/// processes).
///
/// `"auto"` is one worker per two CPUs this process may use (cgroup quotas and
/// affinity included), at least one. shield normally shares its machine with the app
/// it protects, and the app is the part that needs the CPUs: one worker proxies tens
/// of thousands of requests per second, more than a Python app on a few cores
/// serves, and at an app's rates a busier worker wakes up less per request (fewer
/// wake-ups, less CPU per request) than several idle ones. Give shield more workers
/// when it terminates TLS for many clients or runs on a machine of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Workers {
    #[default]
    Auto,
    Count(u32),
}

impl Workers {
    /// The most workers a config may ask for.
    pub const MAX: u32 = 1024;

    /// The number of worker threads on this machine.
    pub fn resolve(self) -> usize {
        match self {
            Workers::Count(n) => n as usize,
            Workers::Auto => {
                let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
                (cpus / 2).max(1)
            }
        }
    }
}

impl Serialize for Workers {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Workers::Auto => s.serialize_str("auto"),
            Workers::Count(n) => s.serialize_u32(*n),
        }
    }
}

impl<'de> Deserialize<'de> for Workers {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Workers, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Workers;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "a number of workers (1 to {}) or \"auto\"", Workers::MAX)
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Workers, E> {
                match u32::try_from(v) {
                    Ok(n) if (1..=Workers::MAX).contains(&n) => Ok(Workers::Count(n)),
                    _ => Err(E::custom(format!(
                        "{v} workers: write 1 to {} or \"auto\"",
                        Workers::MAX
                    ))),
                }
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Workers, E> {
                self.visit_i64(i64::try_from(v).unwrap_or(i64::MAX))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Workers, E> {
                if v.trim().eq_ignore_ascii_case("auto") {
                    Ok(Workers::Auto)
                } else {
                    Err(E::custom(format!(
                        "`{v}`: write a number of workers or \"auto\""
                    )))
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// `trusted_proxies = ["10.0.0.0/8", "127.0.0.1"]` or `trusted_proxies = 1`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum TrustedProxies {
    /// The number of proxies in front of shield; the peer is the last of them.
    Hops(u32),
    /// Peers (and forwarded hops) inside these networks are proxies.
    Cidrs(Vec<String>),
}

impl Default for TrustedProxies {
    fn default() -> Self {
        TrustedProxies::Cidrs(Vec::new())
    }
}

/// `[shield.tls]`: TLS termination (TLS001-TLS003).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TlsSettings {
    /// PEM certificate chain. With `key`, the public listener speaks TLS.
    pub cert: Option<PathBuf>,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1).
    pub key: Option<PathBuf>,
    /// A plain-HTTP listener that only redirects to HTTPS (e.g. `0.0.0.0:80`).
    pub redirect_listen: Option<String>,
    /// Redirect to HTTPS when a trusted proxy says the client spoke plain HTTP.
    pub redirect_http: bool,
}

impl Default for TlsSettings {
    fn default() -> Self {
        TlsSettings {
            cert: None,
            key: None,
            redirect_listen: None,
            redirect_http: true,
        }
    }
}

/// `[shield.methods]` (INP007).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MethodsSettings {
    pub allow: Vec<String>,
}

impl Default for MethodsSettings {
    fn default() -> Self {
        MethodsSettings {
            allow: ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
                .map(String::from)
                .to_vec(),
        }
    }
}

/// `[shield.blocked_paths]` (DBG001, DBG002, KEY004).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BlockedPathsSettings {
    /// Block `/console` and any request with `__debugger__` in its query.
    pub debugger: bool,
    /// Block `/_debug_toolbar/`.
    pub debug_toolbar: bool,
    /// Block every path segment starting with a dot (`/.env`, `/.git/config`).
    pub dotfiles: bool,
    /// Block source, backup, database and deploy files (`/config.py`, `/app.py.bak`,
    /// `/orders.db`, `/requirements.txt`, `/Dockerfile`): an app whose static folder
    /// is its project root serves them otherwise.
    pub source_files: bool,
    /// Path prefixes exempt from the dotfile rule.
    pub allow: Vec<String>,
    /// More blocked path prefixes (`/admin/`), or route patterns (`/internal/{name}`).
    pub extra: Vec<String>,
}

impl Default for BlockedPathsSettings {
    fn default() -> Self {
        BlockedPathsSettings {
            debugger: true,
            debug_toolbar: true,
            dotfiles: true,
            source_files: true,
            allow: vec!["/.well-known/".into()],
            extra: Vec::new(),
        }
    }
}

/// `[shield.traversal]` (INP005).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TraversalSettings {
    pub enabled: bool,
    /// Let `%2F` through (ids like `group%2Fproject`, `%40scope%2Fname`); an
    /// encoded slash that forms a `..` segment is still refused.
    pub allow_encoded_slash: bool,
}

impl Default for TraversalSettings {
    fn default() -> Self {
        TraversalSettings {
            enabled: true,
            allow_encoded_slash: false,
        }
    }
}

/// `[shield.limits]` (INP003).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsSettings {
    /// Largest request body, bytes (413).
    pub max_body_bytes: u64,
    /// Largest header block (names, values and separators), bytes (431).
    pub max_header_bytes: usize,
    /// Most header fields in one request (431).
    pub max_headers: usize,
    /// Longest request target (path and query), bytes (414).
    pub max_uri_bytes: usize,
    /// Read a request's whole body before the request goes to the app (like
    /// nginx's `proxy_request_buffering`), so a client that sends slowly holds a
    /// connection of shield's, never a worker of the app (gunicorn's sync workers
    /// serve one request at a time). Bodies larger than `max_body_bytes` (allowed
    /// on some routes) stream.
    pub request_buffering: bool,
    /// How far shield reads an app's response ahead of a slow client, bytes per
    /// response (like nginx's `proxy_buffering`): a response that fits frees the
    /// app's worker at once, however slowly the client reads. 0: off.
    pub response_buffer_bytes: u64,
    /// Memory all bodies held for slow peers (requests buffered, responses read
    /// ahead) may take at once; past it, bodies stream at the peer's pace.
    pub buffer_memory_bytes: u64,
    /// How much of one response may go to a temporary file once its
    /// `response_buffer_bytes` are full, bytes (like nginx's
    /// `proxy_max_temp_file_size`): the app's worker is free even when a large
    /// download meets a slow client. 0: off (the rest waits for the client).
    pub response_spill_bytes: u64,
    /// Disk all spill files may take at once; past it, responses wait for their
    /// clients.
    pub spill_disk_bytes: u64,
    /// Directory of the spill files (unnamed: nothing is left there, even after
    /// a crash); unset: the system's temporary directory (`TMPDIR`, else /tmp).
    /// Use a disk, not a tmpfs, for large downloads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spill_dir: Option<std::path::PathBuf>,
    /// Other body limits for some routes (an upload route), first match wins.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<RouteBodyLimit>,
}

/// One `[[shield.limits.routes]]` entry: a body limit for the routes it names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteBodyLimit {
    /// Route patterns (`"POST /uploads"`, `"PUT /files/{*path}"`).
    pub routes: Vec<String>,
    /// Largest request body on these routes, bytes (413); unset: the global limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_body_bytes: Option<u64>,
    /// Buffer bodies on these routes or stream them (an app that reads an upload
    /// as it arrives); unset: `request_buffering`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_buffering: Option<bool>,
}

impl Default for LimitsSettings {
    fn default() -> Self {
        LimitsSettings {
            max_body_bytes: 10 * 1024 * 1024,
            max_header_bytes: 32 * 1024,
            max_headers: 100,
            max_uri_bytes: 8 * 1024,
            request_buffering: true,
            response_buffer_bytes: 8 * 1024 * 1024,
            buffer_memory_bytes: 256 * 1024 * 1024,
            response_spill_bytes: 1024 * 1024 * 1024,
            spill_disk_bytes: 4 * 1024 * 1024 * 1024,
            spill_dir: None,
            routes: Vec::new(),
        }
    }
}

/// `[shield.json_body]` (INP001).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct JsonBodySettings {
    /// Reject bodies declared JSON that do not parse.
    pub enabled: bool,
    /// Routes not checked: `"POST /webhooks/{id}"` or `"/raw/{*rest}"` (any method).
    pub exempt_routes: Vec<String>,
}

impl Default for JsonBodySettings {
    fn default() -> Self {
        JsonBodySettings {
            enabled: true,
            exempt_routes: Vec::new(),
        }
    }
}

/// `[shield.schema]` (INP002): JSON request bodies checked against JSON Schemas,
/// per route, before the app sees them. Nothing is checked until a schema is
/// given: an OpenAPI document, or schema files for some routes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SchemaSettings {
    /// An OpenAPI 3.0 or 3.1 document in JSON, or YAML when named `.yaml`/`.yml`
    /// (FastAPI's `/openapi.json`, the output of apispec or flask-smorest): each operation's `application/json`
    /// request body schema is enforced on its route. Read at start and on reload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub openapi: Option<std::path::PathBuf>,
    /// Schema files for some routes; tried before the OpenAPI document, first
    /// match wins.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<RouteSchema>,
    /// `enforce` (422 for a body that does not match) or `report` (the audit log
    /// says so; the request goes on): roll a schema out in `report` first.
    pub mode: SchemaMode,
}

impl Default for SchemaSettings {
    fn default() -> Self {
        SchemaSettings {
            openapi: None,
            routes: Vec::new(),
            mode: SchemaMode::Enforce,
        }
    }
}

/// What a body that does not match its schema gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SchemaMode {
    #[default]
    Enforce,
    Report,
}

/// One `[[shield.schema.routes]]` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteSchema {
    /// Route patterns (`"POST /api/orders"`, `"PUT /api/orders/{id}"`).
    pub routes: Vec<String>,
    /// A JSON Schema file (draft 4 to 2020-12, by its `$schema`; 2020-12 when it
    /// has none). References to other files or URLs are not followed.
    pub schema: std::path::PathBuf,
    /// A request without a body is refused (422); false: it passes.
    #[serde(default = "yes")]
    pub required: bool,
}

fn yes() -> bool {
    true
}

/// Which set of defaults the response layers use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Preset {
    /// A JSON API: `default-src 'none'`, HTML error pages become JSON.
    #[default]
    Api,
    /// Server-rendered pages: a nonce-based CSP injected into `<script>`/`<style>`.
    Html,
}

/// `[shield.headers]` (HDR001-HDR007, HDR009). Unset keys take the preset's value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct HeadersSettings {
    pub preset: Preset,
    /// The policy; `{nonce}` stands for the per-request nonce.
    pub content_security_policy: Option<String>,
    /// Send `Content-Security-Policy-Report-Only` instead (observe before enforcing).
    pub csp_report_only: Option<bool>,
    /// Inject a fresh nonce into every `<script>` and `<style>` of HTML responses.
    pub csp_nonce: Option<bool>,
    /// With this set, only tags whose `nonce` attribute equals it get the real nonce
    /// (so markup injected into a page cannot borrow one).
    pub csp_nonce_placeholder: Option<String>,
    /// Hand the per-request nonce to the app in this request header
    /// (`X-CSP-Nonce`) instead of rewriting pages: the app writes it into its own
    /// tags, so a `<script>` injected into a page never gets it, and responses
    /// keep their compression.
    pub csp_nonce_header: Option<String>,
    pub hsts: Option<bool>,
    pub hsts_max_age: Option<u64>,
    pub hsts_include_subdomains: Option<bool>,
    pub hsts_preload: Option<bool>,
    /// `DENY`, `SAMEORIGIN`, or `off`.
    pub frame_options: Option<String>,
    pub content_type_options: Option<bool>,
    pub referrer_policy: Option<String>,
    pub permissions_policy: Option<String>,
    pub cross_origin_opener_policy: Option<String>,
    pub cross_origin_resource_policy: Option<String>,
    /// Replace the upstream's own values of these headers (shield's policy wins).
    pub override_upstream: Option<bool>,
    /// Response headers removed (HDR007).
    pub remove: Option<Vec<String>>,
    /// Another CSP for some routes (the API's Swagger UI page under the api
    /// preset), first match wins.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<RouteCsp>,
}

/// One `[[shield.headers.routes]]` entry: the CSP of the routes it names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteCsp {
    /// Route patterns (`"GET /docs"`, `"GET /admin/{*rest}"`).
    pub routes: Vec<String>,
    /// The policy on these routes; `{nonce}` stands for the per-request nonce.
    pub content_security_policy: String,
    /// Inject the nonce into these routes' HTML pages (default: when the policy
    /// has a `{nonce}` source).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csp_nonce: Option<bool>,
}

impl RouteCsp {
    /// Whether shield rewrites these routes' pages to carry the nonce.
    pub fn nonce(&self) -> bool {
        self.csp_nonce
            .unwrap_or_else(|| self.content_security_policy.contains("{nonce}"))
    }
}

/// `[shield.cookies]` (CKE001-CKE003, CKE006), applied to upstream `Set-Cookie`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CookiesSettings {
    pub enabled: bool,
    /// Add `Secure` to every cookie on HTTPS responses.
    pub secure: bool,
    /// Add `HttpOnly` to session-like cookies.
    pub http_only: bool,
    /// `Lax` or `Strict`, added where a cookie has no SameSite.
    pub same_site: String,
    /// Cap `Max-Age`/`Expires` of session-like cookies (`0s`: no cap).
    pub max_age: Dur,
    /// A cookie is session-like when one of these matches a word of its name
    /// (`sid` matches `connect.sid`, not `sidebar`; `*` makes a glob over the
    /// whole name: see `layers::cookies::name_matches`).
    pub session_patterns: Vec<String>,
    /// ...unless one of these matches (CSRF tokens must stay readable by scripts).
    pub script_readable_patterns: Vec<String>,
}

impl Default for CookiesSettings {
    fn default() -> Self {
        CookiesSettings {
            enabled: true,
            secure: true,
            http_only: true,
            same_site: "Lax".into(),
            max_age: Dur::from_secs(24 * 3600),
            session_patterns: checklist::cookie_names::SESSION_PATTERNS
                .iter()
                .map(|p| p.to_string())
                .collect(),
            script_readable_patterns: checklist::cookie_names::SCRIPT_READABLE_PATTERNS
                .iter()
                .map(|p| p.to_string())
                .collect(),
        }
    }
}

/// What an upstream HTML error page becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HtmlErrors {
    /// A JSON error with the same status.
    Json,
    /// A plain generic HTML page with the same status, for a client that asks for
    /// HTML (a browser); the JSON error for any other.
    Page,
    /// Passed through (5xx with tracebacks are still replaced).
    Keep,
}

/// `[shield.errors]` (ERR002, ERR003, DBG001).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ErrorsSettings {
    /// Replace upstream 5xx bodies carrying HTML, tracebacks or debugger markers.
    pub sanitize: bool,
    /// What 4xx/5xx HTML pages become; unset follows the preset (api: json, html: page).
    pub html_errors: Option<HtmlErrors>,
    /// How much of an upstream error body is read to look for tracebacks and logged.
    pub inspect_bytes: usize,
}

impl Default for ErrorsSettings {
    fn default() -> Self {
        ErrorsSettings {
            sanitize: true,
            html_errors: None,
            inspect_bytes: 64 * 1024,
        }
    }
}

/// `[shield.timeouts]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TimeoutsSettings {
    /// A client must send its whole request head within this (slowloris).
    pub header_read: Dur,
    /// A request body must arrive within this from the end of the head, plus one
    /// second per `body_min_rate` bytes received; otherwise 408 (slow POST).
    pub body_read: Dur,
    /// Bytes per second that extend `body_read` (at least 1).
    pub body_min_rate: u64,
    /// Idle upstream connections in the pool are closed after this.
    pub idle: Dur,
    pub upstream_connect: Dur,
    /// From sending the request to the upstream's response head.
    pub upstream_response: Dur,
    /// SIGTERM: in-flight requests get this long to finish.
    pub shutdown_grace: Dur,
}

impl Default for TimeoutsSettings {
    fn default() -> Self {
        TimeoutsSettings {
            header_read: Dur::from_secs(10),
            body_read: Dur::from_secs(20),
            body_min_rate: 500,
            idle: Dur::from_secs(60),
            upstream_connect: Dur::from_secs(3),
            upstream_response: Dur::from_secs(60),
            shutdown_grace: Dur::from_secs(30),
        }
    }
}

/// `[shield.upstream_pool]`: how long a kept connection to the app lives.
///
/// A connection to the app is closed after `max_requests` requests or `max_age`,
/// whichever comes first (nginx's `keepalive_requests` and `keepalive_time`), and the
/// next request opens a new one. Besides bounding what one connection can hold on
/// to, this spreads the connections over the app's worker processes again: gunicorn
/// workers take new connections as they come (the least busy worker is usually the
/// first to accept), and without recycling a burst of connections that all went to
/// one worker would stay there as long as traffic keeps them busy, leaving the
/// other workers idle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UpstreamPoolSettings {
    /// Requests one upstream connection carries before it is closed (at least 1).
    pub max_requests: u64,
    /// Age after which an upstream connection is closed once its response is done.
    pub max_age: Dur,
}

impl Default for UpstreamPoolSettings {
    fn default() -> Self {
        UpstreamPoolSettings {
            max_requests: 1000,
            max_age: Dur::from_secs(3600),
        }
    }
}

/// `[shield.audit_log]` (OPS003).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuditLogSettings {
    /// `-` for standard output, or a file (appended).
    pub path: String,
}

impl Default for AuditLogSettings {
    fn default() -> Self {
        AuditLogSettings { path: "-".into() }
    }
}

/// `[shield.access_log]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AccessLogSettings {
    pub enabled: bool,
    pub path: String,
}

impl Default for AccessLogSettings {
    fn default() -> Self {
        AccessLogSettings {
            enabled: false,
            path: "-".into(),
        }
    }
}

/// `[shield.admin]`: `/metrics` and `/healthz`, never on the public listener.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct AdminSettings {
    /// e.g. `127.0.0.1:9901`; unset: no admin listener.
    pub listen: Option<String>,
}

impl Settings {
    /// Makes the relative file paths of a config file relative to the file's
    /// directory rather than to wherever shield was started: TLS `cert`/`key`,
    /// `limits.spill_dir`, `schema.openapi` and each `schema.routes` file,
    /// `seal.keys_file`, the audit and access log files (not `-`) and a `unix:`
    /// upstream. Absolute paths, and values given as flags, are left alone.
    pub fn resolve_paths(&mut self, base: &std::path::Path) {
        let fix = |p: &mut PathBuf| {
            if p.is_relative() && !p.as_os_str().is_empty() {
                *p = base.join(&*p);
            }
        };
        let fix_str = |p: &mut String| {
            if p != "-" && !p.is_empty() && std::path::Path::new(p.as_str()).is_relative() {
                *p = base.join(p.as_str()).display().to_string();
            }
        };
        if let Some(p) = &mut self.tls.cert {
            fix(p);
        }
        if let Some(p) = &mut self.tls.key {
            fix(p);
        }
        if let Some(p) = &mut self.limits.spill_dir {
            fix(p);
        }
        if let Some(p) = &mut self.schema.openapi {
            fix(p);
        }
        for r in &mut self.schema.routes {
            fix(&mut r.schema);
        }
        if let Some(p) = &mut self.seal.keys_file {
            fix(p);
        }
        fix_str(&mut self.audit_log.path);
        fix_str(&mut self.access_log.path);
        if let Some(sock) = self.upstream.strip_prefix("unix:") {
            if !sock.is_empty() && std::path::Path::new(sock).is_relative() {
                self.upstream = format!("unix:{}", base.join(sock).display());
            }
        }
    }

    /// The settings with every preset-dependent default filled in, as printed by
    /// `--check-config`.
    pub fn effective(&self) -> Settings {
        let mut s = self.clone();
        let html = s.headers.preset == Preset::Html;
        let h = &mut s.headers;
        h.content_security_policy.get_or_insert_with(|| {
            if html {
                "default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
                 object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'"
                    .into()
            } else {
                "default-src 'none'; frame-ancestors 'none'".into()
            }
        });
        h.csp_report_only.get_or_insert(false);
        h.csp_nonce.get_or_insert(html);
        h.hsts.get_or_insert(true);
        h.hsts_max_age.get_or_insert(31_536_000);
        h.hsts_include_subdomains.get_or_insert(true);
        h.hsts_preload.get_or_insert(false);
        h.frame_options.get_or_insert_with(|| "DENY".into());
        h.content_type_options.get_or_insert(true);
        h.referrer_policy
            .get_or_insert_with(|| "strict-origin-when-cross-origin".into());
        h.permissions_policy
            .get_or_insert_with(|| "geolocation=(), microphone=(), camera=()".into());
        h.cross_origin_opener_policy
            .get_or_insert_with(|| "same-origin".into());
        h.cross_origin_resource_policy
            .get_or_insert_with(|| "same-origin".into());
        // A page's own policy knows its inline handlers, styles and hosts; an
        // API's headers are shield's to set.
        h.override_upstream.get_or_insert(!html);
        h.remove
            .get_or_insert_with(|| vec!["Server".into(), "X-Powered-By".into()]);
        s.errors.html_errors.get_or_insert(if html {
            HtmlErrors::Page
        } else {
            HtmlErrors::Json
        });
        s
    }

    /// The effective settings as TOML, under `[shield]`.
    pub fn to_toml(&self) -> String {
        let mut root = toml::Table::new();
        let value = toml::Value::try_from(self.effective())
            .unwrap_or(toml::Value::Table(Default::default()));
        root.insert("shield".into(), value);
        let mut out = toml::to_string(&root).unwrap_or_default();
        // Optional keys that are unset do not appear in TOML; show them commented.
        let eff = self.effective();
        let unset: [(&str, bool, &str); 11] = [
            (
                "[shield.limits]\n",
                eff.limits.spill_dir.is_none(),
                "# spill_dir = \"/var/cache/flaskguard\"  (unset: the system's temporary directory)\n",
            ),
            (
                "[shield.schema]\n",
                eff.schema.openapi.is_none(),
                "# openapi = \"openapi.json\"  (unset: only [[shield.schema.routes]] are checked)\n",
            ),
            (
                "[shield.tls]\n",
                eff.tls.cert.is_none(),
                "# cert = \"/etc/ssl/site.pem\"  (unset: no TLS)\n# key = \"/etc/ssl/site.key\"\n",
            ),
            (
                "[shield.tls]\n",
                eff.tls.redirect_listen.is_none(),
                "# redirect_listen = \"0.0.0.0:80\"  (unset: no plain-HTTP redirect listener)\n",
            ),
            (
                "[shield.admin]\n",
                eff.admin.listen.is_none(),
                "# listen = \"127.0.0.1:9901\"  (unset: no /metrics or /healthz)\n",
            ),
            (
                "[shield.headers]\n",
                eff.headers.csp_nonce_placeholder.is_none(),
                "# csp_nonce_placeholder = \"…\"  (unset: every <script>/<style> gets the nonce)\n",
            ),
            (
                "[shield.headers]\n",
                eff.headers.csp_nonce_header.is_none(),
                "# csp_nonce_header = \"X-CSP-Nonce\"  (unset: shield writes the nonce into the pages)\n",
            ),
            (
                "[shield.csrf]\n",
                eff.csrf.trusted_origins.is_none(),
                "# trusted_origins = [\"https://app.example.com\"]  (unset: shield.cors.allow_origins)\n",
            ),
            (
                "[shield.seal]\n",
                eff.seal.keys_file.is_none(),
                "# keys_file = \"/etc/flaskguard/seal-keys\"  (unset: the keys are in $keys_env)\n",
            ),
            (
                "[shield.seal]\n",
                eff.seal.redis.is_none(),
                "# redis = \"redis://127.0.0.1:6379/0\"  (mode = \"server\"; unset: shield.rate_limit.storage)\n",
            ),
            (
                "[shield.rate_limit]\n",
                eff.rate_limit.rules.is_empty(),
                "# [[shield.rate_limit.rules]]  (none: the global limit and the auth rule apply)\n# name = \"orders-write\"\n# routes = [\"POST|PUT|DELETE /api/orders/{*rest}\"]\n# limit = [\"30 per minute\"]\n# keys = [\"ip\"]\n",
            ),
        ];
        for (table, is_unset, comment) in unset {
            if is_unset {
                if let Some(i) = out.find(table) {
                    out.insert_str(i + table.len(), comment);
                }
            }
        }
        if !out.ends_with('\n') {
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workers_are_a_count_or_auto() {
        let parse = |t: &str| toml::from_str::<Settings>(t).map(|s| s.workers);
        assert_eq!(parse("").unwrap(), Workers::Auto);
        assert_eq!(parse("workers = \"auto\"").unwrap(), Workers::Auto);
        assert_eq!(parse("workers = 3").unwrap(), Workers::Count(3));
        for bad in [
            "workers = 0",
            "workers = -1",
            "workers = 5000",
            "workers = \"4\"",
            "workers = 1.5",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Workers::Count(3).resolve(), 3);
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        assert_eq!(Workers::Auto.resolve(), (cpus / 2).max(1));
        let printed = toml::to_string(&Settings {
            workers: Workers::Count(2),
            ..Settings::default()
        })
        .unwrap();
        assert!(printed.contains("workers = 2"), "{printed}");
    }
}
