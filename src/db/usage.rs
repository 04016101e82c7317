//! What the gate let through: per key, per day, per endpoint; written in batches.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::Conn;
use super::schema::{credential_usage, credentials};
use crate::rules::least_privilege::Used;

/// Counted requests of one key since the last batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageBatch {
    pub credential_id: i32,
    pub last_used_at: Option<NaiveDateTime>,
    /// (endpoint id, or `None` for keys without catalogue endpoints; requests)
    pub requests: Vec<(Option<i32>, i64)>,
    /// Each secret's last use: when, from which address, with which user agent.
    pub secrets_last_used: Vec<SecretUse>,
    /// (partner integration id, when its token was last used)
    pub integrations_last_used: Vec<(i32, NaiveDateTime)>,
}

/// A secret's last use since the previous batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretUse {
    pub secret_id: i32,
    pub at: NaiveDateTime,
    pub from: Option<String>,
    pub user_agent: Option<String>,
}

/// Adds a batch to the day's counts and moves last-used times forward, inside the caller's
/// transaction.
pub fn record(conn: &mut Conn, day: NaiveDate, batches: &[UsageBatch]) -> QueryResult<()> {
    let day = day.format("%Y-%m-%d").to_string();
    for batch in batches {
        if let Some(at) = batch.last_used_at {
            diesel::update(
                credentials::table.filter(
                    credentials::id.eq(batch.credential_id).and(
                        credentials::last_used_at
                            .is_null()
                            .or(credentials::last_used_at.lt(at)),
                    ),
                ),
            )
            .set(credentials::last_used_at.eq(at))
            .execute(conn)?;
        }
        for used in &batch.secrets_last_used {
            super::credentials::CredentialSecret::record_last_use(
                conn,
                used.secret_id,
                used.at,
                used.from.as_deref(),
                used.user_agent.as_deref(),
            )?;
        }
        for (integration, at) in &batch.integrations_last_used {
            super::integrations::Integration::record_last_use(conn, *integration, *at)?;
        }
        for (endpoint_id, requests) in &batch.requests {
            let same_row = credential_usage::credential_id
                .eq(batch.credential_id)
                .and(credential_usage::day.eq(&day));
            let updated = match endpoint_id {
                Some(endpoint) => diesel::update(
                    credential_usage::table
                        .filter(same_row.and(credential_usage::endpoint_id.eq(endpoint))),
                )
                .set(credential_usage::requests.eq(credential_usage::requests + requests))
                .execute(conn)?,
                None => diesel::update(
                    credential_usage::table
                        .filter(same_row.and(credential_usage::endpoint_id.is_null())),
                )
                .set(credential_usage::requests.eq(credential_usage::requests + requests))
                .execute(conn)?,
            };
            if updated == 0 {
                diesel::insert_into(credential_usage::table)
                    .values((
                        credential_usage::credential_id.eq(batch.credential_id),
                        credential_usage::day.eq(&day),
                        credential_usage::endpoint_id.eq(endpoint_id),
                        credential_usage::requests.eq(requests),
                    ))
                    .execute(conn)?;
            }
        }
    }
    Ok(())
}

/// Requests per endpoint of one key since `since` (inclusive).
pub fn per_endpoint_since(
    conn: &mut Conn,
    credential_id: i32,
    since: NaiveDate,
) -> QueryResult<HashMap<i32, i64>> {
    let rows: Vec<(Option<i32>, i64)> = credential_usage::table
        .filter(
            credential_usage::credential_id
                .eq(credential_id)
                .and(credential_usage::day.ge(since.format("%Y-%m-%d").to_string()))
                .and(credential_usage::endpoint_id.is_not_null()),
        )
        .select((credential_usage::endpoint_id, credential_usage::requests))
        .load(conn)?;
    let mut totals = HashMap::new();
    for (endpoint, requests) in rows {
        if let Some(endpoint) = endpoint {
            *totals.entry(endpoint).or_insert(0) += requests;
        }
    }
    Ok(totals)
}

/// Each endpoint's requests since `since` (inclusive) and the last day it had one.
pub fn per_endpoint_used_since(
    conn: &mut Conn,
    credential_id: i32,
    since: NaiveDate,
) -> QueryResult<HashMap<i32, Used>> {
    let rows: Vec<(Option<i32>, String, i64)> = credential_usage::table
        .filter(
            credential_usage::credential_id
                .eq(credential_id)
                .and(credential_usage::day.ge(since.format("%Y-%m-%d").to_string()))
                .and(credential_usage::endpoint_id.is_not_null()),
        )
        .select((
            credential_usage::endpoint_id,
            credential_usage::day,
            credential_usage::requests,
        ))
        .load(conn)?;
    let mut used: HashMap<i32, Used> = HashMap::new();
    for (endpoint, day, requests) in rows {
        let (Some(endpoint), Ok(last_on)) = (endpoint, NaiveDate::parse_from_str(&day, "%Y-%m-%d"))
        else {
            continue;
        };
        let one = Used { requests, last_on };
        used.entry(endpoint)
            .and_modify(|u| *u = u.and(one))
            .or_insert(one);
    }
    Ok(used)
}

/// The last day each endpoint had a request, ever.
pub fn last_day_per_endpoint(
    conn: &mut Conn,
    credential_id: i32,
) -> QueryResult<HashMap<i32, NaiveDate>> {
    let rows: Vec<(Option<i32>, Option<String>)> = credential_usage::table
        .filter(
            credential_usage::credential_id
                .eq(credential_id)
                .and(credential_usage::endpoint_id.is_not_null()),
        )
        .group_by(credential_usage::endpoint_id)
        .select((
            credential_usage::endpoint_id,
            diesel::dsl::max(credential_usage::day),
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(endpoint, day)| {
            Some((
                endpoint?,
                NaiveDate::parse_from_str(&day?, "%Y-%m-%d").ok()?,
            ))
        })
        .collect())
}
