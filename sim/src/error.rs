//! The one error type of the v2 surface: an HTTP status plus `{"Error": "..."}`.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use residentdesk_domain::wire::ErrorBody;
use residentdesk_domain::RuleError;

/// An error answered to the client as `{"Error": message}` with `status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    /// Seconds for a `Retry-After` header (429, and injected 503).
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError { status, message: message.into(), retry_after: None }
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, message)
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, message)
    }
    pub fn too_many(retry_after: u64) -> Self {
        ApiError {
            status: StatusCode::TOO_MANY_REQUESTS,
            message: format!("Rate limit exceeded; retry after {retry_after} s"),
            retry_after: Some(retry_after),
        }
    }
}

impl From<RuleError> for ApiError {
    fn from(e: RuleError) -> Self {
        let status = if e.is_conflict() { StatusCode::CONFLICT } else { StatusCode::BAD_REQUEST };
        ApiError::new(status, vendor_message(&e))
    }
}

/// The vendor's API names its own fields: the rules' English is written for people at the
/// desk ("Access end must be after access start"), the simulated remote answers in the wire
/// contract's words ("DeactivationDateUTC"), as the real one would.
fn vendor_message(e: &RuleError) -> String {
    match e {
        RuleError::Required { field } => format!("{field} is required"),
        RuleError::Invalid { field, reason, .. } => format!("{field} is invalid: {reason}"),
        RuleError::EndBeforeStart => {
            "DeactivationDateUTC must be after ActivationDateUTC, or equal to it for an empty stay".into()
        }
        RuleError::PurgeExpired => "resident is already expired and cannot be purged".into(),
        other => other.to_string(),
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp = (self.status, axum::Json(ErrorBody::new(self.message))).into_response();
        if let Some(secs) = self.retry_after {
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                resp.headers_mut().insert(axum::http::header::RETRY_AFTER, v);
            }
        }
        resp
    }
}

/// Result type of the handlers.
pub type ApiResult<T> = Result<T, ApiError>;
