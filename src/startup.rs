//! Builds and runs the server: the same code path for `cargo run` and for the tests.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use actix_htmx::HtmxMiddleware;
use actix_session::SessionMiddleware;
use actix_session::config::{BrowserSession, CookieContentSecurity, TtlExtensionPolicy};
use actix_web::cookie::{Key, SameSite, time::Duration};
use actix_web::middleware::{Condition, Logger, from_fn};
use actix_web::{App, HttpServer, web};
use anyhow::Context;
use rand::RngExt;
use secrecy::ExposeSecret;

use crate::cli::ServeArgs;
use crate::client_address::TrustedProxies;
use crate::db;
use crate::db::catalogue::Endpoint;
use crate::gate::live_keys::LiveKeys;
use crate::gate::request_log::PendingRequests;
use crate::gate::shared_limits::SharedLimits;
use crate::gate::upstream::{Connection, Upstream};
use crate::gate::{self, BearerSettings, Gate, GateSettings, Upstreams};
use crate::instances;
use crate::limiter::Limit;
use crate::oauth::jwks;
use crate::oauth::signing::{self, SigningKeys};
use crate::oauth::token_endpoint::{self, TokenEndpoint};
use crate::security_headers;
use crate::use_cases::{AfterCommit, credential_lifecycle, users};
use crate::web::context::AppState;
use crate::web::csrf::VisitorTokens;
use crate::web::error::AppError;
use crate::web::forms::MAX_FORM_BYTES;
use crate::web::password_checks::PasswordChecks;
use crate::web::readiness::{self, Readiness};
use crate::web::session::SessionPolicy;
use crate::web::session_store::DatabaseSessionStore;
use crate::web::sign_in_throttle::SignInThrottle;
use crate::web::{self as pages, consent, csrf, static_files};
use crate::web_hooks::WebHooks;
use crate::web_hooks::outbound::Outbound;

/// How often quiet-driven overlaps are checked: an old secret that went quiet stops at
/// most this late (and a restart changes nothing: the ends are computed from the database).
const QUIET_OVERLAPS_CHECK: StdDuration = StdDuration::from_secs(5);
/// Held by the instance that checks them.
const QUIET_OVERLAPS_LOCK: i64 = 0x6465_7663_7175_6965; // "devcquie"

/// Verified access tokens the gate remembers at most (a few hundred bytes each).
const VERIFIED_TOKENS_KEPT: usize = 100_000;

/// Each API's upstream, from `--harvest-upstream`, `--job-board-upstream` and
/// `--partner-upstream`.
fn upstreams(args: &ServeArgs) -> anyhow::Result<Upstreams> {
    let connection = Connection::new(
        args.upstream_ca.as_deref(),
        args.body_idle_timeout,
        args.upstream_timeout,
    )?;
    let upstream = |flag: &str, url: &Option<String>| -> anyhow::Result<Option<Upstream>> {
        url.as_deref()
            .map(|url| {
                let upstream = Upstream::new(flag, url, &connection)?;
                tracing::info!(flag, upstream = %url, "forwarding");
                Ok(upstream)
            })
            .transpose()
    };
    Ok(Upstreams {
        harvest: upstream("--harvest-upstream", &args.harvest_upstream)?,
        job_board: upstream("--job-board-upstream", &args.job_board_upstream)?,
        partner: upstream("--partner-upstream", &args.partner_upstream)?,
    })
}

/// The advisory lock of the sessions sweep, which one instance at a time runs.
const SWEEP_SESSIONS: i64 = 0x6465_7663_7377_6570; // "devcswep"

/// Deletes expired sessions, on the flusher's timer (not only when a new one is saved).
fn sweep_sessions(pool: &db::Pool) {
    let swept = pool
        .get()
        .map_err(anyhow::Error::from)
        .and_then(|mut conn| {
            instances::once_across_instances(&mut conn, SWEEP_SESSIONS, |conn| {
                db::sessions::sweep(conn, db::now())?;
                Ok(())
            })
        });
    if let Err(error) = swept {
        tracing::warn!(
            error = format!("{error:#}"),
            "expired sessions not swept yet"
        );
    }
}

/// The advisory lock of the failure windows' sweep, which one instance at a time runs.
const SWEEP_FAILURES: i64 = 0x6465_7663_6661_696c; // "devcfail"

/// Deletes the failure windows that have ended (sign-in and gate), on the flusher's timer,
/// so that rows of one-off failures do not pile up.
fn sweep_failure_windows(pool: &db::Pool, sign_in: Option<Limit>, gate: Option<Limit>) {
    use db::failure_windows::{Scope, sweep};
    let period = |limit: Option<Limit>| limit.map(|l| l.period);
    let swept = pool
        .get()
        .map_err(anyhow::Error::from)
        .and_then(|mut conn| {
            instances::once_across_instances(&mut conn, SWEEP_FAILURES, |conn| {
                let now = db::now();
                sweep(conn, Scope::SignInAccount, period(sign_in), now)?;
                sweep(conn, Scope::SignInAddress, period(sign_in), now)?;
                sweep(conn, Scope::GateAddress, period(gate), now)?;
                Ok(())
            })
        });
    if let Err(error) = swept {
        tracing::warn!(
            error = format!("{error:#}"),
            "ended failure windows not swept yet"
        );
    }
}

/// Live keys that have not agreed with the database for longer than this (three
/// reconciles missed in a row) make the instance unready, and its gate refuse keys.
fn stale_after(reconcile_interval: StdDuration) -> StdDuration {
    reconcile_interval * 3 + StdDuration::from_secs(5)
}

const USAGE_FLUSH_INTERVAL: StdDuration = StdDuration::from_secs(5);

pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    if args.upstream.is_some() {
        anyhow::bail!(
            "--upstream (DEVCENTER_UPSTREAM) is gone: each API has its own upstream now. \
             Use --harvest-upstream, --job-board-upstream and --partner-upstream."
        );
    }
    let upstreams = upstreams(&args)?;
    crate::web::context::name_the_organization(args.organization.as_deref());
    let database = db::Database::parse(&args.database.database);
    let pool = db::open(&database)?;
    let mut conn = pool.get()?;
    if let Some(password) = users::ensure_first_user(&mut conn)? {
        println!(
            "Created the first user, a Site Admin with every developer permission.\n  \
             e-mail:   {}\n  password: {}\nSign in and keep the password somewhere safe: it is not shown again.",
            users::FIRST_USER_EMAIL,
            password.reveal()
        );
    }
    let cookie_key = db::secrets::get_or_create(&mut conn, "session_cookie_key", || {
        let mut bytes = vec![0u8; 64];
        rand::rng().fill(&mut bytes[..]);
        bytes
    })?;
    let secure_cookie = args
        .public_url
        .as_deref()
        .is_some_and(|url| url.starts_with("https://"));
    let visitor_tokens = web::Data::new(VisitorTokens::new(
        cookie_key.expose_secret(),
        secure_cookie,
    ));
    let cookie_key =
        Key::try_from(cookie_key.expose_secret()).context("the stored session key is too short")?;
    let catalogue = Endpoint::all(&mut conn)?;
    let keys = Arc::new(LiveKeys::load(
        &mut conn,
        args.test_fail_live_index_updates,
    )?);
    let sealing = web::Data::new(args.sealing.load(&database)?);
    let signing_keys = web::Data::new(SigningKeys::ensure_and_load(&mut conn, &sealing)?);
    drop(conn);
    // Other instances' changes reach this one's gate within a poll of their commit.
    instances::listen(&database, pool.clone(), keys.clone())?;
    let requests = Arc::new(PendingRequests::default());
    // Bound before anything is built on it: without --public-url, the address is the
    // issuer that every access token names.
    let listener = std::net::TcpListener::bind(&args.bind)
        .with_context(|| format!("cannot listen on {}", args.bind))?;
    let issuer = match &args.public_url {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => format!("http://{}", listener.local_addr()?),
    };
    let gate = web::Data::new(Gate::new(
        keys.clone(),
        &catalogue,
        requests.clone(),
        GateSettings {
            rate_limit: args.rate_limit.0,
            v3_rate_limit: args.v3_rate_limit.0,
            bearer: BearerSettings {
                signing: signing_keys.clone().into_inner(),
                sealing: sealing.clone().into_inner(),
                pool: pool.clone(),
                issuer: issuer.clone(),
                cache_capacity: VERIFIED_TOKENS_KEPT,
            },
            failed_auth_limit: args.failed_auth_limit.0,
            upstreams,
            public_url: args.public_url.clone(),
            public_concurrency: args.public_concurrency,
            shared_limits: matches!(database, db::Database::Postgres(_))
                .then(|| SharedLimits::new(pool.clone())),
            stale_after: stale_after(args.reconcile_interval),
        },
    )?);
    let token_endpoint = web::Data::new(TokenEndpoint {
        pool: pool.clone(),
        keys: keys.clone(),
        after_commit: keys.clone(),
        signing: signing_keys.clone().into_inner(),
        issuer,
        scopes_supported: {
            let mut scopes: Vec<String> =
                catalogue.iter().filter_map(|e| e.scope.clone()).collect();
            scopes.sort_unstable();
            scopes.dedup();
            scopes
        },
    });
    let proxies = web::Data::new(TrustedProxies::new(args.trusted_proxies.clone()));
    tracing::info!(live_keys = keys.len(), rate_limit = %args.rate_limit, "gate ready");

    // Usage is counted in memory and written in batches, never once per request.
    {
        let (pool, keys, requests) = (pool.clone(), keys.clone(), requests.clone());
        let limits = (args.sign_in_limit.0, args.failed_auth_limit.0);
        std::thread::Builder::new()
            .name("usage-flusher".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(USAGE_FLUSH_INTERVAL);
                    gate::flush_usage(&pool, &keys, &requests);
                    sweep_sessions(&pool);
                    sweep_failure_windows(&pool, limits.0, limits.1);
                }
            })?;
    }

    // Failed authentications seen here reach the other instances' gates, and theirs this
    // one's, within a sync period or two; the gate's path itself never waits for it.
    if gate.limits_failures() {
        let (pool, gate) = (pool.clone(), gate.clone());
        std::thread::Builder::new()
            .name("failures-sync".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(gate::shared_failures::SYNC_PERIOD);
                    gate.share_failures(&pool);
                }
            })?;
    }

    // Quiet-driven rotations end once their old secret has gone quiet: each ends at the
    // moment it did, checked every few seconds by one instance at a time.
    {
        let (pool, keys) = (pool.clone(), keys.clone());
        std::thread::Builder::new()
            .name("quiet-overlaps".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(QUIET_OVERLAPS_CHECK);
                    let checked = pool
                        .get()
                        .map_err(anyhow::Error::from)
                        .and_then(|mut conn| {
                            instances::once_across_instances(
                                &mut conn,
                                QUIET_OVERLAPS_LOCK,
                                |conn| {
                                    let ended = credential_lifecycle::end_quiet_overlaps(conn)?;
                                    keys.after_commit(conn, &ended.changes);
                                    Ok(())
                                },
                            )
                        });
                    if let Err(error) = checked {
                        tracing::warn!(
                            error = format!("{error:#}"),
                            "quiet overlaps not checked; trying again"
                        );
                    }
                }
            })?;
    }

    // A missed update (a failure after a commit) is corrected within one interval.
    {
        let (pool, keys, interval) = (pool.clone(), keys.clone(), args.reconcile_interval);
        std::thread::Builder::new()
            .name("live-keys-reconcile".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(interval);
                    let reconciled = pool
                        .get()
                        .map_err(anyhow::Error::from)
                        .and_then(|mut conn| keys.reconcile(&mut conn).map_err(Into::into));
                    match reconciled {
                        Ok(0) => {}
                        Ok(corrected) => {
                            tracing::warn!(corrected, "live keys corrected by the reconcile")
                        }
                        Err(error) => tracing::warn!(
                            error = format!("{error:#}"),
                            "live keys not reconciled; trying again"
                        ),
                    }
                }
            })?;
    }

    // A rotation (by the command line or another instance) reaches this one within an
    // interval; until then it signs with the retired key, which stays published.
    {
        let (pool, signing_keys, sealing) = (pool.clone(), signing_keys.clone(), sealing.clone());
        std::thread::Builder::new()
            .name("signing-keys-reload".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(signing::RELOAD_INTERVAL);
                    let reloaded = pool
                        .get()
                        .map_err(anyhow::Error::from)
                        .and_then(|mut conn| signing_keys.reload(&mut conn, &sealing));
                    if let Err(error) = reloaded {
                        tracing::warn!(
                            error = format!("{error:#}"),
                            "token signing keys not reloaded; trying again"
                        );
                    }
                }
            })?;
    }

    // Web hooks: the pages' settings, and the sender that delivers the outbox.
    anyhow::ensure!(
        !args.web_hook_first_retry.is_zero() && !args.web_hook_timeout.is_zero(),
        "--web-hook-first-retry and --web-hook-timeout must be longer than nothing"
    );
    let web_hooks = web::Data::new(WebHooks {
        sealing: sealing.clone().into_inner(),
        outbound: Outbound::new(
            args.web_hook_ca.as_deref(),
            args.web_hook_timeout,
            args.web_hook_allow_private_addresses,
            args.web_hook_allow_http,
        )?,
        first_retry: args.web_hook_first_retry,
    });
    crate::web_hooks::sender::start(pool.clone(), web_hooks.clone().into_inner())?;

    let state = web::Data::new(AppState {
        pool: pool.clone(),
        after_commit: keys.clone(),
    });
    let ready = web::Data::new(Readiness {
        keys: keys.clone(),
        stale_after: stale_after(args.reconcile_interval),
    });
    let store = DatabaseSessionStore::new(pool.clone());
    let access_log =
        tracing::enabled!(target: "actix_web::middleware::logger", tracing::Level::INFO);
    let throttle = web::Data::new(SignInThrottle::new(args.sign_in_limit.0, pool.clone()));
    let checks = web::Data::new(PasswordChecks::new()?);
    let policy = web::Data::new(SessionPolicy {
        lifetime: args.session_lifetime,
    });
    let code_lifetime = web::Data::new(consent::CodeLifetime(
        chrono::Duration::from_std(args.authorization_code_lifetime)
            .context("--authorization-code-lifetime is too long")?,
    ));
    let idle = Duration::try_from(args.session_idle).context("--session-idle is too long")?;
    let server = HttpServer::new(move || {
        let sessions = SessionMiddleware::builder(store.clone(), cookie_key.clone())
            .cookie_name("devcenter_session".into())
            .cookie_http_only(true)
            .cookie_same_site(SameSite::Lax)
            .cookie_secure(secure_cookie)
            .cookie_content_security(CookieContentSecurity::Private)
            .session_lifecycle(
                BrowserSession::default()
                    .state_ttl(idle)
                    .state_ttl_extension_policy(TtlExtensionPolicy::OnEveryRequest),
            )
            .build();
        App::new()
            .app_data(state.clone())
            .app_data(ready.clone())
            .app_data(gate.clone())
            .app_data(proxies.clone())
            .app_data(throttle.clone())
            .app_data(checks.clone())
            .app_data(visitor_tokens.clone())
            .app_data(policy.clone())
            .app_data(signing_keys.clone())
            .app_data(token_endpoint.clone())
            .app_data(code_lifetime.clone())
            .app_data(web_hooks.clone())
            .app_data(web::PayloadConfig::new(MAX_FORM_BYTES))
            .app_data(web::QueryConfig::default().error_handler(|_, _| {
                AppError::BadRequest(
                    "The page's address has a value Dev Center does not understand.".into(),
                )
                .into()
            }))
            .app_data(
                web::PathConfig::default().error_handler(|_, _| AppError::NotFound("Page").into()),
            )
            .wrap(security_headers::default_headers())
            // The access log formats every request up front: only when it will be written.
            .wrap(Condition::new(
                access_log,
                Logger::new("%a \"%r\" %s %b %Dms"),
            ))
            .route("/healthz", web::get().to(pages::healthz))
            .route("/readyz", web::get().to(readiness::readyz))
            .route(token_endpoint::JWKS, web::get().to(jwks::jwks))
            .route(
                token_endpoint::METADATA,
                web::get().to(token_endpoint::metadata),
            )
            .route(token_endpoint::TOKEN, web::post().to(token_endpoint::token))
            .route(
                token_endpoint::INTROSPECT,
                web::post().to(token_endpoint::introspect),
            )
            .service(gate.scopes())
            .route("/static/{name}", web::get().to(static_files::serve))
            .service(
                web::scope("")
                    .wrap(from_fn(csrf::protect))
                    .wrap(HtmxMiddleware)
                    .wrap(sessions)
                    .configure(pages::routes)
                    .default_service(web::to(pages::not_found)),
            )
    })
    .listen(listener)
    .with_context(|| format!("cannot listen on {}", args.bind))?;
    for address in server.addrs() {
        println!("devcenter listening on http://{address}");
    }
    tracing::info!(database = %database.describe(), "serving");
    server.run().await?;
    // Stopped (SIGTERM, Ctrl-C): requests in flight have finished; keep their usage.
    gate::flush_usage(&pool, &keys, &requests);
    tracing::info!("stopped");
    Ok(())
}
