//! The least-privilege panels of Manage API Key Permissions and Manage Scopes: what a save
//! would refuse (shown first, applied only when confirmed), and the grants unused in 30
//! days, listed for confirmation before they go.

use chrono::NaiveDate;

use crate::rules::least_privilege::{Impact, thousands};
use crate::use_cases::credentials::{Refused, Unused};

/// What the page shows above its picker, and the set its confirmation form submits.
#[derive(Default)]
pub struct Review {
    /// Each dropped grant that carried requests, in words.
    pub impact: Vec<String>,
    /// "Remove unused": each unused grant and when it was last used, in words.
    pub unused: Option<Vec<(String, String)>>,
    /// What confirming submits: the chosen set, or the grants minus the unused.
    pub confirm_values: Vec<String>,
    /// What the credential asked for lately and was refused: each in words, with the set
    /// its one-click grant submits (the grants as they are, plus it).
    pub refused: Vec<(String, Vec<String>)>,
}

impl Review {
    /// A save that would refuse requests: the chosen set waits for confirmation.
    pub fn of_impact(impacts: &[Impact<String>], chosen: Vec<String>) -> Review {
        Review {
            impact: impacts
                .iter()
                .map(|i| {
                    format!(
                        "{}: {} request{} in the last 30 days, last on {}",
                        i.grant,
                        thousands(i.used.requests),
                        if i.used.requests == 1 { "" } else { "s" },
                        day(i.used.last_on)
                    )
                })
                .collect(),
            unused: None,
            confirm_values: chosen,
            refused: Vec::new(),
        }
    }

    /// The grants unused in the window, and what stays once they go.
    pub fn of_unused(unused: Vec<Unused>, granted: impl IntoIterator<Item = String>) -> Review {
        let gone: Vec<&str> = unused.iter().map(|u| u.grant.as_str()).collect();
        let remaining = granted
            .into_iter()
            .filter(|g| !gone.contains(&g.as_str()))
            .collect();
        Review {
            impact: Vec::new(),
            unused: Some(
                unused
                    .iter()
                    .map(|u| {
                        let last = match u.last_on {
                            Some(on) => format!("last used on {}", day(on)),
                            None => "never used".to_owned(),
                        };
                        (u.grant.clone(), last)
                    })
                    .collect(),
            ),
            confirm_values: remaining,
            refused: Vec::new(),
        }
    }

    /// Adds what the credential was refused lately, each with a one-click grant.
    pub fn with_refused(mut self, refused: Vec<Refused>, granted: &[String]) -> Review {
        self.refused = refused
            .into_iter()
            .map(|r| {
                let text = if r.grant == r.endpoint {
                    format!(
                        "Asked for {} {} this week, and was refused",
                        r.endpoint,
                        times(r.times)
                    )
                } else {
                    format!(
                        "Asked for {} {} this week, and was refused: it needs {}",
                        r.endpoint,
                        times(r.times),
                        r.grant
                    )
                };
                let mut values = granted.to_vec();
                values.push(r.grant);
                (text, values)
            })
            .collect();
        self
    }
}

fn times(n: i64) -> String {
    match n {
        1 => "once".to_owned(),
        n => format!("{} times", thousands(n)),
    }
}

fn day(on: NaiveDate) -> String {
    on.format("%Y-%m-%d").to_string()
}
