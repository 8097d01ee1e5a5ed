//! A small upstream for shield's end-to-end tests: echoes bodies with their SHA-256,
//! reports the headers it received, and serves the error pages, cookies, HTML and
//! upgrades the layers act on. Runs on 127.0.0.1 in its own runtime thread.

#![allow(dead_code)]

use std::{
    collections::BTreeMap,
    convert::Infallible,
    net::SocketAddr,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{body::Incoming, server::conn::http1, service::service_fn, Request, Response};
use hyper_util::rt::TokioIo;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub fn sha256_hex(data: &[u8]) -> String {
    Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub struct Echo {
    pub addr: SocketAddr,
    /// Requests that reached this upstream.
    pub hits: Arc<AtomicUsize>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Echo {
    pub fn start() -> Echo {
        Self::start_on("127.0.0.1:0".parse().unwrap())
    }

    /// Listens on a unix socket instead (returns with `addr` unset to 0).
    pub fn start_unix(path: &std::path::Path) -> Echo {
        let hits = Arc::new(AtomicUsize::new(0));
        let (stop, stop_rx) = tokio::sync::oneshot::channel();
        let listener = std::os::unix::net::UnixListener::bind(path).unwrap();
        listener.set_nonblocking(true).unwrap();
        let h = hits.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::UnixListener::from_std(listener).unwrap();
                let mut stop_rx = stop_rx;
                loop {
                    tokio::select! {
                        _ = &mut stop_rx => return,
                        Ok((s, _)) = listener.accept() => {
                            let h = h.clone();
                            tokio::spawn(async move {
                                let svc = service_fn(move |req| handle(req, h.clone()));
                                let _ = http1::Builder::new().serve_connection(TokioIo::new(s), svc).with_upgrades().await;
                            });
                        }
                    }
                }
            });
        });
        Echo {
            addr: "0.0.0.0:0".parse().unwrap(),
            hits,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    pub fn start_on(addr: SocketAddr) -> Echo {
        let hits = Arc::new(AtomicUsize::new(0));
        let (stop, stop_rx) = tokio::sync::oneshot::channel();
        let std_listener = std::net::TcpListener::bind(addr).unwrap();
        std_listener.set_nonblocking(true).unwrap();
        let addr = std_listener.local_addr().unwrap();
        let h = hits.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(std_listener).unwrap();
                let mut stop_rx = stop_rx;
                loop {
                    tokio::select! {
                        _ = &mut stop_rx => return,
                        Ok((s, _)) = listener.accept() => {
                            let _ = s.set_nodelay(true);
                            let h = h.clone();
                            tokio::spawn(async move {
                                let svc = service_fn(move |req| handle(req, h.clone()));
                                let _ = http1::Builder::new().serve_connection(TokioIo::new(s), svc).with_upgrades().await;
                            });
                        }
                    }
                }
            });
            rt.shutdown_timeout(Duration::from_millis(100));
        });
        Echo {
            addr,
            hits,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    /// Stops listening and drops every connection (an upstream crash).
    pub fn kill(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Echo {
    fn drop(&mut self) {
        self.kill();
    }
}

fn resp(status: u16, ct: &str, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = hyper::StatusCode::from_u16(status).unwrap();
    r.headers_mut().insert("content-type", ct.parse().unwrap());
    r.headers_mut()
        .insert("server", "Werkzeug/2.2.2 Python/3.11.2".parse().unwrap());
    r.headers_mut()
        .insert("x-powered-by", "Flask".parse().unwrap());
    r
}

/// `%XX` decoding of a query value (this echo's only use of one).
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match (
            b[i],
            b.get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok()),
        ) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

async fn handle(
    mut req: Request<Incoming>,
    hits: Arc<AtomicUsize>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    hits.fetch_add(1, Ordering::SeqCst);
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    let r = match path.as_str() {
        "/echo" => {
            let body = match req.into_body().collect().await {
                Ok(b) => b.to_bytes(),
                Err(_) => return Ok(resp(400, "text/plain", "bad body")),
            };
            let mut r = resp(200, "application/octet-stream", body.clone());
            r.headers_mut().insert("x-body-sha256", sha256_hex(&body).parse().unwrap());
            r
        }
        "/headers" => {
            let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
            // The request target exactly as it arrived: origin form is `/path?q`;
            // an absolute-form target keeps its scheme and authority here.
            map.insert(":target".into(), vec![req.uri().to_string()]);
            for (k, v) in req.headers() {
                map.entry(k.as_str().to_string()).or_default().push(String::from_utf8_lossy(v.as_bytes()).into_owned());
            }
            resp(200, "application/json", serde_json::to_vec(&map).unwrap())
        }
        "/html-500" => resp(500, "text/html; charset=utf-8", "<html><h1>Internal Server Error</h1><pre>Traceback (most recent call last):\n  File \"/srv/app/orders.py\", line 42, in create\nKeyError: 'x'</pre></html>"),
        "/text-500" => resp(500, "text/plain", "Traceback (most recent call last):\n  File \"/srv/app/db.py\", line 7, in q\nsqlite3.OperationalError: no such table: users"),
        "/plain-500" => resp(500, "text/plain; charset=utf-8", "Internal Server Error"),
        "/json-500" => resp(500, "application/json", r#"{"error": "database unavailable"}"#),
        "/html-404" => resp(404, "text/html", "<html><h1>Not Found</h1><p>The requested URL was not found on the server.</p></html>"),
        "/json-404" => resp(404, "application/json", r#"{"error": "no such order"}"#),
        "/page" => resp(200, "text/html; charset=utf-8", "<!doctype html><html><head><style>p{color:red}</style></head><body><p>hi</p><script>console.log(1)</script></body></html>"),
        // A page that renders the nonce shield hands it (csp_nonce_header mode) and
        // reflects `q` unescaped, as an XSS-prone template would.
        "/nonce-page" => {
            let nonce = req.headers().get("x-csp-nonce").map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned()).unwrap_or_default();
            let q = unescape(query.strip_prefix("q=").unwrap_or(""));
            resp(200, "text/html", format!("<html><body><script nonce=\"{nonce}\">app()</script><p>{q}</p></body></html>"))
        }
        "/big-page" => resp(200, "text/html; charset=utf-8", format!("<!doctype html><html><body><script>start()</script>{}</body></html>", "<p>a paragraph of a long server-rendered page</p>\n".repeat(300))),
        "/cookies" => {
            let mut r = resp(200, "application/json", "{}");
            r.headers_mut().append("set-cookie", "session=eyJ1IjoxfQ.sig; Path=/; Max-Age=7776000".parse().unwrap());
            r.headers_mut().append("set-cookie", "theme=dark; Path=/".parse().unwrap());
            r
        }
        "/slow" => {
            let ms: u64 = query.strip_prefix("ms=").and_then(|v| v.parse().ok()).unwrap_or(1000);
            tokio::time::sleep(Duration::from_millis(ms)).await;
            resp(200, "application/json", r#"{"slow": true}"#)
        }
        "/ws" => {
            let upgrade = hyper::upgrade::on(&mut req);
            tokio::spawn(async move {
                if let Ok(up) = upgrade.await {
                    let mut io = TokioIo::new(up);
                    let mut buf = [0u8; 1024];
                    while let Ok(n) = io.read(&mut buf).await {
                        if n == 0 || io.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                }
            });
            let mut r = Response::new(Full::new(Bytes::new()));
            *r.status_mut() = hyper::StatusCode::SWITCHING_PROTOCOLS;
            r.headers_mut().insert("connection", "upgrade".parse().unwrap());
            r.headers_mut().insert("upgrade", "echo".parse().unwrap());
            r
        }
        _ => resp(200, "application/json", r#"{"ok": true}"#),
    };
    Ok(r)
}
