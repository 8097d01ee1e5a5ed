//! Support for end-to-end tests: real processes on 127.0.0.1, stopped on drop.
//!
//! - [`E2e`]: whether a missing service skips the test or fails it.
//!   `FLASKGUARD_E2E=required` (set by `.ci/run`) makes every missing piece a failure.
//! - [`free_port`], [`wait_for_port`].
//! - [`Gunicorn`]: runs one of `examples/` under gunicorn from its venv (made by
//!   `scripts/test` under `.venv/<example>`, or `$FLASKGUARD_VENVS/<example>`).
//! - [`RedisServer`]: a throwaway `redis-server` on a free port, no persistence.
//! - [`Proc`]: a child process killed with its process group on drop.
//! - [`chromium`], [`chromium_command`]: headless Chromium that stays on loopback.
//!
//! Loopback only: nothing here binds or connects anywhere but 127.0.0.1.

use std::{
    io::{Read, Write},
    net::{SocketAddr, TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

mod process;
pub use process::Proc;

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repo root")
}

/// How to treat a missing service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum E2e {
    /// Skip the test with a note (a developer without redis-server, say).
    Optional,
    /// Fail the test (CI).
    Required,
}

impl E2e {
    pub fn mode() -> E2e {
        match std::env::var("FLASKGUARD_E2E").as_deref() {
            Ok("required") => E2e::Required,
            _ => E2e::Optional,
        }
    }

    /// Call when a prerequisite is missing: panics under `required`, otherwise prints
    /// why the test is skipped and returns, so the caller can `return`.
    pub fn missing(what: &str) {
        match E2e::mode() {
            E2e::Required => panic!("FLASKGUARD_E2E=required but {what}; run scripts/test to install it"),
            E2e::Optional => eprintln!("SKIPPED: {what} (run scripts/test, or set FLASKGUARD_E2E=required to fail instead)"),
        }
    }
}

/// A port that was free a moment ago on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind 127.0.0.1:0")
}

/// Waits until something accepts connections on `addr`.
pub fn wait_for_port(addr: SocketAddr, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// Debian's Chromium (`chromium`, or `chromium-browser`), None (after
/// [`E2e::missing`]) when it is not installed.
pub fn chromium() -> Option<PathBuf> {
    let found = which("chromium").or_else(|| which("chromium-browser"));
    if found.is_none() {
        E2e::missing("chromium is not installed");
    }
    found
}

/// Headless Chromium with a throwaway profile in `profile` and every background
/// service off (updates, sync, QUIC, extensions), so it sends nothing but the
/// requests of the pages it is given. Add the mode (`--dump-dom`,
/// `--screenshot=…`) and the URL.
pub fn chromium_command(chromium: &Path, profile: &Path) -> Command {
    let mut cmd = Command::new(chromium);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
    ])
    .arg(format!("--user-data-dir={}", profile.display()))
    .stdin(Stdio::null());
    cmd
}

/// Finds an executable on PATH.
pub fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// The venv directory for an example (`orders-weak`, `orders-hardened`).
pub fn venv(example: &str) -> PathBuf {
    match std::env::var_os("FLASKGUARD_VENVS") {
        Some(dir) => PathBuf::from(dir).join(example),
        None => repo_root().join(".venv").join(example),
    }
}

/// One of the example apps under gunicorn on 127.0.0.1.
pub struct Gunicorn {
    pub proc: Proc,
    pub addr: SocketAddr,
    pub log: PathBuf,
}

impl Gunicorn {
    /// Starts `examples/<example>` with its own `gunicorn.conf.py`, bound to a free
    /// port. Returns None (after [`E2e::missing`]) when the venv is not installed.
    pub fn start(example: &str, env: &[(&str, &str)]) -> Option<Gunicorn> {
        Self::start_with(example, env, &[])
    }

    pub fn start_with(
        example: &str,
        env: &[(&str, &str)],
        extra_args: &[&str],
    ) -> Option<Gunicorn> {
        let gunicorn = venv(example).join("bin/gunicorn");
        if !gunicorn.is_file() {
            E2e::missing(&format!("{} is missing", gunicorn.display()));
            return None;
        }
        let dir = repo_root().join("examples").join(example);
        let port = free_port();
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let log = std::env::temp_dir().join(format!("flaskguard-gunicorn-{example}-{port}.log"));
        let logfile = std::fs::File::create(&log).expect("gunicorn log");
        let mut cmd = Command::new(&gunicorn);
        cmd.current_dir(&dir)
            .args(["-c", "gunicorn.conf.py", "--bind", &addr.to_string()])
            .args(extra_args)
            .arg("wsgi:app")
            .env("GUNICORN_BIND", addr.to_string())
            .stdin(Stdio::null())
            .stdout(logfile.try_clone().unwrap())
            .stderr(logfile);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let proc = Proc::spawn(&format!("gunicorn {example}"), cmd).expect("spawn gunicorn");
        let mut g = Gunicorn { proc, addr, log };
        if !wait_for_port(addr, Duration::from_secs(30)) || g.proc.exited() {
            let log = std::fs::read_to_string(&g.log).unwrap_or_default();
            panic!("gunicorn for {example} did not start on {addr}:\n{log}");
        }
        // Workers may still be booting: wait until one answers HTTP.
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if http_get(addr, "/", &[]).is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Some(g)
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn log_contents(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// A throwaway redis-server on 127.0.0.1.
pub struct RedisServer {
    pub proc: Proc,
    pub port: u16,
}

impl RedisServer {
    /// Starts redis-server (`$FLASKGUARD_REDIS_SERVER` or `redis-server` on PATH) on a
    /// free port, or returns None after [`E2e::missing`].
    pub fn start() -> Option<RedisServer> {
        Self::start_on(free_port())
    }

    /// Starts on a given port (to restart a killed server where clients expect it).
    pub fn start_on(port: u16) -> Option<RedisServer> {
        let bin = std::env::var_os("FLASKGUARD_REDIS_SERVER")
            .map(PathBuf::from)
            .or_else(|| which("redis-server"));
        let Some(bin) = bin else {
            E2e::missing("redis-server is not installed");
            return None;
        };
        let mut cmd = Command::new(bin);
        cmd.args([
            "--bind",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--save",
            "",
            "--appendonly",
            "no",
            "--protected-mode",
            "yes",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
        let proc = Proc::spawn("redis-server", cmd).expect("spawn redis-server");
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        assert!(
            wait_for_port(addr, Duration::from_secs(10)),
            "redis-server did not start on {addr}"
        );
        Some(RedisServer { proc, port })
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }
}

/// A minimal HTTP/1.1 response, for readiness checks and simple assertions.
#[derive(Debug, Clone)]
pub struct RawResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RawResponse {
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
}

/// Sends one request with `Connection: close` and reads the whole answer. Handles
/// Content-Length, chunked and close-delimited bodies. For tests only.
pub fn http_request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<RawResponse> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut req = format!("{method} {path} HTTP/1.1\r\n");
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        req.push_str(&format!("Host: {addr}\r\n"));
    }
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty() || matches!(method, "POST" | "PUT" | "PATCH") {
        req.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    req.push_str("Connection: close\r\n\r\n");
    s.write_all(req.as_bytes())?;
    s.write_all(body)?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    parse_response(&raw).ok_or_else(|| {
        std::io::Error::other(format!(
            "unparsable response: {:?}",
            String::from_utf8_lossy(&raw[..raw.len().min(200)])
        ))
    })
}

pub fn http_get(
    addr: SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
) -> std::io::Result<RawResponse> {
    http_request(addr, "GET", path, headers, b"")
}

fn parse_response(raw: &[u8]) -> Option<RawResponse> {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..end]).ok()?;
    let mut lines = head.split("\r\n");
    let status: u16 = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let rest = &raw[end + 4..];
    let chunked = headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("transfer-encoding") && v.to_ascii_lowercase().contains("chunked")
    });
    let body = if chunked {
        dechunk(rest)?
    } else {
        rest.to_vec()
    };
    Some(RawResponse {
        status,
        headers,
        body,
    })
}

fn dechunk(mut data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n")?;
        let size_str = std::str::from_utf8(&data[..line_end]).ok()?;
        let size = usize::from_str_radix(size_str.split(';').next()?.trim(), 16).ok()?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(data.get(..size)?);
        data = data.get(size + 2..)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_chunked_and_plain() {
        let r = parse_response(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX: y\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n").unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.body, b"abcde");
        assert_eq!(r.header("x"), Some("y"));
        let r = parse_response(b"HTTP/1.0 404 Not Found\r\n\r\nnope").unwrap();
        assert_eq!((r.status, r.text().as_str()), (404, "nope"));
    }

    #[test]
    fn free_ports_are_loopback_bindable() {
        let p = free_port();
        assert!(TcpListener::bind(("127.0.0.1", p)).is_ok());
    }
}
