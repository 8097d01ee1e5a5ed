//! Shared pieces of shield's end-to-end tests.

#![allow(dead_code)]

pub mod echo;

use std::{net::SocketAddr, sync::Arc};

use shield::{config::Settings, Handle};

/// shield running in this process, on its own runtime.
pub struct TestShield {
    pub handle: Option<Handle>,
    pub addr: SocketAddr,
    rt: Option<tokio::runtime::Runtime>,
    settings: Arc<std::sync::Mutex<Settings>>,
}

impl TestShield {
    /// Starts shield with `settings` (listen defaults to a free port).
    pub fn start(mut settings: Settings) -> TestShield {
        if settings.listen == Settings::default().listen {
            settings.listen = "127.0.0.1:0".into();
        }
        if settings.audit_log.path == "-" {
            settings.audit_log.path = std::env::temp_dir()
                .join(format!(
                    "shield-audit-{}-{}.log",
                    std::process::id(),
                    rand::random::<u32>()
                ))
                .display()
                .to_string();
        }
        let settings = Arc::new(std::sync::Mutex::new(settings));
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let s = settings.clone();
        let loader: shield::Loader = Arc::new(move || Ok(s.lock().unwrap().clone()));
        let handle = rt
            .block_on(shield::serve(loader, false))
            .expect("shield starts");
        let addr = handle.addr;
        TestShield {
            handle: Some(handle),
            addr,
            rt: Some(rt),
            settings,
        }
    }

    pub fn handle(&self) -> &Handle {
        self.handle.as_ref().unwrap()
    }

    /// Replaces the settings the loader returns and reloads.
    pub fn reload_with(&self, f: impl FnOnce(&mut Settings)) -> Result<(), String> {
        f(&mut self.settings.lock().unwrap());
        self.handle().reload()
    }

    pub fn audit_log(&self) -> String {
        std::fs::read_to_string(&self.settings.lock().unwrap().audit_log.path).unwrap_or_default()
    }

    /// Waits (bounded) for an audit line containing `needle`.
    pub fn wait_audit(&self, needle: &str) -> Option<serde_json::Value> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while std::time::Instant::now() < deadline {
            for line in self.audit_log().lines() {
                if line.contains(needle) {
                    return serde_json::from_str(line).ok();
                }
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        None
    }

    pub fn shutdown(&mut self) {
        if let (Some(h), Some(rt)) = (self.handle.take(), self.rt.as_ref()) {
            rt.block_on(h.shutdown());
        }
    }
}

impl Drop for TestShield {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_timeout(std::time::Duration::from_millis(200));
        }
    }
}

/// Settings pointing at an upstream, everything else default.
pub fn settings_for(upstream: &str) -> Settings {
    Settings {
        upstream: upstream.into(),
        ..Settings::default()
    }
}
