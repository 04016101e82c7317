//! A small upstream API for the gate's tests, over http or https: it records every request
//! exactly as it arrives (method, request target, credential headers, body size) and
//! answers as a real API would, with its own links, cookies and security headers, so the
//! tests can assert what the upstream saw and what the client got back.

use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use futures_util::StreamExt;

/// One request as the upstream received it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    /// The request target as sent: path and query, never normalised.
    pub target: String,
    pub credential: Option<String>,
    pub authorization: Option<String>,
    pub on_behalf_of: Option<String>,
    pub body_bytes: usize,
}

pub struct TestUpstream {
    /// `http://127.0.0.1:PORT` or `https://localhost:PORT`.
    pub url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

/// A certificate authority made for one test, and a certificate it signed for localhost.
pub struct TestCertificates {
    pub ca_pem: String,
    chain: Vec<rustls::pki_types::CertificateDer<'static>>,
    key_der: Vec<u8>,
}

impl TestCertificates {
    pub fn new() -> Self {
        let ca_key = rcgen::KeyPair::generate().expect("a CA key");
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "devcenter test CA");
        let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).expect("a CA");
        let leaf_key = rcgen::KeyPair::generate().expect("a key");
        let leaf = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
            .expect("params")
            .signed_by(&leaf_key, &ca)
            .expect("a certificate");
        TestCertificates {
            ca_pem: ca.pem(),
            chain: vec![leaf.der().clone()],
            key_der: leaf_key.serialize_der(),
        }
    }
}

struct Own {
    origin: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

async fn answer(req: HttpRequest, mut body: web::Payload, own: web::Data<Own>) -> HttpResponse {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let target = req
        .uri()
        .path_and_query()
        .map_or_else(|| req.uri().path().to_owned(), |p| p.as_str().to_owned());
    let mut body_bytes = 0;
    let mut text = Vec::new();
    while let Some(chunk) = body.next().await {
        let Ok(chunk) = chunk else { break };
        body_bytes += chunk.len();
        if text.len() < 4096 {
            text.extend_from_slice(&chunk[..chunk.len().min(4096)]);
        }
    }
    own.seen.lock().expect("the log").push(Seen {
        method: req.method().to_string(),
        target: target.clone(),
        credential: header("x-devcenter-credential-id"),
        authorization: header("authorization"),
        on_behalf_of: header("on-behalf-of"),
        body_bytes,
    });
    if req.query_string().contains("slow") {
        actix_web::rt::time::sleep(Duration::from_millis(1500)).await;
    }
    let page: u32 = req
        .query_string()
        .split('&')
        .find_map(|pair| pair.strip_prefix("page="))
        .and_then(|n| n.parse().ok())
        .unwrap_or(1);
    let next = format!(
        "<{}{}?page={}&per_page=2>; rel=\"next\", <{}{}?page=9&per_page=2>; rel=\"last\"",
        own.origin,
        req.path(),
        page + 1,
        own.origin,
        req.path()
    );
    let mut response = HttpResponse::Created();
    response
        .insert_header(("Link", next))
        .insert_header(("Location", format!("{}/v1/candidates/99", own.origin)))
        .insert_header(("Set-Cookie", "upstream_session=stolen; Path=/"))
        .insert_header(("Content-Security-Policy", "default-src *"))
        .insert_header(("Strict-Transport-Security", "max-age=31536000"))
        .insert_header(("X-Frame-Options", "ALLOWALL"))
        .insert_header(("X-Upstream", "kept"));
    if req.query_string().contains("trickle") {
        // Headers at once, then the body in three pieces half a second apart.
        let pieces = futures_util::stream::iter(0..3).then(|n| async move {
            actix_web::rt::time::sleep(Duration::from_millis(500)).await;
            Ok::<_, std::io::Error>(web::Bytes::from(format!("piece {n}\n")))
        });
        return response.streaming(pieces);
    }
    response.json(serde_json::json!({
        "method": req.method().as_str(),
        "path": req.path(),
        "query": req.query_string(),
        "page": page,
        "body": String::from_utf8_lossy(&text),
        "content_type": header("content-type"),
        "on_behalf_of": header("on-behalf-of"),
        "credential": header("x-devcenter-credential-id"),
        "authorization": header("authorization"),
    }))
}

impl TestUpstream {
    /// A plain http upstream on a free port.
    pub fn start() -> TestUpstream {
        Self::serve(None)
    }

    /// An https upstream whose certificate `certificates` made.
    pub fn start_tls(certificates: &TestCertificates) -> TestUpstream {
        // The TLS provider of what the test serves: ring, as the server's.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let config = rustls::ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(
                certificates.chain.clone(),
                rustls::pki_types::PrivateKeyDer::Pkcs8(certificates.key_der.clone().into()),
            )
            .expect("a TLS configuration");
        Self::serve(Some(config))
    }

    fn serve(tls: Option<rustls::ServerConfig>) -> TestUpstream {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a port");
        let port = listener.local_addr().expect("an address").port();
        let url = match tls {
            Some(_) => format!("https://localhost:{port}"),
            None => format!("http://127.0.0.1:{port}"),
        };
        let seen = Arc::new(Mutex::new(Vec::new()));
        let own = web::Data::new(Own {
            origin: url.clone(),
            seen: seen.clone(),
        });
        std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let server = HttpServer::new(move || {
                    App::new()
                        .app_data(own.clone())
                        .default_service(web::to(answer))
                })
                .workers(2);
                let server = match tls {
                    Some(config) => server.listen_rustls_0_23(listener, config),
                    None => server.listen(listener),
                };
                server.expect("listen").run().await
            })
        });
        TestUpstream { url, seen }
    }

    /// Every request received so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("the log").clone()
    }

    /// The request targets received so far, in order.
    pub fn targets(&self) -> Vec<String> {
        self.seen().into_iter().map(|s| s.target).collect()
    }
}
