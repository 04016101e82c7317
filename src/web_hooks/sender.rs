//! The background sender: every quarter second it reads each hook's oldest pending
//! delivery that is due, and sends it, one at a time per hook (so a hook's events arrive in
//! order) and concurrently across hooks (a slow receiver holds back only its own). Each
//! instance runs one; a hook being sent is claimed in the database, so two instances never
//! send the same hook at once. Every few seconds it also writes the expiry events.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::db::Pool;
use crate::db::web_hooks::Delivery;
use crate::use_cases::web_hooks::{self as use_cases, Recorded};

use super::WebHooks;

/// How often due deliveries are looked for: the most a new event waits.
const POLL: Duration = Duration::from_millis(250);
/// How often coming and past expiries are looked for.
const EXPIRY_CHECK: Duration = Duration::from_secs(5);
/// How often deliveries that ended long ago are forgotten.
const PRUNE: Duration = Duration::from_secs(60 * 60);
/// At most this many deliveries in flight at once, whatever the number of hooks.
const MOST_IN_FLIGHT: usize = 32;

/// Starts the sender on its own thread and runtime.
pub fn start(pool: Pool, hooks: Arc<WebHooks>) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("web-hook-sender".into())
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            match runtime {
                Ok(runtime) => runtime.block_on(run(pool, hooks)),
                Err(error) => tracing::error!(%error, "web hooks cannot be sent"),
            }
        })
        .map(drop)
}

async fn run(pool: Pool, hooks: Arc<WebHooks>) {
    // The hooks this instance is sending now.
    let sending: Arc<Mutex<HashSet<i32>>> = Arc::default();
    let in_flight = Arc::new(tokio::sync::Semaphore::new(MOST_IN_FLIGHT));
    let mut expiries_checked: Option<Instant> = None;
    let mut pruned: Option<Instant> = None;
    loop {
        tokio::time::sleep(POLL).await;
        if expiries_checked.is_none_or(|at| at.elapsed() >= EXPIRY_CHECK) {
            expiries_checked = Some(Instant::now());
            let prune = pruned.is_none_or(|at| at.elapsed() >= PRUNE);
            if prune {
                pruned = Some(Instant::now());
            }
            let pool = pool.clone();
            let announced = blocking(move || {
                let mut conn = pool.get()?;
                if prune {
                    use_cases::prune_deliveries(&mut conn)?;
                }
                Ok(use_cases::announce_expiries(&mut conn)?)
            })
            .await;
            if let Err(error) = announced {
                tracing::warn!(
                    error = format!("{error:#}"),
                    "expiry events not written yet"
                );
            }
        }
        let due = {
            let pool = pool.clone();
            blocking(move || Ok(use_cases::due(&mut *pool.get()?)?)).await
        };
        let due = match due {
            Ok(due) => due,
            Err(error) => {
                tracing::warn!(error = format!("{error:#}"), "web hook deliveries not read");
                continue;
            }
        };
        for delivery in due {
            let Ok(permit) = in_flight.clone().try_acquire_owned() else {
                break; // the rest wait for the next poll
            };
            let started = sending
                .lock()
                .map(|mut s| s.insert(delivery.web_hook_id))
                .unwrap_or(false);
            if !started {
                continue;
            }
            let (pool, hooks, sending) = (pool.clone(), hooks.clone(), sending.clone());
            tokio::spawn(async move {
                let _permit = permit;
                let hook = delivery.web_hook_id;
                if let Err(error) = send_hook(&pool, &hooks, delivery).await {
                    tracing::warn!(
                        web_hook = hook,
                        error = format!("{error:#}"),
                        "web hook delivery not recorded; it is tried again"
                    );
                }
                if let Ok(mut s) = sending.lock() {
                    s.remove(&hook);
                }
            });
        }
    }
}

/// Claims the delivery's hook and sends its deliveries in order, from this one, for as
/// long as its receiver answers and more are due.
async fn send_hook(pool: &Pool, hooks: &Arc<WebHooks>, delivery: Delivery) -> anyhow::Result<()> {
    // Held while sending: far longer than the slowest attempt (the timeout) and the
    // writes around it, short enough that a hook claimed by an instance that died is sent
    // again within minutes. Renewed with each next delivery.
    let lease = hooks.outbound.timeout * 2 + Duration::from_secs(120);
    let (claim, mut delivery) = {
        let (pool, hooks) = (pool.clone(), hooks.clone());
        blocking(move || {
            let claim = use_cases::claim(&mut *pool.get()?, &hooks.sealing, &delivery, lease)?;
            Ok((claim, delivery))
        })
        .await?
    };
    let Some(mut claim) = claim else {
        return Ok(());
    };
    loop {
        let attempt = hooks
            .attempt(
                &claim.target,
                delivery.event,
                &delivery.delivery_id,
                &delivery.payload,
            )
            .await;
        let (pool, hooks) = (pool.clone(), hooks.clone());
        let hook = delivery.web_hook_id;
        let (recorded, returned) = blocking(move || {
            let recorded = use_cases::attempted(
                &mut *pool.get()?,
                &hooks.sealing,
                &delivery,
                &mut claim,
                &attempt,
                hooks.first_retry,
            )?;
            Ok((recorded, claim))
        })
        .await?;
        claim = returned;
        match recorded {
            Recorded::Next(next) => delivery = *next,
            Recorded::Released => return Ok(()),
            Recorded::ClaimLost => {
                tracing::warn!(
                    web_hook = hook,
                    "a web hook delivery outlived its claim; another sender has the hook now"
                );
                return Ok(());
            }
        }
    }
}

/// Database work off the runtime's thread.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
) -> anyhow::Result<T> {
    tokio::task::spawn_blocking(work).await?
}
