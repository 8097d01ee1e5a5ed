//! OPS003: one JSON line per security event, and the optional access log.
//!
//! ```json
//! {"time":"2026-01-02T03:04:05.678Z","request_id":"9f2c…","client":"198.51.100.7","method":"GET",
//!  "path":"/console","control":"DBG001","action":"block","status":404,"reason":"Werkzeug debugger console"}
//! ```
//!
//! Request tasks never write: lines go through a bounded channel to one writer
//! thread, so a slow disk or a blocked stdout cannot stall the proxy. When the
//! channel is full the line is dropped and counted (`shield_log_dropped_total`).

use std::{
    fs::OpenOptions,
    io::{BufWriter, Write},
    sync::{
        atomic::{AtomicU64, Ordering},
        mpsc::{sync_channel, Receiver, SyncSender, TrySendError},
    },
    time::SystemTime,
};

use serde::Serialize;

use crate::context::Context;

/// Lines waiting for the writer before new ones are dropped.
const QUEUE: usize = 16 * 1024;

/// One security event.
#[derive(Debug, Serialize)]
pub struct Event<'a> {
    pub time: String,
    pub request_id: String,
    pub client: String,
    pub method: &'a str,
    pub path: &'a str,
    pub control: &'a str,
    pub action: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    pub reason: &'a str,
    /// What the upstream sent, for sanitised errors (truncated).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub original: Option<&'a str>,
}

/// One access-log line.
#[derive(Debug, Serialize)]
struct Access<'a> {
    time: String,
    request_id: String,
    client: String,
    method: &'a str,
    path: &'a str,
    status: u16,
    duration_ms: f64,
}

/// A line sink: a writer thread fed through a bounded channel.
#[derive(Debug)]
pub struct LineSink {
    tx: SyncSender<Vec<u8>>,
    pub dropped: AtomicU64,
}

impl LineSink {
    /// `-` is standard output; anything else a file opened for appending.
    pub fn open(path: &str) -> std::io::Result<LineSink> {
        let out: Box<dyn Write + Send> = if path == "-" {
            Box::new(std::io::stdout())
        } else {
            Box::new(OpenOptions::new().create(true).append(true).open(path)?)
        };
        let (tx, rx) = sync_channel::<Vec<u8>>(QUEUE);
        std::thread::Builder::new()
            .name("shield-log".into())
            .spawn(move || write_lines(rx, out))?;
        Ok(LineSink {
            tx,
            dropped: AtomicU64::new(0),
        })
    }

    /// A sink that drops every line (for `--check-config`).
    pub fn discard() -> LineSink {
        let (tx, _) = sync_channel::<Vec<u8>>(1);
        LineSink {
            tx,
            dropped: AtomicU64::new(0),
        }
    }

    pub fn send(&self, mut line: Vec<u8>) {
        line.push(b'\n');
        match self.tx.try_send(line) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

fn write_lines(rx: Receiver<Vec<u8>>, out: Box<dyn Write + Send>) {
    let mut out = BufWriter::new(out);
    while let Ok(line) = rx.recv() {
        let _ = out.write_all(&line);
        // Drain what is queued, then flush once: lines appear promptly, in bursts cheaply.
        while let Ok(more) = rx.try_recv() {
            let _ = out.write_all(&more);
        }
        let _ = out.flush();
    }
}

pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_millis(SystemTime::now()).to_string()
}

/// The audit log and, when enabled, the access log.
#[derive(Debug)]
pub struct AuditLog {
    audit: LineSink,
    access: Option<LineSink>,
}

impl AuditLog {
    pub fn new(audit: LineSink, access: Option<LineSink>) -> AuditLog {
        AuditLog { audit, access }
    }

    /// Logs to nowhere (validation only).
    pub fn new_discarding() -> AuditLog {
        AuditLog {
            audit: LineSink::discard(),
            access: None,
        }
    }

    pub fn open(audit_path: &str, access_path: Option<&str>) -> std::io::Result<AuditLog> {
        let audit = LineSink::open(audit_path)?;
        let access = match access_path {
            Some(p) if p == audit_path && p != "-" => {
                return Err(std::io::Error::other(
                    "the access log must not share the audit log's file",
                ))
            }
            Some(p) => Some(LineSink::open(p)?),
            None => None,
        };
        Ok(AuditLog { audit, access })
    }

    pub fn event(
        &self,
        cx: &Context,
        control: &str,
        action: &str,
        status: Option<u16>,
        reason: &str,
        original: Option<&str>,
    ) {
        let e = Event {
            time: now_rfc3339(),
            request_id: cx.request_id.to_string(),
            client: cx.client_ip.to_string(),
            method: cx.method.as_str(),
            path: cx.uri.path(),
            control,
            action,
            status,
            reason,
            original,
        };
        if let Ok(line) = serde_json::to_vec(&e) {
            self.audit.send(line);
        }
    }

    pub fn access(&self, cx: &Context, status: u16) {
        let Some(sink) = &self.access else { return };
        let a = Access {
            time: now_rfc3339(),
            request_id: cx.request_id.to_string(),
            client: cx.client_ip.to_string(),
            method: cx.method.as_str(),
            path: cx.uri.path(),
            status,
            // Microsecond precision: 25.54, not 25.539908999999998.
            duration_ms: cx.started.elapsed().as_micros() as f64 / 1000.0,
        };
        if let Ok(line) = serde_json::to_vec(&a) {
            sink.send(line);
        }
    }

    pub fn dropped(&self) -> u64 {
        self.audit.dropped.load(Ordering::Relaxed)
            + self
                .access
                .as_ref()
                .map_or(0, |a| a.dropped.load(Ordering::Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_json_lines_to_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        let log = AuditLog::open(path.to_str().unwrap(), None).unwrap();
        let cx = Context::new(
            "127.0.0.1:9".parse().unwrap(),
            false,
            http::Method::GET,
            "/console?x=1".parse().unwrap(),
        );
        log.event(
            &cx,
            "DBG001",
            "block",
            Some(404),
            "Werkzeug debugger console",
            None,
        );
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            if let Some(line) = text.lines().next() {
                let v: serde_json::Value = serde_json::from_str(line).unwrap();
                assert_eq!(v["control"], "DBG001");
                assert_eq!(v["path"], "/console");
                assert_eq!(v["client"], "127.0.0.1");
                assert_eq!(v["request_id"], cx.request_id.to_string());
                assert!(v["time"].as_str().unwrap().ends_with('Z'));
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no audit line written"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
}
