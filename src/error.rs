//! The one error type that crosses the app layer's edge: a stable code, a message a person
//! understands, and optional details (the field, the rule). The CLI maps the code to its exit
//! status; the desktop shell sends `{code, message, details}` over IPC.

use residentdesk_domain::RuleError;
use serde::Serialize;
use serde_json::Value;

/// Stable, machine-readable error classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// Usage error (bad flags).
    Usage,
    /// The actor could not be signed in (bad credentials, locked, no actor).
    Unauthenticated,
    /// Authorisation said no.
    PermissionDenied,
    /// A rule or validation said no.
    InvalidInput,
    NotFound,
    /// Needs a person (sync conflict).
    Conflict,
    /// Anything else (I/O, database).
    Internal,
}

impl ErrorCode {
    /// The CLI's exit code for this class (CLI.md).
    pub fn exit_code(self) -> i32 {
        match self {
            ErrorCode::Usage => 2,
            ErrorCode::PermissionDenied | ErrorCode::Unauthenticated => 3,
            ErrorCode::InvalidInput => 4,
            ErrorCode::NotFound => 5,
            ErrorCode::Conflict => 6,
            ErrorCode::Internal => 1,
        }
    }
}

/// An error of a use case.
#[derive(Debug, Clone, Serialize, thiserror::Error)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[error("{message}")]
pub struct AppError {
    pub code: ErrorCode,
    pub message: String,
    #[serde(skip_serializing_if = "Value::is_null")]
    pub details: Value,
}

impl AppError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        AppError { code, message: message.into(), details: Value::Null }
    }
    pub fn with_details(mut self, details: Value) -> Self {
        self.details = details;
        self
    }
    pub fn invalid(message: impl Into<String>) -> Self {
        AppError::new(ErrorCode::InvalidInput, message)
    }
    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        AppError::new(ErrorCode::InvalidInput, message).with_details(serde_json::json!({ "field": field }))
    }
    pub fn not_found(what: impl Into<String>) -> Self {
        AppError::new(ErrorCode::NotFound, what)
    }
    pub fn denied(reason: impl Into<String>) -> Self {
        AppError::new(ErrorCode::PermissionDenied, reason)
    }
    pub fn internal(message: impl Into<String>) -> Self {
        AppError::new(ErrorCode::Internal, message)
    }
    /// The field the error is about, if any.
    pub fn field(&self) -> Option<&str> {
        self.details.get("field").and_then(Value::as_str)
    }
}

impl From<RuleError> for AppError {
    fn from(e: RuleError) -> Self {
        let mut details = serde_json::to_value(&e).unwrap_or(Value::Null);
        if let (Some(field), Value::Object(map)) = (e.field(), &mut details) {
            map.insert("field".into(), Value::String(field.to_string()));
        }
        AppError::new(ErrorCode::InvalidInput, e.to_string()).with_details(details)
    }
}

impl From<rusqlite::Error> for AppError {
    fn from(e: rusqlite::Error) -> Self {
        AppError::internal(format!("database error: {e}"))
    }
}

impl From<crate::store::StoreError> for AppError {
    fn from(e: crate::store::StoreError) -> Self {
        AppError::internal(e.to_string())
    }
}

pub type AppResult<T> = Result<T, AppError>;
