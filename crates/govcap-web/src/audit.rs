//! Writing to the audit trail: every write in the workspace goes through [`record`] inside
//! the same transaction as the write itself, so the trail and the data cannot disagree.

use govcap_store::sql::Tx;
use govcap_store::workspace::{self, AuditEntry, NewAuditEntry};
use govcap_store::StoreError;

use crate::auth::Caller;

/// Who did it, for the entry; captured before the transaction so it can move into it.
#[derive(Debug, Clone)]
pub struct Actor {
    pub name: String,
    pub role: String,
    pub request_id: String,
}

impl Actor {
    pub fn of(c: &Caller) -> Self {
        Actor {
            name: c.name().to_string(),
            role: c.role_str().to_string(),
            request_id: c.request_id.clone(),
        }
    }
}

/// Appends one entry. `before`/`after` are JSON values of the object (None: absent).
pub fn record(
    tx: &mut dyn Tx,
    actor: &Actor,
    action: &str,
    object: &str,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
) -> Result<AuditEntry, StoreError> {
    workspace::append_audit(
        tx,
        &NewAuditEntry {
            at: crate::clock::now(),
            actor: actor.name.clone(),
            role: actor.role.clone(),
            action: action.to_string(),
            object: object.to_string(),
            before: before.map(|v| v.to_string()),
            after: after.map(|v| v.to_string()),
            request_id: actor.request_id.clone(),
        },
    )
}
