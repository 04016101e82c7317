//! The stylesheet, the app's script and htmx, embedded in the binary and served under
//! `/static/` with validators so browsers revalidate cheaply.

use std::sync::LazyLock;

use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use actix_web::{HttpRequest, HttpResponse, web};

use super::error::AppError;

struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

const ASSETS: &[Asset] = &[
    Asset {
        name: "app.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("../../static/app.css"),
    },
    Asset {
        name: "app.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../static/app.js"),
    },
    Asset {
        name: "htmx.min.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../static/htmx.min.js"),
    },
];

/// Each asset's entity tag: a hash of its bytes, computed once.
static ETAGS: LazyLock<Vec<String>> = LazyLock::new(|| {
    ASSETS
        .iter()
        .map(|a| format!("\"{}\"", &blake3::hash(a.body).to_hex()[..16]))
        .collect()
});

pub async fn serve(req: HttpRequest, name: web::Path<String>) -> Result<HttpResponse, AppError> {
    let index = ASSETS
        .iter()
        .position(|a| a.name == name.as_str())
        .ok_or(AppError::NotFound("File"))?;
    let asset = &ASSETS[index];
    let etag = &ETAGS[index];
    let cache = (CACHE_CONTROL, "public, max-age=3600, must-revalidate");
    let fresh = req
        .headers()
        .get(IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    if fresh {
        return Ok(HttpResponse::NotModified()
            .insert_header(cache)
            .insert_header((ETAG, etag.as_str()))
            .finish());
    }
    Ok(HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, asset.content_type))
        .insert_header(cache)
        .insert_header((ETAG, etag.as_str()))
        .body(asset.body))
}
