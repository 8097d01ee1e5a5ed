//! The `flaskguard` binary: command-line parsing and wiring only. The work happens
//! in the engine crates; this file maps their results to output and exit codes.

mod cli;
mod cmd;
mod coverage;
mod output;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};

/// mimalloc: the audit allocates many small values from parallel threads (facts,
/// syntax trees), where glibc's allocator spent a quarter of the run. Built with
/// transparent huge pages off, so resident memory is what is used, not 2 MB
/// pages partly filled.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Returns freed memory to the system after 10 ms instead of the second this
/// build of mimalloc waits: the audit frees each file's text and syntax tree
/// while it keeps the facts of every file, and the longer delay kept about 3 MB
/// of freed pages resident at its peak. `MIMALLOC_PURGE_DELAY` still wins.
#[cfg(feature = "mimalloc")]
fn tune_allocator() {
    // `mi_option_purge_delay` in mimalloc's `mi_option_t` (stable since 2.1:
    // retired options keep their numbers).
    const MI_OPTION_PURGE_DELAY: std::ffi::c_int = 15;
    unsafe extern "C" {
        fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
    }
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: mimalloc's own setter, given a valid option number; options
        // may be set at any time.
        unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, 10) };
    }
}

/// Exit codes, the same for every command.
pub mod exit {
    /// Nothing at or above `--fail-on` was found.
    pub const CLEAN: u8 = 0;
    /// Findings at or above `--fail-on`.
    pub const FINDINGS: u8 = 1;
    /// Usage, configuration or I/O error.
    pub const ERROR: u8 = 2;
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Audit(args) => {
            // The audit only: a long-running shield frees and reuses the same pages
            // all the time, and purging them sooner would only add madvise calls.
            #[cfg(feature = "mimalloc")]
            tune_allocator();
            cmd::audit::run(&args, cli.color)
        }
        Command::Checklist(args) => cmd::checklist::run(&args, cli.color),
        Command::Explain(args) => cmd::explain::run(&args),
        Command::Scan(args) => cmd::scan::run(&args, cli.color),
        Command::Shield(args) => cmd::shield::run(&args),
        Command::Session(command) => cmd::session::run(&command),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            // One line, naming the file, key or URL involved (the errors carry it).
            let mut msg = format!("{err}");
            for cause in err.chain().skip(1) {
                let c = cause.to_string();
                if !msg.contains(&c) {
                    msg.push_str(": ");
                    msg.push_str(&c);
                }
            }
            eprintln!("flaskguard: error: {}", msg.replace('\n', " "));
            ExitCode::from(exit::ERROR)
        }
    }
}
