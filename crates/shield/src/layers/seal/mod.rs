//! CKE004 (opt-in): sealed session cookies.
//!
//! The upstream's cookies named in `[shield.seal] cookies` (Flask's `session`) are
//! encrypted with XChaCha20-Poly1305 before they reach the browser and decrypted on
//! the way back in ([`crypto`] has the format), so the browser, and anyone reading
//! its cookies, sees only ciphertext. On the way in, a sealed cookie that does not
//! open (altered, sealed for another cookie, under a key no longer configured, or a
//! plain value some client made up) is dropped: the app sees no session, never an
//! error page. As a side effect the app only ever sees cookies it set itself, so a
//! weak `SECRET_KEY` can no longer be used to forge one.
//!
//! `mode = "server"` keeps the value in Redis and gives the browser a sealed random
//! id instead ([`server`]); a key delete revokes the session at once.
//!
//! Request side: [`SealOpen`], the last request layer (refused requests never pay
//! for it). Response side: [`SealClose`], before cookie hardening, so `Secure`,
//! `HttpOnly`, `SameSite` and the lifetime cap apply to the sealed cookie.

pub mod cookie;
pub mod crypto;
pub mod revoke;
pub mod server;

use std::{sync::Arc, time::SystemTime};

use http::{header, request, response, HeaderValue, StatusCode};

use self::{
    crypto::{Keys, TAG_SERVER, TAG_VALUE},
    server::{Id, ServerStore},
};
use crate::{
    config::{ConfigError, SealMode, SealSettings},
    context::Context,
    layer::{Flow, RequestLayer, ResponseLayer, Resume},
    reply::Rejection,
};

pub const CONTROL: &str = "CKE004";

/// Browsers drop cookies larger than this (name, value and attributes).
const BROWSER_LIMIT: usize = 4096;

#[derive(Debug)]
struct Inner {
    names: Vec<String>,
    keys: Keys,
    server: Option<ServerStore>,
    /// Cookie hardening's lifetime cap (it runs after sealing): a server-side session
    /// lives no longer in Redis than its cookie in the browser.
    ttl_cap: Option<std::time::Duration>,
}

/// Sealing, both halves.
#[derive(Debug, Clone)]
pub struct Seal {
    inner: Arc<Inner>,
}

impl Seal {
    /// None when no cookie is named (sealing off). `env` reads an environment
    /// variable (injected for tests). `redis_default` is the rate limit's Redis URL.
    pub fn new(
        s: &SealSettings,
        env: &dyn Fn(&str) -> Option<String>,
        redis_default: Option<&str>,
        workers: usize,
        timeout: std::time::Duration,
    ) -> Result<Option<Seal>, ConfigError> {
        if s.cookies.is_empty() {
            return Ok(None);
        }
        let mut names = Vec::new();
        for (i, n) in s.cookies.iter().enumerate() {
            let n = n.trim();
            let valid = !n.is_empty()
                && n.bytes()
                    .all(|b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?={}".contains(&b));
            if !valid {
                return Err(ConfigError::new(
                    format!("shield.seal.cookies[{i}]"),
                    format!("`{n}` is not a cookie name"),
                ));
            }
            names.push(n.to_string());
        }
        let keys = load_keys(s, env)?;
        let server = match s.mode {
            SealMode::Cookie => None,
            SealMode::Server => {
                let url = s.redis.as_deref().or(redis_default).ok_or_else(|| {
                    ConfigError::new(
                        "shield.seal.redis",
                        "mode = \"server\" needs a redis:// URL (here or in shield.rate_limit.storage)",
                    )
                })?;
                if s.key_prefix.is_empty() || s.key_prefix.contains(['{', '}', ' ']) {
                    return Err(ConfigError::new(
                        "shield.seal.key_prefix",
                        "a non-empty prefix without braces or spaces",
                    ));
                }
                Some(
                    ServerStore::new(url, workers, &s.key_prefix, s.server_ttl.get(), timeout)
                        .map_err(|e| ConfigError::new("shield.seal.redis", e))?,
                )
            }
        };
        Ok(Some(Seal {
            inner: Arc::new(Inner {
                names,
                keys,
                server,
                ttl_cap: None,
            }),
        }))
    }

    /// Caps server-side session lifetimes (cookie hardening's `max_age`).
    pub fn with_ttl_cap(mut self, cap: Option<std::time::Duration>) -> Seal {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.ttl_cap = cap;
        }
        self
    }

    pub fn request_layer(&self) -> SealOpen {
        SealOpen(self.clone())
    }

    pub fn response_layer(&self) -> SealClose {
        SealClose(self.clone())
    }

    fn sealed(&self, name: &str) -> bool {
        self.inner.names.iter().any(|n| n == name)
    }
}

/// The largest keys file read (a few hundred keys; anything larger is a mistake).
const KEYS_FILE_LIMIT: u64 = 64 * 1024;

/// The key list: from `keys_file` when it is set, else from the environment
/// variable named by `keys_env`. Called on every pipeline build, so a reload
/// re-reads the file (the environment of a running process cannot change).
pub fn load_keys(
    s: &SealSettings,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Keys, ConfigError> {
    let var = s.keys_env.trim();
    if let Some(path) = &s.keys_file {
        const KEY: &str = "shield.seal.keys_file";
        if env(var).is_some_and(|v| !v.trim().is_empty()) {
            return Err(ConfigError::new(
                KEY,
                format!("${var} (shield.seal.keys_env) is set too: keep the keys in one place (unset the variable, or drop keys_file)"),
            ));
        }
        let text = read_keys_file(path).map_err(|e| ConfigError::new(KEY, e))?;
        return Keys::parse(&text)
            .map_err(|e| ConfigError::new(KEY, format!("{}: {e}", path.display())));
    }
    let text = env(var).ok_or_else(|| {
        ConfigError::new(
            "shield.seal.keys_env",
            format!("sealing is on but ${var} is not set; put `id:base64key` there (a 32-byte key: openssl rand -base64 32), or set shield.seal.keys_file"),
        )
    })?;
    Keys::parse(&text).map_err(|e| ConfigError::new("shield.seal.keys_env", format!("${var}: {e}")))
}

/// A keys file's list as `Keys::parse` reads it: entries separated by commas or
/// newlines, lines starting with `#` ignored. Refused when every user may read or
/// write it: the keys open (and forge) every sealed session.
fn read_keys_file(path: &std::path::Path) -> Result<String, String> {
    use std::io::Read;
    let shown = path.display();
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
    let meta = file
        .metadata()
        .map_err(|e| format!("cannot read {shown}: {e}"))?;
    if !meta.is_file() {
        return Err(format!("{shown} is not a regular file"));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o006 != 0 {
            return Err(format!(
                "{shown} can be read or written by every user (mode {mode:03o}): chmod 600, or 640 with shield's group"
            ));
        }
    }
    let mut text = String::new();
    file.take(KEYS_FILE_LIMIT + 1)
        .read_to_string(&mut text)
        .map_err(|e| format!("cannot read {shown}: {e}"))?;
    if text.len() as u64 > KEYS_FILE_LIMIT {
        return Err(format!(
            "{shown} is larger than {KEYS_FILE_LIMIT} bytes; it should hold only the key list"
        ));
    }
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#'))
        .collect::<Vec<_>>()
        .join(","))
}

/// Request half: opens sealed cookies in `Cookie`.
#[derive(Debug, Clone)]
pub struct SealOpen(Seal);

fn rebuild(head: &mut request::Parts, kept: &[(String, String)]) {
    head.headers.remove(header::COOKIE);
    if kept.is_empty() {
        return;
    }
    let joined = kept
        .iter()
        .map(|(n, v)| format!("{n}={v}"))
        .collect::<Vec<_>>()
        .join("; ");
    if let Ok(v) = HeaderValue::from_str(&joined) {
        head.headers.insert(header::COOKIE, v);
    }
}

impl RequestLayer for SealOpen {
    fn name(&self) -> &'static str {
        "seal"
    }

    fn check(&self, head: &mut request::Parts, cx: &mut Context) -> Flow {
        let seal = &self.0;
        let lines: Vec<&str> = head
            .headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        let pairs = cookie::pairs(lines.into_iter());
        if !pairs.iter().any(|(n, _)| seal.sealed(n)) {
            return Flow::Continue;
        }
        let server = seal.inner.server.is_some();
        let mut kept: Vec<(String, String)> = Vec::with_capacity(pairs.len());
        let mut lookups: Vec<(String, Id)> = Vec::new();
        let mut dropped: Vec<String> = Vec::new();
        for (name, value) in pairs {
            if !seal.sealed(name) {
                kept.push((name.to_string(), value.to_string()));
                continue;
            }
            let tag = if server { TAG_SERVER } else { TAG_VALUE };
            let opened = seal.inner.keys.open(tag, name, value);
            match (opened, server) {
                (Some(plain), false) => match String::from_utf8(plain) {
                    Ok(v) if HeaderValue::from_str(&v).is_ok() => kept.push((name.to_string(), v)),
                    _ => dropped.push(name.to_string()),
                },
                (Some(id), true) => match Id::try_from(id.as_slice()) {
                    Ok(id) => lookups.push((name.to_string(), id)),
                    Err(_) => dropped.push(name.to_string()),
                },
                (None, _) => dropped.push(name.to_string()),
            }
        }
        for name in &dropped {
            cx.note(
                CONTROL,
                "drop",
                format!("cookie `{name}` is not a sealed value of ours (altered, foreign, or sealed with a retired key): dropped"),
            );
        }
        let Some(store) = &seal.inner.server else {
            rebuild(head, &kept);
            return Flow::Continue;
        };
        if lookups.is_empty() {
            rebuild(head, &kept);
            return Flow::Continue;
        }
        let ids: Vec<Id> = lookups.iter().map(|(_, id)| *id).collect();
        let fetch = store.fetch(cx.worker, &ids);
        Flow::Wait(Box::pin(async move {
            let values = fetch.await;
            let resume: Resume = Box::new(move |head, cx| {
                let mut kept = kept;
                match values {
                    Ok(values) => {
                        for ((name, id), v) in lookups.into_iter().zip(values) {
                            match v {
                                Some(v) if HeaderValue::from_str(&v).is_ok() => {
                                    cx.session_ids.push((name.clone(), hex(&id)));
                                    kept.push((name, v));
                                }
                                // Expired or revoked: the app sees no session.
                                _ => cx.count(CONTROL, "session_unknown"),
                            }
                        }
                    }
                    Err(e) => cx.note(
                        CONTROL,
                        "storage_error",
                        format!("session store unavailable ({e}): the request goes on without its session"),
                    ),
                }
                rebuild(head, &kept);
                Ok(())
            });
            resume
        }))
    }
}

fn hex(id: &Id) -> String {
    id.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Id> {
    let mut id = [0u8; 32];
    if s.len() != 64 {
        return None;
    }
    for (i, out) in id.iter_mut().enumerate() {
        *out = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(id)
}

/// Response half: seals the app's cookies in `Set-Cookie`.
#[derive(Debug, Clone)]
pub struct SealClose(Seal);

impl ResponseLayer for SealClose {
    fn name(&self) -> &'static str {
        "seal"
    }

    fn apply(&self, head: &mut response::Parts, cx: &mut Context) {
        let seal = &self.0;
        if !head.headers.contains_key(header::SET_COOKIE) {
            return;
        }
        let now = SystemTime::now();
        let mut out: Vec<HeaderValue> = Vec::new();
        let mut changed = false;
        for v in head.headers.get_all(header::SET_COOKIE).iter() {
            let Some((name, value, attrs)) = v.to_str().ok().and_then(cookie::split_set_cookie)
            else {
                out.push(v.clone());
                continue;
            };
            if !seal.sealed(name) {
                out.push(v.clone());
                continue;
            }
            let old = cx
                .session_ids
                .iter()
                .find(|(n, _)| n == name)
                .and_then(|(_, id)| unhex(id));
            if cookie::is_deletion(value, attrs, now) {
                if let (Some(store), Some(old)) = (&seal.inner.server, old) {
                    let task = store.delete(cx.worker, old);
                    cx.defer(Box::pin(ignore(task)));
                }
                out.push(v.clone());
                continue;
            }
            let sealed = match &seal.inner.server {
                None => seal.inner.keys.seal(TAG_VALUE, name, value.as_bytes()),
                Some(store) => server::new_id().and_then(|id| {
                    let sealed = seal.inner.keys.seal(TAG_SERVER, name, &id)?;
                    let ttl = match (cookie::lifetime(attrs, now), seal.inner.ttl_cap) {
                        (Some(t), Some(cap)) => Some(t.min(cap)),
                        (None, cap) => cap,
                        (t, None) => t,
                    };
                    let task = store.store(cx.worker, id, value.to_string(), ttl, old);
                    cx.defer(Box::pin(async move {
                        task.await.map_err(|e| {
                            Rejection::new(
                                StatusCode::SERVICE_UNAVAILABLE,
                                "session_store_unavailable",
                                "the session could not be saved; try again",
                                CONTROL,
                                format!("server-side session not stored: {e}"),
                            )
                        })
                    }));
                    Some(sealed)
                }),
            };
            let Some(sealed) = sealed else {
                // No randomness or a cipher failure: never send the plain value.
                cx.note(
                    CONTROL,
                    "strip",
                    format!("cookie `{name}` could not be sealed: not sent"),
                );
                changed = true;
                continue;
            };
            let line = format!("{name}={sealed}{attrs}");
            if line.len() > BROWSER_LIMIT {
                cx.note(
                    CONTROL,
                    "oversize",
                    format!("sealed cookie `{name}` is {} bytes; browsers drop cookies over {BROWSER_LIMIT} (use mode = \"server\")", line.len()),
                );
            }
            match HeaderValue::from_str(&line) {
                Ok(h) => out.push(h),
                Err(_) => cx.note(
                    CONTROL,
                    "strip",
                    format!("cookie `{name}`: unusable attributes, not sent"),
                ),
            }
            changed = true;
        }
        if changed {
            head.headers.remove(header::SET_COOKIE);
            for v in out {
                head.headers.append(header::SET_COOKIE, v);
            }
        }
    }
}

/// A delete whose failure only costs the session's natural expiry.
async fn ignore(f: impl std::future::Future<Output = Result<(), String>>) -> Result<(), Rejection> {
    let _ = f.await;
    Ok(())
}

#[cfg(test)]
mod tests;
