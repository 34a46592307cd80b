//! The typed Site Manager v2 client: one [`RemoteApi`] method per endpoint of the contract,
//! and [`HttpRemote`], its reqwest (rustls) implementation.
//!
//! Reading is tolerant (the wire types ignore unknown fields and accept the vendor's
//! spelling variants); writing is exact. The token is obtained with
//! `Authorization: Password base64(email:password)`, reused, renewed once on a 401, and a
//! second 401 stops with [`RemoteError::Auth`] ("re-enter the credentials"). A 401 is never
//! counted as a failed attempt by the retry layer.

use residentdesk_domain::wire::{
    BulkActionBody, ErrorBody, ImportBody, JobCreated, JobStatus, MappingObject, MappingsResponse, ResidentInput,
    ResidentObject, ResidentsEnvelope, ResultResponse, SiteObject, SitesResponse, StatusBody, TeamObject,
    TeamsResponse, TokenResponse,
};
use serde::de::DeserializeOwned;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// The vendor's production base URL.
pub const DEFAULT_BASE_URL: &str = "https://api.11os.com/v2";

/// Why a remote call failed, classified for the retry layer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RemoteError {
    /// No answer (connection refused, reset, timeout). A write may or may not have applied.
    #[error("network error: {0}")]
    Network(String),
    /// A 2xx answer whose body could not be read or parsed (truncated). A write applied.
    #[error("unreadable answer from the remote: {0}")]
    Decode(String),
    /// HTTP 5xx: the remote failed; retried.
    #[error("remote error {status}: {message}")]
    Server { status: u16, message: String },
    /// HTTP 429: retried after `Retry-After`.
    #[error("rate limited by the remote: {message}")]
    RateLimited { retry_after: Option<Duration>, message: String },
    /// HTTP 4xx other than 401 and 429: the remote said no; not retried.
    #[error("the remote refused ({status}): {message}")]
    Rejected { status: u16, message: String },
    /// The service account's credentials are not (or no longer) accepted.
    #[error("the remote refused the service account's credentials ({0}); re-enter the credentials with `residentdesk sync --remote-user EMAIL --remote-password-stdin`")]
    Auth(String),
}

impl RemoteError {
    /// Network errors, unreadable answers, 5xx and 429 are retried.
    pub fn retryable(&self) -> bool {
        matches!(
            self,
            RemoteError::Network(_)
                | RemoteError::Decode(_)
                | RemoteError::Server { .. }
                | RemoteError::RateLimited { .. }
        )
    }
    /// Whether a write may have been applied although no usable answer came back.
    pub fn outcome_unknown(&self) -> bool {
        matches!(self, RemoteError::Network(_) | RemoteError::Decode(_))
    }
    /// The HTTP status, when there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            RemoteError::Server { status, .. } | RemoteError::Rejected { status, .. } => Some(*status),
            RemoteError::RateLimited { .. } => Some(429),
            RemoteError::Auth(_) => Some(401),
            _ => None,
        }
    }
}

pub type RemoteResult<T> = Result<T, RemoteError>;

/// Every endpoint of the v2 contract. Implemented over HTTP by [`HttpRemote`]; tests may
/// implement it in memory.
pub trait RemoteApi: Send + Sync {
    /// `GET /team`.
    fn teams(&self) -> impl Future<Output = RemoteResult<Vec<TeamObject>>> + Send;
    /// `GET /team/{TeamId}/site`.
    fn sites(&self, team: &str) -> impl Future<Output = RemoteResult<Vec<SiteObject>>> + Send;
    /// `GET /team/{TeamId}/site/{SiteId}/mappings`.
    fn mappings(&self, team: &str, site: &str) -> impl Future<Output = RemoteResult<Vec<MappingObject>>> + Send;
    /// `GET .../resident` (every resident of the site, no pagination).
    fn residents(&self, team: &str, site: &str) -> impl Future<Output = RemoteResult<Vec<ResidentObject>>> + Send;
    /// `GET .../resident/{ResidentId}`.
    fn resident(&self, team: &str, site: &str, id: &str) -> impl Future<Output = RemoteResult<ResidentObject>> + Send;
    /// `POST .../resident`.
    fn create_resident(
        &self,
        team: &str,
        site: &str,
        body: &ResidentInput,
    ) -> impl Future<Output = RemoteResult<ResidentObject>> + Send;
    /// `PUT .../resident/{ResidentId}` (the complete editable object).
    fn update_resident(
        &self,
        team: &str,
        site: &str,
        id: &str,
        body: &ResidentInput,
    ) -> impl Future<Output = RemoteResult<ResidentObject>> + Send;
    /// `DELETE .../resident/{ResidentId}` (terminate).
    fn terminate(&self, team: &str, site: &str, id: &str) -> impl Future<Output = RemoteResult<String>> + Send;
    /// `DELETE .../resident/{ResidentId}/purge`.
    fn purge(&self, team: &str, site: &str, id: &str) -> impl Future<Output = RemoteResult<String>> + Send;
    /// `POST .../resident/{ResidentId}/invite`.
    fn invite(&self, team: &str, site: &str, id: &str) -> impl Future<Output = RemoteResult<String>> + Send;
    /// `POST .../resident/{ResidentId}/pskreset`.
    fn psk_reset(&self, team: &str, site: &str, id: &str) -> impl Future<Output = RemoteResult<String>> + Send;
    /// `PATCH .../resident/{ResidentId}/status` with `Active` or `Disabled`.
    fn set_status(
        &self,
        team: &str,
        site: &str,
        id: &str,
        status: &str,
    ) -> impl Future<Output = RemoteResult<String>> + Send;
    /// `POST .../resident/import`; returns the job id.
    fn start_import(
        &self,
        team: &str,
        site: &str,
        body: &ImportBody,
    ) -> impl Future<Output = RemoteResult<String>> + Send;
    /// `GET .../resident/import/{job_id}`.
    fn import_status(&self, team: &str, site: &str, job: &str) -> impl Future<Output = RemoteResult<JobStatus>> + Send;
    /// `POST .../resident/bulkaction`; returns the job id.
    fn start_bulk(
        &self,
        team: &str,
        site: &str,
        body: &BulkActionBody,
    ) -> impl Future<Output = RemoteResult<String>> + Send;
    /// `GET .../resident/bulkaction/{job_id}`.
    fn bulk_status(&self, team: &str, site: &str, job: &str) -> impl Future<Output = RemoteResult<JobStatus>> + Send;
}

/// The service account the client signs in with.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub email: String,
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials").field("email", &self.email).field("password", &"***").finish()
    }
}

/// The HTTP implementation of [`RemoteApi`].
pub struct HttpRemote {
    http: reqwest::Client,
    base: String,
    credentials: Credentials,
    token: Mutex<Option<String>>,
    requests: AtomicU64,
}

impl std::fmt::Debug for HttpRemote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpRemote").field("base", &self.base).field("credentials", &self.credentials).finish()
    }
}

fn seg(s: &str) -> String {
    // Ids are opaque: escape anything that is not unreserved in a path segment.
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

fn res_path(team: &str, site: &str) -> String {
    format!("/team/{}/site/{}/resident", seg(team), seg(site))
}

impl HttpRemote {
    /// A client for `base` (e.g. [`DEFAULT_BASE_URL`]) signing in as `credentials`.
    pub fn new(base: &str, credentials: Credentials) -> RemoteResult<HttpRemote> {
        let mut builder = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(120))
            .user_agent(concat!("residentdesk/", env!("CARGO_PKG_VERSION")));
        // A remote on this machine (the demo's simulator) is reached directly: a proxy from
        // the environment (HTTP_PROXY...) would otherwise get, and usually refuse, it.
        if is_loopback(base) {
            builder = builder.no_proxy();
        }
        let http = builder.build().map_err(|e| RemoteError::Network(format!("cannot build the HTTP client: {e}")))?;
        Ok(HttpRemote {
            http,
            base: base.trim_end_matches('/').to_string(),
            credentials,
            token: Mutex::new(None),
            requests: AtomicU64::new(0),
        })
    }

    /// Requests sent so far (token requests included).
    pub fn requests_sent(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    fn cached_token(&self) -> Option<String> {
        self.token.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn set_token(&self, token: Option<String>) {
        *self.token.lock().unwrap_or_else(|p| p.into_inner()) = token;
    }

    async fn obtain_token(&self) -> RemoteResult<String> {
        use base64::Engine;
        let raw = format!("{}:{}", self.credentials.email, self.credentials.password);
        let header = format!("Password {}", base64::engine::general_purpose::STANDARD.encode(raw.as_bytes()));
        self.requests.fetch_add(1, Ordering::Relaxed);
        let resp = self
            .http
            .post(format!("{}/oauth/token", self.base))
            .header(reqwest::header::AUTHORIZATION, header)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body("{}")
            .send()
            .await
            .map_err(|e| RemoteError::Network(describe(&e)))?;
        let status = resp.status().as_u16();
        if status == 401 || status == 403 {
            let text = resp.text().await.unwrap_or_default();
            return Err(RemoteError::Auth(error_message(&text, status)));
        }
        let body = read_body(resp).await?;
        let token: TokenResponse = parse(&body)?;
        self.set_token(Some(token.access_token.clone()));
        Ok(token.access_token)
    }

    /// Sends one request with the bearer token; renews the token once on 401.
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Vec<u8>>) -> RemoteResult<Vec<u8>> {
        let mut renewed = false;
        loop {
            let token = match self.cached_token() {
                Some(t) => t,
                None => {
                    renewed = true;
                    self.obtain_token().await?
                }
            };
            let mut req = self
                .http
                .request(method.clone(), format!("{}{}", self.base, path))
                .header(reqwest::header::AUTHORIZATION, format!("Bearer {token}"));
            if let Some(b) = &body {
                req = req.header(reqwest::header::CONTENT_TYPE, "application/json").body(b.clone());
            }
            self.requests.fetch_add(1, Ordering::Relaxed);
            let resp = req.send().await.map_err(|e| RemoteError::Network(describe(&e)))?;
            if resp.status().as_u16() == 401 {
                self.set_token(None);
                if renewed {
                    let text = resp.text().await.unwrap_or_default();
                    return Err(RemoteError::Auth(error_message(&text, 401)));
                }
                renewed = true;
                continue;
            }
            return read_body(resp).await;
        }
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> RemoteResult<T> {
        parse(&self.call(reqwest::Method::GET, path, None).await?)
    }

    async fn send<B: serde::Serialize + Sync, T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&B>,
    ) -> RemoteResult<T> {
        let bytes = match body {
            Some(b) => {
                Some(serde_json::to_vec(b).map_err(|e| RemoteError::Decode(format!("cannot encode body: {e}")))?)
            }
            None => None,
        };
        parse(&self.call(method, path, bytes).await?)
    }

    async fn result(&self, method: reqwest::Method, path: &str) -> RemoteResult<String> {
        let r: ResultResponse = self.send::<(), _>(method, path, None).await?;
        if let Some(err) = r.error.as_ref().filter(|e| !e.is_null()) {
            return Err(RemoteError::Rejected { status: 200, message: value_text(err) });
        }
        Ok(r.result.unwrap_or_default())
    }
}

/// One answer as it came over the wire, for the first-contact check (`sync::check`): the
/// status, every header (names lowercase), the body's bytes and how long it took. Nothing is
/// parsed or classified, so a shape the typed client would refuse can still be looked at.
#[derive(Debug, Clone, PartialEq)]
pub struct RawAnswer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub elapsed: Duration,
}

impl RawAnswer {
    /// The first header of this (case-insensitive) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// Raw read-only access to the remote, for the first-contact check: the token request and a
/// `GET` with a bearer token the caller chooses (its own, or a deliberately bad one). No
/// retry, no renewal, no parsing; only a missing answer is an error ([`RemoteError::Network`]).
pub trait RawRemote: Send + Sync {
    /// The remote's base URL (for the report).
    fn base_url(&self) -> &str;
    /// `POST /oauth/token` with the service account's credentials.
    fn raw_token(&self) -> impl Future<Output = RemoteResult<RawAnswer>> + Send;
    /// `GET {base}{path}` with `Authorization: Bearer {token}`.
    fn raw_get(&self, path: &str, token: &str) -> impl Future<Output = RemoteResult<RawAnswer>> + Send;
}

impl HttpRemote {
    async fn raw(&self, req: reqwest::RequestBuilder) -> RemoteResult<RawAnswer> {
        let started = std::time::Instant::now();
        self.requests.fetch_add(1, Ordering::Relaxed);
        let resp = req.send().await.map_err(|e| RemoteError::Network(describe(&e)))?;
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .map(|(n, v)| (n.as_str().to_ascii_lowercase(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect();
        let body = resp.bytes().await.map_err(|e| RemoteError::Network(describe(&e)))?.to_vec();
        Ok(RawAnswer { status, headers, body, elapsed: started.elapsed() })
    }
}

impl RawRemote for HttpRemote {
    fn base_url(&self) -> &str {
        &self.base
    }

    async fn raw_token(&self) -> RemoteResult<RawAnswer> {
        use base64::Engine;
        let raw = format!("{}:{}", self.credentials.email, self.credentials.password);
        let header = format!("Password {}", base64::engine::general_purpose::STANDARD.encode(raw.as_bytes()));
        let req = self
            .http
            .post(format!("{}/oauth/token", self.base))
            .header(reqwest::header::AUTHORIZATION, header)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body("{}");
        self.raw(req).await
    }

    async fn raw_get(&self, path: &str, token: &str) -> RemoteResult<RawAnswer> {
        let req = self
            .http
            .get(format!("{}{}", self.base, path))
            .header(reqwest::header::AUTHORIZATION, format!("Bearer {token}"));
        self.raw(req).await
    }
}

/// The path of a site's residents (`/team/{TeamId}/site/{SiteId}/resident`), ids escaped.
pub fn residents_path(team: &str, site: &str) -> String {
    res_path(team, site)
}

/// One path segment, escaped as the client escapes ids.
pub fn path_segment(id: &str) -> String {
    seg(id)
}

/// Whether `base` names this machine (localhost, 127.0.0.0/8 or ::1).
fn is_loopback(base: &str) -> bool {
    let Some(host) = reqwest::Url::parse(base).ok().and_then(|u| u.host_str().map(str::to_owned)) else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn describe(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

fn value_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn error_message(body: &str, status: u16) -> String {
    serde_json::from_str::<ErrorBody>(body).map(|e| e.message()).unwrap_or_else(|_| {
        let t = body.trim();
        if t.is_empty() {
            format!("HTTP {status}")
        } else {
            t.chars().take(300).collect()
        }
    })
}

async fn read_body(resp: reqwest::Response) -> RemoteResult<Vec<u8>> {
    let status = resp.status().as_u16();
    let retry_after = resp
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let bytes = resp.bytes().await;
    if (200..300).contains(&status) {
        return bytes.map(|b| b.to_vec()).map_err(|e| RemoteError::Decode(describe(&e)));
    }
    let text = bytes.map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
    let message = error_message(&text, status);
    Err(match status {
        429 => RemoteError::RateLimited { retry_after, message },
        401 => RemoteError::Auth(message),
        s if s >= 500 => RemoteError::Server { status: s, message },
        s => RemoteError::Rejected { status: s, message },
    })
}

fn parse<T: DeserializeOwned>(bytes: &[u8]) -> RemoteResult<T> {
    serde_json::from_slice(bytes).map_err(|e| RemoteError::Decode(format!("{e} (answer of {} bytes)", bytes.len())))
}

impl RemoteApi for HttpRemote {
    async fn teams(&self) -> RemoteResult<Vec<TeamObject>> {
        Ok(self.get::<TeamsResponse>("/team").await?.teams)
    }
    async fn sites(&self, team: &str) -> RemoteResult<Vec<SiteObject>> {
        Ok(self.get::<SitesResponse>(&format!("/team/{}/site", seg(team))).await?.sites)
    }
    async fn mappings(&self, team: &str, site: &str) -> RemoteResult<Vec<MappingObject>> {
        Ok(self.get::<MappingsResponse>(&format!("/team/{}/site/{}/mappings", seg(team), seg(site))).await?.mappings)
    }
    async fn residents(&self, team: &str, site: &str) -> RemoteResult<Vec<ResidentObject>> {
        Ok(self.get::<ResidentsEnvelope>(&res_path(team, site)).await?.residents)
    }
    async fn resident(&self, team: &str, site: &str, id: &str) -> RemoteResult<ResidentObject> {
        let env: ResidentsEnvelope = self.get(&format!("{}/{}", res_path(team, site), seg(id))).await?;
        env.residents.into_iter().next().ok_or_else(|| RemoteError::Decode("no resident in the answer".into()))
    }
    async fn create_resident(&self, team: &str, site: &str, body: &ResidentInput) -> RemoteResult<ResidentObject> {
        let env: ResidentsEnvelope = self.send(reqwest::Method::POST, &res_path(team, site), Some(body)).await?;
        env.residents.into_iter().next().ok_or_else(|| RemoteError::Decode("no resident in the answer".into()))
    }
    async fn update_resident(
        &self,
        team: &str,
        site: &str,
        id: &str,
        body: &ResidentInput,
    ) -> RemoteResult<ResidentObject> {
        let path = format!("{}/{}", res_path(team, site), seg(id));
        let env: ResidentsEnvelope = self.send(reqwest::Method::PUT, &path, Some(body)).await?;
        env.residents.into_iter().next().ok_or_else(|| RemoteError::Decode("no resident in the answer".into()))
    }
    async fn terminate(&self, team: &str, site: &str, id: &str) -> RemoteResult<String> {
        self.result(reqwest::Method::DELETE, &format!("{}/{}", res_path(team, site), seg(id))).await
    }
    async fn purge(&self, team: &str, site: &str, id: &str) -> RemoteResult<String> {
        self.result(reqwest::Method::DELETE, &format!("{}/{}/purge", res_path(team, site), seg(id))).await
    }
    async fn invite(&self, team: &str, site: &str, id: &str) -> RemoteResult<String> {
        self.result(reqwest::Method::POST, &format!("{}/{}/invite", res_path(team, site), seg(id))).await
    }
    async fn psk_reset(&self, team: &str, site: &str, id: &str) -> RemoteResult<String> {
        self.result(reqwest::Method::POST, &format!("{}/{}/pskreset", res_path(team, site), seg(id))).await
    }
    async fn set_status(&self, team: &str, site: &str, id: &str, status: &str) -> RemoteResult<String> {
        let path = format!("{}/{}/status", res_path(team, site), seg(id));
        let body = StatusBody { status: status.to_string() };
        let r: ResultResponse = self.send(reqwest::Method::PATCH, &path, Some(&body)).await?;
        Ok(r.result.unwrap_or_default())
    }
    async fn start_import(&self, team: &str, site: &str, body: &ImportBody) -> RemoteResult<String> {
        let path = format!("{}/import", res_path(team, site));
        let j: JobCreated = self.send(reqwest::Method::POST, &path, Some(body)).await?;
        Ok(j.job_id)
    }
    async fn import_status(&self, team: &str, site: &str, job: &str) -> RemoteResult<JobStatus> {
        self.get(&format!("{}/import/{}", res_path(team, site), seg(job))).await
    }
    async fn start_bulk(&self, team: &str, site: &str, body: &BulkActionBody) -> RemoteResult<String> {
        let path = format!("{}/bulkaction", res_path(team, site));
        let j: JobCreated = self.send(reqwest::Method::POST, &path, Some(body)).await?;
        Ok(j.job_id)
    }
    async fn bulk_status(&self, team: &str, site: &str, job: &str) -> RemoteResult<JobStatus> {
        self.get(&format!("{}/bulkaction/{}", res_path(team, site), seg(job))).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification() {
        assert!(RemoteError::Network("x".into()).retryable());
        assert!(RemoteError::Network("x".into()).outcome_unknown());
        assert!(RemoteError::Server { status: 503, message: "x".into() }.retryable());
        assert!(!RemoteError::Server { status: 503, message: "x".into() }.outcome_unknown());
        assert!(RemoteError::RateLimited { retry_after: None, message: "x".into() }.retryable());
        assert!(!RemoteError::Rejected { status: 409, message: "x".into() }.retryable());
        assert!(!RemoteError::Auth("x".into()).retryable());
    }

    #[test]
    fn only_this_machine_bypasses_proxies() {
        for base in ["http://127.0.0.1:8080/v2", "http://127.9.0.1/v2", "http://localhost:3000/v2", "http://[::1]:9/v2"]
        {
            assert!(is_loopback(base), "{base}");
        }
        for base in [DEFAULT_BASE_URL, "http://10.0.0.1/v2", "http://localhost.example.com/v2", "not a url"] {
            assert!(!is_loopback(base), "{base}");
        }
    }

    #[test]
    fn path_segments_are_escaped() {
        assert_eq!(seg("a b/c"), "a%20b%2Fc");
        assert_eq!(res_path("t-1", "s_2"), "/team/t-1/site/s_2/resident");
        assert_eq!(error_message(r#"{"Error":"Unit 101 is occupied"}"#, 409), "Unit 101 is occupied");
        assert_eq!(error_message("", 502), "HTTP 502");
    }
}
