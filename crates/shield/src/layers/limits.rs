//! INP003: request size limits, and request framing a proxy must not pass on.
//!
//! URI length (414), header block size and count (431) and a declared body length
//! over the limit (413) are refused before anything reaches the upstream; a body
//! without a declared length is counted while it streams (see `body::ReqBody`).
//! Ambiguous framing (`Content-Length` with `Transfer-Encoding`, several
//! `Content-Length` values, a transfer coding other than `chunked`) is the stuff of
//! request smuggling: refused with 400 and the connection closed.
//! hyper's own parser already refuses obs-fold, bad chunk sizes and heads larger
//! than its buffer.
//!
//! `[[shield.limits.routes]]` gives some routes another body limit (an upload route
//! a larger one, a login route a smaller one); the first entry naming the request's
//! route wins, and the limit chosen is kept in the context for the body's streaming
//! count. Layers that buffer a body (the JSON check) still read at most the global
//! limit: a larger body on such a route streams on unchecked.
//!
//! `request_buffering` (on by default, per route too) has the pipeline read each
//! body whole before the request goes upstream: see `Pipeline::buffer_body`.

use http::{header, request, StatusCode};

use crate::{
    config::{ConfigError, LimitsSettings},
    context::Context,
    layer::{Flow, RequestLayer},
    reply::Rejection,
    route::RouteSet,
};

pub const CONTROL: &str = "INP003";

/// The INP003 layer.
#[derive(Debug, Clone)]
pub struct SizeLimits {
    /// The body limit of routes no `[[shield.limits.routes]]` entry names.
    pub max_body: u64,
    pub max_header_bytes: usize,
    pub max_headers: usize,
    pub max_uri: usize,
    /// Whether bodies are read whole before the request goes upstream.
    pub request_buffering: bool,
    /// How far a response is read ahead of the client, bytes (0: off).
    pub response_buffer: usize,
    /// Memory all buffered bodies may hold at once.
    pub buffer_memory: u64,
    /// Where responses go past `response_buffer` (None: off).
    pub spill: Option<SpillLimits>,
    /// Per-route body limits and buffering, tried in order (unset: the global).
    route_bodies: Vec<(RouteSet, Option<u64>, Option<bool>)>,
}

/// `response_spill_bytes`, `spill_disk_bytes` and `spill_dir`, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct SpillLimits {
    pub dir: std::path::PathBuf,
    pub per_response: u64,
    pub disk: u64,
}

const GIB: u64 = 1024 * 1024 * 1024;

fn body_limit_in_range(n: u64, key: String) -> Result<u64, ConfigError> {
    if n == 0 || n > 4 * GIB {
        return Err(ConfigError::new(key, "must be between 1 byte and 4 GiB"));
    }
    Ok(n)
}

impl SizeLimits {
    pub fn new(cfg: &LimitsSettings) -> Result<SizeLimits, ConfigError> {
        body_limit_in_range(cfg.max_body_bytes, "shield.limits.max_body_bytes".into())?;
        let mut route_bodies = Vec::with_capacity(cfg.routes.len());
        for (i, entry) in cfg.routes.iter().enumerate() {
            let key = format!("shield.limits.routes[{i}]");
            if entry.routes.is_empty() {
                return Err(ConfigError::new(
                    format!("{key}.routes"),
                    "names no route (e.g. routes = [\"POST /uploads\"])",
                ));
            }
            let set = RouteSet::new(&entry.routes)
                .map_err(|(j, m)| ConfigError::new(format!("{key}.routes[{j}]"), m))?;
            if entry.max_body_bytes.is_none() && entry.request_buffering.is_none() {
                return Err(ConfigError::new(
                    key,
                    "sets neither max_body_bytes nor request_buffering",
                ));
            }
            let max = entry
                .max_body_bytes
                .map(|n| body_limit_in_range(n, format!("{key}.max_body_bytes")))
                .transpose()?;
            route_bodies.push((set, max, entry.request_buffering));
        }
        if cfg.response_buffer_bytes != 0 && !(64 * 1024..=GIB).contains(&cfg.response_buffer_bytes)
        {
            return Err(ConfigError::new(
                "shield.limits.response_buffer_bytes",
                "must be 0 (off) or between 64 KiB and 1 GiB",
            ));
        }
        if cfg.buffer_memory_bytes < cfg.max_body_bytes.min(1024 * 1024) {
            return Err(ConfigError::new(
                "shield.limits.buffer_memory_bytes",
                "must hold at least one body of max_body_bytes (or 1 MiB, whichever is less)",
            ));
        }
        let spill = if cfg.response_buffer_bytes != 0 && cfg.response_spill_bytes != 0 {
            if cfg.response_spill_bytes < 1024 * 1024 {
                return Err(ConfigError::new(
                    "shield.limits.response_spill_bytes",
                    "must be 0 (off) or at least 1 MiB",
                ));
            }
            if cfg.spill_disk_bytes < cfg.response_spill_bytes {
                return Err(ConfigError::new(
                    "shield.limits.spill_disk_bytes",
                    "must hold at least one response of response_spill_bytes",
                ));
            }
            let dir = cfg.spill_dir.clone().unwrap_or_else(std::env::temp_dir);
            if let Err(e) = tempfile::tempfile_in(&dir) {
                let which = if cfg.spill_dir.is_some() {
                    ""
                } else {
                    " (unset, so the temporary directory)"
                };
                return Err(ConfigError::new(
                    "shield.limits.spill_dir",
                    format!(
                        "cannot create a file in {}{which}: {e}; set spill_dir to a writable directory, or response_spill_bytes = 0",
                        dir.display()
                    ),
                ));
            }
            Some(SpillLimits {
                dir,
                per_response: cfg.response_spill_bytes,
                disk: cfg.spill_disk_bytes,
            })
        } else {
            None
        };
        if !(1024..=1024 * 1024).contains(&cfg.max_header_bytes) {
            return Err(ConfigError::new(
                "shield.limits.max_header_bytes",
                "must be between 1 KiB and 1 MiB",
            ));
        }
        if !(8..=1000).contains(&cfg.max_headers) {
            return Err(ConfigError::new(
                "shield.limits.max_headers",
                "must be between 8 and 1000",
            ));
        }
        if !(256..=1024 * 1024).contains(&cfg.max_uri_bytes) {
            return Err(ConfigError::new(
                "shield.limits.max_uri_bytes",
                "must be between 256 bytes and 1 MiB",
            ));
        }
        Ok(SizeLimits {
            max_body: cfg.max_body_bytes,
            max_header_bytes: cfg.max_header_bytes,
            max_headers: cfg.max_headers,
            max_uri: cfg.max_uri_bytes,
            request_buffering: cfg.request_buffering,
            response_buffer: usize::try_from(cfg.response_buffer_bytes).unwrap_or(usize::MAX),
            buffer_memory: cfg.buffer_memory_bytes,
            spill,
            route_bodies,
        })
    }

    /// The body limit of a request and whether its body is buffered: its route's,
    /// or the global ones.
    pub fn body_rules_for(&self, method: &http::Method, path: &str) -> (u64, bool) {
        match self
            .route_bodies
            .iter()
            .find(|(set, _, _)| set.matches(method, path))
        {
            Some((_, max, buffer)) => (
                max.unwrap_or(self.max_body),
                buffer.unwrap_or(self.request_buffering),
            ),
            None => (self.max_body, self.request_buffering),
        }
    }

    /// The body limit of a request: its route's, or the global one.
    pub fn max_body_for(&self, method: &http::Method, path: &str) -> u64 {
        self.body_rules_for(method, path).0
    }

    /// The buffer hyper may use for a request head: large enough that our own limit
    /// (with its JSON answer) fires first.
    pub fn parser_buffer(&self) -> usize {
        (self.max_header_bytes + self.max_uri + 1024).max(16 * 1024) * 2
    }

    /// HTTP/2's `SETTINGS_MAX_HEADER_LIST_SIZE`. HPACK decodes a header list to
    /// name + value + 32 bytes per field, pseudo-headers (`:path` carries the URI)
    /// included; a request at our limits fits twice over, so shield's own 431 JSON
    /// answers first and only a far larger list is refused by the h2 layer.
    pub fn h2_header_list_size(&self) -> u32 {
        let at_limits = self.max_header_bytes + self.max_uri + 32 * (self.max_headers + 8) + 1024;
        u32::try_from(at_limits.max(16 * 1024) * 2).unwrap_or(u32::MAX)
    }
}

/// The 400 for ambiguous framing (request smuggling); the connection is closed.
pub fn framing_rejection(reason: &'static str) -> Rejection {
    Rejection::new(
        StatusCode::BAD_REQUEST,
        "bad_framing",
        "the request framing is ambiguous",
        CONTROL,
        reason,
    )
    .closing()
}

fn framing(reason: &'static str) -> Flow {
    Flow::Reject(framing_rejection(reason))
}

impl RequestLayer for SizeLimits {
    fn name(&self) -> &'static str {
        "limits"
    }

    fn check(&self, head: &mut request::Parts, cx: &mut Context) -> Flow {
        let (max_body, buffer) = if self.route_bodies.is_empty() {
            (self.max_body, self.request_buffering)
        } else {
            self.body_rules_for(&head.method, head.uri.path())
        };
        cx.max_body = Some(max_body);
        cx.buffer_body = buffer;
        let uri_len = head.uri.path_and_query().map_or(1, |p| p.as_str().len());
        if uri_len > self.max_uri {
            return Flow::Reject(Rejection::new(
                StatusCode::URI_TOO_LONG,
                "uri_too_long",
                format!("the request target is longer than {} bytes", self.max_uri),
                CONTROL,
                format!("URI of {uri_len} bytes"),
            ));
        }
        let count = head.headers.len();
        let bytes: usize = head
            .headers
            .iter()
            .map(|(k, v)| k.as_str().len() + v.len() + 4)
            .sum();
        if count > self.max_headers || bytes > self.max_header_bytes {
            return Flow::Reject(
                Rejection::new(
                    StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                    "headers_too_large",
                    format!(
                        "at most {} header fields and {} bytes of headers",
                        self.max_headers, self.max_header_bytes
                    ),
                    CONTROL,
                    format!("{count} header fields, {bytes} bytes"),
                )
                .closing(),
            );
        }
        let te = head.headers.get_all(header::TRANSFER_ENCODING);
        let has_te = te.iter().next().is_some();
        let mut cls = head.headers.get_all(header::CONTENT_LENGTH).iter();
        let cl = cls.next();
        if cls.next().is_some() {
            return framing("several Content-Length headers");
        }
        if has_te {
            if cl.is_some() {
                return framing("both Content-Length and Transfer-Encoding");
            }
            let only_chunked = te.iter().count() == 1
                && te
                    .iter()
                    .next()
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.trim().eq_ignore_ascii_case("chunked"));
            if !only_chunked {
                return framing("a transfer coding other than `chunked`");
            }
        }
        if let Some(cl) = cl {
            let Some(n) = cl.to_str().ok().and_then(|s| s.trim().parse::<u64>().ok()) else {
                return framing("Content-Length is not a number");
            };
            if n > max_body {
                return Flow::Reject(
                    Rejection::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "payload_too_large",
                        format!("the request body is larger than {max_body} bytes"),
                        CONTROL,
                        format!("declared body of {n} bytes"),
                    )
                    .closing(),
                );
            }
        }
        Flow::Continue
    }
}

/// The 413 for a body that broke the limit while streaming or being buffered.
pub fn too_large(max: u64) -> Rejection {
    Rejection::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        format!("the request body is larger than {max} bytes"),
        CONTROL,
        "body exceeded the limit while streaming",
    )
    .closing()
}

#[cfg(test)]
mod tests {
    use http::Method;

    use super::*;

    fn run(l: &SizeLimits, req: http::Request<()>) -> Option<Rejection> {
        let (mut head, _) = req.into_parts();
        let mut cx = Context::for_test(Method::GET);
        match l.check(&mut head, &mut cx) {
            Flow::Reject(r) => Some(r),
            _ => None,
        }
    }

    #[test]
    fn limits_and_framing() {
        let l = SizeLimits::new(&LimitsSettings {
            max_body_bytes: 100,
            max_header_bytes: 2048,
            max_headers: 10,
            max_uri_bytes: 300,
            routes: Vec::new(),
            ..LimitsSettings::default()
        })
        .unwrap();
        let ok = http::Request::post("/a")
            .header("content-length", "100")
            .body(())
            .unwrap();
        assert!(run(&l, ok).is_none());
        let big = http::Request::post("/a")
            .header("content-length", "101")
            .body(())
            .unwrap();
        assert_eq!(run(&l, big).unwrap().status, 413);
        let long = http::Request::get(format!("/{}", "a".repeat(400)))
            .body(())
            .unwrap();
        assert_eq!(run(&l, long).unwrap().status, 414);
        let mut many = http::Request::get("/");
        for i in 0..11 {
            many = many.header(format!("x-h{i}"), "v");
        }
        assert_eq!(run(&l, many.body(()).unwrap()).unwrap().status, 431);
        let fat = http::Request::get("/")
            .header("x", "v".repeat(3000))
            .body(())
            .unwrap();
        assert_eq!(run(&l, fat).unwrap().status, 431);
        let both = http::Request::post("/")
            .header("content-length", "3")
            .header("transfer-encoding", "chunked")
            .body(())
            .unwrap();
        assert!(run(&l, both).unwrap().close);
        let dup = http::Request::post("/")
            .header("content-length", "3")
            .header("content-length", "3")
            .body(())
            .unwrap();
        assert_eq!(run(&l, dup).unwrap().code, "bad_framing");
        let gz = http::Request::post("/")
            .header("transfer-encoding", "gzip, chunked")
            .body(())
            .unwrap();
        assert_eq!(run(&l, gz).unwrap().code, "bad_framing");
    }

    #[test]
    fn h2_header_list_holds_any_request_within_the_limits() {
        for s in [
            LimitsSettings::default(),
            LimitsSettings {
                max_header_bytes: 1024,
                max_headers: 1000,
                max_uri_bytes: 256,
                ..LimitsSettings::default()
            },
            LimitsSettings {
                max_header_bytes: 1024 * 1024,
                max_headers: 1000,
                max_uri_bytes: 1024 * 1024,
                ..LimitsSettings::default()
            },
        ] {
            let l = SizeLimits::new(&s).unwrap();
            // What h2 counts for the largest request the layer lets through: every
            // field 32 bytes over its name and value (the layer counts 4), plus the
            // pseudo-headers with the whole URI in `:path`.
            let fields = l.max_header_bytes + 28 * l.max_headers;
            let pseudo = l.max_uri + 4 * 32 + 64;
            let list = l.h2_header_list_size() as usize;
            assert!(list >= fields + pseudo, "{s:?}: {list}");
            // And bounded: a few times our own limit, not unlimited.
            assert!(
                list <= 4 * (fields + pseudo + 32 * 8 + 1024).max(16 * 1024),
                "{s:?}"
            );
        }
    }

    #[test]
    fn route_body_limits_first_match_wins() {
        let l = SizeLimits::new(&LimitsSettings {
            max_body_bytes: 100,
            routes: vec![
                crate::config::RouteBodyLimit {
                    routes: vec!["POST /uploads".into(), "PUT /files/{*path}".into()],
                    max_body_bytes: Some(5000),
                    request_buffering: None,
                },
                crate::config::RouteBodyLimit {
                    routes: vec!["POST /{*any}".into()],
                    max_body_bytes: Some(10),
                    request_buffering: None,
                },
            ],
            ..LimitsSettings::default()
        })
        .unwrap();
        let post = |path: &str, len: u64| {
            let (mut head, _) = http::Request::post(path)
                .header("content-length", len.to_string())
                .body(())
                .unwrap()
                .into_parts();
            let mut cx = Context::for_test(Method::POST);
            let flow = l.check(&mut head, &mut cx);
            (matches!(flow, Flow::Continue), cx.max_body)
        };
        assert_eq!(post("/uploads", 5000), (true, Some(5000)));
        assert_eq!(post("/uploads", 5001), (false, Some(5000)));
        assert_eq!(post("/login", 11), (false, Some(10)));
        assert_eq!(post("/login", 10), (true, Some(10)));
        let (mut head, _) = http::Request::put("/files/a/b.bin")
            .header("content-length", "4000")
            .body(())
            .unwrap()
            .into_parts();
        let mut cx = Context::for_test(Method::PUT);
        assert!(matches!(l.check(&mut head, &mut cx), Flow::Continue));
        // No entry names it: the global limit.
        let (mut head, _) = http::Request::put("/other")
            .header("content-length", "101")
            .body(())
            .unwrap()
            .into_parts();
        let mut cx = Context::for_test(Method::PUT);
        assert!(matches!(l.check(&mut head, &mut cx), Flow::Reject(_)));
        assert_eq!(cx.max_body, Some(100));
    }

    #[test]
    fn route_body_limit_errors_name_the_entry() {
        let with = |routes: Vec<&str>, max: u64| {
            SizeLimits::new(&LimitsSettings {
                routes: vec![crate::config::RouteBodyLimit {
                    routes: routes.into_iter().map(String::from).collect(),
                    max_body_bytes: Some(max),
                    request_buffering: None,
                }],
                ..LimitsSettings::default()
            })
            .unwrap_err()
            .key
        };
        assert_eq!(with(vec![], 10), "shield.limits.routes[0].routes");
        assert_eq!(
            with(vec!["/ok", "uploads"], 10),
            "shield.limits.routes[0].routes[1]"
        );
        assert_eq!(
            with(vec!["/ok"], 0),
            "shield.limits.routes[0].max_body_bytes"
        );
        assert_eq!(
            with(vec!["/ok"], 5 * GIB),
            "shield.limits.routes[0].max_body_bytes"
        );
    }

    #[test]
    fn spill_settings_are_checked_and_off_with_read_ahead() {
        let err = |s: LimitsSettings| {
            let e = SizeLimits::new(&s).unwrap_err();
            (e.key, e.message)
        };
        let (key, _) = err(LimitsSettings {
            response_spill_bytes: 1000,
            ..LimitsSettings::default()
        });
        assert_eq!(key, "shield.limits.response_spill_bytes");
        let (key, _) = err(LimitsSettings {
            spill_disk_bytes: 10 * 1024 * 1024,
            ..LimitsSettings::default()
        });
        assert_eq!(key, "shield.limits.spill_disk_bytes");
        let missing = std::env::temp_dir().join("flaskguard-no-such-dir/below");
        let (key, message) = err(LimitsSettings {
            spill_dir: Some(missing.clone()),
            ..LimitsSettings::default()
        });
        assert_eq!(key, "shield.limits.spill_dir");
        assert!(
            message.contains(&missing.display().to_string()),
            "{message}"
        );
        // On by default, in the temporary directory.
        let on = SizeLimits::new(&LimitsSettings::default()).unwrap();
        let spill = on.spill.unwrap();
        assert_eq!(spill.dir, std::env::temp_dir());
        assert_eq!(spill.per_response, GIB);
        // Off with either key at 0; nothing else checked then.
        for s in [
            LimitsSettings {
                response_spill_bytes: 0,
                spill_dir: Some(missing.clone()),
                ..LimitsSettings::default()
            },
            LimitsSettings {
                response_buffer_bytes: 0,
                spill_disk_bytes: 0,
                ..LimitsSettings::default()
            },
        ] {
            assert_eq!(SizeLimits::new(&s).unwrap().spill, None);
        }
    }

    #[test]
    fn refuses_nonsense() {
        let s = LimitsSettings {
            max_body_bytes: 0,
            ..LimitsSettings::default()
        };
        assert_eq!(
            SizeLimits::new(&s).unwrap_err().key,
            "shield.limits.max_body_bytes"
        );
        // Room for less than one body at the limit.
        let s = LimitsSettings {
            buffer_memory_bytes: 1000,
            ..LimitsSettings::default()
        };
        assert_eq!(
            SizeLimits::new(&s).unwrap_err().key,
            "shield.limits.buffer_memory_bytes"
        );
        let s = LimitsSettings {
            response_buffer_bytes: 1000,
            ..LimitsSettings::default()
        };
        assert_eq!(
            SizeLimits::new(&s).unwrap_err().key,
            "shield.limits.response_buffer_bytes"
        );
        // A route entry that changes nothing.
        let s = LimitsSettings {
            routes: vec![crate::config::RouteBodyLimit {
                routes: vec!["POST /uploads".into()],
                max_body_bytes: None,
                request_buffering: None,
            }],
            ..LimitsSettings::default()
        };
        assert_eq!(
            SizeLimits::new(&s).unwrap_err().key,
            "shield.limits.routes[0]"
        );
    }

    #[test]
    fn buffering_by_route_first_match_wins_unset_is_global() {
        let l = SizeLimits::new(&LimitsSettings {
            max_body_bytes: 100,
            routes: vec![
                crate::config::RouteBodyLimit {
                    routes: vec!["POST /stream/{*rest}".into()],
                    max_body_bytes: None,
                    request_buffering: Some(false),
                },
                crate::config::RouteBodyLimit {
                    routes: vec!["POST /{*any}".into()],
                    max_body_bytes: Some(5000),
                    request_buffering: None,
                },
            ],
            ..LimitsSettings::default()
        })
        .unwrap();
        let rules = |path: &str| {
            let (mut head, _) = http::Request::post(path).body(()).unwrap().into_parts();
            let mut cx = Context::for_test(Method::POST);
            assert!(matches!(l.check(&mut head, &mut cx), Flow::Continue));
            (cx.max_body, cx.buffer_body)
        };
        assert_eq!(rules("/stream/a"), (Some(100), false));
        assert_eq!(rules("/form"), (Some(5000), true));
        let (mut head, _) = http::Request::put("/x").body(()).unwrap().into_parts();
        let mut cx = Context::for_test(Method::PUT);
        l.check(&mut head, &mut cx);
        assert_eq!((cx.max_body, cx.buffer_body), (Some(100), true));
    }
}
