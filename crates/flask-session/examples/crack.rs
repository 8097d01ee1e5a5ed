//! Benchmark harness for the session cracker (used by `bench/session-crack.sh`).
//!
//! ```text
//! cargo run --release -p flaskguard-flask-session --example crack -- \
//!     --cookie COOKIE --wordlist FILE [--params flask|all] [--min-seconds 1.0]
//! ```
//!
//! Loads the word list, prepares the cookie, then cracks it repeatedly until
//! `--min-seconds` have passed (at least once) and prints one line of `key=value`
//! pairs: whether and where the key was found, and the rate in candidate keys per
//! second (`--params flask`: Flask's default only, the work flask-unsign does per
//! key) and in key × parameter-set attempts per second (`--params all`).

use flask_session::{default_params, mask_key, Cracker, SignerParams, Wordlist};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

struct Args {
    cookie: String,
    wordlist: PathBuf,
    all_params: bool,
    min_seconds: f64,
}

fn parse_args() -> Result<Args, String> {
    let mut cookie = None;
    let mut wordlist = None;
    let mut all_params = false;
    let mut min_seconds = 1.0;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--cookie" => cookie = Some(value()?),
            "--wordlist" => wordlist = Some(PathBuf::from(value()?)),
            "--params" => {
                all_params = match value()?.as_str() {
                    "flask" => false,
                    "all" => true,
                    other => return Err(format!("--params: expected flask or all, got {other}")),
                }
            }
            "--min-seconds" => {
                min_seconds = value()?
                    .parse()
                    .map_err(|e| format!("--min-seconds: {e}"))?;
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(Args {
        cookie: cookie.ok_or("--cookie is required")?,
        wordlist: wordlist.ok_or("--wordlist is required")?,
        all_params,
        min_seconds,
    })
}

fn run(args: Args) -> Result<(), String> {
    let load_start = Instant::now();
    let list = Wordlist::load(&args.wordlist).map_err(|e| e.to_string())?;
    let keys = list.keys();
    let load_seconds = load_start.elapsed().as_secs_f64();

    let cracker = Cracker::new(&args.cookie).map_err(|e| format!("cookie: {e}"))?;
    let params = if args.all_params {
        default_params()
    } else {
        vec![SignerParams::flask_default()]
    };
    let applicable = cracker.applicable(&params);

    let start = Instant::now();
    let mut rounds = 0u64;
    let mut found = None;
    loop {
        found = cracker.crack(&keys, &params).or(found);
        rounds += 1;
        if start.elapsed().as_secs_f64() >= args.min_seconds {
            break;
        }
    }
    let seconds = start.elapsed().as_secs_f64() / rounds as f64;

    // Work done per round: every key under every parameter set tried before the hit.
    let (attempts, found_text) = match &found {
        Some(f) => {
            let set = applicable.iter().position(|p| *p == f.params).unwrap_or(0);
            let attempts = set * keys.len() + f.index + 1;
            (
                attempts,
                format!(
                    "yes index={} params=\"{}\" key=\"{}\"",
                    f.index,
                    f.params,
                    mask_key(&f.key)
                ),
            )
        }
        None => (applicable.len() * keys.len(), "no".to_owned()),
    };
    let key_passes = attempts as f64 / applicable.len().max(1) as f64;
    println!(
        "keys={} param_sets={} found={} rounds={} seconds_per_round={:.6} load_seconds={:.4} attempts={} \
         attempts_per_sec={:.0} keys_per_sec={:.0} threads={}",
        keys.len(),
        applicable.len(),
        found_text,
        rounds,
        seconds,
        load_seconds,
        attempts,
        attempts as f64 / seconds,
        key_passes / seconds,
        rayon::current_num_threads(),
    );
    Ok(())
}

fn main() -> ExitCode {
    match parse_args().and_then(run) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("crack: {e}");
            ExitCode::from(2)
        }
    }
}
