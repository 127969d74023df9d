//! `/api/v1/oncall/{users,teams,vendors,schedules,escalation-policies}`: the
//! directory's CRUD. One set of generic handlers over `DirectoryDoc`, and a
//! macro that gives each kind its own documented routes.

use axum::http::StatusCode;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use warroom_engine::oncall::{DirectoryDoc, Stored};
use warroom_store::{Store, StoreError};

use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;

type Result<T> = std::result::Result<T, ApiError>;

/// A directory entry: the document's own fields (as sent when it was
/// created) plus where it came from and when it changed.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EntryView {
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub doc: serde_json::Map<String, serde_json::Value>,
    /// `playbook` (read-only through the API) or `api`.
    #[schema(example = "api")]
    pub source: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EntryList {
    pub items: Vec<EntryView>,
}

pub fn view<T: DirectoryDoc>(stored: &Stored<T>) -> Result<EntryView> {
    let doc = match serde_json::to_value(&stored.doc) {
        Ok(serde_json::Value::Object(map)) => map,
        _ => {
            return Err(StoreError::Database(format!(
                "{} {} does not encode as an object",
                T::KIND.as_str(),
                stored.doc.name()
            ))
            .into())
        }
    };
    Ok(EntryView {
        doc,
        source: stored.source.clone(),
        created_at: stored.created_at,
        updated_at: stored.updated_at,
    })
}

pub async fn list<S: Store, T: DirectoryDoc>(app: &AppState<S>) -> Result<axum::Json<EntryList>> {
    let items = app
        .oncall
        .list::<T>()
        .await?
        .iter()
        .map(view)
        .collect::<Result<_>>()?;
    Ok(axum::Json(EntryList { items }))
}

pub async fn create<S: Store, T: DirectoryDoc>(
    app: &AppState<S>,
    caller: &Caller,
    doc: T,
) -> Result<(StatusCode, axum::Json<EntryView>)> {
    caller.require_admin()?;
    let stored = app.oncall.create(doc).await?;
    Ok((StatusCode::CREATED, axum::Json(view(&stored)?)))
}

pub async fn get<S: Store, T: DirectoryDoc>(
    app: &AppState<S>,
    name: &str,
) -> Result<axum::Json<EntryView>> {
    let stored: Stored<T> = app.oncall.get(name).await?;
    Ok(axum::Json(view(&stored)?))
}

pub async fn replace<S: Store, T: DirectoryDoc>(
    app: &AppState<S>,
    caller: &Caller,
    name: &str,
    doc: T,
) -> Result<axum::Json<EntryView>> {
    caller.require_admin()?;
    let stored = app.oncall.replace(name, doc).await?;
    Ok(axum::Json(view(&stored)?))
}

pub async fn delete<S: Store, T: DirectoryDoc>(
    app: &AppState<S>,
    caller: &Caller,
    name: &str,
) -> Result<StatusCode> {
    caller.require_admin()?;
    app.oncall.delete::<T>(name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// One kind's routes: `$module::{list, create, get, replace, delete}`,
/// documented under `/api/v1/oncall/$segment`, and `$module::routes()`.
macro_rules! directory_kind {
    ($module:ident, $doc:ty, $body:ident, $segment:literal, $op:literal, $what:literal) => {
        pub mod $module {
            use axum::extract::State;
            use axum::http::StatusCode;
            use axum::routing::get as get_route;
            use warroom_store::Store;

            use super::{EntryList, EntryView, Result};
            use crate::auth::Caller;
            use crate::error::ErrorBody;
            use crate::extract::{Json, Path};
            use crate::state::AppState;

            #[utoipa::path(get, path = concat!("/api/v1/oncall/", $segment), tag = "oncall",
                operation_id = concat!("list_", $op),
                summary = concat!("List ", $what, "s (playbook and API defined)"),
                responses((status = 200, description = "Every entry, by name", body = EntryList)),
                security(("bearer" = [])))]
            pub async fn list<S: Store>(
                State(app): State<AppState<S>>,
                _caller: Caller,
            ) -> Result<axum::Json<EntryList>> {
                super::list::<S, $doc>(&app).await
            }

            #[utoipa::path(post, path = concat!("/api/v1/oncall/", $segment), tag = "oncall",
                operation_id = concat!("create_", $op),
                summary = concat!("Create a ", $what, " (admin)"),
                description = "The body is the entry's JSON, with the same fields as in the playbook's `oncall:` section; unknown fields are refused. Contact methods start unverified.",
                request_body = crate::api::oncall::bodies::$body,
                responses(
                    (status = 201, description = "Created", body = EntryView),
                    (status = 400, description = "Malformed body or unknown field", body = ErrorBody),
                    (status = 403, description = "Not an admin", body = ErrorBody),
                    (status = 409, description = "The name is taken", body = ErrorBody),
                    (status = 422, description = "A field is not acceptable (named in `field`)", body = ErrorBody),
                ),
                security(("bearer" = [])))]
            pub async fn create<S: Store>(
                State(app): State<AppState<S>>,
                caller: Caller,
                Json(doc): Json<$doc>,
            ) -> Result<(StatusCode, axum::Json<EntryView>)> {
                super::create::<S, $doc>(&app, &caller, doc).await
            }

            #[utoipa::path(get, path = concat!("/api/v1/oncall/", $segment, "/{name}"), tag = "oncall",
                operation_id = concat!("get_", $op),
                summary = concat!("One ", $what),
                params(("name" = String, Path, description = "Handle, e.g. alice")),
                responses(
                    (status = 200, description = "The entry", body = EntryView),
                    (status = 404, description = "No such entry", body = ErrorBody),
                ),
                security(("bearer" = [])))]
            pub async fn get<S: Store>(
                State(app): State<AppState<S>>,
                _caller: Caller,
                Path(name): Path<String>,
            ) -> Result<axum::Json<EntryView>> {
                super::get::<S, $doc>(&app, &name).await
            }

            #[utoipa::path(put, path = concat!("/api/v1/oncall/", $segment, "/{name}"), tag = "oncall",
                operation_id = concat!("replace_", $op),
                summary = concat!("Replace a ", $what, " (admin)"),
                description = "The whole document; its `name` must be the one in the URL. Playbook-defined entries cannot be changed here.",
                params(("name" = String, Path, description = "Handle")),
                request_body = crate::api::oncall::bodies::$body,
                responses(
                    (status = 200, description = "Replaced", body = EntryView),
                    (status = 404, description = "No such entry", body = ErrorBody),
                    (status = 409, description = "Defined by the playbook", body = ErrorBody),
                    (status = 422, description = "A field is not acceptable", body = ErrorBody),
                ),
                security(("bearer" = [])))]
            pub async fn replace<S: Store>(
                State(app): State<AppState<S>>,
                caller: Caller,
                Path(name): Path<String>,
                Json(doc): Json<$doc>,
            ) -> Result<axum::Json<EntryView>> {
                super::replace::<S, $doc>(&app, &caller, &name, doc).await
            }

            #[utoipa::path(delete, path = concat!("/api/v1/oncall/", $segment, "/{name}"), tag = "oncall",
                operation_id = concat!("delete_", $op),
                summary = concat!("Delete a ", $what, " (admin)"),
                params(("name" = String, Path, description = "Handle")),
                responses(
                    (status = 204, description = "Deleted"),
                    (status = 404, description = "No such entry", body = ErrorBody),
                    (status = 409, description = "Defined by the playbook", body = ErrorBody),
                ),
                security(("bearer" = [])))]
            pub async fn delete<S: Store>(
                State(app): State<AppState<S>>,
                caller: Caller,
                Path(name): Path<String>,
            ) -> Result<StatusCode> {
                super::delete::<S, $doc>(&app, &caller, &name).await
            }

            pub fn routes<S: Store>() -> crate::api::Routes<S> {
                crate::api::Routes::new()
                    .route(
                        concat!("/oncall/", $segment),
                        get_route(list::<S>).post(create::<S>),
                    )
                    .route(
                        concat!("/oncall/", $segment, "/{name}"),
                        get_route(get::<S>).put(replace::<S>).delete(delete::<S>),
                    )
            }
        }
    };
}

directory_kind!(
    users,
    warroom_domain::oncall::User,
    UserBody,
    "users",
    "user",
    "user"
);
directory_kind!(
    teams,
    warroom_domain::oncall::Team,
    TeamBody,
    "teams",
    "team",
    "team"
);
directory_kind!(
    vendors,
    warroom_domain::oncall::Vendor,
    VendorBody,
    "vendors",
    "vendor",
    "vendor"
);
directory_kind!(
    schedules,
    warroom_domain::oncall::Schedule,
    ScheduleBody,
    "schedules",
    "schedule",
    "schedule"
);
directory_kind!(
    policies,
    warroom_domain::oncall::EscalationPolicy,
    EscalationPolicyBody,
    "escalation-policies",
    "escalation_policy",
    "escalation policy"
);
