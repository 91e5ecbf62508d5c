//! The workspace tables on both backends: accounts, sessions, tokens, publication, and the
//! audit log's hash chain detecting an edited, a removed and a truncated entry.

use govcap_store::sql::Tx;
use govcap_store::workspace::{self, NewAuditEntry, NewUser};
use govcap_store::{open, open_postgres_with_schema, transact, Store};

/// The store of one backend for test `name`: a SQLite file in a scratch folder, or a fresh
/// schema on the PostgreSQL server of `GOVCAP_TEST_POSTGRES_URL`.
fn store(backend: &str, name: &str) -> Vec<(String, Box<dyn Store>)> {
    if backend == "sqlite" {
        let dir = std::env::temp_dir().join(format!("govcap-ws-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        return vec![(
            "sqlite".into(),
            open(dir.join("t.db").to_str().unwrap()).unwrap(),
        )];
    }
    let url = std::env::var("GOVCAP_TEST_POSTGRES_URL").expect("GOVCAP_TEST_POSTGRES_URL");
    let schema = format!("govcap_ws_{name}");
    let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    c.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
        .unwrap();
    vec![(
        "postgres".into(),
        open_postgres_with_schema(&url, &schema).unwrap(),
    )]
}

/// The SQLite folder of `store("sqlite", name)`, removed once the test's stores are dropped.
fn remove_scratch(name: &str) {
    let dir = std::env::temp_dir().join(format!("govcap-ws-{}-{name}", std::process::id()));
    std::fs::remove_dir_all(dir).unwrap();
}

fn entry(i: usize) -> NewAuditEntry {
    NewAuditEntry {
        at: format!("2026-12-04T10:00:{i:02}Z"),
        actor: "lead".into(),
        role: "lead".into(),
        action: "run.publish".into(),
        object: format!("run/{i}"),
        before: Some("{\"published\":false}".into()),
        after: Some("{\"published\":true}".into()),
        request_id: format!("r-{i}"),
    }
}

/// Runs raw SQL as an intruder with database access would (the triggers dropped first).
fn intrude(store: &mut dyn Store, backend: &str, sql: &str) {
    transact(store, true, |tx: &mut dyn Tx| {
        if backend == "sqlite" {
            tx.exec("DROP TRIGGER IF EXISTS audit_log_no_update", &[])?;
            tx.exec("DROP TRIGGER IF EXISTS audit_log_no_delete", &[])?;
        } else {
            tx.exec(
                "DROP TRIGGER IF EXISTS audit_log_no_change ON audit_log",
                &[],
            )?;
        }
        tx.exec(sql, &[])?;
        Ok(())
    })
    .unwrap();
}

#[test]
fn audit_chain_on_sqlite() {
    audit_chain_detects_edits_deletions_and_truncation(store("sqlite", "chain"));
    remove_scratch("chain");
}

#[cfg_attr(
    not(govcap_pg),
    ignore = "needs PostgreSQL: set GOVCAP_TEST_POSTGRES_URL"
)]
#[test]
fn audit_chain_on_postgres() {
    audit_chain_detects_edits_deletions_and_truncation(store("postgres", "chain"));
}

fn audit_chain_detects_edits_deletions_and_truncation(stores: Vec<(String, Box<dyn Store>)>) {
    for (backend, mut store) in stores {
        let s = store.as_mut();
        for i in 1..=5 {
            transact(s, true, |tx| workspace::append_audit(tx, &entry(i))).unwrap();
        }
        let ok = transact(s, false, workspace::verify_audit).unwrap();
        assert_eq!(ok.entries, 5, "{backend}");
        assert!(ok.problems.is_empty(), "{backend}: {:?}", ok.problems);

        // The log refuses changes through the normal path.
        let err = transact(s, true, |tx| {
            tx.exec("UPDATE audit_log SET actor = 'x' WHERE seq = 2", &[])
        });
        assert!(err.is_err(), "{backend}: UPDATE must be refused");
        let err = transact(s, true, |tx| {
            tx.exec("DELETE FROM audit_log WHERE seq = 2", &[])
        });
        assert!(err.is_err(), "{backend}: DELETE must be refused");

        // An edited entry fails its own hash.
        intrude(
            s,
            &backend,
            "UPDATE audit_log SET actor = 'mallory' WHERE seq = 2",
        );
        let r = transact(s, false, workspace::verify_audit).unwrap();
        assert!(
            r.problems.iter().any(|p| p.contains("entry 2 was changed")),
            "{backend}: {:?}",
            r.problems
        );

        // A removed entry leaves a gap and a broken link.
        intrude(s, &backend, "DELETE FROM audit_log WHERE seq = 4");
        let r = transact(s, false, workspace::verify_audit).unwrap();
        assert!(
            r.problems
                .iter()
                .any(|p| p.contains("entry 5 follows entry 3")),
            "{backend}: {:?}",
            r.problems
        );
        assert!(
            r.problems
                .iter()
                .any(|p| p.contains("entry 5 does not link")),
            "{backend}: {:?}",
            r.problems
        );

        // A removed tail disagrees with the head.
        intrude(s, &backend, "DELETE FROM audit_log WHERE seq = 5");
        let r = transact(s, false, workspace::verify_audit).unwrap();
        assert!(
            r.problems
                .iter()
                .any(|p| p.contains("the log ends at entry 3 but its head says 5")),
            "{backend}: {:?}",
            r.problems
        );
    }
}

#[test]
fn accounts_on_sqlite() {
    accounts_sessions_tokens_and_publication(store("sqlite", "accounts"));
    remove_scratch("accounts");
}

#[cfg_attr(
    not(govcap_pg),
    ignore = "needs PostgreSQL: set GOVCAP_TEST_POSTGRES_URL"
)]
#[test]
fn accounts_on_postgres() {
    accounts_sessions_tokens_and_publication(store("postgres", "accounts"));
}

fn accounts_sessions_tokens_and_publication(stores: Vec<(String, Box<dyn Store>)>) {
    for (backend, mut store) in stores {
        let s = store.as_mut();
        let units = vec!["110000".to_string(), "120000".to_string()];
        let u = transact(s, true, |tx| {
            workspace::create_user(
                tx,
                &NewUser {
                    name: "北京代表",
                    role: "unit",
                    units: &units,
                    password_hash: "$argon2id$x",
                    now: "2026-12-04T00:00:00Z",
                },
            )
        })
        .unwrap();
        assert_eq!(u.units, units, "{backend}");
        let dup = transact(s, true, |tx| {
            workspace::create_user(
                tx,
                &NewUser {
                    name: "北京代表",
                    role: "lead",
                    units: &[],
                    password_hash: "h",
                    now: "t",
                },
            )
        });
        assert!(
            dup.unwrap_err().to_string().contains("already exists"),
            "{backend}"
        );

        // Sessions: live until ended, idle or expired; disabling the account ends them.
        let h = "a".repeat(64);
        transact(s, true, |tx| {
            workspace::create_session(
                tx,
                &h,
                u.id,
                "csrf",
                "2026-12-04T10:00:00Z",
                "2026-12-04T22:00:00Z",
            )
        })
        .unwrap();
        let live = |s: &mut dyn Store, now: &str, cutoff: &str| {
            transact(s, false, |tx| workspace::live_session(tx, &h, now, cutoff)).unwrap()
        };
        assert!(
            live(s, "2026-12-04T10:10:00Z", "2026-12-04T09:40:00Z").is_some(),
            "{backend}"
        );
        assert!(
            live(s, "2026-12-04T11:00:00Z", "2026-12-04T10:30:00Z").is_none(),
            "{backend}: idle"
        );
        assert!(
            live(s, "2026-12-04T23:00:00Z", "2026-12-04T09:00:00Z").is_none(),
            "{backend}: expired"
        );
        transact(s, true, |tx| {
            workspace::set_disabled(tx, "北京代表", true, "2026-12-04T10:20:00Z")
        })
        .unwrap();
        assert!(
            live(s, "2026-12-04T10:21:00Z", "2026-12-04T09:00:00Z").is_none(),
            "{backend}: disabled"
        );

        // Tokens: the user behind an unrevoked token of an enabled account.
        transact(s, true, |tx| {
            workspace::set_disabled(tx, "北京代表", false, "t")
        })
        .unwrap();
        let th = "b".repeat(64);
        let t = transact(s, true, |tx| {
            workspace::create_token(tx, u.id, &th, "脚本", "gct_abc", "t")
        })
        .unwrap();
        assert_eq!(
            transact(s, false, |tx| workspace::token_user(tx, &th))
                .unwrap()
                .map(|u| u.name),
            Some("北京代表".into())
        );
        assert!(
            transact(s, true, |tx| workspace::revoke_token(
                tx,
                u.id + 1,
                t.id,
                "t"
            ))
            .unwrap()
            .is_none(),
            "{backend}: not another user's"
        );
        assert!(
            transact(s, true, |tx| workspace::revoke_token(tx, u.id, t.id, "t"))
                .unwrap()
                .is_some()
        );
        assert!(
            transact(s, false, |tx| workspace::token_user(tx, &th))
                .unwrap()
                .is_none(),
            "{backend}: revoked"
        );

        // Publication needs an existing run.
        let err = transact(s, true, |tx| {
            workspace::set_published(tx, 99, true, "t", "lead")
        })
        .unwrap_err();
        assert!(
            err.to_string().contains("run 99 does not exist"),
            "{backend}: {err}"
        );
        assert!(transact(s, false, workspace::published_run_ids)
            .unwrap()
            .is_empty());
    }
}
