//! People: adding users, passwords (argon2id), signing in, loading the `Viewer` that every
//! access decision is made on, and Configure → Users (levels, developer permissions,
//! disabling), each change recorded in the audit log in its own transaction.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::distr::{Alphanumeric, SampleString};
use rand::rand_core::UnwrapErr;
use rand::rngs::SysRng;

use crate::db::users::{NewUser, User};
use crate::db::{self, Conn, sessions};

use crate::rules::access::{Action, Viewer};
use crate::rules::paging::Paged;
use crate::rules::text::{FieldError, FieldErrors, parse_label};
use crate::rules::words::{DeveloperPermission, ProductWord, UserLevel};

use super::Failure;
use super::audit::{self, Actor, AuditAction, Event, ObjectKind};

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

/// Adds a user on behalf of `actor` (a Site Admin, the command line, the first start);
/// refuses a malformed or taken e-mail, an empty name or a short password.
pub fn create(conn: &mut Conn, actor: &Actor<'_>, request: &UserRequest) -> Result<i32, Failure> {
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
            return Err(FieldError::new(
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
        let name = request.name.trim();
        let labels: Vec<&str> = request.permissions.iter().map(|p| p.label()).collect();
        audit::record(
            conn,
            actor,
            &Event {
                action: AuditAction::UserCreated,
                object: ObjectKind::User,
                object_id: Some(id),
                object_label: user_label(name, &email),
                summary: format!(
                    "Added {} as {} with developer permissions: {}.",
                    user_label(name, &email),
                    request.level.label(),
                    audit::listing(&labels)
                ),
                details: serde_json::json!({
                    "email": email,
                    "name": name,
                    "level": request.level.as_str(),
                    "permissions": permissions,
                }),
            },
        )?;
        Ok(id)
    })
}

fn user_label(name: &str, email: &str) -> String {
    format!("{name} <{email}>")
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

/// argon2id with 7 MiB of memory and 5 passes: one of OWASP's equivalent settings to the
/// 19 MiB / 2-pass default, chosen so a sign-in does not add 19 MiB to a small server's
/// memory. Stored hashes carry their own parameters, so older ones still verify.
fn argon2() -> Result<Argon2<'static>, Failure> {
    let params = Params::new(7 * 1024, 5, 1, None)
        .map_err(|e| Failure::Internal(anyhow::anyhow!("argon2 parameters: {e}")))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

fn hash_password(password: &str) -> Result<String, Failure> {
    argon2()?
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| Failure::Internal(anyhow::anyhow!("cannot hash a password: {e}")))
}

/// A hash of a password nobody has, verified when the e-mail is unknown so that an unknown
/// e-mail takes as long to refuse as a wrong password.
static DECOY_HASH: LazyLock<String> =
    LazyLock::new(|| hash_password(&generate_password()).unwrap_or_default());

/// Who a sign-in names: the enabled user with this e-mail, if any, and the hash to check
/// the password against (a decoy's when there is no such user, so that an unknown e-mail
/// takes as long to refuse as a wrong password).
pub struct SignInCandidate {
    pub user_id: Option<i32>,
    pub password_hash: String,
}

pub fn sign_in_candidate(conn: &mut Conn, email: &str) -> Result<SignInCandidate, Failure> {
    let user = User::find_by_email(conn, &email.trim().to_lowercase())?.filter(|u| !u.disabled);
    Ok(match user {
        Some(user) => SignInCandidate {
            user_id: Some(user.id),
            password_hash: user.password_hash,
        },
        None => SignInCandidate {
            user_id: None,
            password_hash: DECOY_HASH.clone(),
        },
    })
}

/// Whether `password` matches `stored` (the hash carries its own parameters). Costly by
/// design: call it through the bounded password checks, never on a request's thread.
pub fn password_matches(stored: &str, password: &str) -> bool {
    PasswordHash::new(stored)
        .map(|hash| {
            Argon2::default()
                .verify_password(password.as_bytes(), &hash)
                .is_ok()
        })
        .unwrap_or(false)
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
        address: None,
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
        &Actor::System("First start"),
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

/// One row of Configure → Users, and what a user's page shows.
#[derive(Debug, Clone)]
pub struct UserSummary {
    pub id: i32,
    pub name: String,
    pub email: String,
    pub level: UserLevel,
    pub permissions: BTreeSet<DeveloperPermission>,
    pub disabled: bool,
}

fn summaries(conn: &mut Conn, users: Vec<User>) -> Result<Vec<UserSummary>, Failure> {
    let ids: Vec<i32> = users.iter().map(|u| u.id).collect();
    let held = User::permissions_of(conn, &ids)?;
    Ok(users
        .into_iter()
        .map(|u| UserSummary {
            permissions: held
                .iter()
                .filter(|(id, _)| *id == u.id)
                .filter_map(|(_, p)| DeveloperPermission::parse(p))
                .collect(),
            level: UserLevel::parse(&u.level).unwrap_or(UserLevel::Basic),
            id: u.id,
            name: u.name,
            email: u.email,
            disabled: u.disabled,
        })
        .collect())
}

/// The longest search text used; names and e-mails are at most 255 characters.
pub const MAX_SEARCH: usize = 255;

/// Configure → Users: a page of the users whose name or e-mail contains `search`.
pub fn list(
    conn: &mut Conn,
    viewer: &Viewer,
    search: &str,
    page: i64,
) -> Result<Paged<UserSummary>, Failure> {
    viewer.require(Action::ManageUsers)?;
    // Free text is bounded: a longer search finds nothing a shorter one would not.
    let search: String = search.chars().take(MAX_SEARCH).collect();
    let search = search.as_str();
    let total = User::count_matching(conn, search)?;
    let (page, pages) = Paged::<UserSummary>::clamp(page, total);
    let per_page = Paged::<UserSummary>::PER_PAGE;
    let users = User::search(conn, search, per_page, (page - 1) * per_page)?;
    Ok(Paged {
        items: summaries(conn, users)?,
        page,
        pages,
        total,
    })
}

/// One user, for their page.
pub fn find(conn: &mut Conn, viewer: &Viewer, id: i32) -> Result<UserSummary, Failure> {
    viewer.require(Action::ManageUsers)?;
    let user = User::find(conn, id)?.ok_or(Failure::NotFound("User"))?;
    summaries(conn, vec![user])?
        .pop()
        .ok_or(Failure::NotFound("User"))
}

/// A user's page as submitted.
#[derive(Debug, Clone, Default)]
pub struct UserChange {
    pub level: String,
    pub permissions: Vec<String>,
    pub disabled: bool,
}

/// A submitted level and developer permissions, refused beside their fields (with any
/// `errors` found before) unless every one is known and nothing was refused.
fn parse_level_and_permissions(
    level: &str,
    permissions: &[String],
    mut errors: FieldErrors,
) -> Result<(UserLevel, BTreeSet<DeveloperPermission>), FieldErrors> {
    let level = UserLevel::parse(level.trim());
    if level.is_none() {
        errors.add("level", "Choose a level: Basic, Job Admin or Site Admin.");
    }
    let permissions: Option<BTreeSet<DeveloperPermission>> = permissions
        .iter()
        .map(|p| DeveloperPermission::parse(p.trim()))
        .collect();
    if permissions.is_none() {
        errors.add("permissions", "Choose developer permissions from the list.");
    }
    match (level, permissions) {
        (Some(level), Some(permissions)) if errors.is_empty() => Ok((level, permissions)),
        _ => Err(errors),
    }
}

/// What a saved change did, for the confirmation.
#[derive(Debug, Clone, Default)]
pub struct Changed {
    pub events: Vec<AuditAction>,
    /// Sessions ended because the user was disabled.
    pub sessions_ended: usize,
}

/// Saves a user's level, developer permissions and disabled flag. The user's next request
/// sees the change (every request loads its viewer afresh); disabling also ends every
/// session they have. The last active Site Admin cannot be demoted or disabled.
pub fn update(
    conn: &mut Conn,
    viewer: &Viewer,
    id: i32,
    change: &UserChange,
) -> Result<Changed, Failure> {
    viewer.require(Action::ManageUsers)?;
    let (level, permissions) =
        parse_level_and_permissions(&change.level, &change.permissions, FieldErrors::default())?;
    conn.immediate_transaction(|conn| {
        let before = find(conn, viewer, id)?;
        let label = user_label(&before.name, &before.email);
        let loses_admin = before.level == UserLevel::SiteAdmin
            && !before.disabled
            && (level != UserLevel::SiteAdmin || change.disabled);
        if loses_admin && User::count_active_site_admins(conn)? <= 1 {
            let (field, what) = if level != UserLevel::SiteAdmin {
                ("level", "change their level")
            } else {
                ("disabled", "disable their account")
            };
            return Err(FieldError::new(
                field,
                format!(
                    "{} is the last active Site Admin. Make another user a Site Admin before \
                     you {what}, so your organization keeps someone who can manage users.",
                    before.name
                ),
            )
            .into());
        }
        let mut changed = Changed::default();
        let actor = Actor::Person(viewer);
        User::set_level_and_disabled(conn, id, level.as_str(), change.disabled)?;
        if level != before.level {
            audit::record(
                conn,
                &actor,
                &Event {
                    action: AuditAction::UserLevelChanged,
                    object: ObjectKind::User,
                    object_id: Some(id),
                    object_label: label.clone(),
                    summary: format!(
                        "Changed the level of {label} from {} to {}.",
                        before.level.label(),
                        level.label()
                    ),
                    details: serde_json::json!({
                        "before": before.level.as_str(),
                        "after": level.as_str(),
                    }),
                },
            )?;
            changed.events.push(AuditAction::UserLevelChanged);
        }
        if permissions != before.permissions {
            let stored: Vec<&str> = permissions.iter().map(|p| p.as_str()).collect();
            User::replace_permissions(conn, id, &stored)?;
            let words = |set: &BTreeSet<DeveloperPermission>| -> Vec<&'static str> {
                set.iter().map(|p| p.as_str()).collect()
            };
            let added: BTreeSet<_> = permissions
                .difference(&before.permissions)
                .copied()
                .collect();
            let removed: BTreeSet<_> = before
                .permissions
                .difference(&permissions)
                .copied()
                .collect();
            let mut parts = Vec::new();
            if !added.is_empty() {
                let labels: Vec<&str> = added.iter().map(|p| p.label()).collect();
                parts.push(format!("granted {}", audit::listing(&labels)));
            }
            if !removed.is_empty() {
                let labels: Vec<&str> = removed.iter().map(|p| p.label()).collect();
                parts.push(format!("removed {}", audit::listing(&labels)));
            }
            audit::record(
                conn,
                &actor,
                &Event {
                    action: AuditAction::UserPermissionsChanged,
                    object: ObjectKind::User,
                    object_id: Some(id),
                    object_label: label.clone(),
                    summary: format!("Developer permissions of {label}: {}.", parts.join("; ")),
                    details: serde_json::json!({
                        "before": words(&before.permissions),
                        "after": words(&permissions),
                        "added": words(&added),
                        "removed": words(&removed),
                    }),
                },
            )?;
            changed.events.push(AuditAction::UserPermissionsChanged);
        }
        if change.disabled != before.disabled {
            let action = if change.disabled {
                changed.sessions_ended = sessions::delete_for_user(conn, id)?;
                AuditAction::UserDisabled
            } else {
                AuditAction::UserEnabled
            };
            let summary = if change.disabled {
                format!(
                    "Disabled {label} and signed them out everywhere ({} session{} ended).",
                    changed.sessions_ended,
                    if changed.sessions_ended == 1 { "" } else { "s" }
                )
            } else {
                format!("Enabled {label}; they can sign in again.")
            };
            audit::record(
                conn,
                &actor,
                &Event {
                    action,
                    object: ObjectKind::User,
                    object_id: Some(id),
                    object_label: label.clone(),
                    summary,
                    details: serde_json::json!({
                        "disabled": change.disabled,
                        "sessions_ended": changed.sessions_ended,
                    }),
                },
            )?;
            changed.events.push(action);
        }
        Ok(changed)
    })
}

/// The Add a user form as submitted; the first password is generated, never typed.
#[derive(Debug, Clone, Default)]
pub struct NewUserRequest {
    pub name: String,
    pub email: String,
    pub level: String,
    pub permissions: Vec<String>,
}

/// A user just added, with the first password: shown once, never stored in plain text.
#[derive(Debug)]
pub struct AddedUser {
    pub id: i32,
    pub email: String,
    pub password: String,
}

/// A Site Admin adds a user with a generated first password.
pub fn add(
    conn: &mut Conn,
    viewer: &Viewer,
    request: &NewUserRequest,
) -> Result<AddedUser, Failure> {
    viewer.require(Action::ManageUsers)?;
    // Name and e-mail are checked again by `create`; checked here too so that the form
    // shows every problem at once.
    let mut errors = FieldErrors::default();
    if let Err(e) = parse_label("name", "name", &request.name) {
        errors.add(e.field, e.message);
    }
    if !is_plausible_email(&request.email.trim().to_lowercase()) {
        errors.add("email", "Enter an e-mail address such as name@example.com.");
    }
    let (level, permissions) =
        parse_level_and_permissions(&request.level, &request.permissions, errors)?;
    let password = generate_password();
    let id = create(
        conn,
        &Actor::Person(viewer),
        &UserRequest {
            email: request.email.clone(),
            name: request.name.clone(),
            level,
            permissions,
            password: password.clone(),
        },
    )?;
    Ok(AddedUser {
        id,
        email: request.email.trim().to_lowercase(),
        password,
    })
}

/// Records that sign-in attempts for `email` from `address` were throttled. Sign-in
/// throttling itself is a later hardening issue; this is the audit half, ready for it.
pub fn record_sign_in_throttled(
    conn: &mut Conn,
    address: Option<&str>,
    email: &str,
    failures: u32,
) -> Result<(), Failure> {
    let email = email.trim().to_lowercase();
    // What was typed is not trusted: keep it short and printable.
    let shown: String = email
        .chars()
        .filter(|c| !c.is_control())
        .take(254)
        .collect();
    conn.immediate_transaction(|conn| {
        let user = User::find_by_email(conn, &email)?;
        audit::record(
            conn,
            &Actor::Anonymous { address },
            &Event {
                action: AuditAction::SignInThrottled,
                object: ObjectKind::User,
                object_id: user.as_ref().map(|u| u.id),
                object_label: shown.clone(),
                summary: format!(
                    "Throttled sign-in for “{shown}” after {failures} failed attempts from {}.",
                    address.unwrap_or("an unknown address")
                ),
                details: serde_json::json!({
                    "email": shown,
                    "failures": failures,
                    "known_user": user.is_some(),
                }),
            },
        )
    })
}
