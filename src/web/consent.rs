//! The consent page of partner OAuth (RFC 6749 section 4.1): a signed-in person reads what
//! a partner asks for and authorizes it (an integration and a short-lived code, sent back
//! to the partner's redirect URI) or denies it. An untrusted client or redirect URI is an
//! error page here, never a redirect: nothing is sent to an address the partner did not
//! register.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, web};
use askama::Template;
use secrecy::ExposeSecret;
use serde::Deserialize;
use url::Url;

use crate::rules::access::Action;
use crate::use_cases::consent::{self, Consent};
use crate::use_cases::integrations::{self, AuthorizeParams, AuthorizeRefusal};

use super::context::PageContext;
use super::error::AppError;
use super::forms::HtmlForm;
use super::picker::ScopePicker;
use super::respond::see_other;

/// How long an authorization code lives (`--authorization-code-lifetime`).
#[derive(Debug, Clone, Copy)]
pub struct CodeLifetime(pub chrono::Duration);

#[derive(Template)]
#[template(path = "consent.html")]
struct ConsentPage<'a> {
    csrf_token: String,
    partner: &'a str,
    person: &'a str,
    /// The request as checked, carried by the form's hidden fields.
    request: AuthorizeParams,
    scopes: ScopePicker,
    /// Why this person cannot authorize, when they cannot.
    refusal: Option<&'static str>,
    may_use_service_account: bool,
    /// Where the answer goes, for the person to recognise.
    returns_to: String,
}

impl ConsentPage<'_> {
    /// A resource as a heading: `application_stages` reads "Application stages".
    fn resource_heading(resource: &str) -> String {
        let words = resource.replace('_', " ");
        let mut chars = words.chars();
        chars
            .next()
            .map(|first| first.to_uppercase().chain(chars).collect())
            .unwrap_or_default()
    }
}

/// `GET /oauth/authorize?…`: the consent page, or the refusal.
pub async fn page(
    ctx: PageContext,
    query: web::Query<AuthorizeParams>,
) -> Result<HttpResponse, AppError> {
    let params = query.into_inner();
    let reviewed = ctx
        .read(move |conn, viewer| consent::review(conn, viewer, &params))
        .await?;
    let consent = match reviewed {
        Ok(consent) => consent,
        Err(refusal) => return refused(refusal),
    };
    render(&ctx, consent)
}

fn render(ctx: &PageContext, consent: Consent) -> Result<HttpResponse, AppError> {
    let Consent {
        request,
        scopes,
        may_authorize,
        may_use_service_account,
    } = consent;
    let redirect = Url::parse(&request.redirect_uri).map_err(|_| not_redirectable())?;
    let partner = request.client_application.name.clone();
    let body = ConsentPage {
        csrf_token: ctx.csrf_token(),
        partner: &partner,
        person: &ctx.viewer.name,
        request: AuthorizeParams {
            response_type: "code".into(),
            client_id: request.client.client_id.clone().unwrap_or_default(),
            redirect_uri: request.redirect_uri.clone(),
            scope: request.scopes.join(" "),
            state: request.state.clone().unwrap_or_default(),
            code_challenge: request.code_challenge.clone().unwrap_or_default(),
            // The only method `check` accepts.
            code_challenge_method: match request.code_challenge {
                Some(_) => "S256".into(),
                None => String::new(),
            },
        },
        scopes: ScopePicker::new(&scopes, |_| false),
        refusal: (!may_authorize).then(|| Action::AuthorizeIntegration.refusal()),
        may_use_service_account,
        returns_to: redirect.origin().ascii_serialization(),
    };
    let mut response =
        ctx.render_standalone(StatusCode::OK, &format!("Authorize {partner}"), &body)?;
    // The answer to this form is a redirect to the partner: the page's policy lets the
    // form lead there (browsers apply `form-action` to a submission's redirects too).
    let policy = crate::security_headers::policy_with_form_action_to(&body.returns_to);
    let policy = HeaderValue::from_str(&policy).map_err(|_| not_redirectable())?;
    response
        .headers_mut()
        .insert(header::CONTENT_SECURITY_POLICY, policy);
    Ok(response)
}

/// What the consent form sends: the request again (checked again, never trusted) and the
/// person's decision.
#[derive(Deserialize)]
pub struct Decision {
    #[serde(flatten)]
    params: AuthorizeParams,
    #[serde(default)]
    decision: String,
    #[serde(default)]
    service_account: String,
}

/// `POST /oauth/authorize`: Authorize (an integration and a code) or Deny.
pub async fn decide(
    ctx: PageContext,
    lifetime: web::Data<CodeLifetime>,
    HtmlForm(form): HtmlForm<Decision>,
) -> Result<HttpResponse, AppError> {
    let params = form.params;
    let request = match ctx
        .read(move |conn, _| Ok(integrations::check(conn, &params)))
        .await?
    {
        Ok(request) => request,
        Err(refusal) => return refused(refusal),
    };
    match form.decision.as_str() {
        "deny" => back_to_partner(
            &request.redirect_uri,
            &[
                ("error", "access_denied"),
                ("error_description", "The person denied the request."),
            ],
            request.state.as_deref(),
        ),
        "authorize" => {
            let service_account = form.service_account == "on";
            let lifetime = lifetime.0;
            let (redirect_uri, state) = (request.redirect_uri.clone(), request.state.clone());
            let (integration_id, code) = ctx
                .write(move |conn, viewer| {
                    integrations::authorize(conn, viewer, &request, service_account, lifetime)
                })
                .await?;
            tracing::info!(integration_id, service_account, "integration authorized");
            back_to_partner(
                &redirect_uri,
                &[("code", code.expose_secret())],
                state.as_deref(),
            )
        }
        _ => Err(AppError::BadRequest(
            "Choose Authorize or Deny on the consent page.".into(),
        )),
    }
}

/// A refusal of the request: an error page when the client or its redirect URI cannot be
/// trusted, otherwise back to the partner with the error.
fn refused(refusal: AuthorizeRefusal) -> Result<HttpResponse, AppError> {
    match refusal {
        AuthorizeRefusal::NotRedirectable(why) => Err(AppError::BadRequest(why.to_owned())),
        AuthorizeRefusal::Redirect {
            redirect_uri,
            error,
            description,
            state,
        } => back_to_partner(
            &redirect_uri,
            &[("error", error), ("error_description", &description)],
            state.as_deref(),
        ),
    }
}

/// 303 to the registered redirect URI with `pairs` and `state` added to whatever query it
/// already has.
fn back_to_partner(
    redirect_uri: &str,
    pairs: &[(&str, &str)],
    state: Option<&str>,
) -> Result<HttpResponse, AppError> {
    let mut url = Url::parse(redirect_uri).map_err(|_| not_redirectable())?;
    {
        let mut query = url.query_pairs_mut();
        query.extend_pairs(pairs);
        if let Some(state) = state {
            query.append_pair("state", state);
        }
    }
    let mut response = see_other(url.as_str());
    // The address carries a code: no cache keeps it.
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// A registered redirect URI that does not parse: stored before the rules checked it.
fn not_redirectable() -> AppError {
    AppError::BadRequest(
        "This application's redirect URI is not a valid address, so Dev Center will not send you there."
            .into(),
    )
}
