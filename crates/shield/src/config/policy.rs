//! The policy tables of `[shield]`: `rate_limit` (RL001-RL005), `cors`
//! (COR001-COR003), `csrf` (CSR001) and `seal` (CKE004).
//!
//! Like the rest of the section these are the raw serde forms; each layer's
//! constructor validates its table and reports errors with the full key path.

use std::path::PathBuf;

use serde::{de, Deserialize, Deserializer, Serialize};

use super::Dur;

/// A list written either as one string or as a list of strings
/// (`limit = "10 per minute"` or `limit = ["10 per minute", "100 per hour"]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
#[serde(transparent)]
pub struct StringList(pub Vec<String>);

impl StringList {
    pub fn of(items: &[&str]) -> StringList {
        StringList(items.iter().map(|s| s.to_string()).collect())
    }
}

impl std::ops::Deref for StringList {
    type Target = Vec<String>;
    fn deref(&self) -> &Vec<String> {
        &self.0
    }
}

impl<'de> Deserialize<'de> for StringList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<StringList, D::Error> {
        struct V;
        impl<'de> de::Visitor<'de> for V {
            type Value = StringList;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string or a list of strings")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<StringList, E> {
                Ok(StringList(vec![v.to_string()]))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<StringList, A::Error> {
                let mut out = Vec::new();
                while let Some(s) = seq.next_element::<String>()? {
                    out.push(s);
                }
                Ok(StringList(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// What a rate limit does when its Redis storage does not answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum OnStorageError {
    /// Decide with the local in-memory limiter (same limits, this instance's counts),
    /// log the outage once and count every local decision.
    #[default]
    FailOpen,
    /// Answer 503 until Redis is back.
    FailClosed,
}

/// When responses carry `RateLimit-Policy` / `RateLimit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum RateLimitHeaders {
    /// Allowed and limited responses.
    #[default]
    Always,
    /// Only 429 responses.
    WhenLimited,
    /// Never (429 responses still carry `Retry-After`).
    Never,
}

/// `[shield.rate_limit]` (RL001-RL005).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimitSettings {
    pub enabled: bool,
    /// `"memory"` (one counter per key for every upstream worker, in this process) or
    /// a `redis://` / `rediss://` URL shared by several shield instances.
    pub storage: String,
    pub on_storage_error: OnStorageError,
    pub headers: RateLimitHeaders,
    /// Limits every client gets across all routes (each limit is its own counter).
    pub global_limit: StringList,
    /// What identifies a client for the global limit (`ip` by default).
    pub global_keys: StringList,
    /// The most keys the in-memory store holds; beyond it, expired and then the
    /// nearest-to-replenished counters are evicted.
    pub max_keys: usize,
    /// How much of a request body is read for `json:` / `form:` / `body:` keys.
    pub body_limit: usize,
    /// Per Redis decision: connect and answer within this, or fall back.
    pub redis_timeout: Dur,
    /// While Redis is down, one request per interval tries it again.
    pub redis_retry_interval: Dur,
    /// Prefix of the Redis keys (`fg:rl:{<hash>}`).
    pub key_prefix: String,
    /// The built-in rule for authentication routes, tried after `rules`.
    pub auth: AuthRuleSettings,
    /// Per-route rules, first match wins.
    pub rules: Vec<RuleSettings>,
}

impl Default for RateLimitSettings {
    fn default() -> Self {
        RateLimitSettings {
            enabled: true,
            storage: "memory".into(),
            on_storage_error: OnStorageError::FailOpen,
            headers: RateLimitHeaders::Always,
            global_limit: StringList::of(&["1200 per minute"]),
            global_keys: StringList::of(&["ip"]),
            max_keys: 200_000,
            body_limit: 64 * 1024,
            redis_timeout: Dur::from_millis(200),
            redis_retry_interval: Dur::from_secs(1),
            key_prefix: "fg:rl".into(),
            auth: AuthRuleSettings::default(),
            rules: Vec::new(),
        }
    }
}

/// `[shield.rate_limit.auth]`: credential endpoints recognised by their path.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthRuleSettings {
    pub enabled: bool,
    /// Methods that submit credentials.
    pub methods: Vec<String>,
    /// A path segment (compared case-insensitively, without a `.json`-style
    /// extension) equal to one of these marks an authentication route. Two words
    /// joined by `/` match two consecutive segments (`password/reset`).
    pub path_words: Vec<String>,
    pub limit: StringList,
    /// One counter per key: the client and the account named in the body.
    pub keys: StringList,
}

impl Default for AuthRuleSettings {
    fn default() -> Self {
        AuthRuleSettings {
            enabled: true,
            methods: ["POST", "PUT", "PATCH"].map(String::from).to_vec(),
            path_words: [
                "login",
                "signin",
                "sign-in",
                "sign_in",
                "logon",
                "authenticate",
                "token",
                "register",
                "signup",
                "sign-up",
                "sign_up",
                "forgot-password",
                "forgot_password",
                "reset-password",
                "reset_password",
                "password-reset",
                "password_reset",
                "password/reset",
                "password/forgot",
                "2fa",
                "mfa",
                "otp",
            ]
            .map(String::from)
            .to_vec(),
            limit: StringList::of(&["10 per minute", "50 per hour"]),
            keys: StringList::of(&["ip", "body:email|username|login|user"]),
        }
    }
}

/// One `[[shield.rate_limit.rules]]` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct RuleSettings {
    /// Names the rule in `RateLimit-Policy`, logs and counter keys (default `rule<N>`).
    pub name: Option<String>,
    /// Route patterns: `"DELETE /orders/{id}"`, `"POST|PUT /api/{*rest}"`.
    pub routes: StringList,
    /// `"10 per minute"`, `"200/hour"`, `"5/30s"`; several limits, several counters.
    pub limit: StringList,
    /// Each key is its own counter (`["ip", "json:email"]`: per IP AND per account);
    /// `+` combines parts into one counter (`"ip+header:x-api-key"`). Default `ip`.
    pub keys: StringList,
    /// What one request costs (default 1).
    pub cost: Option<u32>,
}

/// `[shield.cors]` (COR001-COR003).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CorsSettings {
    /// Exact origins (`https://app.example.com`) and subdomain patterns
    /// (`https://*.example.com`). Empty: no cross-origin access at all.
    pub allow_origins: Vec<String>,
    pub allow_methods: Vec<String>,
    pub allow_headers: Vec<String>,
    pub expose_headers: Vec<String>,
    pub allow_credentials: bool,
    /// How long browsers may cache a preflight answer.
    pub max_age: Dur,
    /// Per-route overrides, first match wins.
    pub routes: Vec<CorsRouteSettings>,
}

impl Default for CorsSettings {
    fn default() -> Self {
        CorsSettings {
            allow_origins: Vec::new(),
            allow_methods: ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]
                .map(String::from)
                .to_vec(),
            allow_headers: ["Content-Type", "Authorization", "X-Requested-With"]
                .map(String::from)
                .to_vec(),
            expose_headers: [
                "RateLimit",
                "RateLimit-Policy",
                "Retry-After",
                "X-Request-Id",
            ]
            .map(String::from)
            .to_vec(),
            allow_credentials: false,
            max_age: Dur::from_secs(600),
            routes: Vec::new(),
        }
    }
}

/// One `[[shield.cors.routes]]` entry; unset keys inherit `[shield.cors]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct CorsRouteSettings {
    pub routes: StringList,
    pub allow_origins: Option<Vec<String>>,
    pub allow_methods: Option<Vec<String>>,
    pub allow_headers: Option<Vec<String>>,
    pub expose_headers: Option<Vec<String>>,
    pub allow_credentials: Option<bool>,
    pub max_age: Option<Dur>,
    /// `false`: a public route. shield removes `Cookie` from its requests and
    /// `Set-Cookie` from its responses, which is what makes `allow_origins = ["*"]`
    /// acceptable here. Every other route sees cookies.
    pub cookies: Option<bool>,
}

/// CSRF enforcement mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum CsrfMode {
    /// Refuse cross-origin unsafe requests (403).
    #[default]
    Enforce,
    /// Let them through and write the audit line they would have caused.
    LogOnly,
}

/// `[shield.csrf]` (CSR001).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CsrfSettings {
    pub enabled: bool,
    pub mode: CsrfMode,
    /// Origins whose cross-origin unsafe requests are allowed. Unset: the CORS
    /// allow-list (`shield.cors.allow_origins`).
    pub trusted_origins: Option<Vec<String>>,
    /// Routes not checked (webhooks signed by their sender): `"POST /hooks/{name}"`.
    pub bypass_routes: Vec<String>,
}

impl Default for CsrfSettings {
    fn default() -> Self {
        CsrfSettings {
            enabled: true,
            mode: CsrfMode::Enforce,
            trusted_origins: None,
            bypass_routes: Vec::new(),
        }
    }
}

/// Where sealed session values live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SealMode {
    /// The cookie carries the encrypted value.
    #[default]
    Cookie,
    /// The cookie carries a random id; the value lives in Redis.
    Server,
}

/// `[shield.seal]` (CKE004), off unless `cookies` names at least one cookie.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SealSettings {
    /// Upstream cookies to seal (Flask's is `session`). Empty: sealing is off.
    pub cookies: Vec<String>,
    pub mode: SealMode,
    /// The environment variable holding the keys: `id:base64key[,id:base64key…]`,
    /// 32-byte keys, the first one seals, every one opens (rotation).
    pub keys_env: String,
    /// A file holding the keys instead (same list; commas or newlines between
    /// entries, `#` comment lines), re-read on every reload so keys rotate without
    /// a restart. Not readable or writable by every user; the variable named by
    /// `keys_env` must then be unset or empty.
    pub keys_file: Option<PathBuf>,
    /// `server` mode: the Redis URL (default: `shield.rate_limit.storage` when that
    /// is Redis).
    pub redis: Option<String>,
    /// `server` mode: how long a session without `Max-Age`/`Expires` lives in Redis.
    pub server_ttl: Dur,
    /// `server` mode: prefix of the Redis keys.
    pub key_prefix: String,
}

impl Default for SealSettings {
    fn default() -> Self {
        SealSettings {
            cookies: Vec::new(),
            mode: SealMode::Cookie,
            keys_env: "FLASKGUARD_SEAL_KEYS".into(),
            keys_file: None,
            redis: None,
            server_ttl: Dur::from_secs(24 * 3600),
            key_prefix: "fg:sess".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_or_list() {
        #[derive(Deserialize)]
        struct T {
            a: StringList,
            b: StringList,
        }
        let t: T = toml::from_str("a = \"x\"\nb = [\"y\", \"z\"]").unwrap();
        assert_eq!(t.a.0, ["x"]);
        assert_eq!(t.b.0, ["y", "z"]);
        let e = toml::from_str::<T>("a = 1\nb = []")
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("a string or a list of strings"), "{e}");
    }
}
