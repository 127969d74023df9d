//! Inbound alert endpoints and the formats they accept.

pub mod formats;
pub mod limit;
mod routes;

pub use routes::routes;
