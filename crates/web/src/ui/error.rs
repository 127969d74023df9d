//! Errors as the UI shows them: an HTML page with the message (and the
//! field it is about), or a redirect to sign in.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use warroom_store::StoreError;

use super::templates::{anonymous_context, render_status};
use crate::error::ApiError;

#[derive(Debug)]
pub enum UiError {
    /// No valid session: sign in, then come back to `next`.
    SignIn { next: String },
    Page {
        status: StatusCode,
        message: String,
        field: Option<String>,
    },
}

impl UiError {
    pub fn forbidden(message: impl Into<String>) -> UiError {
        UiError::Page {
            status: StatusCode::FORBIDDEN,
            message: message.into(),
            field: None,
        }
    }

    pub fn not_found(message: impl Into<String>) -> UiError {
        UiError::Page {
            status: StatusCode::NOT_FOUND,
            message: message.into(),
            field: None,
        }
    }

    pub fn bad_request(field: &str, message: impl Into<String>) -> UiError {
        UiError::Page {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            message: message.into(),
            field: (!field.is_empty()).then(|| field.to_owned()),
        }
    }

    /// The message to show inline next to a form, if this is a user error.
    pub fn form_message(&self) -> Option<(StatusCode, String)> {
        match self {
            UiError::Page {
                status, message, ..
            } if status.is_client_error() => Some((*status, message.clone())),
            _ => None,
        }
    }
}

impl From<ApiError> for UiError {
    fn from(e: ApiError) -> Self {
        UiError::Page {
            status: e.status,
            message: e.message,
            field: e.field,
        }
    }
}

impl From<StoreError> for UiError {
    fn from(e: StoreError) -> Self {
        ApiError::from(e).into()
    }
}

impl From<warroom_domain::DomainError> for UiError {
    fn from(e: warroom_domain::DomainError) -> Self {
        ApiError::from(e).into()
    }
}

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        match self {
            UiError::SignIn { next } => {
                let mut query = form_urlencoded::Serializer::new(String::new());
                query.append_pair("next", &next);
                Redirect::to(&format!("/login?{}", query.finish())).into_response()
            }
            UiError::Page {
                status,
                message,
                field,
            } => {
                let title = status.canonical_reason().unwrap_or("Error");
                render_status(
                    status,
                    "error.html",
                    anonymous_context(
                        title,
                        context! { status => status.as_u16(), message => message, field => field },
                    ),
                )
            }
        }
    }
}
