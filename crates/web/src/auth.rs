//! Bearer-token authentication and role checks for the API.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use warroom_domain::AccessRole;
use warroom_store::Store;

use crate::error::ApiError;
use crate::state::AppState;

/// Whoever sent the request, as proven by their token. Every API handler
/// takes one, so no route can forget authentication.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The token's name; recorded as the actor on the timeline.
    pub name: String,
    pub role: AccessRole,
}

impl Caller {
    /// Refuses read-only callers.
    pub fn require_responder(&self) -> Result<(), ApiError> {
        if self.role.can_work_incidents() {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "token {:?} has the {} role, which is read-only",
                self.name, self.role
            )))
        }
    }

    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.role.is_admin() {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "token {:?} has the {} role; this needs admin",
                self.name, self.role
            )))
        }
    }
}

impl<S: Store> FromRequestParts<AppState<S>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState<S>,
    ) -> Result<Self, Self::Rejection> {
        let value = parts.headers.get(header::AUTHORIZATION).ok_or_else(|| {
            ApiError::unauthorized(
                "missing Authorization header; send `Authorization: Bearer <token>`",
            )
        })?;
        let secret = value
            .to_str()
            .ok()
            .and_then(|v| {
                let (scheme, token) = v.trim().split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
            })
            .ok_or_else(|| {
                ApiError::unauthorized("the Authorization header must be `Bearer <token>`")
            })?;
        let token = state
            .tokens
            .authenticate(secret)
            .await?
            .ok_or_else(|| ApiError::unauthorized("unknown or revoked token"))?;
        Ok(Caller {
            name: token.name,
            role: token.role,
        })
    }
}
