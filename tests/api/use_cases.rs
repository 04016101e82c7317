//! Use cases in process: called directly on a fresh SQLite file, with no server and no
//! HTTP, where a rule needs only the database (who may do what, what the audit log gets).

use std::collections::BTreeSet;

use devcenter::db::{self, Pool};
use devcenter::gate::live_keys::LiveKeys;
use devcenter::rules::access::{Action, Denied, Viewer};
use devcenter::rules::text::FieldErrors;
use devcenter::rules::words::{ApiType, DeveloperPermission, ProductWord, UserLevel};
use devcenter::use_cases::Failure;
use devcenter::use_cases::audit::Actor;
use devcenter::use_cases::credentials::{self, CredentialRequest};
use devcenter::use_cases::users::{self, UserChange, UserRequest};
use diesel::r2d2::{ConnectionManager, PooledConnection};
use tempfile::TempDir;

use crate::helpers::PASSWORD;

/// A fresh database (`db::open` creates and migrates it in a temporary folder), one
/// connection to it, and the gate's live keys loaded from it. No users yet.
struct World {
    conn: PooledConnection<ConnectionManager<diesel::SqliteConnection>>,
    keys: LiveKeys,
    _pool: Pool,
    _dir: TempDir,
}

impl World {
    fn new() -> World {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let pool = db::open(&dir.path().join("devcenter.db")).expect("a fresh database");
        let mut conn = pool.get().expect("a connection");
        let keys = LiveKeys::load(&mut conn, false).expect("the live keys");
        World {
            conn,
            keys,
            _pool: pool,
            _dir: dir,
        }
    }

    /// A user added as the command line adds one, as the viewer their requests would see.
    fn person(
        &mut self,
        email: &str,
        level: UserLevel,
        permissions: &[DeveloperPermission],
    ) -> Viewer {
        let request = UserRequest {
            email: email.to_owned(),
            name: email.split('@').next().unwrap_or(email).to_owned(),
            level,
            permissions: permissions.iter().copied().collect::<BTreeSet<_>>(),
            password: PASSWORD.to_owned(),
        };
        let id = users::create(&mut self.conn, &Actor::System("test"), &request).expect("added");
        users::viewer(&mut self.conn, id)
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
            .get_result::<Number>(&mut *self.conn)
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
    let keep = |level: &str, disabled: bool| UserChange {
        level: level.to_owned(),
        permissions: every.iter().map(|p| p.as_str().to_owned()).collect(),
        disabled,
    };

    let demoted = refused(users::update(
        &mut world.conn,
        &admin,
        admin.id,
        &keep("basic", false),
    ));
    assert!(
        demoted
            .get("level")
            .is_some_and(|m| m.contains("is the last active Site Admin")),
        "{demoted:?}"
    );
    let disabled = refused(users::update(
        &mut world.conn,
        &admin,
        admin.id,
        &keep("site_admin", true),
    ));
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
    users::update(&mut world.conn, &admin, admin.id, &keep("basic", false)).expect("demoted");
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
    let request = |api_type: &str| CredentialRequest {
        api_type: api_type.to_owned(),
        client_application_id: String::new(),
        description: "Careers site".to_owned(),
    };

    let harvest = credentials::create(&mut world.conn, &world.keys, &manager, &request("harvest"));
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

    let board = credentials::create(
        &mut world.conn,
        &world.keys,
        &manager,
        &request("job_board"),
    )
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
    let created = credentials::create(
        &mut world.conn,
        &world.keys,
        &admin,
        &CredentialRequest {
            api_type: "harvest".to_owned(),
            client_application_id: String::new(),
            description: "Payroll sync".to_owned(),
        },
    )
    .expect("a Harvest key");
    assert!(world.keys.get(&created.key.hash()).is_some());

    for _ in 0..2 {
        credentials::revoke(&mut world.conn, &world.keys, &admin, created.id).expect("revoked");
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
