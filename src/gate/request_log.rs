//! Requests logged at the gate, held in memory until the next batch is written with the
//! usage counters: never a database write per request, and never more than the log keeps
//! per credential. Recording is cheap (shared buffers and plain numbers, no formatting);
//! the rows the database keeps are made when the batch is drained.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;

use actix_web::http::header::HeaderValue;
use actix_web::http::{Method, Uri};
use chrono::DateTime;

use crate::db::request_log::{KEPT_PER_CREDENTIAL, LoggedRequest};

use super::canonical;

/// One request as recorded on the hot path.
#[derive(Debug)]
pub struct PendingRequest {
    pub credential_id: i32,
    pub unix_millis: i64,
    pub method: Method,
    /// The request's URI, as received; only its (canonical) path is kept.
    pub uri: Uri,
    pub status: u16,
    pub latency_us: u32,
    pub client_address: IpAddr,
    pub user_agent: Option<HeaderValue>,
    /// The catalogue endpoint the request matched, if any.
    pub endpoint_id: Option<i32>,
    /// Refused for coming from outside the credential's trusted IPs.
    pub refused_address: bool,
}

impl PendingRequest {
    fn into_row(self) -> LoggedRequest {
        let path = self.uri.path();
        LoggedRequest {
            credential_id: self.credential_id,
            at: DateTime::from_timestamp_millis(self.unix_millis)
                .unwrap_or_default()
                .naive_utc(),
            method: self.method.as_str().to_owned(),
            path: canonical::path(path).unwrap_or(path).to_owned(),
            status: i32::from(self.status),
            latency_us: i64::from(self.latency_us),
            client_address: self.client_address.to_string(),
            user_agent: self.user_agent.map(|agent| {
                String::from_utf8_lossy(agent.as_bytes())
                    .chars()
                    .take(256)
                    .collect()
            }),
            endpoint_id: self.endpoint_id,
            refused_address: self.refused_address,
        }
    }
}

#[derive(Debug, Default)]
pub struct PendingRequests {
    by_credential: Mutex<HashMap<i32, VecDeque<PendingRequest>>>,
    /// Rows a failed batch could not write, written first next time.
    unwritten: Mutex<Vec<LoggedRequest>>,
}

const KEPT: usize = KEPT_PER_CREDENTIAL as usize;

impl PendingRequests {
    pub fn record(&self, request: PendingRequest) {
        let mut pending = self.by_credential.lock().unwrap_or_else(|e| e.into_inner());
        let queue = pending.entry(request.credential_id).or_default();
        if queue.len() == KEPT {
            queue.pop_front();
        }
        queue.push_back(request);
    }

    /// Everything pending, oldest first per credential.
    pub fn drain(&self) -> Vec<LoggedRequest> {
        let pending =
            std::mem::take(&mut *self.by_credential.lock().unwrap_or_else(|e| e.into_inner()));
        let mut rows =
            std::mem::take(&mut *self.unwritten.lock().unwrap_or_else(|e| e.into_inner()));
        rows.extend(
            pending
                .into_values()
                .flatten()
                .map(PendingRequest::into_row),
        );
        rows
    }

    /// Keeps what could not be written for the next batch, at most the log's share per
    /// credential.
    pub fn restore(&self, rows: Vec<LoggedRequest>) {
        let mut kept: HashMap<i32, usize> = HashMap::new();
        let mut newest_first: Vec<LoggedRequest> = rows
            .into_iter()
            .rev()
            .filter(|row| {
                let count = kept.entry(row.credential_id).or_default();
                *count += 1;
                *count <= KEPT
            })
            .collect();
        newest_first.reverse();
        *self.unwritten.lock().unwrap_or_else(|e| e.into_inner()) = newest_first;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(credential_id: i32, n: i64) -> PendingRequest {
        PendingRequest {
            credential_id,
            unix_millis: n * 1000,
            method: Method::GET,
            uri: format!("/harvest/v1/candidates/{n}/?secret=1")
                .parse()
                .expect("a URI"),
            status: 200,
            latency_us: 10,
            client_address: IpAddr::from([203, 0, 113, 9]),
            user_agent: Some(HeaderValue::from_static("acme/1")),
            endpoint_id: Some(3),
            refused_address: false,
        }
    }

    #[test]
    fn the_newest_are_kept_per_credential_without_queries_and_restored_first() {
        let log = PendingRequests::default();
        for n in 0..(KEPT as i64 + 5) {
            log.record(request(1, n));
        }
        log.record(request(2, 0));
        let drained = log.drain();
        let first: Vec<&LoggedRequest> = drained.iter().filter(|r| r.credential_id == 1).collect();
        assert_eq!(first.len(), KEPT);
        assert_eq!(first[0].path, "/harvest/v1/candidates/5");
        assert_eq!(first[0].client_address, "203.0.113.9");
        assert_eq!(first[0].user_agent.as_deref(), Some("acme/1"));
        assert!(log.drain().is_empty());
        log.restore(vec![first[0].clone()]);
        log.record(request(2, 9));
        let paths: Vec<String> = log.drain().into_iter().map(|r| r.path).collect();
        assert_eq!(
            paths,
            ["/harvest/v1/candidates/5", "/harvest/v1/candidates/9"]
        );
    }
}
