//! The API gate: partners call devcenter with their keys the way they call the original
//! APIs (HTTP Basic, the key as user name, an empty password). Every request is checked
//! here against the in-memory live keys — checksum first, then the key's hash, type,
//! grants and rate limit — with no database round trip, then forwarded upstream or, in
//! authorization-only mode, answered with what was matched.

pub mod limits;
pub mod router;

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;

use crate::db::Pool;
use crate::db::catalogue::Endpoint;
use crate::domain::keys::ApiKey;
use crate::domain::live_keys::{Admission, LiveKey, LiveKeys};
use crate::domain::people::ApiType;

use crate::domain::throttle::Failures;

use self::limits::RateLimit;
use self::router::EndpointRouter;

const JSON: HeaderValue = HeaderValue::from_static("application/json");

/// Largest request body forwarded upstream.
const MAX_FORWARDED_BYTES: usize = 16 * 1024 * 1024;
const CREDENTIAL_HEADER: HeaderName = HeaderName::from_static("x-devcenter-credential-id");

pub struct Gate {
    keys: Arc<LiveKeys>,
    router: EndpointRouter,
    rate_limit: Option<RateLimit>,
    failures: Failures<IpAddr>,
    upstream: Option<Upstream>,
}

struct Upstream {
    base: String,
    client: reqwest::Client,
}

impl Gate {
    pub fn new(
        keys: Arc<LiveKeys>,
        router: EndpointRouter,
        rate_limit: Option<RateLimit>,
        failed_auth_limit: Option<RateLimit>,
        upstream: Option<String>,
    ) -> anyhow::Result<Self> {
        let upstream = match upstream {
            Some(base) => Some(Upstream {
                base: base.trim_end_matches('/').to_owned(),
                client: reqwest::Client::builder()
                    .redirect(reqwest::redirect::Policy::none())
                    .build()?,
            }),
            None => None,
        };
        Ok(Self {
            keys,
            router,
            rate_limit,
            failures: Failures::new(failed_auth_limit.map(Into::into)),
            upstream,
        })
    }
}

/// Why a request goes no further, as the original APIs say it.
enum Refusal {
    Unauthenticated(&'static str),
    AddressBlocked(u64),
}

/// Refusals in the original APIs' shape, `{"message": ...}`.
fn refused(refusal: Refusal) -> HttpResponse {
    match refusal {
        Refusal::Unauthenticated(text) => HttpResponse::Unauthorized()
            .insert_header((header::CONTENT_TYPE, JSON))
            .insert_header((header::WWW_AUTHENTICATE, r#"Basic realm="devcenter""#))
            .body(json!({ "message": text }).to_string()),
        Refusal::AddressBlocked(retry_after) => HttpResponse::TooManyRequests()
            .insert_header((header::CONTENT_TYPE, JSON))
            .insert_header((header::RETRY_AFTER, retry_after.to_string()))
            .body(json!({ "message": "Too many failed authentications from your address. Try again later." }).to_string()),
    }
}

fn client_address(req: &HttpRequest) -> IpAddr {
    req.peer_addr()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |a| a.ip())
}

/// Longest `Authorization` value worth decoding: a key is 53 characters.
const MAX_BASIC_CREDENTIALS: usize = 96;

/// The key in `Authorization: Basic base64(key:)`, decoded into `buffer` without
/// allocating.
fn presented_key<'a>(
    headers: &HeaderMap,
    buffer: &'a mut [u8; MAX_BASIC_CREDENTIALS],
) -> Option<&'a str> {
    let value = headers.get(header::AUTHORIZATION)?.as_bytes();
    let encoded = value
        .strip_prefix(b"Basic ")
        .or_else(|| value.strip_prefix(b"basic "))?;
    let length = STANDARD.decode_slice(encoded.trim_ascii(), buffer).ok()?;
    let decoded = std::str::from_utf8(&buffer[..length]).ok()?;
    Some(
        decoded
            .split_once(':')
            .map_or(decoded, |(user, _password)| user),
    )
}

impl Gate {
    /// The live key of `api_type` the request presents, or why not.
    fn authenticate(
        &self,
        req: &HttpRequest,
        api_type: ApiType,
        now: Instant,
    ) -> Result<Arc<LiveKey>, Refusal> {
        let address = client_address(req);
        if let Some(retry_after) = self.failures.blocked(&address, now) {
            return Err(Refusal::AddressBlocked(retry_after));
        }
        let mut buffer = [0u8; MAX_BASIC_CREDENTIALS];
        let Some(text) = presented_key(req.headers(), &mut buffer) else {
            return Err(Refusal::Unauthenticated(
                "Missing Basic Auth credentials: send your API key as the user name.",
            ));
        };
        let live = ApiKey::hash_of(text)
            .ok()
            .and_then(|hash| self.keys.get(&hash))
            .filter(|key| key.api_type == api_type)
            .filter(|key| api_type != ApiType::Partner || key.client_application_active);
        live.ok_or_else(|| {
            self.failures.record(address, now);
            Refusal::Unauthenticated("Invalid Basic Auth credentials.")
        })
    }

    /// Authenticates the request as a key of `api_type` and counts it against the key's
    /// rate limit: the key and what to tell the client, or the refusal to send.
    fn enter(
        &self,
        req: &HttpRequest,
        api_type: ApiType,
    ) -> Result<(Arc<LiveKey>, Option<Admission>), Box<HttpResponse>> {
        let now = Instant::now();
        let key = self
            .authenticate(req, api_type, now)
            .map_err(|refusal| Box::new(refused(refusal)))?;
        let admission = self
            .rate_limit
            .map(|limit| key.activity.admit(limit.requests, limit.period, now));
        match over_limit(admission) {
            Some(response) => Err(Box::new(response)),
            None => Ok((key, admission)),
        }
    }

    /// Serves an authorized request: forwarded upstream, or described in JSON.
    async fn serve(
        &self,
        req: &HttpRequest,
        payload: web::Payload,
        upstream_path: &str,
        endpoint: Option<(&Endpoint, &str)>,
        key: Option<&LiveKey>,
        admission: Option<Admission>,
    ) -> HttpResponse {
        if let Some(key) = key {
            let millis = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as i64);
            key.activity.record(endpoint.map(|(e, _)| e.id), millis);
        }
        let mut response = match &self.upstream {
            // Boxed: the forwarding future is large, and authorization-only answers
            // should not carry it around.
            Some(upstream) => Box::pin(upstream.forward(req, payload, upstream_path, key)).await,
            None => {
                // Built from pieces made once: this is the gate's hottest answer.
                let request = match endpoint {
                    Some(_) => String::new(),
                    None => json!({ "method": req.method().as_str(), "path": req.uri().path() })
                        .to_string(),
                };
                let described = endpoint.map_or(request.as_str(), |(_, described)| described);
                let credential = key.map_or("null", |k| k.described.as_str());
                let mut body = String::with_capacity(described.len() + credential.len() + 28);
                body.push_str(r#"{"endpoint":"#);
                body.push_str(described);
                body.push_str(r#","credential":"#);
                body.push_str(credential);
                body.push('}');
                HttpResponse::Ok()
                    .insert_header((header::CONTENT_TYPE, JSON))
                    .body(body)
            }
        };
        with_rate_headers(&mut response, admission);
        response
    }
}

fn with_rate_headers(response: &mut HttpResponse, admission: Option<Admission>) {
    let Some(admission) = admission else { return };
    const LIMIT: HeaderName = HeaderName::from_static("x-ratelimit-limit");
    const REMAINING: HeaderName = HeaderName::from_static("x-ratelimit-remaining");
    const RESET: HeaderName = HeaderName::from_static("x-ratelimit-reset");
    let headers = response.headers_mut();
    headers.insert(LIMIT, HeaderValue::from(admission.limit));
    headers.insert(REMAINING, HeaderValue::from(admission.remaining));
    if !admission.allowed {
        headers.insert(RESET, HeaderValue::from(admission.reset_after));
        headers.insert(
            header::RETRY_AFTER,
            HeaderValue::from(admission.reset_after),
        );
    }
}

fn answer(status: StatusCode, text: &str, admission: Option<Admission>) -> HttpResponse {
    let mut response = HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, JSON))
        .body(json!({ "message": text }).to_string());
    with_rate_headers(&mut response, admission);
    response
}

fn over_limit(admission: Option<Admission>) -> Option<HttpResponse> {
    admission.filter(|a| !a.allowed).map(|a| {
        answer(
            StatusCode::TOO_MANY_REQUESTS,
            "Rate limit exceeded: slow down and retry after the window resets.",
            Some(a),
        )
    })
}

/// `/harvest/v1/...`, `/harvest/v2/...`: Harvest keys, against their endpoint grants.
pub async fn harvest(
    req: HttpRequest,
    payload: web::Payload,
    gate: web::Data<Gate>,
) -> HttpResponse {
    let (key, admission) = match gate.enter(&req, ApiType::Harvest) {
        Ok(entered) => entered,
        Err(refused) => return *refused,
    };
    let path = req
        .uri()
        .path()
        .strip_prefix("/harvest")
        .unwrap_or_default();
    let Some((endpoint, described)) = gate.router.find(req.method(), path) else {
        return answer(
            StatusCode::NOT_FOUND,
            "No Harvest endpoint matches this method and path.",
            admission,
        );
    };
    if !key.is_granted(endpoint.id) {
        return answer(
            StatusCode::FORBIDDEN,
            "This API key is not granted this endpoint. Ask the organization's admin to grant it under Manage API Key Permissions.",
            admission,
        );
    }
    gate.serve(
        &req,
        payload,
        path,
        Some((endpoint, described)),
        Some(&key),
        admission,
    )
    .await
}

/// `/boards-api/v1/...`: application submission needs a Job Board key; reading is public.
pub async fn job_board(
    req: HttpRequest,
    payload: web::Payload,
    gate: web::Data<Gate>,
) -> HttpResponse {
    let path = req
        .uri()
        .path()
        .strip_prefix("/boards-api")
        .unwrap_or_default();
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    let is_application = matches!(segments.as_slice(), ["", "v1", "boards", board, "jobs", id] if !board.is_empty() && !id.is_empty());
    let is_board =
        matches!(segments.as_slice(), ["", "v1", "boards", board, ..] if !board.is_empty());
    if *req.method() == Method::POST && is_application {
        let (key, admission) = match gate.enter(&req, ApiType::JobBoard) {
            Ok(entered) => entered,
            Err(refused) => return *refused,
        };
        return gate
            .serve(&req, payload, path, None, Some(&key), admission)
            .await;
    }
    if matches!(*req.method(), Method::GET | Method::HEAD) && is_board {
        return gate.serve(&req, payload, path, None, None, None).await;
    }
    answer(
        StatusCode::NOT_FOUND,
        "No Job Board API route matches this method and path.",
        None,
    )
}

/// `/partner/...`: a live Partner key of an active client application.
pub async fn partner(
    req: HttpRequest,
    payload: web::Payload,
    gate: web::Data<Gate>,
) -> HttpResponse {
    let (key, admission) = match gate.enter(&req, ApiType::Partner) {
        Ok(entered) => entered,
        Err(refused) => return *refused,
    };
    let path = req
        .uri()
        .path()
        .strip_prefix("/partner")
        .unwrap_or_default();
    gate.serve(&req, payload, path, None, Some(&key), admission)
        .await
}

/// Request headers passed upstream: content and negotiation, never credentials.
const FORWARDED_REQUEST_HEADERS: [HeaderName; 5] = [
    header::CONTENT_TYPE,
    header::ACCEPT,
    header::ACCEPT_LANGUAGE,
    header::USER_AGENT,
    HeaderName::from_static("on-behalf-of"),
];

/// Response headers not passed back (hop-by-hop, or recomputed by this server).
const DROPPED_RESPONSE_HEADERS: [HeaderName; 6] = [
    header::CONNECTION,
    header::TRANSFER_ENCODING,
    header::CONTENT_LENGTH,
    header::UPGRADE,
    header::TRAILER,
    HeaderName::from_static("keep-alive"),
];

impl Upstream {
    async fn forward(
        &self,
        req: &HttpRequest,
        payload: web::Payload,
        path: &str,
        key: Option<&LiveKey>,
    ) -> HttpResponse {
        let body = match payload.to_bytes_limited(MAX_FORWARDED_BYTES).await {
            Ok(Ok(body)) => body,
            Ok(Err(_)) | Err(_) => {
                return answer(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "The request body is too large or could not be read.",
                    None,
                );
            }
        };
        let mut url = format!("{}{path}", self.base);
        if let Some(query) = req.uri().query() {
            url.push('?');
            url.push_str(query);
        }
        let Ok(method) = reqwest::Method::from_bytes(req.method().as_str().as_bytes()) else {
            return answer(StatusCode::METHOD_NOT_ALLOWED, "Unsupported method.", None);
        };
        let mut outgoing = self.client.request(method, &url).body(body.to_vec());
        for name in &FORWARDED_REQUEST_HEADERS {
            for value in req.headers().get_all(name) {
                outgoing = outgoing.header(name.as_str(), value.as_bytes());
            }
        }
        if let Some(key) = key {
            outgoing = outgoing.header(CREDENTIAL_HEADER.as_str(), key.credential_id.to_string());
        }
        match outgoing.send().await {
            Ok(upstream) => {
                let status = StatusCode::from_u16(upstream.status().as_u16())
                    .unwrap_or(StatusCode::BAD_GATEWAY);
                let mut response = HttpResponse::build(status);
                for (name, value) in upstream.headers() {
                    if DROPPED_RESPONSE_HEADERS
                        .iter()
                        .any(|d| d.as_str() == name.as_str())
                    {
                        continue;
                    }
                    response.append_header((name.as_str(), value.as_bytes()));
                }
                response.streaming(upstream.bytes_stream())
            }
            Err(error) => {
                tracing::warn!(upstream = %self.base, error = %error.without_url(), "upstream unreachable");
                answer(
                    StatusCode::BAD_GATEWAY,
                    "The upstream API could not be reached.",
                    None,
                )
            }
        }
    }
}

/// Writes the counted usage to the database; on failure keeps it for the next batch.
pub fn flush_usage(pool: &Pool, keys: &LiveKeys) {
    let batches = keys.drain_usage();
    if batches.is_empty() {
        return;
    }
    let written = pool
        .get()
        .map_err(anyhow::Error::from)
        .and_then(|mut conn| {
            crate::db::usage::record(&mut conn, chrono::Utc::now().date_naive(), &batches)
                .map_err(anyhow::Error::from)
        });
    if let Err(error) = written {
        tracing::warn!(
            error = format!("{error:#}"),
            "usage not written yet; retrying with the next batch"
        );
        keys.restore_usage(&batches);
    }
}
