//! Configure → Users and adding people: the first Site Admin, adding users (from the
//! command line or the page, with a generated first password), listing and searching, and
//! changing a user's level, developer permissions and disabled flag. Each change is
//! recorded in the audit log in its own transaction.

use std::collections::BTreeSet;

use crate::db::users::{NewUser, User};
use crate::db::{self, Conn, sessions};
use crate::rules::access::{Action, Viewer};
use crate::rules::email::Email;
use crate::rules::paging::Paged;
use crate::rules::passwords::Password;
use crate::rules::text::{FieldError, FieldErrors, Label, parse_label};
use crate::rules::words::{DeveloperPermission, ProductWord, UserLevel};

use super::audit::{self, Actor, AuditAction, Event, user_label};
use super::{Committed, Failure, write};

/// A user to add, parsed. Its `Debug` never shows the password.
#[derive(Debug, Clone)]
pub struct UserRequest {
    pub email: Email,
    pub name: Label,
    pub level: UserLevel,
    pub permissions: BTreeSet<DeveloperPermission>,
    pub password: Password,
}

/// Adds a user on behalf of `actor` (a Site Admin, the command line, the first start);
/// refuses an e-mail that is taken.
pub fn create(
    conn: &mut Conn,
    actor: &Actor<'_>,
    request: &UserRequest,
) -> Result<Committed<i32>, Failure> {
    let password_hash = request.password.hash()?;
    write(conn, |conn, changes| {
        let id = insert(conn, actor, request, &password_hash)?;
        changes.users.push(id);
        Ok(id)
    })
}

/// Adds the user, inside the caller's transaction.
fn insert(
    conn: &mut Conn,
    actor: &Actor<'_>,
    request: &UserRequest,
    password_hash: &str,
) -> Result<i32, Failure> {
    let (email, name) = (request.email.as_str(), request.name.as_str());
    if User::find_by_email(conn, email)?.is_some() {
        return Err(FieldError::new(
            "email",
            format!("A user with the e-mail {email} already exists."),
        )
        .into());
    }
    let id = User::insert(
        conn,
        &NewUser {
            email,
            name,
            password_hash,
            level: request.level,
            created_at: db::now(),
        },
    )?;
    let permissions: Vec<DeveloperPermission> = request.permissions.iter().copied().collect();
    User::grant_permissions(conn, id, &permissions)?;
    audit::record(
        conn,
        actor,
        &Event::user_created(id, name, email, request.level, &request.permissions),
    )?;
    Ok(id)
}

/// The first Site Admin, made only when the database has no users at all.
pub const FIRST_USER_EMAIL: &str = "admin@devcenter.local";

/// On an empty database, adds a Site Admin with every developer permission and returns
/// the password to print once.
pub fn ensure_first_user(conn: &mut Conn) -> Result<Option<Password>, Failure> {
    if User::count(conn)? > 0 {
        return Ok(None);
    }
    let password = Password::generate();
    let request = UserRequest {
        email: Email::parse(FIRST_USER_EMAIL)?,
        name: parse_label("name", "name", "Site Admin")?,
        level: UserLevel::SiteAdmin,
        permissions: DeveloperPermission::ALL.iter().copied().collect(),
        password: password.clone(),
    };
    let password_hash = password.hash()?;
    // Counted again under the writers' lock: another process (a second instance, a copy
    // into this database) may have added users since.
    let Committed { value: added, .. } = write(conn, |conn, _| {
        if User::count(conn)? > 0 {
            return Ok(false);
        }
        insert(
            conn,
            &Actor::System("First start"),
            &request,
            &password_hash,
        )?;
        Ok(true)
    })?;
    Ok(added.then_some(password))
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
                .map(|(_, p)| *p)
                .collect(),
            level: u.level,
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
    let users = Paged::read(page, total, |offset, limit| {
        User::search(conn, search, limit, offset)
    })?;
    Ok(Paged {
        items: summaries(conn, users.items)?,
        page: users.page,
        pages: users.pages,
        total: users.total,
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

/// A level and developer permissions as submitted, refused beside their fields (with
/// any `errors` found before) unless every one is known and nothing was refused.
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

/// A user's page as submitted, parsed.
#[derive(Debug, Clone)]
pub struct UserChange {
    pub level: UserLevel,
    pub permissions: BTreeSet<DeveloperPermission>,
    pub disabled: bool,
}

impl UserChange {
    pub fn parse(
        level: &str,
        permissions: &[String],
        disabled: bool,
    ) -> Result<UserChange, FieldErrors> {
        let (level, permissions) =
            parse_level_and_permissions(level, permissions, FieldErrors::default())?;
        Ok(UserChange {
            level,
            permissions,
            disabled,
        })
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
) -> Result<Committed<Changed>, Failure> {
    viewer.require(Action::ManageUsers)?;
    let UserChange {
        level,
        ref permissions,
        disabled,
    } = *change;
    write(conn, |conn, changes| {
        let before = find(conn, viewer, id)?;
        let label = user_label(&before.name, &before.email);
        let loses_admin = before.level == UserLevel::SiteAdmin
            && !before.disabled
            && (level != UserLevel::SiteAdmin || disabled);
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
        User::set_level_and_disabled(conn, id, level, disabled)?;
        if level != before.level {
            let event = Event::user_level_changed(id, &label, before.level, level);
            audit::record(conn, &actor, &event)?;
            changed.events.push(event.action);
        }
        if *permissions != before.permissions {
            let stored: Vec<DeveloperPermission> = permissions.iter().copied().collect();
            User::replace_permissions(conn, id, &stored)?;
            let event =
                Event::user_permissions_changed(id, &label, &before.permissions, permissions);
            audit::record(conn, &actor, &event)?;
            changed.events.push(event.action);
        }
        if disabled != before.disabled {
            if disabled {
                changed.sessions_ended = sessions::delete_for_user(conn, id)?;
            }
            let event =
                Event::user_disabled_or_enabled(id, &label, disabled, changed.sessions_ended);
            audit::record(conn, &actor, &event)?;
            changed.events.push(event.action);
        }
        // Integrations authorized as this person act with their access: they stop when the
        // person is disabled or no longer manages every credential.
        let loses_integrations = (disabled && !before.disabled)
            || (before
                .permissions
                .contains(&DeveloperPermission::ManageAllCredentials)
                && !permissions.contains(&DeveloperPermission::ManageAllCredentials));
        if loses_integrations {
            let why = if disabled {
                "the person who authorized it was disabled"
            } else {
                "the person who authorized it no longer manages ALL API credentials"
            };
            super::integrations::stop_those_acting_as(conn, id, why, changes)?;
        }
        changes.users.push(id);
        Ok(changed)
    })
}

/// The Add a user form, parsed; the first password is generated, never typed.
#[derive(Debug, Clone)]
pub struct NewUserRequest {
    pub name: Label,
    pub email: Email,
    pub level: UserLevel,
    pub permissions: BTreeSet<DeveloperPermission>,
}

impl NewUserRequest {
    /// Every field as typed, each problem refused beside its field at once.
    pub fn parse(
        name: &str,
        email: &str,
        level: &str,
        permissions: &[String],
    ) -> Result<NewUserRequest, FieldErrors> {
        let mut errors = FieldErrors::default();
        let name = parse_label("name", "name", name)
            .map_err(|e| errors.add(e.field, e.message))
            .ok();
        let email = Email::parse(email)
            .map_err(|e| errors.add(e.field, e.message))
            .ok();
        let (level, permissions) = parse_level_and_permissions(level, permissions, errors)?;
        match (name, email) {
            (Some(name), Some(email)) => Ok(NewUserRequest {
                name,
                email,
                level,
                permissions,
            }),
            // Unreachable in practice: a refused name or e-mail made the errors non-empty.
            _ => Err(FieldErrors::default()),
        }
    }
}

/// A user just added, with the first password: shown once, never stored in plain text.
#[derive(Debug)]
pub struct AddedUser {
    pub id: i32,
    pub email: Email,
    pub password: Password,
}

/// A Site Admin adds a user with a generated first password.
pub fn add(
    conn: &mut Conn,
    viewer: &Viewer,
    request: &NewUserRequest,
) -> Result<Committed<AddedUser>, Failure> {
    viewer.require(Action::ManageUsers)?;
    let password = Password::generate();
    let created = create(
        conn,
        &Actor::Person(viewer),
        &UserRequest {
            email: request.email.clone(),
            name: request.name.clone(),
            level: request.level,
            permissions: request.permissions.clone(),
            password: password.clone(),
        },
    )?;
    Ok(Committed {
        value: AddedUser {
            id: created.value,
            email: request.email.clone(),
            password,
        },
        changes: created.changes,
    })
}
