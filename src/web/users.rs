//! Configure → Users: the list, a user's page (level, developer permissions, disabled),
//! and adding a user with a first password shown once. Site Admins only (the access rules
//! say so; the use cases ask them).

use std::collections::BTreeSet;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::rules::access::Action;
use crate::rules::text::FieldErrors;
use crate::rules::words::{DeveloperPermission, ProductWord, UserLevel};
use crate::use_cases::Failure;
use crate::use_cases::users::{self as use_cases, NewUserRequest, UserChange, UserSummary};

use super::context::{PageContext, Section};
use super::error::AppError;
use super::forms::HtmlForm;
use super::login::see_other;

const USERS: &str = "/configure/users";

/// A choice on a form: a level option or a developer permission checkbox.
struct Choice {
    value: &'static str,
    label: &'static str,
    selected: bool,
}

fn levels(chosen: &str) -> Vec<Choice> {
    UserLevel::ALL
        .iter()
        .map(|l| Choice {
            value: l.as_str(),
            label: l.label(),
            selected: l.as_str() == chosen,
        })
        .collect()
}

fn permissions(chosen: &BTreeSet<String>) -> Vec<Choice> {
    DeveloperPermission::ALL
        .iter()
        .map(|p| Choice {
            value: p.as_str(),
            label: p.label(),
            selected: chosen.contains(p.as_str()),
        })
        .collect()
}

struct Row {
    id: i32,
    name: String,
    email: String,
    level: &'static str,
    permissions: Vec<&'static str>,
    disabled: bool,
}

impl From<UserSummary> for Row {
    fn from(user: UserSummary) -> Self {
        Row {
            id: user.id,
            level: user.level.label(),
            permissions: user.permissions.iter().map(|p| p.label()).collect(),
            disabled: user.disabled,
            name: user.name,
            email: user.email,
        }
    }
}

#[derive(Template)]
#[template(path = "users/list.html")]
struct UsersPage {
    rows: Vec<Row>,
    q: String,
    /// `q=...&` for page links, so paging keeps the search.
    query_prefix: String,
    page: i64,
    pages: i64,
    total: i64,
}

#[derive(Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    page: Option<i64>,
}

pub async fn list(
    ctx: PageContext,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let ListQuery { q, page } = query.into_inner();
    let (viewer, search) = (ctx.viewer.clone(), q.clone());
    let paged = ctx
        .db(move |conn| use_cases::list(conn, &viewer, &search, page.unwrap_or(1)))
        .await?;
    let query_prefix = if q.trim().is_empty() {
        String::new()
    } else {
        serde_html_form::to_string([("q", q.trim())])
            .map(|s| format!("{s}&"))
            .unwrap_or_default()
    };
    let body = UsersPage {
        rows: paged.items.into_iter().map(Row::from).collect(),
        q,
        query_prefix,
        page: paged.page,
        pages: paged.pages,
        total: paged.total,
    };
    ctx.render("Users", Section::Users, &body)
}

#[derive(Template)]
#[template(path = "users/edit.html")]
struct UserPage {
    csrf_token: String,
    id: i32,
    name: String,
    email: String,
    levels: Vec<Choice>,
    permissions: Vec<Choice>,
    disabled: bool,
    is_self: bool,
    errors: FieldErrors,
}

async fn user_page(
    ctx: &PageContext,
    id: i32,
    submitted: Option<(UserChange, FieldErrors)>,
) -> Result<UserPage, AppError> {
    let viewer = ctx.viewer.clone();
    let user = ctx
        .db(move |conn| use_cases::find(conn, &viewer, id))
        .await?;
    let (level, chosen, disabled, errors) = match submitted {
        Some((change, errors)) => (
            change.level,
            change.permissions.into_iter().collect(),
            change.disabled,
            errors,
        ),
        None => (
            user.level.as_str().to_owned(),
            user.permissions
                .iter()
                .map(|p| p.as_str().to_owned())
                .collect(),
            user.disabled,
            FieldErrors::default(),
        ),
    };
    Ok(UserPage {
        csrf_token: ctx.csrf_token(),
        id,
        is_self: id == ctx.viewer.id,
        name: user.name,
        email: user.email,
        levels: levels(&level),
        permissions: permissions(&chosen),
        disabled,
        errors,
    })
}

pub async fn show(ctx: PageContext, id: web::Path<i32>) -> Result<HttpResponse, AppError> {
    ctx.require(Action::ManageUsers)?;
    let page = user_page(&ctx, id.into_inner(), None).await?;
    ctx.render(&page.name.clone(), Section::Users, &page)
}

#[derive(Deserialize)]
pub struct UserForm {
    #[serde(default)]
    level: String,
    #[serde(default)]
    permissions: Vec<String>,
    /// A checkbox: present (any value) when ticked.
    disabled: Option<String>,
}

pub async fn update(
    ctx: PageContext,
    id: web::Path<i32>,
    HtmlForm(form): HtmlForm<UserForm>,
) -> Result<HttpResponse, AppError> {
    ctx.require(Action::ManageUsers)?;
    let id = id.into_inner();
    let change = UserChange {
        level: form.level,
        permissions: form.permissions,
        disabled: form.disabled.is_some(),
    };
    let (viewer, submitted) = (ctx.viewer.clone(), change.clone());
    match ctx
        .db(move |conn| use_cases::update(conn, &viewer, id, &submitted))
        .await
    {
        Ok(changed) => {
            tracing::info!(user_id = id, changes = changed.events.len(), "user updated");
            ctx.flash(if changed.events.is_empty() {
                "No changes to save.".to_owned()
            } else if changed.sessions_ended > 0 {
                "Saved. The user is disabled and signed out everywhere.".to_owned()
            } else {
                "Saved. The change applies on the user's next request.".to_owned()
            });
            Ok(see_other(&format!("{USERS}/{id}")))
        }
        Err(Failure::Invalid(errors)) => {
            let page = user_page(&ctx, id, Some((change, errors))).await?;
            ctx.render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &page.name.clone(),
                Section::Users,
                &page,
            )
        }
        Err(other) => Err(other.into()),
    }
}

#[derive(Template)]
#[template(path = "users/new.html")]
struct NewUserPage {
    csrf_token: String,
    name: String,
    email: String,
    levels: Vec<Choice>,
    permissions: Vec<Choice>,
    errors: FieldErrors,
}

impl NewUserPage {
    fn new(ctx: &PageContext, request: NewUserRequest, errors: FieldErrors) -> Self {
        let level = if request.level.is_empty() {
            UserLevel::Basic.as_str().to_owned()
        } else {
            request.level
        };
        NewUserPage {
            csrf_token: ctx.csrf_token(),
            name: request.name,
            email: request.email,
            levels: levels(&level),
            permissions: permissions(&request.permissions.into_iter().collect()),
            errors,
        }
    }
}

pub async fn new_form(ctx: PageContext) -> Result<HttpResponse, AppError> {
    ctx.require(Action::ManageUsers)?;
    let page = NewUserPage::new(&ctx, NewUserRequest::default(), FieldErrors::default());
    ctx.render("Add a user", Section::Users, &page)
}

#[derive(Deserialize)]
pub struct NewUserForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    level: String,
    #[serde(default)]
    permissions: Vec<String>,
}

#[derive(Template)]
#[template(path = "users/created.html")]
struct FirstPassword<'a> {
    id: i32,
    email: &'a str,
    password: &'a str,
}

pub async fn create(
    ctx: PageContext,
    HtmlForm(form): HtmlForm<NewUserForm>,
) -> Result<HttpResponse, AppError> {
    ctx.require(Action::ManageUsers)?;
    let request = NewUserRequest {
        name: form.name,
        email: form.email,
        level: form.level,
        permissions: form.permissions,
    };
    let (viewer, submitted) = (ctx.viewer.clone(), request.clone());
    match ctx
        .db(move |conn| use_cases::add(conn, &viewer, &submitted))
        .await
    {
        Ok(added) => {
            tracing::info!(user_id = added.id, "user added");
            let view = FirstPassword {
                id: added.id,
                email: &added.email,
                password: &added.password,
            };
            ctx.render("User added", Section::Users, &view)
        }
        Err(Failure::Invalid(errors)) => {
            let page = NewUserPage::new(&ctx, request, errors);
            ctx.render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Add a user",
                Section::Users,
                &page,
            )
        }
        Err(other) => Err(other.into()),
    }
}
