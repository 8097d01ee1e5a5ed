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
        Command::Audit(args) => cmd::audit::run(&args, cli.color),
        Command::Checklist(args) => cmd::checklist::run(&args, cli.color),
        Command::Explain(args) => cmd::explain::run(&args),
        Command::Scan(args) => cmd::scan::run(&args, cli.color),
        Command::Shield(args) => cmd::shield::run(&args),
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
