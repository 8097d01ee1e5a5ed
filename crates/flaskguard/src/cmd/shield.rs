//! `flaskguard shield`: run the gateway, or validate its config (`--check-config`).

use std::{path::PathBuf, sync::Arc};

use anyhow::Context as _;
use config::ConfigFile;
use shield::Settings;

use crate::{
    cli::{RevokeArgs, ShieldAction, ShieldArgs},
    exit,
};

/// Where the settings come from: a file (explicit or discovered) plus flags.
#[derive(Debug, Clone)]
struct Source {
    file: Option<PathBuf>,
    listen: Option<String>,
    upstream: Option<String>,
}

impl Source {
    /// Reads the file again (every reload) and applies the flags over it.
    fn load(&self) -> Result<Settings, String> {
        let mut settings = match &self.file {
            Some(path) => {
                let cfg = ConfigFile::load(path).map_err(|e| e.to_string())?;
                let mut s = cfg
                    .section::<Settings>("shield")
                    .map_err(|e| e.to_string())?;
                // Paths in the file are relative to the file, not to the
                // directory shield happens to be started from.
                let abs = std::path::absolute(path).unwrap_or_else(|_| path.clone());
                if let Some(dir) = abs.parent() {
                    s.resolve_paths(dir);
                }
                s
            }
            None => Settings::default(),
        };
        if let Some(l) = &self.listen {
            settings.listen = l.clone();
        }
        if let Some(u) = &self.upstream {
            settings.upstream = u.clone();
        }
        Ok(settings)
    }

    /// Names the file in validation errors (`flaskguard.toml: `shield.x`: ...`).
    fn describe(&self, err: String) -> String {
        match &self.file {
            Some(p) if !err.starts_with(&p.display().to_string()) => {
                format!("{}: {err}", p.display())
            }
            _ => err,
        }
    }
}

pub fn run(args: &ShieldArgs) -> anyhow::Result<u8> {
    let file = match &args.config {
        Some(p) => Some(p.clone()),
        None => {
            let cwd = std::env::current_dir().context("cannot read the current directory")?;
            ConfigFile::discover(&cwd)?
                .filter(|c| c.has_section("shield"))
                .map(|c| c.path)
        }
    };
    let source = Source {
        file,
        listen: args.listen.clone(),
        upstream: args.upstream.clone(),
    };
    let settings = source.load().map_err(anyhow::Error::msg)?;
    if let Some(ShieldAction::Revoke(r)) = &args.action {
        return revoke(&settings, r, &source);
    }
    if args.check_config {
        return match shield::check(&settings) {
            Ok(v) => {
                for w in &v.warnings {
                    eprintln!("flaskguard: warning: {w}");
                }
                if let Some(p) = &source.file {
                    println!("# effective configuration ({})", p.display());
                } else {
                    println!("# effective configuration (no file: defaults and flags)");
                }
                print!("{}", v.settings.to_toml());
                Ok(exit::CLEAN)
            }
            Err(e) => Err(anyhow::Error::msg(source.describe(e))),
        };
    }
    // The main thread accepts connections and handles signals; shield runs its own
    // worker threads (one single-threaded runtime per core) for the traffic.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let src = source.clone();
        let loader: shield::Loader = Arc::new(move || src.load().map_err(|e| src.describe(e)));
        let handle = shield::serve(loader, true)
            .await
            .map_err(|e| anyhow::Error::msg(source.describe(e.to_string())))?;
        handle.wait().await;
        eprintln!("flaskguard shield: stopped");
        Ok(exit::CLEAN)
    })
}

/// `flaskguard shield revoke`.
fn revoke(settings: &Settings, args: &RevokeArgs, source: &Source) -> anyhow::Result<u8> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let env = |k: &str| std::env::var(k).ok();
    let done = runtime
        .block_on(shield::layers::seal::revoke::revoke(
            settings,
            &env,
            &args.cookies,
            args.all,
        ))
        .map_err(|e| anyhow::Error::msg(source.describe(e)))?;
    for v in &done.not_ours {
        eprintln!("flaskguard: warning: `{v}…` is not a session cookie of this shield (other keys, or altered)");
    }
    println!("revoked {} session(s)", done.deleted);
    Ok(if done.not_ours.is_empty() {
        exit::CLEAN
    } else {
        exit::ERROR
    })
}
