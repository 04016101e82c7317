//! actix-session's `SessionStore` over the app's own SQLite database, so sessions survive
//! a restart and signing out ends a session on the server.

use std::collections::HashMap;

use actix_session::storage::{
    LoadError, SaveError, SessionKey, SessionStore, UpdateError, generate_session_key,
};
use actix_web::cookie::time::Duration;
use actix_web::web;

use crate::db::{self, Pool, sessions};

use super::login::USER_ID;

#[derive(Clone)]
pub struct SqliteSessionStore {
    pool: Pool,
}

impl SqliteSessionStore {
    pub fn new(pool: Pool) -> Self {
        Self { pool }
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut db::Conn) -> diesel::QueryResult<T> + Send + 'static,
    ) -> anyhow::Result<T> {
        let pool = self.pool.clone();
        web::block(move || -> anyhow::Result<T> { Ok(work(&mut *pool.get()?)?) }).await?
    }
}

/// The stored id of a session: the BLAKE3 hash of its cookie key.
fn row_id(key: &SessionKey) -> Vec<u8> {
    blake3::hash(key.as_ref().as_bytes()).as_bytes().to_vec()
}

/// Whose session this is: the signed-in user's id, stored JSON-encoded under `user_id`.
fn signed_in_user(state: &HashMap<String, String>) -> Option<i32> {
    state
        .get(USER_ID)
        .and_then(|v| serde_json::from_str::<i32>(v).ok())
}

fn expiry(ttl: &Duration) -> chrono::NaiveDateTime {
    db::now() + chrono::Duration::seconds(ttl.whole_seconds())
}

impl SessionStore for SqliteSessionStore {
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
        let user_id = signed_in_user(&state);
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
        let user_id = signed_in_user(&state);
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
            let mut state = state;
            state.remove(USER_ID);
            self.save(state, ttl)
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
