//! The audit log's sentences: each change a use case makes, as one event with a sentence
//! for people and the same facts for machines. Nothing here ever names a secret.

use std::collections::BTreeSet;

use chrono::NaiveDateTime;

use crate::db::client_applications::ClientApplication;
use crate::db::credentials::Credential;
use crate::db::web_hooks::WebHook;
use crate::rules::expiry::Expiry;
use crate::rules::overlap::Overlap;
use crate::rules::web_hooks::url_for_the_log;
use crate::rules::words::{
    ApiType, AuditAction, DeveloperPermission, ObjectKind, ProductWord, UserLevel,
};

use super::{Event, listing};

/// How a user is named in the log: `Name <e-mail>`.
pub fn user_label(name: &str, email: &str) -> String {
    format!("{name} <{email}>")
}

fn words(set: &BTreeSet<DeveloperPermission>) -> Vec<&'static str> {
    set.iter().map(|p| p.as_str()).collect()
}

fn labels(set: &BTreeSet<DeveloperPermission>) -> Vec<&'static str> {
    set.iter().map(|p| p.label()).collect()
}

impl Event {
    pub fn credential_created(
        id: i32,
        api_type: ApiType,
        description: &str,
        client_application: Option<&ClientApplication>,
        granted: &[String],
    ) -> Event {
        let partner = client_application
            .map(|a| format!(" for {}", a.name))
            .unwrap_or_default();
        // A v3 credential is granted scopes, a Harvest key endpoints.
        let granted_key = if api_type == ApiType::HarvestV3 {
            "scopes_granted"
        } else {
            "endpoints_granted"
        };
        let grants = if granted.is_empty() {
            String::new()
        } else {
            format!(", granted {}", listing(granted))
        };
        Event {
            action: AuditAction::CredentialCreated,
            object: ObjectKind::Credential,
            object_id: Some(id),
            object_label: description.to_owned(),
            summary: format!(
                "Created the {} API key “{description}”{partner}{grants}.",
                api_type.label()
            ),
            details: serde_json::json!({
                "api_type": api_type.as_str(),
                "description": description,
                "client_application": client_application
                    .map(|a| serde_json::json!({ "id": a.id, "name": a.name })),
                (granted_key): granted,
            }),
        }
    }

    pub fn credential_grants_changed(
        credential: &Credential,
        added: &[String],
        removed: &[String],
        granted_count: usize,
    ) -> Event {
        let mut parts = Vec::new();
        if !added.is_empty() {
            parts.push(format!("granted {}", listing(added)));
        }
        if !removed.is_empty() {
            parts.push(format!("removed {}", listing(removed)));
        }
        Event {
            action: AuditAction::CredentialGrantsChanged,
            object: ObjectKind::Credential,
            object_id: Some(credential.id),
            object_label: credential.description.clone(),
            summary: format!(
                "Endpoint grants of “{}”: {}. {granted_count} granted in all.",
                credential.description,
                parts.join("; "),
            ),
            details: serde_json::json!({
                "added": added,
                "removed": removed,
                "granted_count": granted_count,
            }),
        }
    }

    /// A v3 credential's scopes replaced on Manage Scopes.
    pub fn credential_scopes_changed(
        credential: &Credential,
        added: &[String],
        removed: &[String],
        granted_count: usize,
    ) -> Event {
        let mut parts = Vec::new();
        if !added.is_empty() {
            parts.push(format!("granted {}", listing(added)));
        }
        if !removed.is_empty() {
            parts.push(format!("removed {}", listing(removed)));
        }
        Event {
            action: AuditAction::CredentialScopesChanged,
            object: ObjectKind::Credential,
            object_id: Some(credential.id),
            object_label: credential.description.clone(),
            summary: format!(
                "Scopes of “{}”: {}. {granted_count} granted in all.",
                credential.description,
                parts.join("; "),
            ),
            details: serde_json::json!({
                "added": added,
                "removed": removed,
                "granted_count": granted_count,
            }),
        }
    }

    pub fn credential_revoked(credential: &Credential, api_type: ApiType) -> Event {
        Event {
            action: AuditAction::CredentialRevoked,
            object: ObjectKind::Credential,
            object_id: Some(credential.id),
            object_label: credential.description.clone(),
            summary: format!(
                "Revoked the {} API key “{}”.",
                api_type.label(),
                credential.description
            ),
            details: serde_json::json!({
                "api_type": api_type.as_str(),
                "description": credential.description,
            }),
        }
    }

    /// A new secret made current; the old one works until `old_ends_at` (never a secret,
    /// only how long the overlap is).
    pub fn credential_rotated(
        credential: &Credential,
        api_type: ApiType,
        overlap: Overlap,
        old_ends_at: NaiveDateTime,
    ) -> Event {
        let old = match overlap {
            Overlap::Now => "the old secret stopped at once".to_owned(),
            Overlap::Quiet(hours) => format!(
                "the old secret works until it has had no request for {hours} hour{}, and at the latest until {} UTC",
                if hours == 1 { "" } else { "s" },
                old_ends_at.format("%Y-%m-%d %H:%M")
            ),
            _ => format!(
                "the old secret works for {} more, until {} UTC",
                overlap.label(),
                old_ends_at.format("%Y-%m-%d %H:%M")
            ),
        };
        Event {
            action: AuditAction::CredentialRotated,
            object: ObjectKind::Credential,
            object_id: Some(credential.id),
            object_label: credential.description.clone(),
            summary: format!(
                "Rotated the {} API key “{}”: {old}.",
                api_type.label(),
                credential.description
            ),
            details: serde_json::json!({
                "api_type": api_type.as_str(),
                "overlap": overlap.as_str(),
                "old_secret_ends_at": old_ends_at.and_utc().to_rfc3339(),
            }),
        }
    }

    /// The rotated-out secrets still in their overlap (`ended` of them) stopped now.
    pub fn credential_overlap_ended(credential: &Credential, ended: usize) -> Event {
        Event {
            action: AuditAction::CredentialOverlapEnded,
            object: ObjectKind::Credential,
            object_id: Some(credential.id),
            object_label: credential.description.clone(),
            summary: format!(
                "Ended the rotation overlap of “{}”: {ended} old secret{} stopped working.",
                credential.description,
                if ended == 1 { "" } else { "s" }
            ),
            details: serde_json::json!({ "secrets_ended": ended }),
        }
    }

    /// The addresses a credential may be used from, before and after (canonical text;
    /// empty is anywhere).
    pub fn credential_trusted_ips_changed(
        credential: &Credential,
        before: &str,
        after: &str,
    ) -> Event {
        let shown = |text: &str| {
            if text.is_empty() {
                "any address".to_owned()
            } else {
                text.lines().collect::<Vec<_>>().join(", ")
            }
        };
        Event {
            action: AuditAction::CredentialTrustedIpsChanged,
            object: ObjectKind::Credential,
            object_id: Some(credential.id),
            object_label: credential.description.clone(),
            summary: format!(
                "Trusted IPs of “{}”: from {} to {}.",
                credential.description,
                shown(before),
                shown(after)
            ),
            details: serde_json::json!({
                "before": before.lines().collect::<Vec<_>>(),
                "after": after.lines().collect::<Vec<_>>(),
            }),
        }
    }

    pub fn credential_enabled(credential: &Credential, api_type: ApiType) -> Event {
        Event {
            action: AuditAction::CredentialEnabled,
            object: ObjectKind::Credential,
            object_id: Some(credential.id),
            object_label: credential.description.clone(),
            summary: format!(
                "Enabled the revoked {} API key “{}” again.",
                api_type.label(),
                credential.description
            ),
            details: serde_json::json!({
                "api_type": api_type.as_str(),
                "description": credential.description,
            }),
        }
    }

    /// `presets`: the Harvest endpoints it needs; `scopes`: the v3 scopes it asks for.
    pub fn client_application_created(
        id: i32,
        name: &str,
        presets: &[String],
        scopes: &[String],
    ) -> Event {
        let asking = if scopes.is_empty() {
            String::new()
        } else {
            format!(" and asking for the scopes {}", listing(scopes))
        };
        Event {
            action: AuditAction::ClientApplicationCreated,
            object: ObjectKind::ClientApplication,
            object_id: Some(id),
            object_label: name.to_owned(),
            summary: format!(
                "Added the client application “{name}” needing {}{asking}.",
                listing(presets)
            ),
            details: serde_json::json!({ "name": name, "endpoints": presets, "scopes": scopes }),
        }
    }

    pub fn client_application_activated(application: &ClientApplication, active: bool) -> Event {
        let name = &application.name;
        Event {
            action: AuditAction::ClientApplicationChanged,
            object: ObjectKind::ClientApplication,
            object_id: Some(application.id),
            object_label: name.clone(),
            summary: if active {
                format!("Activated the client application “{name}”: its keys work again.")
            } else {
                format!("Deactivated the client application “{name}”: its keys stop working.")
            },
            details: serde_json::json!({
                "active": { "before": application.active, "after": active }
            }),
        }
    }

    pub fn user_created(
        id: i32,
        name: &str,
        email: &str,
        level: UserLevel,
        permissions: &BTreeSet<DeveloperPermission>,
    ) -> Event {
        let label = user_label(name, email);
        Event {
            action: AuditAction::UserCreated,
            object: ObjectKind::User,
            object_id: Some(id),
            object_label: label.clone(),
            summary: format!(
                "Added {label} as {} with developer permissions: {}.",
                level.label(),
                listing(&labels(permissions))
            ),
            details: serde_json::json!({
                "email": email,
                "name": name,
                "level": level.as_str(),
                "permissions": words(permissions),
            }),
        }
    }

    pub fn user_level_changed(id: i32, label: &str, before: UserLevel, after: UserLevel) -> Event {
        Event {
            action: AuditAction::UserLevelChanged,
            object: ObjectKind::User,
            object_id: Some(id),
            object_label: label.to_owned(),
            summary: format!(
                "Changed the level of {label} from {} to {}.",
                before.label(),
                after.label()
            ),
            details: serde_json::json!({
                "before": before.as_str(),
                "after": after.as_str(),
            }),
        }
    }

    pub fn user_permissions_changed(
        id: i32,
        label: &str,
        before: &BTreeSet<DeveloperPermission>,
        after: &BTreeSet<DeveloperPermission>,
    ) -> Event {
        let added: BTreeSet<_> = after.difference(before).copied().collect();
        let removed: BTreeSet<_> = before.difference(after).copied().collect();
        let mut parts = Vec::new();
        if !added.is_empty() {
            parts.push(format!("granted {}", listing(&labels(&added))));
        }
        if !removed.is_empty() {
            parts.push(format!("removed {}", listing(&labels(&removed))));
        }
        Event {
            action: AuditAction::UserPermissionsChanged,
            object: ObjectKind::User,
            object_id: Some(id),
            object_label: label.to_owned(),
            summary: format!("Developer permissions of {label}: {}.", parts.join("; ")),
            details: serde_json::json!({
                "before": words(before),
                "after": words(after),
                "added": words(&added),
                "removed": words(&removed),
            }),
        }
    }

    /// A user disabled (and signed out of `sessions_ended` sessions) or enabled again.
    pub fn user_disabled_or_enabled(
        id: i32,
        label: &str,
        disabled: bool,
        sessions_ended: usize,
    ) -> Event {
        let (action, summary) = if disabled {
            (
                AuditAction::UserDisabled,
                format!(
                    "Disabled {label} and signed them out everywhere ({sessions_ended} session{} ended).",
                    if sessions_ended == 1 { "" } else { "s" }
                ),
            )
        } else {
            (
                AuditAction::UserEnabled,
                format!("Enabled {label}; they can sign in again."),
            )
        };
        Event {
            action,
            object: ObjectKind::User,
            object_id: Some(id),
            object_label: label.to_owned(),
            summary,
            details: serde_json::json!({
                "disabled": disabled,
                "sessions_ended": sessions_ended,
            }),
        }
    }

    /// Sign-in attempts for an account typed as `shown` were throttled.
    pub fn sign_in_throttled(
        user_id: Option<i32>,
        shown: &str,
        failures: u32,
        address: Option<&str>,
    ) -> Event {
        Event {
            action: AuditAction::SignInThrottled,
            object: ObjectKind::User,
            object_id: user_id,
            object_label: shown.to_owned(),
            summary: format!(
                "Throttled sign-in for “{shown}” after {failures} failed attempts from {}.",
                address.unwrap_or("an unknown address")
            ),
            details: serde_json::json!({
                "email": shown,
                "failures": failures,
                "known_user": user_id.is_some(),
            }),
        }
    }

    /// A person authorized a partner integration (OAuth consent).
    pub fn integration_connected(
        id: i32,
        partner: &str,
        service_account: bool,
        scopes: &[String],
    ) -> Event {
        let acting = if service_account {
            "as the organization's service account"
        } else {
            "as the person who authorized it"
        };
        Event {
            action: AuditAction::IntegrationConnected,
            object: ObjectKind::Integration,
            object_id: Some(id),
            object_label: partner.to_owned(),
            summary: format!(
                "Connected “{partner}”, acting {acting}, with the scopes {}.",
                listing(scopes)
            ),
            details: serde_json::json!({
                "partner": partner,
                "service_account": service_account,
                "scopes": scopes,
            }),
        }
    }

    /// An integration ended: every token of it stops.
    pub fn integration_disconnected(id: i32, partner: &str, why: &str) -> Event {
        Event {
            action: AuditAction::IntegrationDisconnected,
            object: ObjectKind::Integration,
            object_id: Some(id),
            object_label: partner.to_owned(),
            summary: format!("Disconnected “{partner}” ({why}): its tokens no longer work."),
            details: serde_json::json!({ "partner": partner, "reason": why }),
        }
    }

    /// A family of an integration's tokens revoked because a code or refresh token came
    /// back a second time.
    pub fn integration_tokens_revoked(id: i32, why: &str) -> Event {
        Event {
            action: AuditAction::IntegrationTokensRevoked,
            object: ObjectKind::Integration,
            object_id: Some(id),
            object_label: format!("Integration {id}"),
            summary: format!(
                "Revoked the tokens of integration {id}: {why}, so it may have been copied."
            ),
            details: serde_json::json!({ "reason": why }),
        }
    }

    /// A credential's expiry changed, before and after (`None`: never).
    pub fn credential_expiry_changed(
        credential: &Credential,
        before: Option<NaiveDateTime>,
        after: Option<NaiveDateTime>,
    ) -> Event {
        let day = |end: Option<NaiveDateTime>| {
            end.map(|end| Expiry::last_day(end).format("%Y-%m-%d").to_string())
        };
        let said = |end: Option<NaiveDateTime>| {
            day(end).map_or_else(|| "never".to_owned(), |d| format!("on {d} (UTC)"))
        };
        Event {
            action: AuditAction::CredentialExpiryChanged,
            object: ObjectKind::Credential,
            object_id: Some(credential.id),
            object_label: credential.description.clone(),
            summary: format!(
                "Changed when “{}” expires: {} → {}.",
                credential.description,
                said(before),
                said(after)
            ),
            details: serde_json::json!({
                "expires_on": { "before": day(before), "after": day(after) },
            }),
        }
    }

    /// The organization's longest credential lifetime changed (`None`: no limit).
    pub fn dev_center_settings_changed(before: Option<i32>, after: Option<i32>) -> Event {
        let said =
            |days: Option<i32>| days.map_or_else(|| "no limit".to_owned(), |d| format!("{d} days"));
        Event {
            action: AuditAction::DevCenterSettingsChanged,
            object: ObjectKind::DevCenterSettings,
            object_id: None,
            object_label: "Dev Center settings".to_owned(),
            summary: format!(
                "Changed the longest a credential may live: {} → {}.",
                said(before),
                said(after)
            ),
            details: serde_json::json!({
                "max_lifetime_days": { "before": before, "after": after },
            }),
        }
    }

    /// A client application became an OAuth client: its client ID (public) is named, its
    /// secret never.
    pub fn client_application_oauth_client_created(
        application: &ClientApplication,
        credential_id: i32,
        client_id: &str,
    ) -> Event {
        let name = &application.name;
        Event {
            action: AuditAction::ClientApplicationOauthChanged,
            object: ObjectKind::ClientApplication,
            object_id: Some(application.id),
            object_label: name.clone(),
            summary: format!(
                "Created the OAuth client of “{name}” (client ID {client_id}); its client secret was shown once."
            ),
            details: serde_json::json!({
                "oauth_client": { "credential_id": credential_id, "client_id": client_id }
            }),
        }
    }

    /// A client application's redirect URIs or requested scopes changed: `None` for the
    /// part that did not change, else (before, after).
    pub fn client_application_oauth_changed(
        application: &ClientApplication,
        redirect_uris: Option<(&[String], &[String])>,
        scopes: Option<(&[String], &[String])>,
    ) -> Event {
        let name = &application.name;
        let mut parts = Vec::new();
        let mut details = serde_json::Map::new();
        if let Some((before, after)) = redirect_uris {
            parts.push(format!(
                "redirect URIs from {} to {}",
                listing(before),
                listing(after)
            ));
            details.insert(
                "redirect_uris".into(),
                serde_json::json!({ "before": before, "after": after }),
            );
        }
        if let Some((before, after)) = scopes {
            parts.push(format!(
                "scopes asked for from {} to {}",
                listing(before),
                listing(after)
            ));
            details.insert(
                "scopes".into(),
                serde_json::json!({ "before": before, "after": after }),
            );
        }
        Event {
            action: AuditAction::ClientApplicationOauthChanged,
            object: ObjectKind::ClientApplication,
            object_id: Some(application.id),
            object_label: name.clone(),
            summary: format!("Changed “{name}”: {}.", parts.join("; ")),
            details: serde_json::Value::Object(details),
        }
    }

    /// A quiet-driven overlap ended by itself: the old secret had no request for its
    /// quiet hours (or reached the 7-day cap).
    pub fn credential_overlap_went_quiet(
        credential: &Credential,
        quiet_hours: u32,
        ended_at: NaiveDateTime,
    ) -> Event {
        Event {
            action: AuditAction::CredentialOverlapEnded,
            object: ObjectKind::Credential,
            object_id: Some(credential.id),
            object_label: credential.description.clone(),
            summary: format!(
                "The old secret of “{}” stopped at {} UTC: it had no request for {quiet_hours} hour{}, or its overlap reached 7 days.",
                credential.description,
                ended_at.format("%Y-%m-%d %H:%M"),
                if quiet_hours == 1 { "" } else { "s" }
            ),
            details: serde_json::json!({
                "quiet_hours": quiet_hours,
                "ended_at": ended_at.and_utc().to_rfc3339(),
            }),
        }
    }

    /// A web hook added (its secret key never named).
    pub fn web_hook_created(id: i32, name: &str, url: &str, events: &[&str]) -> Event {
        let url = url_for_the_log(url);
        Event {
            action: AuditAction::WebHookCreated,
            object: ObjectKind::WebHook,
            object_id: Some(id),
            object_label: name.to_owned(),
            summary: format!(
                "Added the web hook “{name}” to {url}, sending {}.",
                listing(events)
            ),
            details: serde_json::json!({ "name": name, "url": url, "events": events }),
        }
    }

    /// A web hook's name, URL, events or secret key changed (`None` when nothing did).
    /// The secret key is only said to have changed.
    pub fn web_hook_changed(
        before: &WebHook,
        (name, url): (&str, &str),
        (events_before, events_after): (&[&str], &[&str]),
        secret_key_changed: bool,
    ) -> Option<Event> {
        let mut parts = Vec::new();
        let mut details = serde_json::Map::new();
        if before.name != name {
            parts.push(format!("name from “{}” to “{name}”", before.name));
            details.insert(
                "name".into(),
                serde_json::json!({ "before": before.name, "after": name }),
            );
        }
        if before.url != url {
            let (before, after) = (url_for_the_log(&before.url), url_for_the_log(url));
            parts.push(format!("URL from {before} to {after}"));
            details.insert(
                "url".into(),
                serde_json::json!({ "before": before, "after": after }),
            );
        }
        if events_before != events_after {
            parts.push(format!(
                "events from {} to {}",
                listing(events_before),
                listing(events_after)
            ));
            details.insert(
                "events".into(),
                serde_json::json!({ "before": events_before, "after": events_after }),
            );
        }
        if secret_key_changed {
            parts.push("a new secret key".to_owned());
            details.insert("secret_key_changed".into(), serde_json::json!(true));
        }
        (!parts.is_empty()).then(|| Event {
            action: AuditAction::WebHookChanged,
            object: ObjectKind::WebHook,
            object_id: Some(before.id),
            object_label: name.to_owned(),
            summary: format!("Changed the web hook “{name}”: {}.", parts.join("; ")),
            details: serde_json::Value::Object(details),
        })
    }

    pub fn web_hook_enabled(hook: &WebHook, enabled: bool) -> Event {
        Event {
            action: AuditAction::WebHookChanged,
            object: ObjectKind::WebHook,
            object_id: Some(hook.id),
            object_label: hook.name.clone(),
            summary: if enabled {
                format!(
                    "Enabled the web hook “{}”: events are sent again.",
                    hook.name
                )
            } else {
                format!(
                    "Disabled the web hook “{}”: no events are sent until it is enabled.",
                    hook.name
                )
            },
            details: serde_json::json!({ "enabled": enabled }),
        }
    }

    /// A credential expires within 7 days (written once per expiry date).
    pub fn credential_expiring(credential: &Credential) -> Event {
        let day = credential
            .expires_at
            .map(|end| Expiry::last_day(end).format("%Y-%m-%d").to_string());
        Event {
            action: AuditAction::CredentialExpiring,
            object: ObjectKind::Credential,
            object_id: Some(credential.id),
            object_label: credential.description.clone(),
            summary: format!(
                "“{}” expires soon: it works through {} (UTC).",
                credential.description,
                day.as_deref().unwrap_or("its last day")
            ),
            details: serde_json::json!({
                "expires_on": day,
                "expires_at": credential.expires_at.map(|at| at.and_utc().to_rfc3339()),
            }),
        }
    }

    /// A credential reached its expiry date and no longer works.
    pub fn credential_expired(credential: &Credential) -> Event {
        let day = credential
            .expires_at
            .map(|end| Expiry::last_day(end).format("%Y-%m-%d").to_string());
        Event {
            action: AuditAction::CredentialExpired,
            object: ObjectKind::Credential,
            object_id: Some(credential.id),
            object_label: credential.description.clone(),
            summary: format!(
                "“{}” expired: its last day was {} (UTC), and it no longer works.",
                credential.description,
                day.as_deref().unwrap_or("unknown")
            ),
            details: serde_json::json!({
                "expires_on": day,
                "expired_at": credential.expires_at.map(|at| at.and_utc().to_rfc3339()),
            }),
        }
    }
}
