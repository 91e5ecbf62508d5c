//! The team workspace's tables: accounts, sessions, API tokens, run publication and the
//! append-only, hash-chained audit log.
//!
//! Every function takes an open [`Tx`], so a write and its audit entry commit together or not
//! at all (the web layer calls [`crate::Store::transact`] once per request). The SQL is shared
//! by both backends (see [`crate::sql`]).
//!
//! Secrets never reach these tables in the clear: passwords arrive as argon2id hashes, session
//! ids and API tokens as SHA-256 digests of the random value the client holds.

use sha2::{Digest, Sha256};

use crate::sql::{Dialect, Row, Tx};
use crate::StoreError;

/// An account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub name: String,
    /// `admin`, `lead`, `evaluator`, `reviewer` or `unit` (checked by the caller's type).
    pub role: String,
    /// For `unit` accounts, the unit codes they represent.
    pub units: Vec<String>,
    pub disabled: bool,
    /// argon2id PHC string.
    pub password_hash: String,
    pub created_at: String,
    pub updated_at: String,
}

const USER_COLS: &str =
    "u.id, u.name, u.role, u.units, u.disabled, u.password_hash, u.created_at, u.updated_at";

fn user_from(r: &Row, at: usize) -> Result<User, StoreError> {
    let units = r.text(at + 3)?;
    Ok(User {
        id: r.int(at)?,
        name: r.text(at + 1)?,
        role: r.text(at + 2)?,
        units: units
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
        disabled: r.int(at + 4)? != 0,
        password_hash: r.text(at + 5)?,
        created_at: r.text(at + 6)?,
        updated_at: r.text(at + 7)?,
    })
}

/// A new account as handed over for storing.
#[derive(Debug, Clone)]
pub struct NewUser<'a> {
    pub name: &'a str,
    pub role: &'a str,
    pub units: &'a [String],
    pub password_hash: &'a str,
    pub now: &'a str,
}

/// Adds an account; refuses a name already taken.
pub fn create_user(tx: &mut dyn Tx, u: &NewUser) -> Result<User, StoreError> {
    if find_user(tx, u.name)?.is_some() {
        return Err(StoreError::Conflict(format!(
            "a user named {:?} already exists",
            u.name
        )));
    }
    let row = tx.query_one(
        "INSERT INTO app_user (name, role, units, disabled, password_hash, created_at, updated_at)
         VALUES ($1, $2, $3, 0, $4, $5, $5) RETURNING id",
        &[
            u.name.into(),
            u.role.into(),
            u.units.join(",").into(),
            u.password_hash.into(),
            u.now.into(),
        ],
    )?;
    user_by_id(tx, row.int(0)?)?.ok_or_else(|| StoreError::Corrupt("new user vanished".into()))
}

pub fn find_user(tx: &mut dyn Tx, name: &str) -> Result<Option<User>, StoreError> {
    tx.query_opt(
        &format!("SELECT {USER_COLS} FROM app_user u WHERE u.name = $1"),
        &[name.into()],
    )?
    .map(|r| user_from(&r, 0))
    .transpose()
}

pub fn user_by_id(tx: &mut dyn Tx, id: i64) -> Result<Option<User>, StoreError> {
    tx.query_opt(
        &format!("SELECT {USER_COLS} FROM app_user u WHERE u.id = $1"),
        &[id.into()],
    )?
    .map(|r| user_from(&r, 0))
    .transpose()
}

pub fn list_users(tx: &mut dyn Tx) -> Result<Vec<User>, StoreError> {
    tx.query(
        &format!("SELECT {USER_COLS} FROM app_user u ORDER BY u.name"),
        &[],
    )?
    .iter()
    .map(|r| user_from(r, 0))
    .collect()
}

/// Disables (or re-enables) an account; a disabled account's sessions and tokens stop working
/// at once because every lookup checks the flag. Returns the account before the change.
pub fn set_disabled(
    tx: &mut dyn Tx,
    name: &str,
    disabled: bool,
    now: &str,
) -> Result<User, StoreError> {
    let before =
        find_user(tx, name)?.ok_or_else(|| StoreError::NotFound(format!("user {name:?}")))?;
    tx.exec(
        "UPDATE app_user SET disabled = $1, updated_at = $2 WHERE id = $3",
        &[disabled.into(), now.into(), before.id.into()],
    )?;
    if disabled {
        end_user_sessions(tx, before.id, now)?;
    }
    Ok(before)
}

/// Replaces an account's password hash and ends its sessions.
pub fn set_password(
    tx: &mut dyn Tx,
    name: &str,
    hash: &str,
    now: &str,
) -> Result<User, StoreError> {
    let before =
        find_user(tx, name)?.ok_or_else(|| StoreError::NotFound(format!("user {name:?}")))?;
    tx.exec(
        "UPDATE app_user SET password_hash = $1, updated_at = $2 WHERE id = $3",
        &[hash.into(), now.into(), before.id.into()],
    )?;
    end_user_sessions(tx, before.id, now)?;
    Ok(before)
}

/// A live session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub user: User,
    pub csrf_token: String,
    pub created_at: String,
    pub last_seen: String,
    pub expires_at: String,
}

/// Stores a session under the digest of its id.
pub fn create_session(
    tx: &mut dyn Tx,
    id_hash: &str,
    user_id: i64,
    csrf_token: &str,
    now: &str,
    expires_at: &str,
) -> Result<(), StoreError> {
    tx.exec(
        "INSERT INTO user_session (id_hash, user_id, csrf_token, created_at, last_seen, expires_at)
         VALUES ($1, $2, $3, $4, $4, $5)",
        &[
            id_hash.into(),
            user_id.into(),
            csrf_token.into(),
            now.into(),
            expires_at.into(),
        ],
    )?;
    Ok(())
}

/// The session with this id digest, if it has not ended, its user is enabled, and neither the
/// absolute expiry nor `idle_cutoff` (sessions last seen before it are idle) has passed.
pub fn live_session(
    tx: &mut dyn Tx,
    id_hash: &str,
    now: &str,
    idle_cutoff: &str,
) -> Result<Option<Session>, StoreError> {
    let row = tx.query_opt(
        &format!(
            "SELECT s.csrf_token, s.created_at, s.last_seen, s.expires_at, {USER_COLS}
             FROM user_session s JOIN app_user u ON u.id = s.user_id
             WHERE s.id_hash = $1 AND s.ended_at IS NULL AND u.disabled = 0
               AND s.expires_at > $2 AND s.last_seen >= $3"
        ),
        &[id_hash.into(), now.into(), idle_cutoff.into()],
    )?;
    row.map(|r| {
        Ok(Session {
            csrf_token: r.text(0)?,
            created_at: r.text(1)?,
            last_seen: r.text(2)?,
            expires_at: r.text(3)?,
            user: user_from(&r, 4)?,
        })
    })
    .transpose()
}

/// Moves a session's idle clock forward.
pub fn touch_session(tx: &mut dyn Tx, id_hash: &str, now: &str) -> Result<(), StoreError> {
    tx.exec(
        "UPDATE user_session SET last_seen = $1 WHERE id_hash = $2 AND ended_at IS NULL",
        &[now.into(), id_hash.into()],
    )?;
    Ok(())
}

/// Ends a session (logout). Returns whether a live one was ended.
pub fn end_session(tx: &mut dyn Tx, id_hash: &str, now: &str) -> Result<bool, StoreError> {
    Ok(tx.exec(
        "UPDATE user_session SET ended_at = $1 WHERE id_hash = $2 AND ended_at IS NULL",
        &[now.into(), id_hash.into()],
    )? > 0)
}

fn end_user_sessions(tx: &mut dyn Tx, user_id: i64, now: &str) -> Result<(), StoreError> {
    tx.exec(
        "UPDATE user_session SET ended_at = $1 WHERE user_id = $2 AND ended_at IS NULL",
        &[now.into(), user_id.into()],
    )?;
    Ok(())
}

/// An API token's metadata (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    pub id: i64,
    pub user_id: i64,
    pub label: String,
    /// The first characters of the token, so a user can tell tokens apart.
    pub prefix: String,
    pub created_at: String,
    pub revoked_at: Option<String>,
}

fn token_from(r: &Row) -> Result<ApiToken, StoreError> {
    Ok(ApiToken {
        id: r.int(0)?,
        user_id: r.int(1)?,
        label: r.text(2)?,
        prefix: r.text(3)?,
        created_at: r.text(4)?,
        revoked_at: r.opt_text(5)?,
    })
}

pub fn create_token(
    tx: &mut dyn Tx,
    user_id: i64,
    token_hash: &str,
    label: &str,
    prefix: &str,
    now: &str,
) -> Result<ApiToken, StoreError> {
    let row = tx.query_one(
        "INSERT INTO api_token (user_id, token_hash, label, prefix, created_at)
         VALUES ($1, $2, $3, $4, $5)
         RETURNING id, user_id, label, prefix, created_at, revoked_at",
        &[
            user_id.into(),
            token_hash.into(),
            label.into(),
            prefix.into(),
            now.into(),
        ],
    )?;
    token_from(&row)
}

/// The enabled user behind an unrevoked token.
pub fn token_user(tx: &mut dyn Tx, token_hash: &str) -> Result<Option<User>, StoreError> {
    tx.query_opt(
        &format!(
            "SELECT {USER_COLS} FROM api_token t JOIN app_user u ON u.id = t.user_id
             WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND u.disabled = 0"
        ),
        &[token_hash.into()],
    )?
    .map(|r| user_from(&r, 0))
    .transpose()
}

pub fn list_tokens(tx: &mut dyn Tx, user_id: i64) -> Result<Vec<ApiToken>, StoreError> {
    tx.query(
        "SELECT id, user_id, label, prefix, created_at, revoked_at FROM api_token
         WHERE user_id = $1 ORDER BY id",
        &[user_id.into()],
    )?
    .iter()
    .map(token_from)
    .collect()
}

/// Revokes one of `user_id`'s tokens; `None` when it has no such live token.
pub fn revoke_token(
    tx: &mut dyn Tx,
    user_id: i64,
    token_id: i64,
    now: &str,
) -> Result<Option<ApiToken>, StoreError> {
    let n = tx.exec(
        "UPDATE api_token SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL",
        &[now.into(), token_id.into(), user_id.into()],
    )?;
    if n == 0 {
        return Ok(None);
    }
    tx.query_opt(
        "SELECT id, user_id, label, prefix, created_at, revoked_at FROM api_token WHERE id = $1",
        &[token_id.into()],
    )?
    .map(|r| token_from(&r))
    .transpose()
}

/// Whether a run is published, and by whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publication {
    pub run_id: i64,
    pub published: bool,
    pub changed_at: String,
    pub changed_by: String,
}

/// Publishes or unpublishes a run; returns the state before (`None`: never published).
pub fn set_published(
    tx: &mut dyn Tx,
    run_id: i64,
    published: bool,
    now: &str,
    by: &str,
) -> Result<Option<Publication>, StoreError> {
    let exists = tx
        .query_opt("SELECT id FROM run WHERE id = $1", &[run_id.into()])?
        .is_some();
    if !exists {
        return Err(StoreError::NotFound(format!("run {run_id}")));
    }
    let before = publication(tx, run_id)?;
    tx.exec(
        "INSERT INTO run_publication (run_id, published, changed_at, changed_by)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (run_id) DO UPDATE SET published = $2, changed_at = $3, changed_by = $4",
        &[run_id.into(), published.into(), now.into(), by.into()],
    )?;
    Ok(before)
}

pub fn publication(tx: &mut dyn Tx, run_id: i64) -> Result<Option<Publication>, StoreError> {
    tx.query_opt(
        "SELECT run_id, published, changed_at, changed_by FROM run_publication WHERE run_id = $1",
        &[run_id.into()],
    )?
    .map(|r| pub_from(&r))
    .transpose()
}

fn pub_from(r: &Row) -> Result<Publication, StoreError> {
    Ok(Publication {
        run_id: r.int(0)?,
        published: r.int(1)? != 0,
        changed_at: r.text(2)?,
        changed_by: r.text(3)?,
    })
}

/// Ids of the published runs, ascending.
pub fn published_run_ids(tx: &mut dyn Tx) -> Result<Vec<i64>, StoreError> {
    tx.query(
        "SELECT run_id FROM run_publication WHERE published = 1 ORDER BY run_id",
        &[],
    )?
    .iter()
    .map(|r| r.int(0))
    .collect()
}

/// Records the statistical audit of a run (JSON of `govcap_core::audit::Audit`); a run may be
/// audited again, the newest audit is the one shown.
pub fn save_run_audit(
    tx: &mut dyn Tx,
    run_id: i64,
    created_at: &str,
    factors: &str,
    audit_json: &str,
) -> Result<i64, StoreError> {
    tx.query_one(
        "INSERT INTO run_audit (run_id, created_at, factors, audit_json) VALUES ($1, $2, $3, $4)
         RETURNING id",
        &[
            run_id.into(),
            created_at.into(),
            factors.into(),
            audit_json.into(),
        ],
    )?
    .int(0)
}

/// The newest audit of a run, as JSON.
pub fn run_audit(tx: &mut dyn Tx, run_id: i64) -> Result<Option<String>, StoreError> {
    tx.query_opt(
        "SELECT audit_json FROM run_audit WHERE run_id = $1 ORDER BY id DESC LIMIT 1",
        &[run_id.into()],
    )?
    .map(|r| r.text(0))
    .transpose()
}

/// Ids of the runs that have an audit, ascending.
pub fn audited_run_ids(tx: &mut dyn Tx) -> Result<Vec<i64>, StoreError> {
    tx.query("SELECT DISTINCT run_id FROM run_audit ORDER BY run_id", &[])?
        .iter()
        .map(|r| r.int(0))
        .collect()
}

/// An audit-trail entry as handed over for appending.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewAuditEntry {
    pub at: String,
    /// Account name, or `-` for an anonymous request (e.g. a failed login).
    pub actor: String,
    /// The actor's role, or `-`.
    pub role: String,
    /// What happened, e.g. `session.login`, `run.publish`.
    pub action: String,
    /// What it happened to, e.g. `run/3`, `user/alice`.
    pub object: String,
    /// JSON of the object before (`None`: did not exist / not applicable).
    pub before: Option<String>,
    /// JSON of the object after.
    pub after: Option<String>,
    /// The request that did it (from the request log), or `cli`.
    pub request_id: String,
}

/// A stored audit entry: the entry plus its place in the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub seq: i64,
    pub entry: NewAuditEntry,
    /// The previous entry's hash (64 zeros for the first).
    pub prev_hash: String,
    /// SHA-256 over `prev_hash` and every field of this entry.
    pub hash: String,
}

/// The chain's starting value.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The hash of an entry: SHA-256 over the previous hash, the sequence number and each field,
/// every part prefixed with its length so no two different entries serialise alike.
pub fn entry_hash(prev_hash: &str, seq: i64, e: &NewAuditEntry) -> String {
    let mut h = Sha256::new();
    let seq = seq.to_string();
    let parts: [Option<&str>; 11] = [
        Some(prev_hash),
        Some(&seq),
        Some(&e.at),
        Some(&e.actor),
        Some(&e.role),
        Some(&e.action),
        Some(&e.object),
        e.before.as_deref(),
        e.after.as_deref(),
        Some(&e.request_id),
        Some("govcap-audit-v1"),
    ];
    for p in parts {
        match p {
            None => h.update(b"-1:"),
            Some(s) => {
                h.update(s.len().to_string().as_bytes());
                h.update(b":");
                h.update(s.as_bytes());
            }
        }
        h.update(b";");
    }
    hex(&h.finalize())
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}

/// Appends an entry at the chain's head. Concurrent appenders are serialised (SQLite by its
/// write lock, PostgreSQL by an explicit lock on the head row), so the chain never forks.
pub fn append_audit(tx: &mut dyn Tx, e: &NewAuditEntry) -> Result<AuditEntry, StoreError> {
    let head_sql = match tx.dialect() {
        Dialect::Sqlite => "SELECT seq, hash FROM audit_head WHERE id = 1",
        Dialect::Postgres => "SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE",
    };
    let head = tx.query_one(head_sql, &[])?;
    let (last, prev_hash) = (head.int(0)?, head.text(1)?);
    let seq = last + 1;
    let hash = entry_hash(&prev_hash, seq, e);
    tx.exec(
        "INSERT INTO audit_log (seq, at, actor, role, action, object, before_json, after_json,
             request_id, prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        &[
            seq.into(),
            e.at.as_str().into(),
            e.actor.as_str().into(),
            e.role.as_str().into(),
            e.action.as_str().into(),
            e.object.as_str().into(),
            e.before.as_deref().into(),
            e.after.as_deref().into(),
            e.request_id.as_str().into(),
            prev_hash.as_str().into(),
            hash.as_str().into(),
        ],
    )?;
    tx.exec(
        "UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1",
        &[seq.into(), hash.as_str().into()],
    )?;
    Ok(AuditEntry {
        seq,
        entry: e.clone(),
        prev_hash,
        hash,
    })
}

const AUDIT_COLS: &str = "seq, at, actor, role, action, object, before_json, after_json, \
                          request_id, prev_hash, hash";

fn audit_from(r: &Row) -> Result<AuditEntry, StoreError> {
    Ok(AuditEntry {
        seq: r.int(0)?,
        entry: NewAuditEntry {
            at: r.text(1)?,
            actor: r.text(2)?,
            role: r.text(3)?,
            action: r.text(4)?,
            object: r.text(5)?,
            before: r.opt_text(6)?,
            after: r.opt_text(7)?,
            request_id: r.text(8)?,
        },
        prev_hash: r.text(9)?,
        hash: r.text(10)?,
    })
}

/// Which audit entries to list; newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    /// Only entries with `seq` below this (the next page's cursor).
    pub before_seq: Option<i64>,
    pub action: Option<String>,
    pub actor: Option<String>,
    pub limit: i64,
}

pub fn audit_entries(tx: &mut dyn Tx, q: &AuditQuery) -> Result<Vec<AuditEntry>, StoreError> {
    tx.query(
        &format!(
            "SELECT {AUDIT_COLS} FROM audit_log
             WHERE (CAST($1 AS BIGINT) IS NULL OR seq < CAST($1 AS BIGINT))
               AND (CAST($2 AS TEXT) IS NULL OR action = CAST($2 AS TEXT))
               AND (CAST($3 AS TEXT) IS NULL OR actor = CAST($3 AS TEXT))
             ORDER BY seq DESC LIMIT $4"
        ),
        &[
            q.before_seq.into(),
            q.action.clone().into(),
            q.actor.clone().into(),
            q.limit.clamp(1, 10_000).into(),
        ],
    )?
    .iter()
    .map(audit_from)
    .collect()
}

/// The result of checking the whole chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    pub entries: i64,
    /// The head hash: write it down elsewhere to detect a rewrite of the whole chain.
    pub head_hash: String,
    /// Every break found, in words, with the entry's sequence number.
    pub problems: Vec<String>,
}

/// Recomputes every hash and link. An edited entry fails its own hash; a deleted one leaves a
/// gap in the sequence and a broken link; a deleted tail disagrees with the head row.
pub fn verify_audit(tx: &mut dyn Tx) -> Result<ChainReport, StoreError> {
    let rows = tx.query(
        &format!("SELECT {AUDIT_COLS} FROM audit_log ORDER BY seq"),
        &[],
    )?;
    let head = tx.query_one("SELECT seq, hash FROM audit_head WHERE id = 1", &[])?;
    let (head_seq, head_hash) = (head.int(0)?, head.text(1)?);
    let mut problems = Vec::new();
    let mut prev = GENESIS.to_string();
    let mut expect_seq = 1;
    let mut n = 0;
    for r in &rows {
        let e = audit_from(r)?;
        n += 1;
        if e.seq != expect_seq {
            problems.push(format!(
                "entry {} follows entry {}: {} entr{} missing",
                e.seq,
                expect_seq - 1,
                e.seq - expect_seq,
                if e.seq - expect_seq == 1 {
                    "y is"
                } else {
                    "ies are"
                }
            ));
        }
        if e.prev_hash != prev {
            problems.push(format!(
                "entry {} does not link to the entry before it (an entry before it was changed or removed)",
                e.seq
            ));
        }
        let h = entry_hash(&e.prev_hash, e.seq, &e.entry);
        if h != e.hash {
            problems.push(format!(
                "entry {} was changed after it was written (its hash does not match its content)",
                e.seq
            ));
        }
        prev = e.hash.clone();
        expect_seq = e.seq + 1;
    }
    if head_seq != expect_seq - 1 || head_hash != prev {
        problems.push(format!(
            "the log ends at entry {} but its head says {}: entries at the end were removed or added outside govcap",
            expect_seq - 1,
            head_seq
        ));
    }
    Ok(ChainReport {
        entries: n,
        head_hash,
        problems,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_separates_fields() {
        let a = NewAuditEntry {
            actor: "ab".into(),
            role: "c".into(),
            ..Default::default()
        };
        let b = NewAuditEntry {
            actor: "a".into(),
            role: "bc".into(),
            ..Default::default()
        };
        assert_ne!(entry_hash(GENESIS, 1, &a), entry_hash(GENESIS, 1, &b));
        let c = NewAuditEntry {
            before: Some(String::new()),
            ..Default::default()
        };
        assert_ne!(
            entry_hash(GENESIS, 1, &c),
            entry_hash(GENESIS, 1, &NewAuditEntry::default())
        );
        assert_eq!(entry_hash(GENESIS, 1, &a).len(), 64);
    }
}
