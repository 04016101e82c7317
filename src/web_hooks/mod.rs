//! Web hooks leaving Dev Center: the sender that delivers the outbox
//! (`use_cases::web_hooks` writes it, in the transaction of each change) and the one
//! outbound POST, made safely.

pub mod outbound;
pub mod sender;

use std::sync::Arc;
use std::time::Duration;

use crate::oauth::sealing::SealingKey;

use crate::db::web_hooks::Attempt;
use crate::rules::words::{ProductWord, WebHookEvent};
use crate::use_cases::web_hooks::Target;

use outbound::{Envelope, Outbound};

/// What the pages and the sender share: the key that seals hooks' secret keys, how
/// deliveries leave, which URLs may be saved, and how soon a failed delivery is retried.
pub struct WebHooks {
    pub sealing: Arc<SealingKey>,
    pub outbound: Outbound,
    /// The wait after a first failed attempt; each next wait doubles
    /// (`--web-hook-first-retry`).
    pub first_retry: Duration,
}

impl WebHooks {
    /// One attempt of a delivery (`event`, its id and stored payload) to `target`, signed
    /// and sent now; a target that cannot be sent to is an attempt that failed with why.
    pub async fn attempt(
        &self,
        target: &Result<Target, String>,
        event: WebHookEvent,
        delivery_id: &str,
        payload: &str,
    ) -> Attempt {
        let target = match target {
            Ok(target) => target,
            Err(why) => {
                return Attempt {
                    at: crate::db::now(),
                    status: None,
                    duration_ms: 0,
                    error: Some(why.clone()),
                };
            }
        };
        let sent_at = chrono::Utc::now();
        let body = body(event.as_str(), delivery_id, sent_at, payload);
        let envelope = Envelope {
            delivery_id,
            event: event.as_str(),
            timestamp: sent_at.timestamp(),
        };
        self.outbound.send(target, &body, &envelope).await
    }
}

/// The body of one attempt: the event, its delivery id and the moment it was sent, and
/// the stored payload, as the receiver verifies it (the signature covers all of it).
fn body(
    event: &str,
    delivery_id: &str,
    sent_at: chrono::DateTime<chrono::Utc>,
    payload: &str,
) -> String {
    let payload: serde_json::Value =
        serde_json::from_str(payload).unwrap_or(serde_json::Value::Null);
    serde_json::json!({
        "action": event,
        "delivery_id": delivery_id,
        "sent_at": sent_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "payload": payload,
    })
    .to_string()
}
