//! Client applications (partner integrations), the Harvest endpoints each one needs and the
//! v3 scopes each one asks for.

use std::collections::{BTreeMap, BTreeSet};

use crate::db::catalogue::Endpoint;
use crate::db::client_applications::ClientApplication;
use crate::db::credentials::{Credential, CredentialSecret, NewCredential};
use crate::db::{self, Conn};

use crate::rules::access::{Action, Viewer};
use crate::rules::endpoints::EndpointIdentifier;
use crate::rules::keys::{ApiKey, ClientId};
use crate::rules::redirect_uris::RedirectUris;
use crate::rules::text::{FieldError, FieldErrors, Label, skeleton};
use crate::rules::words::ApiType;

use super::audit::{self, Actor, Event};
use super::catalogue::{self, ResourceGroup, ScopeGroup};
use super::credentials::{CreatedCredential, new_secret};
use super::{Committed, Failure, write};

/// A client application with its preset endpoints and scopes.
pub struct Listed {
    pub application: ClientApplication,
    pub presets: Vec<Endpoint>,
    pub scopes: Vec<String>,
    /// Its OAuth client (a credential of type `oauth_client`), once made.
    pub oauth_client: Option<Credential>,
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
    let mut listed = Vec::new();
    for application in ClientApplication::all(conn)? {
        listed.push(Listed {
            presets: presets.remove(&application.id).unwrap_or_default(),
            scopes: scopes.remove(&application.id).unwrap_or_default(),
            oauth_client: Credential::oauth_client_of(conn, application.id)?,
            application,
        });
    }
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

/// The edit form of one client application: its redirect URIs, the scopes it asks for,
/// and the scope catalogue.
pub struct Editing {
    pub application: ClientApplication,
    pub scopes: Vec<String>,
    pub catalogue: Vec<ScopeGroup>,
    pub oauth_client: Option<Credential>,
}

pub fn editing(conn: &mut Conn, viewer: &Viewer, id: i32) -> Result<Editing, Failure> {
    viewer.require(Action::ManageClientApplications)?;
    let application =
        ClientApplication::find(conn, id)?.ok_or(Failure::NotFound("Client application"))?;
    Ok(Editing {
        scopes: ClientApplication::preset_scopes(conn, id)?,
        catalogue: catalogue::group_by_scope(Endpoint::v3(conn)?),
        oauth_client: Credential::oauth_client_of(conn, id)?,
        application,
    })
}

/// Replaces a client application's redirect URIs and the scopes it asks for. A scope it no
/// longer asks for stops at once in its integrations' tokens (the gate recomputes them
/// from its OAuth client, recorded as changed); one it adds needs a new consent.
pub fn update_oauth(
    conn: &mut Conn,
    viewer: &Viewer,
    id: i32,
    redirect_uris: &RedirectUris,
    scopes: &[String],
) -> Result<Committed<ClientApplication>, Failure> {
    viewer.require(Action::ManageClientApplications)?;
    write(conn, |conn, changes| {
        let application =
            ClientApplication::find(conn, id)?.ok_or(Failure::NotFound("Client application"))?;
        let scopes = catalogue::resolve_scopes(conn, scopes)?;
        let before_scopes = ClientApplication::preset_scopes(conn, id)?;
        // Compared as sets: the two databases may sort the stored ones differently.
        let scopes_changed =
            before_scopes.iter().collect::<BTreeSet<_>>() != scopes.iter().collect::<BTreeSet<_>>();
        let before_uris: Vec<String> = RedirectUris::stored(&application.redirect_uris)
            .iter()
            .map(str::to_owned)
            .collect();
        let after_uris: Vec<String> = redirect_uris.iter().map(str::to_owned).collect();
        let uris_changed = before_uris != after_uris;
        if uris_changed {
            ClientApplication::set_redirect_uris(conn, id, &redirect_uris.to_text())?;
        }
        if scopes_changed {
            ClientApplication::replace_scopes(conn, id, &scopes)?;
            if let Some(client) = Credential::oauth_client_of(conn, id)? {
                changes.credentials.push(client.id);
            }
        }
        if uris_changed || scopes_changed {
            audit::record(
                conn,
                &Actor::Person(viewer),
                &Event::client_application_oauth_changed(
                    &application,
                    uris_changed.then_some((before_uris.as_slice(), after_uris.as_slice())),
                    scopes_changed.then_some((before_scopes.as_slice(), scopes.as_slice())),
                ),
            )?;
        }
        Ok(ClientApplication {
            redirect_uris: redirect_uris.to_text(),
            ..application
        })
    })
}

/// Makes a client application's OAuth client: a client ID and its first client secret,
/// shown once. An application has at most one; its secret is rotated, not remade.
pub fn create_oauth_client(
    conn: &mut Conn,
    viewer: &Viewer,
    id: i32,
) -> Result<Committed<CreatedCredential>, Failure> {
    viewer.require(Action::ManageClientApplications)?;
    viewer.require(Action::CreateCredential(ApiType::OauthClient))?;
    let key = ApiKey::generate(ApiType::OauthClient);
    let client_id = ClientId::generate();
    write(conn, |conn, changes| {
        let application =
            ClientApplication::find(conn, id)?.ok_or(Failure::NotFound("Client application"))?;
        if Credential::oauth_client_of(conn, id)?.is_some() {
            return Err(FieldError::new(
                "oauth_client",
                format!(
                    "“{}” already has an OAuth client: rotate its secret instead.",
                    application.name
                ),
            )
            .into());
        }
        // Names are at most 255 characters, like descriptions: keep the suffix within.
        let suffix = " OAuth client";
        let name: String = application.name.chars().take(255 - suffix.len()).collect();
        let description = format!("{name}{suffix}");
        let credential_id = Credential::insert(
            conn,
            &NewCredential {
                description: &description,
                api_type: ApiType::OauthClient,
                client_application_id: Some(id),
                client_id: Some(&client_id),
                created_by: viewer.id,
                created_at: db::now(),
                // The partner's own credential: it lives until revoked; its managers may
                // still give it an expiry date on its Expiry page.
                expires_at: None,
            },
        )?;
        CredentialSecret::insert(conn, &new_secret(credential_id, &key))?;
        audit::record(
            conn,
            &Actor::Person(viewer),
            &Event::client_application_oauth_client_created(
                &application,
                credential_id,
                &client_id,
            ),
        )?;
        changes.credentials.push(credential_id);
        Ok(CreatedCredential {
            id: credential_id,
            api_type: ApiType::OauthClient,
            key,
            client_id: Some(client_id),
        })
    })
}
