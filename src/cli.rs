//! The command line: `serve` (the default), `create-user`, `migrate`, `copy-database` and
//! `rotate-signing-key`.

use std::collections::BTreeSet;
use std::io::Read;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand};
use secrecy::SecretString;

use crate::db;
use crate::gate::limits::LimitSetting;
use crate::oauth::sealing::SealingKey;
use crate::oauth::signing::{self, SigningKeys, TOKEN_LIFETIME};
use crate::rules::email::Email;
use crate::rules::passwords::Password;
use crate::rules::text::{FieldErrors, parse_label};
use crate::rules::words::{DeveloperPermission, ProductWord, UserLevel};
use crate::use_cases::audit::Actor;
use crate::use_cases::users::{self, UserRequest};
use crate::use_cases::{Committed, Failure};

#[derive(Debug, Parser)]
#[command(
    name = "devcenter",
    version,
    about = "Dev Center: API credential management for Greenhouse Recruiting",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web app (the default).
    Serve(Box<ServeArgs>),
    /// Add a user; the password is read from standard input.
    CreateUser(CreateUserArgs),
    /// Run the database's pending migrations and exit (before starting several instances,
    /// so that none of them migrates as it starts).
    Migrate(MigrateArgs),
    /// Move an installation from its SQLite file into a new PostgreSQL database: every
    /// row, ids kept, in one transaction, verified by row counts. Refuses a target that
    /// already holds data.
    CopyDatabase(CopyDatabaseArgs),
    /// Retire the key that signs access tokens and make a new one. The retired key stays
    /// published until the tokens it signed have expired; running instances sign with the
    /// new one within a minute.
    RotateSigningKey(RotateSigningKeyArgs),
}

#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// The database: a SQLite file (created, with its folder, when missing) or a
    /// PostgreSQL URL (`postgres://user@host/name`, the database must exist).
    #[arg(
        long = "database",
        env = "DATABASE_URL",
        default_value = "data/devcenter.db",
        value_name = "PATH"
    )]
    pub database: String,
}

#[derive(Debug, Clone, Args)]
pub struct SealingArgs {
    /// The file holding the key that seals the token signing keys and web hooks' secret keys
    /// in the database (made,
    /// readable by its owner only, when missing). Every instance serving one database must
    /// be given the same file. By default `sealing.key` beside the SQLite database file, or
    /// `data/sealing.key` for a PostgreSQL database.
    #[arg(
        long = "sealing-key-file",
        env = "DEVCENTER_SEALING_KEY_FILE",
        value_name = "PATH"
    )]
    pub sealing_key_file: Option<PathBuf>,
}

impl SealingArgs {
    /// The sealing key file: the flag's, or the default for `database`.
    pub fn path(&self, database: &db::Database) -> PathBuf {
        self.sealing_key_file
            .clone()
            .unwrap_or_else(|| default_sealing_key_file(database))
    }

    /// The sealing key, from its file (made when missing).
    pub fn load(&self, database: &db::Database) -> anyhow::Result<SealingKey> {
        SealingKey::load_or_create(&self.path(database))
    }
}

/// `sealing.key` beside a SQLite database file: a copy of the folder keeps the two
/// together. A PostgreSQL database has no folder on this machine: `data/sealing.key` in the
/// current directory, where the SQLite file is by default.
pub fn default_sealing_key_file(database: &db::Database) -> PathBuf {
    const NAME: &str = "sealing.key";
    match database {
        db::Database::Sqlite(file) => file.with_file_name(NAME),
        db::Database::Postgres(_) => PathBuf::from("data").join(NAME),
    }
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub sealing: SealingArgs,
    /// The address to listen on (port 0 picks a free port and prints it).
    #[arg(
        long,
        env = "DEVCENTER_BIND",
        default_value = "127.0.0.1:8080",
        value_name = "ADDR"
    )]
    pub bind: String,
    /// Requests each API key may make through the gate, as N/Ws (or N/Wm), or `off`.
    #[arg(
        long,
        env = "DEVCENTER_RATE_LIMIT",
        default_value = "50/10s",
        value_name = "N/Ws"
    )]
    pub rate_limit: LimitSetting,
    /// Requests each Harvest v3 credential may make through the gate (`/harvest/v3`), as
    /// N/Ws, or `off`: v3 counts in its own 30-second windows.
    #[arg(
        long,
        env = "DEVCENTER_V3_RATE_LIMIT",
        default_value = "50/30s",
        value_name = "N/Ws"
    )]
    pub v3_rate_limit: LimitSetting,
    /// Failed gate authentications allowed per client address before it is refused, or `off`.
    #[arg(
        long,
        env = "DEVCENTER_FAILED_AUTH_LIMIT",
        default_value = "20/60s",
        value_name = "N/Ws"
    )]
    pub failed_auth_limit: LimitSetting,
    /// Where `/harvest/...` requests are forwarded (http:// or https://, the mount prefix
    /// removed); without it the mount answers in authorization-only mode: 200 with the
    /// matched endpoint and credential.
    #[arg(long, env = "DEVCENTER_HARVEST_UPSTREAM", value_name = "URL")]
    pub harvest_upstream: Option<String>,
    /// Where `/boards-api/...` requests are forwarded; authorization-only without it.
    #[arg(long, env = "DEVCENTER_JOB_BOARD_UPSTREAM", value_name = "URL")]
    pub job_board_upstream: Option<String>,
    /// Where `/partner/...` requests are forwarded; authorization-only without it.
    #[arg(long, env = "DEVCENTER_PARTNER_UPSTREAM", value_name = "URL")]
    pub partner_upstream: Option<String>,
    /// Replaced by one upstream per API: refused with a message naming them.
    #[arg(long, env = "DEVCENTER_UPSTREAM", value_name = "URL", hide = true)]
    pub upstream: Option<String>,
    /// PEM certificates to trust for https upstreams, besides the platform's roots (a
    /// private CA).
    #[arg(long, env = "DEVCENTER_UPSTREAM_CA", value_name = "PATH")]
    pub upstream_ca: Option<std::path::PathBuf>,
    /// How long a request body may pause before the gate cuts it off with 408.
    #[arg(long, env = "DEVCENTER_BODY_IDLE_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration, value_name = "DURATION")]
    pub body_idle_timeout: std::time::Duration,
    /// How long an upstream may take to answer (its headers, and each pause in its body)
    /// before the gate gives up with 504.
    #[arg(long, env = "DEVCENTER_UPSTREAM_TIMEOUT", default_value = "30s", value_parser = humantime::parse_duration, value_name = "DURATION")]
    pub upstream_timeout: std::time::Duration,
    /// Public Job Board requests one client address may have in flight at once.
    #[arg(
        long,
        env = "DEVCENTER_PUBLIC_CONCURRENCY",
        default_value = "8",
        value_parser = clap::value_parser!(u32).range(1..),
        value_name = "N"
    )]
    pub public_concurrency: u32,
    /// A proxy (load balancer) allowed to name the client with `X-Forwarded-For`: an
    /// address or a CIDR range; repeat for several. None is trusted by default.
    #[arg(
        long = "trusted-proxy",
        env = "DEVCENTER_TRUSTED_PROXIES",
        value_delimiter = ',',
        value_parser = crate::client_address::parse_range,
        value_name = "CIDR"
    )]
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// How often the live keys the gate checks are compared with the database and
    /// corrected (an update that failed after a commit is caught by the next one).
    #[arg(long, env = "DEVCENTER_RECONCILE_INTERVAL", default_value = "30s", value_parser = humantime::parse_duration, value_name = "DURATION")]
    pub reconcile_interval: std::time::Duration,
    /// For tests: every update of the live keys after a commit fails, as if the database
    /// had gone away at that moment, so that the reconcile can be seen to correct it.
    #[arg(long, hide = true)]
    pub test_fail_live_index_updates: bool,
    /// Failed sign-ins allowed per account and per client address, as N/Wm, or `off`.
    #[arg(
        long,
        env = "DEVCENTER_SIGN_IN_LIMIT",
        default_value = "10/15m",
        value_name = "N/Wm"
    )]
    pub sign_in_limit: LimitSetting,
    /// How long a session may sit idle before it must sign in again (e.g. 30m).
    #[arg(long, env = "DEVCENTER_SESSION_IDLE", default_value = "30m", value_parser = humantime::parse_duration, value_name = "DURATION")]
    pub session_idle: std::time::Duration,
    /// How long a session lasts at most, however active (e.g. 12h).
    #[arg(long, env = "DEVCENTER_SESSION_LIFETIME", default_value = "12h", value_parser = humantime::parse_duration, value_name = "DURATION")]
    pub session_lifetime: std::time::Duration,
    /// How long an authorization code of partner OAuth lives before the partner must have
    /// exchanged it (e.g. 60s).
    #[arg(long, env = "DEVCENTER_AUTHORIZATION_CODE_LIFETIME", default_value = "60s", value_parser = humantime::parse_duration, value_name = "DURATION")]
    pub authorization_code_lifetime: std::time::Duration,
    /// Allow web hooks to plain http:// URLs on any host (without it, http:// is accepted
    /// only to this machine, and every other hook must use https://). For tests and closed
    /// networks.
    #[arg(long, env = "DEVCENTER_WEB_HOOK_ALLOW_HTTP")]
    pub web_hook_allow_http: bool,
    /// Allow web hooks to reach this machine and private networks (10/8, 172.16/12,
    /// 192.168/16, fc00::/7, loopback). Link-local and cloud metadata addresses
    /// (169.254.0.0/16, fd00:ec2::254) are refused whatever this says.
    #[arg(long, env = "DEVCENTER_WEB_HOOK_ALLOW_PRIVATE_ADDRESSES")]
    pub web_hook_allow_private_addresses: bool,
    /// How long a web hook's receiver may take to answer a delivery.
    #[arg(long, env = "DEVCENTER_WEB_HOOK_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration, value_name = "DURATION")]
    pub web_hook_timeout: std::time::Duration,
    /// The wait before a failed web hook delivery is tried again; each next wait doubles
    /// (at most an hour, with jitter), and deliveries are retried for 24 hours.
    #[arg(long, env = "DEVCENTER_WEB_HOOK_FIRST_RETRY", default_value = "30s", value_parser = humantime::parse_duration, value_name = "DURATION")]
    pub web_hook_first_retry: std::time::Duration,
    /// PEM certificates to trust for web hook receivers besides the platform's roots (a
    /// receiver behind a private CA).
    #[arg(long, env = "DEVCENTER_WEB_HOOK_CA", value_name = "PATH")]
    pub web_hook_ca: Option<PathBuf>,
    /// Your organization's name, shown in the top bar before "Dev Center".
    #[arg(long, env = "DEVCENTER_ORGANIZATION", value_name = "NAME")]
    pub organization: Option<String>,
    /// The address people use to reach devcenter; an https:// URL makes the session
    /// cookie Secure.
    #[arg(long, env = "DEVCENTER_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<String>,
}

/// A clap parser for the product's own words: the values the command line takes are the
/// stored ones (`site_admin`), listed in `--help`, and nothing is declared twice.
fn word<W: ProductWord + Send + Sync>() -> impl TypedValueParser<Value = W> {
    PossibleValuesParser::new(W::ALL.iter().map(|w| w.as_str()))
        .try_map(|value| W::parse(&value).ok_or("not one of the possible values"))
}

#[derive(Debug, Clone, Args)]
pub struct MigrateArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
}

impl MigrateArgs {
    pub fn run(&self) -> anyhow::Result<()> {
        let database = db::Database::parse(&self.database.database);
        let applied = db::migrate(&database)?;
        println!(
            "{} is up to date: {applied} migration{} applied now.",
            database.describe(),
            if applied == 1 { "" } else { "s" }
        );
        Ok(())
    }
}

#[derive(Debug, Clone, Args)]
pub struct CreateUserArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// The user's e-mail address, used to sign in.
    #[arg(long, env = "DEVCENTER_USER_EMAIL")]
    pub email: String,
    /// The user's name as shown in Dev Center.
    #[arg(long, env = "DEVCENTER_USER_NAME")]
    pub name: String,
    /// The user's level.
    #[arg(
        long,
        value_parser = word::<UserLevel>(),
        default_value = "basic",
        env = "DEVCENTER_USER_LEVEL"
    )]
    pub level: UserLevel,
    /// A developer permission to grant; repeat for several.
    #[arg(
        long = "permission",
        value_parser = word::<DeveloperPermission>(),
        value_delimiter = ',',
        env = "DEVCENTER_USER_PERMISSIONS"
    )]
    pub permissions: Vec<DeveloperPermission>,
    /// Read the password from standard input (required: passwords never go on the command line).
    #[arg(long, required = true)]
    pub password_stdin: bool,
}

impl CreateUserArgs {
    pub fn run(&self) -> anyhow::Result<()> {
        let mut typed = String::new();
        std::io::stdin()
            .read_to_string(&mut typed)
            .context("cannot read the password from standard input")?;
        let typed = SecretString::from(typed.trim_end_matches(['\r', '\n']).to_owned());
        let pool = db::open(&db::Database::parse(&self.database.database))?;
        let mut errors = FieldErrors::default();
        let email = Email::parse(&self.email)
            .map_err(|e| errors.add(e.field, e.message))
            .ok();
        let name = parse_label("name", "name", &self.name)
            .map_err(|e| errors.add(e.field, e.message))
            .ok();
        let password = Password::parse(typed)
            .map_err(|e| errors.add(e.field, e.message))
            .ok();
        let (Some(email), Some(name), Some(password)) = (email, name, password) else {
            bail!("{errors}");
        };
        let request = UserRequest {
            email,
            name,
            level: self.level,
            permissions: self.permissions.iter().copied().collect::<BTreeSet<_>>(),
            password,
        };
        let mut conn = pool.get()?;
        // Running servers load each person afresh on every request: nothing to tell them.
        match users::create(&mut conn, &Actor::System("Command line"), &request) {
            Ok(Committed { value: id, .. }) => {
                println!("created user {id}: {}", request.email);
                Ok(())
            }
            Err(Failure::Invalid(errors)) => bail!("{errors}"),
            Err(other) => Err(other.into()),
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct CopyDatabaseArgs {
    /// The SQLite file to copy from (stop the server using it first).
    #[arg(long, value_name = "PATH")]
    pub from: String,
    /// The PostgreSQL database to copy into (`postgres://user@host/name`): it must exist,
    /// and hold no data yet.
    #[arg(long, env = "DEVCENTER_COPY_TO", value_name = "URL")]
    pub to: String,
}

impl CopyDatabaseArgs {
    pub fn run(&self) -> anyhow::Result<()> {
        let from = db::Database::parse(&self.from);
        let to = db::Database::parse(&self.to);
        if matches!(from, db::Database::Postgres(_)) {
            bail!("--from must be a SQLite file: copy-database copies from SQLite into PostgreSQL");
        }
        if !matches!(to, db::Database::Postgres(_)) {
            // Not echoed: a connection string of another form may hold a password.
            bail!("--to must be a PostgreSQL URL (postgres://user@host/name)");
        }
        let report = db::copy::copy_database(&from, &to)?;
        // Counts only: no row, and so no secret, is ever printed.
        for table in &report.tables {
            println!("{}: {} rows", table.table, table.rows);
        }
        println!(
            "copied {} rows in {} tables from {} to {}, verified by row counts",
            report.total_rows(),
            report.tables.len(),
            from.describe(),
            to.describe()
        );
        let signing_keys = report
            .tables
            .iter()
            .any(|t| t.table == "signing_keys" && t.rows > 0);
        if signing_keys {
            // The copied signing keys open only with the sealing key they were sealed with.
            println!(
                "the token signing keys are still sealed with the key in {}: serve {} with \
                 --sealing-key-file naming that file",
                default_sealing_key_file(&from).display(),
                to.describe()
            );
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Args)]
pub struct RotateSigningKeyArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub sealing: SealingArgs,
}

impl RotateSigningKeyArgs {
    pub fn run(&self) -> anyhow::Result<()> {
        let database = db::Database::parse(&self.database.database);
        let pool = db::open(&database)?;
        let sealing = self.sealing.load(&database)?;
        let mut conn = pool.get()?;
        // Loading first proves this is the sealing key the servers use: a new key sealed
        // with another one would stop them all at their next reload.
        let before = SigningKeys::ensure_and_load(&mut conn, &sealing)?;
        let kid = signing::rotate(&mut conn, &sealing)?;
        // Key ids only: never key material.
        println!(
            "new token signing key {kid}; the retired key {} stays published for {} \
             after its retirement, until the tokens it signed have expired",
            before.current_kid(),
            humantime::format_duration(TOKEN_LIFETIME)
        );
        Ok(())
    }
}
