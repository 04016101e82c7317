//! What one instance tells the others through PostgreSQL: the credentials and users a
//! committed transaction changed, as `NOTIFY devcenter_credentials` with their ids
//! (a user's with a `u` before it). A notification
//! sent inside a transaction is delivered when it commits, and not at all if it rolls
//! back. SQLite has one process: nothing to announce.

use diesel::RunQueryDsl;

use super::Conn;
use crate::use_cases::Changes;

pub const CHANNEL: &str = "devcenter_credentials";

/// PostgreSQL refuses payloads of 8000 bytes or more: longer lists go in several.
const MAX_PAYLOAD: usize = 7000;

/// Announces what changed to every listening instance (inside the caller's transaction).
pub fn changes(conn: &mut Conn, changes: &Changes) -> diesel::QueryResult<()> {
    let Conn::Postgres(conn) = conn else {
        return Ok(());
    };
    let items = changes
        .credentials
        .iter()
        .map(|id| id.to_string())
        .chain(changes.users.iter().map(|id| format!("{USER}{id}")))
        .chain(
            changes
                .integrations
                .iter()
                .map(|id| format!("{INTEGRATION}{id}")),
        )
        .chain(changes.families.iter().map(|id| format!("{FAMILY}{id}")));
    for payload in payloads(items) {
        diesel::sql_query("SELECT pg_notify($1, $2)")
            .bind::<diesel::sql_types::Text, _>(CHANNEL)
            .bind::<diesel::sql_types::Text, _>(payload)
            .execute(conn)?;
    }
    Ok(())
}

/// Marks a user's, an integration's and a token family's id in a payload.
const USER: char = 'u';
const INTEGRATION: char = 'i';
const FAMILY: char = 'f';

/// The items as comma-separated payloads, each short enough to send.
fn payloads(items: impl Iterator<Item = String>) -> Vec<String> {
    let mut payloads = Vec::new();
    let mut current = String::new();
    for id in items {
        if !current.is_empty() && current.len() + 1 + id.len() > MAX_PAYLOAD {
            payloads.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push(',');
        }
        current.push_str(&id);
    }
    if !current.is_empty() {
        payloads.push(current);
    }
    payloads
}

/// Adds what a received payload names to `changes`; anything else in it is ignored.
pub fn parse(payload: &str, changes: &mut Changes) {
    for item in payload.split(',').map(str::trim) {
        let (ids, id) = match item.chars().next() {
            Some(USER) => (&mut changes.users, &item[1..]),
            Some(INTEGRATION) => (&mut changes.integrations, &item[1..]),
            Some(FAMILY) => (&mut changes.families, &item[1..]),
            _ => (&mut changes.credentials, item),
        };
        ids.extend(id.parse::<i32>().ok());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lists_are_split_and_read_back() {
        let ids: Vec<i32> = (1_000_000..1_002_000).collect();
        let users: Vec<i32> = (1..300).collect();
        let items = ids
            .iter()
            .map(|id| id.to_string())
            .chain(users.iter().map(|id| format!("u{id}")));
        let split = payloads(items);
        assert!(split.len() > 1);
        assert!(split.iter().all(|p| p.len() <= MAX_PAYLOAD));
        let mut back = Changes::default();
        for payload in &split {
            parse(payload, &mut back);
        }
        assert_eq!(back.credentials, ids);
        assert_eq!(back.users, users);
        assert!(payloads(std::iter::empty()).is_empty());
        let mut odd = Changes::default();
        parse("7,x,u,u8,,-,i3,f4,i", &mut odd);
        assert_eq!((odd.credentials, odd.users), (vec![7], vec![8]));
        assert_eq!((odd.integrations, odd.families), (vec![3], vec![4]));
    }
}
