//! Client applications (partner integrations), the Harvest endpoints each one needs and the
//! v3 scopes each one asks for.

use std::collections::BTreeMap;

use crate::db::catalogue::Endpoint;
use crate::db::client_applications::ClientApplication;
use crate::db::credentials::Credential;
use crate::db::{self, Conn};

use crate::rules::access::{Action, Viewer};
use crate::rules::endpoints::EndpointIdentifier;
use crate::rules::text::{FieldErrors, Label, skeleton};

use super::audit::{self, Actor, Event};
use super::catalogue::{self, ResourceGroup, ScopeGroup};
use super::{Committed, Failure, write};

/// A client application with its preset endpoints and scopes.
pub struct Listed {
    pub application: ClientApplication,
    pub presets: Vec<Endpoint>,
    pub scopes: Vec<String>,
}

/// The Client Applications page: every client application, and the catalogues for the
/// pickers.
pub struct ClientApplications {
    pub listed: Vec<Listed>,
    /// The v1/v2 endpoints by resource.
    pub endpoints: Vec<ResourceGroup>,
    /// The v3 scopes by resource.
    pub scopes: Vec<ScopeGroup>,
}

/// Every client application, and the catalogues for the pickers.
pub fn list(conn: &mut Conn, viewer: &Viewer) -> Result<ClientApplications, Failure> {
    viewer.require(Action::ManageClientApplications)?;
    let endpoints = Endpoint::harvest(conn)?;
    let by_id: BTreeMap<i32, &Endpoint> = endpoints.iter().map(|e| (e.id, e)).collect();
    let mut presets: BTreeMap<i32, Vec<Endpoint>> = BTreeMap::new();
    for (app, endpoint) in ClientApplication::all_presets(conn)? {
        if let Some(endpoint) = by_id.get(&endpoint) {
            presets.entry(app).or_default().push((*endpoint).clone());
        }
    }
    let mut scopes: BTreeMap<i32, Vec<String>> = BTreeMap::new();
    for (app, scope) in ClientApplication::all_preset_scopes(conn)? {
        scopes.entry(app).or_default().push(scope);
    }
    let listed = ClientApplication::all(conn)?
        .into_iter()
        .map(|application| Listed {
            presets: presets.remove(&application.id).unwrap_or_default(),
            scopes: scopes.remove(&application.id).unwrap_or_default(),
            application,
        })
        .collect();
    Ok(ClientApplications {
        listed,
        endpoints: catalogue::group_by_resource(endpoints),
        scopes: catalogue::group_by_scope(Endpoint::v3(conn)?),
    })
}

/// The active client applications a key can be made for.
pub fn choices(conn: &mut Conn) -> Result<Vec<ClientApplication>, Failure> {
    Ok(ClientApplication::all(conn)?
        .into_iter()
        .filter(|a| a.active)
        .collect())
}

/// Adds a client application with its preset endpoints and the scopes it asks for.
pub fn create(
    conn: &mut Conn,
    viewer: &Viewer,
    name: &Label,
    identifiers: &[EndpointIdentifier],
    scopes: &[String],
) -> Result<Committed<i32>, Failure> {
    viewer.require(Action::ManageClientApplications)?;
    write(conn, |conn, _| {
        let mut errors = FieldErrors::default();
        let looks_alike = skeleton(name.as_str());
        let existing = ClientApplication::all(conn)?;
        if existing.iter().any(|a| a.name == name.as_str()) {
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
        let scopes = match catalogue::resolve_scopes(conn, scopes) {
            Ok(scopes) => scopes,
            Err(Failure::Invalid(refused)) => {
                if let Some(message) = refused.get("scopes") {
                    errors.add("scopes", message.to_owned());
                }
                Vec::new()
            }
            Err(other) => return Err(other),
        };
        errors.into_result()?;
        let id = ClientApplication::insert(conn, name.as_str(), viewer.id, db::now())?;
        ClientApplication::set_presets(conn, id, &endpoint_ids)?;
        ClientApplication::set_scopes(conn, id, &scopes)?;
        let presets = Endpoint::identifiers_of(conn, &endpoint_ids)?;
        audit::record(
            conn,
            &Actor::Person(viewer),
            &Event::client_application_created(id, name.as_str(), &presets, &scopes),
        )?;
        Ok(id)
    })
}

/// Activates or deactivates a client application. Its keys (Partner keys, and Harvest keys
/// made for it) stop working at the gate (or work again) with the very next request.
pub fn set_active(
    conn: &mut Conn,
    viewer: &Viewer,
    id: i32,
    active: bool,
) -> Result<Committed<ClientApplication>, Failure> {
    viewer.require(Action::ManageClientApplications)?;
    write(conn, |conn, changes| {
        let application =
            ClientApplication::find(conn, id)?.ok_or(Failure::NotFound("Client application"))?;
        if application.active != active {
            ClientApplication::set_active(conn, id, active)?;
            audit::record(
                conn,
                &Actor::Person(viewer),
                &Event::client_application_activated(&application, active),
            )?;
        }
        changes
            .credentials
            .extend(Credential::ids_for_client_application(conn, id)?);
        Ok(ClientApplication {
            active,
            ..application
        })
    })
}
