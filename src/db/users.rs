//! Users and their developer permissions.

use diesel::prelude::*;

use super::Conn;
use super::schema::{user_permissions, users};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users, check_for_backend(diesel::sqlite::Sqlite))]
pub struct User {
    pub id: i32,
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub level: String,
    pub disabled: bool,
    pub created_at: chrono::NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub password_hash: &'a str,
    pub level: &'a str,
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
    pub fn permissions(conn: &mut Conn, user_id: i32) -> QueryResult<Vec<String>> {
        user_permissions::table
            .filter(user_permissions::user_id.eq(user_id))
            .select(user_permissions::permission)
            .load(conn)
    }

    pub fn grant_permissions(
        conn: &mut Conn,
        user_id: i32,
        permissions: &[&str],
    ) -> QueryResult<()> {
        let rows: Vec<_> = permissions
            .iter()
            .map(|p| {
                (
                    user_permissions::user_id.eq(user_id),
                    user_permissions::permission.eq(*p),
                )
            })
            .collect();
        diesel::insert_into(user_permissions::table)
            .values(&rows)
            .execute(conn)
            .map(drop)
    }
}
