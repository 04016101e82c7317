//! Client applications (partner integrations) and the Harvest endpoints each one needs.

use std::collections::BTreeMap;

use crate::db::catalogue::Endpoint;
use crate::db::client_applications::ClientApplication;
use crate::db::credentials::Credential;
use crate::db::{self, Conn};

use crate::gate::live_keys::LiveKeys;
use crate::rules::access::{Action, Viewer};
use crate::rules::text::{FieldError, FieldErrors, parse_label, skeleton};

use super::Failure;
use super::audit::{self, Actor, AuditAction, Event, ObjectKind};
use super::catalogue::{self, ResourceGroup};

/// A client application with its preset endpoints.
pub struct Listed {
    pub application: ClientApplication,
    pub presets: Vec<Endpoint>,
}

/// Every client application, and the catalogue for the picker.
pub fn list(
    conn: &mut Conn,
    viewer: &Viewer,
) -> Result<(Vec<Listed>, Vec<ResourceGroup>), Failure> {
    viewer.require(Action::ManageClientApplications)?;
    let endpoints = Endpoint::all(conn)?;
    let by_id: BTreeMap<i32, &Endpoint> = endpoints.iter().map(|e| (e.id, e)).collect();
    let mut presets: BTreeMap<i32, Vec<Endpoint>> = BTreeMap::new();
    for (app, endpoint) in ClientApplication::all_presets(conn)? {
        if let Some(endpoint) = by_id.get(&endpoint) {
            presets.entry(app).or_default().push((*endpoint).clone());
        }
    }
    let listed = ClientApplication::all(conn)?
        .into_iter()
        .map(|application| Listed {
            presets: presets.remove(&application.id).unwrap_or_default(),
            application,
        })
        .collect();
    Ok((listed, catalogue::group_by_resource(endpoints)))
}

/// The active client applications a key can be made for.
pub fn choices(conn: &mut Conn) -> Result<Vec<ClientApplication>, Failure> {
    Ok(ClientApplication::all(conn)?
        .into_iter()
        .filter(|a| a.active)
        .collect())
}

/// Adds a client application with its preset endpoints.
pub fn create(
    conn: &mut Conn,
    viewer: &Viewer,
    name: &str,
    identifiers: &[String],
) -> Result<i32, Failure> {
    viewer.require(Action::ManageClientApplications)?;
    conn.immediate_transaction(|conn| {
        let mut errors = FieldErrors::default();
        let name = match parse_label("name", "name", name) {
            Ok(name) => Some(name),
            Err(e) => {
                errors.add(e.field, e.message);
                None
            }
        };
        if let Some(name) = &name {
            let looks_alike = skeleton(name);
            let existing = ClientApplication::all(conn)?;
            if existing.iter().any(|a| &a.name == name) {
                errors.add(
                    "name",
                    "A client application with this name already exists.",
                );
            } else if let Some(twin) = existing.iter().find(|a| skeleton(&a.name) == looks_alike) {
                errors.add(
                    "name",
                    format!(
                        "This name can be mistaken for the client application “{}”. Choose a name that reads differently.",
                        twin.name
                    ),
                );
            }
        }
        let endpoint_ids = match catalogue::resolve(conn, identifiers) {
            Ok(ids) => ids,
            Err(Failure::Invalid(refused)) => {
                if let Some(message) = refused.get("endpoints") {
                    errors.add("endpoints", message.to_owned());
                }
                Vec::new()
            }
            Err(other) => return Err(other),
        };
        errors.into_result()?;
        let name = name.ok_or_else(|| FieldError::new("name", "Enter a name."))?;
        let id = ClientApplication::insert(conn, &name, viewer.id, db::now())?;
        ClientApplication::set_presets(conn, id, &endpoint_ids)?;
        let presets = Endpoint::identifiers_of(conn, &endpoint_ids)?;
        audit::record(
            conn,
            &Actor::Person(viewer),
            &Event {
                action: AuditAction::ClientApplicationCreated,
                object: ObjectKind::ClientApplication,
                object_id: Some(id),
                object_label: name.clone(),
                summary: format!(
                    "Added the client application “{name}” needing {}.",
                    audit::listing(&presets)
                ),
                details: serde_json::json!({ "name": name, "endpoints": presets }),
            },
        )?;
        Ok(id)
    })
}

/// Activates or deactivates a client application. Its keys (Partner keys, and Harvest keys
/// made for it) stop working at the gate (or work again) with the very next request.
pub fn set_active(
    conn: &mut Conn,
    keys: &LiveKeys,
    viewer: &Viewer,
    id: i32,
    active: bool,
) -> Result<ClientApplication, Failure> {
    viewer.require(Action::ManageClientApplications)?;
    let (application, credentials) = conn.immediate_transaction(|conn| {
        let application = ClientApplication::find(conn, id)?
            .ok_or(Failure::NotFound("Client application"))?;
        if application.active != active {
            ClientApplication::set_active(conn, id, active)?;
            let name = &application.name;
            audit::record(
                conn,
                &Actor::Person(viewer),
                &Event {
                    action: AuditAction::ClientApplicationChanged,
                    object: ObjectKind::ClientApplication,
                    object_id: Some(id),
                    object_label: name.clone(),
                    summary: if active {
                        format!("Activated the client application “{name}”: its keys work again.")
                    } else {
                        format!("Deactivated the client application “{name}”: its keys stop working.")
                    },
                    details: serde_json::json!({ "active": { "before": application.active, "after": active } }),
                },
            )?;
        }
        Ok::<_, Failure>((application, Credential::ids_for_client_application(conn, id)?))
    })?;
    keys.after_commit(conn, &credentials);
    Ok(ClientApplication {
        active,
        ..application
    })
}
