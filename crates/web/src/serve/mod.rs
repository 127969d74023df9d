//! Serving the router over HTTP/1.1 with the limits a server facing slow or
//! hostile clients needs (as nginx and Go's `http.Server` have): a header
//! read timeout that is also the keep-alive idle limit, a body read timeout
//! answered 408, a cap on open connections past which new ones are refused
//! at once, and a graceful shutdown with a bounded wait.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
use tokio::time::Instant;
use tower::Service as _;

pub mod body;
mod config;

pub use config::{
    default_max_connections, ServeConfig, DEFAULT_BODY_TIMEOUT, DEFAULT_HEADER_TIMEOUT,
    DEFAULT_SHUTDOWN_GRACE, MAX_CONNECTIONS_CEILING,
};

/// How often at most the log says that connections are being refused, or
/// that accepting fails.
const REPORT_EVERY: Duration = Duration::from_secs(10);

/// The phases a connection goes through at shutdown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Serving,
    /// Finish the request in flight, if any, then close.
    Draining,
    /// Close now.
    Closing,
}

/// Serves `router` on `listener` with `ServeConfig::default()` until
/// `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    serve_with(listener, router, ServeConfig::default(), shutdown).await
}

/// Serves `router` on `listener` within `config`'s limits until `shutdown`
/// completes; then stops accepting, lets requests in flight finish for up
/// to `config.shutdown_grace`, closes what is left and returns. Handlers can
/// take `ConnectInfo<SocketAddr>`, the client's address.
pub async fn serve_with(
    listener: TcpListener,
    router: Router,
    config: ServeConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let max = u32::try_from(config.max_connections.max(1)).unwrap_or(u32::MAX >> 3);
    let slots = Arc::new(Semaphore::new(max as usize));
    let (phase_tx, phase) = watch::channel(Phase::Serving);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(config.header_timeout);
    let refusal = refusal();
    let mut refused = Report::default();
    let mut failed = Report::default();
    let shutdown = std::pin::pin!(shutdown);
    let mut shutdown = shutdown;
    loop {
        let (stream, peer) = tokio::select! {
            biased;
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    if !is_connection_error(&err) {
                        if let Some(since) = failed.due() {
                            tracing::error!(error = %err, failures = since, "cannot accept connections");
                        }
                        // Out of descriptors (EMFILE) stays so for a while:
                        // try again shortly instead of spinning.
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                    continue;
                }
            },
        };
        let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
            refuse(stream, &refusal);
            if let Some(since) = refused.due() {
                tracing::warn!(
                    max_connections = max,
                    refused = since,
                    "connection limit reached; refusing new connections"
                );
            }
            continue;
        };
        // As Go's servers (Alertmanager's) do: answers leave at once instead
        // of waiting on Nagle's algorithm for the peer's ACK.
        if let Err(err) = stream.set_nodelay(true) {
            tracing::debug!(error = %err, "cannot set TCP_NODELAY on a connection");
        }
        let connection = Connection {
            http: http.clone(),
            router: router.clone(),
            peer,
            body_timeout: config.body_timeout,
        };
        let phase = phase.clone();
        tokio::spawn(async move {
            connection.run(stream, phase).await;
            drop(slot);
        });
    }
    // New connections are refused by the kernel from here on.
    drop(listener);
    let open = max as usize - slots.available_permits();
    tracing::info!(open, "shutting down; finishing the requests in flight");
    let _ = phase_tx.send(Phase::Draining);
    let all = |slots: &Arc<Semaphore>| Arc::clone(slots).acquire_many_owned(max);
    if tokio::time::timeout(config.shutdown_grace, all(&slots))
        .await
        .is_err()
    {
        let open = max as usize - slots.available_permits();
        tracing::warn!(
            open,
            grace = ?config.shutdown_grace,
            "connections still busy after the shutdown grace (a request in flight or half sent); closing them"
        );
        let _ = phase_tx.send(Phase::Closing);
        // Each connection's task drops it on its next turn.
        let _ = tokio::time::timeout(Duration::from_secs(1), all(&slots)).await;
    }
    Ok(())
}

/// One accepted connection and what serving it needs.
struct Connection {
    http: hyper::server::conn::http1::Builder,
    router: Router,
    peer: SocketAddr,
    body_timeout: Duration,
}

impl Connection {
    async fn run(self, stream: TcpStream, mut phase: watch::Receiver<Phase>) {
        let Connection {
            http,
            router,
            peer,
            body_timeout,
        } = self;
        let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
            let mut request = body::with_body_timeout(request, body_timeout);
            request.extensions_mut().insert(ConnectInfo(peer));
            // `Router` is always ready; calling it directly is what axum's
            // own `serve` does.
            router.clone().call(request)
        });
        let conn = http.serve_connection(TokioIo::new(stream), service);
        let mut conn = std::pin::pin!(conn);
        loop {
            tokio::select! {
                result = conn.as_mut() => {
                    if let Err(err) = result {
                        // Timeouts, resets and malformed requests: the
                        // client's doing, not worth more than debug.
                        tracing::debug!(error = %err, %peer, "connection ended with an error");
                    }
                    return;
                }
                changed = phase.changed() => {
                    match changed.map(|()| *phase.borrow()) {
                        Ok(Phase::Serving) => {}
                        Ok(Phase::Draining) => conn.as_mut().graceful_shutdown(),
                        Ok(Phase::Closing) | Err(_) => return,
                    }
                }
            }
        }
    }
}

/// What a connection past the cap gets before it is closed: a 503 with our
/// JSON error, written without reading the request (so a client still
/// sending may see a reset instead).
fn refusal() -> Vec<u8> {
    let body = serde_json::json!({"error": {
        "code": "unavailable",
        "message": "the server has too many open connections; retry shortly",
        "field": null,
    }})
    .to_string();
    format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
         retry-after: 5\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Answers a connection past the cap and closes it, without waiting on it:
/// `try_write` on a fresh socket fits in its send buffer or is skipped.
fn refuse(stream: TcpStream, refusal: &[u8]) {
    let _ = stream.try_write(refusal);
    drop(stream);
}

/// Errors about one connection that went away before it was accepted;
/// the listener itself is fine.
fn is_connection_error(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

/// Counts events and says when the next log line about them is due, at most
/// once per `REPORT_EVERY`.
#[derive(Default)]
struct Report {
    last: Option<Instant>,
    since: u64,
}

impl Report {
    /// Counts one event; `Some(events since the last report)` when one is due.
    fn due(&mut self) -> Option<u64> {
        self.since += 1;
        let now = Instant::now();
        if self.last.is_some_and(|last| now < last + REPORT_EVERY) {
            return None;
        }
        self.last = Some(now);
        Some(std::mem::take(&mut self.since))
    }
}
