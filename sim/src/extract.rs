//! Request extractors whose rejections are `{"Error": "..."}` JSON, never axum's plain text.
//!
//! [`JsonBody`] enforces the content type, the body size limit, JSON syntax, an object at
//! the top level and the target type (unknown and missing fields, wrong types), naming the
//! offending field. [`Ids`] wraps path parameters.

use crate::assumptions::{MAX_BODY_BYTES, REQUIRE_JSON_CONTENT_TYPE};
use crate::error::ApiError;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use http_body_util::BodyExt;
use serde::de::DeserializeOwned;

/// A JSON request body of type `T`, strictly parsed.
#[derive(Debug, Clone)]
pub struct JsonBody<T>(pub T);

/// Reads the whole body, at most [`MAX_BODY_BYTES`]. A larger body is drained (up to a
/// bound) so the client sees the 400 answer rather than a reset connection.
pub async fn read_body_limited(body: axum::body::Body) -> Result<Vec<u8>, ApiError> {
    let mut body = body;
    let mut buf: Vec<u8> = Vec::new();
    let mut seen: usize = 0;
    let drain_bound = MAX_BODY_BYTES.saturating_mul(4);
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| ApiError::bad_request(format!("could not read the request body: {e}")))?;
        if let Ok(data) = frame.into_data() {
            seen = seen.saturating_add(data.len());
            if seen <= MAX_BODY_BYTES {
                buf.extend_from_slice(&data);
            } else if seen > drain_bound {
                break;
            }
        }
    }
    if seen > MAX_BODY_BYTES {
        return Err(ApiError::bad_request(format!(
            "request body is {seen} bytes or more; the limit is {MAX_BODY_BYTES} bytes"
        )));
    }
    Ok(buf)
}

/// Parses `bytes` as a JSON object of type `T`, naming the offending field on failure.
pub fn parse_json_object<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request("request body is empty; expected a JSON object"));
    }
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| ApiError::bad_request(format!("malformed JSON: {e}")))?;
    parse_json_value(value)
}

/// Deserialises an already parsed value as `T`, naming the offending field on failure.
pub fn parse_json_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ApiError> {
    if !value.is_object() {
        return Err(ApiError::bad_request("request body must be a JSON object"));
    }
    serde_path_to_error::deserialize::<_, T>(value).map_err(|e| ApiError::bad_request(describe_serde_error(&e)))
}

/// "invalid value at `Residents[0].FirstName`: invalid type: integer `5`, expected a string".
pub fn describe_serde_error(e: &serde_path_to_error::Error<serde_json::Error>) -> String {
    let path = e.path().to_string();
    let inner = e.inner().to_string();
    if path.is_empty() || path == "." {
        format!("invalid body: {inner}")
    } else {
        format!("invalid value at `{path}`: {inner}")
    }
}

fn content_type_is_json(req: &Request) -> bool {
    req.headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            let mime = v.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
            mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
        })
        .unwrap_or(false)
}

impl<T, S> FromRequest<S> for JsonBody<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let json = content_type_is_json(&req);
        let bytes = read_body_limited(req.into_body()).await?;
        if REQUIRE_JSON_CONTENT_TYPE && !json {
            return Err(ApiError::bad_request("Content-Type must be application/json"));
        }
        parse_json_object(&bytes).map(JsonBody)
    }
}

/// Path parameters; a malformed path segment is a 404 naming the path.
#[derive(Debug, Clone)]
pub struct Ids<T>(pub T);

impl<T, S> FromRequestParts<S> for Ids<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(v)) => Ok(Ids(v)),
            Err(e) => Err(ApiError::not_found(format!("bad path {}: {}", parts.uri.path(), e.body_text()))),
        }
    }
}
