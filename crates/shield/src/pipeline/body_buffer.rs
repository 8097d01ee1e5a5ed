//! The request body as the pipeline holds it: what layers asked to read, then the
//! unread rest of the client's stream.

use std::sync::{atomic::AtomicBool, Arc};

use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use hyper::body::Incoming;

use crate::body::{BodyBudget, BodyPace, Held, ReqBody};

/// The body as read so far: chunks a layer asked for, then the unread stream.
pub(super) struct BodyBuffer {
    rest: Option<Incoming>,
    chunks: Vec<Bytes>,
    pub(super) len: usize,
    pub(super) ended: bool,
    /// Budget memory the buffered chunks hold (`request_buffering`).
    held: Option<Held>,
    /// The pace the client must keep (`timeouts.body_read`), from `start`.
    pace: BodyPace,
    start: tokio::time::Instant,
}

/// Why a body could not be read.
#[derive(Debug)]
pub(super) enum FillError {
    /// Broken framing or a dropped connection.
    Malformed,
    /// The client fell behind `timeouts.body_read` / `body_min_rate`.
    TooSlow,
}

impl BodyBuffer {
    pub(super) fn new(body: Incoming, pace: BodyPace) -> BodyBuffer {
        let ended = http_body::Body::is_end_stream(&body);
        BodyBuffer {
            rest: (!ended).then_some(body),
            chunks: Vec::new(),
            len: 0,
            ended,
            held: None,
            pace,
            start: tokio::time::Instant::now(),
        }
    }

    /// Reads until more than `limit` bytes are buffered or the body ends, at the
    /// client's required pace.
    pub(super) async fn fill(&mut self, limit: usize) -> Result<(), FillError> {
        self.fill_within(limit, None).await.map(|_| ())
    }

    /// [`fill`](Self::fill), each chunk read taking its size from `budget` when
    /// one is given. Returns false when the budget ran out first: the chunk that
    /// did not fit is kept, nothing more is read, and the rest of the body streams.
    pub(super) async fn fill_within(
        &mut self,
        limit: usize,
        budget: Option<&Arc<BodyBudget>>,
    ) -> Result<bool, FillError> {
        while !self.ended && self.len <= limit {
            let Some(rest) = self.rest.as_mut() else {
                self.ended = true;
                break;
            };
            let deadline = self.pace.deadline(self.start, self.len as u64);
            let Ok(frame) = tokio::time::timeout_at(deadline, rest.frame()).await else {
                // Nothing to linger for: the connection closes after the 408.
                self.rest = None;
                return Err(FillError::TooSlow);
            };
            match frame {
                None => {
                    self.ended = true;
                    self.rest = None;
                }
                Some(Err(_)) => return Err(FillError::Malformed),
                Some(Ok(frame)) => {
                    if let Ok(d) = frame.into_data() {
                        let n = d.len() as u64;
                        self.len += d.len();
                        self.chunks.push(d);
                        if let Some(budget) = budget {
                            let Some(h) = budget.hold(n) else {
                                return Ok(false);
                            };
                            match &mut self.held {
                                Some(held) => held.absorb(h),
                                None => self.held = Some(h),
                            }
                        }
                    }
                }
            }
        }
        Ok(true)
    }

    /// The budget memory the buffered chunks hold, to be kept until they are sent.
    pub(super) fn take_held(&mut self) -> Option<Held> {
        self.held.take()
    }

    /// Reads and discards the rest of a refused body in the background (bounded in
    /// bytes and time) so the client, still sending, gets to read the error instead
    /// of a connection reset: the "lingering close" of nginx.
    pub(super) fn linger(&mut self) {
        const MAX_BYTES: usize = 64 * 1024 * 1024;
        const MAX_TIME: std::time::Duration = std::time::Duration::from_secs(5);
        let Some(mut rest) = self.rest.take() else {
            return;
        };
        tokio::spawn(async move {
            let drain = async {
                let mut seen = 0usize;
                while let Some(Ok(frame)) = rest.frame().await {
                    seen += frame.data_ref().map_or(0, |d| d.len());
                    if seen > MAX_BYTES {
                        break;
                    }
                }
            };
            let _ = tokio::time::timeout(MAX_TIME, drain).await;
        });
    }

    /// The buffered bytes as one `Bytes`, for a layer that reads them (no copy for
    /// a single chunk; the joined copy then replaces the chunks).
    pub(super) fn joined(&mut self) -> Bytes {
        if self.chunks.len() > 1 {
            let mut all = BytesMut::with_capacity(self.len);
            for c in self.chunks.drain(..) {
                all.extend_from_slice(&c);
            }
            self.chunks.push(all.freeze());
        }
        self.chunks.first().cloned().unwrap_or_default()
    }

    /// The body to send upstream; `too_slow` is set if its rest falls behind the
    /// pace while it streams.
    pub(super) fn into_req_body(
        mut self,
        limit: u64,
        overflow: Option<Arc<AtomicBool>>,
        too_slow: Option<Arc<AtomicBool>>,
    ) -> ReqBody {
        let prefix = std::mem::take(&mut self.chunks);
        match (self.rest.take(), too_slow) {
            (Some(rest), Some(flag)) if !self.ended => {
                ReqBody::streaming(prefix, rest, limit, overflow).paced(self.pace, self.start, flag)
            }
            (Some(rest), None) if !self.ended => ReqBody::streaming(prefix, rest, limit, overflow),
            _ => ReqBody::chunks(prefix),
        }
    }
}
