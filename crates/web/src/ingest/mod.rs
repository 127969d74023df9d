//! Inbound alert endpoints and the formats they accept.

pub mod formats;
mod routes;

pub use routes::routes;
