//! The scanner's HTTP client: one request per connection over hyper 1 (HTTP/1.1),
//! plain TCP or rustls, with the limits that keep a hostile server from holding
//! the scan hostage.
//!
//! - a deadline per request covering connect, handshake, headers and body;
//! - a response body cap: past it the body is cut and the connection dropped;
//! - bounded concurrency (a semaphore shared by every request of a scan);
//! - redirects are never followed here: callers see the 3xx and decide, and the
//!   scan only ever follows a `Location` on the target's own host.
//!
//! Every request carries an explicit `Host` header (the endpoint's authority unless
//! the caller crafts another), because the Host-header probes need to set it.

use std::{sync::Arc, time::Duration};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use tokio::{net::TcpStream, sync::Semaphore, time::Instant};
use tokio_rustls::TlsConnector;

use crate::{
    target::Endpoint,
    tls::{self, CertLog, TlsInfo},
};

/// One request to send.
#[derive(Debug, Clone)]
pub struct HttpRequest {
    pub endpoint: Endpoint,
    pub method: String,
    /// Path and query, starting with `/`.
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
    /// Sent without the scan's credentials (`--header`, `--cookie`): a probe
    /// that must look like a stranger, such as a forged token.
    pub anonymous: bool,
}

impl HttpRequest {
    pub fn new(endpoint: &Endpoint, method: &str, path: &str) -> HttpRequest {
        HttpRequest {
            endpoint: endpoint.clone(),
            method: method.to_string(),
            path: path.to_string(),
            headers: Vec::new(),
            body: Bytes::new(),
            anonymous: false,
        }
    }

    /// Marks the request to go without the scan's credentials.
    pub fn anonymous(mut self) -> HttpRequest {
        self.anonymous = true;
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> HttpRequest {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    pub fn body(mut self, body: impl Into<Bytes>) -> HttpRequest {
        self.body = body.into();
        self
    }

    pub fn url(&self) -> String {
        self.endpoint.url(&self.path)
    }
}

/// What came back.
#[derive(Debug, Clone, Default)]
pub struct HttpResponse {
    pub status: u16,
    /// Header names lower-cased; values decoded lossily (servers may send any bytes).
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The body was longer than the cap and was cut.
    pub truncated: bool,
    pub tls: Option<TlsInfo>,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn headers_all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The media type, lower-cased, without parameters.
    pub fn media_type(&self) -> String {
        self.header("content-type")
            .unwrap_or("")
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    }

    pub fn is_html(&self) -> bool {
        let m = self.media_type();
        m == "text/html" || m == "application/xhtml+xml"
    }

    pub fn is_json(&self) -> bool {
        let m = self.media_type();
        m == "application/json" || m.ends_with("+json")
    }

    pub fn is_redirect(&self) -> bool {
        matches!(self.status, 301 | 302 | 303 | 307 | 308)
    }
}

/// Why a request produced no response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    #[error("cannot connect: {0}")]
    Connect(String),
    #[error("no complete response within {0} ms")]
    Timeout(u128),
    #[error("TLS handshake failed: {0}")]
    Tls(String),
    #[error("not a valid HTTP response: {0}")]
    Protocol(String),
    #[error("the scan's time budget ran out")]
    Budget,
}

/// Limits of one scan.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub timeout: Duration,
    pub body_cap: usize,
    pub concurrency: usize,
    /// When the whole scan must stop sending.
    pub deadline: Instant,
}

/// What the user gave the scan to be let in (`--header`, `--cookie`): added to
/// every request but anonymous ones. A header the probe sets itself wins (the
/// Host and token probes craft theirs); cookies join the ones a probe carries,
/// a probe's own cookie of the same name winning. Never recorded: exchanges
/// keep the probe's request, so reports cannot show these values.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    pub headers: Vec<(String, String)>,
    pub cookies: Vec<(String, String)>,
}

impl Credentials {
    pub fn is_empty(&self) -> bool {
        self.headers.is_empty() && self.cookies.is_empty()
    }

    /// The request as sent: `req` with the credentials added.
    fn apply(&self, req: &HttpRequest) -> HttpRequest {
        let mut out = req.clone();
        if req.anonymous || self.is_empty() {
            return out;
        }
        let has = |name: &str| {
            req.headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case(name))
        };
        for (k, v) in &self.headers {
            if !has(k) {
                out.headers.push((k.clone(), v.clone()));
            }
        }
        if self.cookies.is_empty() {
            return out;
        }
        let own: Vec<String> = req
            .headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("cookie"))
            .flat_map(|(_, v)| v.split(';'))
            .filter_map(|pair| pair.split_once('=').map(|(n, _)| n.trim().to_string()))
            .collect();
        let given: Vec<String> = self
            .cookies
            .iter()
            .filter(|(n, _)| !own.contains(n))
            .map(|(n, v)| format!("{n}={v}"))
            .collect();
        if given.is_empty() {
            return out;
        }
        match out
            .headers
            .iter_mut()
            .find(|(k, _)| k.eq_ignore_ascii_case("cookie"))
        {
            Some((_, v)) => {
                let joined = format!("{}; {}", given.join("; "), v);
                *v = joined;
            }
            None => out.headers.push(("cookie".into(), given.join("; "))),
        }
        out
    }
}

/// A client shared by every probe of a scan.
#[derive(Clone)]
pub struct Client {
    limits: Limits,
    credentials: Arc<Credentials>,
    permits: Arc<Semaphore>,
    tls: TlsConnector,
    pub certs: CertLog,
}

impl Client {
    pub fn new(limits: Limits) -> Result<Client, rustls::Error> {
        let certs = CertLog::default();
        let config = tls::client_config(certs.clone())?;
        Ok(Client {
            limits,
            credentials: Arc::new(Credentials::default()),
            permits: Arc::new(Semaphore::new(limits.concurrency.max(1))),
            tls: TlsConnector::from(config),
            certs,
        })
    }

    /// The client with the user's credentials (see [`Credentials`]).
    pub fn with_credentials(mut self, credentials: Credentials) -> Client {
        self.credentials = Arc::new(credentials);
        self
    }

    /// Whether the scan runs with credentials.
    pub fn authenticated(&self) -> bool {
        !self.credentials.is_empty()
    }

    /// The cookies given with `--cookie`.
    pub fn given_cookies(&self) -> &[(String, String)] {
        &self.credentials.cookies
    }

    pub fn given_headers(&self) -> &[(String, String)] {
        &self.credentials.headers
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    pub fn out_of_time(&self) -> bool {
        Instant::now() >= self.limits.deadline
    }

    /// Sends one request under the scan's limits.
    pub async fn fetch(&self, req: &HttpRequest) -> Result<HttpResponse, FetchError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| FetchError::Budget)?;
        let now = Instant::now();
        if now >= self.limits.deadline {
            return Err(FetchError::Budget);
        }
        let until = (now + self.limits.timeout).min(self.limits.deadline);
        let budget_bound = until == self.limits.deadline && until < now + self.limits.timeout;
        match tokio::time::timeout_at(until, self.exchange(req)).await {
            Ok(result) => result,
            Err(_) if budget_bound => Err(FetchError::Budget),
            Err(_) => Err(FetchError::Timeout(self.limits.timeout.as_millis())),
        }
    }

    async fn exchange(&self, req: &HttpRequest) -> Result<HttpResponse, FetchError> {
        let ep = &req.endpoint;
        let tcp = TcpStream::connect((ep.host.as_str(), ep.port))
            .await
            .map_err(|e| FetchError::Connect(format!("{}: {e}", ep.authority())))?;
        let _ = tcp.set_nodelay(true);
        if ep.https {
            let name = rustls::pki_types::ServerName::try_from(ep.host.clone())
                .map_err(|e| FetchError::Tls(format!("bad server name {}: {e}", ep.host)))?;
            let stream = self
                .tls
                .connect(name, tcp)
                .await
                .map_err(|e| FetchError::Tls(e.to_string()))?;
            let (_, conn) = stream.get_ref();
            let info = TlsInfo {
                protocol: conn
                    .protocol_version()
                    .map(|v| format!("{v:?}"))
                    .unwrap_or_default(),
                cipher: conn
                    .negotiated_cipher_suite()
                    .map(|c| format!("{:?}", c.suite()))
                    .unwrap_or_default(),
            };
            let mut resp = self.over(TokioIo::new(stream), req).await?;
            resp.tls = Some(info);
            Ok(resp)
        } else {
            self.over(TokioIo::new(tcp), req).await
        }
    }

    async fn over<T>(&self, io: TokioIo<T>, req: &HttpRequest) -> Result<HttpResponse, FetchError>
    where
        T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        let (mut sender, conn) = hyper::client::conn::http1::Builder::new()
            .max_buf_size(64 * 1024)
            .handshake::<_, Full<Bytes>>(io)
            .await
            .map_err(|e| FetchError::Protocol(e.to_string()))?;
        // The connection task ends when the response is done or dropped.
        let driver = tokio::spawn(async move {
            let _ = conn.await;
        });
        let request = build(&self.credentials.apply(req))?;
        let result = async {
            let response = sender
                .send_request(request)
                .await
                .map_err(|e| FetchError::Protocol(protocol_message(&e)))?;
            let status = response.status().as_u16();
            let headers = response
                .headers()
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().to_ascii_lowercase(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect();
            let mut body = Vec::new();
            let mut truncated = false;
            let mut incoming = response.into_body();
            while let Some(frame) = incoming.frame().await {
                let Ok(frame) = frame else {
                    // A body cut short still tells us what the server sent so far.
                    truncated = true;
                    break;
                };
                if let Ok(data) = frame.into_data() {
                    let room = self.limits.body_cap.saturating_sub(body.len());
                    if data.len() > room {
                        body.extend_from_slice(&data[..room]);
                        truncated = true;
                        break;
                    }
                    body.extend_from_slice(&data);
                }
            }
            Ok(HttpResponse {
                status,
                headers,
                body,
                truncated,
                tls: None,
            })
        }
        .await;
        driver.abort();
        result
    }
}

fn protocol_message(e: &hyper::Error) -> String {
    let mut msg = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        source = s.source();
    }
    msg
}

fn build(req: &HttpRequest) -> Result<Request<Full<Bytes>>, FetchError> {
    let method = Method::from_bytes(req.method.as_bytes())
        .map_err(|_| FetchError::Protocol(format!("invalid method {}", req.method)))?;
    let mut builder = Request::builder().method(method).uri(&req.path);
    let has = |name: &str| {
        req.headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case(name))
    };
    if !has("host") {
        builder = builder.header("host", req.endpoint.authority());
    }
    if !has("user-agent") {
        builder = builder.header(
            "user-agent",
            concat!("flaskguard-scan/", env!("CARGO_PKG_VERSION")),
        );
    }
    if !has("accept") {
        builder = builder.header("accept", "*/*");
    }
    for (k, v) in &req.headers {
        builder = builder.header(k.as_str(), v.as_str());
    }
    if !req.body.is_empty() && !has("content-length") {
        builder = builder.header("content-length", req.body.len().to_string());
    }
    builder = builder.header("connection", "close");
    builder
        .body(Full::new(req.body.clone()))
        .map_err(|e| FetchError::Protocol(format!("cannot build request {}: {e}", req.path)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::Target;

    fn creds() -> Credentials {
        Credentials {
            headers: vec![("Authorization".into(), "Bearer user-token".into())],
            cookies: vec![
                ("session".into(), "given".into()),
                ("theme".into(), "dark".into()),
            ],
        }
    }

    fn header<'a>(r: &'a HttpRequest, name: &str) -> Vec<&'a str> {
        r.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    #[test]
    fn credentials_join_every_request_but_anonymous_ones() {
        let ep = Target::parse("http://127.0.0.1:5000/").unwrap().endpoint;
        let plain = creds().apply(&HttpRequest::new(&ep, "GET", "/api"));
        assert_eq!(header(&plain, "authorization"), ["Bearer user-token"]);
        assert_eq!(header(&plain, "cookie"), ["session=given; theme=dark"]);

        // A probe's own header wins; its own cookie of a given name too, and the
        // other given cookies join it in one Cookie header.
        let probe = HttpRequest::new(&ep, "GET", "/api")
            .header("authorization", "Bearer forged")
            .header("cookie", "session=site; csrftoken=x");
        let sent = creds().apply(&probe);
        assert_eq!(header(&sent, "authorization"), ["Bearer forged"]);
        assert_eq!(
            header(&sent, "cookie"),
            ["theme=dark; session=site; csrftoken=x"]
        );

        let anon = creds().apply(&HttpRequest::new(&ep, "GET", "/api").anonymous());
        assert!(anon.headers.is_empty(), "{:?}", anon.headers);

        // Built, the request carries them once.
        let built = build(&plain).unwrap();
        assert_eq!(built.headers().get_all("authorization").iter().count(), 1);
    }
}
