//! Web hooks, what each subscribes to, and their deliveries: the outbox the use cases write
//! into in the transaction of each change, and the record of every attempt the sender made.

use chrono::NaiveDateTime;
use diesel::dsl::min;
use diesel::prelude::*;

use super::Conn;
use super::schema::{
    credential_expiry_notices, credentials, web_hook_deliveries, web_hook_subscriptions, web_hooks,
};
use crate::rules::words::{DeliveryState, WebHookEvent};

/// A hook as its page shows it. Its secret key is read only by the sender
/// (`WebHook::sealed_secret_key`).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = web_hooks, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct WebHook {
    pub id: i32,
    pub name: String,
    pub url: String,
    pub enabled: bool,
    pub created_at: NaiveDateTime,
    pub created_by: i32,
    pub consecutive_failures: i32,
    pub failing_since: Option<NaiveDateTime>,
}

#[derive(Insertable)]
#[diesel(table_name = web_hooks)]
pub struct NewWebHook<'a> {
    pub name: &'a str,
    pub url: &'a str,
    pub secret_key_sealed: &'a [u8],
    pub enabled: bool,
    pub created_at: NaiveDateTime,
    pub created_by: i32,
}

impl WebHook {
    pub fn insert(conn: &mut Conn, new: &NewWebHook<'_>) -> QueryResult<i32> {
        diesel::insert_into(web_hooks::table)
            .values(new)
            .returning(web_hooks::id)
            .get_result(conn)
    }

    pub fn find(conn: &mut Conn, id: i32) -> QueryResult<Option<WebHook>> {
        web_hooks::table
            .find(id)
            .select(WebHook::as_select())
            .first(conn)
            .optional()
    }

    /// Every hook, by name.
    pub fn list(conn: &mut Conn) -> QueryResult<Vec<WebHook>> {
        web_hooks::table
            .order((web_hooks::name, web_hooks::id))
            .select(WebHook::as_select())
            .load(conn)
    }

    pub fn rename(conn: &mut Conn, id: i32, name: &str, url: &str) -> QueryResult<()> {
        diesel::update(web_hooks::table.find(id))
            .set((web_hooks::name.eq(name), web_hooks::url.eq(url)))
            .execute(conn)
            .map(drop)
    }

    pub fn set_secret_key(conn: &mut Conn, id: i32, sealed: &[u8]) -> QueryResult<()> {
        diesel::update(web_hooks::table.find(id))
            .set(web_hooks::secret_key_sealed.eq(sealed))
            .execute(conn)
            .map(drop)
    }

    pub fn set_enabled(conn: &mut Conn, id: i32, enabled: bool) -> QueryResult<()> {
        diesel::update(web_hooks::table.find(id))
            .set(web_hooks::enabled.eq(enabled))
            .execute(conn)
            .map(drop)
    }

    pub fn sealed_secret_key(conn: &mut Conn, id: i32) -> QueryResult<Vec<u8>> {
        web_hooks::table
            .find(id)
            .select(web_hooks::secret_key_sealed)
            .first(conn)
    }

    /// The events `id` subscribes to.
    pub fn events(conn: &mut Conn, id: i32) -> QueryResult<Vec<WebHookEvent>> {
        web_hook_subscriptions::table
            .filter(web_hook_subscriptions::web_hook_id.eq(id))
            .select(web_hook_subscriptions::event)
            .order(web_hook_subscriptions::event)
            .load(conn)
    }

    /// Every subscription, as (hook, event).
    pub fn all_events(conn: &mut Conn) -> QueryResult<Vec<(i32, WebHookEvent)>> {
        web_hook_subscriptions::table
            .select((
                web_hook_subscriptions::web_hook_id,
                web_hook_subscriptions::event,
            ))
            .load(conn)
    }

    /// Replaces what `id` subscribes to.
    pub fn set_events(conn: &mut Conn, id: i32, events: &[WebHookEvent]) -> QueryResult<()> {
        diesel::delete(
            web_hook_subscriptions::table.filter(web_hook_subscriptions::web_hook_id.eq(id)),
        )
        .execute(conn)?;
        // One row at a time: a multi-row insert is not portable across the two backends.
        for event in events {
            diesel::insert_into(web_hook_subscriptions::table)
                .values((
                    web_hook_subscriptions::web_hook_id.eq(id),
                    web_hook_subscriptions::event.eq(*event),
                ))
                .execute(conn)?;
        }
        Ok(())
    }

    /// The enabled hooks subscribed to `event`.
    pub fn subscribers(conn: &mut Conn, event: WebHookEvent) -> QueryResult<Vec<i32>> {
        web_hook_subscriptions::table
            .inner_join(web_hooks::table)
            .filter(web_hook_subscriptions::event.eq(event))
            .filter(web_hooks::enabled.eq(true))
            .select(web_hooks::id)
            .order(web_hooks::id)
            .load(conn)
    }

    /// Takes `id` for sending until `until`, under the claim's token `by`, unless another
    /// sender holds it: whether this one now does.
    pub fn claim(
        conn: &mut Conn,
        id: i32,
        now: NaiveDateTime,
        until: NaiveDateTime,
        by: &str,
    ) -> QueryResult<bool> {
        diesel::update(
            web_hooks::table
                .find(id)
                .filter(web_hooks::enabled.eq(true))
                .filter(
                    web_hooks::sending_until
                        .is_null()
                        .or(web_hooks::sending_until.lt(now)),
                ),
        )
        .set((
            web_hooks::sending_until.eq(until),
            web_hooks::sending_by.eq(by),
        ))
        .execute(conn)
        .map(|updated| updated == 1)
    }

    /// Whether the claim `by` still holds `id`.
    pub fn holds(conn: &mut Conn, id: i32, by: &str) -> QueryResult<bool> {
        web_hooks::table
            .find(id)
            .filter(web_hooks::sending_by.eq(by))
            .count()
            .get_result::<i64>(conn)
            .map(|n| n == 1)
    }

    /// Extends the claim `by` on `id` until `until`: whether it still held it.
    pub fn renew(conn: &mut Conn, id: i32, by: &str, until: NaiveDateTime) -> QueryResult<bool> {
        diesel::update(
            web_hooks::table
                .find(id)
                .filter(web_hooks::enabled.eq(true))
                .filter(web_hooks::sending_by.eq(by)),
        )
        .set(web_hooks::sending_until.eq(until))
        .execute(conn)
        .map(|updated| updated == 1)
    }

    /// Ends the claim `by` on `id` (another sender's claim is left alone).
    pub fn release(conn: &mut Conn, id: i32, by: &str) -> QueryResult<()> {
        diesel::update(
            web_hooks::table
                .find(id)
                .filter(web_hooks::sending_by.eq(by)),
        )
        .set((
            web_hooks::sending_until.eq(None::<NaiveDateTime>),
            web_hooks::sending_by.eq(None::<String>),
        ))
        .execute(conn)
        .map(drop)
    }

    /// Counts an attempt's outcome: failures in a row (`failed`), failing from the
    /// `failing_after`-th until one succeeds.
    pub fn counted(
        conn: &mut Conn,
        id: i32,
        failed: bool,
        failing_after: i32,
        now: NaiveDateTime,
    ) -> QueryResult<()> {
        let hook = web_hooks::table
            .find(id)
            .select((web_hooks::consecutive_failures, web_hooks::failing_since))
            .first::<(i32, Option<NaiveDateTime>)>(conn)
            .optional()?;
        let Some((failures, failing_since)) = hook else {
            return Ok(());
        };
        let (failures, failing_since) = if failed {
            let failures = failures.saturating_add(1);
            let failing = failing_since.or((failures >= failing_after).then_some(now));
            (failures, failing)
        } else {
            (0, None)
        };
        diesel::update(web_hooks::table.find(id))
            .set((
                web_hooks::consecutive_failures.eq(failures),
                web_hooks::failing_since.eq(failing_since),
            ))
            .execute(conn)
            .map(drop)
    }

    /// How many hooks there are.
    pub fn count(conn: &mut Conn) -> QueryResult<i64> {
        web_hooks::table.count().get_result(conn)
    }
}

/// One event for one hook, and how its delivery went.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = web_hook_deliveries, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct Delivery {
    pub id: i32,
    pub web_hook_id: i32,
    pub delivery_id: String,
    pub event: WebHookEvent,
    pub payload: String,
    pub created_at: NaiveDateTime,
    pub state: DeliveryState,
    pub attempts: i32,
    pub first_attempt_at: Option<NaiveDateTime>,
    pub next_attempt_at: Option<NaiveDateTime>,
    pub last_attempt_at: Option<NaiveDateTime>,
    pub last_status: Option<i32>,
    pub last_duration_ms: Option<i32>,
    pub last_error: Option<String>,
}

#[derive(Insertable)]
#[diesel(table_name = web_hook_deliveries)]
pub struct NewDelivery<'a> {
    pub web_hook_id: i32,
    pub delivery_id: &'a str,
    pub event: WebHookEvent,
    pub payload: &'a str,
    pub created_at: NaiveDateTime,
    pub state: DeliveryState,
    pub attempts: i32,
    pub first_attempt_at: Option<NaiveDateTime>,
    pub next_attempt_at: Option<NaiveDateTime>,
    pub last_attempt_at: Option<NaiveDateTime>,
    pub last_status: Option<i32>,
    pub last_duration_ms: Option<i32>,
    pub last_error: Option<&'a str>,
}

/// How one attempt went.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub at: NaiveDateTime,
    pub status: Option<i32>,
    pub duration_ms: i32,
    /// Why it failed, when it did.
    pub error: Option<String>,
}

impl Delivery {
    pub fn insert(conn: &mut Conn, new: &NewDelivery<'_>) -> QueryResult<()> {
        diesel::insert_into(web_hook_deliveries::table)
            .values(new)
            .execute(conn)
            .map(drop)
    }

    pub fn find(conn: &mut Conn, id: i32) -> QueryResult<Option<Delivery>> {
        web_hook_deliveries::table
            .find(id)
            .select(Delivery::as_select())
            .first(conn)
            .optional()
    }

    pub fn count_of(conn: &mut Conn, web_hook_id: i32) -> QueryResult<i64> {
        web_hook_deliveries::table
            .filter(web_hook_deliveries::web_hook_id.eq(web_hook_id))
            .count()
            .get_result(conn)
    }

    /// A page of a hook's deliveries, newest first.
    pub fn list_of(
        conn: &mut Conn,
        web_hook_id: i32,
        limit: i64,
        offset: i64,
    ) -> QueryResult<Vec<Delivery>> {
        web_hook_deliveries::table
            .filter(web_hook_deliveries::web_hook_id.eq(web_hook_id))
            .order(web_hook_deliveries::id.desc())
            .limit(limit)
            .offset(offset)
            .select(Delivery::as_select())
            .load(conn)
    }

    /// Each hook's oldest delivery still pending: the only one of the hook that may be
    /// sent, so that its events arrive in order.
    pub fn oldest_pending(conn: &mut Conn) -> QueryResult<Vec<i32>> {
        let heads: Vec<(i32, Option<i32>)> = web_hook_deliveries::table
            .filter(web_hook_deliveries::state.eq(DeliveryState::Pending))
            .group_by(web_hook_deliveries::web_hook_id)
            .select((
                web_hook_deliveries::web_hook_id,
                min(web_hook_deliveries::id),
            ))
            .load(conn)?;
        Ok(heads.into_iter().filter_map(|(_, id)| id).collect())
    }

    /// The oldest delivery of `web_hook_id` still pending.
    pub fn oldest_pending_of(conn: &mut Conn, web_hook_id: i32) -> QueryResult<Option<i32>> {
        web_hook_deliveries::table
            .filter(web_hook_deliveries::web_hook_id.eq(web_hook_id))
            .filter(web_hook_deliveries::state.eq(DeliveryState::Pending))
            .select(min(web_hook_deliveries::id))
            .first(conn)
    }

    /// Of `ids`, those due now whose hook is enabled and not being sent by anyone.
    pub fn due(conn: &mut Conn, ids: &[i32], now: NaiveDateTime) -> QueryResult<Vec<Delivery>> {
        web_hook_deliveries::table
            .inner_join(web_hooks::table)
            .filter(web_hook_deliveries::id.eq_any(ids))
            .filter(web_hook_deliveries::next_attempt_at.le(now))
            .filter(web_hooks::enabled.eq(true))
            .filter(
                web_hooks::sending_until
                    .is_null()
                    .or(web_hooks::sending_until.lt(now)),
            )
            .order(web_hook_deliveries::next_attempt_at)
            .select(Delivery::as_select())
            .load(conn)
    }

    /// Records an attempt of `delivery` while it is pending: delivered, tried again at
    /// `next` (`Some`), or given up.
    pub fn attempted(
        conn: &mut Conn,
        delivery: &Delivery,
        attempt: &Attempt,
        next: Option<NaiveDateTime>,
    ) -> QueryResult<()> {
        let state = match (&attempt.error, next) {
            (None, _) => DeliveryState::Delivered,
            (Some(_), Some(_)) => DeliveryState::Pending,
            (Some(_), None) => DeliveryState::Failed,
        };
        diesel::update(
            web_hook_deliveries::table
                .find(delivery.id)
                .filter(web_hook_deliveries::state.eq(DeliveryState::Pending)),
        )
        .set((
            web_hook_deliveries::state.eq(state),
            web_hook_deliveries::attempts.eq(web_hook_deliveries::attempts + 1),
            web_hook_deliveries::first_attempt_at
                .eq(delivery.first_attempt_at.unwrap_or(attempt.at)),
            web_hook_deliveries::next_attempt_at.eq(next.filter(|_| attempt.error.is_some())),
            web_hook_deliveries::last_attempt_at.eq(attempt.at),
            web_hook_deliveries::last_status.eq(attempt.status),
            web_hook_deliveries::last_duration_ms.eq(attempt.duration_ms),
            web_hook_deliveries::last_error.eq(attempt.error.as_deref()),
        ))
        .execute(conn)
        .map(drop)
    }

    /// Forgets deliveries that ended (delivered or failed) before `before`.
    pub fn prune(conn: &mut Conn, before: NaiveDateTime) -> QueryResult<usize> {
        diesel::delete(
            web_hook_deliveries::table
                .filter(web_hook_deliveries::state.ne(DeliveryState::Pending))
                .filter(web_hook_deliveries::created_at.lt(before)),
        )
        .execute(conn)
    }

    /// A hook's receiver answered again: its waiting deliveries are tried now.
    pub fn retry_now(conn: &mut Conn, web_hook_id: i32, now: NaiveDateTime) -> QueryResult<()> {
        diesel::update(
            web_hook_deliveries::table
                .filter(web_hook_deliveries::web_hook_id.eq(web_hook_id))
                .filter(web_hook_deliveries::state.eq(DeliveryState::Pending)),
        )
        .set(web_hook_deliveries::next_attempt_at.eq(now))
        .execute(conn)
        .map(drop)
    }
}

/// A credential whose expiry date is near or past, and which expiry events were written
/// for that date.
#[derive(Debug, Clone)]
pub struct ExpiryDue {
    pub credential_id: i32,
    pub expires_at: NaiveDateTime,
    pub notified: Vec<WebHookEvent>,
}

/// Credentials not revoked that expire before `until` and expired after `since`, with the
/// expiry events already written for their current date.
pub fn expiries_between(
    conn: &mut Conn,
    since: NaiveDateTime,
    until: NaiveDateTime,
) -> QueryResult<Vec<ExpiryDue>> {
    let due: Vec<(i32, Option<NaiveDateTime>)> = credentials::table
        .filter(credentials::revoked_at.is_null())
        .filter(credentials::expires_at.gt(since))
        .filter(credentials::expires_at.le(until))
        .select((credentials::id, credentials::expires_at))
        .load(conn)?;
    let ids: Vec<i32> = due.iter().map(|(id, _)| *id).collect();
    let notices: Vec<(i32, NaiveDateTime, WebHookEvent)> = credential_expiry_notices::table
        .filter(credential_expiry_notices::credential_id.eq_any(&ids))
        .select((
            credential_expiry_notices::credential_id,
            credential_expiry_notices::expires_at,
            credential_expiry_notices::event,
        ))
        .load(conn)?;
    Ok(due
        .into_iter()
        .filter_map(|(credential_id, expires_at)| {
            let expires_at = expires_at?;
            let notified = notices
                .iter()
                .filter(|(id, at, _)| *id == credential_id && *at == expires_at)
                .map(|(_, _, event)| *event)
                .collect();
            Some(ExpiryDue {
                credential_id,
                expires_at,
                notified,
            })
        })
        .collect())
}

/// Notes that `event` was written for the credential's expiry date `expires_at`.
pub fn expiry_notified(
    conn: &mut Conn,
    credential_id: i32,
    expires_at: NaiveDateTime,
    event: WebHookEvent,
) -> QueryResult<()> {
    diesel::insert_into(credential_expiry_notices::table)
        .values((
            credential_expiry_notices::credential_id.eq(credential_id),
            credential_expiry_notices::expires_at.eq(expires_at),
            credential_expiry_notices::event.eq(event),
        ))
        .execute(conn)
        .map(drop)
}
