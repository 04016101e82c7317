//! Signing in: who an e-mail names, the person each request is made by (loaded afresh
//! every time), and the audit half of throttling.

use crate::db::Conn;
use crate::db::users::User;
use crate::rules::access::Viewer;
use crate::rules::email::Email;
use crate::rules::passwords::DECOY_HASH;

use super::audit::{self, Actor, Event};
use super::{Committed, Failure, write};

/// Who a sign-in names: the enabled user with this e-mail, if any, and the hash to check
/// the password against (a decoy's when there is no such user, so that an unknown e-mail
/// takes as long to refuse as a wrong password).
pub struct SignInCandidate {
    pub user_id: Option<i32>,
    pub password_hash: String,
}

pub fn candidate(conn: &mut Conn, email: Option<&Email>) -> Result<SignInCandidate, Failure> {
    let user = match email {
        Some(email) => User::find_by_email(conn, email.as_str())?.filter(|u| !u.disabled),
        None => None,
    };
    Ok(match user {
        Some(user) => SignInCandidate {
            user_id: Some(user.id),
            password_hash: user.password_hash,
        },
        None => SignInCandidate {
            user_id: None,
            password_hash: DECOY_HASH.clone(),
        },
    })
}

/// The signed-in person as the database says now; `None` if gone or disabled.
pub fn viewer(conn: &mut Conn, user_id: i32) -> Result<Option<Viewer>, Failure> {
    let Some(user) = User::find(conn, user_id)?.filter(|u| !u.disabled) else {
        return Ok(None);
    };
    Ok(Some(Viewer {
        id: user.id,
        permissions: User::permissions(conn, user_id)?.into_iter().collect(),
        name: user.name,
        email: user.email,
        level: user.level,
        address: None,
    }))
}

/// Records that sign-in attempts for the account typed as `account` from `address` were
/// throttled after `failures` failures.
pub fn record_throttled(
    conn: &mut Conn,
    address: Option<&str>,
    account: &str,
    failures: u32,
) -> Result<Committed<()>, Failure> {
    let account = Email::normalise(account);
    // What was typed is not trusted: keep it short and printable.
    let shown: String = account
        .chars()
        .filter(|c| !c.is_control())
        .take(254)
        .collect();
    write(conn, |conn, _| {
        let user = User::find_by_email(conn, &account)?;
        audit::record(
            conn,
            &Actor::Anonymous { address },
            &Event::sign_in_throttled(user.map(|u| u.id), &shown, failures, address),
        )
    })
}
