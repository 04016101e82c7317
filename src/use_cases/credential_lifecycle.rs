//! Keeping a credential in service safely: rotating its secret (the old one keeps working
//! through an overlap), ending an overlap early, limiting where it may be used from, and
//! enabling a revoked credential again. Each checks access through `credentials::find`
//! (managers of the key's type) and writes in one transaction with its audit event.

use chrono::NaiveDateTime;

use crate::db::credentials::{Credential, CredentialSecret};
use crate::db::{self, Conn};
use crate::rules::access::Viewer;
use crate::rules::keys::ApiKey;
use crate::rules::overlap::{Overlap, quiet_end};
use crate::rules::text::FieldError;
use crate::rules::trusted_ips::TrustedIps;
use crate::rules::words::ApiType;

use super::audit::{self, Actor, Event};
use super::credentials::{find, new_secret};
use super::{Committed, Failure, write};

/// What the rotate page shows: the credential and every secret it has had, newest first.
pub struct Secrets {
    pub credential: Credential,
    pub api_type: ApiType,
    pub secrets: Vec<CredentialSecret>,
}

pub fn secrets(conn: &mut Conn, viewer: &Viewer, id: i32) -> Result<Secrets, Failure> {
    let (credential, api_type) = find(conn, viewer, id)?;
    Ok(Secrets {
        secrets: CredentialSecret::of_credential(conn, id)?,
        credential,
        api_type,
    })
}

/// A rotation just committed: the only moment the new secret's plain text exists.
#[derive(Debug)]
pub struct Rotated {
    pub credential: Credential,
    pub api_type: ApiType,
    /// The new key (v1/v2) or client secret (v3).
    pub key: ApiKey,
    /// When the old secret stops working.
    pub old_ends_at: NaiveDateTime,
}

/// Gives the credential a new current secret; its current one works until the overlap
/// ends. Secrets rotated out earlier keep their own end. A revoked credential is refused.
pub fn rotate(
    conn: &mut Conn,
    viewer: &Viewer,
    id: i32,
    overlap: Overlap,
) -> Result<Committed<Rotated>, Failure> {
    write(conn, |conn, changes| {
        let (credential, api_type) = find(conn, viewer, id)?;
        if credential.revoked_at.is_some() {
            return Err(FieldError::new(
                "overlap",
                "This key is revoked, so it cannot be rotated. Enable it first if it should work again.",
            )
            .into());
        }
        let now = db::now();
        let old_ends_at = now + overlap.duration();
        let old = CredentialSecret::end_current(conn, id, old_ends_at)?;
        if let (Some(old), Some(hours)) = (old, overlap.quiet_hours()) {
            CredentialSecret::set_quiet(conn, old, hours, now)?;
        }
        let key = ApiKey::generate(api_type);
        CredentialSecret::insert(conn, &new_secret(id, &key))?;
        audit::record(
            conn,
            &Actor::Person(viewer),
            &Event::credential_rotated(&credential, api_type, overlap, old_ends_at),
        )?;
        changes.credentials.push(id);
        Ok(Rotated {
            credential,
            api_type,
            key,
            old_ends_at,
        })
    })
}

/// Stops every rotated-out secret that still works; returns the credential and how many
/// stopped.
pub fn end_overlap(
    conn: &mut Conn,
    viewer: &Viewer,
    id: i32,
) -> Result<Committed<(Credential, usize)>, Failure> {
    write(conn, |conn, changes| {
        let (credential, _) = find(conn, viewer, id)?;
        let ended = CredentialSecret::end_overlaps(conn, id, db::now())?;
        if ended > 0 {
            audit::record(
                conn,
                &Actor::Person(viewer),
                &Event::credential_overlap_ended(&credential, ended),
            )?;
            changes.credentials.push(id);
        }
        Ok((credential, ended))
    })
}

/// Makes `trusted_ips` the addresses the credential may be used from; returns the
/// credential and the list as stored.
pub fn set_trusted_ips(
    conn: &mut Conn,
    viewer: &Viewer,
    id: i32,
    trusted_ips: &TrustedIps,
) -> Result<Committed<(Credential, String)>, Failure> {
    write(conn, |conn, changes| {
        let (credential, _) = find(conn, viewer, id)?;
        let after = trusted_ips.to_text();
        if credential.trusted_ips != after {
            Credential::set_trusted_ips(conn, id, &after)?;
            audit::record(
                conn,
                &Actor::Person(viewer),
                &Event::credential_trusted_ips_changed(
                    &credential,
                    &credential.trusted_ips,
                    &after,
                ),
            )?;
            changes.credentials.push(id);
        }
        Ok((credential, after))
    })
}

/// Makes a revoked credential work again, with those of its secrets that have not ended.
/// Enabling a live credential changes nothing.
pub fn enable(conn: &mut Conn, viewer: &Viewer, id: i32) -> Result<Committed<Credential>, Failure> {
    write(conn, |conn, changes| {
        let (credential, api_type) = find(conn, viewer, id)?;
        if Credential::enable(conn, id)? {
            audit::record(
                conn,
                &Actor::Person(viewer),
                &Event::credential_enabled(&credential, api_type),
            )?;
            changes.credentials.push(id);
        }
        Ok(credential)
    })
}

/// Ends the quiet-driven overlaps whose old secret has gone quiet long enough: each ends
/// at the moment it did (its last request, or the rotation, plus its quiet hours), so a
/// late run (a restart, a busy database) never extends it; run every few seconds by one
/// instance at a time.
pub fn end_quiet_overlaps(conn: &mut Conn) -> Result<Committed<usize>, Failure> {
    write(conn, |conn, changes| {
        let now = db::now();
        let mut ended = 0;
        for overlap in CredentialSecret::quiet_overlaps(conn, now)? {
            let hours = u32::try_from(overlap.quiet_hours).unwrap_or(1);
            let end = quiet_end(
                overlap.rotated_at,
                overlap.last_used_at,
                hours,
                overlap.ends_at,
            );
            if end > now {
                continue;
            }
            CredentialSecret::end_at(conn, overlap.id, end)?;
            if let Some(credential) = Credential::find(conn, overlap.credential_id)? {
                audit::record(
                    conn,
                    &Actor::System("Dev Center"),
                    &Event::credential_overlap_went_quiet(&credential, hours, end),
                )?;
            }
            changes.credentials.push(overlap.credential_id);
            ended += 1;
        }
        Ok(ended)
    })
}
