//! One signed POST to a web hook's receiver, made safely: the receiver's addresses are
//! resolved and checked when it is sent (link-local and cloud metadata addresses never,
//! this machine and private networks only when allowed), the connection goes to exactly
//! the addresses checked (a name that resolves elsewhere a moment later changes nothing),
//! redirects are not followed, the whole exchange has a timeout, and at most a few KiB of
//! the answer are read.

use std::net::SocketAddr;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use http::{Request, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::connect::dns::Name;
use hyper_util::rt::TokioExecutor;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use secrecy::ExposeSecret;
use url::{Host, Url};

use crate::db::web_hooks::Attempt;
use crate::rules::web_hooks::{parse_url, refused_address, signature};
use crate::use_cases::web_hooks::Target;

/// At most this much of a receiver's answer is read (and then dropped).
const ANSWER_READ: usize = 4096;

/// How deliveries leave: TLS roots, the timeout, and whether private addresses may be
/// reached.
pub struct Outbound {
    tls: Arc<rustls::ClientConfig>,
    pub timeout: Duration,
    allow_private: bool,
    /// Plain http to any host (`--web-hook-allow-http`), not only to this machine: which
    /// URLs may be saved, and checked again when sent (a hook saved while the flag was
    /// given stops when it is removed).
    pub allow_http: bool,
}

/// The headers of a delivery besides the signature.
pub struct Envelope<'a> {
    pub delivery_id: &'a str,
    pub event: &'a str,
    /// Unix seconds, as in the body's `sent_at`.
    pub timestamp: i64,
}

impl Outbound {
    /// `ca_file`: PEM certificates to trust besides the platform's roots
    /// (`--web-hook-ca`, for receivers behind a private CA).
    pub fn new(
        ca_file: Option<&std::path::Path>,
        timeout: Duration,
        allow_private: bool,
        allow_http: bool,
    ) -> anyhow::Result<Outbound> {
        let extra_roots = match ca_file {
            Some(path) => {
                let pem = std::fs::read(path)
                    .with_context(|| format!("cannot read --web-hook-ca {}", path.display()))?;
                let roots = CertificateDer::pem_slice_iter(&pem)
                    .collect::<Result<Vec<_>, _>>()
                    .with_context(|| {
                        format!("--web-hook-ca {} is not PEM certificates", path.display())
                    })?;
                anyhow::ensure!(
                    !roots.is_empty(),
                    "--web-hook-ca {} holds no certificate",
                    path.display()
                );
                roots
            }
            None => Vec::new(),
        };
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier =
            rustls_platform_verifier::Verifier::new_with_extra_roots(extra_roots, provider.clone())
                .context("cannot load the platform's trusted certificates")?;
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .context("cannot set up TLS for web hooks")?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth();
        Ok(Outbound {
            tls: Arc::new(tls),
            timeout,
            allow_private,
            allow_http,
        })
    }

    /// Sends `body` to `target`, signed with its secret key: how the attempt went. Never
    /// fails: a refusal, a timeout or an answer other than 2xx is an attempt with an error.
    pub async fn send(&self, target: &Target, body: &str, envelope: &Envelope<'_>) -> Attempt {
        let at = crate::db::now();
        let started = Instant::now();
        let sent = tokio::time::timeout(self.timeout, self.exchange(target, body, envelope)).await;
        let (status, error) = match sent {
            Ok(Ok(status)) if (200..300).contains(&status) => (Some(status), None),
            Ok(Ok(status)) if (300..400).contains(&status) => (
                Some(status),
                Some(format!(
                    "The receiver answered {status}, a redirect; web hooks do not follow redirects."
                )),
            ),
            Ok(Ok(status)) => (
                Some(status),
                Some(format!("The receiver answered {status}.")),
            ),
            Ok(Err(why)) => (None, Some(why)),
            Err(_) => (
                None,
                Some(format!(
                    "No answer within {}.",
                    humantime::format_duration(self.timeout)
                )),
            ),
        };
        Attempt {
            at,
            status: status.map(i32::from),
            duration_ms: i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX),
            error: error.map(|e| e.chars().take(500).collect()),
        }
    }

    async fn exchange(
        &self,
        target: &Target,
        body: &str,
        envelope: &Envelope<'_>,
    ) -> Result<u16, String> {
        let url = parse_url(&target.url, self.allow_http).map_err(|refused| refused.message)?;
        let addresses = self.checked_addresses(&url).await?;
        let mut http = HttpConnector::new_with_resolver(Pinned(Arc::new(addresses)));
        http.enforce_http(false);
        http.set_connect_timeout(Some(self.timeout));
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(rustls::ClientConfig::clone(&self.tls))
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(0)
            .build(connector);
        let request = Request::post(url.as_str())
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::USER_AGENT, "devcenter-web-hooks")
            .header(
                "Signature",
                signature(target.secret_key.expose_secret(), body.as_bytes()),
            )
            .header("Devcenter-Delivery", envelope.delivery_id)
            .header("Devcenter-Event", envelope.event)
            .header("Devcenter-Timestamp", envelope.timestamp.to_string())
            .body(Full::new(Bytes::copy_from_slice(body.as_bytes())))
            .map_err(|_| "The URL cannot be sent to.".to_owned())?;
        let answer = client
            .request(request)
            .await
            .map_err(|e| format!("Could not reach the receiver: {}.", crate::causes(&e)))?;
        let status = answer.status().as_u16();
        // Read a little of the answer so a receiver that writes one finishes cleanly; what
        // it says is not kept, and more than a few KiB is not read.
        let _ = Limited::new(answer.into_body(), ANSWER_READ)
            .collect()
            .await;
        Ok(status)
    }

    /// The addresses `url`'s host has now, each checked; refused if any is one a web hook
    /// may not reach.
    async fn checked_addresses(&self, url: &Url) -> Result<Vec<SocketAddr>, String> {
        let port = url
            .port_or_known_default()
            .ok_or_else(|| "The URL has no port.".to_owned())?;
        let (shown, addresses): (String, Vec<SocketAddr>) = match url.host() {
            Some(Host::Ipv4(ip)) => (ip.to_string(), vec![SocketAddr::new(ip.into(), port)]),
            Some(Host::Ipv6(ip)) => (ip.to_string(), vec![SocketAddr::new(ip.into(), port)]),
            Some(Host::Domain(name)) => (
                name.to_owned(),
                tokio::net::lookup_host((name, port))
                    .await
                    .map_err(|_| format!("Could not resolve {name}."))?
                    .collect(),
            ),
            None => return Err("The URL has no host.".to_owned()),
        };
        if addresses.is_empty() {
            return Err(format!("{shown} has no address."));
        }
        // A name's addresses are not shown: the page must not resolve internal names.
        let literal = url.host().is_some_and(|h| !matches!(h, Host::Domain(_)));
        for address in &addresses {
            if let Some(why) = refused_address(address.ip(), self.allow_private) {
                return Err(if literal {
                    format!("Refused to send to {shown}: it is {why}.")
                } else {
                    format!("Refused to send to {shown}: it resolves to {why}.")
                });
            }
        }
        Ok(addresses)
    }
}

/// A resolver that answers with the addresses already checked, whatever the name.
#[derive(Clone)]
struct Pinned(Arc<Vec<SocketAddr>>);

impl tower_service::Service<Name> for Pinned {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = std::io::Error;
    type Future = std::future::Ready<Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: Name) -> Self::Future {
        std::future::ready(Ok(self.0.as_ref().clone().into_iter()))
    }
}
