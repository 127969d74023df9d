//! `/api/v1/accounts`: admins create, list, change, disable sign-in
//! accounts for the web UI and reset their passwords. Passwords are never
//! returned, except one the server generated, in the response that made it.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use warroom_domain::AccessRole;
use warroom_engine::accounts::{Account, AccountChange, NewAccount};
use warroom_store::{Store, StoreError};

use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Json, Path};
use crate::state::AppState;

type Result<T> = std::result::Result<T, ApiError>;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountRequest {
    #[schema(example = "alice@example.com")]
    pub email: String,
    #[schema(example = "Alice Example")]
    pub name: String,
    /// admin, responder or viewer.
    #[schema(value_type = super::enums::RoleName)]
    pub role: AccessRole,
    /// 12 to 256 characters; without it the server generates one and
    /// returns it in the response, once.
    #[serde(default)]
    pub password: Option<String>,
}

/// Fields to change; those left out stay as they are.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountPatch {
    #[serde(default)]
    pub name: Option<String>,
    /// admin, responder or viewer.
    #[serde(default)]
    #[schema(value_type = Option<super::enums::RoleName>)]
    pub role: Option<AccessRole>,
    /// A disabled account cannot sign in; disabling ends its sessions.
    #[serde(default)]
    pub disabled: Option<bool>,
}

#[derive(Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordRequest {
    /// The new password; without it the server generates one.
    #[serde(default)]
    pub password: Option<String>,
}

/// An account (never its password).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AccountView {
    pub id: i64,
    pub email: String,
    pub name: String,
    /// admin, responder or viewer.
    #[schema(value_type = super::enums::RoleName)]
    pub role: AccessRole,
    pub disabled: bool,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

impl From<Account> for AccountView {
    fn from(a: Account) -> Self {
        AccountView {
            id: a.id,
            email: a.email,
            name: a.name,
            role: a.role,
            disabled: a.disabled,
            created_at: a.created_at,
        }
    }
}

/// A new account; `password` only when the server generated it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CreatedAccountView {
    #[serde(flatten)]
    pub account: AccountView,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
}

/// A reset password; `password` only when the server generated it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PasswordReset {
    pub id: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
}

/// A duplicate email is a 409 naming the `email` field.
fn email_conflict(err: StoreError) -> ApiError {
    match err {
        StoreError::Conflict(message) if message.starts_with("email:") => {
            ApiError::new(StatusCode::CONFLICT, "conflict", message).with_field("email")
        }
        other => other.into(),
    }
}

/// Create an account. Without `password`, one is generated and returned
/// here only; ask the person to change it after signing in.
#[utoipa::path(post, path = "/api/v1/accounts", tag = "accounts",
    operation_id = "create_account",
    request_body = AccountRequest,
    responses((status = 201, description = "Created", body = CreatedAccountView),
        (status = 400, description = "Malformed body or unknown role", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 409, description = "Email taken", body = ErrorBody),
        (status = 422, description = "Bad email, name or password", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
    Json(req): Json<AccountRequest>,
) -> Result<impl IntoResponse> {
    caller.require_admin()?;
    let new = NewAccount {
        email: req.email,
        name: req.name,
        role: req.role,
        password: req.password,
    };
    let (account, password) = app.accounts.create(new).await.map_err(email_conflict)?;
    Ok((
        StatusCode::CREATED,
        axum::Json(CreatedAccountView {
            account: account.into(),
            password,
        }),
    ))
}

/// All accounts, oldest first.
#[utoipa::path(get, path = "/api/v1/accounts", tag = "accounts",
    operation_id = "list_accounts",
    responses((status = 200, description = "Accounts", body = Vec<AccountView>),
        (status = 403, description = "Not an admin", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
) -> Result<axum::Json<Vec<AccountView>>> {
    caller.require_admin()?;
    let accounts = app.accounts.list().await?;
    Ok(axum::Json(accounts.into_iter().map(Into::into).collect()))
}

/// One account.
#[utoipa::path(get, path = "/api/v1/accounts/{id}", tag = "accounts",
    operation_id = "get_account",
    params(("id" = i64, Path, description = "Account id")),
    responses((status = 200, description = "The account", body = AccountView),
        (status = 404, description = "No such account", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<axum::Json<AccountView>> {
    caller.require_admin()?;
    Ok(axum::Json(app.accounts.get(id).await?.into()))
}

/// Rename, change the role, disable or enable. Disabling ends the
/// account's sessions; the last enabled admin can be neither disabled nor demoted.
#[utoipa::path(patch, path = "/api/v1/accounts/{id}", tag = "accounts",
    operation_id = "update_account",
    params(("id" = i64, Path, description = "Account id")),
    request_body = AccountPatch,
    responses((status = 200, description = "Changed", body = AccountView),
        (status = 404, description = "No such account", body = ErrorBody),
        (status = 409, description = "It is the last enabled admin", body = ErrorBody),
        (status = 422, description = "Bad name", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn update<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(req): Json<AccountPatch>,
) -> Result<axum::Json<AccountView>> {
    caller.require_admin()?;
    let change = AccountChange {
        name: req.name,
        role: req.role,
        disabled: req.disabled,
    };
    Ok(axum::Json(app.accounts.update(id, change).await?.into()))
}

/// Set a new password (generated and returned when none is given); ends
/// all the account's sessions.
#[utoipa::path(post, path = "/api/v1/accounts/{id}/password", tag = "accounts",
    params(("id" = i64, Path, description = "Account id")),
    request_body = PasswordRequest,
    responses((status = 200, description = "Set", body = PasswordReset),
        (status = 404, description = "No such account", body = ErrorBody),
        (status = 422, description = "Bad password", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn reset_password<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(req): Json<PasswordRequest>,
) -> Result<axum::Json<PasswordReset>> {
    caller.require_admin()?;
    let password = app.accounts.reset_password(id, req.password).await?;
    Ok(axum::Json(PasswordReset { id, password }))
}
