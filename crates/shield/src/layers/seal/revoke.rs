//! `flaskguard shield revoke`: ends server-side sessions now.
//!
//! Given the cookie values as a browser holds them (`fgs1.<key id>.<…>`, with or
//! without the `session=` prefix), each is opened with the configured keys to its
//! session id, and the id's Redis key is deleted; `--all` deletes every session
//! under the prefix (after a key leak, say). The next request with a revoked
//! cookie reaches the app without a session.

use super::{
    crypto::TAG_SERVER,
    server::{self, Id},
};
use crate::config::{SealMode, Settings};

/// What a revocation did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Revoked {
    /// Sessions deleted.
    pub deleted: usize,
    /// Values that are not sessions of this shield (wrong keys, not `fgs1`, altered).
    pub not_ours: Vec<String>,
}

/// Revokes sessions. `env` reads the key variable.
pub async fn revoke(
    settings: &Settings,
    env: &dyn Fn(&str) -> Option<String>,
    values: &[String],
    all: bool,
) -> Result<Revoked, String> {
    let s = &settings.seal;
    if s.mode != SealMode::Server || s.cookies.is_empty() {
        return Err(
            "revocation needs server-side sessions: [shield.seal] cookies = [...] and mode = \"server\""
                .into(),
        );
    }
    let storage = settings.rate_limit.storage.trim();
    let url = s
        .redis
        .as_deref()
        .or((storage != "memory").then_some(storage))
        .ok_or("`shield.seal.redis` is not set")?;
    let client = crate::redis_conn::client(url)?;
    let mut out = Revoked::default();
    if all {
        out.deleted = server::revoke_all(&client, &s.key_prefix)
            .await
            .map_err(|e| format!("{}: {e}", crate::redis_conn::redact(url)))?;
        return Ok(out);
    }
    let keys = super::load_keys(s, env)
        .map_err(|e| format!("{e} (the keys are needed to read the cookies)"))?;
    let mut ids: Vec<Id> = Vec::new();
    for v in values {
        let (name_given, value) = match v.trim().split_once('=') {
            Some((n, v)) => (Some(n.trim()), v.trim()),
            None => (None, v.trim()),
        };
        let id = s
            .cookies
            .iter()
            .filter(|n| name_given.is_none_or(|g| g == n.as_str()))
            .find_map(|n| keys.open(TAG_SERVER, n, value))
            .and_then(|raw| Id::try_from(raw.as_slice()).ok());
        match id {
            Some(id) => ids.push(id),
            None => out.not_ours.push(value.chars().take(24).collect()),
        }
    }
    if !ids.is_empty() {
        out.deleted = server::revoke(&client, &s.key_prefix, &ids)
            .await
            .map_err(|e| format!("{}: {e}", crate::redis_conn::redact(url)))?;
    }
    Ok(out)
}
