//! Use cases in process: called directly on a fresh SQLite file, with no server and no
//! HTTP, where a rule needs only the database (who may do what, what the audit log gets).

use std::collections::BTreeSet;

use devcenter::db::{self, Conn, Database};
use devcenter::gate::live_keys::LiveKeys;
use devcenter::rules::access::{Action, Denied, Viewer};
use devcenter::rules::email::Email;
use devcenter::rules::passwords::Password;
use devcenter::rules::text::{FieldErrors, parse_label};
use devcenter::rules::words::{ApiType, DeveloperPermission, ProductWord, UserLevel};
use devcenter::use_cases::audit::Actor;
use devcenter::use_cases::credentials::{self, CredentialRequest};
use devcenter::use_cases::users::{self, UserChange, UserRequest};
use devcenter::use_cases::{AfterCommit, Committed, Failure, sign_in};
use tempfile::TempDir;

use crate::helpers::{PASSWORD, TestDatabase};

/// A fresh database on the crate's backend (`db::open` migrates it), one connection to
/// it, and the gate's live keys loaded from it. No users yet.
struct World {
    conn: Conn,
    keys: LiveKeys,
    // Dropped last: a PostgreSQL database goes when its connections have.
    _database: TestDatabase,
    _dir: TempDir,
}

impl World {
    fn new() -> World {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let database = TestDatabase::fresh(dir.path());
        let address = Database::parse(&database.argument());
        drop(db::open(&address).expect("a fresh database"));
        let mut conn = address.connect_to().expect("a connection");
        let keys = LiveKeys::load(&mut conn, false).expect("the live keys");
        World {
            conn,
            keys,
            _database: database,
            _dir: dir,
        }
    }

    /// Runs a use case that writes, then hands what it changed to the live keys, as the
    /// web layer's `AppState::write` does.
    fn write<T>(
        &mut self,
        work: impl FnOnce(&mut Conn) -> Result<Committed<T>, Failure>,
    ) -> Result<T, Failure> {
        let Committed { value, changes } = work(&mut self.conn)?;
        self.keys.after_commit(&mut self.conn, &changes);
        Ok(value)
    }

    /// A user added as the command line adds one, as the viewer their requests would see.
    fn person(
        &mut self,
        email: &str,
        level: UserLevel,
        permissions: &[DeveloperPermission],
    ) -> Viewer {
        let request = UserRequest {
            email: Email::parse(email).expect("an e-mail"),
            name: parse_label("name", "name", email.split('@').next().unwrap_or(email))
                .expect("a name"),
            level,
            permissions: permissions.iter().copied().collect::<BTreeSet<_>>(),
            password: Password::parse(PASSWORD.to_owned().into()).expect("a password"),
        };
        let id = self
            .write(|conn| users::create(conn, &Actor::System("test"), &request))
            .expect("added");
        sign_in::viewer(&mut self.conn, id)
            .expect("read")
            .expect("an active user")
    }

    /// One number, by SQL.
    fn count(&mut self, sql: &str) -> i64 {
        use diesel::prelude::*;
        #[derive(QueryableByName)]
        struct Number {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        diesel::sql_query(format!("SELECT ({sql}) AS n"))
            .get_result::<Number>(&mut self.conn)
            .expect("a number")
            .n
    }
}

fn refused(result: Result<impl std::fmt::Debug, Failure>) -> FieldErrors {
    match result {
        Err(Failure::Invalid(errors)) => errors,
        other => panic!("expected a refusal beside a field, got {other:?}"),
    }
}

#[test]
fn the_last_active_site_admin_cannot_be_demoted_or_disabled() {
    let mut world = World::new();
    let every = DeveloperPermission::ALL;
    let admin = world.person("admin@example.com", UserLevel::SiteAdmin, every);
    let keep = |level: &str, disabled: bool| {
        let permissions: Vec<String> = every.iter().map(|p| p.as_str().to_owned()).collect();
        UserChange::parse(level, &permissions, disabled).expect("a change")
    };

    let demoted =
        refused(world.write(|conn| users::update(conn, &admin, admin.id, &keep("basic", false))));
    assert!(
        demoted
            .get("level")
            .is_some_and(|m| m.contains("is the last active Site Admin")),
        "{demoted:?}"
    );
    let disabled = refused(
        world.write(|conn| users::update(conn, &admin, admin.id, &keep("site_admin", true))),
    );
    assert!(disabled.get("disabled").is_some(), "{disabled:?}");
    assert_eq!(
        world.count("SELECT count(*) FROM users WHERE level = 'site_admin' AND NOT disabled"),
        1
    );
    assert_eq!(
        world.count("SELECT count(*) FROM audit_events WHERE action <> 'user_created'"),
        0
    );

    // With another Site Admin, the first may step down.
    world.person("second@example.com", UserLevel::SiteAdmin, &[]);
    world
        .write(|conn| users::update(conn, &admin, admin.id, &keep("basic", false)))
        .expect("demoted");
    assert_eq!(
        world.count("SELECT count(*) FROM audit_events WHERE action = 'user_level_changed'"),
        1
    );
}

#[test]
fn a_job_board_manager_cannot_create_a_harvest_key() {
    let mut world = World::new();
    let manager = world.person(
        "board@example.com",
        UserLevel::Basic,
        &[DeveloperPermission::ManageJobBoardCredentials],
    );
    let request = |api_type: &str| {
        CredentialRequest::parse(
            api_type,
            "",
            "Careers site",
            "",
            chrono::Utc::now().date_naive(),
        )
        .expect("a request")
    };

    let harvest = world.write(|conn| credentials::create(conn, &manager, &request("harvest")));
    assert!(
        matches!(
            harvest,
            Err(Failure::Denied(Denied(Action::CreateCredential(
                ApiType::Harvest
            ))))
        ),
        "{harvest:?}"
    );
    assert_eq!(world.count("SELECT count(*) FROM credentials"), 0);
    assert_eq!(world.keys.len(), 0);

    let board = world
        .write(|conn| credentials::create(conn, &manager, &request("job_board")))
        .expect("a Job Board key");
    assert_eq!(board.api_type, ApiType::JobBoard);
    assert!(world.keys.get(&board.key.hash()).is_some(), "live at once");
}

#[test]
fn revoking_twice_writes_one_audit_event() {
    let mut world = World::new();
    let admin = world.person(
        "admin@example.com",
        UserLevel::SiteAdmin,
        &[DeveloperPermission::ManageAllCredentials],
    );
    let request = CredentialRequest::parse(
        "harvest",
        "",
        "Payroll sync",
        "",
        chrono::Utc::now().date_naive(),
    )
    .expect("a request");
    let created = world
        .write(|conn| credentials::create(conn, &admin, &request))
        .expect("a Harvest key");
    assert!(world.keys.get(&created.key.hash()).is_some());

    for _ in 0..2 {
        world
            .write(|conn| credentials::revoke(conn, &admin, created.id))
            .expect("revoked");
    }
    assert_eq!(
        world.count("SELECT count(*) FROM audit_events WHERE action = 'credential_revoked'"),
        1
    );
    assert!(
        world.keys.get(&created.key.hash()).is_none(),
        "stops working at once"
    );
}
