//! Request extractors that turn bad input into `ApiError`s naming the field:
//! JSON bodies, query strings and path segments, and raw bodies over the
//! size limit or too slow to arrive.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// A JSON body. An empty body counts as `{}` so that bodiless actions
/// (`POST .../acknowledge`) need no payload.
pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let has_json_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                let mime = v.split(';').next().unwrap_or("").trim();
                mime.eq_ignore_ascii_case("application/json") || mime.ends_with("+json")
            });
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(unreadable_body)?;
        let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
            b"{}"
        } else {
            if has_json_type == Some(false) {
                return Err(ApiError::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "unsupported_media_type",
                    "send the body as JSON with Content-Type: application/json",
                ));
            }
            &bytes
        };
        // Every request body of this API is an object; serde would otherwise
        // accept `[..]` as a struct's fields by position.
        if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Err(ApiError::bad_request(
                "",
                "the body must be a JSON object, e.g. {\"title\": \"...\"}",
            ));
        }
        parse_json(bytes).map(Json)
    }
}

/// A request body as it came, for the alert endpoints, which parse each
/// format themselves. A body over `MAX_BODY_BYTES` gets the API's JSON
/// error naming the limit, where axum's own rejection is plain text.
pub struct RawBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Bytes::from_request(req, state)
            .await
            .map(RawBody)
            .map_err(unreadable_body)
    }
}

/// A body that could not be read: over the size limit, stalled past the
/// body read timeout (`serve::ServeConfig::body_timeout`), or cut off.
fn unreadable_body(e: BytesRejection) -> ApiError {
    if let Some(timed_out) = crate::serve::body::body_timed_out(&e) {
        crate::serve::body::request_timeout(timed_out)
    } else if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!(
                "the request body is over {} KiB, the most one request may carry",
                crate::MAX_BODY_BYTES / 1024
            ),
        )
    } else {
        ApiError::bad_request("", format!("cannot read the request body: {e}"))
    }
}

/// Deserializes JSON, naming the path of the field at fault; a string with
/// a control character is refused (`crate::text`).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    crate::text::check_json(bytes)?;
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        let message = inner.to_string();
        if inner.is_syntax() || inner.is_eof() {
            ApiError::bad_request("", format!("malformed JSON: {message}"))
        } else {
            let field = if path == "." {
                unknown_field_name(&message).unwrap_or_default()
            } else {
                path
            };
            ApiError::bad_request(field, message)
        }
    })?;
    de.end()
        .map_err(|e| ApiError::bad_request("", format!("malformed JSON: {e}")))?;
    Ok(value)
}

/// serde reports unknown, duplicate and missing top-level fields without a
/// path; pull the name out of the message (`unknown field `x`, expected ...`).
fn unknown_field_name(message: &str) -> Option<String> {
    let rest = message
        .strip_prefix("unknown field `")
        .or_else(|| message.strip_prefix("duplicate field `"))
        .or_else(|| message.strip_prefix("missing field `"))?;
    Some(rest.split('`').next()?.to_owned())
}

/// Query string parameters.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        crate::text::check_pairs(query.as_bytes())?;
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(Query)
            .map_err(|err| {
                let path = err.path().to_string();
                let message = err.into_inner().to_string();
                let field = if path == "." {
                    unknown_field_name(&message).unwrap_or_default()
                } else {
                    path
                };
                ApiError::bad_request(field, message)
            })
    }
}

/// Path parameters.
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(v)| Path(v))
            .map_err(|e: PathRejection| ApiError::bad_request("path", e.body_text()))
    }
}
