//! The Harvest endpoint catalogues as the permission pages and the forms use them: v1/v2
//! endpoints by resource, v3 scopes by resource.

use std::collections::{BTreeSet, HashMap};

use crate::db::Conn;
use crate::db::catalogue::Endpoint;

use crate::rules::endpoints::{EndpointIdentifier, not_in_catalogue};
use crate::rules::text::FieldError;
use crate::rules::words::EndpointMethod;

use super::Failure;

/// The endpoints of one resource, in catalogue order.
#[derive(Debug, Clone)]
pub struct ResourceGroup {
    pub resource: String,
    pub endpoints: Vec<Endpoint>,
}

/// Groups endpoints by resource in the order resources first appear in the catalogue.
pub fn group_by_resource(endpoints: Vec<Endpoint>) -> Vec<ResourceGroup> {
    let mut groups: Vec<ResourceGroup> = Vec::new();
    for endpoint in endpoints {
        match groups.iter_mut().find(|g| g.resource == endpoint.resource) {
            Some(group) => group.endpoints.push(endpoint),
            None => groups.push(ResourceGroup {
                resource: endpoint.resource.clone(),
                endpoints: vec![endpoint],
            }),
        }
    }
    groups
}

/// Turns submitted endpoints into endpoint ids, refusing the whole submission if any of
/// them is not in the catalogue.
pub fn resolve(conn: &mut Conn, identifiers: &[EndpointIdentifier]) -> Result<Vec<i32>, Failure> {
    let by_identifier: HashMap<String, i32> = Endpoint::harvest(conn)?
        .into_iter()
        .map(|e| (e.identifier(), e.id))
        .collect();
    let mut ids = BTreeSet::new();
    for identifier in identifiers {
        let identifier = identifier.to_string();
        let id = by_identifier
            .get(&identifier)
            .ok_or_else(|| not_in_catalogue(&identifier))?;
        ids.insert(*id);
    }
    Ok(ids.into_iter().collect())
}

/// A v3 scope and the endpoints it opens, in catalogue order.
#[derive(Debug, Clone)]
pub struct Scope {
    pub name: String,
    pub endpoints: Vec<Endpoint>,
}

impl Scope {
    /// Whether the scope only reads: every endpoint it opens is a `GET`. In the v3
    /// catalogue these are exactly the 70 `…:list` scopes: it has no `:retrieve` or `:show`
    /// (a `:list` scope opens the one-record `GET`s too), every `GET` is opened by a `:list`
    /// scope and no `:list` scope opens anything else. The methods, not the names, are what
    /// make a scope safe to call read-only, so a later `:show` would count as well.
    pub fn read_only(&self) -> bool {
        self.endpoints
            .iter()
            .all(|e| e.method == EndpointMethod::Get)
    }
}

/// The v3 scopes of one resource, in catalogue order.
#[derive(Debug, Clone)]
pub struct ScopeGroup {
    pub resource: String,
    pub scopes: Vec<Scope>,
}

/// Groups v3 endpoints by scope, and scopes by the resource of their first endpoint, each in
/// the order it first appears in the catalogue.
pub fn group_by_scope(endpoints: Vec<Endpoint>) -> Vec<ScopeGroup> {
    let mut groups: Vec<ScopeGroup> = Vec::new();
    for endpoint in endpoints {
        let Some(name) = endpoint.scope.clone() else {
            continue;
        };
        if let Some(scope) = groups
            .iter_mut()
            .flat_map(|g| g.scopes.iter_mut())
            .find(|s| s.name == name)
        {
            scope.endpoints.push(endpoint);
            continue;
        }
        let at = match groups.iter().position(|g| g.resource == endpoint.resource) {
            Some(at) => at,
            None => {
                groups.push(ScopeGroup {
                    resource: endpoint.resource.clone(),
                    scopes: Vec::new(),
                });
                groups.len() - 1
            }
        };
        groups[at].scopes.push(Scope {
            name,
            endpoints: vec![endpoint],
        });
    }
    groups
}

/// The submitted scopes, sorted and without repeats, refusing the whole submission if any
/// of them is not a scope of the v3 catalogue.
pub fn resolve_scopes(conn: &mut Conn, submitted: &[String]) -> Result<Vec<String>, Failure> {
    let known: BTreeSet<String> = Endpoint::v3(conn)?
        .into_iter()
        .filter_map(|e| e.scope)
        .collect();
    let mut scopes = BTreeSet::new();
    for scope in submitted {
        if !known.contains(scope) {
            return Err(not_a_scope(scope).into());
        }
        scopes.insert(scope.clone());
    }
    Ok(scopes.into_iter().collect())
}

/// The refusal of a scope the v3 catalogue does not have, showing what was sent
/// (shortened, without control characters).
fn not_a_scope(raw: &str) -> FieldError {
    let shown: String = raw.chars().take(80).filter(|c| !c.is_control()).collect();
    FieldError::new(
        "scopes",
        format!("“{shown}” is not a Harvest v3 scope. Choose scopes from the list."),
    )
}
