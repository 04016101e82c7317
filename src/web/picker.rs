//! The checkbox pickers shared by the permission pages and Client Applications: Harvest
//! endpoints (Manage API Key Permissions) and v3 scopes (Manage Scopes).

use askama::Template;

use crate::db::catalogue::Endpoint;
use crate::rules::words::ProductWord;
use crate::use_cases::catalogue::{ResourceGroup, ScopeGroup};

#[derive(Template)]
#[template(path = "endpoint_picker.html")]
pub struct EndpointPicker {
    pub groups: Vec<PickerGroup>,
}

pub struct PickerGroup {
    pub resource: String,
    pub slug: String,
    pub endpoints: Vec<PickerEndpoint>,
}

pub struct PickerEndpoint {
    pub identifier: String,
    pub method: String,
    pub method_class: String,
    pub name: String,
    pub path: String,
    pub checked: bool,
    pub search: String,
    pub id: i32,
    /// Requests in the last 30 days, shown beside a granted endpoint.
    pub usage: Option<i64>,
}

impl PickerEndpoint {
    /// The path in pieces that each end with its `/`, so that a narrow screen breaks the
    /// path between segments rather than inside one.
    pub fn path_parts(&self) -> Vec<&str> {
        self.path.split_inclusive('/').collect()
    }
}

/// A resource's name as a fragment of an HTML id.
fn slug(resource: &str) -> String {
    resource
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

impl EndpointPicker {
    pub fn new(groups: &[ResourceGroup], checked: impl Fn(&Endpoint) -> bool) -> Self {
        let groups = groups
            .iter()
            .map(|group| PickerGroup {
                slug: slug(&group.resource),
                resource: group.resource.clone(),
                endpoints: group
                    .endpoints
                    .iter()
                    .map(|e| PickerEndpoint {
                        identifier: e.identifier(),
                        method_class: e.method.as_str().to_lowercase(),
                        search: format!("{} {} {} {}", e.resource, e.method, e.name, e.path)
                            .to_lowercase(),
                        checked: checked(e),
                        id: e.id,
                        usage: None,
                        method: e.method.as_str().to_owned(),
                        name: e.name.clone(),
                        path: e.path.clone(),
                    })
                    .collect(),
            })
            .collect();
        Self { groups }
    }

    /// Shows `usage(endpoint)` beside each endpoint for which it is `Some`.
    pub fn with_usage(mut self, usage: impl Fn(&PickerEndpoint) -> Option<i64>) -> Self {
        for endpoint in self.groups.iter_mut().flat_map(|g| g.endpoints.iter_mut()) {
            endpoint.usage = usage(endpoint);
        }
        self
    }

    pub fn total(&self) -> usize {
        self.groups.iter().map(|g| g.endpoints.len()).sum()
    }

    pub fn checked(&self) -> usize {
        self.groups
            .iter()
            .flat_map(|g| &g.endpoints)
            .filter(|e| e.checked)
            .count()
    }
}

#[derive(Template)]
#[template(path = "scope_picker.html")]
pub struct ScopePicker {
    pub groups: Vec<ScopePickerGroup>,
}

pub struct ScopePickerGroup {
    pub resource: String,
    pub slug: String,
    pub scopes: Vec<PickerScope>,
}

pub struct PickerScope {
    pub name: String,
    pub checked: bool,
    /// Opens only `GET` endpoints: chosen by the Read-only shortcut.
    pub read_only: bool,
    pub search: String,
    /// What the scope opens.
    pub endpoints: Vec<PickerEndpoint>,
    /// Requests in the last 30 days at the endpoints it opens.
    pub usage: Option<i64>,
}

impl ScopePicker {
    pub fn new(groups: &[ScopeGroup], checked: impl Fn(&str) -> bool) -> Self {
        let groups = groups
            .iter()
            .map(|group| ScopePickerGroup {
                slug: slug(&group.resource),
                resource: group.resource.clone(),
                scopes: group
                    .scopes
                    .iter()
                    .map(|scope| {
                        let endpoints: Vec<PickerEndpoint> = scope
                            .endpoints
                            .iter()
                            .map(|e| PickerEndpoint {
                                identifier: e.identifier(),
                                method_class: e.method.as_str().to_lowercase(),
                                search: String::new(),
                                checked: false,
                                id: e.id,
                                usage: None,
                                method: e.method.as_str().to_owned(),
                                name: e.name.clone(),
                                path: e.path.clone(),
                            })
                            .collect();
                        let opened: Vec<String> = endpoints
                            .iter()
                            .map(|e| format!("{} {} {}", e.method, e.name, e.path))
                            .collect();
                        PickerScope {
                            search: format!(
                                "{} {} {}",
                                group.resource,
                                scope.name,
                                opened.join(" ")
                            )
                            .to_lowercase(),
                            checked: checked(&scope.name),
                            read_only: scope.read_only(),
                            name: scope.name.clone(),
                            endpoints,
                            usage: None,
                        }
                    })
                    .collect(),
            })
            .collect();
        Self { groups }
    }

    /// Shows `usage(scope)` beside each scope for which it is `Some`; `requests` gives an
    /// endpoint's requests, summed over the endpoints each scope opens.
    pub fn with_usage(
        mut self,
        shown: impl Fn(&PickerScope, i64) -> bool,
        requests: impl Fn(i32) -> i64,
    ) -> Self {
        for scope in self.groups.iter_mut().flat_map(|g| g.scopes.iter_mut()) {
            let total = scope.endpoints.iter().map(|e| requests(e.id)).sum();
            scope.usage = shown(scope, total).then_some(total);
        }
        self
    }

    pub fn total(&self) -> usize {
        self.groups.iter().map(|g| g.scopes.len()).sum()
    }

    pub fn checked(&self) -> usize {
        self.groups
            .iter()
            .flat_map(|g| &g.scopes)
            .filter(|s| s.checked)
            .count()
    }
}
