//! The Harvest endpoint catalogue as the permission pages and the forms use it.

use std::collections::{BTreeSet, HashMap};

use crate::db::Conn;
use crate::db::catalogue::Endpoint;

use crate::rules::endpoints::{EndpointIdentifier, not_in_catalogue};

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
