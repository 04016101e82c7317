//! `GET /.well-known/jwks.json`: the published token signing keys, for upstreams that
//! verify access tokens on their own.

use actix_web::http::header::{CacheControl, CacheDirective, ContentType};
use actix_web::{HttpResponse, web};

use super::signing::SigningKeys;

/// Upstreams may keep the set for five minutes. A key made by a rotation signs within a
/// reload interval, so an upstream that meets a `kid` it does not know fetches the set
/// again; a retired key stays in it for an hour and more.
const MAX_AGE_SECONDS: u32 = 300;

pub async fn jwks(keys: web::Data<SigningKeys>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(ContentType::json())
        .insert_header(CacheControl(vec![
            CacheDirective::Public,
            CacheDirective::MaxAge(MAX_AGE_SECONDS),
        ]))
        .body(keys.jwks())
}
