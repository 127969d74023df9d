//! The limits `serve` puts on connections: how long a client may take to
//! send a request's headers and body, how many connections may be open at
//! once, and how long shutdown waits for requests in flight.

use std::time::Duration;

/// Connection limits; `ServeConfig::default()` is what `warroom serve` uses
/// unless told otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServeConfig {
    /// Time a client has to send a request's headers, counted from when the
    /// server starts waiting for them: from the accept for the first
    /// request, from the end of the last answer for a kept-alive connection.
    /// So this is also the keep-alive idle limit (hyper's
    /// `header_read_timeout`, which starts its clock whenever it waits for a
    /// request head). The connection is closed when it passes.
    pub header_timeout: Duration,
    /// Time a client has to send a request's whole body once its headers are
    /// in. A handler that reads a body still arriving past it answers
    /// 408 Request Timeout. Must stay under `REQUEST_TIMEOUT`, the handler's
    /// own limit (503), or a stalled body would get that 503 instead.
    pub body_timeout: Duration,
    /// Connections open at once. Past it, a new connection gets a 503 written
    /// without reading its request and is closed at once, so file
    /// descriptors stay for the connections already served.
    pub max_connections: usize,
    /// How long shutdown waits for requests in flight to be answered before
    /// it closes the connections still open.
    pub shutdown_grace: Duration,
}

/// Default `header_timeout`: Go servers' customary `ReadHeaderTimeout`.
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// Default `body_timeout`: 512 KiB (the largest body) at 26 KB/s.
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(20);
/// Default `shutdown_grace`.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// The most connections `default_max_connections` allows, whatever the fd limit.
pub const MAX_CONNECTIONS_CEILING: usize = 4096;

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            header_timeout: DEFAULT_HEADER_TIMEOUT,
            body_timeout: DEFAULT_BODY_TIMEOUT,
            max_connections: default_max_connections(),
            shutdown_grace: DEFAULT_SHUTDOWN_GRACE,
        }
    }
}

/// 4096, or half the process's open-file limit when that is lower, so the
/// database, the journal, log files and outbound webhooks always find a
/// descriptor (with the common soft limit of 1024, 512 connections).
pub fn default_max_connections() -> usize {
    match open_file_limit() {
        Some(limit) => (limit / 2).clamp(1, MAX_CONNECTIONS_CEILING),
        None => MAX_CONNECTIONS_CEILING,
    }
}

/// The soft `RLIMIT_NOFILE`, when there is one.
#[cfg(unix)]
fn open_file_limit() -> Option<usize> {
    use rustix::process::{getrlimit, Resource};
    getrlimit(Resource::Nofile)
        .current
        .and_then(|n| usize::try_from(n).ok())
}

#[cfg(not(unix))]
fn open_file_limit() -> Option<usize> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_cap_stays_under_the_fd_limit() {
        let cap = default_max_connections();
        assert!((1..=MAX_CONNECTIONS_CEILING).contains(&cap));
        if let Some(limit) = open_file_limit() {
            assert!(
                cap <= limit / 2 || limit < 2,
                "cap {cap} with fd limit {limit}"
            );
        }
    }
}
