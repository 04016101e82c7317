//! Credentials: creating keys (shown once), listing them, granting Harvest endpoints and
//! revoking. Each use case checks access first and writes in one immediate transaction.

use std::collections::BTreeSet;

use crate::db::catalogue::Endpoint;
use crate::db::client_applications::ClientApplication;
use crate::db::credentials::{Credential, CredentialListing, NewCredential};
use crate::db::request_log::{self, LoggedRequest, StatusClass};
use crate::db::{self, Conn, usage};

use crate::gate::live_keys::LiveKeys;
use crate::rules::access::{Action, Viewer};
use crate::rules::keys::ApiKey;
use crate::rules::paging::Paged;
use crate::rules::text::{FieldError, FieldErrors, parse_label};
use crate::rules::words::{ApiType, ProductWord};

use super::Failure;
use super::audit::{self, Actor, AuditAction, Event, ObjectKind};
use super::catalogue::{self, ResourceGroup};

/// The Create New Credential form as submitted.
#[derive(Debug, Clone, Default)]
pub struct CredentialRequest {
    pub api_type: String,
    pub client_application_id: String,
    pub description: String,
}

/// A key just made: the only moment its plain text exists.
#[derive(Debug)]
pub struct CreatedCredential {
    pub id: i32,
    pub api_type: ApiType,
    pub key: ApiKey,
}

/// Creates a key of the requested type for the viewer, with a listed partner's preset
/// endpoints granted to a Harvest key in the same transaction.
pub fn create(
    conn: &mut Conn,
    keys: &LiveKeys,
    viewer: &Viewer,
    request: &CredentialRequest,
) -> Result<CreatedCredential, Failure> {
    let mut errors = FieldErrors::default();
    let Some(api_type) = ApiType::parse(request.api_type.trim()) else {
        errors.add(
            "api_type",
            "Choose an API type: Harvest, Job Board or Partner.",
        );
        if let Err(e) = parse_label("description", "description", &request.description) {
            errors.add(e.field, e.message);
        }
        return Err(errors.into());
    };
    viewer.require(Action::CreateCredential(api_type))?;
    let description = match parse_label("description", "description", &request.description) {
        Ok(description) => Some(description),
        Err(e) => {
            errors.add(e.field, e.message);
            None
        }
    };
    let client_application = match api_type {
        ApiType::JobBoard => None,
        ApiType::Harvest | ApiType::Partner => {
            match chosen_client_application(conn, &request.client_application_id)? {
                Ok(None) if api_type == ApiType::Partner => {
                    errors.add(
                        "client_application_id",
                        "A Partner key needs a client application: choose one.",
                    );
                    None
                }
                Ok(chosen) => chosen,
                Err(message) => {
                    errors.add("client_application_id", message);
                    None
                }
            }
        }
    };
    errors.into_result()?;
    let description = description.unwrap_or_default();

    let key = ApiKey::generate(api_type);
    let id = conn.immediate_transaction(|conn| -> Result<i32, Failure> {
        let id = Credential::insert(
            conn,
            &NewCredential {
                description: &description,
                api_type: api_type.as_str(),
                client_application_id: client_application.as_ref().map(|c| c.id),
                key_hash: &key.hash().0,
                key_prefix: key.prefix(),
                key_last4: key.last4(),
                created_by: viewer.id,
                created_at: db::now(),
            },
        )?;
        let mut granted = Vec::new();
        if let (ApiType::Harvest, Some(partner)) = (api_type, &client_application) {
            let presets = ClientApplication::preset_endpoint_ids(conn, partner.id)?;
            Credential::replace_grants(conn, id, &presets)?;
            granted = Endpoint::identifiers_of(conn, &presets)?;
        }
        let partner = client_application
            .as_ref()
            .map(|a| format!(" for {}", a.name))
            .unwrap_or_default();
        let grants = if granted.is_empty() {
            String::new()
        } else {
            format!(", granted {}", audit::listing(&granted))
        };
        audit::record(
            conn,
            &Actor::Person(viewer),
            &Event {
                action: AuditAction::CredentialCreated,
                object: ObjectKind::Credential,
                object_id: Some(id),
                object_label: description.clone(),
                summary: format!(
                    "Created the {} API key “{description}”{partner}{grants}.",
                    api_type.label()
                ),
                details: serde_json::json!({
                    "api_type": api_type.as_str(),
                    "description": description,
                    "client_application": client_application
                        .as_ref()
                        .map(|a| serde_json::json!({ "id": a.id, "name": a.name })),
                    "endpoints_granted": granted,
                }),
            },
        )?;
        Ok(id)
    })?;
    keys.after_commit(conn, &[id]);
    Ok(CreatedCredential { id, api_type, key })
}

/// The client application a form chose: `Ok(None)` when none was chosen, `Err` with a
/// message when the choice is not an active client application.
fn chosen_client_application(
    conn: &mut Conn,
    raw: &str,
) -> Result<Result<Option<ClientApplication>, &'static str>, Failure> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(Ok(None));
    }
    let refused = "Choose a client application from the list.";
    let Ok(id) = raw.parse::<i32>() else {
        return Ok(Err(refused));
    };
    Ok(match ClientApplication::find(conn, id)? {
        Some(app) if app.active => Ok(Some(app)),
        _ => Err(refused),
    })
}

/// The viewer's page of API Credential Management: the keys of the types they manage.
pub fn list(
    conn: &mut Conn,
    viewer: &Viewer,
    page: i64,
) -> Result<Paged<CredentialListing>, Failure> {
    viewer.require(Action::OpenDevCenter)?;
    let types: Vec<&str> = viewer
        .manageable_api_types()
        .into_iter()
        .map(ApiType::as_str)
        .collect();
    let total = Credential::count_of_types(conn, &types)?;
    let (page, pages) = Paged::<CredentialListing>::clamp(page, total);
    let items = Credential::list_of_types(
        conn,
        &types,
        Paged::<CredentialListing>::PER_PAGE,
        (page - 1) * Paged::<CredentialListing>::PER_PAGE,
    )?;
    Ok(Paged {
        items,
        page,
        pages,
        total,
    })
}

/// A key the viewer may manage, by id. A key of a type the viewer may not manage is not
/// found, like a missing one, so its id tells nothing.
pub fn find(conn: &mut Conn, viewer: &Viewer, id: i32) -> Result<(Credential, ApiType), Failure> {
    viewer.require(Action::OpenDevCenter)?;
    let credential = Credential::find(conn, id)?.ok_or(Failure::NotFound("API key"))?;
    let api_type = stored_api_type(&credential)?;
    if !viewer.may(Action::ManageCredential(api_type)) {
        return Err(Failure::NotFound("API key"));
    }
    Ok((credential, api_type))
}

/// A credential's request log at the gate: one page, newest first, optionally of one
/// status class.
pub fn request_log(
    conn: &mut Conn,
    viewer: &Viewer,
    id: i32,
    class: Option<StatusClass>,
    requested_page: i64,
) -> Result<(Credential, Paged<LoggedRequest>), Failure> {
    let (credential, _) = find(conn, viewer, id)?;
    let total = request_log::count(conn, id, class)?;
    let (page, pages) = Paged::<LoggedRequest>::clamp(requested_page, total);
    let per_page = Paged::<LoggedRequest>::PER_PAGE;
    let items = request_log::newest(conn, id, class, (page - 1) * per_page, per_page)?;
    Ok((
        credential,
        Paged {
            items,
            page,
            pages,
            total,
        },
    ))
}

fn stored_api_type(credential: &Credential) -> Result<ApiType, Failure> {
    ApiType::parse(&credential.api_type).ok_or(Failure::NotFound("API key"))
}

/// What Manage API Key Permissions shows: the key, the catalogue by resource, its grants.
pub struct Grants {
    pub credential: Credential,
    pub client_application: Option<ClientApplication>,
    pub groups: Vec<ResourceGroup>,
    pub granted: BTreeSet<i32>,
    /// Requests per endpoint in the last 30 days.
    pub usage: std::collections::HashMap<i32, i64>,
}

pub fn grants(conn: &mut Conn, viewer: &Viewer, id: i32) -> Result<Grants, Failure> {
    viewer.require(Action::ManageEndpointGrants)?;
    let credential = harvest_key(conn, id)?;
    let client_application = match credential.client_application_id {
        Some(app) => ClientApplication::find(conn, app)?,
        None => None,
    };
    let since = chrono::Utc::now().date_naive() - chrono::Days::new(29);
    Ok(Grants {
        usage: usage::per_endpoint_since(conn, id, since)?,
        granted: Credential::granted_endpoint_ids(conn, id)?
            .into_iter()
            .collect(),
        groups: catalogue::group_by_resource(Endpoint::all(conn)?),
        client_application,
        credential,
    })
}

fn harvest_key(conn: &mut Conn, id: i32) -> Result<Credential, Failure> {
    Credential::find(conn, id)?
        .filter(|c| c.api_type == ApiType::Harvest.as_str())
        .ok_or(Failure::NotFound("Harvest API key"))
}

/// Makes exactly `identifiers` the Harvest key's grants; returns how many are granted.
pub fn replace_grants(
    conn: &mut Conn,
    keys: &LiveKeys,
    viewer: &Viewer,
    id: i32,
    identifiers: &[String],
) -> Result<usize, Failure> {
    viewer.require(Action::ManageEndpointGrants)?;
    conn.immediate_transaction(|conn| {
        let credential = harvest_key(conn, id)?;
        if credential.revoked_at.is_some() {
            return Err(FieldError::new(
                "endpoints",
                "This key is revoked; its permissions can no longer change.",
            )
            .into());
        }
        let endpoint_ids = catalogue::resolve(conn, identifiers)?;
        let before: BTreeSet<i32> = Credential::granted_endpoint_ids(conn, id)?
            .into_iter()
            .collect();
        let after: BTreeSet<i32> = endpoint_ids.iter().copied().collect();
        Credential::replace_grants(conn, id, &endpoint_ids)?;
        let added: Vec<i32> = after.difference(&before).copied().collect();
        let removed: Vec<i32> = before.difference(&after).copied().collect();
        if !added.is_empty() || !removed.is_empty() {
            let added = Endpoint::identifiers_of(conn, &added)?;
            let removed = Endpoint::identifiers_of(conn, &removed)?;
            let mut parts = Vec::new();
            if !added.is_empty() {
                parts.push(format!("granted {}", audit::listing(&added)));
            }
            if !removed.is_empty() {
                parts.push(format!("removed {}", audit::listing(&removed)));
            }
            audit::record(
                conn,
                &Actor::Person(viewer),
                &Event {
                    action: AuditAction::CredentialGrantsChanged,
                    object: ObjectKind::Credential,
                    object_id: Some(id),
                    object_label: credential.description.clone(),
                    summary: format!(
                        "Endpoint grants of “{}”: {}. {} granted in all.",
                        credential.description,
                        parts.join("; "),
                        after.len()
                    ),
                    details: serde_json::json!({
                        "added": added,
                        "removed": removed,
                        "granted_count": after.len(),
                    }),
                },
            )?;
        }
        Ok(endpoint_ids.len())
    })
    .inspect(|_| keys.after_commit(conn, &[id]))
}

/// Revokes a key; it stops working at once. Revoking a revoked key changes nothing.
pub fn revoke(
    conn: &mut Conn,
    keys: &LiveKeys,
    viewer: &Viewer,
    id: i32,
) -> Result<Credential, Failure> {
    let credential = conn.immediate_transaction(|conn| {
        let (credential, api_type) = find(conn, viewer, id)?;
        if Credential::revoke(conn, id, viewer.id, db::now())? {
            audit::record(
                conn,
                &Actor::Person(viewer),
                &Event {
                    action: AuditAction::CredentialRevoked,
                    object: ObjectKind::Credential,
                    object_id: Some(id),
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
                },
            )?;
        }
        Ok::<_, Failure>(credential)
    })?;
    keys.after_commit(conn, &[id]);
    Ok(credential)
}
