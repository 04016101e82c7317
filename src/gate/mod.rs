//! The API gate: partners call devcenter with their keys the way they call the original
//! APIs (HTTP Basic, the key as user name, an empty password). Every request is checked
//! here — canonical path first, then its mount's route, then the key's checksum, hash,
//! type, grants and rate limit against the in-memory live keys, with no database round
//! trip — then forwarded to its mount's upstream or, in authorization-only mode, answered
//! with what was matched.

pub mod bearer;
pub mod canonical;
mod in_flight;
pub mod limits;
pub mod live_keys;
mod mount;
pub mod request_log;
pub mod router;
pub mod shared_failures;
pub mod shared_limits;
pub mod upstream;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;

use crate::client_address;
use crate::db::Pool;
use crate::db::catalogue::Endpoint;
use crate::gate::live_keys::{LiveIntegration, LiveKey, LiveKeys};
use crate::limiter::{Admission, Failures, Limit};
use crate::oauth::access_token::{AUDIENCE, AccessClaims, Acting};
use crate::oauth::sealing::SealingKey;
use crate::oauth::signing::{SigningKeys, TokenRejected};
use crate::rules::keys::ApiKey;
use crate::rules::words::ApiType;

use self::bearer::{ScopeCatalogue, TokenCache, VerifiedToken};
use self::in_flight::InFlight;
use self::mount::Mount;
pub use self::mount::Upstreams;
use self::request_log::{PendingRequest, PendingRequests};
use self::router::{Access, CatalogueEndpoint};
use self::shared_limits::SharedLimits;
use self::upstream::Authorized;

const JSON: HeaderValue = HeaderValue::from_static("application/json");

/// How the gate is set up, from the command line.
pub struct GateSettings {
    pub rate_limit: Option<Limit>,
    /// Harvest v3's per-credential limit (its own window, 30 seconds by default).
    pub v3_rate_limit: Option<Limit>,
    pub bearer: BearerSettings,
    pub failed_auth_limit: Option<Limit>,
    pub upstreams: Upstreams,
    /// The gate's own origin for rewritten links (`--public-url`).
    pub public_url: Option<String>,
    /// Public Job Board requests one address may have in flight at once.
    pub public_concurrency: u32,
    /// Keys' windows shared with other instances (on PostgreSQL); in memory without.
    pub shared_limits: Option<SharedLimits>,
    /// Live keys that have not agreed with the database for longer are not trusted.
    pub stale_after: Duration,
}

/// What the gate needs to check v3 access tokens.
pub struct BearerSettings {
    pub signing: Arc<SigningKeys>,
    /// To reload the signing keys when a token names one this instance has not loaded yet.
    pub sealing: Arc<SealingKey>,
    pub pool: Pool,
    /// The tokens' `iss`: this server as the token endpoint names itself.
    pub issuer: String,
    /// Verified tokens remembered at most.
    pub cache_capacity: usize,
}

pub struct Gate {
    keys: Arc<LiveKeys>,
    mounts: Vec<Arc<Mount>>,
    rate_limit: Option<Limit>,
    v3_rate_limit: Option<Limit>,
    signing: Arc<SigningKeys>,
    sealing: Arc<SealingKey>,
    pool: Pool,
    issuer: String,
    tokens: TokenCache,
    scopes: ScopeCatalogue,
    shared_limits: Option<SharedLimits>,
    stale_after: Duration,
    failures: Failures<IpAddr>,
    public_url: Option<String>,
    public_readers: Arc<InFlight>,
    requests: Arc<PendingRequests>,
}

impl Gate {
    pub fn new(
        keys: Arc<LiveKeys>,
        catalogue: &[Endpoint],
        requests: Arc<PendingRequests>,
        settings: GateSettings,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            keys,
            mounts: Mount::all(catalogue, settings.upstreams)?
                .into_iter()
                .map(Arc::new)
                .collect(),
            rate_limit: settings.rate_limit,
            v3_rate_limit: settings.v3_rate_limit,
            signing: settings.bearer.signing,
            sealing: settings.bearer.sealing,
            pool: settings.bearer.pool,
            issuer: settings.bearer.issuer,
            tokens: TokenCache::new(settings.bearer.cache_capacity),
            scopes: ScopeCatalogue::new(catalogue),
            shared_limits: settings.shared_limits,
            stale_after: settings.stale_after,
            failures: Failures::new(settings.failed_auth_limit),
            public_url: settings
                .public_url
                .map(|url| url.trim_end_matches('/').to_owned()),
            public_readers: Arc::new(InFlight::new(settings.public_concurrency)),
            requests,
        })
    }

    /// Each mount's scope: every method and path below its prefix goes to the gate.
    pub fn scopes(&self) -> Vec<actix_web::Scope> {
        self.mounts
            .iter()
            .map(|mount| {
                let mount = Arc::clone(mount);
                web::scope(mount.prefix).default_service(web::to(
                    move |req: HttpRequest, payload: web::Payload, gate: web::Data<Gate>| {
                        let mount = Arc::clone(&mount);
                        async move { gate.handle(&mount, req, payload).await }
                    },
                ))
            })
            .collect()
    }
}

/// Why a request goes no further, as the original APIs say it.
enum Refusal {
    Unauthenticated(&'static str),
    /// No usable access token on a v3 route (RFC 6750 `invalid_token`).
    InvalidToken(&'static str),
    AddressBlocked(u64),
    /// A live credential (this one) used from outside its trusted IPs.
    UntrustedAddress(i32),
    /// A credential past its expiry date (the last day it worked).
    Expired {
        on: chrono::NaiveDate,
        bearer: bool,
    },
    /// The live keys have not agreed with the database for too long (it is out of reach):
    /// a key revoked meanwhile could still be in them, so no key is accepted.
    KeysUnconfirmed,
}

/// Refusals in the original APIs' shape, `{"message": ...}`.
fn refused(refusal: Refusal) -> HttpResponse {
    match refusal {
        Refusal::Unauthenticated(text) => HttpResponse::Unauthorized()
            .insert_header((header::CONTENT_TYPE, JSON))
            .insert_header((header::WWW_AUTHENTICATE, r#"Basic realm="devcenter""#))
            .body(json!({ "message": text }).to_string()),
        Refusal::InvalidToken(text) => HttpResponse::Unauthorized()
            .insert_header((header::CONTENT_TYPE, JSON))
            .insert_header((
                header::WWW_AUTHENTICATE,
                format!(r#"Bearer realm="devcenter", error="invalid_token", error_description="{text}""#),
            ))
            .body(json!({ "message": text }).to_string()),
        Refusal::Expired { on, bearer } => {
            let text = format!(
                "This credential expired on {} (UTC): its managers can set a new expiry date in Dev Center.",
                on.format("%Y-%m-%d")
            );
            let challenge = match bearer {
                true => format!(
                    r#"Bearer realm="devcenter", error="invalid_token", error_description="The credential expired on {}.""#,
                    on.format("%Y-%m-%d")
                ),
                false => r#"Basic realm="devcenter""#.to_owned(),
            };
            HttpResponse::Unauthorized()
                .insert_header((header::CONTENT_TYPE, JSON))
                .insert_header((header::WWW_AUTHENTICATE, challenge))
                .body(json!({ "message": text }).to_string())
        }
        Refusal::UntrustedAddress(_) => HttpResponse::Forbidden()
            .insert_header((header::CONTENT_TYPE, JSON))
            .body(json!({ "message": "This credential may not be used from your address: it is outside the credential's trusted IPs." }).to_string()),
        Refusal::AddressBlocked(retry_after) => HttpResponse::TooManyRequests()
            .insert_header((header::CONTENT_TYPE, JSON))
            .insert_header((header::RETRY_AFTER, retry_after.to_string()))
            .body(json!({ "message": "Too many failed authentications from your address. Try again later." }).to_string()),
        Refusal::KeysUnconfirmed => HttpResponse::ServiceUnavailable()
            .insert_header((header::CONTENT_TYPE, JSON))
            .insert_header((header::RETRY_AFTER, "5"))
            .body(json!({ "message": "The gate cannot confirm API keys with its database right now. Try again shortly." }).to_string()),
    }
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

/// A request let in by its key, and what the key's rate limit said.
struct Entered {
    key: Arc<LiveKey>,
    /// The access token, on a v3 route.
    token: Option<Arc<VerifiedToken>>,
    /// The partner integration the token was issued to, if any.
    integration: Option<Arc<LiveIntegration>>,
    admission: Option<Admission>,
}

impl Entered {
    /// Whether the request may call the endpoint: the key's grants; on v3 the token's
    /// scopes too, within what its credential (or its integration) still has.
    fn may_call(&self, endpoint_id: i32) -> bool {
        let still_has = match &self.integration {
            Some(integration) => integration.is_granted(endpoint_id),
            None => self.key.is_granted(endpoint_id),
        };
        still_has
            && self
                .token
                .as_ref()
                .is_none_or(|t| t.is_granted(endpoint_id))
    }
}

/// What a token says about what it stands on.
struct Standing<'a> {
    client_id: &'a str,
    secret_id: i32,
    acting: Acting,
    integration_id: Option<i32>,
    family_id: Option<i32>,
}

/// What let a request through: on which mount, for which path, and on whose key.
struct Permit<'a> {
    mount: &'a Mount,
    path: &'a str,
    bearer: Bearer<'a>,
    /// The verified access token, passed on so the upstream can verify it too.
    token: Option<&'a str>,
}

enum Bearer<'a> {
    /// A key granted the catalogue endpoint the request matched.
    Granted(&'a LiveKey, &'a CatalogueEndpoint),
    /// A key of the mount's type, on a route any such key may call.
    Key(&'a LiveKey),
    /// Anyone, on a public route.
    Public,
}

impl Bearer<'_> {
    fn key(&self) -> Option<&LiveKey> {
        match self {
            Bearer::Granted(key, _) | Bearer::Key(key) => Some(key),
            Bearer::Public => None,
        }
    }

    fn endpoint(&self) -> Option<&CatalogueEndpoint> {
        match self {
            Bearer::Granted(_, endpoint) => Some(endpoint),
            Bearer::Key(_) | Bearer::Public => None,
        }
    }
}

impl Gate {
    /// Every gate request, on every mount: canonical or refused, then what its route needs.
    async fn handle(&self, mount: &Mount, req: HttpRequest, payload: web::Payload) -> HttpResponse {
        let started = Instant::now();
        let address = client_address::of(&req);
        let path = match authorized_path(&req, mount) {
            Ok(path) => path,
            Err(refusal) => return answer(StatusCode::BAD_REQUEST, refusal, None),
        };
        if matches!(*req.method(), Method::CONNECT | Method::TRACE) {
            return answer(
                StatusCode::METHOD_NOT_ALLOWED,
                "CONNECT and TRACE are not API methods.",
                None,
            );
        }
        if matches!(*req.method(), Method::GET | Method::HEAD) && upstream::has_body(req.headers())
        {
            return answer(
                StatusCode::BAD_REQUEST,
                "A GET or HEAD request cannot carry a body.",
                None,
            );
        }
        let access = mount.routes.find(req.method(), path);
        match access {
            Some(Access::Public) => return self.public(&req, payload, mount, path, address).await,
            None if !mount.unrouted.after_key => {
                return answer(StatusCode::NOT_FOUND, mount.unrouted.message, None);
            }
            _ => {}
        }
        let entered = match self.enter(&req, mount, path, address).await {
            Ok(entered) => entered,
            Err(refused) => return *refused,
        };
        let key = entered.key.as_ref();
        let bearer = match access {
            Some(Access::Granted(endpoint)) if !entered.may_call(endpoint.id) => {
                Err(not_granted(endpoint, entered.token.is_some()))
            }
            Some(Access::Granted(endpoint)) => Ok(Bearer::Granted(key, endpoint)),
            Some(Access::Key) => Ok(Bearer::Key(key)),
            // Public routes were served above, without a key.
            Some(Access::Public) | None => {
                Err(answer(StatusCode::NOT_FOUND, mount.unrouted.message, None))
            }
        };
        let mut response = match bearer {
            Ok(bearer) => {
                if let Some(integration) = &entered.integration {
                    key.activity
                        .record_integration(integration.id, unix_millis());
                }
                let permit = Permit {
                    mount,
                    path,
                    bearer,
                    token: entered
                        .token
                        .is_some()
                        .then(|| bearer::presented(req.headers()))
                        .flatten(),
                };
                self.serve(&req, payload, permit).await
            }
            Err(refused) => refused,
        };
        with_rate_headers(&mut response, entered.admission);
        let endpoint_id = match access {
            Some(Access::Granted(endpoint)) => Some(endpoint.id),
            _ => None,
        };
        self.log(
            &req,
            entered.key.credential_id,
            endpoint_id,
            address,
            response.status(),
            started,
        );
        response
    }

    /// A public route: no key, a few requests at a time per address.
    async fn public(
        &self,
        req: &HttpRequest,
        payload: web::Payload,
        mount: &Mount,
        path: &str,
        address: IpAddr,
    ) -> HttpResponse {
        let Some(slot) = InFlight::enter(&self.public_readers, address) else {
            let mut response = answer(
                StatusCode::TOO_MANY_REQUESTS,
                "Too many requests from your address at once: wait for one to finish.",
                None,
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            return response;
        };
        let permit = Permit {
            mount,
            path,
            bearer: Bearer::Public,
            token: None,
        };
        slot.hold(self.serve(req, payload, permit).await)
    }

    /// The live key of the mount's type the request presents, or why not.
    fn authenticate(
        &self,
        req: &HttpRequest,
        api_type: ApiType,
        address: IpAddr,
        now: Instant,
    ) -> Result<Arc<LiveKey>, Refusal> {
        if let Some(retry_after) = self.failures.blocked(&address, now) {
            return Err(Refusal::AddressBlocked(retry_after));
        }
        if self.keys.since_reconciled() > self.stale_after {
            return Err(Refusal::KeysUnconfirmed);
        }
        let mut buffer = [0u8; MAX_BASIC_CREDENTIALS];
        let Some(text) = presented_key(req.headers(), &mut buffer) else {
            return Err(Refusal::Unauthenticated(
                "Missing Basic Auth credentials: send your API key as the user name.",
            ));
        };
        let at = unix_millis();
        let Some(live) = ApiKey::hash_of(text)
            .ok()
            .and_then(|hash| self.keys.get(&hash))
            .filter(|s| s.key.api_type == api_type && !s.key.suspended && s.works(at))
        else {
            self.failures.record(address, now);
            return Err(Refusal::Unauthenticated("Invalid Basic Auth credentials."));
        };
        if let Some(on) = live.key.expired(at) {
            return Err(Refusal::Expired { on, bearer: false });
        }
        if !live.key.admits_address(address) {
            return Err(Refusal::UntrustedAddress(live.key.credential_id));
        }
        live.key.activity.record_secret(
            live.secret_id,
            at,
            address,
            req.headers().get(header::USER_AGENT),
        );
        Ok(live.key)
    }

    /// Seconds until `address` may authenticate again, when its failures are past the
    /// limit (shared by the gate and the token endpoint).
    pub fn address_blocked(&self, address: IpAddr) -> Option<u64> {
        self.failures.blocked(&address, Instant::now())
    }

    /// Counts a failed authentication from `address` (a wrong client secret at the token
    /// endpoint counts as a wrong key here does).
    pub fn record_failed_authentication(&self, address: IpAddr) {
        self.failures.record(address, Instant::now());
    }

    /// What an access token says, if the gate would accept it now: verified, its
    /// credential, secret and acting user still live; its scopes narrowed to those its
    /// credential still has. For introspection.
    pub fn live_claims(&self, token: &str) -> Option<AccessClaims> {
        let mut claims: AccessClaims = self.signing.verify(token, &self.issuer, AUDIENCE).ok()?;
        let standing = Standing {
            client_id: &claims.client_id,
            secret_id: claims.secret_id,
            acting: claims.acting()?,
            integration_id: claims.integration_id,
            family_id: claims.family_id,
        };
        let at = unix_millis();
        let (key, integration) = self.standing(&standing, at).ok()?;
        if key.expired(at).is_some() {
            return None;
        }
        let still_open = |endpoint: &i32| match &integration {
            Some(integration) => integration.is_granted(*endpoint),
            None => key.is_granted(*endpoint),
        };
        claims.scope = claims
            .scope
            .split(' ')
            .filter(|scope| {
                let opens = self.scopes.opens(scope);
                !opens.is_empty() && opens.iter().all(still_open)
            })
            .collect::<Vec<_>>()
            .join(" ");
        Some(claims)
    }

    /// Whether what a token says still stands: its credential live (not revoked, its
    /// client application active), the secret that obtained it not ended, the user it acts
    /// as still able to, and for a partner integration's token, the integration connected
    /// and its token family not revoked. The credential and integration it stands on, or
    /// why not.
    fn standing(
        &self,
        token: &Standing<'_>,
        at: i64,
    ) -> Result<(Arc<LiveKey>, Option<Arc<LiveIntegration>>), &'static str> {
        const ENDED: &str =
            "The token's credential is revoked, or the secret that obtained it has ended.";
        let key = self
            .keys
            .by_client_id(token.client_id)
            .filter(|key| !key.suspended && key.secret_works(token.secret_id, at))
            .ok_or(ENDED)?;
        let integration = match (key.api_type, token.integration_id) {
            (ApiType::HarvestV3, None) => None,
            (ApiType::OauthClient, Some(id)) => {
                let integration = self
                    .keys
                    .integration(id)
                    .filter(|i| i.credential_id == key.credential_id)
                    .ok_or("The integration this token was issued to is disconnected.")?;
                // Whom it acts as is the integration's, never the token's own say.
                if integration.acting != token.acting {
                    return Err(ENDED);
                }
                if token
                    .family_id
                    .is_none_or(|family| self.keys.family_revoked(family))
                {
                    return Err(
                        "This token was revoked: a code or refresh token of its grant was used twice.",
                    );
                }
                Some(integration)
            }
            _ => return Err(ENDED),
        };
        match token.acting {
            Acting::User(user)
                if integration.is_some() && !self.keys.user_may_act_for_integrations(user) =>
            {
                return Err("The person this integration acts as can no longer act for it.");
            }
            Acting::User(user) if !self.keys.user_active(user) => {
                return Err("The token acts as a user who is disabled.");
            }
            _ => {}
        }
        Ok((key, integration))
    }

    /// The live v3 credential and verified token a Bearer request presents, or why not.
    async fn authenticate_bearer(
        &self,
        req: &HttpRequest,
        address: IpAddr,
        now: Instant,
    ) -> Result<
        (
            Arc<LiveKey>,
            Arc<VerifiedToken>,
            Option<Arc<LiveIntegration>>,
        ),
        Refusal,
    > {
        if let Some(retry_after) = self.failures.blocked(&address, now) {
            return Err(Refusal::AddressBlocked(retry_after));
        }
        if self.keys.since_reconciled() > self.stale_after {
            return Err(Refusal::KeysUnconfirmed);
        }
        let Some(presented) = bearer::presented(req.headers()) else {
            return Err(Refusal::InvalidToken(
                "Missing access token: send it as Authorization: Bearer, from POST /oauth/token.",
            ));
        };
        let at = unix_millis();
        let token = match self.verify(presented, at).await {
            Ok(token) => token,
            Err(rejected) => {
                self.failures.record(address, now);
                return Err(Refusal::InvalidToken(token_refusal(rejected)));
            }
        };
        let standing = Standing {
            client_id: &token.client_id,
            secret_id: token.secret_id,
            acting: token.acting,
            integration_id: token.integration_id,
            family_id: token.family_id,
        };
        let (key, integration) = self
            .standing(&standing, at)
            .map_err(Refusal::InvalidToken)?;
        if let Some(on) = key.expired(at) {
            return Err(Refusal::Expired { on, bearer: true });
        }
        if !key.admits_address(address) {
            return Err(Refusal::UntrustedAddress(key.credential_id));
        }
        Ok((key, token, integration))
    }

    /// The token's verified claims; a token signed with a key this instance has not loaded
    /// yet (another instance or the command line rotated) is verified again after a reload.
    async fn verify(&self, token: &str, at: i64) -> Result<Arc<VerifiedToken>, TokenRejected> {
        let verify = || {
            self.tokens
                .verify(token, &self.signing, &self.issuer, &self.scopes, at)
        };
        match verify() {
            Err(TokenRejected::UnknownKey) => {
                let (signing, sealing, pool) = (
                    self.signing.clone(),
                    self.sealing.clone(),
                    self.pool.clone(),
                );
                let reloaded = web::block(move || {
                    let mut conn = pool.get()?;
                    signing.reload_for_unknown_key(&mut conn, &sealing)
                })
                .await;
                match reloaded {
                    Ok(Ok(true)) => verify(),
                    _ => Err(TokenRejected::UnknownKey),
                }
            }
            verified => verified,
        }
    }

    /// Authenticates the request as its mount's credential (a key, or on v3 an access
    /// token) and counts it against the credential's rate limit.
    async fn enter(
        &self,
        req: &HttpRequest,
        mount: &Mount,
        path: &str,
        address: IpAddr,
    ) -> Result<Entered, Box<HttpResponse>> {
        let now = Instant::now();
        let (key, token, integration, limit) = if mount.takes_bearer(path) {
            let (key, token, integration) = self
                .authenticate_bearer(req, address, now)
                .await
                .map_err(|refusal| self.refuse(req, address, refusal))?;
            (key, Some(token), integration, self.v3_rate_limit)
        } else {
            let key = self
                .authenticate(req, mount.api_type, address, now)
                .map_err(|refusal| self.refuse(req, address, refusal))?;
            (key, None, None, self.rate_limit)
        };
        let admission = match (limit, &self.shared_limits) {
            (None, _) => None,
            (Some(limit), None) => Some(key.activity.admit(limit, now)),
            (Some(limit), Some(shared)) => Some(shared.admit(&key, limit).await),
        };
        match over_limit(admission) {
            Some(mut response) => {
                with_rate_headers(&mut response, admission);
                Err(Box::new(response))
            }
            None => Ok(Entered {
                key,
                token,
                integration,
                admission,
            }),
        }
    }

    /// Serves an authorized request: forwarded to the mount's upstream, or described in
    /// JSON.
    async fn serve(
        &self,
        req: &HttpRequest,
        payload: web::Payload,
        permit: Permit<'_>,
    ) -> HttpResponse {
        let Permit {
            mount,
            path,
            bearer,
            token,
        } = permit;
        let endpoint = bearer.endpoint();
        if let Some(key) = bearer.key() {
            key.activity.record(endpoint.map(|e| e.id), unix_millis());
        }
        match &mount.upstream {
            // Boxed: the forwarding future is large, and authorization-only answers
            // should not carry it around.
            Some(upstream) => {
                let gate_base = || format!("{}{}", self.origin(req), mount.prefix);
                let authorized = Authorized {
                    path,
                    query: req.uri().query(),
                    credential_id: bearer.key().map(|key| key.credential_id),
                    access_token: token,
                    gate_base: &gate_base,
                };
                Box::pin(upstream.forward(req, payload, authorized)).await
            }
            None => {
                // Built from pieces made once: this is the gate's hottest answer.
                let request = match endpoint {
                    Some(_) => String::new(),
                    None => json!({ "method": req.method().as_str(), "path": path }).to_string(),
                };
                let described = endpoint.map_or(request.as_str(), |e| e.described.as_str());
                let credential = bearer.key().map_or("null", |key| key.described.as_str());
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
        }
    }

    /// The gate's own origin, for links that pointed at an upstream: `--public-url`, else
    /// the scheme and `Host` the client used.
    fn origin(&self, req: &HttpRequest) -> String {
        if let Some(url) = &self.public_url {
            return url.clone();
        }
        let host = req
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .filter(|h| {
                !h.is_empty()
                    && h.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
            });
        let https = req
            .app_data::<web::Data<client_address::TrustedProxies>>()
            .is_some_and(|proxies| proxies.forwarded_https(req));
        match host {
            Some(host) => format!("{}://{host}", if https { "https" } else { "http" }),
            // Without a usable Host, links stay paths on whatever host the client called.
            None => String::new(),
        }
    }

    /// Adds an authenticated request to its credential's request log.
    fn log(
        &self,
        req: &HttpRequest,
        credential_id: i32,
        endpoint_id: Option<i32>,
        address: IpAddr,
        status: StatusCode,
        started: Instant,
    ) {
        self.requests.record(PendingRequest {
            credential_id,
            endpoint_id,
            refused_address: false,
            unix_millis: unix_millis(),
            method: req.method().clone(),
            uri: req.uri().clone(),
            status: status.as_u16(),
            latency_us: u32::try_from(started.elapsed().as_micros()).unwrap_or(u32::MAX),
            client_address: address,
            user_agent: req.headers().get(header::USER_AGENT).cloned(),
        });
    }

    /// The answer to a refused authentication; a refusal for the address is logged on its
    /// credential.
    fn refuse(&self, req: &HttpRequest, address: IpAddr, refusal: Refusal) -> Box<HttpResponse> {
        if let Refusal::UntrustedAddress(credential_id) = refusal {
            self.log_refused_address(req, credential_id, address);
        }
        Box::new(refused(refusal))
    }

    /// Logs a live credential's request refused for its address: the credential's
    /// managers see who tried, and from where.
    fn log_refused_address(&self, req: &HttpRequest, credential_id: i32, address: IpAddr) {
        self.requests.record(PendingRequest {
            credential_id,
            endpoint_id: None,
            refused_address: true,
            unix_millis: unix_millis(),
            method: req.method().clone(),
            uri: req.uri().clone(),
            status: StatusCode::FORBIDDEN.as_u16(),
            latency_us: 0,
            client_address: address,
            user_agent: req.headers().get(header::USER_AGENT).cloned(),
        });
    }
}

/// The canonical path of the request below its mount (`/v1/jobs` for `/harvest/v1/jobs`),
/// after its query has been checked too: what is authorized and what is forwarded.
fn authorized_path<'a>(req: &'a HttpRequest, mount: &Mount) -> Result<&'a str, canonical::Refusal> {
    if let Some(query) = req.uri().query() {
        canonical::query(query)?;
    }
    let path = canonical::path(req.uri().path())?;
    match path.strip_prefix(mount.prefix) {
        Some("") => Ok("/"),
        Some(below) if below.starts_with('/') => Ok(below),
        _ => Err("The path must start with the API's prefix as written."),
    }
}

fn unix_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
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

/// 403 for a live credential not granted the endpoint: on v3, RFC 6750's
/// `insufficient_scope` naming the scope that would open it.
fn not_granted(endpoint: &CatalogueEndpoint, bearer: bool) -> HttpResponse {
    if !bearer {
        return answer(
            StatusCode::FORBIDDEN,
            "This API key is not granted this endpoint. Ask the organization's admin to grant it under Manage API Key Permissions.",
            None,
        );
    }
    let scope = endpoint.scope.as_deref().unwrap_or_default();
    let mut response = answer(
        StatusCode::FORBIDDEN,
        &format!(
            "This access token's scopes do not cover this endpoint: it needs {scope}. Ask the organization's admin to add it under Manage Scopes, then request a new token."
        ),
        None,
    );
    if let Ok(challenge) = HeaderValue::from_str(&format!(
        r#"Bearer realm="devcenter", error="insufficient_scope", scope="{scope}""#
    )) {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, challenge);
    }
    response
}

/// What the client is told about a token that does not verify.
fn token_refusal(rejected: TokenRejected) -> &'static str {
    match rejected {
        TokenRejected::Expired => {
            "The access token has expired: request a new one from POST /oauth/token."
        }
        TokenRejected::WrongIssuer | TokenRejected::WrongAudience => {
            "The access token was not issued by this server for this API."
        }
        TokenRejected::Malformed
        | TokenRejected::WrongAlgorithm
        | TokenRejected::UnknownKey
        | TokenRejected::BadSignature => "The access token is not valid.",
    }
}

fn over_limit(admission: Option<Admission>) -> Option<HttpResponse> {
    admission.filter(|a| !a.allowed).map(|_| {
        answer(
            StatusCode::TOO_MANY_REQUESTS,
            "Rate limit exceeded: slow down and retry after the window resets.",
            None,
        )
    })
}

/// Writes the counted usage and the request log to the database in one transaction; on
/// failure keeps both for the next batch.
pub fn flush_usage(pool: &Pool, keys: &LiveKeys, requests: &PendingRequests) {
    let batches = keys.drain_usage();
    let logged = requests.drain();
    if batches.is_empty() && logged.is_empty() {
        return;
    }
    let written = pool
        .get()
        .map_err(anyhow::Error::from)
        .and_then(|mut conn| {
            crate::db::write(&mut conn, |conn| {
                crate::db::usage::record(conn, chrono::Utc::now().date_naive(), &batches)?;
                crate::db::request_log::append(conn, &logged)
            })
            .map_err(anyhow::Error::from)
        });
    if let Err(error) = written {
        tracing::warn!(
            error = format!("{error:#}"),
            "usage and request log not written yet; retrying with the next batch"
        );
        keys.restore_usage(&batches);
        requests.restore(logged);
    }
}
