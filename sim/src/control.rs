//! Test control under `/__sim/` (never under `/v2`, never faulted):
//!
//! | method & path | what |
//! |---|---|
//! | `GET /__sim/health` | `{"ok": true}` |
//! | `GET /__sim/clock` | `{"now", "frozen"}` |
//! | `PUT /__sim/clock` | `{"now"?: RFC 3339, "frozen"?: bool}` |
//! | `POST /__sim/clock/advance` | `{"days"?, "hours"?, "minutes"?, "seconds"?}` → `{"now"}`; runs due jobs and purges |
//! | `POST /__sim/onboard/{ResidentId}` | completes onboarding → the resident object |
//! | `GET`/`PUT /__sim/faults` | the [`FaultConfig`] (PUT replaces it and re-seeds the RNG) |
//! | `GET`/`PUT /__sim/settings` | `{"token_lifetime_secs", "job_duration_ms"}` |
//! | `GET /__sim/state` | everything as JSON (data, residents as the API shows them, clock) |
//! | `GET`/`POST /__sim/accounts` | list / add-or-replace an account |
//! | `POST /__sim/tokens/expire` | invalidates every issued token |
//! | `GET`/`DELETE /__sim/stats` | request counts per route, status and fault / reset |
//! | `GET`/`PUT /__sim/contradict` | `{"assumption": id or null}`: answer contradicting one of the contract's assumptions ([`crate::contradict`]); `GET` also lists `available` ids |

use crate::contradict::Contradiction;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Ids, JsonBody};
use crate::faults::FaultConfig;
use crate::model::Account;
use crate::server::AppState;
use crate::world::{Settings, Stats, World};
use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Datelike, Duration, Utc};
use serde::Deserialize;
use serde_json::{json, Value};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/health", get(|| async { Json(json!({"ok": true})) }))
        .route("/clock", get(clock).put(set_clock))
        .route("/clock/advance", post(advance))
        .route("/onboard/{resident_id}", post(onboard))
        .route("/faults", get(faults).put(set_faults))
        .route("/settings", get(settings).put(set_settings))
        .route("/state", get(state))
        .route("/accounts", get(accounts).post(add_account))
        .route("/tokens/expire", post(expire_tokens))
        .route("/stats", get(stats).delete(reset_stats))
        .route("/contradict", get(contradiction).put(set_contradiction))
}

fn clock_doc(w: &World) -> Value {
    json!({"now": w.now().to_rfc3339(), "frozen": w.clock.frozen_at.is_some()})
}

async fn clock(State(s): State<AppState>) -> Json<Value> {
    Json(s.with(|w| clock_doc(w)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SetClock {
    #[serde(default)]
    now: Option<DateTime<Utc>>,
    #[serde(default)]
    frozen: Option<bool>,
}

async fn set_clock(State(s): State<AppState>, JsonBody(body): JsonBody<SetClock>) -> ApiResult<Json<Value>> {
    if body.now.is_some_and(|t| !(1970..=9999).contains(&t.year())) {
        return Err(ApiError::bad_request("now must lie within the years 1970 to 9999"));
    }
    Ok(Json(s.with(|w| {
        if let Some(f) = body.frozen {
            w.clock.set_frozen(f);
        }
        if let Some(t) = body.now {
            w.clock.set(t);
        }
        w.touch();
        w.tick();
        clock_doc(w)
    })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Advance {
    #[serde(default)]
    days: i64,
    #[serde(default)]
    hours: i64,
    #[serde(default)]
    minutes: i64,
    #[serde(default)]
    seconds: i64,
}

async fn advance(State(s): State<AppState>, JsonBody(a): JsonBody<Advance>) -> ApiResult<Json<Value>> {
    let limit = 100 * 365;
    if a.days.abs() > limit
        || a.hours.abs() > limit * 24
        || a.minutes.abs() > limit * 1440
        || a.seconds.abs() > limit * 86_400
    {
        return Err(ApiError::bad_request("advance by at most 100 years"));
    }
    let by =
        Duration::days(a.days) + Duration::hours(a.hours) + Duration::minutes(a.minutes) + Duration::seconds(a.seconds);
    s.with(|w| {
        if !w.clock.advance(by) {
            return Err(ApiError::bad_request("the simulated clock must stay within the years 1970 to 9999"));
        }
        w.touch();
        w.tick();
        Ok(Json(clock_doc(w)))
    })
}

async fn onboard(State(s): State<AppState>, Ids(id): Ids<String>) -> ApiResult<Json<Value>> {
    s.with(|w| {
        let r = w.onboard(&id)?;
        Ok(Json(json!({"Error": null, "Residents": [w.resident_wire(&r)]})))
    })
}

async fn faults(State(s): State<AppState>) -> Json<FaultConfig> {
    Json(s.with(|w| w.faults.config().clone()))
}

async fn set_faults(State(s): State<AppState>, JsonBody(cfg): JsonBody<FaultConfig>) -> ApiResult<Json<FaultConfig>> {
    cfg.validate()?;
    Ok(Json(s.with(|w| {
        w.faults.set(cfg);
        w.faults.config().clone()
    })))
}

async fn settings(State(s): State<AppState>) -> Json<Settings> {
    Json(s.with(|w| w.settings))
}

async fn set_settings(State(s): State<AppState>, JsonBody(v): JsonBody<Settings>) -> Json<Settings> {
    Json(s.with(|w| {
        w.settings = v;
        w.touch();
        w.settings
    }))
}

/// The `/__sim/state` document.
pub fn state_document(w: &World) -> Value {
    let residents: Vec<Value> = w
        .data
        .residents
        .values()
        .map(|r| {
            let mut v = serde_json::to_value(w.resident_wire(r)).unwrap_or(Value::Null);
            if let Value::Object(m) = &mut v {
                m.insert("site_id".into(), Value::String(r.site_id.clone()));
                m.insert("version".into(), json!(r.version));
                if let Some(p) = World::purge_at(r) {
                    m.insert("purge_at".into(), Value::String(p.to_rfc3339()));
                }
            }
            v
        })
        .collect();
    json!({
        "clock": clock_doc(w),
        "settings": w.settings,
        "faults": w.faults.config(),
        "wire_residents": residents,
        "data": w.data,
    })
}

async fn state(State(s): State<AppState>) -> Json<Value> {
    Json(s.with(|w| state_document(w)))
}

async fn accounts(State(s): State<AppState>) -> Json<Vec<Account>> {
    Json(s.with(|w| w.data.accounts.clone()))
}

async fn add_account(State(s): State<AppState>, JsonBody(a): JsonBody<Account>) -> ApiResult<Json<Account>> {
    s.with(|w| w.upsert_account(a.clone()))?;
    Ok(Json(a))
}

async fn expire_tokens(State(s): State<AppState>) -> Json<Value> {
    let n = s.with(|w| {
        let n = w.data.tokens.len();
        w.data.tokens.clear();
        w.touch();
        n
    });
    Json(json!({"expired": n}))
}

async fn stats(State(s): State<AppState>) -> Json<Stats> {
    Json(s.with(|w| w.stats.clone()))
}

async fn reset_stats(State(s): State<AppState>) -> Json<Stats> {
    Json(s.with(|w| {
        w.stats = Stats::default();
        w.stats.clone()
    }))
}

fn contradiction_doc(w: &World) -> Value {
    let available: Vec<String> = Contradiction::ALL.iter().map(|c| c.id()).collect();
    json!({"assumption": w.contradiction, "available": available})
}

async fn contradiction(State(s): State<AppState>) -> Json<Value> {
    Json(s.with(|w| contradiction_doc(w)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SetContradiction {
    assumption: Option<Contradiction>,
}

async fn set_contradiction(State(s): State<AppState>, JsonBody(body): JsonBody<SetContradiction>) -> Json<Value> {
    Json(s.with(|w| {
        w.contradiction = body.assumption;
        contradiction_doc(w)
    }))
}
