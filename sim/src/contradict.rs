//! A switch that makes the simulator contradict one of the contract's working assumptions
//! (contract §A; the client's list with the same ids is `src/sync/assumptions.rs`), so the
//! client's first-contact check (`residentdesk remote check`) can be tried against each
//! contradicted shape in turn.
//!
//! The handlers are untouched: [`apply`] rewrites a `/v2` answer on its way out (a field
//! renamed, a different casing, a value outside the documented ones, another status code).
//! Set it with `PUT /__sim/contradict {"assumption": "residents.status"}` (or `null` to go
//! back to the contract), `SimConfig::contradict`, or `SimHandle::set_contradiction`.
//! Writes are applied as usual; only what the remote answers changes.

use axum::body::Body;
use axum::http::{header, HeaderValue, Response, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One contradicted assumption (serialised as the client's assumption id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Contradiction {
    /// The token answer spells `accessToken` and `token_type: "MAC"`.
    #[serde(rename = "token.shape")]
    TokenShape,
    /// A bad or expired token gets 403 instead of 401.
    #[serde(rename = "token.bad_is_401")]
    BadToken403,
    /// Error bodies are `{"message": ...}` instead of `{"Error": ...}`.
    #[serde(rename = "errors.body")]
    ErrorBody,
    /// `Retry-After` is an HTTP date instead of seconds.
    #[serde(rename = "errors.retry_after")]
    RetryAfterDate,
    /// `/team` items are `{teamId, name}` (another casing).
    #[serde(rename = "teams.shape")]
    TeamsCasing,
    /// `/site` items carry `Timezone` instead of `TimeZone`.
    #[serde(rename = "sites.shape")]
    SitesTimezone,
    /// Mappings' `Floor` and `Unit` come as numbers.
    #[serde(rename = "mappings.shape")]
    MappingsNumbers,
    /// The resident envelope is `{"error", "residents"}` (lowercase).
    #[serde(rename = "residents.envelope")]
    EnvelopeCasing,
    /// `ActivationDateUTC` / `DeactivationDateUTC` come without an offset.
    #[serde(rename = "residents.fields")]
    DatesWithoutOffset,
    /// The phone comes as `MobilePhone` (neither PhoneNumber, Phone nor Mobile).
    #[serde(rename = "residents.phone")]
    PhoneRenamed,
    /// Status labels are capitalised (`"Current"`).
    #[serde(rename = "residents.status")]
    StatusCasing,
    /// `OnboardedAt` is `MM/DD/YYYY hh:mm:ss`.
    #[serde(rename = "residents.onboarded_at")]
    OnboardedAtFormat,
    /// A job's status is `completed` / `running` instead of `finished` / `started`.
    #[serde(rename = "jobs.status_shape")]
    JobStatusValue,
    /// An unknown job id gets 400 instead of 404.
    #[serde(rename = "jobs.unknown_is_404")]
    UnknownJob400,
}

impl Contradiction {
    /// Every contradiction the simulator can answer.
    pub const ALL: [Contradiction; 14] = [
        Contradiction::TokenShape,
        Contradiction::BadToken403,
        Contradiction::ErrorBody,
        Contradiction::RetryAfterDate,
        Contradiction::TeamsCasing,
        Contradiction::SitesTimezone,
        Contradiction::MappingsNumbers,
        Contradiction::EnvelopeCasing,
        Contradiction::DatesWithoutOffset,
        Contradiction::PhoneRenamed,
        Contradiction::StatusCasing,
        Contradiction::OnboardedAtFormat,
        Contradiction::JobStatusValue,
        Contradiction::UnknownJob400,
    ];

    /// The client's assumption id.
    pub fn id(self) -> String {
        serde_json::to_value(self).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
    }
}

/// What a `/v2` path (after `/v2`) is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    Token,
    Teams,
    Sites,
    Mappings,
    /// Resident list, one resident, POST/PUT answers.
    Residents,
    Job,
    Other,
}

fn route(path: &str) -> Route {
    let p: Vec<&str> = path.trim_start_matches("/v2").trim_matches('/').split('/').collect();
    match p.as_slice() {
        ["oauth", "token"] => Route::Token,
        ["team"] => Route::Teams,
        ["team", _, "site"] => Route::Sites,
        ["team", _, "site", _, "mappings"] => Route::Mappings,
        ["team", _, "site", _, "resident", "import" | "bulkaction", _] => Route::Job,
        ["team", _, "site", _, "resident"] | ["team", _, "site", _, "resident", _] => Route::Residents,
        _ => Route::Other,
    }
}

fn rename(o: &mut Map<String, Value>, from: &str, to: &str) {
    if let Some(v) = o.remove(from) {
        o.insert(to.into(), v);
    }
}

fn residents_mut(body: &mut Value) -> Vec<&mut Map<String, Value>> {
    match body.get_mut("Residents") {
        Some(Value::Array(items)) => items.iter_mut().filter_map(Value::as_object_mut).collect(),
        _ => Vec::new(),
    }
}

/// Rewrites the JSON body of an answer (a success unless said otherwise).
fn rewrite(c: Contradiction, route: Route, status: StatusCode, body: &mut Value) {
    use Contradiction as C;
    let ok = status.is_success();
    match (c, route) {
        (C::TokenShape, Route::Token) if ok => {
            if let Some(o) = body.as_object_mut() {
                rename(o, "access_token", "accessToken");
                o.insert("token_type".into(), Value::String("MAC".into()));
            }
        }
        (C::ErrorBody, _) if !ok => {
            if let Some(o) = body.as_object_mut() {
                rename(o, "Error", "message");
            }
        }
        (C::TeamsCasing, Route::Teams) if ok => {
            if let Some(Value::Array(items)) = body.get_mut("Teams") {
                for o in items.iter_mut().filter_map(Value::as_object_mut) {
                    rename(o, "TeamId", "teamId");
                    rename(o, "Name", "name");
                }
            }
        }
        (C::SitesTimezone, Route::Sites) if ok => {
            if let Some(Value::Array(items)) = body.get_mut("Sites") {
                for o in items.iter_mut().filter_map(Value::as_object_mut) {
                    rename(o, "TimeZone", "Timezone");
                }
            }
        }
        (C::MappingsNumbers, Route::Mappings) if ok => {
            if let Some(Value::Array(items)) = body.get_mut("Mappings") {
                for o in items.iter_mut().filter_map(Value::as_object_mut) {
                    for key in ["Floor", "Unit"] {
                        if let Some(n) = o.get(key).and_then(Value::as_str).and_then(|s| s.parse::<u64>().ok()) {
                            o.insert(key.into(), Value::from(n));
                        }
                    }
                }
            }
        }
        (C::EnvelopeCasing, Route::Residents) if ok => {
            if let Some(o) = body.as_object_mut() {
                rename(o, "Error", "error");
                rename(o, "Residents", "residents");
            }
        }
        (C::DatesWithoutOffset, Route::Residents) if ok => {
            for r in residents_mut(body) {
                for key in ["ActivationDateUTC", "DeactivationDateUTC"] {
                    if let Some(Value::String(d)) = r.get_mut(key) {
                        if let Ok(t) = chrono::DateTime::parse_from_rfc3339(d) {
                            *d = t.naive_utc().format("%Y-%m-%dT%H:%M:%S").to_string();
                        }
                    }
                }
            }
        }
        (C::PhoneRenamed, Route::Residents) if ok => {
            for r in residents_mut(body) {
                let phone = r.remove("Phone").unwrap_or(Value::Null);
                let phone = match (phone, r.remove("Mobile"), r.remove("PhoneNumber")) {
                    (Value::String(p), _, _) | (_, Some(Value::String(p)), _) | (_, _, Some(Value::String(p))) => {
                        Value::String(p)
                    }
                    _ => Value::Null,
                };
                r.insert("MobilePhone".into(), phone);
            }
        }
        (C::StatusCasing, Route::Residents) if ok => {
            for r in residents_mut(body) {
                if let Some(Value::Array(labels)) = r.get_mut("Status") {
                    for l in labels.iter_mut() {
                        if let Value::String(s) = l {
                            let mut c = s.chars();
                            *s = c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default();
                        }
                    }
                }
            }
        }
        (C::OnboardedAtFormat, Route::Residents) if ok => {
            for r in residents_mut(body) {
                if let Some(Value::String(s)) = r.get_mut("OnboardedAt") {
                    if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f") {
                        *s = t.format("%m/%d/%Y %H:%M:%S").to_string();
                    }
                }
            }
        }
        (C::JobStatusValue, Route::Job) if ok => {
            if let Some(Value::String(s)) = body.get_mut("status") {
                *s = if s == "finished" { "completed".into() } else { "running".into() };
            }
        }
        _ => {}
    }
}

/// The answer to `path` as the contradiction `c` has it.
pub async fn apply(c: Option<Contradiction>, path: &str, resp: Response<Body>) -> Response<Body> {
    use Contradiction as C;
    let Some(c) = c else { return resp };
    let route = route(path);
    let (mut parts, body) = resp.into_parts();
    match (c, route) {
        (C::BadToken403, r) if r != Route::Token && parts.status == StatusCode::UNAUTHORIZED => {
            parts.status = StatusCode::FORBIDDEN;
        }
        (C::UnknownJob400, Route::Job) if parts.status == StatusCode::NOT_FOUND => {
            parts.status = StatusCode::BAD_REQUEST;
        }
        (C::RetryAfterDate, _) if parts.headers.contains_key(header::RETRY_AFTER) => {
            let secs = parts
                .headers
                .get(header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<i64>().ok())
                .unwrap_or(1);
            let at = chrono::Utc::now() + chrono::Duration::seconds(secs);
            if let Ok(v) = HeaderValue::from_str(&at.format("%a, %d %b %Y %H:%M:%S GMT").to_string()) {
                parts.headers.insert(header::RETRY_AFTER, v);
            }
        }
        _ => {}
    }
    let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap_or_default();
    let Ok(mut value) = serde_json::from_slice::<Value>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    rewrite(c, route, parts.status, &mut value);
    let out = serde_json::to_vec(&value).unwrap_or_else(|_| bytes.to_vec());
    if let Ok(v) = HeaderValue::from_str(&out.len().to_string()) {
        parts.headers.insert(header::CONTENT_LENGTH, v);
    }
    Response::from_parts(parts, Body::from(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_the_clients_and_routes_are_told_apart() {
        let ids: Vec<String> = Contradiction::ALL.iter().map(|c| c.id()).collect();
        assert!(ids.contains(&"residents.status".to_string()));
        let back: Contradiction = serde_json::from_value(Value::String("jobs.unknown_is_404".into())).unwrap();
        assert_eq!(back, Contradiction::UnknownJob400);
        assert_eq!(route("/v2/team/T1/site/S1/resident"), Route::Residents);
        assert_eq!(route("/v2/team/T1/site/S1/resident/r1"), Route::Residents);
        assert_eq!(route("/v2/team/T1/site/S1/resident/import/j1"), Route::Job);
        assert_eq!(route("/v2/team/T1/site/S1/resident/bulkaction/j1"), Route::Job);
        assert_eq!(route("/v2/team/T1/site/S1/resident/r1/status"), Route::Other);
        assert_eq!(route("/v2/team"), Route::Teams);
    }

    #[test]
    fn status_labels_are_capitalised() {
        let mut v: Value = serde_json::json!({"Error": null, "Residents": [{"Status": ["current", "pending"]}]});
        rewrite(Contradiction::StatusCasing, Route::Residents, StatusCode::OK, &mut v);
        assert_eq!(v["Residents"][0]["Status"], serde_json::json!(["Current", "Pending"]));
    }
}
