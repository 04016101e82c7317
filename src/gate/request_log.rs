//! Requests logged at the gate, held in memory until the next batch is written with the
//! usage counters: never a database write per request, and never more than the log keeps
//! per credential.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use crate::db::request_log::{KEPT_PER_CREDENTIAL, LoggedRequest};

#[derive(Debug, Default)]
pub struct PendingRequests {
    by_credential: Mutex<HashMap<i32, VecDeque<LoggedRequest>>>,
}

const KEPT: usize = KEPT_PER_CREDENTIAL as usize;

impl PendingRequests {
    pub fn record(&self, request: LoggedRequest) {
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
        pending.into_values().flatten().collect()
    }

    /// Puts back what could not be written, before anything recorded since.
    pub fn restore(&self, requests: Vec<LoggedRequest>) {
        let mut pending = self.by_credential.lock().unwrap_or_else(|e| e.into_inner());
        for request in requests.into_iter().rev() {
            let queue = pending.entry(request.credential_id).or_default();
            if queue.len() < KEPT {
                queue.push_front(request);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(credential_id: i32, n: i32) -> LoggedRequest {
        LoggedRequest {
            credential_id,
            at: chrono::DateTime::from_timestamp(i64::from(n), 0)
                .expect("a time")
                .naive_utc(),
            method: "GET".into(),
            path: format!("/harvest/v1/candidates/{n}"),
            status: 200,
            latency_us: 10,
            client_address: "127.0.0.1".into(),
            user_agent: None,
        }
    }

    #[test]
    fn the_newest_are_kept_per_credential_and_restored_in_order() {
        let log = PendingRequests::default();
        for n in 0..(KEPT as i32 + 5) {
            log.record(request(1, n));
        }
        log.record(request(2, 0));
        let drained = log.drain();
        let first: Vec<&LoggedRequest> = drained.iter().filter(|r| r.credential_id == 1).collect();
        assert_eq!(first.len(), KEPT);
        assert_eq!(first[0].path, "/harvest/v1/candidates/5");
        assert!(log.drain().is_empty());
        log.record(request(2, 9));
        log.restore(vec![request(2, 7), request(2, 8)]);
        let paths: Vec<String> = log.drain().into_iter().map(|r| r.path).collect();
        assert_eq!(
            paths,
            [
                "/harvest/v1/candidates/7",
                "/harvest/v1/candidates/8",
                "/harvest/v1/candidates/9"
            ]
        );
    }
}
