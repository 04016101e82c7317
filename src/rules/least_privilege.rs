//! Least privilege from real traffic: what a credential's requests say about its grants
//! (endpoints for a v1/v2 key, scopes for a v3 credential). Dropping a grant that was used
//! would refuse those requests: the change is shown first and applied only when confirmed.
//! A grant not used at all in the window can go.

use chrono::NaiveDate;

/// How many days of traffic the decisions read.
pub const WINDOW_DAYS: u64 = 30;

/// A grant's use in the window: its requests and the last day it had one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Used {
    pub requests: i64,
    pub last_on: NaiveDate,
}

impl Used {
    /// Two counts of one grant taken together (a scope's endpoints).
    pub fn and(self, other: Used) -> Used {
        Used {
            requests: self.requests + other.requests,
            last_on: self.last_on.max(other.last_on),
        }
    }
}

/// A grant a change would drop, and the requests it carried that would have been refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Impact<K> {
    pub grant: K,
    pub used: Used,
}

/// Of the grants `dropped`, those used in the window, most used first.
pub fn impact<K: Clone + Ord>(dropped: &[K], used: impl Fn(&K) -> Option<Used>) -> Vec<Impact<K>> {
    let mut impacts: Vec<Impact<K>> = dropped
        .iter()
        .filter_map(|grant| {
            used(grant).filter(|u| u.requests > 0).map(|used| Impact {
                grant: grant.clone(),
                used,
            })
        })
        .collect();
    impacts.sort_by(|a, b| {
        b.used
            .requests
            .cmp(&a.used.requests)
            .then(a.grant.cmp(&b.grant))
    });
    impacts
}

/// The grants not used at all in the window, in their order.
pub fn unused<K: Clone>(granted: &[K], used: impl Fn(&K) -> Option<Used>) -> Vec<K> {
    granted
        .iter()
        .filter(|grant| used(grant).is_none_or(|u| u.requests == 0))
        .cloned()
        .collect()
}

/// "1,204": counts as people read them.
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeSet, HashMap};

    use proptest::prelude::*;

    use super::*;

    fn day(n: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 1).expect("a date") + chrono::Days::new(u64::from(n))
    }

    /// Traffic as the gate counts it: (endpoint, day) of each request.
    fn counted(history: &[(u8, u32)]) -> HashMap<u8, Used> {
        let mut used: HashMap<u8, Used> = HashMap::new();
        for &(endpoint, d) in history {
            let one = Used {
                requests: 1,
                last_on: day(d),
            };
            used.entry(endpoint)
                .and_modify(|u| *u = u.and(one))
                .or_insert(one);
        }
        used
    }

    proptest! {
        /// The preview's counts equal the requests a replay of the history against the
        /// new grants would refuse, endpoint by endpoint, and it names exactly those.
        #[test]
        fn the_preview_counts_what_a_replay_would_refuse(
            history in prop::collection::vec((0u8..12, 0u32..30), 0..300),
            before in prop::collection::btree_set(0u8..12, 0..12),
            after in prop::collection::btree_set(0u8..12, 0..12),
        ) {
            let used = counted(&history);
            let dropped: Vec<u8> = before.difference(&after).copied().collect();
            let preview = impact(&dropped, |e| used.get(e).copied());
            let mut refused: HashMap<u8, i64> = HashMap::new();
            for (endpoint, _) in &history {
                if before.contains(endpoint) && !after.contains(endpoint) {
                    *refused.entry(*endpoint).or_default() += 1;
                }
            }
            let previewed: HashMap<u8, i64> =
                preview.iter().map(|i| (i.grant, i.used.requests)).collect();
            prop_assert_eq!(previewed, refused);
            for pair in preview.windows(2) {
                prop_assert!(pair[0].used.requests >= pair[1].used.requests);
            }
        }

        /// Removing exactly the unused grants refuses nothing a replay would send.
        #[test]
        fn removing_the_unused_refuses_nothing(
            history in prop::collection::vec((0u8..12, 0u32..30), 0..300),
            granted in prop::collection::btree_set(0u8..12, 0..12),
        ) {
            let used = counted(&history);
            let granted: Vec<u8> = granted.into_iter().collect();
            let unused = unused(&granted, |e| used.get(e).copied());
            let kept: BTreeSet<u8> = granted.iter().copied().filter(|g| !unused.contains(g)).collect();
            let dropped: Vec<u8> = granted.iter().copied().filter(|g| !kept.contains(g)).collect();
            prop_assert!(impact(&dropped, |e| used.get(e).copied()).is_empty());
            for g in &unused {
                prop_assert!(!history.iter().any(|(e, _)| e == g));
            }
        }
    }

    #[test]
    fn counts_read_with_thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1204), "1,204");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(-1204), "-1,204");
    }
}
