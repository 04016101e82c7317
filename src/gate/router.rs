//! Matching a request's method and path to a catalogue endpoint, with the catalogue's path
//! templates compiled once into one router per method.

use std::collections::HashMap;

use actix_web::http::Method;
use matchit::Router;

use crate::db::catalogue::Endpoint;

pub struct EndpointRouter {
    by_method: HashMap<Method, Router<usize>>,
    endpoints: Vec<Endpoint>,
    /// Each endpoint as the gate describes it in JSON, made once.
    described: Vec<String>,
}

impl EndpointRouter {
    pub fn new(endpoints: Vec<Endpoint>) -> anyhow::Result<Self> {
        let mut by_method: HashMap<Method, Router<usize>> = HashMap::new();
        for (index, endpoint) in endpoints.iter().enumerate() {
            let method = Method::from_bytes(endpoint.method.as_bytes())?;
            let router = by_method.entry(method).or_default();
            let path = trim_trailing_slash(&endpoint.path);
            let shorter = endpoint
                .last_segment_optional
                .then(|| path.rsplit_once('/').map(|(shorter, _)| shorter))
                .flatten();
            for path in std::iter::once(path).chain(shorter) {
                router
                    .insert(template(path), index)
                    .map_err(|e| anyhow::anyhow!("cannot route {}: {e}", endpoint.identifier()))?;
            }
        }
        let described = endpoints
            .iter()
            .map(|e| {
                serde_json::json!({ "method": e.method, "path": e.path, "name": e.name, "resource": e.resource })
                    .to_string()
            })
            .collect();
        Ok(Self {
            by_method,
            endpoints,
            described,
        })
    }

    /// The endpoint for this method and path (no query; a trailing slash is ignored),
    /// with its JSON description. `HEAD` is served wherever `GET` is.
    pub fn find(&self, method: &Method, path: &str) -> Option<(&Endpoint, &str)> {
        let path = trim_trailing_slash(path);
        let method = if *method == Method::HEAD {
            &Method::GET
        } else {
            method
        };
        let index = *self.by_method.get(method)?.at(path).ok()?.value;
        Some((self.endpoints.get(index)?, self.described.get(index)?))
    }
}

fn trim_trailing_slash(path: &str) -> &str {
    if path.len() > 1 {
        path.strip_suffix('/').unwrap_or(path)
    } else {
        path
    }
}

/// `/v1/users/{user_id}/x` → `/v1/users/{p1}/x`: placeholders named by position, so
/// templates that name the same segment differently do not conflict.
fn template(path: &str) -> String {
    path.split('/')
        .enumerate()
        .map(|(i, segment)| {
            if segment.starts_with('{') && segment.ends_with('}') {
                format!("{{p{i}}}")
            } else {
                segment.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(id: i32, method: &str, path: &str) -> Endpoint {
        Endpoint {
            last_segment_optional: path == "/v1/custom_fields/{field_type}",
            id,
            resource: "Test".into(),
            method: method.into(),
            name: format!("{method} {path}"),
            path: path.into(),
        }
    }

    #[test]
    fn matches_templates_by_method_and_path() {
        let router = EndpointRouter::new(vec![
            endpoint(1, "GET", "/v1/users/{id}"),
            endpoint(2, "GET", "/v1/users/{user_id}/pending_approvals"),
            endpoint(3, "PATCH", "/v2/users/"),
            endpoint(4, "GET", "/v1/users"),
            endpoint(5, "GET", "/v1/custom_fields/{field_type}"),
            endpoint(6, "POST", "/v1/custom_fields"),
        ])
        .expect("a router");
        let id = |m: &Method, p: &str| router.find(m, p).map(|(e, _)| e.id);
        assert_eq!(id(&Method::GET, "/v1/users/42"), Some(1));
        assert_eq!(id(&Method::GET, "/v1/users/42/"), Some(1));
        assert_eq!(id(&Method::GET, "/v1/users/42/pending_approvals"), Some(2));
        assert_eq!(id(&Method::PATCH, "/v2/users"), Some(3));
        assert_eq!(id(&Method::PATCH, "/v2/users/"), Some(3));
        assert_eq!(id(&Method::GET, "/v1/users"), Some(4));
        assert_eq!(id(&Method::DELETE, "/v1/users/42"), None);
        assert_eq!(id(&Method::GET, "/v1/users/42/unknown"), None);
        assert_eq!(id(&Method::HEAD, "/v1/users/42"), Some(1));
        assert_eq!(id(&Method::HEAD, "/v2/users"), None);
        assert_eq!(id(&Method::GET, "/v1/custom_fields/job"), Some(5));
        assert_eq!(id(&Method::GET, "/v1/custom_fields"), Some(5));
        assert_eq!(id(&Method::POST, "/v1/custom_fields"), Some(6));
        assert_eq!(id(&Method::POST, "/v1/custom_fields/job"), None);
        let (_, described) = router.find(&Method::GET, "/v1/users/7").expect("a match");
        let described: serde_json::Value = serde_json::from_str(described).expect("JSON");
        assert_eq!(described["path"], "/v1/users/{id}");
        assert_eq!(described["method"], "GET");
    }
}
