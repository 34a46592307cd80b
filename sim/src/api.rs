//! The `/v2` routes of the Site Manager Resident Management API (contract §1.3–1.20).
//!
//! Every handler authenticates first (401), then resolves the team and site in the
//! account's scope (404 / 403), then parses the body (400) and applies the rule.

use crate::assumptions;
use crate::error::{ApiError, ApiResult};
use crate::extract::{parse_json_object, read_body_limited, Ids};
use crate::server::AppState;
use crate::world::{LIST_PREFIX, LIST_SUFFIX};
use axum::extract::{FromRequest, Request, State};
use axum::http::{header, HeaderMap};
use axum::routing::{delete, get, patch, post};
use axum::{Json, Router};
use residentdesk_domain::wire::{
    BulkActionBody, JobCreated, ResidentInput, ResidentsEnvelope, ResultResponse, SitesResponse, StatusBody,
    TeamsResponse, TokenResponse,
};
use residentdesk_domain::{BulkAction, InviteKind, StatusChange};
use serde_json::Value;

/// The `/v2` router (paths relative to `/v2`).
pub fn router() -> Router<AppState> {
    let res = "/team/{team_id}/site/{site_id}/resident";
    Router::new()
        .route("/oauth/token", post(token))
        .route("/team", get(teams))
        .route("/team/{team_id}/site", get(sites))
        .route("/team/{team_id}/site/{site_id}/mappings", get(mappings))
        .route(res, post(create_resident).get(list_residents))
        .route(&format!("{res}/import"), post(start_import))
        .route(&format!("{res}/import/{{job_id}}"), get(import_status))
        .route(&format!("{res}/bulkaction"), post(start_bulk))
        .route(&format!("{res}/bulkaction/{{job_id}}"), get(bulk_status))
        .route(&format!("{res}/{{resident_id}}"), get(get_resident).put(update_resident).delete(terminate))
        .route(&format!("{res}/{{resident_id}}/purge"), delete(purge))
        .route(&format!("{res}/{{resident_id}}/invite"), post(invite))
        .route(&format!("{res}/{{resident_id}}/pskreset"), post(psk_reset))
        .route(&format!("{res}/{{resident_id}}/status"), patch(set_status))
}

fn authorization(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok())
}

/// A request body read but not yet parsed, so authentication is checked before the body.
pub struct RawBody(Result<Vec<u8>, ApiError>);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or("").trim().eq_ignore_ascii_case("application/json"))
            .unwrap_or(false);
        let bytes = read_body_limited(req.into_body()).await;
        Ok(RawBody(match bytes {
            Ok(_) if assumptions::REQUIRE_JSON_CONTENT_TYPE && !json => {
                Err(ApiError::bad_request("Content-Type must be application/json"))
            }
            other => other,
        }))
    }
}

impl RawBody {
    fn parse<T: serde::de::DeserializeOwned>(self) -> ApiResult<T> {
        parse_json_object(&self.0?)
    }
}

type TeamSite = Ids<(String, String)>;
type TeamSiteItem = Ids<(String, String, String)>;

async fn token(State(s): State<AppState>, headers: HeaderMap) -> ApiResult<Json<TokenResponse>> {
    s.with(|w| w.issue_token(authorization(&headers))).map(Json)
}

async fn teams(State(s): State<AppState>, headers: HeaderMap) -> ApiResult<Json<TeamsResponse>> {
    s.with(|w| {
        let acct = w.authenticate(authorization(&headers))?;
        Ok(TeamsResponse { teams: w.visible_teams(&acct).into_iter().map(|t| t.to_wire()).collect() })
    })
    .map(Json)
}

async fn sites(
    State(s): State<AppState>,
    headers: HeaderMap,
    Ids(team_id): Ids<String>,
) -> ApiResult<Json<SitesResponse>> {
    s.with(|w| {
        let acct = w.authenticate(authorization(&headers))?;
        Ok(SitesResponse { sites: w.visible_sites(&acct, &team_id)?.into_iter().map(|s| s.to_wire()).collect() })
    })
    .map(Json)
}

async fn mappings(
    State(s): State<AppState>,
    headers: HeaderMap,
    Ids((team_id, site_id)): TeamSite,
) -> ApiResult<([(header::HeaderName, &'static str); 1], Vec<u8>)> {
    // The bytes `Json(MappingsResponse)` would send, written mapping by mapping: a site of
    // 200,000 units is not first copied into wire objects (issue #17's bench runs the
    // simulator in the desk's process).
    s.with(|w| {
        let acct = w.authenticate(authorization(&headers))?;
        let site = w.site_in_scope(&acct, &team_id, &site_id)?;
        let list = w.data.mappings.get(&site.site_id).map(Vec::as_slice).unwrap_or_default();
        let mut out = Vec::with_capacity(16 + list.len() * 128);
        out.extend_from_slice(br#"{"Mappings":["#);
        for (i, m) in list.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            serde_json::to_writer(&mut out, &m.to_wire())
                .map_err(|e| ApiError::new(axum::http::StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
        }
        out.extend_from_slice(b"]}");
        Ok(out)
    })
    .map(|body| ([(header::CONTENT_TYPE, "application/json")], body))
}

async fn list_residents(
    State(s): State<AppState>,
    headers: HeaderMap,
    Ids((team_id, site_id)): TeamSite,
) -> ApiResult<axum::response::Response> {
    // The bytes `Json(ResidentsEnvelope)` would send, from each resident's cached JSON, taken
    // under the lock (a consistent list) and sent as they go out: the answer is never built
    // whole, so a huge site costs the simulator its cache only (issue #17's bench runs it in
    // the desk's process). The length is announced, as for a body sent at once.
    let parts = s.with(|w| {
        let acct = w.authenticate(authorization(&headers))?;
        let site = w.site_in_scope(&acct, &team_id, &site_id)?;
        Ok::<_, ApiError>(w.site_wire_parts(&site))
    })?;
    let length = LIST_PREFIX.len()
        + parts.iter().map(|p| p.len()).sum::<usize>()
        + parts.len().saturating_sub(1)
        + LIST_SUFFIX.len();
    let chunks = ListChunks { parts: parts.into_iter(), started: false, ended: false };
    let body = axum::body::Body::from_stream(futures_util::stream::iter(chunks.map(Ok::<_, std::convert::Infallible>)));
    let mut resp = axum::response::Response::new(body);
    resp.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static("application/json"));
    resp.headers_mut().insert(header::CONTENT_LENGTH, header::HeaderValue::from(length));
    Ok(resp)
}

/// A list answer's bytes in pieces of about [`LIST_CHUNK`] bytes: the prefix, the residents
/// joined by commas, the suffix (the same bytes as `World::site_wire_json`).
struct ListChunks {
    parts: std::vec::IntoIter<bytes::Bytes>,
    started: bool,
    ended: bool,
}

/// The size of a piece of a list answer sent at once.
const LIST_CHUNK: usize = 64 * 1024;

impl Iterator for ListChunks {
    type Item = bytes::Bytes;

    fn next(&mut self) -> Option<bytes::Bytes> {
        if self.ended {
            return None;
        }
        let mut out = Vec::with_capacity(LIST_CHUNK + 1024);
        if !self.started {
            out.extend_from_slice(LIST_PREFIX);
        }
        while out.len() < LIST_CHUNK {
            match self.parts.next() {
                Some(part) => {
                    if self.started {
                        out.push(b',');
                    }
                    self.started = true;
                    out.extend_from_slice(&part);
                }
                None => {
                    out.extend_from_slice(LIST_SUFFIX);
                    self.ended = true;
                    break;
                }
            }
        }
        Some(bytes::Bytes::from(out))
    }
}

async fn get_resident(
    State(s): State<AppState>,
    headers: HeaderMap,
    Ids((team_id, site_id, id)): TeamSiteItem,
) -> ApiResult<Json<ResidentsEnvelope>> {
    s.with(|w| {
        let acct = w.authenticate(authorization(&headers))?;
        let site = w.site_in_scope(&acct, &team_id, &site_id)?;
        let r = w.resident_on_site(&site, &id)?;
        let envelope = ResidentsEnvelope { error: None, residents: vec![w.resident_wire(r)] };
        w.record_access(&acct.email, &id, false);
        Ok(envelope)
    })
    .map(Json)
}

async fn create_resident(
    State(s): State<AppState>,
    headers: HeaderMap,
    Ids((team_id, site_id)): TeamSite,
    body: RawBody,
) -> ApiResult<Json<ResidentsEnvelope>> {
    s.with(|w| {
        let acct = w.authenticate(authorization(&headers))?;
        let site = w.site_in_scope(&acct, &team_id, &site_id)?;
        let input: ResidentInput = body.parse()?;
        let r = w.create_resident(&site, &input)?;
        Ok(ResidentsEnvelope { error: None, residents: vec![w.resident_wire(&r)] })
    })
    .map(Json)
}

async fn update_resident(
    State(s): State<AppState>,
    headers: HeaderMap,
    Ids((team_id, site_id, id)): TeamSiteItem,
    body: RawBody,
) -> ApiResult<Json<ResidentsEnvelope>> {
    s.with(|w| {
        let acct = w.authenticate(authorization(&headers))?;
        let site = w.site_in_scope(&acct, &team_id, &site_id)?;
        w.resident_on_site(&site, &id)?;
        let input: ResidentInput = body.parse()?;
        let r = w.update_resident(&site, &id, &input)?;
        w.record_access(&acct.email, &id, true);
        Ok(ResidentsEnvelope { error: None, residents: vec![w.resident_wire(&r)] })
    })
    .map(Json)
}

fn result(text: impl Into<String>) -> Json<ResultResponse> {
    Json(ResultResponse { error: None, result: Some(text.into()) })
}

async fn terminate(
    State(s): State<AppState>,
    headers: HeaderMap,
    Ids((team_id, site_id, id)): TeamSiteItem,
) -> ApiResult<Json<ResultResponse>> {
    s.with(|w| {
        let acct = w.authenticate(authorization(&headers))?;
        let site = w.site_in_scope(&acct, &team_id, &site_id)?;
        w.terminate(&site, &id)
    })?;
    Ok(result(assumptions::RESULT_TERMINATED))
}

async fn purge(
    State(s): State<AppState>,
    headers: HeaderMap,
    Ids((team_id, site_id, id)): TeamSiteItem,
) -> ApiResult<Json<ResultResponse>> {
    s.with(|w| {
        let acct = w.authenticate(authorization(&headers))?;
        let site = w.site_in_scope(&acct, &team_id, &site_id)?;
        w.purge(&site, &id)
    })?;
    Ok(result(assumptions::RESULT_DELETED))
}

async fn invite(
    State(s): State<AppState>,
    headers: HeaderMap,
    Ids((team_id, site_id, id)): TeamSiteItem,
) -> ApiResult<Json<ResultResponse>> {
    let kind = s.with(|w| {
        let acct = w.authenticate(authorization(&headers))?;
        let site = w.site_in_scope(&acct, &team_id, &site_id)?;
        w.invite(&site, &id)
    })?;
    Ok(result(match kind {
        InviteKind::Invitation => assumptions::RESULT_INVITATION_SENT,
        InviteKind::WifiDetails => assumptions::RESULT_WIFI_DETAILS_SENT,
    }))
}

async fn psk_reset(
    State(s): State<AppState>,
    headers: HeaderMap,
    Ids((team_id, site_id, id)): TeamSiteItem,
) -> ApiResult<Json<ResultResponse>> {
    s.with(|w| {
        let acct = w.authenticate(authorization(&headers))?;
        let site = w.site_in_scope(&acct, &team_id, &site_id)?;
        w.psk_reset(&site, &id)
    })?;
    Ok(result(assumptions::RESULT_PSK_RESET_SENT))
}

async fn set_status(
    State(s): State<AppState>,
    headers: HeaderMap,
    Ids((team_id, site_id, id)): TeamSiteItem,
    body: RawBody,
) -> ApiResult<Json<ResultResponse>> {
    let change = s.with(|w| {
        let acct = w.authenticate(authorization(&headers))?;
        let site = w.site_in_scope(&acct, &team_id, &site_id)?;
        w.resident_on_site(&site, &id)?;
        let body: StatusBody = body.parse()?;
        let change = StatusChange::parse(&body.status)?;
        w.set_status(&site, &id, change)?;
        Ok::<_, ApiError>(change)
    })?;
    Ok(result(assumptions::status_result(change.as_str())))
}

async fn start_import(
    State(s): State<AppState>,
    headers: HeaderMap,
    Ids((team_id, site_id)): TeamSite,
    body: RawBody,
) -> ApiResult<Json<JobCreated>> {
    s.with(|w| {
        let acct = w.authenticate(authorization(&headers))?;
        let site = w.site_in_scope(&acct, &team_id, &site_id)?;
        let value: Value = body.parse()?;
        let job_id = w.start_import(&site, &acct.email, value)?;
        Ok(JobCreated { job_id })
    })
    .map(Json)
}

async fn start_bulk(
    State(s): State<AppState>,
    headers: HeaderMap,
    Ids((team_id, site_id)): TeamSite,
    body: RawBody,
) -> ApiResult<Json<JobCreated>> {
    s.with(|w| {
        let acct = w.authenticate(authorization(&headers))?;
        let site = w.site_in_scope(&acct, &team_id, &site_id)?;
        let body: BulkActionBody = body.parse()?;
        let action = BulkAction::parse(&body.action)?;
        let job_id = w.start_bulk(&site, &acct.email, action, body.resident_ids)?;
        Ok(JobCreated { job_id })
    })
    .map(Json)
}

async fn import_status(
    State(s): State<AppState>,
    headers: HeaderMap,
    Ids((team_id, site_id, job_id)): TeamSiteItem,
) -> ApiResult<Json<Value>> {
    job_status(s, headers, team_id, site_id, job_id, false)
}

async fn bulk_status(
    State(s): State<AppState>,
    headers: HeaderMap,
    Ids((team_id, site_id, job_id)): TeamSiteItem,
) -> ApiResult<Json<Value>> {
    job_status(s, headers, team_id, site_id, job_id, true)
}

fn job_status(
    s: AppState,
    headers: HeaderMap,
    team_id: String,
    site_id: String,
    job_id: String,
    bulk: bool,
) -> ApiResult<Json<Value>> {
    let status = s.with(|w| {
        let acct = w.authenticate(authorization(&headers))?;
        let site = w.site_in_scope(&acct, &team_id, &site_id)?;
        w.job_status(&site, &job_id, bulk)
    })?;
    let mut v = serde_json::to_value(&status).map_err(|e| ApiError::bad_request(e.to_string()))?;
    // Contract §1.20: a finished bulk job's `result` names the action, as `action_invite`
    // when invitations or Wi-Fi details were sent.
    if let (Some(action), Some(Value::Object(result))) = (status.action.clone(), v.get_mut("result")) {
        let key = if action == BulkAction::ResendInvites.as_str() { "action_invite" } else { "action" };
        result.insert(key.into(), Value::String(action));
    }
    Ok(Json(v))
}
