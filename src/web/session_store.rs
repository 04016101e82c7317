//! actix-session's `SessionStore` over the app's own database (SQLite or PostgreSQL), so
//! sessions survive a restart, every instance on one database shares them, and signing
//! out ends a session on the server.

use std::collections::HashMap;

use actix_session::storage::{
    LoadError, SaveError, SessionKey, SessionStore, UpdateError, generate_session_key,
};
use actix_web::cookie::time::Duration;

use crate::db::{self, Pool, sessions};

use super::database;
use super::session::{signed_out, stored_user_id};

#[derive(Clone)]
pub struct DatabaseSessionStore {
    pool: Pool,
}

impl DatabaseSessionStore {
    pub fn new(pool: Pool) -> Self {
        Self { pool }
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut db::Conn) -> diesel::QueryResult<T> + Send + 'static,
    ) -> anyhow::Result<T> {
        database::run(&self.pool, move |conn| Ok(work(conn)?)).await
    }
}

/// The stored id of a session: the BLAKE3 hash of its cookie key.
fn row_id(key: &SessionKey) -> Vec<u8> {
    blake3::hash(key.as_ref().as_bytes()).as_bytes().to_vec()
}

fn expiry(ttl: &Duration) -> chrono::NaiveDateTime {
    db::now() + chrono::Duration::seconds(ttl.whole_seconds())
}

impl SessionStore for DatabaseSessionStore {
    async fn load(&self, key: &SessionKey) -> Result<Option<HashMap<String, String>>, LoadError> {
        let id = row_id(key);
        let state = self
            .run(move |conn| sessions::load(conn, &id, db::now()))
            .await
            .map_err(LoadError::Other)?;
        state
            .map(|s| serde_json::from_str(&s).map_err(|e| LoadError::Deserialization(e.into())))
            .transpose()
    }

    async fn save(
        &self,
        state: HashMap<String, String>,
        ttl: &Duration,
    ) -> Result<SessionKey, SaveError> {
        let body = serde_json::to_string(&state).map_err(|e| SaveError::Serialization(e.into()))?;
        let user_id = stored_user_id(&state);
        let key = generate_session_key();
        let id = row_id(&key);
        let expires_at = expiry(ttl);
        self.run(move |conn| sessions::save(conn, &id, &body, user_id, expires_at, db::now()))
            .await
            .map_err(SaveError::Other)?;
        Ok(key)
    }

    async fn update(
        &self,
        key: SessionKey,
        state: HashMap<String, String>,
        ttl: &Duration,
    ) -> Result<SessionKey, UpdateError> {
        let body =
            serde_json::to_string(&state).map_err(|e| UpdateError::Serialization(e.into()))?;
        let user_id = stored_user_id(&state);
        let id = row_id(&key);
        let expires_at = expiry(ttl);
        let updated = self
            .run(move |conn| sessions::update(conn, &id, &body, user_id, expires_at, db::now()))
            .await
            .map_err(UpdateError::Other)?;
        if updated {
            Ok(key)
        } else {
            // The session ended meanwhile (signed out, its user disabled, expired): start a
            // new, signed-out one rather than bring the old key, or the sign-in, back to life.
            self.save(signed_out(state), ttl)
                .await
                .map_err(|e| UpdateError::Other(e.into()))
        }
    }

    async fn update_ttl(&self, key: &SessionKey, ttl: &Duration) -> anyhow::Result<()> {
        let id = row_id(key);
        let expires_at = expiry(ttl);
        self.run(move |conn| sessions::extend(conn, &id, expires_at))
            .await
    }

    async fn delete(&self, key: &SessionKey) -> anyhow::Result<()> {
        let id = row_id(key);
        self.run(move |conn| sessions::delete(conn, &id)).await
    }
}
