//! Credentials: creating keys (shown once), listing them, granting Harvest endpoints or v3
//! scopes, and revoking. Each use case checks access first and writes in one immediate transaction.

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDate;

use crate::db::catalogue::Endpoint;
use crate::db::client_applications::ClientApplication;
use crate::db::credentials::{
    Credential, CredentialListing, CredentialSecret, NewCredential, NewSecret, StatusFilter,
};
use crate::db::request_log::{self, LoggedRequest, StatusClass};
use crate::db::{self, Conn, usage};

use crate::db::settings::DevCenterSettings;
use crate::rules::access::{Action, Viewer};
use crate::rules::endpoints::EndpointIdentifier;
use crate::rules::expiry::Expiry;
use crate::rules::keys::{ApiKey, ClientId};
use crate::rules::least_privilege::{self, Impact, Used};
use crate::rules::paging::Paged;
use crate::rules::text::{FieldError, FieldErrors, Label, parse_label};
use crate::rules::words::{ApiType, ProductWord};

use super::audit::{self, Actor, Event};
use super::catalogue::{self, ResourceGroup, ScopeGroup};
use super::health::Concern;
use super::{Committed, Failure, write};

/// The Create New Credential form, parsed.
#[derive(Debug, Clone)]
pub struct CredentialRequest {
    pub api_type: ApiType,
    /// The client application chosen, if any (a Job Board key takes none).
    pub client_application_id: Option<i32>,
    pub description: Label,
    /// When it stops working (checked against the organization's longest lifetime when
    /// it is made).
    pub expiry: Expiry,
}

impl CredentialRequest {
    /// The form's fields as typed, refused beside each field that is not understood.
    pub fn parse(
        api_type: &str,
        client_application_id: &str,
        description: &str,
        expires_on: &str,
        today: NaiveDate,
    ) -> Result<CredentialRequest, FieldErrors> {
        let mut errors = FieldErrors::default();
        let api_type = ApiType::parse(api_type.trim()).filter(|t| t.made_in_the_dialog());
        if api_type.is_none() {
            errors.add(
                "api_type",
                "Choose an API type: Harvest, Harvest v3 (OAuth), Job Board or Partner.",
            );
        }
        let description = parse_label("description", "description", description)
            .map_err(|e| errors.add(e.field, e.message))
            .ok();
        let client_application_id = match (api_type, client_application_id.trim()) {
            (Some(ApiType::JobBoard) | None, _) | (_, "") => None,
            (_, raw) => raw
                .parse::<i32>()
                .map_err(|_| errors.add("client_application_id", NOT_A_CLIENT_APPLICATION))
                .ok(),
        };
        let expiry = Expiry::parse(expires_on, today)
            .map_err(|message| errors.add("expires_on", message))
            .ok();
        match (api_type, description, expiry) {
            (Some(api_type), Some(description), Some(expiry)) if errors.is_empty() => {
                Ok(CredentialRequest {
                    api_type,
                    client_application_id,
                    description,
                    expiry,
                })
            }
            _ => Err(errors),
        }
    }
}

const NOT_A_CLIENT_APPLICATION: &str = "Choose a client application from the list.";

/// A key just made: the only moment its plain text exists.
#[derive(Debug)]
pub struct CreatedCredential {
    pub id: i32,
    pub api_type: ApiType,
    /// The key (v1/v2) or client secret (v3).
    pub key: ApiKey,
    /// A v3 credential's client ID.
    pub client_id: Option<String>,
}

/// Creates a key of the requested type for the viewer, with a listed partner's preset
/// endpoints granted to a Harvest key (its scopes to a v3 credential) in the same
/// transaction.
pub fn create(
    conn: &mut Conn,
    viewer: &Viewer,
    request: &CredentialRequest,
) -> Result<Committed<CreatedCredential>, Failure> {
    let api_type = request.api_type;
    viewer.require(Action::CreateCredential(api_type))?;
    let client_application = match request.client_application_id {
        Some(id) => Some(
            ClientApplication::find(conn, id)?
                .filter(|app| app.active)
                .ok_or_else(|| {
                    FieldError::new("client_application_id", NOT_A_CLIENT_APPLICATION)
                })?,
        ),
        None if api_type == ApiType::Partner => {
            return Err(FieldError::new(
                "client_application_id",
                "A Partner key needs a client application: choose one.",
            )
            .into());
        }
        None => None,
    };
    let description = request.description.as_str();
    let max_lifetime = DevCenterSettings::get(conn)?.max_lifetime();
    let expiry = request
        .expiry
        .within(max_lifetime, chrono::Utc::now().date_naive())
        .map_err(|message| FieldError::new("expires_on", message))?;
    let key = ApiKey::generate(api_type);
    let client_id = (api_type == ApiType::HarvestV3).then(ClientId::generate);
    write(conn, |conn, changes| {
        let id = Credential::insert(
            conn,
            &NewCredential {
                description,
                api_type,
                client_application_id: client_application.as_ref().map(|c| c.id),
                client_id: client_id.as_deref(),
                created_by: viewer.id,
                created_at: db::now(),
                expires_at: expiry.ends_at(),
            },
        )?;
        CredentialSecret::insert(conn, &new_secret(id, &key))?;
        let mut granted = Vec::new();
        match (api_type, &client_application) {
            (ApiType::Harvest, Some(partner)) => {
                let presets = ClientApplication::preset_endpoint_ids(conn, partner.id)?;
                Credential::replace_grants(conn, id, &presets)?;
                granted = Endpoint::identifiers_of(conn, &presets)?;
            }
            (ApiType::HarvestV3, Some(partner)) => {
                granted = ClientApplication::preset_scopes(conn, partner.id)?;
                let scopes: Vec<&str> = granted.iter().map(String::as_str).collect();
                Credential::replace_scopes(conn, id, &scopes)?;
            }
            _ => {}
        }
        audit::record(
            conn,
            &Actor::Person(viewer),
            &Event::credential_created(
                id,
                api_type,
                description,
                client_application.as_ref(),
                &granted,
            ),
        )?;
        changes.credentials.push(id);
        Ok(CreatedCredential {
            id,
            api_type,
            key,
            client_id,
        })
    })
}

/// The stored form of a new secret: its hash, prefix and last four characters.
pub(super) fn new_secret(credential_id: i32, key: &ApiKey) -> NewSecret<'_> {
    NewSecret {
        credential_id,
        secret_hash: key.hash().0.to_vec(),
        secret_prefix: key.prefix(),
        secret_last4: key.last4(),
        created_at: db::now(),
    }
}

/// The viewer's page of API Credential Management: the keys of the types they manage.
pub fn list(
    conn: &mut Conn,
    viewer: &Viewer,
    status: Option<StatusFilter>,
    concern: Option<Concern>,
    page: i64,
) -> Result<Paged<CredentialListing>, Failure> {
    viewer.require(Action::OpenDevCenter)?;
    let types = viewer.manageable_api_types();
    let only = match concern {
        Some(concern) => Some(super::health::report(conn, viewer)?.of(concern).to_vec()),
        None => None,
    };
    let total = Credential::count_of_types(conn, &types, status, only.as_deref())?;
    Ok(Paged::read(page, total, |offset, limit| {
        Credential::list_of_types(conn, &types, status, only.as_deref(), limit, offset)
    })?)
}

/// A key the viewer may manage, by id. A key of a type the viewer may not manage is not
/// found, like a missing one, so its id tells nothing.
pub fn find(conn: &mut Conn, viewer: &Viewer, id: i32) -> Result<(Credential, ApiType), Failure> {
    viewer.require(Action::OpenDevCenter)?;
    let credential = Credential::find(conn, id)?.ok_or(Failure::NotFound("API key"))?;
    let api_type = credential.api_type;
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
    let paged = Paged::read(requested_page, total, |offset, limit| {
        request_log::newest(conn, id, class, offset, limit)
    })?;
    Ok((credential, paged))
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
        groups: catalogue::group_by_resource(Endpoint::harvest(conn)?),
        client_application,
        credential,
    })
}

fn harvest_key(conn: &mut Conn, id: i32) -> Result<Credential, Failure> {
    Credential::find(conn, id)?
        .filter(|c| c.api_type == ApiType::Harvest)
        .ok_or(Failure::NotFound("Harvest API key"))
}

/// Makes exactly `identifiers` the Harvest key's grants; returns how many are granted.
pub fn replace_grants(
    conn: &mut Conn,
    viewer: &Viewer,
    id: i32,
    identifiers: &[EndpointIdentifier],
    confirmed: bool,
) -> Result<Committed<Saved>, Failure> {
    viewer.require(Action::ManageEndpointGrants)?;
    write(conn, |conn, changes| {
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
        let added: Vec<i32> = after.difference(&before).copied().collect();
        let removed: Vec<i32> = before.difference(&after).copied().collect();
        if !confirmed {
            let used = usage::per_endpoint_used_since(conn, id, window_start())?;
            let impacts = least_privilege::impact(&removed, |e| used.get(e).copied());
            if !impacts.is_empty() {
                let names: HashMap<i32, String> = Endpoint::harvest(conn)?
                    .iter()
                    .map(|e| (e.id, e.identifier()))
                    .collect();
                return Ok(Saved::Confirm(
                    impacts
                        .into_iter()
                        .map(|i| Impact {
                            grant: names.get(&i.grant).cloned().unwrap_or_default(),
                            used: i.used,
                        })
                        .collect(),
                ));
            }
        }
        Credential::replace_grants(conn, id, &endpoint_ids)?;
        if !added.is_empty() || !removed.is_empty() {
            let added = Endpoint::identifiers_of(conn, &added)?;
            let removed = Endpoint::identifiers_of(conn, &removed)?;
            audit::record(
                conn,
                &Actor::Person(viewer),
                &Event::credential_grants_changed(&credential, &added, &removed, after.len()),
            )?;
        }
        changes.credentials.push(id);
        Ok(Saved::Done(endpoint_ids.len()))
    })
}

/// What saving a grant set did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Saved {
    /// Saved: how many grants the credential now has.
    Done(usize),
    /// Nothing saved: the set drops grants used in the window, which would have refused
    /// these requests. Saving again with confirmation applies it.
    Confirm(Vec<Impact<String>>),
}

/// The first day of the window least-privilege decisions read.
fn window_start() -> NaiveDate {
    chrono::Utc::now().date_naive() - chrono::Days::new(least_privilege::WINDOW_DAYS - 1)
}

/// A granted endpoint or scope not used in the window, and the last day it was, if ever.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unused {
    pub grant: String,
    pub last_on: Option<NaiveDate>,
}

/// What Manage Scopes shows: the v3 credential, the scopes by resource, its own scopes.
pub struct Scopes {
    pub credential: Credential,
    pub client_application: Option<ClientApplication>,
    pub groups: Vec<ScopeGroup>,
    pub granted: BTreeSet<String>,
    /// Requests per endpoint in the last 30 days.
    pub usage: std::collections::HashMap<i32, i64>,
}

pub fn scopes(conn: &mut Conn, viewer: &Viewer, id: i32) -> Result<Scopes, Failure> {
    viewer.require(Action::ManageEndpointGrants)?;
    let credential = v3_credential(conn, id)?;
    let client_application = match credential.client_application_id {
        Some(app) => ClientApplication::find(conn, app)?,
        None => None,
    };
    let since = chrono::Utc::now().date_naive() - chrono::Days::new(29);
    Ok(Scopes {
        usage: usage::per_endpoint_since(conn, id, since)?,
        granted: Credential::scopes(conn, id)?.into_iter().collect(),
        groups: catalogue::group_by_scope(Endpoint::v3(conn)?),
        client_application,
        credential,
    })
}

fn v3_credential(conn: &mut Conn, id: i32) -> Result<Credential, Failure> {
    Credential::find(conn, id)?
        .filter(|c| c.api_type == ApiType::HarvestV3)
        .ok_or(Failure::NotFound("Harvest v3 credential"))
}

/// Makes exactly `submitted` the v3 credential's scopes; returns how many it has. The gate
/// opens what they open from the next request.
pub fn replace_scopes(
    conn: &mut Conn,
    viewer: &Viewer,
    id: i32,
    submitted: &[String],
    confirmed: bool,
) -> Result<Committed<Saved>, Failure> {
    viewer.require(Action::ManageEndpointGrants)?;
    write(conn, |conn, changes| {
        let credential = v3_credential(conn, id)?;
        if credential.revoked_at.is_some() {
            return Err(FieldError::new(
                "scopes",
                "This credential is revoked; its scopes can no longer change.",
            )
            .into());
        }
        let after: BTreeSet<String> = catalogue::resolve_scopes(conn, submitted)?
            .into_iter()
            .collect();
        let before: BTreeSet<String> = Credential::scopes(conn, id)?.into_iter().collect();
        let added: Vec<String> = after.difference(&before).cloned().collect();
        let removed: Vec<String> = before.difference(&after).cloned().collect();
        if !confirmed {
            let used = scope_use(conn, id)?;
            let impacts = least_privilege::impact(&removed, |s| used.get(s).copied());
            if !impacts.is_empty() {
                return Ok(Saved::Confirm(impacts));
            }
        }
        let scopes: Vec<&str> = after.iter().map(String::as_str).collect();
        Credential::replace_scopes(conn, id, &scopes)?;
        if !added.is_empty() || !removed.is_empty() {
            audit::record(
                conn,
                &Actor::Person(viewer),
                &Event::credential_scopes_changed(&credential, &added, &removed, after.len()),
            )?;
        }
        changes.credentials.push(id);
        Ok(Saved::Done(after.len()))
    })
}

/// Each scope's use in the window: the requests to the endpoints it opens.
fn scope_use(conn: &mut Conn, id: i32) -> Result<HashMap<String, Used>, Failure> {
    let used = usage::per_endpoint_used_since(conn, id, window_start())?;
    let mut by_scope: HashMap<String, Used> = HashMap::new();
    for endpoint in Endpoint::v3(conn)? {
        if let (Some(scope), Some(u)) = (endpoint.scope, used.get(&endpoint.id)) {
            by_scope
                .entry(scope)
                .and_modify(|total| *total = total.and(*u))
                .or_insert(*u);
        }
    }
    Ok(by_scope)
}

/// A v1/v2 key's granted endpoints, as `METHOD path`.
pub fn granted_identifiers(
    conn: &mut Conn,
    viewer: &Viewer,
    id: i32,
) -> Result<Vec<String>, Failure> {
    viewer.require(Action::ManageEndpointGrants)?;
    harvest_key(conn, id)?;
    let granted = Credential::granted_endpoint_ids(conn, id)?;
    Ok(Endpoint::identifiers_of(conn, &granted)?)
}

/// A v1/v2 key's granted endpoints not used in the window, with their last use ever.
pub fn unused_grants(conn: &mut Conn, viewer: &Viewer, id: i32) -> Result<Vec<Unused>, Failure> {
    viewer.require(Action::ManageEndpointGrants)?;
    harvest_key(conn, id)?;
    let used = usage::per_endpoint_used_since(conn, id, window_start())?;
    let last = usage::last_day_per_endpoint(conn, id)?;
    let granted: Vec<i32> = Credential::granted_endpoint_ids(conn, id)?;
    let names: HashMap<i32, String> = Endpoint::harvest(conn)?
        .iter()
        .map(|e| (e.id, e.identifier()))
        .collect();
    let mut unused = least_privilege::unused(&granted, |e| used.get(e).copied());
    unused.sort_unstable();
    Ok(unused
        .into_iter()
        .map(|e| Unused {
            grant: names.get(&e).cloned().unwrap_or_default(),
            last_on: last.get(&e).copied(),
        })
        .collect())
}

/// A v3 credential's scopes not used in the window, with their last use ever.
pub fn unused_scopes(conn: &mut Conn, viewer: &Viewer, id: i32) -> Result<Vec<Unused>, Failure> {
    viewer.require(Action::ManageEndpointGrants)?;
    v3_credential(conn, id)?;
    let used = scope_use(conn, id)?;
    let last = usage::last_day_per_endpoint(conn, id)?;
    let mut last_by_scope: HashMap<String, NaiveDate> = HashMap::new();
    for endpoint in Endpoint::v3(conn)? {
        if let (Some(scope), Some(day)) = (endpoint.scope, last.get(&endpoint.id)) {
            let entry = last_by_scope.entry(scope).or_insert(*day);
            *entry = (*entry).max(*day);
        }
    }
    let granted: Vec<String> = Credential::scopes(conn, id)?;
    Ok(least_privilege::unused(&granted, |s| used.get(s).copied())
        .into_iter()
        .map(|scope| Unused {
            last_on: last_by_scope.get(&scope).copied(),
            grant: scope,
        })
        .collect())
}

/// Revokes a key; it stops working at once. Revoking a revoked key changes nothing.
pub fn revoke(conn: &mut Conn, viewer: &Viewer, id: i32) -> Result<Committed<Credential>, Failure> {
    write(conn, |conn, changes| {
        let (credential, api_type) = find(conn, viewer, id)?;
        if Credential::revoke(conn, id, viewer.id, db::now())? {
            audit::record(
                conn,
                &Actor::Person(viewer),
                &Event::credential_revoked(&credential, api_type),
            )?;
        }
        changes.credentials.push(id);
        Ok(credential)
    })
}

/// Changes when a credential stops working (within the organization's longest lifetime);
/// the gate follows on the next request.
pub fn change_expiry(
    conn: &mut Conn,
    viewer: &Viewer,
    id: i32,
    expiry: Expiry,
) -> Result<Committed<Credential>, Failure> {
    write(conn, |conn, changes| {
        let (credential, _) = find(conn, viewer, id)?;
        let max_lifetime = DevCenterSettings::get(conn)?.max_lifetime();
        let expiry = expiry
            .within(max_lifetime, chrono::Utc::now().date_naive())
            .map_err(|message| FieldError::new("expires_on", message))?;
        if credential.expires_at != expiry.ends_at() {
            Credential::set_expiry(conn, id, expiry.ends_at())?;
            audit::record(
                conn,
                &Actor::Person(viewer),
                &Event::credential_expiry_changed(
                    &credential,
                    credential.expires_at,
                    expiry.ends_at(),
                ),
            )?;
        }
        changes.credentials.push(id);
        Ok(credential)
    })
}

/// An endpoint the credential asked for lately and was refused (403), not granted now:
/// the grant that would open it (the endpoint itself, or a v3 scope) and how many times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub grant: String,
    pub endpoint: String,
    pub times: i64,
}

/// How far back "asked for" looks.
const REFUSED_WINDOW_DAYS: i64 = 7;

/// What the credential asked for in the last week and was refused, most asked first
/// (from its request log: only what the log still keeps).
pub fn refused_requests(
    conn: &mut Conn,
    viewer: &Viewer,
    id: i32,
) -> Result<Vec<Refused>, Failure> {
    viewer.require(Action::ManageEndpointGrants)?;
    let (credential, api_type) = find(conn, viewer, id)?;
    let since = db::now() - chrono::Duration::days(REFUSED_WINDOW_DAYS);
    let refused = request_log::refused_endpoints(conn, credential.id, since)?;
    let endpoints: HashMap<i32, Endpoint> = Endpoint::all(conn)?
        .into_iter()
        .map(|e| (e.id, e))
        .collect();
    let granted_endpoints: BTreeSet<i32> = Credential::granted_endpoint_ids(conn, id)?
        .into_iter()
        .collect();
    let granted_scopes: BTreeSet<String> = Credential::scopes(conn, id)?.into_iter().collect();
    let mut asked: Vec<Refused> = refused
        .into_iter()
        .filter_map(|(endpoint_id, times)| {
            let endpoint = endpoints.get(&endpoint_id)?;
            let grant = match (api_type, &endpoint.scope) {
                (ApiType::Harvest, None) if !granted_endpoints.contains(&endpoint_id) => {
                    endpoint.identifier()
                }
                (ApiType::HarvestV3, Some(scope)) if !granted_scopes.contains(scope) => {
                    scope.clone()
                }
                _ => return None,
            };
            Some(Refused {
                grant,
                endpoint: endpoint.identifier(),
                times,
            })
        })
        .collect();
    asked.sort_by(|a, b| b.times.cmp(&a.times).then(a.endpoint.cmp(&b.endpoint)));
    Ok(asked)
}
