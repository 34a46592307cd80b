//! The typed Site Manager v2 client: one [`RemoteApi`] method per endpoint of the contract,
//! and [`HttpRemote`], its reqwest (rustls) implementation.
//!
//! Reading is tolerant (the wire types ignore unknown fields and accept the vendor's
//! spelling variants); writing is exact. The token is obtained with
//! `Authorization: Password base64(email:password)`, reused, renewed once on a 401, and a
//! second 401 stops with [`RemoteError::Auth`] ("re-enter the credentials"). A 401 is never
//! counted as a failed attempt by the retry layer.
//!
//! Data in transit (issue #15): the base URL must be `https`, or `http` to this machine only
//! ([`check_base_url`], also applied where the URL is configured); a redirect is followed only
//! to the same host and port and never from https down to http ([`redirect_refusal`]); and no
//! answer is held whole past [`MAX_BODY_BYTES`] ([`RemoteError::TooLarge`]), so a broken or
//! hostile remote cannot fill the desk's memory. A site's resident list is the one answer
//! that may be larger: past [`Streaming::above`] it is read as a stream
//! ([`RemoteApi::residents_answer`], [`AnswerStream`]) and split as it arrives, and then only
//! one resident object is capped ([`Streaming::object_cap`], [`RemoteError::ObjectTooLarge`]).

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

/// The most bytes read from one answer. The contract has no pagination: a site's resident
/// list comes whole in one answer, the largest the API gives. A resident object is about
/// 700 bytes on the wire (see the test `the_cap_holds_a_very_large_site`), so 128 MiB holds a
/// site of more than 150,000 residents — far beyond any one building complex (the product's
/// largest desk is 1,000,000 residents over 2,500 sites) — while bounding what a broken or
/// hostile remote can make the desk hold in memory.
pub const MAX_BODY_BYTES: usize = 128 * 1024 * 1024;

/// The size past which a resident list is streamed rather than held whole: a site of the
/// usual 400 residents is about 180 KB, so every ordinary site keeps the whole-answer path
/// (digest of the bytes, skip when unchanged), and only a site of some 18,000 residents or
/// more is merged in batches as it arrives.
pub const STREAM_ABOVE_BYTES: usize = 8 * 1024 * 1024;

/// Residents merged together from a streamed answer: about 2 MB of objects at once.
pub const STREAM_BATCH: usize = 4096;

/// The most bytes of one resident object in a streamed answer: a resident is about 700 bytes
/// on the wire; 1 MiB refuses a hostile endless object long before memory matters.
pub const MAX_OBJECT_BYTES: usize = 1024 * 1024;

/// How a site's resident list is read: whole up to `above` bytes, else as a stream split into
/// batches of `batch` residents, none longer than `object_cap` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Streaming {
    pub above: usize,
    pub batch: usize,
    pub object_cap: usize,
}

impl Default for Streaming {
    fn default() -> Self {
        Streaming { above: STREAM_ABOVE_BYTES, batch: STREAM_BATCH, object_cap: MAX_OBJECT_BYTES }
    }
}

/// The whole of a list request read for the pull (`residents_answer`, `mappings_answer`): a
/// streamed answer is read while its site merges, batch by batch (the 400k site: about 20 s
/// here), so the client's timeout bounds each read of it instead (a stalled answer still
/// fails after it).
const LIST_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// The most bytes read from an error answer (its message is shown clipped anyway).
const ERROR_BODY_BYTES: usize = 64 * 1024;

/// The most redirects followed for one request (each to the same host).
const MAX_REDIRECTS: usize = 5;

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
    /// A transport rule refused the call: plain http to another machine, or a redirect to
    /// another host or down to http. Not retried: only a configuration change helps.
    #[error("{0}")]
    Insecure(String),
    /// An answer larger than [`MAX_BODY_BYTES`] (or the client's cap): reading stopped at the
    /// cap and nothing of it was used. Not retried (the next answer would be as large); a
    /// write's outcome is unknown (the remote answered 2xx before the size showed).
    #[error("the answer of {url} is larger than {cap} bytes, the most ResidentDesk reads from one answer; nothing of it was used")]
    TooLarge { url: String, cap: usize },
    /// A streamed resident list with one value (a resident object) larger than the cap:
    /// nothing of the site's answer was used. Not retried, as [`RemoteError::TooLarge`].
    #[error("a resident in the answer of {url} is larger than {cap} bytes, the most ResidentDesk reads for one resident; nothing of the answer was used")]
    ObjectTooLarge { url: String, cap: usize },
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
        matches!(
            self,
            RemoteError::Network(_)
                | RemoteError::Decode(_)
                | RemoteError::TooLarge { .. }
                | RemoteError::ObjectTooLarge { .. }
        )
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
    /// `GET .../mappings` as its raw body, as [`RemoteApi::residents_body`] ([`parse_mappings`]).
    fn mappings_body(&self, team: &str, site: &str) -> impl Future<Output = RemoteResult<Vec<u8>>> + Send {
        async move {
            let mappings = self.mappings(team, site).await?;
            serde_json::to_vec(&MappingsResponse { mappings })
                .map_err(|e| RemoteError::Decode(format!("cannot encode the mappings: {e}")))
        }
    }
    /// The same answer as its raw body (read within the body cap), for the pull: it digests
    /// the bytes and splits ([`split_residents`]) only an answer that changed. By default the
    /// parsed answer written back as JSON (in-memory remotes).
    fn residents_body(&self, team: &str, site: &str) -> impl Future<Output = RemoteResult<Vec<u8>>> + Send {
        async move {
            let residents = self.residents(team, site).await?;
            serde_json::to_vec(&ResidentsEnvelope { error: None, residents })
                .map_err(|e| RemoteError::Decode(format!("cannot encode the residents: {e}")))
        }
    }
    /// The same answer for the pull, read whole while it is small and as a stream past a
    /// size ([`Streaming`]). By default [`RemoteApi::residents_body`], whole.
    fn residents_answer(&self, team: &str, site: &str) -> impl Future<Output = RemoteResult<ResidentsAnswer>> + Send {
        async move { self.residents_body(team, site).await.map(ResidentsAnswer::Whole) }
    }
    /// The mappings' answer the same way: a site of many thousand units has an answer as
    /// large as its residents'. By default [`RemoteApi::mappings_body`], whole.
    fn mappings_answer(&self, team: &str, site: &str) -> impl Future<Output = RemoteResult<ResidentsAnswer>> + Send {
        async move { self.mappings_body(team, site).await.map(ResidentsAnswer::Whole) }
    }
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
    /// The most bytes read from one answer ([`MAX_BODY_BYTES`] unless a test lowers it).
    body_cap: usize,
    /// When a resident list is streamed ([`Streaming::default`] unless a test lowers it).
    streaming: Streaming,
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
    /// A client for `base` (e.g. [`DEFAULT_BASE_URL`]) signing in as `credentials`. Refuses
    /// (with [`RemoteError::Insecure`]) a base that [`check_base_url`] refuses.
    pub fn new(base: &str, credentials: Credentials) -> RemoteResult<HttpRemote> {
        HttpRemote::with_timeout(base, credentials, Duration::from_secs(120))
    }

    /// [`HttpRemote::new`] giving up on a request after `timeout` rather than 120 s (tests
    /// of a remote that does not answer).
    pub fn with_timeout(base: &str, credentials: Credentials, timeout: Duration) -> RemoteResult<HttpRemote> {
        check_base_url(base).map_err(RemoteError::Insecure)?;
        let mut builder = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(timeout)
            // Each read too: what bounds a streamed list, whose whole request lasts as long as
            // its merge (`LIST_TIMEOUT`); a read waits only while nothing arrives.
            .read_timeout(timeout)
            .user_agent(concat!("residentdesk/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::custom(|attempt| {
                let first = attempt.previous().first().cloned();
                match first.and_then(|from| redirect_refusal(&from, attempt.url(), attempt.previous().len())) {
                    Some(why) => attempt.error(why),
                    None => attempt.follow(),
                }
            }));
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
            body_cap: MAX_BODY_BYTES,
            streaming: Streaming::default(),
        })
    }

    /// The same client reading at most `cap` bytes of an answer (tests use a small cap).
    pub fn with_body_cap(mut self, cap: usize) -> HttpRemote {
        self.body_cap = cap;
        self
    }

    /// The same client streaming resident lists as `streaming` says (tests use small sizes).
    pub fn with_streaming(mut self, streaming: Streaming) -> HttpRemote {
        self.streaming = streaming;
        self
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
            .map_err(|e| transport(&e))?;
        let status = resp.status().as_u16();
        if status == 401 || status == 403 {
            let text = error_text(resp).await;
            return Err(RemoteError::Auth(error_message(&text, status)));
        }
        let body = read_body(resp, self.body_cap).await?;
        let token: TokenResponse = parse(&body)?;
        self.set_token(Some(token.access_token.clone()));
        Ok(token.access_token)
    }

    /// Sends one request with the bearer token; renews the token once on 401.
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Vec<u8>>) -> RemoteResult<Vec<u8>> {
        read_body(self.respond(method, path, body, None).await?, self.body_cap).await
    }

    /// The answer to one request with the bearer token, its body unread (a 401 renews the
    /// token once); `total`: a longer limit than the client's for the whole request.
    async fn respond(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Vec<u8>>,
        total: Option<Duration>,
    ) -> RemoteResult<reqwest::Response> {
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
            if let Some(total) = total {
                req = req.timeout(total);
            }
            self.requests.fetch_add(1, Ordering::Relaxed);
            let resp = req.send().await.map_err(|e| transport(&e))?;
            if resp.status().as_u16() == 401 {
                self.set_token(None);
                if renewed {
                    let text = error_text(resp).await;
                    return Err(RemoteError::Auth(error_message(&text, 401)));
                }
                renewed = true;
                continue;
            }
            return Ok(resp);
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
        let resp = req.send().await.map_err(|e| transport(&e))?;
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .map(|(n, v)| (n.as_str().to_ascii_lowercase(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect();
        let body = read_capped(resp, self.body_cap).await?;
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
    reqwest::Url::parse(base).is_ok_and(|u| url_is_loopback(&u))
}

fn url_is_loopback(url: &reqwest::Url) -> bool {
    let Some(host) = url.host_str() else { return false };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.to_canonical().is_loopback())
}

/// Whether `base` may be a remote's base URL: `https`, or `http` to this machine only
/// (localhost, 127.0.0.0/8, ::1 — the demo's simulator and tests). Plain http to another
/// machine would carry the service account's password and residents' data readable by
/// anyone on the way. The error names the URL and why.
pub fn check_base_url(base: &str) -> Result<(), String> {
    let url = reqwest::Url::parse(base.trim())
        .map_err(|e| format!("{base:?} is not a URL ({e}); expected https://HOST/v2"))?;
    if url.host().is_none() {
        return Err(format!("{base:?} names no host; expected https://HOST/v2"));
    }
    match url.scheme() {
        "https" => Ok(()),
        "http" if url_is_loopback(&url) => Ok(()),
        "http" => Err(format!(
            "{base} uses plain http to another machine, which would send the service account's password and \
             residents' data unencrypted; use https (plain http is accepted only for this machine: localhost, \
             127.0.0.0/8, ::1)"
        )),
        other => Err(format!("{base:?} is not an http(s) URL (scheme {other:?}); expected https://HOST/v2")),
    }
}

/// Why a redirect from the request's first URL `from` to `to` (after `hops` earlier
/// redirects) is refused, or `None` to follow it: only to the same host and port (reqwest
/// would drop the token on the way anyway, but the request would still reach another
/// machine), never from https down to http, at most [`MAX_REDIRECTS`] in a row.
fn redirect_refusal(from: &reqwest::Url, to: &reqwest::Url, hops: usize) -> Option<String> {
    if hops > MAX_REDIRECTS {
        return Some(format!("{from} redirected more than {MAX_REDIRECTS} times; refused"));
    }
    if from.host_str() != to.host_str() || from.port_or_known_default() != to.port_or_known_default() {
        return Some(format!(
            "{from} redirected to another host ({to}); refused, so nothing is sent to a machine that was not \
             configured — if the remote moved, configure its new URL"
        ));
    }
    if from.scheme() == "https" && to.scheme() != "https" {
        return Some(format!("{from} redirected from https down to {to}; refused, so nothing travels unencrypted"));
    }
    None
}

/// A transport error: a refused redirect is [`RemoteError::Insecure`] (our policy's reason
/// in its text), anything else a network error.
fn transport(e: &reqwest::Error) -> RemoteError {
    if e.is_redirect() {
        RemoteError::Insecure(describe(e))
    } else {
        RemoteError::Network(describe(e))
    }
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

/// Reads the whole body, in chunks, refusing it once it passes `cap` bytes (before reading
/// anything when the announced length already does). A body cut short is
/// [`RemoteError::Decode`] (an unreadable answer), as before.
async fn read_capped(mut resp: reqwest::Response, cap: usize) -> RemoteResult<Vec<u8>> {
    let too_large = |resp: &reqwest::Response| RemoteError::TooLarge { url: resp.url().to_string(), cap };
    if resp.content_length().is_some_and(|n| n > cap as u64) {
        return Err(too_large(&resp));
    }
    let mut body = Vec::with_capacity(resp.content_length().map_or(0, |n| n as usize));
    while let Some(chunk) = resp.chunk().await.map_err(|e| RemoteError::Decode(describe(&e)))? {
        if body.len() + chunk.len() > cap {
            return Err(too_large(&resp));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The beginning of an error answer, for its message (the rest is not read).
async fn error_text(mut resp: reqwest::Response) -> String {
    let mut body = Vec::new();
    while let Ok(Some(chunk)) = resp.chunk().await {
        body.extend_from_slice(&chunk);
        if body.len() >= ERROR_BODY_BYTES {
            body.truncate(ERROR_BODY_BYTES);
            break;
        }
    }
    String::from_utf8_lossy(&body).into_owned()
}

async fn read_body(resp: reqwest::Response, cap: usize) -> RemoteResult<Vec<u8>> {
    let resp = refusal(resp).await?;
    read_capped(resp, cap).await
}

/// A 2xx answer as it is, anything else as the error it says.
async fn refusal(resp: reqwest::Response) -> RemoteResult<reqwest::Response> {
    let status = resp.status().as_u16();
    let retry_after = resp
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    if (200..300).contains(&status) {
        return Ok(resp);
    }
    let text = error_text(resp).await;
    let message = error_message(&text, status);
    Err(match status {
        429 => RemoteError::RateLimited { retry_after, message },
        401 => RemoteError::Auth(message),
        s if s >= 500 => RemoteError::Server { status: s, message },
        s => RemoteError::Rejected { status: s, message },
    })
}

/// A site's resident list as the pull reads it ([`RemoteApi::residents_answer`]), or its
/// mappings ([`RemoteApi::mappings_answer`]).
#[derive(Debug)]
pub enum ResidentsAnswer {
    /// Small enough to hold: the whole body.
    Whole(Vec<u8>),
    /// Past [`Streaming::above`]: its first bytes, the rest still on its way.
    Streamed(AnswerStream),
}

/// A resident list being read: the bytes read before it was known to be large, then the
/// connection's next chunks as they arrive (nothing else of it is held here).
pub struct AnswerStream {
    url: String,
    head: Option<Vec<u8>>,
    rest: Rest,
    streaming: Streaming,
}

/// Where an answer's next chunks come from.
enum Rest {
    Http(reqwest::Response),
    Chunks(std::collections::VecDeque<RemoteResult<Vec<u8>>>),
}

impl std::fmt::Debug for AnswerStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnswerStream").field("url", &self.url).field("streaming", &self.streaming).finish()
    }
}

impl AnswerStream {
    /// An answer from chunks already in memory (an in-memory remote, tests): an `Err` among
    /// them breaks the stream there, as a dropped connection would.
    pub fn from_chunks(url: &str, chunks: Vec<RemoteResult<Vec<u8>>>, streaming: Streaming) -> AnswerStream {
        AnswerStream { url: url.to_string(), head: None, rest: Rest::Chunks(chunks.into()), streaming }
    }

    /// How the answer is to be split and merged.
    pub fn streaming(&self) -> Streaming {
        self.streaming
    }

    /// The next bytes of the answer; `None` at its end. A connection that breaks is
    /// [`RemoteError::Decode`], as a body cut short is on the whole-answer path.
    pub async fn next_chunk(&mut self) -> RemoteResult<Option<Vec<u8>>> {
        if let Some(head) = self.head.take() {
            return Ok(Some(head));
        }
        match &mut self.rest {
            Rest::Http(resp) => {
                Ok(resp.chunk().await.map_err(|e| RemoteError::Decode(describe(&e)))?.map(|b| b.to_vec()))
            }
            Rest::Chunks(chunks) => chunks.pop_front().transpose(),
        }
    }

    /// The answer is larger than `cap`, the most that may be held of it.
    pub fn too_large(&self, cap: usize) -> RemoteError {
        RemoteError::TooLarge { url: self.url.clone(), cap }
    }

    /// What the splitter's refusal of this answer is to the caller.
    pub fn refused(&self, e: crate::sync::json_stream::SplitError) -> RemoteError {
        use crate::sync::json_stream::SplitError;
        match e {
            SplitError::Malformed(m) => RemoteError::Decode(format!("{m} ({})", self.url)),
            SplitError::ObjectTooLarge { cap } => RemoteError::ObjectTooLarge { url: self.url.clone(), cap },
        }
    }
}

/// Reads a 2xx resident list whole while it stays within `streaming.above` bytes (and within
/// `cap`, when a test sets that lower), else hands it on as a stream with what was read.
async fn read_or_stream(
    mut resp: reqwest::Response,
    cap: usize,
    streaming: Streaming,
) -> RemoteResult<ResidentsAnswer> {
    let capped = cap <= streaming.above;
    let too_large = |resp: &reqwest::Response| RemoteError::TooLarge { url: resp.url().to_string(), cap };
    if capped && resp.content_length().is_some_and(|n| n > cap as u64) {
        return Err(too_large(&resp));
    }
    // Announced as large: streamed from its first byte (nothing read ahead of the splitter).
    if !capped && resp.content_length().is_some_and(|n| n > streaming.above as u64) {
        let url = resp.url().to_string();
        return Ok(ResidentsAnswer::Streamed(AnswerStream { url, head: None, rest: Rest::Http(resp), streaming }));
    }
    let expected = resp.content_length().map_or(0, |n| n as usize);
    let mut head = Vec::with_capacity(expected.min(streaming.above.saturating_add(1)));
    while let Some(chunk) = resp.chunk().await.map_err(|e| RemoteError::Decode(describe(&e)))? {
        head.extend_from_slice(&chunk);
        if capped && head.len() > cap {
            return Err(too_large(&resp));
        }
        if head.len() > streaming.above {
            let url = resp.url().to_string();
            return Ok(ResidentsAnswer::Streamed(AnswerStream {
                url,
                head: Some(head),
                rest: Rest::Http(resp),
                streaming,
            }));
        }
    }
    Ok(ResidentsAnswer::Whole(head))
}

/// The mappings of a `GET .../mappings` body read by [`RemoteApi::mappings_body`].
pub fn parse_mappings(bytes: &[u8]) -> RemoteResult<Vec<MappingObject>> {
    Ok(parse::<MappingsResponse>(bytes)?.mappings)
}

/// The mappings of a `GET .../mappings` body, each as its JSON object unparsed (the body is
/// checked to be JSON), for a site of many units: parsed one by one ([`parse_mapping`]).
pub fn split_mappings(bytes: &[u8]) -> RemoteResult<Vec<&serde_json::value::RawValue>> {
    #[derive(serde::Deserialize)]
    struct Envelope<'a> {
        #[serde(rename = "Mappings", default, borrow)]
        mappings: Vec<&'a serde_json::value::RawValue>,
    }
    Ok(parse_borrowed::<Envelope<'_>>(bytes)?.mappings)
}

/// One mapping of [`split_mappings`] (its JSON text), parsed.
pub fn parse_mapping(raw: &str) -> RemoteResult<MappingObject> {
    serde_json::from_str(raw)
        .map_err(|e| RemoteError::Decode(format!("a mapping in the answer: {e} ({} bytes)", raw.len())))
}

/// The residents of a `GET .../resident` body, each as its JSON object unparsed (the body is
/// checked to be JSON): the pull digests each one as it came and parses only those that are
/// not what it merged last time ([`parse_resident`]).
pub fn split_residents(bytes: &[u8]) -> RemoteResult<Vec<&serde_json::value::RawValue>> {
    #[derive(serde::Deserialize)]
    struct Envelope<'a> {
        #[serde(rename = "Residents", default, borrow)]
        residents: Vec<&'a serde_json::value::RawValue>,
    }
    Ok(parse_borrowed::<Envelope<'_>>(bytes)?.residents)
}

/// One resident of [`split_residents`] (its JSON text), parsed.
pub fn parse_resident(raw: &str) -> RemoteResult<ResidentObject> {
    serde_json::from_str(raw)
        .map_err(|e| RemoteError::Decode(format!("a resident in the answer: {e} ({} bytes)", raw.len())))
}

fn parse_borrowed<'a, T: serde::Deserialize<'a>>(bytes: &'a [u8]) -> RemoteResult<T> {
    serde_json::from_slice(bytes).map_err(|e| RemoteError::Decode(format!("{e} (answer of {} bytes)", bytes.len())))
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
    async fn mappings_body(&self, team: &str, site: &str) -> RemoteResult<Vec<u8>> {
        self.call(reqwest::Method::GET, &format!("/team/{}/site/{}/mappings", seg(team), seg(site)), None).await
    }
    async fn residents_body(&self, team: &str, site: &str) -> RemoteResult<Vec<u8>> {
        self.call(reqwest::Method::GET, &res_path(team, site), None).await
    }
    async fn mappings_answer(&self, team: &str, site: &str) -> RemoteResult<ResidentsAnswer> {
        let path = format!("/team/{}/site/{}/mappings", seg(team), seg(site));
        let resp = refusal(self.respond(reqwest::Method::GET, &path, None, Some(LIST_TIMEOUT)).await?).await?;
        read_or_stream(resp, self.body_cap, self.streaming).await
    }
    async fn residents_answer(&self, team: &str, site: &str) -> RemoteResult<ResidentsAnswer> {
        let resp =
            refusal(self.respond(reqwest::Method::GET, &res_path(team, site), None, Some(LIST_TIMEOUT)).await?).await?;
        read_or_stream(resp, self.body_cap, self.streaming).await
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
    fn an_answer_splits_into_its_residents_as_they_came_and_a_bad_one_is_named() {
        let body = br#"{"Error": null, "Residents": [{"ResidentId": "a", "FirstName": "Ann"},
            {"ResidentId":"b","FirstName":{"not":"a name"}}]}"#;
        let raw = split_residents(body).expect("the body is JSON");
        assert_eq!(raw.len(), 2);
        // Byte for byte as answered (the digest is of these bytes).
        assert_eq!(raw[0].get(), r#"{"ResidentId": "a", "FirstName": "Ann"}"#);
        assert_eq!(parse_resident(raw[0].get()).unwrap().first_name.as_deref(), Some("Ann"));
        let bad = parse_resident(raw[1].get()).unwrap_err();
        assert!(matches!(&bad, RemoteError::Decode(m) if m.contains("a resident in the answer")), "{bad:?}");
        assert!(matches!(split_residents(br#"{"Residents": [{"ResidentId": "a"}"#), Err(RemoteError::Decode(_))));
        assert!(split_residents(br#"{"Error": null}"#).unwrap().is_empty(), "no residents key: none");
    }

    #[test]
    fn only_this_machine_bypasses_proxies() {
        for base in ["http://127.0.0.1:8080/v2", "http://127.9.0.1/v2", "http://localhost:3000/v2", "http://[::1]:9/v2"]
        {
            assert!(is_loopback(base), "{base}");
        }
        for base in [DEFAULT_BASE_URL, "http://10.0.0.1/v2", "http://localhost.example.com/v2", "not a url", ""] {
            assert!(!is_loopback(base), "{base}");
        }
    }

    #[test]
    fn only_https_or_http_to_this_machine_is_a_base_url() {
        for ok in [
            DEFAULT_BASE_URL,
            "https://10.0.0.1/v2",
            "http://127.0.0.1:8080/v2",
            "http://localhost/v2",
            "http://LOCALHOST:1/v2",
            "http://[::1]:9/v2",
            "http://[::ffff:127.0.0.1]:9/v2",
        ] {
            assert_eq!(check_base_url(ok), Ok(()), "{ok}");
        }
        for (bad, says) in [
            ("http://10.0.0.1/v2", "plain http to another machine"),
            ("http://api.11os.com/v2", "plain http to another machine"),
            ("http://localhost.evil.example/v2", "plain http to another machine"),
            ("http://[::ffff:10.0.0.1]/v2", "plain http to another machine"),
            ("ftp://api.11os.com/v2", "not an http(s) URL"),
            ("api.11os.com/v2", "not a URL"),
            ("", "not a URL"),
        ] {
            let why = check_base_url(bad).unwrap_err();
            assert!(why.contains(says) && why.contains(bad), "{bad}: {why}");
        }
    }

    #[test]
    fn redirects_stay_on_the_host_and_on_https() {
        let u = |s: &str| reqwest::Url::parse(s).unwrap();
        let from = u("https://api.example.com/v2/team");
        assert_eq!(redirect_refusal(&from, &u("https://api.example.com/v2/teams"), 1), None);
        assert_eq!(redirect_refusal(&from, &u("https://api.example.com:443/v2/x"), 5), None);
        for (to, says) in [
            ("https://evil.example.com/v2/team", "another host"),
            ("https://api.example.com:8443/v2/team", "another host"),
            ("https://example.com/v2/team", "another host"),
            ("http://api.example.com:443/v2/team", "down to"),
        ] {
            let why = redirect_refusal(&from, &u(to), 1).unwrap_or_default();
            assert!(why.contains(says) && why.contains(to), "{to}: {why}");
        }
        let why = redirect_refusal(&from, &u("https://api.example.com/v2/teams"), MAX_REDIRECTS + 1);
        assert!(why.is_some_and(|w| w.contains("more than 5 times")));
        // http on this machine may move within itself.
        let local = u("http://127.0.0.1:9/v2/team");
        assert_eq!(redirect_refusal(&local, &u("http://127.0.0.1:9/v2/x"), 1), None);
    }

    #[test]
    fn path_segments_are_escaped() {
        assert_eq!(seg("a b/c"), "a%20b%2Fc");
        assert_eq!(res_path("t-1", "s_2"), "/team/t-1/site/s_2/resident");
        assert_eq!(error_message(r#"{"Error":"Unit 101 is occupied"}"#, 409), "Unit 101 is occupied");
        assert_eq!(error_message("", 502), "HTTP 502");
    }
}
