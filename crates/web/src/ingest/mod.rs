//! Inbound alert endpoints and the formats they accept.

pub mod formats;
pub mod keys;
pub mod limit;
mod routes;

pub use routes::routes;
pub(crate) use routes::routes_of;
