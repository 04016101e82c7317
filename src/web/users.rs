//! Configure → Users: the list, a user's page (level, developer permissions, disabled),
//! and adding a user with a first password shown once. Site Admins only (the access rules
//! say so; the use cases ask them).

use std::collections::BTreeSet;

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::rules::text::FieldErrors;
use crate::rules::words::{DeveloperPermission, ProductWord, UserLevel};
use crate::use_cases::users::{self as use_cases, NewUserRequest, UserChange, UserSummary};

use super::context::{PageContext, Section};
use super::display::paged_title;
use super::error::AppError;
use super::forms::{Choice, HtmlForm, refused_fields};
use super::respond::see_other;
use super::urls::{USER, with_id};

fn levels(chosen: &str) -> Vec<Choice> {
    Choice::words(|l: UserLevel| l.as_str() == chosen)
}

fn permissions(chosen: &BTreeSet<String>) -> Vec<Choice> {
    Choice::words(|p: DeveloperPermission| chosen.contains(p.as_str()))
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
    let search = q.clone();
    let paged = ctx
        .read(move |conn, viewer| use_cases::list(conn, viewer, &search, page.unwrap_or(1)))
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
    let title = paged_title("Users", body.page, body.pages);
    ctx.render(&title, Section::Users, &body)
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

/// A user's page: as stored, or as submitted with what was refused.
async fn user_page(
    ctx: &PageContext,
    id: i32,
    submitted: Option<(UserForm, FieldErrors)>,
) -> Result<UserPage, AppError> {
    let user = ctx
        .read(move |conn, viewer| use_cases::find(conn, viewer, id))
        .await?;
    let (level, chosen, disabled, errors) = match submitted {
        Some((form, errors)) => (
            form.level,
            form.permissions.into_iter().collect(),
            form.disabled.is_some(),
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
    let id = id.into_inner();
    let updated = match UserChange::parse(&form.level, &form.permissions, form.disabled.is_some()) {
        Ok(change) => refused_fields(
            ctx.write(move |conn, viewer| use_cases::update(conn, viewer, id, &change))
                .await,
        )?,
        Err(errors) => Err(errors),
    };
    match updated {
        Ok(changed) => {
            tracing::info!(user_id = id, changes = changed.events.len(), "user updated");
            ctx.flash(if changed.events.is_empty() {
                "No changes to save.".to_owned()
            } else if changed.sessions_ended > 0 {
                "Saved. The user is disabled and signed out everywhere.".to_owned()
            } else {
                "Saved. The change applies on the user's next request.".to_owned()
            });
            Ok(see_other(&with_id(USER, id)))
        }
        Err(errors) => {
            let page = user_page(&ctx, id, Some((form, errors))).await?;
            ctx.render_refused(&page.name.clone(), Section::Users, &page)
        }
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
    fn new(ctx: &PageContext, form: NewUserForm, errors: FieldErrors) -> Self {
        let level = if form.level.is_empty() {
            UserLevel::Basic.as_str().to_owned()
        } else {
            form.level
        };
        NewUserPage {
            csrf_token: ctx.csrf_token(),
            name: form.name,
            email: form.email,
            levels: levels(&level),
            permissions: permissions(&form.permissions.into_iter().collect()),
            errors,
        }
    }
}

pub async fn new_form(ctx: PageContext) -> Result<HttpResponse, AppError> {
    let page = NewUserPage::new(&ctx, NewUserForm::default(), FieldErrors::default());
    ctx.render("Add a user", Section::Users, &page)
}

#[derive(Deserialize, Default)]
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
    let added = match NewUserRequest::parse(&form.name, &form.email, &form.level, &form.permissions)
    {
        Ok(request) => refused_fields(
            ctx.write(move |conn, viewer| use_cases::add(conn, viewer, &request))
                .await,
        )?,
        Err(errors) => Err(errors),
    };
    match added {
        Ok(added) => {
            tracing::info!(user_id = added.id, "user added");
            let view = FirstPassword {
                id: added.id,
                email: added.email.as_str(),
                password: added.password.reveal(),
            };
            ctx.render("User added", Section::Users, &view)
        }
        Err(errors) => {
            let page = NewUserPage::new(&ctx, form, errors);
            ctx.render_refused("Add a user", Section::Users, &page)
        }
    }
}
