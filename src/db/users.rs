//! Users and their developer permissions.

use diesel::prelude::*;

use crate::rules::words::{DeveloperPermission, UserLevel};

use super::schema::{user_permissions, users};
use super::{Conn, on_backend};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct User {
    pub id: i32,
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub level: UserLevel,
    pub disabled: bool,
    pub created_at: chrono::NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub password_hash: &'a str,
    pub level: UserLevel,
    pub created_at: chrono::NaiveDateTime,
}

impl User {
    pub fn find(conn: &mut Conn, id: i32) -> QueryResult<Option<User>> {
        users::table
            .find(id)
            .select(User::as_select())
            .first(conn)
            .optional()
    }

    pub fn find_by_email(conn: &mut Conn, email: &str) -> QueryResult<Option<User>> {
        users::table
            .filter(users::email.eq(email))
            .select(User::as_select())
            .first(conn)
            .optional()
    }

    /// The ids of every user granted `permission`.
    pub fn ids_with(conn: &mut Conn, permission: DeveloperPermission) -> QueryResult<Vec<i32>> {
        user_permissions::table
            .filter(user_permissions::permission.eq(permission))
            .select(user_permissions::user_id)
            .load(conn)
    }

    /// The ids of every disabled user.
    pub fn disabled_ids(conn: &mut Conn) -> QueryResult<Vec<i32>> {
        users::table
            .filter(users::disabled.eq(true))
            .select(users::id)
            .load(conn)
    }

    pub fn count(conn: &mut Conn) -> QueryResult<i64> {
        users::table.count().get_result(conn)
    }

    pub fn insert(conn: &mut Conn, new: &NewUser<'_>) -> QueryResult<i32> {
        diesel::insert_into(users::table)
            .values(new)
            .returning(users::id)
            .get_result(conn)
    }

    /// The developer permissions held by `user_id`, as stored.
    pub fn permissions(conn: &mut Conn, user_id: i32) -> QueryResult<Vec<DeveloperPermission>> {
        user_permissions::table
            .filter(user_permissions::user_id.eq(user_id))
            .select(user_permissions::permission)
            .load(conn)
    }

    pub fn grant_permissions(
        conn: &mut Conn,
        user_id: i32,
        permissions: &[DeveloperPermission],
    ) -> QueryResult<()> {
        let rows: Vec<_> = permissions
            .iter()
            .map(|p| {
                (
                    user_permissions::user_id.eq(user_id),
                    user_permissions::permission.eq(p),
                )
            })
            .collect();
        on_backend!(conn, |conn| {
            diesel::insert_into(user_permissions::table)
                .values(&rows)
                .execute(conn)
        })
        .map(drop)
    }

    /// Every user's id and name, by name.
    pub fn names(conn: &mut Conn) -> QueryResult<Vec<(i32, String)>> {
        users::table
            .order((users::name, users::id))
            .select((users::id, users::name))
            .load(conn)
    }

    /// Users whose name or e-mail contains `text` (any case), by name.
    pub fn search(conn: &mut Conn, text: &str, limit: i64, offset: i64) -> QueryResult<Vec<User>> {
        matching(text)
            .order((users::name, users::id))
            .limit(limit)
            .offset(offset)
            .select(User::as_select())
            .load(conn)
    }

    pub fn count_matching(conn: &mut Conn, text: &str) -> QueryResult<i64> {
        matching(text).count().get_result(conn)
    }

    /// (user id, permission) for each of `user_ids`.
    pub fn permissions_of(
        conn: &mut Conn,
        user_ids: &[i32],
    ) -> QueryResult<Vec<(i32, DeveloperPermission)>> {
        user_permissions::table
            .filter(user_permissions::user_id.eq_any(user_ids))
            .select((user_permissions::user_id, user_permissions::permission))
            .load(conn)
    }

    /// Site Admins who can still sign in.
    pub fn count_active_site_admins(conn: &mut Conn) -> QueryResult<i64> {
        users::table
            .filter(
                users::level
                    .eq(UserLevel::SiteAdmin)
                    .and(users::disabled.eq(false)),
            )
            .count()
            .get_result(conn)
    }

    pub fn set_level_and_disabled(
        conn: &mut Conn,
        id: i32,
        level: UserLevel,
        disabled: bool,
    ) -> QueryResult<()> {
        diesel::update(users::table.find(id))
            .set((users::level.eq(level), users::disabled.eq(disabled)))
            .execute(conn)
            .map(drop)
    }

    /// Makes `permissions` the user's whole set (call inside a transaction).
    pub fn replace_permissions(
        conn: &mut Conn,
        user_id: i32,
        permissions: &[DeveloperPermission],
    ) -> QueryResult<()> {
        diesel::delete(user_permissions::table.filter(user_permissions::user_id.eq(user_id)))
            .execute(conn)?;
        Self::grant_permissions(conn, user_id, permissions)
    }
}

diesel::define_sql_function! {
    /// SQL's `lower`, the same on both backends for the ASCII letters LIKE compares.
    fn lower(text: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// The users whose name or e-mail contains `text`, in any case.
fn matching(text: &str) -> users::BoxedQuery<'static, super::MultiBackend> {
    // LIKE ignores case on SQLite and not on PostgreSQL: compare in lower case on both.
    let pattern = like_pattern(&text.to_lowercase());
    users::table
        .filter(
            lower(users::name)
                .like(pattern.clone())
                .escape('\\')
                .or(lower(users::email).like(pattern).escape('\\')),
        )
        .into_boxed()
}

/// `%text%` for LIKE, with LIKE's own wildcards in `text` taken literally.
fn like_pattern(text: &str) -> String {
    let mut pattern = String::from("%");
    for c in text.trim().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}
