//! The body types shield streams: requests to the upstream, responses to the client.
//!
//! Both are small enums rather than boxed trait objects: a proxied request should
//! not pay an allocation for a body it only passes along.

use std::{
    collections::VecDeque,
    future::Future,
    pin::Pin,
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc,
    },
    task::{Context, Poll},
    time::Duration,
};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use tokio::time::{Instant, Sleep};

use crate::layers::csp_nonce::NonceBody;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The memory all bodies shield holds for slow peers may take at once
/// (`limits.buffer_memory_bytes`): request bodies read whole before they go
/// upstream, and responses read ahead of a slow client. Shared by every
/// connection of a configuration.
#[derive(Debug)]
pub struct BodyBudget {
    used: AtomicU64,
    max: u64,
}

impl BodyBudget {
    pub fn new(max: u64) -> Arc<BodyBudget> {
        Arc::new(BodyBudget {
            used: AtomicU64::new(0),
            max,
        })
    }

    /// `bytes` of the budget, given back when the result is dropped; None when
    /// the budget has no room for them.
    pub fn hold(self: &Arc<Self>, bytes: u64) -> Option<Held> {
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(bytes).filter(|&total| total <= self.max)
            })
            .ok()?;
        Some(Held {
            budget: Arc::clone(self),
            bytes,
        })
    }

    /// Bytes held now.
    pub fn used(&self) -> u64 {
        self.used.load(Ordering::Acquire)
    }
}

/// Memory taken from a [`BodyBudget`], given back when dropped.
#[derive(Debug)]
pub struct Held {
    budget: Arc<BodyBudget>,
    bytes: u64,
}

impl Held {
    /// Takes over another hold of the same budget.
    pub fn absorb(&mut self, mut other: Held) {
        self.bytes += std::mem::take(&mut other.bytes);
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.budget.used.fetch_sub(self.bytes, Ordering::AcqRel);
    }
}

/// How long a client may take to send its request body: `grace` from the end of
/// its request head, plus one second per `min_rate` bytes received (the rule of
/// Apache's mod_reqtimeout `body=20,MinRate=500`). A body that stalls or trickles
/// is cut off (408), so a slow client cannot hold an app worker that waits for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyPace {
    pub grace: Duration,
    /// Bytes per second; at least 1.
    pub min_rate: u64,
}

impl BodyPace {
    /// The time a body that has delivered `received` bytes may have spent waiting
    /// for the client in all.
    pub fn allowance(&self, received: u64) -> Duration {
        let rate = self.min_rate.max(1);
        let whole = Duration::from_secs((received / rate).min(u64::from(u32::MAX)));
        let part = Duration::from_nanos((received % rate).saturating_mul(1_000_000_000) / rate);
        self.grace + whole + part
    }

    /// When a body read from `start` without pause, `received` bytes so far, must
    /// have sent more (or ended).
    pub fn deadline(&self, start: Instant, received: u64) -> Instant {
        start + self.allowance(received)
    }
}

/// The body clock of one streamed request body. Only the time spent waiting for
/// the client counts: while the upstream is slow to take what was read, shield
/// does not ask the client for more, and that wait is not the client's.
#[derive(Debug)]
struct PaceClock {
    pace: BodyPace,
    /// Time spent waiting for the client before the current wait.
    waited: Duration,
    /// When the current wait for the client began.
    waiting_since: Option<Instant>,
    sleep: Option<Pin<Box<Sleep>>>,
    /// Set when the body fell behind (the pipeline answers 408).
    expired: Arc<AtomicBool>,
}

impl PaceClock {
    /// A piece of the body arrived: the current wait ends.
    fn arrived(&mut self) {
        if let Some(since) = self.waiting_since.take() {
            self.waited += since.elapsed();
        }
    }

    /// The stream has nothing now: true when the client is out of time (else the
    /// timer will wake the task when it is).
    fn waiting(&mut self, received: u64, cx: &mut Context<'_>) -> bool {
        let since = *self.waiting_since.get_or_insert_with(Instant::now);
        let deadline = since + self.pace.allowance(received).saturating_sub(self.waited);
        let sleep = match self.sleep.as_mut() {
            Some(s) => {
                if s.deadline() != deadline {
                    s.as_mut().reset(deadline);
                }
                s
            }
            None => self
                .sleep
                .insert(Box::pin(tokio::time::sleep_until(deadline))),
        };
        sleep.as_mut().poll(cx).is_ready()
    }
}

/// The client did not send its request body at the required pace.
#[derive(Debug, thiserror::Error)]
#[error("request body too slow")]
pub struct BodyTooSlow;

/// The request body sent upstream: bytes a layer already read, then the rest of the
/// client's stream, cut off at the body limit.
#[derive(Debug, Default)]
pub struct ReqBody {
    /// Bytes already read, in the chunks they arrived in (sent as they are: a body
    /// buffered in many chunks is never copied into one).
    prefix: VecDeque<Bytes>,
    rest: Option<Incoming>,
    /// Bytes the stream may still carry before it breaks the limit.
    remaining: u64,
    /// Set when the client sent more than the limit (the pipeline answers 413).
    overflow: Option<Arc<AtomicBool>>,
    /// Bytes of the body seen so far (prefix included), for the pace.
    received: u64,
    clock: Option<PaceClock>,
}

/// The client sent more than `max_body_bytes` while its body streamed.
#[derive(Debug, thiserror::Error)]
#[error("request body exceeds the limit")]
pub struct BodyTooLarge;

impl ReqBody {
    pub fn empty() -> ReqBody {
        ReqBody::default()
    }

    pub fn full(b: Bytes) -> ReqBody {
        ReqBody::chunks(vec![b])
    }

    /// A body all in memory, in chunks.
    pub fn chunks(chunks: Vec<Bytes>) -> ReqBody {
        ReqBody {
            prefix: chunks.into_iter().filter(|c| !c.is_empty()).collect(),
            ..ReqBody::default()
        }
    }

    /// A streamed body limited to `limit` bytes after `prefix`. `overflow` is set
    /// when the limit is broken (only needed when the length is not declared).
    pub fn streaming(
        prefix: Vec<Bytes>,
        rest: Incoming,
        limit: u64,
        overflow: Option<Arc<AtomicBool>>,
    ) -> ReqBody {
        let used = prefix.iter().map(|p| p.len() as u64).sum();
        ReqBody {
            prefix: prefix.into_iter().filter(|p| !p.is_empty()).collect(),
            rest: Some(rest),
            remaining: limit.saturating_sub(used),
            overflow,
            received: used,
            clock: None,
        }
    }

    /// The whole body when it is in memory (nothing left to stream from the client),
    /// so the request can be sent again: its chunks (shared, not copied).
    pub fn in_memory(&self) -> Option<Vec<Bytes>> {
        self.rest
            .is_none()
            .then(|| self.prefix.iter().cloned().collect())
    }

    /// Holds the rest of the stream to `pace`; the body was first asked for at
    /// `start` (time since then counts as waiting); `expired` is set when it falls
    /// behind.
    pub fn paced(mut self, pace: BodyPace, start: Instant, expired: Arc<AtomicBool>) -> ReqBody {
        if self.rest.is_some() {
            self.clock = Some(PaceClock {
                pace,
                waited: start.elapsed(),
                waiting_since: None,
                sleep: None,
                expired,
            });
        }
        self
    }
}

impl Body for ReqBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        if let Some(p) = this.prefix.pop_front() {
            return Poll::Ready(Some(Ok(Frame::data(p))));
        }
        let Some(rest) = this.rest.as_mut() else {
            return Poll::Ready(None);
        };
        match Pin::new(rest).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(d) = frame.data_ref() {
                    let n = d.len() as u64;
                    if n > this.remaining {
                        if let Some(flag) = &this.overflow {
                            flag.store(true, Ordering::Relaxed);
                        }
                        this.rest = None;
                        return Poll::Ready(Some(Err(Box::new(BodyTooLarge))));
                    }
                    this.remaining -= n;
                    this.received += n;
                    if let Some(c) = this.clock.as_mut() {
                        c.arrived();
                    }
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => {
                this.rest = None;
                Poll::Ready(Some(Err(Box::new(e))))
            }
            Poll::Ready(None) => {
                this.rest = None;
                Poll::Ready(None)
            }
            Poll::Pending => {
                let Some(c) = this.clock.as_mut() else {
                    return Poll::Pending;
                };
                if c.waiting(this.received, cx) {
                    c.expired.store(true, Ordering::Relaxed);
                    this.rest = None;
                    return Poll::Ready(Some(Err(Box::new(BodyTooSlow))));
                }
                Poll::Pending
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.prefix.is_empty() && self.rest.as_ref().is_none_or(|r| r.is_end_stream())
    }

    fn size_hint(&self) -> SizeHint {
        let p: u64 = self.prefix.iter().map(|p| p.len() as u64).sum();
        match &self.rest {
            None => SizeHint::with_exact(p),
            Some(r) => {
                let h = r.size_hint();
                let mut out = SizeHint::new();
                out.set_lower(h.lower() + p);
                if let Some(u) = h.upper() {
                    out.set_upper(u + p);
                }
                out
            }
        }
    }
}

/// The app's response body as shield reads it: straight off the upstream
/// connection at the client's pace, or read ahead of a slow client.
#[derive(Debug)]
pub enum AppBody {
    Direct(Incoming),
    Ahead(ReadAhead),
}

/// A frame read ahead: in memory, with the window and budget memory it holds until
/// the client side takes it, or written to the response's spill file.
#[derive(Debug)]
enum Ahead {
    Mem(
        Frame<Bytes>,
        Option<tokio::sync::OwnedSemaphorePermit>,
        Option<Held>,
    ),
    Spilled {
        file: Arc<std::fs::File>,
        at: u64,
        len: usize,
        disk: Held,
    },
}

/// Where a response read ahead goes once its memory window is full, like nginx's
/// temporary files (`limits.response_spill_bytes`, `spill_disk_bytes`,
/// `spill_dir`): an unnamed file per response (removed by the system when shield
/// closes it, even after a crash), at most `per_response` bytes each and `disk`
/// for all of them at once.
#[derive(Debug)]
pub struct Spill {
    pub dir: std::path::PathBuf,
    pub per_response: u64,
    pub disk: Arc<BodyBudget>,
    /// Counts the responses that spilled.
    pub metrics: Arc<crate::metrics::Metrics>,
}

/// Says on stderr, at most once a minute, that spilling failed (a full disk
/// would otherwise print a line per response).
fn warn_spill_failed(dir: &std::path::Path, e: &std::io::Error) {
    static LAST: AtomicU64 = AtomicU64::new(0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let last = LAST.load(Ordering::Relaxed);
    if now >= last + 60
        && LAST
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    {
        eprintln!(
            "flaskguard shield: warning: cannot write a response to the spill directory {}: {e}; such responses wait for their clients",
            dir.display()
        );
    }
}

/// Writes `data` at `at` in the response's spill file, made on first use.
async fn spill_write(
    file: &mut Option<Arc<std::fs::File>>,
    dir: &std::path::Path,
    data: Bytes,
    at: u64,
) -> std::io::Result<Arc<std::fs::File>> {
    use std::os::unix::fs::FileExt;
    let existing = file.clone();
    let dir = dir.to_path_buf();
    let f = tokio::task::spawn_blocking(move || {
        let f = match existing {
            Some(f) => f,
            None => Arc::new(tempfile::tempfile_in(&dir)?),
        };
        f.write_all_at(&data, at)?;
        Ok::<_, std::io::Error>(f)
    })
    .await
    .map_err(std::io::Error::other)??;
    *file = Some(Arc::clone(&f));
    Ok(f)
}

/// An app's response body read by a task of its own, up to `window` bytes ahead of
/// the client, so the app's worker is done with the response as soon as it fits
/// (a gunicorn sync worker serves nothing else until then). Past the window, or
/// past `budget`, the rest goes to a spill file when there is one (within its
/// limits); otherwise the task reads no further ahead than the window allows, and
/// past `budget` no further than the frame the client is waiting for.
#[derive(Debug)]
pub struct ReadAhead {
    rx: tokio::sync::mpsc::UnboundedReceiver<Result<Ahead, hyper::Error>>,
    hint: SizeHint,
    ended: bool,
    /// A spilled chunk being read back.
    reading: Option<tokio::task::JoinHandle<std::io::Result<Bytes>>>,
    /// Disk the spill file takes, given back when the response is done.
    disk: Option<Held>,
}

impl AppBody {
    /// Reads `body` ahead of the client when it may not fit in the sockets' own
    /// buffers (over 64 KiB or of unknown length) and `window` is not 0.
    pub fn new(
        body: Incoming,
        window: usize,
        budget: &Arc<BodyBudget>,
        spill: Option<&Arc<Spill>>,
    ) -> AppBody {
        const SOCKETS_HOLD: u64 = 64 * 1024;
        let hint = body.size_hint();
        if window == 0 || body.is_end_stream() || hint.exact().is_some_and(|n| n <= SOCKETS_HOLD) {
            return AppBody::Direct(body);
        }
        AppBody::Ahead(ReadAhead::spawn(
            body,
            window,
            Arc::clone(budget),
            spill.cloned(),
        ))
    }
}

impl ReadAhead {
    fn spawn(
        mut body: Incoming,
        window: usize,
        budget: Arc<BodyBudget>,
        spill: Option<Arc<Spill>>,
    ) -> ReadAhead {
        let hint = body.size_hint();
        let window = window.min(tokio::sync::Semaphore::MAX_PERMITS) as u32;
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let room = Arc::new(tokio::sync::Semaphore::new(window as usize));
        tokio::spawn(async move {
            let mut file = None;
            let mut spilled = 0u64;
            let mut spill = spill;
            loop {
                let frame = tokio::select! {
                    f = body.frame() => f,
                    // The client went away: stop reading (the connection closes).
                    () = tx.closed() => return,
                };
                let frame = match frame {
                    None => return,
                    Some(Err(e)) => {
                        let _ = tx.send(Err(e));
                        return;
                    }
                    Some(Ok(f)) => f,
                };
                let len = frame.data_ref().map_or(0, |d| d.len());
                let held = budget.hold(len as u64);
                // Within the budget, this frame's own size of the window; past it,
                // the whole window: wait until the client took everything queued.
                let want = if held.is_some() {
                    u32::try_from(len).unwrap_or(u32::MAX).min(window)
                } else {
                    window
                };
                let permit = match Arc::clone(&room).try_acquire_many_owned(want) {
                    Ok(p) => Some(p),
                    Err(_) => {
                        // The window is full: to the spill file, if it takes this
                        // frame, instead of waiting for the client.
                        let room_on_disk = spill
                            .as_ref()
                            .filter(|s| len > 0 && spilled + len as u64 <= s.per_response)
                            .and_then(|s| Some((Arc::clone(s), s.disk.hold(len as u64)?)));
                        if let (Some((s, disk)), Some(data)) = (room_on_disk, frame.data_ref()) {
                            match spill_write(&mut file, &s.dir, data.clone(), spilled).await {
                                Ok(f) => {
                                    if spilled == 0 {
                                        s.metrics.responses_spilled.fetch_add(1, Ordering::Relaxed);
                                    }
                                    let item = Ahead::Spilled {
                                        file: f,
                                        at: spilled,
                                        len,
                                        disk,
                                    };
                                    spilled += len as u64;
                                    if tx.send(Ok(item)).is_err() {
                                        return;
                                    }
                                    continue;
                                }
                                Err(e) => {
                                    warn_spill_failed(&s.dir, &e);
                                    spill = None;
                                }
                            }
                        }
                        tokio::select! {
                            p = Arc::clone(&room).acquire_many_owned(want) => p.ok(),
                            () = tx.closed() => return,
                        }
                    }
                };
                if tx.send(Ok(Ahead::Mem(frame, permit, held))).is_err() {
                    return;
                }
            }
        });
        ReadAhead {
            rx,
            hint,
            ended: false,
            reading: None,
            disk: None,
        }
    }

    fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        loop {
            if self.ended {
                return Poll::Ready(None);
            }
            if let Some(reading) = self.reading.as_mut() {
                let read = std::task::ready!(Pin::new(reading).poll(cx));
                self.reading = None;
                return Poll::Ready(Some(match read {
                    Ok(Ok(data)) => Ok(Frame::data(data)),
                    Ok(Err(e)) => {
                        self.ended = true;
                        Err(Box::new(e))
                    }
                    Err(e) => {
                        self.ended = true;
                        Err(Box::new(e))
                    }
                }));
            }
            match std::task::ready!(self.rx.poll_recv(cx)) {
                // The frame's window and budget memory are released here.
                Some(Ok(Ahead::Mem(frame, _room, _held))) => return Poll::Ready(Some(Ok(frame))),
                Some(Ok(Ahead::Spilled {
                    file,
                    at,
                    len,
                    disk,
                })) => {
                    match &mut self.disk {
                        Some(d) => d.absorb(disk),
                        None => self.disk = Some(disk),
                    }
                    self.reading = Some(tokio::task::spawn_blocking(move || {
                        use std::os::unix::fs::FileExt;
                        let mut buf = vec![0u8; len];
                        file.read_exact_at(&mut buf, at)?;
                        Ok(Bytes::from(buf))
                    }));
                }
                Some(Err(e)) => {
                    self.ended = true;
                    return Poll::Ready(Some(Err(Box::new(e))));
                }
                None => {
                    self.ended = true;
                    return Poll::Ready(None);
                }
            }
        }
    }
}

impl Body for AppBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        match self.get_mut() {
            AppBody::Direct(b) => Pin::new(b)
                .poll_frame(cx)
                .map_err(|e| Box::new(e) as BoxError),
            AppBody::Ahead(a) => a.poll_next(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            AppBody::Direct(b) => b.is_end_stream(),
            AppBody::Ahead(a) => a.ended,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            AppBody::Direct(b) => b.size_hint(),
            AppBody::Ahead(a) => a.hint,
        }
    }
}

/// The response body sent to the client.
#[derive(Debug, Default)]
pub enum ResBody {
    #[default]
    Empty,
    Full(Option<Bytes>),
    /// The upstream's body, possibly after a prefix shield read to inspect it.
    Upstream {
        prefix: Option<Bytes>,
        rest: AppBody,
    },
    /// HTML rewritten on the fly to carry CSP nonces.
    Html(Box<NonceBody>),
    /// gzipped by shield (the app was asked for identity encoding).
    Gzip(Box<crate::layers::compress::GzipBody>),
}

impl ResBody {
    pub fn empty() -> ResBody {
        ResBody::Empty
    }

    pub fn full(b: Bytes) -> ResBody {
        ResBody::Full(Some(b))
    }

    pub fn upstream(rest: AppBody) -> ResBody {
        ResBody::Upstream { prefix: None, rest }
    }
}

impl Body for ResBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        match self.get_mut() {
            ResBody::Empty => Poll::Ready(None),
            ResBody::Full(b) => Poll::Ready(
                b.take()
                    .filter(|b| !b.is_empty())
                    .map(|b| Ok(Frame::data(b))),
            ),
            ResBody::Upstream { prefix, rest } => {
                if let Some(p) = prefix.take() {
                    return Poll::Ready(Some(Ok(Frame::data(p))));
                }
                Pin::new(rest).poll_frame(cx)
            }
            ResBody::Html(h) => Pin::new(h.as_mut()).poll_frame(cx),
            ResBody::Gzip(g) => Pin::new(g.as_mut()).poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            ResBody::Empty => true,
            ResBody::Full(b) => b.as_ref().is_none_or(|b| b.is_empty()),
            ResBody::Upstream { prefix, rest } => prefix.is_none() && rest.is_end_stream(),
            ResBody::Html(h) => h.is_end_stream(),
            ResBody::Gzip(g) => g.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            ResBody::Empty => SizeHint::with_exact(0),
            ResBody::Full(b) => SizeHint::with_exact(b.as_ref().map_or(0, |b| b.len() as u64)),
            ResBody::Upstream { prefix, rest } => {
                let p = prefix.as_ref().map_or(0, |p| p.len() as u64);
                let h = rest.size_hint();
                let mut out = SizeHint::new();
                out.set_lower(h.lower() + p);
                if let Some(u) = h.upper() {
                    out.set_upper(u + p);
                }
                out
            }
            ResBody::Html(_) | ResBody::Gzip(_) => SizeHint::new(),
        }
    }
}

/// Reads up to `limit` bytes of `body`. Returns the bytes read and whether the body
/// ended within the limit; on `false` the caller must send the bytes before the rest.
pub async fn read_prefix<B>(body: &mut B, limit: usize) -> Result<(Bytes, bool), B::Error>
where
    B: Body<Data = Bytes> + Unpin,
{
    use http_body_util::BodyExt;
    let mut first: Option<Bytes> = None;
    let mut buf: Vec<u8> = Vec::new();
    loop {
        let len = first.as_ref().map_or(buf.len(), |f| f.len());
        if len > limit {
            break;
        }
        match body.frame().await {
            None => {
                let b = first.unwrap_or_else(|| Bytes::from(buf));
                return Ok((b, true));
            }
            Some(frame) => {
                let frame = frame?;
                if let Ok(data) = frame.into_data() {
                    if data.is_empty() {
                        continue;
                    }
                    // A body in one frame (the common case) is kept without copying.
                    match first.take() {
                        None if buf.is_empty() => first = Some(data),
                        Some(f) => {
                            buf.extend_from_slice(&f);
                            buf.extend_from_slice(&data);
                        }
                        None => buf.extend_from_slice(&data),
                    }
                }
            }
        }
    }
    Ok((first.unwrap_or_else(|| Bytes::from(buf)), false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_body_in_chunks_is_sent_chunk_by_chunk_without_a_copy() {
        let chunks = vec![
            Bytes::from_static(b"abc"),
            Bytes::new(),
            Bytes::from_static(b"defg"),
        ];
        let first_ptr = chunks[0].as_ptr();
        let body = ReqBody::chunks(chunks);
        assert_eq!(body.size_hint().exact(), Some(7));
        assert!(!body.is_end_stream());
        let again = body.in_memory().unwrap();
        assert_eq!(again.len(), 2, "empty chunks are dropped");
        assert_eq!(again[0].as_ptr(), first_ptr, "shared, not copied");
        let mut body = body;
        let mut seen = Vec::new();
        while let Some(frame) = body.frame().await {
            seen.push(frame.unwrap().into_data().unwrap());
        }
        assert_eq!(seen, [&b"abc"[..], &b"defg"[..]]);
        assert!(body.is_end_stream());
        assert_eq!(body.size_hint().exact(), Some(0));
    }

    #[test]
    fn budget_holds_up_to_its_size_and_gives_memory_back() {
        let b = BodyBudget::new(100);
        let mut first = b.hold(60).unwrap();
        assert!(b.hold(41).is_none());
        let second = b.hold(40).unwrap();
        assert!(b.hold(1).is_none());
        assert!(b.hold(u64::MAX).is_none());
        first.absorb(second);
        assert_eq!(b.used(), 100);
        drop(first);
        assert_eq!(b.used(), 0);
        assert!(b.hold(100).is_some());
        assert_eq!(b.used(), 0);
    }

    #[test]
    fn the_pace_allows_grace_plus_a_second_per_min_rate_bytes() {
        let p = BodyPace {
            grace: Duration::from_secs(20),
            min_rate: 500,
        };
        assert_eq!(p.allowance(0), Duration::from_secs(20));
        assert_eq!(p.allowance(250), Duration::from_millis(20_500));
        assert_eq!(p.allowance(500), Duration::from_secs(21));
        assert_eq!(
            p.allowance(10 * 1024 * 1024),
            Duration::from_millis(20_991_520)
        );
        // No overflow on absurd counts, and a zero rate is read as 1.
        assert!(p.allowance(u64::MAX) > Duration::from_secs(u64::from(u32::MAX)));
        let zero = BodyPace {
            grace: Duration::from_secs(1),
            min_rate: 0,
        };
        assert_eq!(zero.allowance(3), Duration::from_secs(4));
        let start = Instant::now();
        assert_eq!(p.deadline(start, 500), start + Duration::from_secs(21));
    }
}
