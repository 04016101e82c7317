//! The gate's mounts: where partners call each API, which keys it takes, what its routes
//! need, and where it forwards.

use actix_web::http::Method;

use crate::db::catalogue::Endpoint;
use crate::rules::words::ApiType;

use super::router::{Access, Router};
use super::upstream::Upstream;

/// Each API's upstream; without one, its mount answers in authorization-only mode.
pub struct Upstreams {
    pub harvest: Option<Upstream>,
    pub job_board: Option<Upstream>,
    pub partner: Option<Upstream>,
}

pub struct Mount {
    pub prefix: &'static str,
    /// The type of key the mount takes.
    pub api_type: ApiType,
    pub routes: Router,
    pub unrouted: Unrouted,
    pub upstream: Option<Upstream>,
    /// Paths below this one take access tokens (`Authorization: Bearer`) of Harvest v3
    /// credentials instead of keys.
    pub bearer_below: Option<&'static str>,
}

/// A mount's answer to a request that matches none of its routes: 404 with `message`.
pub struct Unrouted {
    pub message: &'static str,
    /// Whether the request must present a key of the mount's type first, so that without
    /// one no path can be told apart from another.
    pub after_key: bool,
}

impl Mount {
    /// Whether `path` (below the prefix) takes access tokens.
    pub fn takes_bearer(&self, path: &str) -> bool {
        self.bearer_below.is_some_and(|below| {
            path.strip_prefix(below)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        })
    }

    /// Every mount, each with its upstream.
    pub fn all(catalogue: &[Endpoint], upstreams: Upstreams) -> anyhow::Result<Vec<Mount>> {
        Ok(vec![
            Self::harvest(catalogue, upstreams.harvest)?,
            Self::job_board(upstreams.job_board)?,
            Self::partner(upstreams.partner)?,
        ])
    }

    /// `/harvest/v1/...`, `/harvest/v2/...`: Harvest keys, against their endpoint grants;
    /// `/harvest/v3/...`: access tokens of Harvest v3 credentials, against their scopes.
    fn harvest(catalogue: &[Endpoint], upstream: Option<Upstream>) -> anyhow::Result<Self> {
        Ok(Self {
            prefix: "/harvest",
            api_type: ApiType::Harvest,
            routes: Router::catalogue(catalogue)?,
            unrouted: Unrouted {
                message: "No Harvest endpoint matches this method and path.",
                after_key: true,
            },
            upstream,
            bearer_below: Some("/v3"),
        })
    }

    /// `/boards-api/v1/...`: application submission needs a Job Board key; reading a
    /// board is public.
    fn job_board(upstream: Option<Upstream>) -> anyhow::Result<Self> {
        let mut routes = Router::default();
        routes.insert(
            Some(&Method::POST),
            "/v1/boards/{board}/jobs/{job}",
            Access::Key,
        )?;
        for board in ["/v1/boards/{board}", "/v1/boards/{board}/{*below}"] {
            routes.insert(Some(&Method::GET), board, Access::Public)?;
        }
        Ok(Self {
            prefix: "/boards-api",
            api_type: ApiType::JobBoard,
            routes,
            unrouted: Unrouted {
                message: "No Job Board API route matches this method and path.",
                after_key: false,
            },
            upstream,
            bearer_below: None,
        })
    }

    /// `/partner/...`: any method and path, for a live Partner key of an active client
    /// application.
    fn partner(upstream: Option<Upstream>) -> anyhow::Result<Self> {
        let mut routes = Router::default();
        for any in ["/", "/{*path}"] {
            routes.insert(None, any, Access::Key)?;
        }
        Ok(Self {
            prefix: "/partner",
            api_type: ApiType::Partner,
            routes,
            // Never told: every path is routed.
            unrouted: Unrouted {
                message: "No Partner API route matches this method and path.",
                after_key: true,
            },
            upstream,
            bearer_below: None,
        })
    }
}
