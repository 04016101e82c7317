//! The database, off the async workers: every query of the web layer (pages and the
//! session store) runs through `run` on actix's blocking threads.

use actix_web::web;

use crate::db::{Conn, Pool};

/// Runs `work` on a pooled connection on a blocking thread.
pub async fn run<T, E>(
    pool: &Pool,
    work: impl FnOnce(&mut Conn) -> Result<T, E> + Send + 'static,
) -> Result<T, E>
where
    T: Send + 'static,
    E: From<anyhow::Error> + Send + 'static,
{
    let pool = pool.clone();
    web::block(move || {
        let mut conn = pool.get().map_err(|e| E::from(e.into()))?;
        work(&mut conn)
    })
    .await
    .map_err(|e| E::from(e.into()))?
}
