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

/// A test app of tests/apps on gunicorn, with the orders-hardened venv's Flask and
/// gunicorn, on a free port of 127.0.0.1; stopped when dropped.
pub struct AppServer {
    _proc: testkit::Proc,
    pub addr: SocketAddr,
    /// A directory of the test's own, with gunicorn's log (`gunicorn.log`).
    pub dir: tempfile::TempDir,
}

impl AppServer {
    /// `gunicorn ARGS --bind ADDR MODULE:app` in `tests/apps/APP`; `configure`
    /// adds to the command (environment, more arguments) given the test's
    /// directory. None when the venv is missing (a failure under
    /// `FLASKGUARD_E2E=required`).
    pub fn start(
        app: &str,
        module: &str,
        args: &[&str],
        configure: impl FnOnce(&mut std::process::Command, &std::path::Path),
    ) -> Option<AppServer> {
        let bin = testkit::venv("orders-hardened").join("bin/gunicorn");
        if !bin.is_file() {
            testkit::E2e::missing(&format!("{} is missing", bin.display()));
            return None;
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let port = testkit::free_port();
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let app_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/apps")
            .join(app);
        let log = std::fs::File::create(dir.path().join("gunicorn.log")).unwrap();
        let mut cmd = std::process::Command::new(bin);
        cmd.current_dir(&app_dir)
            .args(args)
            .args(["--bind", &addr.to_string(), &format!("{module}:app")])
            .stdin(std::process::Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        configure(&mut cmd, dir.path());
        let proc =
            testkit::Proc::spawn(&format!("gunicorn {module}"), cmd).expect("spawn gunicorn");
        assert!(
            testkit::wait_for_port(addr, std::time::Duration::from_secs(30)),
            "gunicorn did not start on {addr}"
        );
        Some(AppServer {
            _proc: proc,
            addr,
            dir,
        })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// Settings pointing at an upstream, everything else default.
pub fn settings_for(upstream: &str) -> Settings {
    Settings {
        upstream: upstream.into(),
        ..Settings::default()
    }
}
