//! Who is acting: a signed-in person or API token in their active team, as the gate rebuilds
//! it from the database at every use case. It lives here, beside the grants it carries, so the
//! layers below the app (the sync executor) can act for a session without importing `app`.

use super::roles::Grants;
use super::{Actor, Level};
use serde::Serialize;

/// A signed-in person (or API token) acting in their active team.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The Table-1 view of the person (base role, member sites).
    pub actor: Actor,
    /// What the session effectively holds: roles, add-ons, site access, token limits.
    pub grants: Grants,
    /// The API token the session signed in with, if any.
    pub token: Option<TokenInfo>,
}

impl Session {
    pub fn email(&self) -> &str {
        &self.actor.email
    }
    pub fn level(&self) -> Option<Level> {
        self.actor.level()
    }
}

/// The API token a session signed in with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenInfo {
    pub id: i64,
    pub name: String,
    pub prefix: String,
}
