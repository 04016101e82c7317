//! Forwarding an authorized request to its mount's upstream API, over http or https.
//!
//! What the upstream receives is exactly the path and query the gate authorized: the
//! request line is built from them and sent by hyper's client as it is (no URL parser
//! rewrites it on the way). The request body streams through, cut off when it stalls. The answer streams back with the
//! upstream's own links pointed at the gate, and without the headers that are this
//! server's to set (cookies, security policies, hop-by-hop).

use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderMap, HeaderName};
use actix_web::{HttpRequest, HttpResponse, web};
use anyhow::{Context, bail};
use futures_util::StreamExt;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyDataStream, BodyExt, Empty, StreamBody};
use hyper::body::Frame;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use thread_local::ThreadLocal;
use url::Url;

type OutgoingBody = UnsyncBoxBody<web::Bytes, std::io::Error>;
type UpstreamClient = Client<HttpsConnector<HttpConnector>, OutgoingBody>;

use super::answer;
use crate::security_headers::GATE_CONTENT_SECURITY_POLICY;

const CREDENTIAL_HEADER: &str = "x-devcenter-credential-id";

/// One mount's upstream API.
pub struct Upstream {
    /// The base URL, as configured: the upstream's links are recognised by it.
    base: Url,
    /// The base URL's path without its trailing slash (`""` for the root).
    base_path: String,
    tls: Arc<rustls::ClientConfig>,
    answer_timeout: Duration,
    /// One client per worker thread: each worker's connections are driven by its own
    /// runtime, so no request waits for another, busier worker to poll its connection.
    clients: ThreadLocal<UpstreamClient>,
    body_idle: Duration,
}

/// How every upstream is reached: extra trusted roots, the request body's idle limit and
/// how long an upstream may take to answer.
#[derive(Clone)]
pub struct Connection {
    pub extra_roots: Vec<CertificateDer<'static>>,
    pub body_idle: Duration,
    pub answer_timeout: Duration,
}

impl Connection {
    /// Reads `--upstream-ca`: PEM certificates to trust besides the platform's roots.
    pub fn new(
        ca_file: Option<&std::path::Path>,
        body_idle: Duration,
        answer_timeout: Duration,
    ) -> anyhow::Result<Self> {
        let extra_roots = match ca_file {
            Some(path) => {
                let pem = std::fs::read(path)
                    .with_context(|| format!("cannot read --upstream-ca {}", path.display()))?;
                let roots = CertificateDer::pem_slice_iter(&pem)
                    .collect::<Result<Vec<_>, _>>()
                    .with_context(|| {
                        format!("--upstream-ca {} is not PEM certificates", path.display())
                    })?;
                if roots.is_empty() {
                    bail!("--upstream-ca {} holds no certificate", path.display());
                }
                roots
            }
            None => Vec::new(),
        };
        Ok(Self {
            extra_roots,
            body_idle,
            answer_timeout,
        })
    }
}

/// What the gate authorized, to be forwarded as it is.
pub struct Authorized<'a> {
    /// The canonical path below the mount (`/v1/jobs`).
    pub path: &'a str,
    pub query: Option<&'a str>,
    pub credential_id: Option<i32>,
    /// On v3, the verified access token: the upstream receives it (and no
    /// `On-Behalf-Of`, since the token's `sub` is the acting user) to verify on its own.
    pub access_token: Option<&'a str>,
    /// Where the gate serves this mount (`https://gate.example/harvest`), for the
    /// upstream's links.
    pub gate_base: &'a dyn Fn() -> String,
}

impl Upstream {
    /// An upstream at `base` (`http://` or `https://`, no query, no user name).
    pub fn new(flag: &str, base: &str, connection: &Connection) -> anyhow::Result<Self> {
        let url = Url::parse(base).with_context(|| format!("{flag} {base:?} is not a URL"))?;
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
            bail!("{flag} must be an http:// or https:// URL, not {base:?}");
        }
        if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
            bail!("{flag} must not carry a query, a fragment or credentials: {base:?}");
        }
        // The platform's roots and the private CA's, verified by rustls on ring.
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier = rustls_platform_verifier::Verifier::new_with_extra_roots(
            connection.extra_roots.iter().cloned(),
            provider.clone(),
        )
        .context("cannot load the platform's trusted certificates")?;
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .context("cannot set up TLS for the upstreams")?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth();
        Ok(Self {
            base_path: url.path().trim_end_matches('/').to_owned(),
            base: url,
            tls: Arc::new(tls),
            answer_timeout: connection.answer_timeout,
            clients: ThreadLocal::new(),
            body_idle: connection.body_idle,
        })
    }

    /// This thread's HTTP client for the upstream.
    fn client(&self) -> &UpstreamClient {
        self.clients.get_or(|| {
            let mut http = HttpConnector::new();
            http.enforce_http(false);
            http.set_nodelay(true);
            http.set_connect_timeout(Some(Duration::from_secs(10)));
            let connector = hyper_rustls::HttpsConnectorBuilder::new()
                .with_tls_config(rustls::ClientConfig::clone(&self.tls))
                .https_or_http()
                .enable_http1()
                .wrap_connector(http);
            Client::builder(TokioExecutor::new()).build(connector)
        })
    }

    pub async fn forward(
        &self,
        req: &HttpRequest,
        payload: web::Payload,
        authorized: Authorized<'_>,
    ) -> HttpResponse {
        let Some((uri, method)) = self.request_line(req, &authorized) else {
            return answer(
                StatusCode::BAD_REQUEST,
                "The path or query is not in canonical form.",
                None,
            );
        };
        let mut outgoing = http::Request::builder().method(method).uri(uri);
        let hop_by_hop = listed_in_connection(req.headers());
        for name in &FORWARDED_REQUEST_HEADERS {
            if hop_by_hop.iter().any(|listed| listed == name.as_str())
                || (authorized.access_token.is_some() && *name == ON_BEHALF_OF)
            {
                continue;
            }
            for value in req.headers().get_all(name) {
                outgoing = outgoing.header(name.as_str(), value.as_bytes());
            }
        }
        if let Some(id) = authorized.credential_id {
            outgoing = outgoing.header(CREDENTIAL_HEADER, id);
        }
        if let Some(token) = authorized.access_token {
            outgoing = outgoing.header(header::AUTHORIZATION.as_str(), format!("Bearer {token}"));
        }
        let fault = Rc::new(Cell::new(None));
        let body = if has_body(req.headers()) {
            stream_body(payload, self.body_idle, fault.clone())
        } else {
            Empty::new().map_err(|never| match never {}).boxed_unsync()
        };
        let Ok(outgoing) = outgoing.body(body) else {
            return answer(
                StatusCode::BAD_REQUEST,
                "The request's headers cannot be forwarded.",
                None,
            );
        };
        let sent =
            actix_web::rt::time::timeout(self.answer_timeout, self.client().request(outgoing))
                .await;
        match sent {
            Ok(Ok(upstream)) => self.answer_with(upstream, authorized.gate_base),
            Err(_) => self.too_late(),
            Ok(Err(error)) => match fault.get() {
                Some(BodyFault::Stalled) => answer(
                    StatusCode::REQUEST_TIMEOUT,
                    "The request body stalled: send it without pausing.",
                    None,
                ),
                Some(BodyFault::Broken) => answer(
                    StatusCode::BAD_REQUEST,
                    "The request body could not be read.",
                    None,
                ),
                None => {
                    tracing::warn!(
                        upstream = %self.base,
                        error = %crate::causes(&error),
                        "upstream unreachable"
                    );
                    answer(
                        StatusCode::BAD_GATEWAY,
                        "The upstream API could not be reached.",
                        None,
                    )
                }
            },
        }
    }

    fn too_late(&self) -> HttpResponse {
        tracing::warn!(upstream = %self.base, "upstream did not answer in time");
        answer(
            StatusCode::GATEWAY_TIMEOUT,
            "The upstream API did not answer in time.",
            None,
        )
    }

    /// The upstream URL for what was authorized, if the HTTP client will send it as is.
    fn request_line(
        &self,
        req: &HttpRequest,
        authorized: &Authorized<'_>,
    ) -> Option<(http::Uri, http::Method)> {
        let origin = &self.base[..url::Position::BeforePath];
        let mut target =
            String::with_capacity(origin.len() + self.base_path.len() + authorized.path.len() + 64);
        target.push_str(origin);
        let line_starts = target.len();
        target.push_str(&self.base_path);
        target.push_str(authorized.path);
        if let Some(query) = authorized.query {
            target.push('?');
            target.push_str(query);
        }
        let uri = http::Uri::try_from(target.as_str()).ok()?;
        // hyper sends the URI's path and query as they are; check they are the authorized
        // ones, byte for byte, before anything leaves.
        if uri.path_and_query().map(|p| p.as_str()) != Some(&target[line_starts..]) {
            return None;
        }
        let method = http::Method::from_bytes(req.method().as_str().as_bytes()).ok()?;
        Some((uri, method))
    }

    fn answer_with(
        &self,
        upstream: http::Response<hyper::body::Incoming>,
        gate_base: &dyn Fn() -> String,
    ) -> HttpResponse {
        let status =
            StatusCode::from_u16(upstream.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
        let mut response = HttpResponse::build(status);
        let listed_in_connection: Vec<String> = upstream
            .headers()
            .get_all(http::header::CONNECTION)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|name| name.trim().to_ascii_lowercase())
            .collect();
        response.insert_header((
            header::CONTENT_SECURITY_POLICY,
            GATE_CONTENT_SECURITY_POLICY,
        ));
        let mut gate = None;
        for (name, value) in upstream.headers() {
            let name = name.as_str();
            if DROPPED_RESPONSE_HEADERS.contains(&name)
                || listed_in_connection.iter().any(|listed| listed == name)
            {
                continue;
            }
            if matches!(name, "link" | "location" | "content-location")
                && let Ok(text) = value.to_str()
            {
                let gate = gate.get_or_insert_with(gate_base);
                let rewritten = if name == "link" {
                    self.rewrite_link(text, gate)
                } else {
                    self.rewrite_url(text, gate)
                        .unwrap_or_else(|| text.to_owned())
                };
                response.append_header((name, rewritten));
                continue;
            }
            response.append_header((name, value.as_bytes()));
        }
        response.streaming(idle_limited(
            BodyDataStream::new(upstream.into_body()),
            self.answer_timeout,
        ))
    }

    /// Each `<URL>` of a `Link` header that points at the upstream, pointed at the gate.
    fn rewrite_link(&self, value: &str, gate: &str) -> String {
        let mut out = String::with_capacity(value.len() + 32);
        let mut rest = value;
        while let Some(open) = rest.find('<') {
            let Some(close) = rest[open..].find('>') else {
                break;
            };
            let target = &rest[open + 1..open + close];
            out.push_str(&rest[..=open]);
            match self.rewrite_url(target, gate) {
                Some(rewritten) => out.push_str(&rewritten),
                None => out.push_str(target),
            }
            out.push('>');
            rest = &rest[open + close + 1..];
        }
        out.push_str(rest);
        out
    }

    /// `target` (absolute, or a path on the upstream's host) at the gate, if it points
    /// below the upstream's base URL.
    fn rewrite_url(&self, target: &str, gate: &str) -> Option<String> {
        let url = if target.starts_with('/') && !target.starts_with("//") {
            self.base.join(target).ok()?
        } else {
            let url = Url::parse(target).ok()?;
            (url.origin() == self.base.origin()).then_some(url)?
        };
        let below = url.path().strip_prefix(self.base_path.as_str())?;
        if !(below.is_empty() || below.starts_with('/')) {
            return None;
        }
        let mut rewritten = String::with_capacity(gate.len() + below.len() + 64);
        rewritten.push_str(gate);
        rewritten.push_str(below);
        if let Some(query) = url.query() {
            rewritten.push('?');
            rewritten.push_str(query);
        }
        Some(rewritten)
    }
}

/// Request headers passed upstream: content and negotiation, never credentials.
const FORWARDED_REQUEST_HEADERS: [HeaderName; 6] = [
    header::CONTENT_TYPE,
    header::CONTENT_LENGTH,
    header::ACCEPT,
    header::ACCEPT_LANGUAGE,
    header::USER_AGENT,
    ON_BEHALF_OF,
];

/// v1/v2's acting user; v3 names it in the token instead.
const ON_BEHALF_OF: HeaderName = HeaderName::from_static("on-behalf-of");

/// Response headers never passed back: hop-by-hop ones, the length (recomputed), and
/// what this server sets itself on every answer (cookies and security policies).
const DROPPED_RESPONSE_HEADERS: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "content-length",
    "set-cookie",
    "set-cookie2",
    "content-security-policy",
    "content-security-policy-report-only",
    "strict-transport-security",
    "x-frame-options",
    "x-content-type-options",
    "referrer-policy",
    "permissions-policy",
    "cross-origin-opener-policy",
    "cross-origin-embedder-policy",
    "cross-origin-resource-policy",
    "access-control-allow-origin",
    "access-control-allow-credentials",
    "clear-site-data",
];

/// The header names a request's `Connection` header lists: hop-by-hop, never forwarded.
fn listed_in_connection(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all(header::CONNECTION)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|name| name.trim().to_ascii_lowercase())
        .collect()
}

/// Whether the request says it carries a body.
pub fn has_body(headers: &HeaderMap) -> bool {
    headers.contains_key(header::TRANSFER_ENCODING)
        || headers
            .get(header::CONTENT_LENGTH)
            .is_some_and(|length| length.as_bytes() != b"0")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BodyFault {
    Stalled,
    Broken,
}

/// The request body as a stream for the HTTP client, chunk by chunk as it arrives, never
/// whole. A pause longer than `idle` ends it with an error, and `fault` says why.
fn stream_body(
    mut payload: web::Payload,
    idle: Duration,
    fault: Rc<Cell<Option<BodyFault>>>,
) -> OutgoingBody {
    let (sender, receiver) = tokio::sync::mpsc::channel::<Result<web::Bytes, std::io::Error>>(2);
    actix_web::rt::spawn(async move {
        loop {
            let failed = match actix_web::rt::time::timeout(idle, payload.next()).await {
                Ok(Some(Ok(chunk))) => {
                    if sender.send(Ok(chunk)).await.is_err() {
                        return; // the upstream answered without reading the rest
                    }
                    continue;
                }
                Ok(None) => return,
                Ok(Some(Err(_))) => BodyFault::Broken,
                Err(_) => BodyFault::Stalled,
            };
            fault.set(Some(failed));
            let _ = sender
                .send(Err(std::io::Error::other("the request body ended early")))
                .await;
            return;
        }
    });
    let chunks = futures_util::stream::unfold(receiver, |mut receiver| async {
        receiver
            .recv()
            .await
            .map(|chunk| (chunk.map(Frame::data), receiver))
    });
    StreamBody::new(chunks).boxed_unsync()
}

/// The upstream's answer body, ended with an error when it pauses longer than `idle`: a
/// trickling upstream cannot hold a connection (or a public reader's place) for ever.
fn idle_limited(
    body: BodyDataStream<hyper::body::Incoming>,
    idle: Duration,
) -> impl futures_util::Stream<Item = Result<web::Bytes, std::io::Error>> {
    futures_util::stream::unfold(Some(body), move |body| async move {
        let mut body = body?;
        match actix_web::rt::time::timeout(idle, body.next()).await {
            Ok(Some(chunk)) => Some((chunk.map_err(std::io::Error::other), Some(body))),
            Ok(None) => None,
            Err(_) => {
                tracing::warn!("upstream stopped sending its answer; cut off");
                Some((
                    Err(std::io::Error::other(
                        "the upstream stopped sending its answer",
                    )),
                    None,
                ))
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upstream(base: &str) -> Upstream {
        let connection =
            Connection::new(None, Duration::from_secs(1), Duration::from_secs(1)).expect("no CA");
        Upstream::new("--harvest-upstream", base, &connection).expect("an upstream")
    }

    #[test]
    fn links_to_the_upstream_point_at_the_gate() {
        let up = upstream("https://harvest.example:8443/api/");
        let gate = "https://gate.example/harvest";
        assert_eq!(
            up.rewrite_link(
                r#"<https://harvest.example:8443/api/v1/candidates?page=2&per_page=100>; rel="next", <https://harvest.example:8443/api/v1/candidates?page=9>; rel="last""#,
                gate
            ),
            r#"<https://gate.example/harvest/v1/candidates?page=2&per_page=100>; rel="next", <https://gate.example/harvest/v1/candidates?page=9>; rel="last""#
        );
        assert_eq!(
            up.rewrite_url("/api/v3/candidates?cursor=abc", gate)
                .as_deref(),
            Some("https://gate.example/harvest/v3/candidates?cursor=abc")
        );
        // Links elsewhere stay as they are.
        for other in [
            "https://elsewhere.example/api/v1/x",
            "http://harvest.example:8443/api/v1/x",
            "https://harvest.example/api/v1/x",
            "https://harvest.example:8443/apix/v1",
            "//harvest.example:8443/api/v1/x",
            "not a url",
        ] {
            assert_eq!(up.rewrite_url(other, gate), None, "{other}");
        }
        assert_eq!(
            up.rewrite_link("<not a url>; rel=next", gate),
            "<not a url>; rel=next"
        );
    }

    #[test]
    fn upstreams_are_http_or_https_urls_without_credentials() {
        let connection =
            Connection::new(None, Duration::from_secs(1), Duration::from_secs(1)).expect("no CA");
        for bad in [
            "ftp://x",
            "x",
            "http://user:pw@x",
            "http://x/?q=1",
            "file:///etc/passwd",
        ] {
            assert!(
                Upstream::new("--harvest-upstream", bad, &connection).is_err(),
                "{bad}"
            );
        }
    }
}
