//! Warroom's engine: the application services that apply domain rules to
//! stored state (declare, change, authenticate), the clock, the background
//! workers that run on durable rows, their supervisor, and `App`, which
//! builds all of them in one place.

pub mod accounts;
pub mod alerts;
pub mod app;
pub mod clock;
pub mod delivery;
pub mod expiry;
pub mod health;
pub mod incidents;
pub mod ingest;
pub mod integrations;
pub mod maintenance;
pub mod merge;
pub mod notify;
pub mod oncall;
pub mod paging;
pub mod server_secret;
pub mod silences;
pub mod supervisor;
pub mod tokens;
pub mod worker;

pub use accounts::Accounts;
pub use alerts::Alerts;
pub use app::{App, AppOptions};
pub use clock::{Clock, ManualClock, OffsetClock, SystemClock};
pub use health::Health;
pub use incidents::{IncidentOp, Incidents};
pub use ingest::{IngestRequest, IngestRules, IngestSource, Ingestor, Outcome, SignalResult};
pub use integrations::Integrations;
pub use maintenance::Maintenance;
pub use oncall::Oncall;
pub use paging::Paging;
pub use server_secret::ServerSecrets;
pub use silences::Silences;
pub use supervisor::{Supervisor, TaskContext};
pub use tokens::{ApiTokens, IssuedToken, Tokens};
