//! Errors as RFC 9457 `application/problem+json` (API) or a plain page (HTML).
//!
//! Handlers return `Result<_, Problem>`; the status and a sentence a user can act on are all a
//! caller sees. Internal details (database messages) go to the log under the request id, never
//! into a response.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::pool::PoolError;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// Always `about:blank`: the status says what kind of problem it is.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Seconds to wait (429 only); also sent as `Retry-After`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// Every located problem of a refused file (e.g. `row 5, column "数值 value": …`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<String>>,
    /// Set when the response should be HTML (a page, not the API).
    #[serde(skip)]
    pub html: bool,
}

impl Problem {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        Problem {
            kind: "about:blank",
            title: status.canonical_reason().unwrap_or("Error").to_string(),
            status: status.as_u16(),
            detail: detail.into(),
            retry_after: None,
            errors: None,
            html: false,
        }
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, detail)
    }
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "log in first (POST /api/v1/session), or send an API token as `Authorization: Bearer …`",
        )
    }
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, detail)
    }
    pub fn not_found(what: impl Into<String>) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            format!("{} was not found", what.into()),
        )
    }
    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, detail)
    }
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the server could not complete the request; the request id in the response headers finds it in the log",
        )
    }
    pub fn too_many(retry_after: u64) -> Self {
        let mut p = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            format!("too many failed logins; try again in {retry_after} s"),
        );
        p.retry_after = Some(retry_after);
        p
    }

    /// Renders as an HTML page instead of JSON.
    pub fn page(mut self) -> Self {
        self.html = true;
        self
    }
}

impl From<PoolError> for Problem {
    fn from(e: PoolError) -> Self {
        match e {
            PoolError::Store(govcap_store::StoreError::NotFound(what)) => Problem::not_found(what),
            PoolError::Store(govcap_store::StoreError::Conflict(what)) => Problem::conflict(what),
            other => {
                tracing::error!(error = %other, "database call failed");
                Problem::internal()
            }
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let retry = self.retry_after;
        let mut resp = if self.html {
            let errors = self.errors.clone().unwrap_or_default();
            let body = crate::pages::layout::error_page_with(status, &self.detail, &errors);
            (status, body).into_response()
        } else {
            let body = serde_json::to_vec(&self).unwrap_or_default();
            let mut r = (status, body).into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/problem+json"),
            );
            r
        };
        if let Some(s) = retry {
            if let Ok(v) = HeaderValue::from_str(&s.to_string()) {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        resp
    }
}
