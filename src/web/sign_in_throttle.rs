//! The sign-in throttle: failed sign-ins counted per account and per client address.

use std::net::IpAddr;
use std::time::Instant;

use crate::limiter::{Failures, Limit};

/// Sign-in attempts per account (the e-mail typed, known or not) and per client address.
/// Each attempt is counted before its password is checked and given back if it succeeds,
/// so that no burst checks more passwords than the limit.
pub struct SignInThrottle {
    limit: Option<Limit>,
    accounts: Failures<String>,
    addresses: Failures<IpAddr>,
}

/// An attempt's place in the throttle: given back on success, kept on failure.
pub struct Attempt {
    account: String,
    address: IpAddr,
    /// Whether this attempt took a count to the limit (its failure is then audited).
    reaches_limit: bool,
}

impl SignInThrottle {
    pub fn new(limit: Option<Limit>) -> Self {
        Self {
            limit,
            accounts: Failures::new(limit),
            addresses: Failures::new(limit),
        }
    }

    /// Counts an attempt, or the seconds to wait when the account or the address is over
    /// the limit.
    pub fn reserve(&self, account: String, address: IpAddr, now: Instant) -> Result<Attempt, u64> {
        let by_account = self.accounts.reserve(account.clone(), now)?;
        let by_address = match self.addresses.reserve(address, now) {
            Ok(reached) => reached,
            Err(wait) => {
                self.accounts.release(&account);
                return Err(wait);
            }
        };
        Ok(Attempt {
            account,
            address,
            reaches_limit: by_account || by_address,
        })
    }

    pub fn succeeded(&self, attempt: &Attempt) {
        self.accounts.release(&attempt.account);
        self.addresses.release(&attempt.address);
    }

    /// The limit's count, when this failure is the one that reached it.
    pub fn failed(&self, attempt: &Attempt) -> Option<u32> {
        self.limit
            .filter(|_| attempt.reaches_limit)
            .map(|l| l.count)
    }
}
