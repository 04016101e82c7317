//! Several instances on one PostgreSQL database, behaving as one. Each listens for the
//! credentials and users another instance changed (`db::announce`) and brings its live keys in line
//! at once; after any gap in listening it reconciles them all, so a notification missed
//! while disconnected cannot leave a revoked key alive. Work that must be done once (the
//! sweeps of expired sessions and of ended failure windows) is done by whichever instance
//! holds its advisory lock.

use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::{Connection, RunQueryDsl};

use crate::db::{self, Database, Pool, announce};
use crate::gate::live_keys::LiveKeys;
use crate::use_cases::{AfterCommit, Changes};

/// How often pending notifications are read: the most an announced change waits.
const POLL: Duration = Duration::from_millis(50);
/// How often the listening connection is checked with a query.
const CHECK_CONNECTION: Duration = Duration::from_secs(5);
/// Ids applied one by one in a poll; more, and the whole index is reconciled instead.
const MOST_PER_POLL: usize = 10_000;

/// Starts listening when the database is PostgreSQL (SQLite has one process).
pub fn listen(database: &Database, pool: Pool, keys: Arc<LiveKeys>) -> std::io::Result<()> {
    let Database::Postgres(url) = database else {
        return Ok(());
    };
    let url = url.clone();
    std::thread::Builder::new()
        .name("instances-listener".into())
        .spawn(move || {
            loop {
                if let Err(error) = listen_until_lost(&url, &pool, &keys) {
                    tracing::warn!(
                        error = format!("{error:#}"),
                        "not listening for other instances' changes; trying again"
                    );
                }
                std::thread::sleep(Duration::from_secs(1));
            }
        })
        .map(drop)
}

/// Listens on one connection until it fails.
fn listen_until_lost(url: &str, pool: &Pool, keys: &LiveKeys) -> anyhow::Result<()> {
    let mut listener = diesel::PgConnection::establish(url)?;
    diesel::sql_query(format!("LISTEN {}", announce::CHANNEL)).execute(&mut listener)?;
    // Whatever was announced before this connection listened is caught up here.
    keys.reconcile(&mut *pool.get()?)?;
    let mut checked = Instant::now();
    loop {
        // Reading notifications sends nothing: a connection cut without a word (an idle
        // timeout on the way) would go quiet for ever. A query every few seconds notices.
        if checked.elapsed() > CHECK_CONNECTION {
            diesel::sql_query("SELECT 1").execute(&mut listener)?;
            checked = Instant::now();
        }
        let mut changed = Changes::default();
        let mut flooded = false;
        for notification in listener.notifications_iter() {
            announce::parse(&notification?.payload, &mut changed);
            let count = changed.credentials.len()
                + changed.users.len()
                + changed.integrations.len()
                + changed.families.len();
            if count > MOST_PER_POLL {
                flooded = true;
                break;
            }
        }
        if flooded {
            // Any role on the database may notify: a flood is answered with one reconcile,
            // which reads the truth from the database, instead of an update per id.
            keys.reconcile(&mut *pool.get()?)?;
        } else if !changed.is_empty() {
            for ids in [
                &mut changed.credentials,
                &mut changed.users,
                &mut changed.integrations,
                &mut changed.families,
            ] {
                ids.sort_unstable();
                ids.dedup();
            }
            keys.after_commit(&mut *pool.get()?, &changed);
        }
        std::thread::sleep(POLL);
    }
}

/// Runs `work` unless another instance is running the same task right now (on SQLite,
/// always). `task` names the task's advisory lock.
pub fn once_across_instances(
    conn: &mut db::Conn,
    task: i64,
    work: impl FnOnce(&mut db::Conn) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    if !matches!(conn, db::Conn::Postgres(_)) {
        return work(conn);
    }
    #[derive(diesel::QueryableByName)]
    struct Taken {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        taken: bool,
    }
    let taken: Taken = diesel::sql_query(format!("SELECT pg_try_advisory_lock({task}) AS taken"))
        .get_result(conn)?;
    if !taken.taken {
        return Ok(());
    }
    let done = work(conn);
    diesel::sql_query(format!("SELECT pg_advisory_unlock({task})")).execute(conn)?;
    done
}
