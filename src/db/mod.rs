//! The database: SQLite (the embedded default) or PostgreSQL, one code path for both. An
//! r2d2 pool of Diesel connections, each set up for its backend (SQLite: WAL, foreign
//! keys, a busy timeout), with each backend's migrations embedded and run at start.

pub mod announce;
pub mod audit;
pub mod catalogue;
pub mod client_applications;
pub mod copy;
pub mod credentials;
pub mod failure_windows;
pub mod health;
pub mod integrations;
pub mod rate_windows;
pub mod request_log;
pub mod schema;
pub mod secrets;
pub mod sessions;
pub mod settings;
pub mod signing_keys;
pub mod usage;
pub mod users;
pub mod web_hooks;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::pg::PgConnection;
use diesel::r2d2::{ManageConnection, R2D2Connection};
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, RunQueryDsl};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

/// A connection to either database. Every query is written once, against this type;
/// `MultiBackend` (made by the derive) is the backend they are checked for.
#[derive(diesel::MultiConnection)]
pub enum Conn {
    Postgres(PgConnection),
    Sqlite(SqliteConnection),
}

pub type Pool = diesel::r2d2::Pool<Database>;

/// Runs one statement on the backend's own connection, for what Diesel's multi-backend
/// cannot express (inserting many rows in one statement): the same query, written once,
/// checked for each backend.
macro_rules! on_backend {
    ($conn:expr, |$inner:ident| $statement:expr) => {
        match $conn {
            $crate::db::Conn::Sqlite($inner) => $statement,
            $crate::db::Conn::Postgres($inner) => $statement,
        }
    };
}
pub(crate) use on_backend;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// The pragmas every SQLite connection needs (WAL is a property of the file, set once in
/// `open`). `synchronous = NORMAL` in WAL mode keeps every committed transaction through a
/// crash of the process (only power loss may lose the last ones), at a fraction of FULL's
/// cost.
const SQLITE_PRAGMAS: &str = "PRAGMA busy_timeout = 5000;
     PRAGMA synchronous = NORMAL;
     PRAGMA foreign_keys = ON;";

/// Every writing transaction on PostgreSQL first takes this transaction-level advisory
/// lock, so that writers queue one after another as SQLite's `BEGIN IMMEDIATE` makes them
/// do: a check and the write it guards (the last Site Admin, a revocation) never
/// interleave with another writer's, on any instance. Readers never wait for it.
const WRITERS_LOCK: i64 = 0x6465_7663_656e_7472; // "devcentr"

/// Where the data lives: a SQLite file (the default, created when missing) or a
/// PostgreSQL database (`postgres://...`), from `--database` or `DATABASE_URL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Database {
    /// `postgres://` or `postgresql://` URLs name PostgreSQL; anything else is a SQLite
    /// path, with or without a `sqlite:` scheme.
    pub fn parse(raw: &str) -> Database {
        let scheme = raw
            .split_once("://")
            .map(|(scheme, _)| scheme.to_ascii_lowercase());
        if matches!(scheme.as_deref(), Some("postgres" | "postgresql")) {
            return Database::Postgres(raw.to_owned());
        }
        let path = raw
            .strip_prefix("sqlite://")
            .or_else(|| raw.strip_prefix("sqlite:"))
            .unwrap_or(raw);
        Database::Sqlite(PathBuf::from(path))
    }

    /// The database as logs may name it: a path, or a PostgreSQL URL without its password.
    pub fn describe(&self) -> String {
        match self {
            Database::Sqlite(path) => path.display().to_string(),
            Database::Postgres(url) => match url::Url::parse(url) {
                Ok(mut parsed) => {
                    if parsed.password().is_some() {
                        let _ = parsed.set_password(Some("…"));
                    }
                    // libpq also takes a password as a parameter: never shown either.
                    let kept: Vec<(String, String)> = parsed
                        .query_pairs()
                        .filter(|(name, _)| !name.to_ascii_lowercase().contains("password"))
                        .map(|(name, value)| (name.into_owned(), value.into_owned()))
                        .collect();
                    parsed.set_query(None);
                    if !kept.is_empty() {
                        parsed.query_pairs_mut().extend_pairs(kept);
                    }
                    parsed.to_string()
                }
                Err(_) => "a PostgreSQL database".to_owned(),
            },
        }
    }

    /// A connection of its own, outside the pool.
    pub fn connect_to(&self) -> anyhow::Result<Conn> {
        Ok(match self {
            Database::Sqlite(path) => {
                let url = path.to_str().with_context(|| {
                    format!("the database path {} is not UTF-8", path.display())
                })?;
                let mut conn = SqliteConnection::establish(url)
                    .with_context(|| format!("cannot open the database {}", path.display()))?;
                conn.batch_execute(SQLITE_PRAGMAS)?;
                Conn::Sqlite(conn)
            }
            Database::Postgres(url) => Conn::Postgres(
                PgConnection::establish(url)
                    .with_context(|| format!("cannot connect to {}", self.describe()))?,
            ),
        })
    }
}

/// The pool's connections: each set up for its backend.
impl ManageConnection for Database {
    type Connection = Conn;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<Conn, Self::Error> {
        self.connect_to().map_err(|e| {
            diesel::r2d2::Error::ConnectionError(diesel::ConnectionError::BadConnection(format!(
                "{e:#}"
            )))
        })
    }

    fn is_valid(&self, conn: &mut Conn) -> Result<(), Self::Error> {
        conn.ping().map_err(diesel::r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut Conn) -> bool {
        conn.is_broken()
    }
}

/// Opens the database and runs its pending migrations. A SQLite file (and its folder) is
/// created when missing, readable by its owner only; a PostgreSQL database must exist.
pub fn open(database: &Database) -> anyhow::Result<Pool> {
    migrate(database)?;
    diesel::r2d2::Pool::builder()
        .max_size(8)
        .connection_timeout(Duration::from_secs(10))
        .build(database.clone())
        .with_context(|| format!("cannot open the database {}", database.describe()))
}

/// Runs the pending migrations of the database's backend, on a connection of its own.
/// On PostgreSQL, instances starting together take turns (an advisory lock held for the
/// session of this connection).
pub fn migrate(database: &Database) -> anyhow::Result<usize> {
    let failed = |e| anyhow::anyhow!("cannot migrate the database {}: {e}", database.describe());
    match database {
        Database::Sqlite(path) => {
            owner_only(path)?;
            // Switching to WAL needs the file to itself: do it, and migrate, on one
            // connection before the pool opens its own.
            let Conn::Sqlite(mut conn) = database.connect_to()? else {
                unreachable!("a SQLite address opens a SQLite connection")
            };
            conn.batch_execute("PRAGMA journal_mode = WAL;")?;
            let applied = conn
                .run_pending_migrations(SQLITE_MIGRATIONS)
                .map_err(failed)?;
            Ok(applied.len())
        }
        Database::Postgres(_) => {
            let Conn::Postgres(mut conn) = database.connect_to()? else {
                unreachable!("a PostgreSQL address opens a PostgreSQL connection")
            };
            diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATIONS_LOCK})"))
                .execute(&mut conn)?;
            let applied = conn
                .run_pending_migrations(POSTGRES_MIGRATIONS)
                .map(|v| v.len());
            diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATIONS_LOCK})"))
                .execute(&mut conn)?;
            applied.map_err(failed)
        }
    }
}

/// Held while an instance migrates, so two starting at once do not both migrate.
const MIGRATIONS_LOCK: i64 = 0x6465_7663_6d69_6772; // "devcmigr"

/// Runs `work` in one writing transaction: on SQLite `BEGIN IMMEDIATE` (writers queue up
/// front instead of failing when a read would upgrade), on PostgreSQL a transaction that
/// first takes the writers' lock. Commits when `work` succeeds, rolls back otherwise.
pub fn write<T, E>(conn: &mut Conn, work: impl FnOnce(&mut Conn) -> Result<T, E>) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    match conn {
        Conn::Sqlite(inner) => {
            AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN IMMEDIATE")?
        }
        Conn::Postgres(inner) => {
            AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN")?;
            let locked = diesel::sql_query(format!("SELECT pg_advisory_xact_lock({WRITERS_LOCK})"))
                .execute(inner);
            if let Err(error) = locked {
                let _ = <Conn as Connection>::TransactionManager::rollback_transaction(conn);
                return Err(error.into());
            }
        }
    }
    match work(conn) {
        Ok(value) => {
            <Conn as Connection>::TransactionManager::commit_transaction(conn)?;
            Ok(value)
        }
        Err(error) => {
            // The work's own error is the one to report; a failed rollback leaves the
            // connection broken, and the pool then discards it.
            let _ = <Conn as Connection>::TransactionManager::rollback_transaction(conn);
            Err(error)
        }
    }
}

/// Creates the database file (and its folder, when missing) readable by its owner only:
/// it holds password hashes and the session key material. SQLite gives its WAL and
/// shared-memory files the database file's permissions. An existing file is tightened.
fn owner_only(path: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
    if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty())
        && !folder.exists()
    {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(folder)
            .with_context(|| format!("cannot create the folder {}", folder.display()))?;
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot open the database {}", path.display()))?;
    file.set_permissions(std::fs::Permissions::from_mode(0o600))
        .with_context(|| format!("cannot make {} private", path.display()))?;
    Ok(())
}

/// The current time as stored in the database (UTC).
pub fn now() -> chrono::NaiveDateTime {
    chrono::Utc::now().naive_utc()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_told_apart_and_passwords_never_described() {
        assert_eq!(
            Database::parse("data/devcenter.db"),
            Database::Sqlite(PathBuf::from("data/devcenter.db"))
        );
        assert_eq!(
            Database::parse("sqlite:x.db"),
            Database::Sqlite(PathBuf::from("x.db"))
        );
        for url in [
            "postgres://u:secret@h/db",
            "POSTGRESQL://u:secret@h/db",
            "postgres://u@h/db?sslmode=require&password=secret",
        ] {
            let database = Database::parse(url);
            assert!(matches!(database, Database::Postgres(_)), "{url}");
            let described = database.describe();
            assert!(!described.contains("secret"), "{described}");
        }
        assert!(
            Database::parse("postgres://u@h/db?sslmode=require&password=secret")
                .describe()
                .contains("sslmode=require")
        );
    }
}
