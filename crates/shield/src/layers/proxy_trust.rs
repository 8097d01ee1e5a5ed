//! PRX001: who the client really is.
//!
//! [`ClientResolver`] believes `Forwarded` / `X-Forwarded-For/-Proto/-Host` only as
//! far as configured proxies go: by CIDR (every trusted hop is skipped from the
//! right; the first untrusted address is the client) or by hop count (the N-th
//! address from the right, like Werkzeug's `ProxyFix(x_for=N)`). Whatever the
//! client sent is then removed and replaced by exactly one clean value per header,
//! so an app using `ProxyFix(x_for=1, x_proto=1, x_host=1)` sees the real client.
//! `X-Forwarded-Prefix` and `X-Forwarded-Port` (an app mounted under a path by
//! the front proxy: `ProxyFix(x_prefix=1, x_port=1)`) pass on only from a trusted
//! peer, as the nearest proxy's single value, and only when well-formed.

use std::net::{IpAddr, SocketAddr};

use http::{header, request, HeaderMap, HeaderName, HeaderValue};
use ipnet::IpNet;

use crate::{
    config::{ConfigError, TrustedProxies},
    context::{Context, Scheme},
    layer::{Flow, RequestLayer},
};

pub const CONTROL: &str = "PRX001";

static X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
static X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
static X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");
static X_FORWARDED_PORT: HeaderName = HeaderName::from_static("x-forwarded-port");
static X_FORWARDED_PREFIX: HeaderName = HeaderName::from_static("x-forwarded-prefix");
static X_REAL_IP: HeaderName = HeaderName::from_static("x-real-ip");

#[derive(Debug, Clone)]
enum Trust {
    Nobody,
    Hops(usize),
    Networks(Vec<IpNet>),
}

/// The PRX001 layer.
#[derive(Debug, Clone)]
pub struct ClientResolver {
    trust: Trust,
}

impl ClientResolver {
    pub fn new(cfg: &TrustedProxies) -> Result<ClientResolver, ConfigError> {
        const KEY: &str = "shield.trusted_proxies";
        let trust = match cfg {
            TrustedProxies::Hops(0) => Trust::Nobody,
            TrustedProxies::Hops(n) if *n > 16 => {
                return Err(ConfigError::new(
                    KEY,
                    format!("{n} hops is not a real proxy chain (at most 16)"),
                ))
            }
            TrustedProxies::Hops(n) => Trust::Hops(*n as usize),
            TrustedProxies::Cidrs(list) if list.is_empty() => Trust::Nobody,
            TrustedProxies::Cidrs(list) => {
                let mut nets = Vec::with_capacity(list.len());
                for (i, text) in list.iter().enumerate() {
                    let net = text
                        .parse::<IpNet>()
                        .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
                        .map_err(|_| {
                            ConfigError::new(
                                format!("{KEY}[{i}]"),
                                format!("`{text}` is not an address or CIDR"),
                            )
                        })?;
                    if net.prefix_len() == 0 {
                        return Err(ConfigError::new(
                            format!("{KEY}[{i}]"),
                            format!("`{text}` trusts every address, so any client could spoof X-Forwarded-For"),
                        ));
                    }
                    nets.push(net.trunc());
                }
                Trust::Networks(nets)
            }
        };
        Ok(ClientResolver { trust })
    }

    fn trusted(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        match &self.trust {
            Trust::Nobody => false,
            Trust::Hops(_) => true,
            Trust::Networks(nets) => nets.iter().any(|n| n.contains(&ip)),
        }
    }

    /// Resolves client, scheme and host into `cx` and rewrites the forwarding headers.
    pub fn resolve(&self, headers: &mut HeaderMap, uri_authority: Option<&str>, cx: &mut Context) {
        let spoofable = has_forwarding(headers);
        let peer_trusted = spoofable && self.trusted(cx.peer.ip());
        let mut fwd_host: Option<String> = None;
        let mut kept: [Option<HeaderValue>; 2] = [None, None];
        if peer_trusted {
            kept = [
                list(headers, &X_FORWARDED_PREFIX)
                    .pop()
                    .filter(|p| is_clean_prefix(p))
                    .and_then(|p| HeaderValue::from_str(&p).ok()),
                list(headers, &X_FORWARDED_PORT)
                    .pop()
                    .filter(|p| p.len() <= 5 && p.parse::<u16>().is_ok_and(|n| n > 0))
                    .and_then(|p| HeaderValue::from_str(&p).ok()),
            ];
            let hops = if headers.contains_key(header::FORWARDED) {
                forwarded_hops(headers)
            } else {
                xff_hops(headers)
            };
            if let Some(hop) = self.pick(&hops) {
                cx.client_ip = canonical(hop.addr);
                if !cx.own_tls {
                    if let Some(p) = hop.proto.as_deref() {
                        cx.scheme = if p.eq_ignore_ascii_case("https") {
                            Scheme::Https
                        } else {
                            Scheme::Http
                        };
                        cx.proto_from_proxy = true;
                    }
                }
                fwd_host = hop.host.clone();
            }
        } else if spoofable {
            cx.note(
                CONTROL,
                "strip",
                format!(
                    "forwarding headers from untrusted peer {} removed",
                    cx.peer.ip()
                ),
            );
        }
        let authority = fwd_host
            .or_else(|| {
                headers
                    .get(header::HOST)
                    .and_then(|h| h.to_str().ok())
                    .map(str::to_string)
            })
            .or_else(|| uri_authority.map(str::to_string));
        if let Some(a) = authority {
            let a = a.trim().to_ascii_lowercase();
            cx.host = Some(host_of(&a).to_string());
            cx.authority = Some(a);
        }
        strip(headers);
        headers.insert(X_FORWARDED_FOR.clone(), ip_value(cx.client_ip));
        headers.insert(
            X_FORWARDED_PROTO.clone(),
            HeaderValue::from_static(cx.scheme.as_str()),
        );
        if let Some(v) = cx
            .authority
            .as_deref()
            .and_then(|a| HeaderValue::from_str(a).ok())
        {
            headers.insert(X_FORWARDED_HOST.clone(), v);
        }
        let [prefix, port] = kept;
        if let Some(v) = prefix {
            headers.insert(X_FORWARDED_PREFIX.clone(), v);
        }
        if let Some(v) = port {
            headers.insert(X_FORWARDED_PORT.clone(), v);
        }
    }

    /// The client's hop: the first untrusted address from the right (CIDR mode) or
    /// the N-th from the right (hop mode). `hops` lists the forwarded addresses in
    /// order; the peer itself is not in it.
    fn pick<'a>(&self, hops: &'a [Hop]) -> Option<&'a Hop> {
        match &self.trust {
            Trust::Nobody => None,
            Trust::Hops(n) => hops.len().checked_sub(*n).and_then(|i| hops.get(i)),
            Trust::Networks(_) => {
                let mut chosen = None;
                for hop in hops.iter().rev() {
                    chosen = Some(hop);
                    if !self.trusted(hop.addr) {
                        break;
                    }
                }
                chosen
            }
        }
    }
}

impl RequestLayer for ClientResolver {
    fn name(&self) -> &'static str {
        "proxy_trust"
    }

    fn check(&self, head: &mut request::Parts, cx: &mut Context) -> Flow {
        let authority = head.uri.authority().map(|a| a.as_str().to_string());
        self.resolve(&mut head.headers, authority.as_deref(), cx);
        Flow::Continue
    }
}

/// One forwarded hop: who, and what it said about the request it received.
#[derive(Debug, Clone, PartialEq)]
struct Hop {
    addr: IpAddr,
    proto: Option<String>,
    host: Option<String>,
}

/// A path prefix a proxy may announce: absolute, made of plain path characters,
/// without dot segments or `//` (an app builds its URLs and redirects on it).
fn is_clean_prefix(p: &str) -> bool {
    p.starts_with('/')
        && p.len() <= 256
        && !p.contains("//")
        && p.split('/').all(|seg| seg != "." && seg != "..")
        && p.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'_' | b'.' | b'~' | b'%')
        })
}

fn has_forwarding(h: &HeaderMap) -> bool {
    h.contains_key(&X_FORWARDED_FOR)
        || h.contains_key(header::FORWARDED)
        || h.contains_key(&X_FORWARDED_PROTO)
        || h.contains_key(&X_FORWARDED_HOST)
        || h.contains_key(&X_FORWARDED_PORT)
        || h.contains_key(&X_FORWARDED_PREFIX)
        || h.contains_key(&X_REAL_IP)
}

fn strip(h: &mut HeaderMap) {
    for name in [
        &X_FORWARDED_FOR,
        &X_FORWARDED_PROTO,
        &X_FORWARDED_HOST,
        &X_FORWARDED_PORT,
        &X_FORWARDED_PREFIX,
        &X_REAL_IP,
    ] {
        h.remove(name);
    }
    h.remove(header::FORWARDED);
}

/// Every comma-separated value of a header, across repeated lines, trimmed.
fn list(h: &HeaderMap, name: &HeaderName) -> Vec<String> {
    h.get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

fn xff_hops(h: &HeaderMap) -> Vec<Hop> {
    // The nearest (trusted) proxy's word on proto and host: the rightmost value.
    let proto = list(h, &X_FORWARDED_PROTO).pop();
    let host = list(h, &X_FORWARDED_HOST).pop();
    let mut hops = Vec::new();
    for entry in list(h, &X_FORWARDED_FOR) {
        let Some(addr) = parse_node(&entry) else {
            // An address we cannot read ends the chain: nothing left of it is usable.
            hops.clear();
            continue;
        };
        hops.push(Hop {
            addr,
            proto: proto.clone(),
            host: host.clone(),
        });
    }
    hops
}

/// RFC 7239 `Forwarded: for=192.0.2.60;proto=https;host=example.com, for="[2001:db8::1]"`.
fn forwarded_hops(h: &HeaderMap) -> Vec<Hop> {
    let mut hops = Vec::new();
    for value in h
        .get_all(header::FORWARDED)
        .iter()
        .filter_map(|v| v.to_str().ok())
    {
        for element in split_unquoted(value, ',') {
            let mut hop = Hop {
                addr: IpAddr::from([0, 0, 0, 0]),
                proto: None,
                host: None,
            };
            let mut addr = None;
            for pair in split_unquoted(element, ';') {
                let Some((k, v)) = pair.split_once('=') else {
                    continue;
                };
                let v = v.trim().trim_matches('"');
                match k.trim().to_ascii_lowercase().as_str() {
                    "for" => addr = parse_node(v),
                    "proto" => hop.proto = Some(v.to_ascii_lowercase()),
                    "host" => hop.host = Some(v.to_string()),
                    _ => {}
                }
            }
            match addr {
                Some(a) => {
                    hop.addr = a;
                    hops.push(hop);
                }
                // `for=unknown`, an obfuscated name: the chain is broken here.
                None => hops.clear(),
            }
        }
    }
    hops
}

fn split_unquoted(s: &str, sep: char) -> Vec<&str> {
    let mut out = Vec::new();
    let mut quoted = false;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        if c == '"' {
            quoted = !quoted;
        } else if c == sep && !quoted {
            out.push(s[start..i].trim());
            start = i + 1;
        }
    }
    out.push(s[start..].trim());
    out.retain(|p| !p.is_empty());
    out
}

/// `1.2.3.4`, `1.2.3.4:567`, `[::1]:80`, `::1`.
fn parse_node(s: &str) -> Option<IpAddr> {
    let s = s.trim().trim_matches('"');
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(sa) = s.parse::<SocketAddr>() {
        return Some(sa.ip());
    }
    s.strip_prefix('[')
        .and_then(|r| r.split(']').next())
        .and_then(|ip| ip.parse().ok())
}

/// IPv4-mapped IPv6 addresses compare as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

fn ip_value(ip: IpAddr) -> HeaderValue {
    // Formatting an address cannot produce bytes a header refuses.
    HeaderValue::from_str(&ip.to_string()).unwrap_or(HeaderValue::from_static("unknown"))
}

/// `example.com:8080` -> `example.com`; `[::1]:80` -> `[::1]`.
pub fn host_of(authority: &str) -> &str {
    if authority.starts_with('[') {
        return authority.split_inclusive(']').next().unwrap_or(authority);
    }
    match authority.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => authority,
    }
}

#[cfg(test)]
mod tests {
    use http::Method;

    use super::*;

    fn cx(peer: &str) -> Context {
        Context::new(
            peer.parse().unwrap(),
            false,
            Method::GET,
            "/".parse().unwrap(),
        )
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    #[test]
    fn prefix_and_port_pass_only_from_a_trusted_proxy() {
        let r = ClientResolver::new(&TrustedProxies::Cidrs(vec!["10.0.0.0/8".into()])).unwrap();
        let sent = [
            ("host", "shop.example"),
            ("x-forwarded-for", "198.51.100.7"),
            ("x-forwarded-prefix", "/evil, /shop"),
            ("x-forwarded-port", "8443"),
        ];
        let mut h = headers(&sent);
        r.resolve(&mut h, None, &mut cx("10.0.0.2:1"));
        assert_eq!(h.get("x-forwarded-prefix").unwrap(), "/shop");
        assert_eq!(h.get_all("x-forwarded-prefix").iter().count(), 1);
        assert_eq!(h.get("x-forwarded-port").unwrap(), "8443");
        // From anyone else: removed.
        let mut h = headers(&sent);
        r.resolve(&mut h, None, &mut cx("203.0.113.9:1"));
        assert!(h.get("x-forwarded-prefix").is_none());
        assert!(h.get("x-forwarded-port").is_none());
        // Malformed values are dropped even from a trusted proxy.
        for (prefix, port) in [
            ("shop", "0"),
            ("/a/../admin", "99999"),
            ("//evil.example/x", "80a"),
            ("/a b", "-1"),
        ] {
            let mut h = headers(&[
                ("x-forwarded-for", "198.51.100.7"),
                ("x-forwarded-prefix", prefix),
                ("x-forwarded-port", port),
            ]);
            r.resolve(&mut h, None, &mut cx("10.0.0.2:1"));
            assert!(h.get("x-forwarded-prefix").is_none(), "{prefix}");
            assert!(h.get("x-forwarded-port").is_none(), "{port}");
        }
    }

    #[test]
    fn untrusted_peer_cannot_spoof() {
        let r = ClientResolver::new(&TrustedProxies::Cidrs(vec!["10.0.0.0/8".into()])).unwrap();
        let mut h = headers(&[
            ("host", "api.example.com"),
            ("x-forwarded-for", "6.6.6.6"),
            ("x-forwarded-proto", "https"),
            ("x-forwarded-host", "evil.example"),
            ("forwarded", "for=6.6.6.6"),
        ]);
        let mut c = cx("203.0.113.9:5555");
        r.resolve(&mut h, None, &mut c);
        assert_eq!(c.client_ip.to_string(), "203.0.113.9");
        assert_eq!(c.scheme, Scheme::Http);
        assert_eq!(c.host.as_deref(), Some("api.example.com"));
        assert_eq!(h.get("x-forwarded-for").unwrap(), "203.0.113.9");
        assert_eq!(h.get("x-forwarded-proto").unwrap(), "http");
        assert_eq!(h.get("x-forwarded-host").unwrap(), "api.example.com");
        assert!(h.get("forwarded").is_none());
        assert_eq!(c.events.len(), 1);
    }

    #[test]
    fn cidr_mode_skips_trusted_hops_from_the_right() {
        let r = ClientResolver::new(&TrustedProxies::Cidrs(vec![
            "10.0.0.0/8".into(),
            "127.0.0.1".into(),
        ]))
        .unwrap();
        let mut h = headers(&[
            ("host", "internal:8000"),
            ("x-forwarded-for", "6.6.6.6, 198.51.100.7"),
            ("x-forwarded-for", "10.1.2.3"),
            ("x-forwarded-proto", "https"),
            ("x-forwarded-host", "API.example.com"),
        ]);
        let mut c = cx("127.0.0.1:4000");
        r.resolve(&mut h, None, &mut c);
        assert_eq!(c.client_ip.to_string(), "198.51.100.7");
        assert_eq!(c.scheme, Scheme::Https);
        assert_eq!(c.host.as_deref(), Some("api.example.com"));
        assert_eq!(h.get_all("x-forwarded-for").iter().count(), 1);
        assert_eq!(h.get("x-forwarded-for").unwrap(), "198.51.100.7");
    }

    #[test]
    fn hop_count_takes_the_nth_from_the_right() {
        let r = ClientResolver::new(&TrustedProxies::Hops(1)).unwrap();
        let mut h = headers(&[("x-forwarded-for", "6.6.6.6, 198.51.100.7")]);
        let mut c = cx("192.0.2.1:1");
        r.resolve(&mut h, None, &mut c);
        assert_eq!(c.client_ip.to_string(), "198.51.100.7");

        let r2 = ClientResolver::new(&TrustedProxies::Hops(3)).unwrap();
        let mut h = headers(&[("x-forwarded-for", "198.51.100.7")]);
        let mut c = cx("192.0.2.1:1");
        r2.resolve(&mut h, None, &mut c);
        // Fewer entries than proxies: the chain is not what was configured.
        assert_eq!(c.client_ip.to_string(), "192.0.2.1");
    }

    #[test]
    fn rfc7239_forwarded() {
        let r = ClientResolver::new(&TrustedProxies::Cidrs(vec!["10.0.0.0/8".into()])).unwrap();
        let mut h = headers(&[(
            "forwarded",
            r#"for=6.6.6.6, for="[2001:db8::1]:4711";proto=https;host="shop.example", for=10.0.0.5;proto=http"#,
        )]);
        let mut c = cx("10.0.0.1:1");
        r.resolve(&mut h, None, &mut c);
        assert_eq!(c.client_ip.to_string(), "2001:db8::1");
        assert_eq!(c.scheme, Scheme::Https);
        assert_eq!(c.host.as_deref(), Some("shop.example"));
        let mut h = headers(&[("forwarded", "for=unknown")]);
        let mut c = cx("10.0.0.1:1");
        r.resolve(&mut h, None, &mut c);
        assert_eq!(c.client_ip.to_string(), "10.0.0.1");
    }

    #[test]
    fn refuses_trust_everyone() {
        let e = ClientResolver::new(&TrustedProxies::Cidrs(vec![
            "10.0.0.0/8".into(),
            "0.0.0.0/0".into(),
        ]))
        .unwrap_err();
        assert_eq!(e.key, "shield.trusted_proxies[1]");
        assert!(ClientResolver::new(&TrustedProxies::Cidrs(vec!["nope".into()])).is_err());
    }

    #[test]
    fn hosts_without_ports() {
        assert_eq!(host_of("a.example:8080"), "a.example");
        assert_eq!(host_of("[::1]:80"), "[::1]");
        assert_eq!(host_of("a.example"), "a.example");
    }
}
