//! Credential health, for managers of all credentials: the live credentials that deserve a
//! look (never used, idle for 90 days, expiring within 30 days, older than the
//! organization's longest lifetime, holding write grants they never used, refused for
//! coming from outside their trusted IPs), each a filter of the credentials list.

use std::collections::{HashMap, HashSet};

use chrono::Duration;

use crate::db::health::{self as queries, LiveDates};
use crate::db::settings::DevCenterSettings;
use crate::db::{self, Conn, request_log};
use crate::rules::access::{Action, Viewer};

use super::Failure;

/// One way a credential deserves a look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Concern {
    NeverUsed,
    Idle,
    Expiring,
    TooOld,
    UnusedWrites,
    OutsideTrustedIps,
}

impl Concern {
    pub const ALL: [Concern; 6] = [
        Concern::NeverUsed,
        Concern::Idle,
        Concern::Expiring,
        Concern::TooOld,
        Concern::UnusedWrites,
        Concern::OutsideTrustedIps,
    ];

    pub fn parse(text: &str) -> Option<Concern> {
        Self::ALL.into_iter().find(|c| c.as_str() == text)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Concern::NeverUsed => "never_used",
            Concern::Idle => "idle",
            Concern::Expiring => "expiring",
            Concern::TooOld => "too_old",
            Concern::UnusedWrites => "unused_writes",
            Concern::OutsideTrustedIps => "outside_trusted_ips",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Concern::NeverUsed => "Never used",
            Concern::Idle => "Unused for 90 days",
            Concern::Expiring => "Expiring within 30 days",
            Concern::TooOld => "Older than the longest lifetime",
            Concern::UnusedWrites => "Write grants never used",
            Concern::OutsideTrustedIps => "Tried from outside their trusted IPs (30 days)",
        }
    }
}

/// The live credentials of each concern.
#[derive(Debug, Default)]
pub struct Health {
    pub concerns: Vec<(Concern, Vec<i32>)>,
}

impl Health {
    pub fn of(&self, concern: Concern) -> &[i32] {
        self.concerns
            .iter()
            .find(|(c, _)| *c == concern)
            .map_or(&[], |(_, ids)| ids.as_slice())
    }
}

pub fn report(conn: &mut Conn, viewer: &Viewer) -> Result<Health, Failure> {
    viewer.require(Action::ManageEndpointGrants)?;
    let now = db::now();
    let live: Vec<LiveDates> = queries::live_dates(conn)?;
    let unexpired = |expires: &Option<chrono::NaiveDateTime>| expires.is_none_or(|e| e > now);
    let max_lifetime = DevCenterSettings::get(conn)?.max_lifetime();
    let mut concerns = vec![
        (
            Concern::NeverUsed,
            live.iter()
                .filter(|(_, _, used, expires)| used.is_none() && unexpired(expires))
                .map(|r| r.0)
                .collect(),
        ),
        (
            Concern::Idle,
            live.iter()
                .filter(|(_, _, used, expires)| {
                    used.is_some_and(|u| u < now - Duration::days(90)) && unexpired(expires)
                })
                .map(|r| r.0)
                .collect(),
        ),
        (
            Concern::Expiring,
            live.iter()
                .filter(|(_, _, _, expires)| {
                    expires.is_some_and(|e| e > now && e <= now + Duration::days(30))
                })
                .map(|r| r.0)
                .collect(),
        ),
        (
            Concern::TooOld,
            match max_lifetime {
                Some(days) => live
                    .iter()
                    .filter(|(_, created, _, expires)| {
                        *created < now - Duration::days(i64::from(days)) && unexpired(expires)
                    })
                    .map(|r| r.0)
                    .collect(),
                None => Vec::new(),
            },
        ),
    ];
    let live_ids: HashSet<i32> = live.iter().map(|r| r.0).collect();
    concerns.push((Concern::UnusedWrites, unused_writes(conn, &live_ids)?));
    let mut outside: Vec<i32> =
        request_log::refused_for_address_since(conn, now - Duration::days(30))?
            .into_iter()
            .filter(|id| live_ids.contains(id))
            .collect();
    outside.sort_unstable();
    concerns.push((Concern::OutsideTrustedIps, outside));
    Ok(Health { concerns })
}

/// Live credentials granted an endpoint that writes (anything but `GET`), directly or
/// through a scope, that never had a request there.
fn unused_writes(conn: &mut Conn, live: &HashSet<i32>) -> Result<Vec<i32>, Failure> {
    let writes: HashMap<i32, Option<String>> =
        queries::write_endpoints(conn)?.into_iter().collect();
    let used: HashSet<(i32, i32)> = queries::used_pairs(conn)?.into_iter().collect();
    let mut granted: Vec<(i32, i32)> = queries::endpoint_grants(conn)?;
    let by_scope: HashMap<&str, Vec<i32>> =
        writes.iter().fold(HashMap::new(), |mut map, (id, scope)| {
            if let Some(scope) = scope {
                map.entry(scope.as_str()).or_default().push(*id);
            }
            map
        });
    for (credential, scope) in queries::scope_grants(conn)? {
        for endpoint in by_scope.get(scope.as_str()).into_iter().flatten() {
            granted.push((credential, *endpoint));
        }
    }
    let mut concerned: Vec<i32> = granted
        .into_iter()
        .filter(|(credential, endpoint)| {
            live.contains(credential)
                && writes.contains_key(endpoint)
                && !used.contains(&(*credential, *endpoint))
        })
        .map(|(credential, _)| credential)
        .collect();
    concerned.sort_unstable();
    concerned.dedup();
    Ok(concerned)
}
