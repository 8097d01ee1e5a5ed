//! Running a scan: for each target, send the plan's rounds of probes under the
//! client's limits, learn the API surface in between, follow the transport
//! redirects on the target's host only, then run the intrusive probes when asked.
//! The result is one [`Observations`] per target.

use std::time::Duration;

use tokio::task::JoinSet;

use crate::{
    active,
    client::{Client, HttpRequest},
    discover::Discovery,
    observations::{Exchange, Observations, RedirectChain, Soft404},
    plan::{self, Probe},
    target::{Endpoint, Target},
};

/// How far to follow redirects on the target's own host.
const MAX_HOPS: usize = 8;

/// Sends probes concurrently (the client's semaphore bounds how many at once) and
/// returns their exchanges in plan order.
pub async fn run(client: &Client, probes: Vec<Probe>) -> Vec<Exchange> {
    let mut set = JoinSet::new();
    for (i, probe) in probes.into_iter().enumerate() {
        let client = client.clone();
        set.spawn(async move {
            let result = client.fetch(&probe.request).await;
            (
                i,
                Exchange {
                    key: probe.key,
                    request: probe.request,
                    result,
                },
            )
        });
    }
    let mut out = Vec::new();
    while let Some(joined) = set.join_next().await {
        if let Ok(item) = joined {
            out.push(item);
        }
    }
    out.sort_by_key(|(i, _)| *i);
    out.into_iter().map(|(_, e)| e).collect()
}

/// Options for one target's scan.
#[derive(Debug, Clone, Default)]
pub struct TargetOptions {
    pub active: bool,
    pub login_paths: Vec<String>,
}

/// Scans one target. Returns None when the target's main page gets no answer at
/// all (with the reason), so the caller can decide between a diagnostic and an
/// error.
pub async fn scan_target(
    client: &Client,
    target: &Target,
    options: &TargetOptions,
) -> Result<Observations, String> {
    // The plain-HTTP entry point is judged by the transport checks; everything
    // else is probed where browsers end up.
    let entry = target;
    let upgraded = https_upgrade(client, entry).await;
    let target = upgraded.as_ref().unwrap_or(entry);
    let mut obs = Observations::new(target.clone(), options.active);
    obs.given_cookies = client.given_cookies().to_vec();
    obs.given_headers = client.given_headers().to_vec();
    let token = plan::random_token();
    let first = plan::first_round(target, &token, &options.login_paths);
    obs.exchanges = run(client, first).await;
    if let Some(Err(e)) = obs.get("main").map(|e| &e.result) {
        return Err(format!("{}: {e}", target.url));
    }
    if let Some(base) = obs.response("baseline") {
        obs.soft404 = Some(Soft404 {
            status: base.status,
            body: base.body.clone(),
            token: token.clone(),
        });
    }
    follow_main(client, &mut obs).await;
    learn(&mut obs);
    for login in &options.login_paths {
        obs.discovery.login_paths.insert(login.clone());
    }

    let seen: Vec<String> = obs
        .with_prefix("disc:")
        .map(|e| e.key["disc:".len()..].to_string())
        .collect();
    let links = plan::follow_links(target, &obs.discovery, &seen);
    obs.exchanges.extend(run(client, links).await);
    learn(&mut obs);

    let second = plan::second_round(target, &obs.discovery);
    obs.exchanges.extend(run(client, second).await);

    obs.redirects = Some(transport_chain(client, entry).await);

    if options.active {
        active::run_all(client, &mut obs).await;
    }

    if let Ok(log) = client.certs.lock() {
        obs.certs = log
            .iter()
            .filter(|c| c.server_name.eq_ignore_ascii_case(&target.endpoint.host))
            .cloned()
            .collect();
    }
    for e in &obs.exchanges {
        if let Err(crate::client::FetchError::Budget) = &e.result {
            obs.skipped.push(e.key.clone());
        }
    }
    Ok(obs)
}

/// Where an `http://` target's page ends when it redirects to HTTPS on the same
/// host (`return 301 https://$host$request_uri`, Talisman's force_https): the
/// same target over HTTPS, if that answers. Probes sent to the plain-HTTP port
/// of such a site would only ever see the redirect, and none of its files,
/// debugger paths, CORS or error pages.
async fn https_upgrade(client: &Client, target: &Target) -> Option<Target> {
    if target.endpoint.https {
        return None;
    }
    let mut endpoint = target.endpoint.clone();
    let mut path = target.path.clone();
    for _ in 0..MAX_HOPS {
        let resp = client
            .fetch(&HttpRequest::new(&endpoint, "GET", &path))
            .await
            .ok()?;
        if endpoint.https {
            return Some(Target {
                url: endpoint.url(&target.path),
                endpoint,
                path: target.path.clone(),
            });
        }
        if !resp.is_redirect() {
            return None;
        }
        let (next, next_path) = resolve(&endpoint, &path, resp.header("location")?)?;
        if !next.host.eq_ignore_ascii_case(&target.endpoint.host) {
            return None;
        }
        endpoint = next;
        path = next_path;
    }
    None
}

/// Re-learns the discovery from every `disc:` and `main` answer.
fn learn(obs: &mut Observations) {
    let host = obs.target.endpoint.host.clone();
    let mut d = Discovery::default();
    for e in obs.exchanges.iter() {
        let Some(resp) = e.response() else { continue };
        let is_disc = e.key.starts_with("disc:") || e.key == "main" || e.key == "main-final";
        if !is_disc {
            continue;
        }
        let soft = obs.is_soft404(resp, &e.request.path);
        d.learn(&e.request.path, resp, soft, &host);
    }
    d.login_paths
        .extend(obs.discovery.login_paths.iter().cloned());
    obs.discovery = d;
}

/// When the main page redirects on the same host (to `/login`, or from http to
/// https), the page a browser ends on is what headers are judged on.
async fn follow_main(client: &Client, obs: &mut Observations) {
    let mut current = match obs.get("main") {
        Some(e) => e.clone(),
        None => return,
    };
    let mut visited = vec![current.url()];
    for _ in 0..MAX_HOPS {
        let Some(resp) = current.response() else {
            return;
        };
        if !resp.is_redirect() {
            break;
        }
        let Some(next) = resp
            .header("location")
            .and_then(|l| resolve(&current.request.endpoint, &current.request.path, l))
        else {
            return;
        };
        if next.0.host != obs.target.endpoint.host || visited.contains(&next.0.url(&next.1)) {
            return;
        }
        visited.push(next.0.url(&next.1));
        let request = HttpRequest {
            endpoint: next.0,
            path: next.1,
            ..current.request.clone()
        };
        let result = client.fetch(&request).await;
        current = Exchange {
            key: "main-final".into(),
            request,
            result,
        };
    }
    if current.key == "main-final" && current.response().is_some() {
        obs.exchanges.push(current);
    }
}

/// Resolves a `Location` against the request it answered: absolute URLs,
/// scheme-relative, absolute paths and relative paths.
pub fn resolve(base: &Endpoint, base_path: &str, location: &str) -> Option<(Endpoint, String)> {
    let base_url = url::Url::parse(&base.url(base_path)).ok()?;
    let next = base_url.join(location.trim()).ok()?;
    let https = match next.scheme() {
        "http" => false,
        "https" => true,
        _ => return None,
    };
    let host = match next.host()? {
        url::Host::Domain(d) => d.to_string(),
        url::Host::Ipv4(ip) => ip.to_string(),
        url::Host::Ipv6(ip) => ip.to_string(),
    };
    let port = next.port_or_known_default()?;
    let mut path = next.path().to_string();
    if let Some(q) = next.query() {
        path.push('?');
        path.push_str(q);
    }
    Some((Endpoint { https, host, port }, path))
}

/// Follows the plain-HTTP entry point's redirects on the target's host: the
/// target itself when it is `http://`, else `http://host/` (port 80) for an
/// `https://` target on the default port. Off-host redirects are recorded, not
/// followed.
async fn transport_chain(client: &Client, target: &Target) -> RedirectChain {
    let mut chain = RedirectChain::default();
    let start = if target.endpoint.https {
        if target.endpoint.port != 443 {
            chain.no_http_port = true;
            chain.error = Some(format!(
                "no plain-HTTP port is known for {} (HTTPS on a non-default port)",
                target.endpoint.origin()
            ));
            return chain;
        }
        Endpoint {
            https: false,
            host: target.endpoint.host.clone(),
            port: 80,
        }
    } else {
        target.endpoint.clone()
    };
    let mut endpoint = start;
    let mut path = target.path.clone();
    let mut visited: Vec<String> = Vec::new();
    for _ in 0..=MAX_HOPS {
        let url = endpoint.url(&path);
        if visited.contains(&url) {
            chain.looped = true;
            return chain;
        }
        visited.push(url.clone());
        let req = HttpRequest::new(&endpoint, "GET", &path);
        let resp = match client.fetch(&req).await {
            Ok(r) => r,
            Err(e) => {
                chain.error = Some(format!("{url}: {e}"));
                return chain;
            }
        };
        let location = resp.header("location").map(str::to_string);
        chain.hops.push((url, resp.status, location.clone()));
        if !resp.is_redirect() {
            return chain;
        }
        let Some(loc) = location else { return chain };
        let Some((next, next_path)) = resolve(&endpoint, &path, &loc) else {
            chain.error = Some(format!("unusable Location `{loc}`"));
            return chain;
        };
        if !next.host.eq_ignore_ascii_case(&target.endpoint.host) {
            chain.off_host = Some(next.url(&next_path));
            return chain;
        }
        endpoint = next;
        path = next_path;
    }
    chain.error = Some(format!("more than {MAX_HOPS} redirects"));
    chain
}

/// The default per-request timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_locations() {
        let ep = Endpoint {
            https: false,
            host: "127.0.0.1".into(),
            port: 8000,
        };
        let (e, p) = resolve(&ep, "/a/b", "https://127.0.0.1/x?y=1").unwrap();
        assert!(e.https && e.port == 443 && p == "/x?y=1");
        let (e, p) = resolve(&ep, "/a/b", "c").unwrap();
        assert!(!e.https && e.port == 8000 && p == "/a/c");
        let (e, _) = resolve(&ep, "/", "//evil.example/").unwrap();
        assert_eq!(e.host, "evil.example");
        assert!(resolve(&ep, "/", "javascript:alert(1)").is_none());
    }
}
