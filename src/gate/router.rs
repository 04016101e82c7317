//! Matching a request's method and path to what its route needs, the same way on every
//! mount: path templates compiled once into one matchit tree per method, and one for
//! routes that take any method.

use std::collections::HashMap;
use std::sync::Arc;

use actix_web::http::Method;

use crate::db::catalogue::Endpoint;
use crate::rules::words::ProductWord;

/// What a route needs before it is served.
#[derive(Debug, Clone)]
pub enum Access {
    /// A key of the mount's type that is granted this catalogue endpoint.
    Granted(Arc<CatalogueEndpoint>),
    /// Any key of the mount's type.
    Key,
    /// No key: anyone, a few requests at a time per client address.
    Public,
}

/// A catalogue endpoint as the gate uses it on every request.
#[derive(Debug)]
pub struct CatalogueEndpoint {
    pub id: i32,
    /// The v3 scope that opens it (v3 endpoints only).
    pub scope: Option<String>,
    /// As the gate describes it in JSON, made once.
    pub described: String,
}

#[derive(Default)]
pub struct Router {
    by_method: HashMap<Method, matchit::Router<Access>>,
    any_method: matchit::Router<Access>,
}

impl Router {
    /// Every catalogue endpoint, each to be granted on its own.
    pub fn catalogue(endpoints: &[Endpoint]) -> anyhow::Result<Self> {
        let mut router = Self::default();
        for endpoint in endpoints {
            let method = Method::from_bytes(endpoint.method.as_str().as_bytes())?;
            let access = Access::Granted(Arc::new(CatalogueEndpoint {
                id: endpoint.id,
                scope: endpoint.scope.clone(),
                described: match &endpoint.scope {
                    None => serde_json::json!({
                        "method": endpoint.method.as_str(),
                        "path": endpoint.path,
                        "name": endpoint.name,
                        "resource": endpoint.resource,
                    }),
                    Some(scope) => serde_json::json!({
                        "method": endpoint.method.as_str(),
                        "path": endpoint.path,
                        "name": endpoint.name,
                        "resource": endpoint.resource,
                        "scope": scope,
                    }),
                }
                .to_string(),
            }));
            let path = trim_trailing_slash(&endpoint.path);
            let shorter = endpoint
                .last_segment_optional
                .then(|| path.rsplit_once('/').map(|(shorter, _)| shorter))
                .flatten();
            for path in std::iter::once(path).chain(shorter) {
                router
                    .insert(Some(&method), &template(path), access.clone())
                    .map_err(|e| anyhow::anyhow!("cannot route {}: {e}", endpoint.identifier()))?;
            }
        }
        Ok(router)
    }

    /// Adds a route in matchit's syntax, for one method or (`None`) any.
    pub fn insert(
        &mut self,
        method: Option<&Method>,
        template: &str,
        access: Access,
    ) -> Result<(), matchit::InsertError> {
        let tree = match method {
            Some(method) => self.by_method.entry(method.clone()).or_default(),
            None => &mut self.any_method,
        };
        tree.insert(template, access)
    }

    /// What the route for this method and path needs (no query; a trailing slash is
    /// ignored). `HEAD` is served wherever `GET` is.
    pub fn find(&self, method: &Method, path: &str) -> Option<&Access> {
        let path = trim_trailing_slash(path);
        let method = if *method == Method::HEAD {
            &Method::GET
        } else {
            method
        };
        self.by_method
            .get(method)
            .and_then(|tree| tree.at(path).ok())
            .or_else(|| self.any_method.at(path).ok())
            .map(|matched| matched.value)
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
    use crate::rules::words::EndpointMethod;

    fn endpoint(id: i32, method: &str, path: &str) -> Endpoint {
        Endpoint {
            last_segment_optional: path == "/v1/custom_fields/{field_type}",
            id,
            resource: "Test".into(),
            method: EndpointMethod::parse(method).expect("a catalogue method"),
            name: format!("{method} {path}"),
            path: path.into(),
            scope: None,
        }
    }

    #[test]
    fn matches_templates_by_method_and_path() {
        let router = Router::catalogue(&[
            endpoint(1, "GET", "/v1/users/{id}"),
            endpoint(2, "GET", "/v1/users/{user_id}/pending_approvals"),
            endpoint(3, "PATCH", "/v2/users/"),
            endpoint(4, "GET", "/v1/users"),
            endpoint(5, "GET", "/v1/custom_fields/{field_type}"),
            endpoint(6, "POST", "/v1/custom_fields"),
        ])
        .expect("a router");
        let granted = |m: &Method, p: &str| match router.find(m, p) {
            Some(Access::Granted(endpoint)) => Some(Arc::clone(endpoint)),
            _ => None,
        };
        let id = |m: &Method, p: &str| granted(m, p).map(|e| e.id);
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
        let endpoint = granted(&Method::GET, "/v1/users/7").expect("a match");
        let described: serde_json::Value = serde_json::from_str(&endpoint.described).expect("JSON");
        assert_eq!(described["path"], "/v1/users/{id}");
        assert_eq!(described["method"], "GET");
    }
}
