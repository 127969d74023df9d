//! `/api/v1/tokens`: admins mint, list and revoke API tokens.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use warroom_store::Store;

use super::types::{IssuedTokenView, TokenRequest, TokenView};
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Json, Path};
use crate::state::AppState;

/// Mint a token; its secret is in this response only.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "tokens",
    operation_id = "create_token",
    request_body = TokenRequest,
    responses((status = 201, description = "Minted", body = IssuedTokenView),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 409, description = "Name taken", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
    Json(req): Json<TokenRequest>,
) -> Result<impl IntoResponse, ApiError> {
    caller.require_admin()?;
    let issued = app.tokens.create(&req.name, req.role).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(IssuedTokenView {
            name: issued.token.name,
            role: issued.token.role,
            token: issued.secret,
        }),
    ))
}

/// All tokens, revoked ones included (never their secrets).
#[utoipa::path(get, path = "/api/v1/tokens", tag = "tokens",
    operation_id = "list_tokens",
    responses((status = 200, description = "Tokens", body = Vec<TokenView>),
        (status = 403, description = "Not an admin", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
) -> Result<axum::Json<Vec<TokenView>>, ApiError> {
    caller.require_admin()?;
    let tokens = app.tokens.list().await?;
    Ok(axum::Json(tokens.iter().map(TokenView::from).collect()))
}

/// Revoke a token by name; it stops working at once. The last live admin
/// token cannot be revoked.
#[utoipa::path(delete, path = "/api/v1/tokens/{name}", tag = "tokens",
    operation_id = "revoke_token",
    params(("name" = String, Path, description = "Token name")),
    responses((status = 200, description = "Revoked", body = TokenView),
        (status = 404, description = "No live token of that name", body = ErrorBody),
        (status = 409, description = "The last live admin token; create another admin token first", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn revoke<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<axum::Json<TokenView>, ApiError> {
    caller.require_admin()?;
    let token = app.tokens.revoke(&name).await?;
    Ok(axum::Json(TokenView::from(&token)))
}
