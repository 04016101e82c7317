//! `/readyz`: whether this instance should be sent traffic. Its database answers, and its
//! live keys agreed with the database recently (a reconcile that keeps failing would let
//! a revoked key live on). `/healthz` stays the bare "the process answers".

use std::sync::Arc;
use std::time::Duration;

use actix_web::http::header::CONTENT_TYPE;
use actix_web::{HttpResponse, web};
use diesel::RunQueryDsl;

use crate::gate::live_keys::LiveKeys;
use crate::use_cases::Failure;

use super::context::AppState;

/// How long the database may take to answer a readiness probe.
const DATABASE_WAIT: Duration = Duration::from_secs(2);

pub struct Readiness {
    pub keys: Arc<LiveKeys>,
    /// Live keys last reconciled longer ago than this are not ready.
    pub stale_after: Duration,
}

pub async fn readyz(state: web::Data<AppState>, readiness: web::Data<Readiness>) -> HttpResponse {
    let answered = state.read(|conn| {
        diesel::sql_query("SELECT 1")
            .execute(conn)
            .map_err(Failure::from)
    });
    // A probe wants its answer in time, not after the pool's own wait for a connection.
    let database = match tokio::time::timeout(DATABASE_WAIT, answered).await {
        Ok(answer) => answer.map(drop).map_err(|e| anyhow::anyhow!("{e}")),
        Err(_) => Err(anyhow::anyhow!("no answer within {DATABASE_WAIT:?}")),
    };
    let since = readiness.keys.since_reconciled();
    let problem = if let Err(error) = database {
        tracing::warn!(
            error = format!("{error:#}"),
            "not ready: the database does not answer"
        );
        Some("the database does not answer".to_owned())
    } else if since > readiness.stale_after {
        Some(format!(
            "the live keys last agreed with the database {} s ago",
            since.as_secs()
        ))
    } else {
        None
    };
    match problem {
        None => HttpResponse::Ok()
            .insert_header((CONTENT_TYPE, "text/plain"))
            .body("ready"),
        Some(problem) => HttpResponse::ServiceUnavailable()
            .insert_header((CONTENT_TYPE, "text/plain"))
            .body(format!("not ready: {problem}")),
    }
}
