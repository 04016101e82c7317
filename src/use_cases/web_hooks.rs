//! Web hooks: the hooks people configure (Dev Center → Web Hooks, for people with "Can
//! manage and configure web hooks"), the outbox each change writes its event into, and the
//! steps of the sender that delivers them.
//!
//! An event is written by `audit::record`, in the transaction of the change it describes:
//! the change and its deliveries commit together or not at all. The payload names the
//! credential or integration, the actor, the time and the change, never a secret.

use std::time::Duration;

use chrono::NaiveDateTime;
use secrecy::{ExposeSecret, SecretSlice, SecretString};

use crate::db::credentials::Credential;
use crate::db::integrations::Integration;
use crate::db::users::User;
use crate::db::web_hooks::{self as stored, Attempt, Delivery, NewDelivery, NewWebHook, WebHook};
use crate::db::{self, Conn};
use crate::oauth::sealing::SealingKey;
use crate::rules::access::{Action, Viewer};
use crate::rules::paging::Paged;
use crate::rules::text::{FieldError, FieldErrors, parse_label};
use crate::rules::web_hooks::{self as rules, FAILING_AFTER, RETRY_FOR};
use crate::rules::words::{AuditAction, DeliveryState, ObjectKind, ProductWord, WebHookEvent};

use super::audit::{self, Actor, Event};
use super::{Committed, Failure, write};

/// The event a web hook hears for an audited change, if any.
fn event_of(action: AuditAction) -> Option<WebHookEvent> {
    Some(match action {
        AuditAction::CredentialCreated => WebHookEvent::CredentialCreated,
        AuditAction::CredentialRevoked => WebHookEvent::CredentialRevoked,
        AuditAction::CredentialEnabled => WebHookEvent::CredentialEnabled,
        AuditAction::CredentialRotated => WebHookEvent::CredentialRotated,
        AuditAction::CredentialGrantsChanged | AuditAction::CredentialScopesChanged => {
            WebHookEvent::CredentialGrantsChanged
        }
        AuditAction::CredentialExpiring => WebHookEvent::CredentialExpiring,
        AuditAction::CredentialExpired => WebHookEvent::CredentialExpired,
        AuditAction::IntegrationConnected => WebHookEvent::IntegrationConnected,
        AuditAction::IntegrationDisconnected => WebHookEvent::IntegrationDisconnected,
        _ => return None,
    })
}

/// Writes `event`'s delivery for every enabled hook subscribed to it. Called by
/// `audit::record`, inside the transaction of the change.
pub(super) fn enqueue(conn: &mut Conn, actor: &Actor<'_>, event: &Event) -> Result<(), Failure> {
    let Some(web_hook_event) = event_of(event.action) else {
        return Ok(());
    };
    let hooks = WebHook::subscribers(conn, web_hook_event)?;
    if hooks.is_empty() {
        return Ok(());
    }
    let now = db::now();
    let mut payload = serde_json::json!({
        "occurred_at": now.and_utc().to_rfc3339(),
        "actor": actor.described(),
        "summary": event.summary,
        "change": event.details,
    });
    let credential_id = match (event.object, event.object_id) {
        (ObjectKind::Credential, Some(id)) => Some(id),
        (ObjectKind::Integration, Some(id)) => {
            let integration = Integration::find(conn, id)?;
            payload["integration"] = serde_json::json!({
                "id": id,
                "partner": event.object_label,
                "acting_as": integration.as_ref().map(|i| if i.service_account {
                    "service_account"
                } else {
                    "person"
                }),
            });
            integration.map(|i| i.credential_id)
        }
        _ => None,
    };
    if let Some(credential) = credential_id
        .map(|id| Credential::find(conn, id))
        .transpose()?
    {
        payload["credential"] = described(credential.as_ref());
    }
    let payload = payload.to_string();
    for web_hook_id in hooks {
        add(conn, web_hook_id, web_hook_event, &payload, now)?;
    }
    Ok(())
}

/// A credential as a payload names it: never its secret.
fn described(credential: Option<&Credential>) -> serde_json::Value {
    credential.map_or(serde_json::Value::Null, |c| {
        serde_json::json!({
            "id": c.id,
            "description": c.description,
            "type": c.api_type.as_str(),
            "type_label": c.api_type.label(),
            "client_id": c.client_id,
        })
    })
}

/// A delivery's public id: `whd_` and 32 random hexadecimal digits.
fn delivery_id() -> String {
    format!("whd_{}", rules::random_hex::<16>())
}

fn add(
    conn: &mut Conn,
    web_hook_id: i32,
    event: WebHookEvent,
    payload: &str,
    now: NaiveDateTime,
) -> Result<(), Failure> {
    Delivery::insert(
        conn,
        &NewDelivery {
            web_hook_id,
            delivery_id: &delivery_id(),
            event,
            payload,
            created_at: now,
            state: DeliveryState::Pending,
            attempts: 0,
            first_attempt_at: None,
            next_attempt_at: Some(now),
            last_attempt_at: None,
            last_status: None,
            last_duration_ms: None,
            last_error: None,
        },
    )?;
    Ok(())
}

// ---- The pages ----

/// At most this many hooks: each change writes a delivery for every hook that hears it.
const MOST_HOOKS: i64 = 100;

/// A hook as submitted on its form. On an edit, an empty secret key keeps the saved one.
#[derive(Debug, Clone, Default)]
pub struct HookRequest {
    pub name: String,
    pub url: String,
    pub secret_key: SecretString,
    pub events: Vec<String>,
}

/// A hook's form, checked.
struct Hook {
    name: String,
    url: String,
    secret_key: Option<SecretString>,
    events: Vec<WebHookEvent>,
}

impl HookRequest {
    fn parse(&self, allow_http: bool, new: bool) -> Result<Hook, FieldErrors> {
        let mut errors = FieldErrors::default();
        let name = parse_label("name", "name", &self.name)
            .map_err(|e| errors.add(e.field, e.message))
            .ok();
        let url = rules::parse_url(&self.url, allow_http)
            .map_err(|e| errors.add(e.field, e.message))
            .ok();
        let typed = self.secret_key.expose_secret();
        let secret_key = if typed.is_empty() && !new {
            None
        } else {
            rules::parse_secret_key(typed)
                .map_err(|e| errors.add(e.field, e.message))
                .ok()
                .map(|k| SecretString::from(k.to_owned()))
        };
        let mut events = Vec::new();
        for raw in &self.events {
            match WebHookEvent::parse(raw).filter(|e| *e != WebHookEvent::Ping) {
                Some(event) if !events.contains(&event) => events.push(event),
                Some(_) => {}
                None => {
                    errors.add("events", "Choose events from the list.");
                    break;
                }
            }
        }
        if self.events.is_empty() {
            errors.add("events", "Choose at least one event to send.");
        }
        errors.into_result()?;
        events.sort_unstable();
        Ok(Hook {
            name: name.map(|n| n.as_str().to_owned()).unwrap_or_default(),
            url: url.map(String::from).unwrap_or_default(),
            secret_key,
            events,
        })
    }
}

/// A hook with what it subscribes to and how its last delivery went.
#[derive(Debug, Clone)]
pub struct HookListing {
    pub hook: WebHook,
    pub events: Vec<WebHookEvent>,
    /// Who added it: a hook outlives its author's permission, so the page says whose it
    /// is for review.
    pub added_by: String,
}

pub fn list(conn: &mut Conn, viewer: &Viewer) -> Result<Vec<HookListing>, Failure> {
    viewer.require(Action::ManageWebHooks)?;
    let hooks = WebHook::list(conn)?;
    let subscriptions = WebHook::all_events(conn)?;
    let names = User::names(conn)?;
    Ok(hooks
        .into_iter()
        .map(|hook| HookListing {
            added_by: names
                .iter()
                .find(|(id, _)| *id == hook.created_by)
                .map(|(_, name)| name.clone())
                .unwrap_or_default(),
            events: subscriptions
                .iter()
                .filter(|(id, _)| *id == hook.id)
                .map(|(_, e)| *e)
                .collect(),
            hook,
        })
        .collect())
}

pub fn find(conn: &mut Conn, viewer: &Viewer, id: i32) -> Result<HookListing, Failure> {
    viewer.require(Action::ManageWebHooks)?;
    let hook = WebHook::find(conn, id)?.ok_or(Failure::NotFound("Web hook"))?;
    Ok(HookListing {
        events: WebHook::events(conn, id)?,
        added_by: User::find(conn, hook.created_by)?
            .map(|u| u.name)
            .unwrap_or_default(),
        hook,
    })
}

/// Adds a hook; its secret key is sealed and never shown again.
pub fn create(
    conn: &mut Conn,
    viewer: &Viewer,
    sealing: &SealingKey,
    allow_http: bool,
    request: &HookRequest,
) -> Result<Committed<i32>, Failure> {
    viewer.require(Action::ManageWebHooks)?;
    let hook = request.parse(allow_http, true)?;
    if WebHook::count(conn)? >= MOST_HOOKS {
        return Err(FieldError::new(
            "name",
            format!(
                "Dev Center keeps at most {MOST_HOOKS} web hooks. Edit one you no longer need instead."
            ),
        )
        .into());
    }
    let secret_key = hook
        .secret_key
        .as_ref()
        .map_or(&[][..], |k| k.expose_secret().as_bytes());
    let sealed = sealing.seal(secret_key);
    write(conn, |conn, _| {
        let id = WebHook::insert(
            conn,
            &NewWebHook {
                name: &hook.name,
                url: &hook.url,
                secret_key_sealed: &sealed,
                enabled: true,
                created_at: db::now(),
                created_by: viewer.id,
            },
        )?;
        WebHook::set_events(conn, id, &hook.events)?;
        audit::record(
            conn,
            &Actor::Person(viewer),
            &Event::web_hook_created(id, &hook.name, &hook.url, &event_words(&hook.events)),
        )?;
        Ok(id)
    })
}

fn event_words(events: &[WebHookEvent]) -> Vec<&'static str> {
    events.iter().map(|e| e.as_str()).collect()
}

/// Changes a hook's name, URL, events and (when one is typed) secret key.
pub fn update(
    conn: &mut Conn,
    viewer: &Viewer,
    sealing: &SealingKey,
    allow_http: bool,
    id: i32,
    request: &HookRequest,
) -> Result<Committed<()>, Failure> {
    viewer.require(Action::ManageWebHooks)?;
    let hook = request.parse(allow_http, false)?;
    let sealed = hook
        .secret_key
        .as_ref()
        .map(|k| sealing.seal(k.expose_secret().as_bytes()));
    write(conn, |conn, _| {
        let before = WebHook::find(conn, id)?.ok_or(Failure::NotFound("Web hook"))?;
        let events_before = WebHook::events(conn, id)?;
        WebHook::rename(conn, id, &hook.name, &hook.url)?;
        WebHook::set_events(conn, id, &hook.events)?;
        if let Some(sealed) = &sealed {
            WebHook::set_secret_key(conn, id, sealed)?;
        }
        let change = Event::web_hook_changed(
            &before,
            (&hook.name, &hook.url),
            (&event_words(&events_before), &event_words(&hook.events)),
            sealed.is_some(),
        );
        if let Some(change) = change {
            audit::record(conn, &Actor::Person(viewer), &change)?;
        }
        Ok(())
    })
}

/// Disables or enables a hook. A disabled hook is sent nothing: events are not written for
/// it, and what was waiting waits until it is enabled again.
pub fn set_enabled(
    conn: &mut Conn,
    viewer: &Viewer,
    id: i32,
    enabled: bool,
) -> Result<Committed<String>, Failure> {
    viewer.require(Action::ManageWebHooks)?;
    write(conn, |conn, _| {
        let hook = WebHook::find(conn, id)?.ok_or(Failure::NotFound("Web hook"))?;
        if hook.enabled != enabled {
            WebHook::set_enabled(conn, id, enabled)?;
            audit::record(
                conn,
                &Actor::Person(viewer),
                &Event::web_hook_enabled(&hook, enabled),
            )?;
        }
        Ok(hook.name)
    })
}

/// A page of a hook's deliveries, newest first.
pub fn deliveries(
    conn: &mut Conn,
    viewer: &Viewer,
    id: i32,
    page: i64,
) -> Result<(WebHook, Paged<Delivery>), Failure> {
    viewer.require(Action::ManageWebHooks)?;
    let hook = WebHook::find(conn, id)?.ok_or(Failure::NotFound("Web hook"))?;
    let total = Delivery::count_of(conn, id)?;
    let paged = Paged::read(page, total, |offset, limit| {
        Delivery::list_of(conn, id, limit, offset)
    })?;
    Ok((hook, paged))
}

/// Where a delivery goes and what signs it.
pub struct Target {
    pub url: String,
    pub secret_key: SecretSlice<u8>,
}

fn target(conn: &mut Conn, sealing: &SealingKey, id: i32) -> Result<Target, Failure> {
    let hook = WebHook::find(conn, id)?.ok_or(Failure::NotFound("Web hook"))?;
    let sealed = WebHook::sealed_secret_key(conn, id)?;
    let secret_key = sealing.unseal(&sealed).map_err(|_| {
        Failure::Internal(anyhow::anyhow!(
            "the secret key of web hook {id} cannot be unsealed with this sealing key"
        ))
    })?;
    Ok(Target {
        url: hook.url,
        secret_key,
    })
}

/// A test ping, ready to send: its target (or why it cannot be sent) and its delivery
/// (not yet written).
pub struct Ping {
    pub target: Result<Target, String>,
    pub delivery_id: String,
    pub payload: String,
}

/// What "Send test ping" sends to hook `id`. Sent at once, never queued.
pub fn ping(
    conn: &mut Conn,
    viewer: &Viewer,
    sealing: &SealingKey,
    id: i32,
) -> Result<Ping, Failure> {
    viewer.require(Action::ManageWebHooks)?;
    let hook = WebHook::find(conn, id)?.ok_or(Failure::NotFound("Web hook"))?;
    let target = target_or_why(conn, sealing, id)?;
    let payload = serde_json::json!({
        "occurred_at": db::now().and_utc().to_rfc3339(),
        "actor": Actor::Person(viewer).described(),
        "summary": format!("A test ping of the web hook “{}” from Dev Center.", hook.name),
        "web_hook": { "id": hook.id, "name": hook.name },
    });
    Ok(Ping {
        target,
        delivery_id: delivery_id(),
        payload: payload.to_string(),
    })
}

/// Records how a ping went. One that succeeded clears the hook's failing state and sends
/// what was waiting for it now.
pub fn pinged(
    conn: &mut Conn,
    viewer: &Viewer,
    id: i32,
    ping: &Ping,
    attempt: &Attempt,
) -> Result<Committed<()>, Failure> {
    viewer.require(Action::ManageWebHooks)?;
    write(conn, |conn, _| {
        WebHook::find(conn, id)?.ok_or(Failure::NotFound("Web hook"))?;
        Delivery::insert(
            conn,
            &NewDelivery {
                web_hook_id: id,
                delivery_id: &ping.delivery_id,
                event: WebHookEvent::Ping,
                payload: &ping.payload,
                created_at: attempt.at,
                state: if attempt.error.is_none() {
                    DeliveryState::Delivered
                } else {
                    DeliveryState::Failed
                },
                attempts: 1,
                first_attempt_at: Some(attempt.at),
                next_attempt_at: None,
                last_attempt_at: Some(attempt.at),
                last_status: attempt.status,
                last_duration_ms: Some(attempt.duration_ms),
                last_error: attempt.error.as_deref(),
            },
        )?;
        if attempt.error.is_none() {
            WebHook::counted(conn, id, false, FAILING_AFTER, attempt.at)?;
            Delivery::retry_now(conn, id, attempt.at)?;
        }
        Ok(())
    })
}

// ---- The sender's steps (no person: Dev Center itself) ----

/// The deliveries to attempt now: each hook's oldest pending one, when it is due, its hook
/// enabled and nobody sending it.
pub fn due(conn: &mut Conn) -> Result<Vec<Delivery>, Failure> {
    let heads = Delivery::oldest_pending(conn)?;
    if heads.is_empty() {
        return Ok(Vec::new());
    }
    Ok(Delivery::due(conn, &heads, db::now())?)
}

/// A sender's hold on a hook while it sends the hook's deliveries, oldest first.
pub struct Claim {
    /// Random, so that only this claim records and releases (another sender's, after a
    /// lease ran out, is left alone).
    token: String,
    lease: Duration,
    /// Where to send, or why it cannot be sent (a secret key this sealing key cannot open).
    pub target: Result<Target, String>,
}

fn lease_end(lease: Duration) -> NaiveDateTime {
    db::now() + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::hours(1))
}

/// Where hook `id`'s deliveries go now, or why they cannot go.
fn target_or_why(
    conn: &mut Conn,
    sealing: &SealingKey,
    id: i32,
) -> Result<Result<Target, String>, Failure> {
    match target(conn, sealing, id) {
        Ok(target) => Ok(Ok(target)),
        Err(Failure::Internal(_)) => Ok(Err(
            "The hook's secret key cannot be opened with this installation's sealing key \
             (--sealing-key-file): save the hook with its secret key again."
                .to_owned(),
        )),
        Err(other) => Err(other),
    }
}

/// Takes `delivery`'s hook for sending for `lease` (other senders leave it alone
/// meanwhile); `None` if another sender holds it or the delivery is no longer pending.
pub fn claim(
    conn: &mut Conn,
    sealing: &SealingKey,
    delivery: &Delivery,
    lease: Duration,
) -> Result<Option<Claim>, Failure> {
    let now = db::now();
    let token = rules::random_hex::<16>();
    let claimed = db::write(conn, |conn| {
        // Still the hook's oldest pending delivery: nobody delivered it meanwhile.
        let current = Delivery::find(conn, delivery.id)?;
        if current.is_none_or(|d| d.state != DeliveryState::Pending) {
            return Ok::<_, Failure>(false);
        }
        Ok(WebHook::claim(
            conn,
            delivery.web_hook_id,
            now,
            lease_end(lease),
            &token,
        )?)
    })?;
    if !claimed {
        return Ok(None);
    }
    Ok(Some(Claim {
        token,
        lease,
        target: target_or_why(conn, sealing, delivery.web_hook_id)?,
    }))
}

/// What recording an attempt decided.
pub enum Recorded {
    /// The claim was lost meanwhile (its lease ran out and another sender took the hook):
    /// nothing was recorded.
    ClaimLost,
    /// Recorded, and the hook released.
    Released,
    /// Delivered, and the hook's next delivery is due: the claim goes on with it (its
    /// lease renewed and its target read again).
    Next(Box<Delivery>),
}

/// Records an attempt of `delivery` under `claim`: delivered; or tried again after a wait
/// that doubles each time (from `first_wait`, with jitter); or, once an attempt made 24
/// hours after the first fails, given up. In the same transaction the claim either goes
/// on with the hook's next due delivery or releases the hook.
pub fn attempted(
    conn: &mut Conn,
    sealing: &SealingKey,
    delivery: &Delivery,
    claim: &mut Claim,
    attempt: &Attempt,
    first_wait: Duration,
) -> Result<Recorded, Failure> {
    let failed = attempt.error.is_some();
    let first = delivery.first_attempt_at.unwrap_or(attempt.at);
    let retry_at = failed
        .then(|| {
            let retried_for = (attempt.at - first).to_std().unwrap_or_default();
            (retried_for < RETRY_FOR).then(|| {
                let number = u32::try_from(delivery.attempts + 1).unwrap_or(u32::MAX);
                let wait = rules::wait_after(number, first_wait, rand::random::<f64>());
                attempt.at + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::hours(1))
            })
        })
        .flatten();
    let hook = delivery.web_hook_id;
    let recorded = db::write(conn, |conn| {
        if !WebHook::holds(conn, hook, &claim.token)? {
            return Ok::<_, Failure>(Recorded::ClaimLost);
        }
        Delivery::attempted(conn, delivery, attempt, retry_at)?;
        WebHook::counted(conn, hook, failed, FAILING_AFTER, attempt.at)?;
        // This claim holds the hook, so its next delivery is due by its own time alone
        // (`renew` checks that the hook is still enabled).
        let now = db::now();
        let next = match (failed, Delivery::oldest_pending_of(conn, hook)?) {
            (false, Some(head)) => Delivery::find(conn, head)?
                .filter(|d| d.next_attempt_at.is_some_and(|at| at <= now)),
            _ => None,
        };
        Ok(match next {
            Some(next) if WebHook::renew(conn, hook, &claim.token, lease_end(claim.lease))? => {
                Recorded::Next(Box::new(next))
            }
            _ => {
                WebHook::release(conn, hook, &claim.token)?;
                Recorded::Released
            }
        })
    })?;
    if matches!(recorded, Recorded::Next(_)) {
        // The hook may have been edited meanwhile: its URL and secret key as they are now.
        claim.target = target_or_why(conn, sealing, hook)?;
    }
    Ok(recorded)
}

/// How long ended deliveries are kept for their hook's page.
const DELIVERIES_KEPT: chrono::Duration = chrono::Duration::days(30);

/// Forgets deliveries that ended more than 30 days ago; how many.
pub fn prune_deliveries(conn: &mut Conn) -> Result<usize, Failure> {
    Ok(db::write(conn, |conn| {
        Delivery::prune(conn, db::now() - DELIVERIES_KEPT)
    })?)
}

/// How far ahead a credential's coming expiry is announced.
const EXPIRING_AHEAD: chrono::Duration = chrono::Duration::days(7);

/// Writes `credential.expiring` for credentials that expire within 7 days and
/// `credential.expired` for those that expired (in the last 7 days, so an upgrade does not
/// announce old expiries), each once per expiry date, with its audit event. How many it
/// wrote.
pub fn announce_expiries(conn: &mut Conn) -> Result<usize, Failure> {
    let due = |conn: &mut Conn, now: NaiveDateTime| -> Result<Vec<_>, Failure> {
        Ok(
            stored::expiries_between(conn, now - EXPIRING_AHEAD, now + EXPIRING_AHEAD)?
                .into_iter()
                .map(|due| {
                    let event = if due.expires_at <= now {
                        WebHookEvent::CredentialExpired
                    } else {
                        WebHookEvent::CredentialExpiring
                    };
                    (due, event)
                })
                .filter(|(due, event)| !due.notified.contains(event))
                .collect(),
        )
    };
    // Read first: most checks find nothing, and take no writer's turn for it.
    if due(conn, db::now())?.is_empty() {
        return Ok(0);
    }
    let committed = write(conn, |conn, _| {
        let mut written = 0;
        for (due, event) in due(conn, db::now())? {
            let Some(credential) = Credential::find(conn, due.credential_id)? else {
                continue;
            };
            stored::expiry_notified(conn, due.credential_id, due.expires_at, event)?;
            let audited = match event {
                WebHookEvent::CredentialExpired => Event::credential_expired(&credential),
                _ => Event::credential_expiring(&credential),
            };
            audit::record(conn, &Actor::System("Dev Center"), &audited)?;
            written += 1;
        }
        Ok(written)
    })?;
    Ok(committed.value)
}
