//! The error responses every API operation can give, added to the OpenAPI
//! document in one place instead of in each handler's annotation.
//!
//! They come from the edge, not from the handler: `Caller` (401, 403), the
//! extractors in `crate::extract` (400, 413, 415), `ApiError`'s mapping of
//! domain and store errors (404, 422, 503). An operation that documents a
//! code itself keeps its own, more specific description.

use utoipa::openapi::path::Operation;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr};
use utoipa::Modify;

/// When a common response applies to an operation.
#[derive(Clone, Copy)]
enum When {
    Always,
    /// The operation has path or query parameters, or a request body.
    HasInput,
    /// The operation has path parameters (something named that may be missing).
    HasPath,
    HasBody,
}

/// (status, component name, description, when).
const COMMON: &[(&str, &str, &str, When)] = &[
    (
        "400",
        "BadRequest",
        "A parameter or body field is malformed; `field` names it",
        When::HasInput,
    ),
    (
        "401",
        "Unauthorized",
        "No `Authorization: Bearer` token, or an unknown or revoked one",
        When::Always,
    ),
    (
        "403",
        "Forbidden",
        "The token's role may not do this: viewers only read, and tokens and accounts are admin-only",
        When::Always,
    ),
    (
        "404",
        "NotFound",
        "Nothing has the identifier in the path",
        When::HasPath,
    ),
    (
        "413",
        "PayloadTooLarge",
        "The request body is over the size limit",
        When::HasBody,
    ),
    (
        "415",
        "UnsupportedMediaType",
        "The body is not sent as `application/json`",
        When::HasBody,
    ),
    (
        "422",
        "Unprocessable",
        "A field's value can never be accepted (an unknown name, a limit, a rule of the playbook); `field` names it",
        When::HasInput,
    ),
    (
        "503",
        "Unavailable",
        "The database is unavailable; retry after `Retry-After` seconds",
        When::Always,
    ),
];

/// Adds the common error responses to every operation and their
/// definitions to `components.responses`.
pub struct CommonResponses;

impl Modify for CommonResponses {
    fn modify(&self, openapi: &mut OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        for (_, name, description, _) in COMMON {
            components
                .responses
                .insert((*name).to_owned(), RefOr::T(error_response(description)));
        }
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for operation in operations.into_iter().flatten() {
                add_common(operation);
            }
        }
    }
}

fn add_common(operation: &mut Operation) {
    let params = operation.parameters.as_deref().unwrap_or_default();
    let has_path = params
        .iter()
        .any(|p| matches!(p.parameter_in, utoipa::openapi::path::ParameterIn::Path));
    let has_body = operation.request_body.is_some();
    let has_input = has_body || !params.is_empty();
    for (status, name, _, when) in COMMON {
        let applies = match when {
            When::Always => true,
            When::HasInput => has_input,
            When::HasPath => has_path,
            When::HasBody => has_body,
        };
        if applies {
            operation
                .responses
                .responses
                .entry((*status).to_owned())
                .or_insert_with(|| RefOr::Ref(Ref::from_response_name(*name)));
        }
    }
}

fn error_response(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build()
}
