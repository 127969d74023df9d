//! Live updates: one poller per server watches the timeline for incidents
//! that changed and fans the changes out to every open browser over
//! Server-Sent Events.
//!
//! Polling the database (every 250 ms, one indexed query) rather than
//! hooking the engine means changes made by any writer (the ingest task,
//! the paging and delivery workers, another process on the same database)
//! reach the browsers the same way. A browser that loses the stream (a
//! server restart) reconnects by itself and reloads what it shows.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::{Stream, StreamExt as _};
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use tokio::sync::broadcast;
use warroom_engine::supervisor::OnExit;
use warroom_engine::{Incidents, Supervisor, TaskContext};
use warroom_store::Store;

use super::session::Viewer;
use crate::state::AppState;

/// How often the poller looks for changes; the UI promises "within a second".
pub const POLL_EVERY: Duration = Duration::from_millis(250);
/// How far back each poll looks past the newest change it saw, so a write
/// that committed late (or a writer whose clock is a little behind) is
/// not missed; repeats are filtered by sequence number.
const LOOKBACK: SignedDuration = SignedDuration::from_secs(5);

/// One incident's timeline grew.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Change {
    pub id: String,
    pub seq: i64,
}

/// The supervisor's name for the poller.
pub const TASK: &str = "live feed";

/// The fan-out point; the poller starts, as a supervised task, with the
/// first subscriber.
pub struct LiveFeed {
    sender: OnceLock<broadcast::Sender<Change>>,
    supervisor: Supervisor,
}

impl LiveFeed {
    pub fn new(supervisor: Supervisor) -> LiveFeed {
        LiveFeed {
            sender: OnceLock::new(),
            supervisor,
        }
    }

    pub fn subscribe<S: Store>(&self, incidents: &Incidents<S>) -> broadcast::Receiver<Change> {
        self.sender
            .get_or_init(|| {
                let (sender, _) = broadcast::channel(1024);
                let (incidents, fan_out) = (incidents.clone(), sender.clone());
                self.supervisor.spawn(TASK, OnExit::Restart, move |task| {
                    poll(incidents.clone(), fan_out.clone(), task)
                });
                sender
            })
            .subscribe()
    }

    /// Returns when the server shuts down, so open streams end and the
    /// server need not wait for them.
    pub async fn closed(&self) {
        self.supervisor.shutdown_signal().wait().await;
    }
}

async fn poll<S: Store>(
    incidents: Incidents<S>,
    sender: broadcast::Sender<Change>,
    task: TaskContext,
) {
    let clock = incidents.shared_clock();
    let mut newest: Timestamp = clock.now();
    let mut last_seq: HashMap<String, (i64, Timestamp)> = HashMap::new();
    let mut interval = tokio::time::interval(POLL_EVERY);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = interval.tick() => {}
            () = task.shutdown.wait() => return,
        }
        task.heartbeat.ran(clock.now());
        let since = newest - LOOKBACK;
        let changes = match incidents.changed_since(since, 1000).await {
            Ok(changes) => changes,
            Err(e) => {
                tracing::warn!(error = %e, "live feed poll failed; retrying");
                continue;
            }
        };
        for change in changes {
            newest = newest.max(change.updated_at);
            let known = last_seq.get(&change.id).map(|(seq, _)| *seq);
            if known.is_some_and(|seq| seq >= change.last_event_seq) {
                continue;
            }
            last_seq.insert(
                change.id.clone(),
                (change.last_event_seq, change.updated_at),
            );
            // No receivers is fine: nobody is looking right now.
            let _ = sender.send(Change {
                id: change.id,
                seq: change.last_event_seq,
            });
        }
        last_seq.retain(|_, (_, at)| *at >= since);
    }
}

/// `GET /events`: `change` events (`{"id","seq"}`) for a signed-in browser.
pub async fn events<S: Store>(
    State(app): State<AppState<S>>,
    _viewer: Viewer,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let receiver = app.live.subscribe(&app.incidents);
    let hello = Event::default()
        .retry(Duration::from_secs(1))
        .comment("live");
    let changes = futures::stream::unfold(receiver, |mut receiver| async move {
        let event = match receiver.recv().await {
            Ok(change) => Event::default()
                .event("change")
                .json_data(&change)
                .unwrap_or_else(|_| Event::default().comment("unencodable")),
            // Too slow to keep up: tell the page to reload everything.
            Err(broadcast::error::RecvError::Lagged(_)) => Event::default()
                .event("change")
                .data(r#"{"id":"*","seq":0}"#),
            Err(broadcast::error::RecvError::Closed) => return None,
        };
        Some((Ok(event), receiver))
    });
    let live = Arc::clone(&app.live);
    let stream = futures::stream::iter([Ok(hello)])
        .chain(changes)
        .take_until(async move { live.closed().await });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}
