//! Slow and idle clients against `warroom_web::serve_with` on a real
//! socket: the header and body read timeouts, the connection cap, the
//! service others get meanwhile, and shutdown.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::extract::ConnectInfo;
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use warroom_domain::AccessRole;
use warroom_web::ServeConfig;

use crate::helpers::Api;

/// A server on `127.0.0.1:0`, stopped by `stop`.
struct Served {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

async fn serve(app: Router, config: ServeConfig) -> Served {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(warroom_web::serve_with(listener, app, config, async {
        let _ = stopped.await;
    }));
    Served {
        addr,
        stop: Some(stop),
        task,
    }
}

/// Limits long enough that nothing times out unless a test says so.
fn patient() -> ServeConfig {
    ServeConfig {
        header_timeout: Duration::from_secs(30),
        body_timeout: Duration::from_secs(25),
        max_connections: 4000,
        shutdown_grace: Duration::from_secs(5),
    }
}

async fn sqlite_api() -> (Api, warroom_store::testing::SqliteDb) {
    let db = warroom_store::testing::sqlite().await;
    (Api::new(db.store.clone()).await, db)
}

/// An HTTP answer read off a socket.
struct Answer {
    status: u16,
    head: String,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|_| panic!("{}: non-JSON body {:?}", self.status, self.body))
    }
}

/// Reads one answer off `stream`: the head, then `content-length` bytes.
/// `None` when the server closes the connection before a whole answer.
async fn read_answer(stream: &mut TcpStream) -> Option<Answer> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = find(&buf, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
            let length: usize = head
                .lines()
                .find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse().unwrap())
                })
                .expect("our answers carry content-length");
            if buf.len() >= end + 4 + length {
                let status = head.split(' ').nth(1).unwrap().parse().unwrap();
                let body = String::from_utf8_lossy(&buf[end + 4..end + 4 + length]).into_owned();
                return Some(Answer { status, head, body });
            }
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Sends `request` on a new connection and reads the answer, timing both.
async fn exchange(addr: SocketAddr, request: &str) -> (Answer, Duration) {
    let started = Instant::now();
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let answer = tokio::time::timeout(Duration::from_secs(5), read_answer(&mut stream))
        .await
        .expect("an answer within 5 s")
        .expect("an answer before the connection closed");
    (answer, started.elapsed())
}

fn healthz() -> String {
    "GET /healthz HTTP/1.1\r\nhost: t\r\nconnection: close\r\n\r\n".to_owned()
}

fn enqueue(key: &str, dedup: &str) -> String {
    let body = json!({
        "routing_key": key,
        "event_action": "trigger",
        "dedup_key": dedup,
        "payload": {"summary": "Disk full on db-1", "source": "db-1", "severity": "critical"}
    })
    .to_string();
    format!(
        "POST /v2/enqueue HTTP/1.1\r\nhost: t\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
}

/// The head of a request whose body will never come in full.
fn unfinished_body(path: &str, content_type: &str, extra: &str) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nhost: t\r\ncontent-type: {content_type}\r\n{extra}\
         content-length: 100000\r\n\r\n{{\"routing_"
    )
}

/// How the server left a connection, waiting at most `limit`.
async fn closed_within(stream: &mut TcpStream, limit: Duration) -> bool {
    let mut buf = [0u8; 1024];
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0) | Err(_)) => return true,
            Ok(Ok(_)) => {}
        }
    }
}

/// Whether the server has closed `stream`, without waiting.
fn still_open(stream: &TcpStream) -> bool {
    let mut buf = [0u8; 1];
    matches!(stream.try_read(&mut buf), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
}

/// Connections that each hold a slot: `n` of each kind of slow client.
async fn slow_clients(addr: SocketAddr, n: usize) -> Vec<TcpStream> {
    let mut held = Vec::with_capacity(3 * n);
    for i in 0..3 * n {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        match i % 3 {
            // Connects and says nothing.
            0 => {}
            // An unfinished header line.
            1 => stream
                .write_all(b"GET /healthz HTTP/1.1\r\nhost: t\r\nx-slow: aaaa")
                .await
                .unwrap(),
            // Whole headers, an unfinished body.
            _ => stream
                .write_all(unfinished_body("/v2/enqueue", "application/json", "").as_bytes())
                .await
                .unwrap(),
        }
        held.push(stream);
    }
    held
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn others_are_served_at_once_among_thousands_of_slow_clients() {
    let (api, _db) = sqlite_api().await;
    let key = api.integration("pagerduty").await;
    let served = serve(api.app.clone(), patient()).await;
    // 3,000 held connections are 6,000 descriptors in this one process
    // (both ends), well under the 20,000 a test machine allows.
    let held = slow_clients(served.addr, 1000).await;

    let mut health = Vec::new();
    let mut ingest = Vec::new();
    for i in 0..20 {
        let (answer, took) = exchange(served.addr, &healthz()).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        health.push(took);
        let (answer, took) = exchange(served.addr, &enqueue(&key, &format!("disk-{i}"))).await;
        assert_eq!(answer.status, 202, "{}", answer.body);
        ingest.push(took);
    }
    health.sort();
    ingest.sort();
    eprintln!(
        "among 3000 slow clients: healthz median {:?} max {:?}; enqueue median {:?} max {:?}",
        health[10], health[19], ingest[10], ingest[19]
    );
    assert!(health[19] < Duration::from_millis(100), "{health:?}");
    assert!(ingest[19] < Duration::from_millis(100), "{ingest:?}");
    // The slow clients were all still there while these were answered.
    assert!(held.iter().all(still_open));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_header_timeout_closes_slow_and_idle_connections() {
    let (api, _db) = sqlite_api().await;
    let timeout = Duration::from_secs(1);
    let config = ServeConfig {
        header_timeout: timeout,
        ..patient()
    };
    let served = serve(api.app.clone(), config).await;
    let opened = Instant::now();
    let mut held: Vec<TcpStream> = slow_clients(served.addr, 200)
        .await
        .into_iter()
        .enumerate()
        // The unfinished bodies are the body timeout's business, below.
        .filter_map(|(i, s)| (i % 3 != 2).then_some(s))
        .collect();
    // A kept-alive connection, idle after its first answer.
    let mut kept = TcpStream::connect(served.addr).await.unwrap();
    kept.write_all(b"GET /healthz HTTP/1.1\r\nhost: t\r\n\r\n")
        .await
        .unwrap();
    let answer = read_answer(&mut kept).await.unwrap();
    assert_eq!(answer.status, 200);
    let idle_since = Instant::now();
    held.push(kept);

    for stream in &mut held {
        assert!(
            closed_within(stream, Duration::from_secs(5)).await,
            "a connection was left open past the header timeout"
        );
    }
    let all_closed = opened.elapsed();
    eprintln!(
        "{} slow connections closed {all_closed:?} after the first was opened",
        held.len()
    );
    // Not before their time: the kept-alive one got its full second idle.
    assert!(idle_since.elapsed() >= timeout - Duration::from_millis(50));
    assert!(all_closed < timeout * 3, "{all_closed:?}");
    // And the server still serves.
    let (answer, _) = exchange(served.addr, &healthz()).await;
    assert_eq!(answer.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_body_gets_408_with_our_json_error() {
    let (api, _db) = sqlite_api().await;
    api.engine
        .create_account("ada@example.com", "ada", AccessRole::Responder)
        .await;
    let session = crate::ui::sign_in(&api, "ada@example.com").await.cookie;
    let config = ServeConfig {
        body_timeout: Duration::from_secs(1),
        ..patient()
    };
    let served = serve(api.app.clone(), config).await;
    let bearer = format!("authorization: Bearer {}\r\n", api.responder);
    let cookie = format!("cookie: {session}\r\n");
    let cases = [
        // Raw bodies (alert endpoints): `RawBody`.
        (
            "/integrations/alertmanager/wrk_x",
            "application/json",
            String::new(),
            "application/json",
        ),
        // PagerDuty's endpoint answers in PagerDuty's shape, as for its other errors.
        (
            "/v2/enqueue",
            "application/json",
            String::new(),
            "pagerduty",
        ),
        // The JSON API: `Json`.
        (
            "/api/v1/incidents",
            "application/json",
            bearer,
            "application/json",
        ),
        // A UI form: `Posted`, answered with the UI's page.
        (
            "/logout",
            "application/x-www-form-urlencoded",
            cookie,
            "text/html",
        ),
        // The sign-in form, read by axum's own `Form`.
        (
            "/login",
            "application/x-www-form-urlencoded",
            String::new(),
            "application/json",
        ),
    ];
    for (path, content_type, extra, answered_as) in cases {
        let started = Instant::now();
        let mut stream = TcpStream::connect(served.addr).await.unwrap();
        stream
            .write_all(unfinished_body(path, content_type, &extra).as_bytes())
            .await
            .unwrap();
        let answer = tokio::time::timeout(Duration::from_secs(5), read_answer(&mut stream))
            .await
            .unwrap_or_else(|_| panic!("{path}: no answer within 5 s"))
            .unwrap_or_else(|| panic!("{path}: closed without an answer"));
        let took = started.elapsed();
        assert_eq!(answer.status, 408, "{path}: {}", answer.body);
        assert!(
            took >= Duration::from_millis(950) && took < Duration::from_secs(3),
            "{path}: {took:?}"
        );
        let head = answer.head.to_ascii_lowercase();
        assert!(head.contains("connection: close"), "{path}: {head}");
        assert!(
            closed_within(&mut stream, Duration::from_secs(2)).await,
            "{path}"
        );
        if answered_as == "pagerduty" {
            let body = answer.json();
            assert_eq!(body["status"], "invalid event", "{body}");
            assert!(body["errors"][0]
                .as_str()
                .unwrap()
                .contains("did not arrive within 1 s"));
            continue;
        }
        assert!(
            head.contains(&format!("content-type: {answered_as}")),
            "{path}: {head}"
        );
        if answered_as == "application/json" {
            let body = answer.json();
            assert_eq!(body["error"]["code"], "request_timeout", "{path}: {body}");
            assert!(
                body["error"]["message"]
                    .as_str()
                    .unwrap()
                    .contains("did not arrive within 1 s"),
                "{path}: {body}"
            );
        } else {
            assert!(answer.body.contains("did not arrive within 1 s"), "{path}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_cap_new_connections_are_refused_at_once() {
    let (api, _db) = sqlite_api().await;
    let config = ServeConfig {
        max_connections: 60,
        ..patient()
    };
    let served = serve(api.app.clone(), config).await;
    let held = slow_clients(served.addr, 20).await;

    for _ in 0..5 {
        let (answer, took) = exchange(served.addr, &healthz()).await;
        assert_eq!(answer.status, 503, "{}", answer.body);
        assert_eq!(answer.json()["error"]["code"], "unavailable");
        assert!(took < Duration::from_millis(500), "{took:?}");
    }
    // A connection past the cap is closed, not left hanging.
    let mut extra = TcpStream::connect(served.addr).await.unwrap();
    assert!(closed_within(&mut extra, Duration::from_secs(1)).await);

    drop(held);
    // The server sees the held connections go on its own time: poll.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let (answer, _) = exchange(served.addr, &healthz()).await;
        if answer.status == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "still refused: {}", answer.body);
        tokio::task::yield_now().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_finishes_requests_in_flight_then_stops() {
    let (api, _db) = sqlite_api().await;
    let key = api.integration("pagerduty").await;
    let config = ServeConfig {
        shutdown_grace: Duration::from_secs(1),
        ..patient()
    };
    let mut served = serve(api.app.clone(), config).await;
    let mut idle = TcpStream::connect(served.addr).await.unwrap();
    // A request in flight: its headers in, its body not yet.
    let request = enqueue(&key, "in-flight");
    let (head, body) = request.split_at(request.find("\r\n\r\n").unwrap() + 4);
    let mut in_flight = TcpStream::connect(served.addr).await.unwrap();
    in_flight.write_all(head.as_bytes()).await.unwrap();
    // One that will never finish.
    let mut stuck = TcpStream::connect(served.addr).await.unwrap();
    stuck
        .write_all(unfinished_body("/v2/enqueue", "application/json", "").as_bytes())
        .await
        .unwrap();
    // Let the server take the three before it is told to stop.
    let (answer, _) = exchange(served.addr, &healthz()).await;
    assert_eq!(answer.status, 200);

    let stopping = Instant::now();
    served.stop.take().unwrap().send(()).unwrap();
    assert!(
        closed_within(&mut idle, Duration::from_secs(1)).await,
        "an idle connection is closed at once"
    );
    in_flight.write_all(body.as_bytes()).await.unwrap();
    let answer = read_answer(&mut in_flight)
        .await
        .expect("the request in flight is answered");
    assert_eq!(answer.status, 202, "{}", answer.body);
    assert!(closed_within(&mut in_flight, Duration::from_secs(1)).await);

    tokio::time::timeout(Duration::from_secs(4), &mut served.task)
        .await
        .expect("serve returns once the grace has passed")
        .unwrap()
        .unwrap();
    let took = stopping.elapsed();
    assert!(took >= Duration::from_millis(950), "{took:?}");
    assert!(closed_within(&mut stuck, Duration::from_secs(1)).await);
    assert!(
        TcpStream::connect(served.addr).await.is_err(),
        "still listening"
    );
}

#[tokio::test]
async fn handlers_see_the_clients_address() {
    let app = Router::new().route(
        "/whoami",
        get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move { peer.to_string() }),
    );
    let served = serve(app, patient()).await;
    let mut stream = TcpStream::connect(served.addr).await.unwrap();
    let me = stream.local_addr().unwrap();
    stream
        .write_all(b"GET /whoami HTTP/1.1\r\nhost: t\r\n\r\n")
        .await
        .unwrap();
    let answer = read_answer(&mut stream).await.unwrap();
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body, me.to_string());
}
