//! What one instance tells the others through PostgreSQL: the credentials a committed
//! transaction changed, as `NOTIFY devcenter_credentials` with their ids. A notification
//! sent inside a transaction is delivered when it commits, and not at all if it rolls
//! back. SQLite has one process: nothing to announce.

use diesel::RunQueryDsl;

use super::Conn;

pub const CHANNEL: &str = "devcenter_credentials";

/// PostgreSQL refuses payloads of 8000 bytes or more: longer lists go in several.
const MAX_PAYLOAD: usize = 7000;

/// Announces `credential_ids` to every listening instance (inside the caller's transaction).
pub fn changed_credentials(conn: &mut Conn, credential_ids: &[i32]) -> diesel::QueryResult<()> {
    let Conn::Postgres(conn) = conn else {
        return Ok(());
    };
    for payload in payloads(credential_ids) {
        diesel::sql_query("SELECT pg_notify($1, $2)")
            .bind::<diesel::sql_types::Text, _>(CHANNEL)
            .bind::<diesel::sql_types::Text, _>(payload)
            .execute(conn)?;
    }
    Ok(())
}

/// The ids as comma-separated payloads, each short enough to send.
fn payloads(ids: &[i32]) -> Vec<String> {
    let mut payloads = Vec::new();
    let mut current = String::new();
    for id in ids {
        let id = id.to_string();
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

/// The ids of a received payload; anything else in it is ignored.
pub fn parse(payload: &str) -> Vec<i32> {
    payload
        .split(',')
        .filter_map(|id| id.trim().parse().ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lists_are_split_and_read_back() {
        let ids: Vec<i32> = (1_000_000..1_002_000).collect();
        let split = payloads(&ids);
        assert!(split.len() > 1);
        assert!(split.iter().all(|p| p.len() <= MAX_PAYLOAD));
        let back: Vec<i32> = split.iter().flat_map(|p| parse(p)).collect();
        assert_eq!(back, ids);
        assert!(payloads(&[]).is_empty());
    }
}
