//! Inbound alert endpoints and the formats they accept.

pub mod config;
pub mod formats;
pub mod keys;
pub mod limit;
mod routes;

pub(crate) use config::{mapping_of, routes_of};
pub use routes::routes;
