//! The body read timeout: a request body that is still arriving when its
//! time is up fails to read with `BodyTimedOut`, and the request is answered
//! 408 Request Timeout, however its handler reads the body.

use std::error::Error;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hyper::body::{Frame, SizeHint};
use tokio::time::{Instant, Sleep};

use crate::error::ApiError;

type BoxError = Box<dyn Error + Send + Sync>;

/// Why a body read failed: the client stopped sending it.
#[derive(Debug, Clone, Copy)]
pub struct BodyTimedOut {
    /// The body read timeout that passed.
    pub after: Duration,
}

impl fmt::Display for BodyTimedOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the request body did not arrive within {} s",
            self.after.as_secs_f64()
        )
    }
}

impl Error for BodyTimedOut {}

/// The `BodyTimedOut` somewhere in `err`'s chain of sources: axum wraps
/// a body's error twice (its `Body`, then the `Bytes` rejection).
pub fn body_timed_out(err: &(dyn Error + 'static)) -> Option<BodyTimedOut> {
    let mut next = Some(err);
    while let Some(e) = next {
        if let Some(timed_out) = e.downcast_ref::<BodyTimedOut>() {
            return Some(*timed_out);
        }
        next = e.source();
    }
    None
}

/// The answer to a request whose body stopped arriving.
pub fn request_timeout(timed_out: BodyTimedOut) -> ApiError {
    ApiError::new(
        StatusCode::REQUEST_TIMEOUT,
        "request_timeout",
        format!("{timed_out}; send the request again"),
    )
}

/// Set in a request's extensions when its body is timed: whether the
/// timeout passed while a handler read it.
#[derive(Clone)]
struct TimedOutFlag {
    set: Arc<AtomicBool>,
    after: Duration,
}

/// `body` with `after` to arrive from now on. A bodiless request keeps its
/// body as it is: nothing to wait for, and no timer.
pub(crate) fn with_body_timeout<B>(request: axum::http::Request<B>, after: Duration) -> Request
where
    B: HttpBody<Data = Bytes> + Unpin + Send + 'static,
    B::Error: Into<BoxError>,
{
    let (mut parts, body) = request.into_parts();
    if body.is_end_stream() {
        return Request::from_parts(parts, Body::new(body));
    }
    let flag = TimedOutFlag {
        set: Arc::new(AtomicBool::new(false)),
        after,
    };
    let body = TimedBody {
        inner: body,
        deadline: Instant::now() + after,
        sleep: None,
        flag: flag.clone(),
    };
    parts.extensions.insert(flag);
    Request::from_parts(parts, Body::new(body))
}

struct TimedBody<B> {
    inner: B,
    deadline: Instant,
    /// Made on the first wait only: a body that is already in the buffer
    /// (most are; they come with the headers) never arms a timer.
    sleep: Option<Pin<Box<Sleep>>>,
    flag: TimedOutFlag,
}

impl<B> HttpBody for TimedBody<B>
where
    B: HttpBody<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|r| r.map_err(Into::into)));
        }
        let deadline = this.deadline;
        let sleep = this
            .sleep
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        ready!(sleep.as_mut().poll(cx));
        this.flag.set.store(true, Ordering::Relaxed);
        let after = this.flag.after;
        Poll::Ready(Some(Err(Box::new(BodyTimedOut { after }))))
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Middleware: a request whose body timed out while its handler read it is
/// answered 408 with our JSON error, whatever the handler made of the failed
/// read (axum's own extractors answer it 400 in plain text), and the
/// connection is closed, since the rest of the body is still unread.
pub async fn stalled_body_is_408(request: Request, next: Next) -> Response {
    let flag = request.extensions().get::<TimedOutFlag>().cloned();
    let mut response = next.run(request).await;
    if let Some(flag) = flag.filter(|f| f.set.load(Ordering::Relaxed)) {
        if response.status() != StatusCode::REQUEST_TIMEOUT {
            response = request_timeout(BodyTimedOut { after: flag.after }).into_response();
        }
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}
