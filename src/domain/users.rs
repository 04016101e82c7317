//! People: adding users, passwords (argon2id), signing in, and loading the `Viewer` that
//! every access decision is made on.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use rand::distr::{Alphanumeric, SampleString};
use rand::rand_core::UnwrapErr;
use rand::rngs::SysRng;

use crate::db::users::{NewUser, User};
use crate::db::{self, Conn};

use super::access::Viewer;
use super::people::{DeveloperPermission, ProductWord, UserLevel};
use super::{Failure, FieldErrors, parse_label};

pub const MIN_PASSWORD_CHARS: usize = 10;

/// A user to add.
#[derive(Debug, Clone)]
pub struct UserRequest {
    pub email: String,
    pub name: String,
    pub level: UserLevel,
    pub permissions: BTreeSet<DeveloperPermission>,
    pub password: String,
}

/// Adds a user; refuses a malformed or taken e-mail, an empty name or a short password.
pub fn create(conn: &mut Conn, request: &UserRequest) -> Result<i32, Failure> {
    let mut errors = FieldErrors::default();
    let email = request.email.trim().to_lowercase();
    if !is_plausible_email(&email) {
        errors.add("email", "Enter an e-mail address such as name@example.com.");
    }
    if let Err(e) = parse_label("name", "name", &request.name) {
        errors.add(e.field, e.message);
    }
    if request.password.chars().count() < MIN_PASSWORD_CHARS {
        errors.add(
            "password",
            format!("Choose a password of at least {MIN_PASSWORD_CHARS} characters."),
        );
    }
    errors.into_result()?;
    let password_hash = hash_password(&request.password)?;
    conn.immediate_transaction(|conn| {
        if User::find_by_email(conn, &email)?.is_some() {
            return Err(super::FieldError::new(
                "email",
                format!("A user with the e-mail {email} already exists."),
            )
            .into());
        }
        let id = User::insert(
            conn,
            &NewUser {
                email: &email,
                name: request.name.trim(),
                password_hash: &password_hash,
                level: request.level.as_str(),
                created_at: db::now(),
            },
        )?;
        let permissions: Vec<&str> = request.permissions.iter().map(|p| p.as_str()).collect();
        User::grant_permissions(conn, id, &permissions)?;
        Ok(id)
    })
}

fn is_plausible_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    (3..=254).contains(&email.len())
        && !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
}

fn hash_password(password: &str) -> Result<String, Failure> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| Failure::Internal(anyhow::anyhow!("cannot hash a password: {e}")))
}

/// A hash of a password nobody has, verified when the e-mail is unknown so that an unknown
/// e-mail takes as long to refuse as a wrong password.
static DECOY_HASH: LazyLock<String> =
    LazyLock::new(|| hash_password(&generate_password()).unwrap_or_default());

/// The id of the enabled user with this e-mail and password.
pub fn authenticate(conn: &mut Conn, email: &str, password: &str) -> Result<Option<i32>, Failure> {
    let user = User::find_by_email(conn, &email.trim().to_lowercase())?;
    let stored = user
        .as_ref()
        .map_or(DECOY_HASH.as_str(), |u| u.password_hash.as_str());
    let matches = PasswordHash::new(stored)
        .map(|hash| {
            Argon2::default()
                .verify_password(password.as_bytes(), &hash)
                .is_ok()
        })
        .unwrap_or(false);
    Ok(user.filter(|u| matches && !u.disabled).map(|u| u.id))
}

/// The signed-in person as the database says now; `None` if gone or disabled.
pub fn viewer(conn: &mut Conn, user_id: i32) -> Result<Option<Viewer>, Failure> {
    let Some(user) = User::find(conn, user_id)?.filter(|u| !u.disabled) else {
        return Ok(None);
    };
    let permissions = User::permissions(conn, user_id)?
        .iter()
        .filter_map(|p| DeveloperPermission::parse(p))
        .collect();
    Ok(UserLevel::parse(&user.level).map(|level| Viewer {
        id: user.id,
        name: user.name,
        email: user.email,
        level,
        permissions,
    }))
}

/// A password for a person to change later: 20 characters from the OS CSPRNG (119 bits).
pub fn generate_password() -> String {
    Alphanumeric.sample_string(&mut UnwrapErr(SysRng), 20)
}

/// The first Site Admin, made only when the database has no users at all.
pub const FIRST_USER_EMAIL: &str = "admin@devcenter.local";

/// On an empty database, adds a Site Admin with every developer permission and returns
/// the password to print once.
pub fn ensure_first_user(conn: &mut Conn) -> Result<Option<String>, Failure> {
    if User::count(conn)? > 0 {
        return Ok(None);
    }
    let password = generate_password();
    create(
        conn,
        &UserRequest {
            email: FIRST_USER_EMAIL.into(),
            name: "Site Admin".into(),
            level: UserLevel::SiteAdmin,
            permissions: DeveloperPermission::ALL.iter().copied().collect(),
            password: password.clone(),
        },
    )?;
    Ok(Some(password))
}
