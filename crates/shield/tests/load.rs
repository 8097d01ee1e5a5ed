//! Body integrity under load, with live reloads in the middle.
//!
//! 2,000 POSTs with random bodies from 0 B to 5 MiB go through shield to the echo
//! upstream, 8 at a time; the upstream reports the SHA-256 it received and echoes
//! the body, which is hashed again on the way back. Sizes are skewed to keep the test
//! bounded: 1 request in 50 carries 1-5 MiB, the rest 0-64 KiB, about 180 MB each way
//! in total.

mod support;

use std::{
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::{client::legacy::Client, rt::TokioExecutor};
use support::{echo::sha256_hex, echo::Echo, settings_for, TestShield};

const REQUESTS: usize = 2000;
const CONCURRENCY: usize = 8;

/// A cheap deterministic generator (xorshift): test data, not cryptography.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn body(&mut self, len: usize) -> Vec<u8> {
        let mut v = Vec::with_capacity(len + 8);
        while v.len() < len {
            v.extend_from_slice(&self.next().to_le_bytes());
        }
        v.truncate(len);
        v
    }
}

fn size_of(i: usize, rng: &mut Rng) -> usize {
    match i {
        0 => 0,
        1 => 5 * 1024 * 1024,
        _ if i.is_multiple_of(50) => 1024 * 1024 + (rng.next() % (4 * 1024 * 1024)) as usize,
        _ => (rng.next() % (64 * 1024 + 1)) as usize,
    }
}

#[test]
fn random_bodies_arrive_intact_while_the_config_reloads() {
    let echo = Echo::start();
    let mut settings = settings_for(&echo.url());
    // 2,000 requests from one client in seconds: the global rate limit would refuse them.
    settings.rate_limit.enabled = false;
    let shield = TestShield::start(settings);
    let addr = shield.addr;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let failures = Arc::new(AtomicUsize::new(0));
    let mismatches = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    let total_bytes = Arc::new(AtomicUsize::new(0));
    let running = Arc::new(AtomicBool::new(true));

    // Reload every 100 ms while the load runs (the SIGHUP code path).
    let reloads = std::thread::scope(|scope| {
        let running2 = running.clone();
        let shield = &shield;
        let reloader = scope.spawn(move || {
            let mut n = 0;
            while running2.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(100));
                shield
                    .reload_with(|c| c.limits.max_uri_bytes = 8192 + (n % 2))
                    .expect("reload");
                n += 1;
            }
            n
        });
        rt.block_on(async {
            let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
            let next = Arc::new(AtomicUsize::new(0));
            let mut tasks = Vec::new();
            for worker in 0..CONCURRENCY {
                let (client, next, failures, mismatches, done, total) = (
                    client.clone(),
                    next.clone(),
                    failures.clone(),
                    mismatches.clone(),
                    done.clone(),
                    total_bytes.clone(),
                );
                tasks.push(tokio::spawn(async move {
                    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (worker as u64 + 1));
                    loop {
                        let i = next.fetch_add(1, Ordering::SeqCst);
                        if i >= REQUESTS {
                            break;
                        }
                        let len = size_of(i, &mut rng);
                        let body = rng.body(len);
                        let want = sha256_hex(&body);
                        total.fetch_add(body.len(), Ordering::Relaxed);
                        let req = hyper::Request::post(format!("http://{addr}/echo"))
                            .header("content-type", "application/octet-stream")
                            .body(Full::new(Bytes::from(body)))
                            .unwrap();
                        let resp = match tokio::time::timeout(
                            Duration::from_secs(30),
                            client.request(req),
                        )
                        .await
                        {
                            Ok(Ok(r)) => r,
                            other => {
                                eprintln!("request {i} failed: {other:?}");
                                failures.fetch_add(1, Ordering::SeqCst);
                                continue;
                            }
                        };
                        let status = resp.status();
                        let upstream_saw = resp
                            .headers()
                            .get("x-body-sha256")
                            .and_then(|v| v.to_str().ok())
                            .map(String::from);
                        let echoed = match resp.into_body().collect().await {
                            Ok(b) => b.to_bytes(),
                            Err(e) => {
                                eprintln!("request {i}: body error {e}");
                                failures.fetch_add(1, Ordering::SeqCst);
                                continue;
                            }
                        };
                        if status != 200 {
                            eprintln!("request {i}: status {status}");
                            failures.fetch_add(1, Ordering::SeqCst);
                        } else if upstream_saw.as_deref() != Some(want.as_str())
                            || sha256_hex(&echoed) != want
                        {
                            mismatches.fetch_add(1, Ordering::SeqCst);
                        }
                        done.fetch_add(1, Ordering::SeqCst);
                    }
                }));
            }
            for t in tasks {
                t.await.unwrap();
            }
        });
        running.store(false, Ordering::SeqCst);
        reloader.join().unwrap()
    });
    eprintln!(
        "{} requests, {} MB each way, {reloads} reloads",
        done.load(Ordering::SeqCst),
        total_bytes.load(Ordering::SeqCst) / 1_000_000
    );
    assert_eq!(failures.load(Ordering::SeqCst), 0, "failed requests");
    assert_eq!(
        mismatches.load(Ordering::SeqCst),
        0,
        "bodies changed in transit"
    );
    assert_eq!(done.load(Ordering::SeqCst), REQUESTS);
    assert!(reloads > 0, "no reload happened during the load");
    assert_eq!(echo.hits(), REQUESTS);
}
