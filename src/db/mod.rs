//! The SQLite database: an r2d2 pool of Diesel connections, each set up the same way
//! (WAL, foreign keys, a busy timeout), with the migrations embedded and run at start.

pub mod audit;
pub mod catalogue;
pub mod client_applications;
pub mod credentials;
pub mod request_log;
pub mod schema;
pub mod secrets;
pub mod sessions;
pub mod usage;
pub mod users;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use diesel::Connection;
use diesel::connection::SimpleConnection;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool as R2d2Pool};
use diesel::sqlite::SqliteConnection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

pub type Pool = R2d2Pool<ConnectionManager<SqliteConnection>>;
pub type Conn = SqliteConnection;

const MIGRATIONS: EmbeddedMigrations = embed_migrations!();

/// The pragmas every connection needs (WAL is a property of the file, set once in `open`).
/// `synchronous = NORMAL` in WAL mode keeps every committed transaction through a crash of
/// the process (only power loss may lose the last ones), at a fraction of FULL's cost.
#[derive(Debug)]
struct ConnectionSetup;

impl CustomizeConnection<SqliteConnection, diesel::r2d2::Error> for ConnectionSetup {
    fn on_acquire(&self, conn: &mut SqliteConnection) -> Result<(), diesel::r2d2::Error> {
        conn.batch_execute(
            "PRAGMA busy_timeout = 5000;
             PRAGMA synchronous = NORMAL;
             PRAGMA foreign_keys = ON;",
        )
        .map_err(diesel::r2d2::Error::QueryError)
    }
}

/// Where the database lives: `--database PATH`, `DATABASE_URL` (a path, with or without a
/// `sqlite:` scheme) or `./data/devcenter.db`.
pub fn database_path(raw: &str) -> PathBuf {
    let path = raw
        .strip_prefix("sqlite://")
        .or_else(|| raw.strip_prefix("sqlite:"))
        .unwrap_or(raw);
    PathBuf::from(path)
}

/// Opens (creating file and folder when missing) the database and runs pending migrations.
pub fn open(path: &Path) -> anyhow::Result<Pool> {
    owner_only(path)?;
    let url = path
        .to_str()
        .with_context(|| format!("the database path {} is not UTF-8", path.display()))?;
    // Switching to WAL needs the file to itself: do it, and migrate, on one connection
    // before the pool opens its own.
    let mut setup = SqliteConnection::establish(url)
        .with_context(|| format!("cannot open the database {}", path.display()))?;
    setup.batch_execute(
        "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON;",
    )?;
    setup
        .run_pending_migrations(MIGRATIONS)
        .map_err(|e| anyhow::anyhow!("cannot migrate the database {}: {e}", path.display()))?;
    drop(setup);
    let pool = R2d2Pool::builder()
        .max_size(8)
        .connection_timeout(Duration::from_secs(10))
        .connection_customizer(Box::new(ConnectionSetup))
        .build(ConnectionManager::<SqliteConnection>::new(url))
        .with_context(|| format!("cannot open the database {}", path.display()))?;
    Ok(pool)
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
