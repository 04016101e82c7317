//! The endpoint checkbox picker shared by Manage API Key Permissions and Client Applications.

use askama::Template;

use crate::db::catalogue::Endpoint;
use crate::rules::words::ProductWord;
use crate::use_cases::catalogue::ResourceGroup;

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

impl EndpointPicker {
    pub fn new(groups: &[ResourceGroup], checked: impl Fn(&Endpoint) -> bool) -> Self {
        let groups = groups
            .iter()
            .map(|group| PickerGroup {
                slug: group
                    .resource
                    .to_lowercase()
                    .chars()
                    .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                    .collect(),
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
