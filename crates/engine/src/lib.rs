//! Warroom's engine: the application services that apply domain rules to
//! stored state (declare, change, authenticate), the clock, the background
//! workers that run on durable rows, their supervisor, and `App`, which
//! builds all of them in one place.

pub mod accounts;
pub mod app;
pub mod clock;
pub mod delivery;
pub mod expiry;
pub mod incidents;
pub mod ingest;
pub mod integrations;
pub mod notify;
pub mod oncall;
pub mod paging;
pub mod server_secret;
pub mod supervisor;
pub mod tokens;
pub mod worker;

pub use accounts::Accounts;
pub use app::{App, AppOptions};
pub use clock::{Clock, ManualClock, OffsetClock, SystemClock};
pub use incidents::{IncidentOp, Incidents};
pub use ingest::{IngestRequest, IngestRules, IngestSource, Ingestor, Outcome, SignalResult};
pub use oncall::Oncall;
pub use paging::Paging;
pub use server_secret::ServerSecrets;
pub use supervisor::{Supervisor, TaskContext};
pub use tokens::{IssuedToken, Tokens};
