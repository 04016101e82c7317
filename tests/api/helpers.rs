//! The test harness: each test starts the real `devcenter` binary on a free port with a
//! fresh database (`TestApp::init()...spawn()`): a SQLite file, or a PostgreSQL database
//! made for the test and dropped after it, as the test crate's `BACKEND` says. It adds
//! users through the real CLI, and drives the app over HTTP as a browser without
//! JavaScript would (`Person`).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::cookie::{CookieStore, Jar};
use reqwest::redirect::Policy;
use reqwest::{Response, StatusCode};
use scraper::{Html, Selector};
use tempfile::TempDir;

const BINARY: &str = env!("CARGO_BIN_EXE_devcenter");
pub const PASSWORD: &str = "correct horse battery staple";
pub use devcenter::web::urls::CREDENTIALS;
use devcenter::web::urls::{
    AUDIT_LOG, AUDIT_LOG_EXPORT, CLIENT_APPLICATIONS, CREDENTIAL_PERMISSIONS, CREDENTIAL_REVOKE,
    CREDENTIAL_SCOPES, SIGN_IN, SIGN_OUT, USER, USERS, with_id,
};

/// A running server, the folder holding its logs (and its SQLite file), and its database.
pub struct TestApp {
    pub address: String,
    pub dir: TempDir,
    pub admin_email: String,
    pub admin_password: String,
    // Before `database`: the server stops before its PostgreSQL database is dropped.
    server: Server,
    database: TestDatabase,
    runs: usize,
    flags: Vec<String>,
}

/// Which database a test crate runs its servers on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A test's database.
pub enum TestDatabase {
    /// `devcenter.db` in the test's folder.
    Sqlite(PathBuf),
    /// A database of its own on the PostgreSQL server, dropped with the test.
    Postgres(PostgresDatabase),
    /// Another test server's database (by its `--database`), which that server owns.
    // Only the PostgreSQL crate runs several instances on one database.
    #[allow(dead_code)]
    Shared(String),
}

/// Where the PostgreSQL server for tests is: `DEVCENTER_TEST_POSTGRES`, by default the
/// machine's own (`root`, trust authentication).
fn postgres_server() -> String {
    std::env::var("DEVCENTER_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://root@127.0.0.1:5432/postgres".to_owned())
}

/// A fresh PostgreSQL database, created on the test server and dropped (with any session
/// still connected) when the test ends.
pub struct PostgresDatabase {
    name: String,
    url: String,
}

impl PostgresDatabase {
    /// Creates one. Without a reachable server the PostgreSQL runs are skipped, with a
    /// message, unless `CI=true`, where they must run.
    pub fn create() -> PostgresDatabase {
        match Self::try_create() {
            Some(database) => database,
            None => {
                eprintln!(
                    "The PostgreSQL runs of the integration suite are skipped. Set \
                     DEVCENTER_TEST_POSTGRES to a server's URL to run them; with CI=true they \
                     are required."
                );
                std::process::exit(0);
            }
        }
    }

    /// Creates one, or `None` (with a message) without a reachable server, for a test
    /// of another backend's crate that needs PostgreSQL too: it is skipped, not the
    /// whole crate. With `CI=true` the server is required.
    pub fn try_create() -> Option<PostgresDatabase> {
        use diesel::{Connection, RunQueryDsl};
        let server = postgres_server();
        let mut admin = match diesel::PgConnection::establish(&server) {
            Ok(admin) => admin,
            Err(error) if std::env::var("CI").as_deref() == Ok("true") => {
                panic!("CI=true needs PostgreSQL at {server}: {error}")
            }
            Err(error) => {
                eprintln!("PostgreSQL is not reachable at {server} ({error}).");
                return None;
            }
        };
        let name = format!("devcenter_test_{}", uuid_like());
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .expect("a test database");
        let url = match server.rsplit_once('/') {
            Some((base, _)) => format!("{base}/{name}"),
            None => panic!("DEVCENTER_TEST_POSTGRES must be a URL ending in a database name"),
        };
        Some(PostgresDatabase { name, url })
    }

    /// Its URL, as `--database` takes it.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl PostgresDatabase {
    /// Drops the database, ending every connection to it.
    fn drop_now(&self) {
        use diesel::{Connection, RunQueryDsl};
        if let Ok(mut admin) = diesel::PgConnection::establish(&postgres_server()) {
            let _ = diesel::sql_query(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .execute(&mut admin);
        }
    }
}

impl Drop for PostgresDatabase {
    fn drop(&mut self) {
        self.drop_now();
    }
}

/// 16 random hexadecimal digits, for names no other test run uses.
fn uuid_like() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    hasher.write_u32(std::process::id());
    format!("{:016x}", hasher.finish())
}

/// The server process, killed and reaped when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// How a test server is started: `TestApp::init()`, then options, then `spawn()`.
///
/// `TestApp::init().with_flags(&["--rate-limit", "off"]).spawn().await`
#[must_use = "a builder does nothing until `spawn`"]
pub struct TestAppBuilder {
    flags: Vec<String>,
    database: DatabaseChoice,
}

/// Which database a test server starts on.
enum DatabaseChoice {
    /// A fresh one of the crate's backend.
    Fresh,
    /// A fresh SQLite file, whatever the crate's backend.
    FreshSqlite,
    /// One that already has its users (so the server prints no first password), with
    /// the first Site Admin's e-mail and password.
    Existing(TestDatabase, String, String),
}

impl TestAppBuilder {
    /// Extra `serve` flags, given after the ones every test server gets, and kept across
    /// restarts.
    pub fn with_flags(mut self, flags: &[&str]) -> Self {
        self.flags.extend(flags.iter().map(|f| f.to_string()));
        self
    }

    /// On a fresh SQLite file, whatever the crate's backend (the source of a copy).
    pub fn on_sqlite(mut self) -> Self {
        self.database = DatabaseChoice::FreshSqlite;
        self
    }

    /// On a database that already holds an installation, whose first Site Admin signs in
    /// with `admin_email` and `admin_password` (a copy's target).
    pub fn on_existing_database(
        mut self,
        database: TestDatabase,
        admin_email: &str,
        admin_password: &str,
    ) -> Self {
        self.database =
            DatabaseChoice::Existing(database, admin_email.to_owned(), admin_password.to_owned());
        self
    }

    /// Starts the server and waits until it listens. It sets up exactly this:
    ///
    /// - a new temporary folder (`TestApp::dir`, removed when the `TestApp` is dropped)
    ///   holding the database `devcenter.db`, which the first start creates and migrates,
    ///   and the server's output as `stdout-<run>.log` and `stderr-<run>.log`;
    /// - the `devcenter` binary run as `serve --bind 127.0.0.1:0 --database <that file>`
    ///   followed by the flags given, with `RUST_LOG=info` and nothing else from the
    ///   shell (see [`devcenter`]: every `DEVCENTER_*` variable and `DATABASE_URL` removed);
    /// - the address it prints (port 0: the system picks a free one), and the first Site
    ///   Admin's e-mail and password, which the first start prints once.
    ///
    /// No user signs in and no page is loaded: tests ask for people (`admin`, `user`,
    /// `visitor`) themselves.
    pub async fn spawn(self) -> TestApp {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let (database, known_admin) = match self.database {
            DatabaseChoice::Fresh => (TestDatabase::fresh(dir.path()), None),
            DatabaseChoice::FreshSqlite => {
                (TestDatabase::Sqlite(dir.path().join("devcenter.db")), None)
            }
            DatabaseChoice::Existing(database, email, password) => {
                (database, Some((email, password)))
            }
        };
        let (server, address, stdout) = start(&dir, 0, &database.argument(), &self.flags);
        let (admin_email, admin_password) = match known_admin {
            Some(known) => known,
            None => {
                let password = stdout
                    .lines()
                    .find_map(|l| l.trim().strip_prefix("password: "))
                    .expect("the first start prints the first user's password")
                    .to_owned();
                let email = stdout
                    .lines()
                    .find_map(|l| l.trim().strip_prefix("e-mail: "))
                    .expect("the first start prints the first user's e-mail")
                    .trim()
                    .to_owned();
                (email, password)
            }
        };
        TestApp {
            address,
            dir,
            admin_email,
            admin_password,
            server,
            database,
            runs: 1,
            flags: self.flags,
        }
    }
}

impl TestDatabase {
    /// A fresh database on the crate's backend: `devcenter.db` in `folder`, or a new
    /// PostgreSQL database.
    pub fn fresh(folder: &std::path::Path) -> TestDatabase {
        match crate::BACKEND {
            Backend::Sqlite => TestDatabase::Sqlite(folder.join("devcenter.db")),
            Backend::Postgres => TestDatabase::Postgres(PostgresDatabase::create()),
        }
    }

    /// `--database` for this database.
    pub fn argument(&self) -> String {
        match self {
            TestDatabase::Sqlite(path) => path.to_str().expect("a UTF-8 path").to_owned(),
            TestDatabase::Postgres(database) => database.url.clone(),
            TestDatabase::Shared(argument) => argument.clone(),
        }
    }
}

impl TestApp {
    /// A server to start, with no extra flags yet; see [`TestAppBuilder::spawn`].
    pub fn init() -> TestAppBuilder {
        TestAppBuilder {
            flags: Vec::new(),
            database: DatabaseChoice::Fresh,
        }
    }

    /// `TestApp::init().spawn()`: a server with the default flags.
    pub async fn spawn() -> TestApp {
        Self::init().spawn().await
    }

    /// `TestApp::init().with_flags(flags).spawn()`: a server with extra `serve` flags.
    pub async fn spawn_with(flags: &[&str]) -> TestApp {
        Self::init().with_flags(flags).spawn().await
    }

    /// The server's resident memory now, in bytes (Linux).
    pub fn resident_bytes(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.server.0.id()))
            .expect("the server's /proc status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .expect("VmRSS")
            * 1024
    }

    /// The SQLite file, when the test runs on SQLite.
    pub fn sqlite_file(&self) -> Option<PathBuf> {
        match &self.database {
            TestDatabase::Sqlite(path) => Some(path.clone()),
            TestDatabase::Postgres(_) | TestDatabase::Shared(_) => None,
        }
    }

    /// A second instance: the same binary and flags on this one's database, as a load
    /// balancer's second backend would be. It finds the first Site Admin made already.
    #[allow(dead_code)] // only the PostgreSQL crate runs several instances
    pub async fn another_instance(&self) -> TestApp {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let database = TestDatabase::Shared(self.database_argument());
        let (server, address, _) = start(&dir, 0, &database.argument(), &self.flags);
        TestApp {
            address,
            dir,
            admin_email: self.admin_email.clone(),
            admin_password: self.admin_password.clone(),
            server,
            database,
            runs: 1,
            flags: self.flags.clone(),
        }
    }

    /// Drops this test's PostgreSQL database under the running server, as if the
    /// database server had lost it.
    #[allow(dead_code)] // only the PostgreSQL crate runs several instances
    pub fn drop_postgres_database(&self) {
        let TestDatabase::Postgres(database) = &self.database else {
            panic!("a PostgreSQL test's own database only");
        };
        database.drop_now();
    }

    /// Stops the server as a crash would (SIGKILL), and leaves it stopped.
    #[allow(dead_code)] // only the PostgreSQL crate runs several instances
    pub fn kill(&mut self) {
        self.server.0.kill().expect("kill the server");
        self.server.0.wait().expect("reap the server");
    }

    /// `--database` as the server and the command line are given it.
    /// The sealing key file the server uses by default: beside a SQLite database, else
    /// `data/sealing.key` in the directory the server was started from (the crate's).
    pub fn sealing_key_file(&self) -> PathBuf {
        match self.sqlite_file() {
            Some(file) => file.with_file_name("sealing.key"),
            None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/sealing.key"),
        }
    }

    pub fn database_argument(&self) -> String {
        self.database.argument()
    }

    /// A connection of the test's own to the server's database, beside the server's: no
    /// pool and no migrations (the server made them), set up as the server sets up its own.
    /// For arranging and checking what the UI would take long to.
    pub fn connection(&self) -> devcenter::db::Conn {
        devcenter::db::Database::parse(&self.database_argument())
            .connect_to()
            .expect("open the database")
    }

    /// Everything the database holds, as bytes to search: on SQLite the file with its WAL
    /// and shared memory; on PostgreSQL every row of every table, as text.
    pub fn everything_stored(&self) -> Vec<u8> {
        match &self.database {
            TestDatabase::Sqlite(path) => {
                let mut stored = Vec::new();
                for suffix in ["", "-wal", "-shm"] {
                    let mut file = path.clone().into_os_string();
                    file.push(suffix);
                    stored.extend(std::fs::read(file).unwrap_or_default());
                }
                stored
            }
            TestDatabase::Postgres(_) | TestDatabase::Shared(_) => {
                use diesel::prelude::*;
                #[derive(QueryableByName)]
                struct Rows {
                    #[diesel(sql_type = diesel::sql_types::Text)]
                    rows: String,
                }
                let mut conn = self.connection();
                let tables: Vec<Rows> = diesel::sql_query(
                    "SELECT table_name AS rows FROM information_schema.tables \
                     WHERE table_schema = 'public'",
                )
                .load(&mut conn)
                .expect("the tables");
                let mut stored = Vec::new();
                for table in tables {
                    let rows: Rows = diesel::sql_query(format!(
                        "SELECT coalesce(string_agg(t::text, chr(10)), '') AS rows FROM {} t",
                        table.rows
                    ))
                    .get_result(&mut conn)
                    .expect("a table's rows");
                    stored.extend(rows.rows.into_bytes());
                }
                stored
            }
        }
    }

    /// One text per row of `sql`, whose one column is named `t`, in the rows' order.
    pub fn texts(&self, sql: &str) -> Vec<String> {
        use diesel::prelude::*;
        #[derive(QueryableByName)]
        struct Text {
            #[diesel(sql_type = diesel::sql_types::Text)]
            t: String,
        }
        diesel::sql_query(sql)
            .load::<Text>(&mut self.connection())
            .expect("texts")
            .into_iter()
            .map(|row| row.t)
            .collect()
    }

    /// The backend this server runs on (the crate's, unless started `on_sqlite`).
    pub fn backend(&self) -> Backend {
        match &self.database {
            TestDatabase::Sqlite(_) => Backend::Sqlite,
            TestDatabase::Postgres(_) => Backend::Postgres,
            TestDatabase::Shared(argument) if argument.starts_with("postgres") => Backend::Postgres,
            TestDatabase::Shared(_) => Backend::Sqlite,
        }
    }

    /// How many credentials are stored under this key's hash (with `id`, when given).
    pub fn stored_keys(&self, key: &str, id: Option<i32>) -> i64 {
        let hash = self.bytes_literal(&blake3::hash(key.as_bytes()).to_hex());
        let id = id
            .map(|id| format!(" AND credential_id = {id}"))
            .unwrap_or_default();
        self.count(&format!(
            "SELECT count(*) FROM credential_secrets WHERE secret_hash = {hash}{id}"
        ))
    }

    /// SQL's spelling of a byte string given in hexadecimal, on this backend.
    fn bytes_literal(&self, hex: &str) -> String {
        match self.backend() {
            Backend::Sqlite => format!("x'{hex}'"),
            Backend::Postgres => format!("'\\x{hex}'::bytea"),
        }
    }

    /// Stops the server (as a crash would) and starts it again on the same database.
    pub async fn restart(&mut self) {
        self.server.0.kill().expect("kill the server");
        self.server.0.wait().expect("reap the server");
        self.start_again();
    }

    /// Stops the server as an operator would (SIGTERM), then starts it again.
    pub async fn restart_gracefully(&mut self) {
        self.stop_gracefully();
        self.start_again();
    }

    /// Stops the server as an operator would (SIGTERM: the gate's pending usage is
    /// written first) and waits for it to exit; its database stays.
    pub fn stop_gracefully(&mut self) {
        let stopped = Command::new("kill")
            .args(["-TERM", &self.server.0.id().to_string()])
            .status()
            .expect("send SIGTERM");
        assert!(stopped.success());
        let status = self.server.0.wait().expect("the server exits");
        assert!(status.success(), "a graceful stop exits cleanly: {status}");
    }

    fn start_again(&mut self) {
        let (server, address, _) =
            start(&self.dir, self.runs, &self.database.argument(), &self.flags);
        self.server = server;
        self.address = address;
        self.runs += 1;
    }

    /// Everything the server has written to stdout and stderr so far.
    pub fn logs(&self) -> String {
        let mut all = String::new();
        for run in 0..self.runs {
            for stream in ["stdout", "stderr"] {
                all.push_str(
                    &std::fs::read_to_string(self.dir.path().join(format!("{stream}-{run}.log")))
                        .unwrap_or_default(),
                );
            }
        }
        all
    }

    /// Adds a user through `devcenter create-user`, the way an operator would.
    pub fn create_user(
        &self,
        email: &str,
        level: &str,
        permissions: &[&str],
    ) -> std::process::Output {
        self.create_user_with_password(email, level, permissions, PASSWORD)
    }

    pub fn create_user_with_password(
        &self,
        email: &str,
        level: &str,
        permissions: &[&str],
        password: &str,
    ) -> std::process::Output {
        let mut command = devcenter();
        command
            .args([
                "create-user",
                "--email",
                email,
                "--name",
                &name_of(email),
                "--level",
                level,
            ])
            .arg("--database")
            .arg(self.database_argument())
            .arg("--password-stdin")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for permission in permissions {
            command.args(["--permission", permission]);
        }
        let mut child = command.spawn().expect("run create-user");
        use std::io::Write;
        // A refused command line exits before reading: a closed pipe is its answer.
        let _ = child
            .stdin
            .take()
            .expect("stdin")
            .write_all(format!("{password}\n").as_bytes());
        child.wait_with_output().expect("create-user finishes")
    }

    /// A new user with these permissions, signed in.
    pub async fn user(&self, email: &str, level: &str, permissions: &[&str]) -> Person {
        let output = self.create_user(email, level, permissions);
        assert!(
            output.status.success(),
            "create-user failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let person = self.visitor();
        person.sign_in(email, PASSWORD).await;
        person
    }

    /// The first Site Admin (every developer permission), signed in.
    pub async fn admin(&self) -> Person {
        let person = self.visitor();
        person
            .sign_in(&self.admin_email, &self.admin_password)
            .await;
        person
    }

    /// Someone with a browser who has not signed in.
    pub fn visitor(&self) -> Person {
        let jar = Arc::new(Jar::default());
        Person::new(format!("http://{}", self.address), client(jar.clone()), jar)
    }

    /// Someone who has not signed in, reaching the server through a proxy that says they
    /// are at `address` (`X-Forwarded-For` on every request).
    pub fn visitor_behind_proxy(&self, address: &str) -> Person {
        let jar = Arc::new(Jar::default());
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            address.parse().expect("an address as a header value"),
        );
        let client = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(Policy::none())
            // Shorter than the server's 5-second keep-alive: a test that waits between
            // requests never reuses a connection the server is closing.
            .pool_idle_timeout(Duration::from_secs(3))
            .default_headers(headers)
            .build()
            .expect("an HTTP client");
        Person::new(format!("http://{}", self.address), client, jar)
    }

    /// SQLite's own verdict on the database file; `None` on PostgreSQL, which checks its
    /// own pages and has no verdict to ask for.
    pub fn integrity_check(&self) -> Option<String> {
        self.sqlite_file()?;
        use diesel::prelude::*;
        #[derive(QueryableByName)]
        struct Verdict {
            #[diesel(sql_type = diesel::sql_types::Text)]
            integrity_check: String,
        }
        let mut conn = self.connection();
        diesel::sql_query("PRAGMA integrity_check")
            .load::<Verdict>(&mut conn)
            .expect("an integrity check")
            .into_iter()
            .map(|v| v.integrity_check)
            .collect::<Vec<_>>()
            .join("; ")
            .into()
    }

    /// One number from the database, by SQL, for checking what was (not) written.
    pub fn count(&self, sql: &str) -> i64 {
        use diesel::prelude::*;
        #[derive(QueryableByName)]
        struct Number {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let mut conn = self.connection();
        // The casts make any number (and a boolean) a BIGINT on both backends.
        diesel::sql_query(format!(
            "SELECT CAST(CAST(({sql}) AS INTEGER) AS BIGINT) AS n"
        ))
        .get_result::<Number>(&mut conn)
        .expect("a number")
        .n
    }
}

impl TestApp {
    /// Runs SQL against the database, for arranging what the UI would take long to make.
    pub fn execute(&self, sql: &str) {
        use diesel::prelude::*;
        let mut conn = self.connection();
        diesel::sql_query(sql).execute(&mut conn).expect("SQL runs");
    }

    /// Every text of the audit log's rows joined, to search for what must never be there.
    pub fn audit_text(&self) -> String {
        use diesel::prelude::*;
        #[derive(QueryableByName)]
        struct Text {
            #[diesel(sql_type = diesel::sql_types::Text)]
            t: String,
        }
        let mut conn = self.connection();
        let row = "actor_name || ' ' || coalesce(actor_address, '') || ' ' || action || ' ' \
                   || object_label || ' ' || summary || ' ' || details";
        let joined = match self.backend() {
            Backend::Sqlite => format!("group_concat({row}, char(10))"),
            Backend::Postgres => format!("string_agg({row}, chr(10))"),
        };
        diesel::sql_query(format!(
            "SELECT coalesce({joined}, '') AS t FROM audit_events"
        ))
        .get_result::<Text>(&mut conn)
        .expect("the audit log")
        .t
    }

    /// The id of the user with this e-mail (bound as a parameter, never pasted into SQL).
    pub fn user_id(&self, email: &str) -> i32 {
        use diesel::prelude::*;
        #[derive(QueryableByName)]
        struct Id {
            #[diesel(sql_type = diesel::sql_types::Integer)]
            id: i32,
        }
        let placeholder = match self.backend() {
            Backend::Sqlite => "?",
            Backend::Postgres => "$1",
        };
        diesel::sql_query(format!("SELECT id FROM users WHERE email = {placeholder}"))
            .bind::<diesel::sql_types::Text, _>(email)
            .get_result::<Id>(&mut self.connection())
            .unwrap_or_else(|e| panic!("a user with the e-mail {email}: {e}"))
            .id
    }
}

impl TestApp {
    /// Gives the client application `client_application_id` an OAuth client and these
    /// redirect URIs, by SQL (the form for it is another page's), and returns the client
    /// ID. The server reads both from the database when a partner sends a person to
    /// consent, so nothing it remembers is stale.
    pub fn register_oauth_client(
        &self,
        client_application_id: i32,
        redirect_uris: &[&str],
    ) -> String {
        use diesel::prelude::*;
        use diesel::sql_types::{Binary, Integer, Text};
        let client_id = format!("dci_test_partner_{client_application_id:06}");
        let p = |n: usize| match self.backend() {
            Backend::Sqlite => "?".to_owned(),
            Backend::Postgres => format!("${n}"),
        };
        let mut conn = self.connection();
        diesel::sql_query(format!(
            "INSERT INTO credentials (description, api_type, client_application_id, client_id, \
             created_by, created_at) VALUES ('Partner OAuth client', 'oauth_client', {}, {}, \
             (SELECT min(id) FROM users), CURRENT_TIMESTAMP)",
            p(1),
            p(2)
        ))
        .bind::<Integer, _>(client_application_id)
        .bind::<Text, _>(&client_id)
        .execute(&mut conn)
        .expect("an OAuth client");
        diesel::sql_query(format!(
            "INSERT INTO credential_secrets (credential_id, secret_hash, secret_prefix, \
             secret_last4, created_at) SELECT id, {}, 'dco_', 'abcd', CURRENT_TIMESTAMP \
             FROM credentials WHERE client_id = {}",
            p(1),
            p(2)
        ))
        .bind::<Binary, _>(vec![7u8; 32])
        .bind::<Text, _>(&client_id)
        .execute(&mut conn)
        .expect("its secret");
        diesel::sql_query(format!(
            "UPDATE client_applications SET redirect_uris = {} WHERE id = {}",
            p(1),
            p(2)
        ))
        .bind::<Text, _>(redirect_uris.join("\n"))
        .bind::<Integer, _>(client_application_id)
        .execute(&mut conn)
        .expect("its redirect URIs");
        client_id
    }
}

fn name_of(email: &str) -> String {
    email
        .split('@')
        .next()
        .unwrap_or(email)
        .replace(['.', '-'], " ")
}

fn client(jar: Arc<Jar>) -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_provider(jar)
        .redirect(Policy::none())
        // Shorter than the server's 5-second keep-alive: a test that waits between
        // requests never reuses a connection the server is closing.
        .pool_idle_timeout(Duration::from_secs(3))
        .build()
        .expect("an HTTP client")
}

/// The `devcenter` binary, with none of the shell's settings for it: every `DEVCENTER_*`
/// variable and `DATABASE_URL` is removed from its environment, so only the arguments a
/// test gives count.
pub fn devcenter() -> Command {
    let mut command = Command::new(BINARY);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("DEVCENTER_") {
            command.env_remove(name);
        }
    }
    command.env_remove("DATABASE_URL");
    command
}

/// Starts the server (run number `run` in `dir`) and waits for the address it prints.
fn start(dir: &TempDir, run: usize, database: &str, flags: &[String]) -> (Server, String, String) {
    let stdout_path = dir.path().join(format!("stdout-{run}.log"));
    let stderr_path = dir.path().join(format!("stderr-{run}.log"));
    let server = Server(
        devcenter()
            .args(["serve", "--bind", "127.0.0.1:0", "--database", database])
            .args(flags)
            .env("RUST_LOG", "info")
            .stdout(std::fs::File::create(&stdout_path).expect("stdout log"))
            .stderr(std::fs::File::create(&stderr_path).expect("stderr log"))
            .spawn()
            .expect("start devcenter"),
    );
    let started = Instant::now();
    loop {
        let stdout = std::fs::read_to_string(&stdout_path).unwrap_or_default();
        if let Some(address) = stdout
            .lines()
            .find_map(|l| l.strip_prefix("devcenter listening on http://"))
        {
            return (server, address.trim().to_owned(), stdout);
        }
        if started.elapsed() > Duration::from_secs(30) {
            panic!(
                "devcenter did not start: {}",
                std::fs::read_to_string(&stderr_path).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A Harvest v3 credential as its one-time view showed it.
pub struct V3Credential {
    pub id: i32,
    pub client_id: String,
    pub client_secret: String,
}

/// What came back, parsed for assertions on what a person would see.
pub struct Page {
    pub status: StatusCode,
    pub location: Option<String>,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Page {
    async fn from(response: Response) -> Page {
        let status = response.status();
        let headers = response.headers().clone();
        let location = headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Page {
            status,
            location,
            headers,
            body: response.text().await.expect("a body"),
        }
    }

    fn select(&self, css: &str) -> Vec<String> {
        let html = Html::parse_document(&self.body);
        let selector = Selector::parse(css).expect("a selector");
        html.select(&selector)
            .map(|e| e.text().collect::<String>().trim().to_owned())
            .collect()
    }

    /// The text of every element matching `css`.
    pub fn texts(&self, css: &str) -> Vec<String> {
        self.select(css)
    }

    /// The text of the one element matching `css`.
    pub fn text(&self, css: &str) -> String {
        let found = self.select(css);
        assert_eq!(
            found.len(),
            1,
            "expected one {css}, found {}: {}",
            found.len(),
            self.body
        );
        found.into_iter().next().unwrap_or_default()
    }

    pub fn has(&self, css: &str) -> bool {
        !self.select(css).is_empty()
    }

    /// The `name` attribute of every element matching `css`.
    pub fn attrs(&self, css: &str, name: &str) -> Vec<String> {
        let html = Html::parse_document(&self.body);
        let selector = Selector::parse(css).expect("a selector");
        html.select(&selector)
            .filter_map(|e| e.value().attr(name).map(str::to_owned))
            .collect()
    }

    /// The message shown beside a form field.
    pub fn field_error(&self, field: &str) -> String {
        self.text(&format!("#{field}-error"))
    }

    /// The endpoints ticked on a permissions page.
    pub fn checked_endpoints(&self) -> Vec<String> {
        self.attrs(r#"input[name="endpoints"][checked]"#, "value")
    }

    /// The one-time key view's key and credential id.
    pub fn api_key(&self) -> (String, i32) {
        let key = self.text(r#"[data-testid="api-key-value"]"#);
        let id = self.attrs(r#"[data-testid="api-key-value"]"#, "data-credential-id")[0]
            .parse()
            .expect("a credential id");
        (key, id)
    }

    /// The scopes ticked on Manage Scopes (or the Client Applications form).
    pub fn checked_scopes(&self) -> Vec<String> {
        self.attrs(r#"input[name="scopes"][checked]"#, "value")
    }

    /// The one-time view of a v3 credential: its client ID, client secret and id.
    pub fn client_credentials(&self) -> (String, String, i32) {
        let client_id = self.text(r#"[data-testid="client-id-value"]"#);
        let secret = self.text(r#"[data-testid="client-secret-value"]"#);
        let id = self.attrs(
            r#"[data-testid="client-secret-value"]"#,
            "data-credential-id",
        )[0]
        .parse()
        .expect("a credential id");
        (client_id, secret, id)
    }

    pub fn csrf_token(&self) -> Option<String> {
        self.attrs(r#"meta[name="csrf-token"]"#, "content")
            .into_iter()
            .next()
    }
}

/// Someone using Dev Center with their own cookie jar.
///
/// Like a browser, a person submits forms with the CSRF token of the last page they
/// received that carried one (its `<meta name="csrf-token">`): nothing is fetched behind
/// a test's back. A person who has received no such page yet has no token; a test loads
/// a page first (`get("/login")`, or `sign_in`, which lands on a signed-in page).
pub struct Person {
    pub base: String,
    pub client: reqwest::Client,
    jar: Arc<Jar>,
    /// The CSRF token of the last page received that carried one.
    token: Mutex<Option<String>>,
}

impl Person {
    fn new(base: String, client: reqwest::Client, jar: Arc<Jar>) -> Person {
        Person {
            base,
            client,
            jar,
            token: Mutex::new(None),
        }
    }

    /// The same person (same cookies, same token) talking to `app`'s current address.
    pub fn at(self, app: &TestApp) -> Person {
        Person {
            base: format!("http://{}", app.address),
            ..self
        }
    }

    /// The `Cookie` header this person's browser would send.
    pub fn cookie_header(&self) -> Option<String> {
        let url = self.base.parse().expect("a URL");
        self.jar
            .cookies(&url)
            .and_then(|v| v.to_str().ok().map(str::to_owned))
    }

    /// The answer as a page; a token on it replaces the one remembered.
    async fn receive(&self, response: Response) -> Page {
        let page = Page::from(response).await;
        if let Some(token) = page.csrf_token() {
            *self.token.lock().unwrap_or_else(|e| e.into_inner()) = Some(token);
        }
        page
    }

    /// The CSRF token of the last page this person received that carried one.
    pub fn csrf_token(&self) -> String {
        self.token
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .expect("no page has given this person a CSRF token yet: get a page first")
    }

    /// A request from a fresh browser that carries a copied `Cookie` header (what it gets
    /// back is not this person's page: its token is not remembered).
    pub async fn get_with_cookie(&self, path: &str, cookie: &str) -> Page {
        Page::from(
            self.client
                .get(format!("{}{path}", self.base))
                .header("Cookie", cookie)
                .send()
                .await
                .expect("GET"),
        )
        .await
    }

    pub async fn get(&self, path: &str) -> Page {
        self.receive(
            self.client
                .get(format!("{}{path}", self.base))
                .send()
                .await
                .expect("GET"),
        )
        .await
    }

    pub async fn get_htmx(&self, path: &str) -> Page {
        self.receive(
            self.client
                .get(format!("{}{path}", self.base))
                .header("HX-Request", "true")
                .send()
                .await
                .expect("GET"),
        )
        .await
    }

    /// Submits a form as the last page's form would: `fields` and the remembered CSRF
    /// token. Only the POST is sent.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let token = self.csrf_token();
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        all.push(("csrf_token", &token));
        self.post_raw(path, &all).await
    }

    /// Create New Credential with the remembered token, or `None` when the server did not
    /// answer (it crashed).
    pub async fn try_create_credential(&self, api_type: &str, description: &str) -> Option<Page> {
        let token = self.csrf_token();
        let fields = [
            ("api_type", api_type),
            ("client_application_id", ""),
            ("description", description),
            ("csrf_token", &token),
        ];
        let response = self
            .client
            .post(format!("{}{CREDENTIALS}", self.base))
            .form(&fields)
            .send()
            .await
            .ok()?;
        Some(self.receive(response).await)
    }

    /// Submits exactly `fields`, with no token added.
    pub async fn post_raw(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        self.receive(
            self.client
                .post(format!("{}{path}", self.base))
                .form(fields)
                .send()
                .await
                .expect("POST"),
        )
        .await
    }

    /// Signs in as a person does: loads the sign-in form (`GET /login`, which gives this
    /// browser its token), submits it, and follows the redirect (`GET` of where it
    /// points), whose page carries the signed-in session's token for later forms. Returns
    /// the answer to the submission; panics unless it is a redirect.
    pub async fn sign_in(&self, email: &str, password: &str) -> Page {
        self.get(SIGN_IN).await;
        let page = self
            .post(SIGN_IN, &[("email", email), ("password", password)])
            .await;
        assert_eq!(
            page.status,
            StatusCode::SEE_OTHER,
            "sign-in failed: {}",
            page.body
        );
        let landing = page.location.as_deref().expect("where sign-in leads");
        self.get(landing).await;
        page
    }

    /// Submits the Sign out button (with the remembered token).
    pub async fn sign_out(&self) -> Page {
        self.post(SIGN_OUT, &[]).await
    }

    /// Create New Credential, as submitted from the dialog.
    pub async fn create_credential(
        &self,
        api_type: &str,
        client_application_id: &str,
        description: &str,
    ) -> Page {
        self.post(
            CREDENTIALS,
            &[
                ("api_type", api_type),
                ("client_application_id", client_application_id),
                ("description", description),
            ],
        )
        .await
    }

    /// Creates a key and returns (key, credential id).
    pub async fn new_key(&self, api_type: &str, description: &str) -> (String, i32) {
        let page = self.create_credential(api_type, "", description).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        page.api_key()
    }

    /// Creates a Harvest v3 credential with `scopes`; returns its client credentials.
    pub async fn v3_credential_with_scopes(
        &self,
        description: &str,
        scopes: &[&str],
    ) -> V3Credential {
        let (client_id, client_secret, id) = self.new_v3_credential("", description).await;
        if !scopes.is_empty() {
            let saved = self.update_scopes(id, scopes).await;
            assert!(saved.status.is_redirection(), "{}", saved.body);
        }
        V3Credential {
            id,
            client_id,
            client_secret,
        }
    }

    /// Creates a Harvest v3 credential and returns (client ID, client secret, credential id).
    pub async fn new_v3_credential(
        &self,
        client_application_id: &str,
        description: &str,
    ) -> (String, String, i32) {
        let page = self
            .create_credential("harvest_v3", client_application_id, description)
            .await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        page.client_credentials()
    }

    pub async fn scopes(&self, id: i32) -> Page {
        self.get(&with_id(CREDENTIAL_SCOPES, id)).await
    }

    pub async fn update_scopes(&self, id: i32, scopes: &[&str]) -> Page {
        let fields: Vec<(&str, &str)> = scopes.iter().map(|s| ("scopes", *s)).collect();
        self.post(&with_id(CREDENTIAL_SCOPES, id), &fields).await
    }

    pub async fn credentials(&self) -> Page {
        self.get(CREDENTIALS).await
    }

    pub async fn permissions(&self, id: i32) -> Page {
        self.get(&with_id(CREDENTIAL_PERMISSIONS, id)).await
    }

    pub async fn update_permissions(&self, id: i32, endpoints: &[&str]) -> Page {
        let fields: Vec<(&str, &str)> = endpoints.iter().map(|e| ("endpoints", *e)).collect();
        self.post(&with_id(CREDENTIAL_PERMISSIONS, id), &fields)
            .await
    }

    pub async fn revoke(&self, id: i32) -> Page {
        self.post(&with_id(CREDENTIAL_REVOKE, id), &[]).await
    }

    pub async fn add_client_application(&self, name: &str, endpoints: &[&str]) -> Page {
        self.add_client_application_asking(name, endpoints, &[])
            .await
    }

    /// Adds a client application that needs `endpoints` and asks for the v3 `scopes`.
    pub async fn add_client_application_asking(
        &self,
        name: &str,
        endpoints: &[&str],
        scopes: &[&str],
    ) -> Page {
        let mut fields: Vec<(&str, &str)> = endpoints.iter().map(|e| ("endpoints", *e)).collect();
        fields.extend(scopes.iter().map(|s| ("scopes", *s)));
        fields.push(("name", name));
        self.post(CLIENT_APPLICATIONS, &fields).await
    }

    /// Adds a client application and returns its id.
    pub async fn client_application(&self, name: &str, endpoints: &[&str]) -> i32 {
        self.client_application_asking(name, endpoints, &[]).await
    }

    /// Adds a client application asking for v3 `scopes` and returns its id.
    pub async fn client_application_asking(
        &self,
        name: &str,
        endpoints: &[&str],
        scopes: &[&str],
    ) -> i32 {
        let added = self
            .add_client_application_asking(name, endpoints, scopes)
            .await;
        assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
        let page = self.get(CLIENT_APPLICATIONS).await;
        let html = Html::parse_document(&page.body);
        let row = Selector::parse(r#"[data-testid="client-application-row"]"#).expect("selector");
        html.select(&row)
            .find(|r| r.text().any(|t| t.trim() == name))
            .and_then(|r| r.value().attr("data-client-application-id"))
            .expect("the new client application is listed")
            .parse()
            .expect("an id")
    }

    /// Configure → Users, searched for `q`, at `page`.
    pub async fn users(&self, q: &str, page: i64) -> Page {
        let query = query_string(&[("q", q), ("page", &page.to_string())]);
        self.get(&format!("{USERS}?{query}")).await
    }

    pub async fn user_page(&self, id: i32) -> Page {
        self.get(&with_id(USER, id)).await
    }

    /// Saves a user's page: level, developer permissions, disabled.
    pub async fn update_user(
        &self,
        id: i32,
        level: &str,
        permissions: &[&str],
        disabled: bool,
    ) -> Page {
        let mut fields: Vec<(&str, &str)> =
            permissions.iter().map(|p| ("permissions", *p)).collect();
        fields.push(("level", level));
        if disabled {
            fields.push(("disabled", "on"));
        }
        self.post(&with_id(USER, id), &fields).await
    }

    /// Add a user, as submitted from the form.
    pub async fn add_user(
        &self,
        name: &str,
        email: &str,
        level: &str,
        permissions: &[&str],
    ) -> Page {
        let mut fields: Vec<(&str, &str)> =
            permissions.iter().map(|p| ("permissions", *p)).collect();
        fields.extend([("name", name), ("email", email), ("level", level)]);
        self.post(USERS, &fields).await
    }

    /// The audit log with these filters (`actor`, `action`, `from`, `to`, `credential`, ...).
    pub async fn audit_log(&self, filters: &[(&str, &str)]) -> Page {
        self.get(&format!("{AUDIT_LOG}?{}", query_string(filters)))
            .await
    }

    /// The CSV export of the audit log with these filters.
    pub async fn audit_export(&self, filters: &[(&str, &str)]) -> Page {
        self.get(&format!("{AUDIT_LOG_EXPORT}?{}", query_string(filters)))
            .await
    }
}

/// `a=1&b=2`, encoded as a browser would.
fn query_string(pairs: &[(&str, &str)]) -> String {
    reqwest::Url::parse_with_params("http://x/", pairs)
        .expect("a URL")
        .query()
        .unwrap_or_default()
        .to_owned()
}

/// Partner OAuth, the admin's side: a client application's redirect URIs and scopes, its
/// OAuth client, and integrations arranged in SQL.
impl Person {
    /// The edit form of a client application, as submitted.
    pub async fn edit_client_application(
        &self,
        id: i32,
        redirect_uris: &str,
        scopes: &[&str],
    ) -> Page {
        let mut fields: Vec<(&str, &str)> = scopes.iter().map(|s| ("scopes", *s)).collect();
        fields.push(("redirect_uris", redirect_uris));
        self.post(
            &with_id(devcenter::web::urls::CLIENT_APPLICATION, id),
            &fields,
        )
        .await
    }

    /// "Create OAuth client" on a client application's row.
    pub async fn create_oauth_client(&self, client_application_id: i32) -> Page {
        self.post(
            &with_id(
                devcenter::web::urls::CLIENT_APPLICATION_OAUTH_CLIENT,
                client_application_id,
            ),
            &[],
        )
        .await
    }

    /// Creates a client application's OAuth client; returns its one-time client credentials.
    pub async fn oauth_client(&self, client_application_id: i32) -> V3Credential {
        let page = self.create_oauth_client(client_application_id).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let (client_id, client_secret, id) = page.client_credentials();
        V3Credential {
            id,
            client_id,
            client_secret,
        }
    }
}

impl TestApp {
    /// An integration of the OAuth client `credential_id`, authorized by `user_id` at
    /// `created_at` (`YYYY-MM-DD HH:MM:SS`), inserted in SQL; its id.
    pub fn insert_integration(
        &self,
        credential_id: i32,
        user_id: i32,
        service_account: bool,
        scopes: &str,
        created_at: &str,
    ) -> i32 {
        let service_account = if service_account { "TRUE" } else { "FALSE" };
        self.execute(&format!(
            "INSERT INTO integrations (credential_id, authorized_by, service_account, scopes, created_at) \
             VALUES ({credential_id}, {user_id}, {service_account}, '{scopes}', '{created_at}')"
        ));
        i32::try_from(self.count("SELECT max(id) FROM integrations")).expect("an id")
    }
}
