//! An in-process client for the router, with tokens of every role.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use jiff::Timestamp;
use serde_json::Value;
use tower::ServiceExt;
use warroom_domain::{AccessRole, Playbook};
use warroom_engine::delivery::{Channels, Delivery, SendError};
use warroom_engine::paging::AckLinks;
use warroom_engine::{App, AppOptions, ManualClock, Tokens};
use warroom_store::{MessageRecord, Store};
use warroom_web::ingest::limit::IngestLimiter;
use warroom_web::{router, AppState};

pub struct Api {
    pub app: Router,
    pub clock: ManualClock,
    pub admin: String,
    pub responder: String,
    pub viewer: String,
    /// Signs acknowledge links the server accepts.
    pub links: AckLinks,
    /// The services behind the router, for what tests do without HTTP.
    pub engine: Arc<dyn Engine>,
}

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The engine calls tests make directly, over whichever backend.
pub trait Engine: Send + Sync {
    /// Runs the paging jobs due at `now`; returns how many ran.
    fn run_paging(&self, now: Timestamp) -> BoxFuture<'_, usize>;
    /// Starts a contact-method verification and returns the code sent.
    fn start_verification<'a>(&'a self, user: &'a str, method: &'a str) -> BoxFuture<'a, String>;
    /// Runs delivery at `now` over channels that refuse every message for
    /// good (so each becomes `dead`); returns how many were handled.
    fn refuse_deliveries(&self, now: Timestamp) -> BoxFuture<'_, usize>;
    /// Creates a sign-in account with the password `UI_PASSWORD`.
    fn create_account<'a>(
        &'a self,
        email: &'a str,
        name: &'a str,
        role: AccessRole,
    ) -> BoxFuture<'a, ()>;
    /// Whether this email and password sign in.
    fn signs_in<'a>(&'a self, email: &'a str, password: &'a str) -> BoxFuture<'a, bool>;
}

/// The password of every account `Engine::create_account` makes.
pub const UI_PASSWORD: &str = "correct horse battery";

/// A channel that refuses everything, permanently.
struct Refusing;

impl Channels for Refusing {
    async fn send(&self, _message: &MessageRecord) -> Result<String, SendError> {
        Err(SendError {
            temporary: false,
            message: "refused by the test channel".to_owned(),
        })
    }
}

impl<S: Store> Engine for AppState<S> {
    fn run_paging(&self, now: Timestamp) -> BoxFuture<'_, usize> {
        Box::pin(async move { self.paging.run_once(now).await.unwrap() })
    }
    fn start_verification<'a>(&'a self, user: &'a str, method: &'a str) -> BoxFuture<'a, String> {
        Box::pin(async move { self.oncall.start_verification(user, method).await.unwrap() })
    }
    fn refuse_deliveries(&self, now: Timestamp) -> BoxFuture<'_, usize> {
        Box::pin(async move {
            let store = self.incidents.store().clone();
            let clock = self.incidents.shared_clock();
            let delivery = Delivery::new(store, Arc::new(Refusing), clock, 1);
            delivery.deliver_once(now).await.unwrap()
        })
    }
    fn create_account<'a>(
        &'a self,
        email: &'a str,
        name: &'a str,
        role: AccessRole,
    ) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            self.accounts
                .create(warroom_engine::accounts::NewAccount {
                    email: email.to_owned(),
                    name: name.to_owned(),
                    role,
                    password: Some(UI_PASSWORD.to_owned()),
                })
                .await
                .unwrap();
        })
    }
    fn signs_in<'a>(&'a self, email: &'a str, password: &'a str) -> BoxFuture<'a, bool> {
        Box::pin(async move {
            let signed = self.accounts.sign_in(email, password).await.unwrap();
            signed.is_some()
        })
    }
}

/// A text (HTML, calendar) response.
pub struct Page {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
    pub headers: axum::http::HeaderMap,
}

impl Reply {
    /// The `field` of an error body.
    pub fn field(&self) -> &str {
        self.body["error"]["field"].as_str().unwrap_or("")
    }
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

impl Api {
    pub async fn new<S: Store>(store: S) -> Api {
        Api::with_limit(store, IngestLimiter::unlimited()).await
    }

    pub async fn with_limit<S: Store>(store: S, limit: IngestLimiter) -> Api {
        Api::build(store, limit, Playbook::builtin()).await
    }

    /// An `Api` over `playbook` (its `oncall:` entries synced into the directory).
    pub async fn with_playbook<S: Store>(store: S, playbook: Playbook) -> Api {
        Api::build(store, IngestLimiter::unlimited(), playbook).await
    }

    async fn build<S: Store>(store: S, limit: IngestLimiter, playbook: Playbook) -> Api {
        let clock = ManualClock::new("2026-11-25T14:00:00Z".parse::<Timestamp>().unwrap());
        let now = clock.now_for_tests();
        let token = |name: &'static str, role| {
            let store = store.clone();
            async move {
                Tokens::create(&store, name, role, now)
                    .await
                    .unwrap()
                    .secret
            }
        };
        let admin = token("root", AccessRole::Admin).await;
        let responder = token("alice", AccessRole::Responder).await;
        let viewer = token("victor", AccessRole::Viewer).await;
        // Built as `warroom serve` builds it; the tests drive the workers'
        // rounds themselves, with the manual clock.
        let app = App::build(
            store,
            Arc::new(playbook),
            Arc::new(clock.clone()),
            AppOptions::new(Refusing),
        );
        let state = AppState::new(&app).with_ingest_limit(limit);
        state.oncall.sync_playbook().await.unwrap();
        Api {
            app: router(state.clone()),
            clock,
            admin,
            responder,
            viewer,
            links: state.paging.links().clone(),
            engine: Arc::new(state),
        }
    }

    pub async fn raw(&self, req: Request<Body>) -> Reply {
        let response = self.app.clone().oneshot(req).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|_| {
                panic!(
                    "{status}: non-JSON body {:?}",
                    String::from_utf8_lossy(&bytes)
                )
            })
        };
        Reply {
            status,
            body,
            headers,
        }
    }

    /// A request whose answer is text (HTML, a calendar), with no token.
    pub async fn page(&self, method: Method, uri: &str) -> Page {
        let mut req = Request::builder().method(method.clone()).uri(uri);
        if method == Method::POST {
            req = req.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        }
        let response = self
            .app
            .clone()
            .oneshot(req.body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        Page {
            status,
            headers,
            body: String::from_utf8(bytes.to_vec()).unwrap(),
        }
    }

    /// A request with `token` (if any) and a JSON body given as text, so tests
    /// can send malformed JSON too.
    pub async fn send(
        &self,
        method: Method,
        uri: &str,
        token: Option<&str>,
        body: Option<&str>,
    ) -> Reply {
        let mut req = Request::builder().method(method).uri(uri);
        if let Some(token) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let req = match body {
            Some(body) => req
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_owned())),
            None => req.body(Body::empty()),
        };
        self.raw(req.unwrap()).await
    }

    /// A new integration of `kind` for service `api`, made by the admin; its key.
    pub async fn integration(&self, kind: &str) -> String {
        let body = serde_json::json!({"service": "api", "name": format!("{kind}-1"), "kind": kind});
        let r = self
            .send(
                Method::POST,
                "/api/v1/integrations",
                Some(&self.admin),
                Some(&body.to_string()),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        r.body["key"].as_str().unwrap().to_owned()
    }

    pub async fn get(&self, uri: &str) -> Reply {
        self.send(Method::GET, uri, Some(&self.responder), None)
            .await
    }

    pub async fn post(&self, uri: &str, body: Value) -> Reply {
        self.send(
            Method::POST,
            uri,
            Some(&self.responder),
            Some(&body.to_string()),
        )
        .await
    }

    pub async fn call(&self, method: Method, uri: &str, body: Value) -> Reply {
        self.send(method, uri, Some(&self.responder), Some(&body.to_string()))
            .await
    }

    /// Declares and returns the new incident's id.
    pub async fn declare(&self, title: &str, severity: &str) -> String {
        let r = self
            .post(
                "/api/v1/incidents",
                serde_json::json!({"title": title, "severity": severity, "services": ["api"]}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        r.body["id"].as_str().unwrap().to_owned()
    }
}

/// Lets tests read the manual clock without importing the trait everywhere.
pub trait NowForTests {
    fn now_for_tests(&self) -> Timestamp;
}

impl NowForTests for ManualClock {
    fn now_for_tests(&self) -> Timestamp {
        warroom_engine::Clock::now(self)
    }
}

/// The built-in playbook plus an `oncall:` section: alice and bob (verified
/// e-mail and SMS), team `dba`, vendor `sip-trunk`, schedule `primary`
/// (weekly UTC hand-off on Mondays 09:00; alice has the week of
/// 2026-11-23), and policy `default` (primary, then the team), the default
/// of every service.
/// An `Api` over the playbook of `oncall_playbook`.
pub async fn oncall_api<S: Store>(store: S) -> Api {
    Api::with_playbook(store, oncall_playbook()).await
}

pub fn oncall_playbook() -> Playbook {
    const YAML: &str = r#"
oncall:
  users:
    - name: alice
      email: alice@example.com
      contact_methods:
        - {id: mail, kind: email, address: alice@example.com}
    - name: bob
      email: bob@example.com
      contact_methods:
        - {id: phone, kind: sms, address: "+14155550101"}
  teams:
    - name: dba
      members: [alice, bob]
  vendors:
    - name: sip-trunk
      provides: SIP Trunk Provider
  schedules:
    - name: primary
      time_zone: UTC
      layers:
        - name: weekly
          users: [alice, bob]
          shift: {weeks: 1}
          start: 2026-11-23T09:00:00
  escalation_policies:
    - name: default
      steps:
        - delay_minutes: 5
          targets: [{type: schedule, name: primary}]
        - delay_minutes: 10
          targets: [{type: team, name: dba}]
  default_escalation_policy: default
"#;
    Playbook::parse("oncall.yaml", YAML).unwrap()
}
