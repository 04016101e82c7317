//! Who may do what. Every access decision in Dev Center is answered here, from a `Viewer`
//! loaded from the database on each request; handlers ask, they never decide.

use std::collections::BTreeSet;

use super::words::{ApiType, DeveloperPermission, ProductWord, UserLevel};

/// The signed-in person as the database describes them right now.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub id: i32,
    pub name: String,
    pub email: String,
    pub level: UserLevel,
    pub permissions: BTreeSet<DeveloperPermission>,
    /// Where this request came from (the peer's IP address), for the audit log. Never
    /// part of an access decision.
    pub address: Option<String>,
}

/// Something a person may ask to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Open Dev Center and API Credential Management, and see the keys they manage.
    OpenDevCenter,
    /// Create a key of this type.
    CreateCredential(ApiType),
    /// See, or revoke, one key of this type.
    ManageCredential(ApiType),
    /// Read and change a Harvest key's endpoint grants.
    ManageEndpointGrants,
    /// List and add client applications (partner integrations).
    ManageClientApplications,
    /// Configure → Users.
    ManageUsers,
    /// Read the audit log.
    ReadAuditLog,
    /// Authorize a partner integration (OAuth consent): it will reach the organization's
    /// data as this person, or as a service account.
    AuthorizeIntegration,
    /// Authorize one as the organization's service account rather than as oneself.
    AuthorizeAsServiceAccount,
    /// See and disconnect connected integrations.
    ManageIntegrations,
    /// Dev Center → Web Hooks: add, change, ping and read the deliveries of web hooks.
    ManageWebHooks,
}

/// Who may use a page route, as the product promises it. The route table gives every
/// route one; the router checks it before the handler runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// Anyone, signed in or not.
    Anyone,
    /// Every signed-in person.
    SignedIn,
    /// Managers of credentials of any type ("ALL" or "Job Board related").
    CredentialManagers,
    /// Managers of the type of the key named in the path: the route admits every
    /// credential manager, and the use case answers "not found" for a key of a type the
    /// person may not manage.
    KeyTypeManagers,
    /// Managers of ALL organization's API credentials.
    AllCredentialManagers,
    /// Site Admins.
    SiteAdmins,
    /// Site Admins and managers of all credentials.
    Auditors,
    /// People with "Can manage and configure web hooks", whatever their level.
    WebHookManagers,
}

impl Audience {
    /// The action a signed-in person must be allowed, if any, to use such a route.
    pub fn action(self) -> Option<Action> {
        match self {
            Audience::Anyone | Audience::SignedIn => None,
            Audience::CredentialManagers | Audience::KeyTypeManagers => Some(Action::OpenDevCenter),
            Audience::AllCredentialManagers => Some(Action::ManageClientApplications),
            Audience::SiteAdmins => Some(Action::ManageUsers),
            Audience::Auditors => Some(Action::ReadAuditLog),
            Audience::WebHookManagers => Some(Action::ManageWebHooks),
        }
    }
}

/// What a person's pages offer them: the links and buttons shown only to those who may
/// use them. Showing is not allowing: the route table and the use cases still decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Offers {
    pub users: bool,
    pub audit_log: bool,
    pub client_applications: bool,
    pub endpoint_grants: bool,
    pub web_hooks: bool,
}

/// A refusal: the person is signed in but may not do this.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("you do not have permission to do that")]
pub struct Denied(pub Action);

impl Action {
    /// What a refused person is told: which permission or level the action needs.
    pub fn refusal(self) -> &'static str {
        match self {
            Action::ManageUsers => {
                "Configure → Users is for Site Admins. Ask a Site Admin if you need a user's \
                 level or developer permissions changed."
            }
            Action::ReadAuditLog => {
                "The audit log is for Site Admins and for people who can manage ALL \
                 organization's API Credentials."
            }
            Action::AuthorizeIntegration => {
                "Connecting an integration gives it access to your organization's data: it \
                 needs the developer permission “Can manage ALL organization's API \
                 Credentials”. Ask a Site Admin to connect it, or to grant you the permission."
            }
            Action::ManageWebHooks => {
                "Web hooks need the developer permission “Can manage and configure web \
                 hooks”, whatever your level. Ask a Site Admin to grant it."
            }
            Action::AuthorizeAsServiceAccount => {
                "Only Site Admins may authorize an integration as a service account. Authorize \
                 it as yourself, or ask a Site Admin."
            }
            _ => {
                "Managing API credentials needs a developer permission: “Can manage ALL \
                 organization's API Credentials”, or for Job Board keys “Can manage Job Board \
                 related API Credentials”. Ask a Site Admin to grant it."
            }
        }
    }
}

impl Viewer {
    pub fn has(&self, permission: DeveloperPermission) -> bool {
        self.permissions.contains(&permission)
    }

    pub fn may(&self, action: Action) -> bool {
        let all = self.has(DeveloperPermission::ManageAllCredentials);
        let job_board = self.has(DeveloperPermission::ManageJobBoardCredentials);
        match action {
            Action::OpenDevCenter => all || job_board,
            Action::CreateCredential(api_type) | Action::ManageCredential(api_type) => {
                all || (job_board && api_type == ApiType::JobBoard)
            }
            Action::ManageEndpointGrants
            | Action::ManageClientApplications
            | Action::AuthorizeIntegration
            | Action::ManageIntegrations => all,
            Action::AuthorizeAsServiceAccount => all && self.level == UserLevel::SiteAdmin,
            Action::ManageUsers => self.level == UserLevel::SiteAdmin,
            Action::ReadAuditLog => all || self.level == UserLevel::SiteAdmin,
            Action::ManageWebHooks => self.has(DeveloperPermission::ManageWebhooks),
        }
    }

    pub fn require(&self, action: Action) -> Result<(), Denied> {
        if self.may(action) {
            Ok(())
        } else {
            Err(Denied(action))
        }
    }

    pub fn offers(&self) -> Offers {
        Offers {
            users: self.may(Action::ManageUsers),
            audit_log: self.may(Action::ReadAuditLog),
            client_applications: self.may(Action::ManageClientApplications),
            endpoint_grants: self.may(Action::ManageEndpointGrants),
            web_hooks: self.may(Action::ManageWebHooks),
        }
    }

    /// Whether this signed-in person is in a route's audience.
    pub fn admits(&self, audience: Audience) -> Result<(), Denied> {
        audience
            .action()
            .map_or(Ok(()), |action| self.require(action))
    }

    /// The key types this person may create and see, in the dialog's order.
    pub fn manageable_api_types(&self) -> Vec<ApiType> {
        ApiType::ALL
            .iter()
            .copied()
            .filter(|t| self.may(Action::ManageCredential(*t)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use DeveloperPermission::*;

    fn viewer(level: UserLevel, permissions: &[DeveloperPermission]) -> Viewer {
        Viewer {
            id: 1,
            name: "Test".into(),
            email: "test@example.com".into(),
            level,
            permissions: permissions.iter().copied().collect(),
            address: None,
        }
    }

    /// Roles × actions, as the product describes them: developer permissions decide
    /// credentials whatever the level; the level decides users.
    #[test]
    fn roles_by_actions() {
        use Action::*;
        let actions = [
            OpenDevCenter,
            CreateCredential(ApiType::Harvest),
            CreateCredential(ApiType::JobBoard),
            CreateCredential(ApiType::Partner),
            ManageCredential(ApiType::Harvest),
            ManageCredential(ApiType::JobBoard),
            ManageCredential(ApiType::Partner),
            ManageEndpointGrants,
            ManageClientApplications,
            ManageUsers,
            ReadAuditLog,
            AuthorizeIntegration,
            AuthorizeAsServiceAccount,
            ManageIntegrations,
            ManageWebHooks,
        ];
        // One row per role: the expected answer for each action above, in order.
        let table: [(&str, Viewer, [bool; 15]); 7] = [
            (
                "basic user",
                viewer(UserLevel::Basic, &[]),
                [
                    false, false, false, false, false, false, false, false, false, false, false,
                    false, false, false, false,
                ],
            ),
            (
                "job admin",
                viewer(UserLevel::JobAdmin, &[]),
                [
                    false, false, false, false, false, false, false, false, false, false, false,
                    false, false, false, false,
                ],
            ),
            (
                "site admin without developer permissions",
                viewer(UserLevel::SiteAdmin, &[]),
                [
                    false, false, false, false, false, false, false, false, false, true, true,
                    false, false, false, false,
                ],
            ),
            (
                "web hook manager",
                viewer(UserLevel::SiteAdmin, &[ManageWebhooks]),
                [
                    false, false, false, false, false, false, false, false, false, true, true,
                    false, false, false, true,
                ],
            ),
            (
                "job board manager",
                viewer(UserLevel::Basic, &[ManageJobBoardCredentials]),
                [
                    true, false, true, false, false, true, false, false, false, false, false,
                    false, false, false, false,
                ],
            ),
            (
                "manager of all credentials",
                viewer(UserLevel::Basic, &[ManageAllCredentials]),
                [
                    true, true, true, true, true, true, true, true, true, false, true, true, false,
                    true, false,
                ],
            ),
            (
                "site admin with every permission",
                viewer(
                    UserLevel::SiteAdmin,
                    &[
                        ManageJobBoardCredentials,
                        ManageAllCredentials,
                        ManageWebhooks,
                    ],
                ),
                [
                    true, true, true, true, true, true, true, true, true, true, true, true, true,
                    true, true,
                ],
            ),
        ];
        for (role, viewer, expected) in &table {
            for (action, want) in actions.iter().zip(expected) {
                assert_eq!(viewer.may(*action), *want, "{role} / {action:?}");
                assert_eq!(
                    viewer.require(*action).is_ok(),
                    *want,
                    "{role} / {action:?}"
                );
            }
        }
    }

    #[test]
    fn audiences_admit_by_the_same_rules() {
        let basic = viewer(UserLevel::Basic, &[]);
        let job_board = viewer(UserLevel::Basic, &[ManageJobBoardCredentials]);
        let all = viewer(UserLevel::Basic, &[ManageAllCredentials]);
        let site_admin = viewer(UserLevel::SiteAdmin, &[]);
        use Audience::*;
        // (audience, basic, job board manager, manager of all, site admin)
        let table = [
            (Anyone, true, true, true, true),
            (SignedIn, true, true, true, true),
            (CredentialManagers, false, true, true, false),
            (KeyTypeManagers, false, true, true, false),
            (AllCredentialManagers, false, false, true, false),
            (SiteAdmins, false, false, false, true),
            (Auditors, false, false, true, true),
            (WebHookManagers, false, false, false, false),
        ];
        for (audience, b, j, a, s) in table {
            for (who, want) in [(&basic, b), (&job_board, j), (&all, a), (&site_admin, s)] {
                assert_eq!(who.admits(audience).is_ok(), want, "{audience:?} / {who:?}");
            }
        }
    }

    #[test]
    fn a_job_board_manager_manages_job_board_keys_only() {
        let manager = viewer(UserLevel::SiteAdmin, &[ManageJobBoardCredentials]);
        assert_eq!(manager.manageable_api_types(), vec![ApiType::JobBoard]);
        let all = viewer(UserLevel::Basic, &[ManageAllCredentials]);
        assert_eq!(
            all.manageable_api_types(),
            vec![
                ApiType::Harvest,
                ApiType::HarvestV3,
                ApiType::JobBoard,
                ApiType::Partner,
                ApiType::OauthClient
            ]
        );
        assert!(
            viewer(UserLevel::SiteAdmin, &[])
                .manageable_api_types()
                .is_empty()
        );
    }
}
