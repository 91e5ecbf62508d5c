//! A real server on loopback over a real database, seeded with two synthetic runs and one
//! account per role.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;

use govcap_core::access::Role;
use govcap_core::evaluate::{evaluate, Params};
use govcap_store::{NewRun, Store};
use govcap_web::audit::Actor;
use govcap_web::pool::StorePool;
use govcap_web::users::NewAccount;
use govcap_web::{AppState, Config};
use sha2::{Digest, Sha256};

pub const PASSWORD: &str = "a-long-password-1";

pub struct Server {
    pub base: String,
    pub state: AppState,
    pub tmp: tempfile::TempDir,
    pub task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn hex(b: &[u8]) -> String {
    Sha256::digest(b)
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

/// Records the synthetic 2020 and 2021 evaluations (run 2 names run 1 as its previous).
pub fn seed_runs(store: &mut dyn Store) {
    let fw = govcap_core::framework::Framework::default_framework();
    let units = govcap_io::units::default_units();
    let obs = govcap_synth::observations(&fw, &units, &[2020, 2021], 7);
    let mut prev = None;
    for year in [2020, 2021] {
        let e = evaluate(&fw, &units, &obs, &Params::new(year)).expect("evaluates");
        let results = serde_json::to_string(&e).unwrap();
        let id = store
            .save_run(&NewRun {
                label: year.to_string(),
                year,
                created_at: "2026-12-04T00:00:00Z".into(),
                software_version: "test".into(),
                framework_id: e.framework.id.clone(),
                framework_version: e.framework.version.clone(),
                framework_sha256: hex(b"framework"),
                framework_toml: "# built-in".into(),
                params_json: "{}".into(),
                synthetic: true,
                previous_run: prev,
                results_sha256: hex(results.as_bytes()),
                results_json: results,
                inputs: vec![],
            })
            .unwrap();
        prev = Some(id);
        if year == 2021 {
            // A small audit of the newest run, as `govcap audit` records it.
            let factors = govcap_core::audit::Factors::default_for(&fw);
            let settings = govcap_core::audit::Settings {
                draws: 64,
                ..Default::default()
            };
            let a = govcap_core::audit::audit(
                &fw,
                &units,
                &obs,
                &Params::new(year),
                &factors,
                &settings,
            )
            .expect("audits");
            let json = serde_json::to_string(&a.audit).unwrap();
            govcap_store::transact(store, true, |tx| {
                govcap_store::workspace::save_run_audit(
                    tx,
                    id,
                    "2026-12-04T00:00:00Z",
                    "default",
                    &json,
                )
            })
            .unwrap();
        }
    }
}

pub fn seed_users(store: &mut dyn Store) {
    let actor = Actor {
        name: "test".into(),
        role: "admin".into(),
        request_id: "seed".into(),
    };
    for role in Role::ALL {
        let units = if role == Role::Unit {
            vec!["110000".to_string()]
        } else {
            vec![]
        };
        let new = NewAccount::check(role.as_str(), role.as_str(), &units, PASSWORD).unwrap();
        govcap_web::users::add_blocking(store, &actor, &new).unwrap();
    }
}

/// Which database the server runs on.
pub enum Db {
    Sqlite,
    /// The URL and a fresh schema.
    Postgres(String, String),
}

pub fn postgres_url() -> Option<String> {
    std::env::var("GOVCAP_TEST_POSTGRES_URL")
        .ok()
        .filter(|s| !s.is_empty())
}

pub async fn start(db: Db) -> Server {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("govcap.db").display().to_string();
    // Opening a store is blocking (the PostgreSQL client runs its own runtime).
    let pool = tokio::task::spawn_blocking(move || open_pool(db, path))
        .await
        .unwrap();
    start_with(pool, tmp).await
}

fn open_pool(db: Db, path: String) -> std::sync::Arc<StorePool> {
    match db {
        Db::Sqlite => StorePool::for_target(&path, 4).unwrap(),
        Db::Postgres(url, schema) => {
            // A fresh schema per test: drop what an earlier run left.
            let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
            c.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                .unwrap();
            StorePool::new(
                Box::new(move || govcap_store::open_postgres_with_schema(&url, &schema)),
                4,
                "PostgreSQL",
            )
            .unwrap()
        }
    }
}

pub async fn start_with(pool: std::sync::Arc<StorePool>, tmp: tempfile::TempDir) -> Server {
    pool.with(|s| {
        seed_runs(s);
        seed_users(s);
        Ok(())
    })
    .await
    .unwrap();
    let config = Config {
        data_dir: Some(tmp.path().join("data")),
        // The tests capture pages of this very server, on loopback.
        capture_private: true,
        ..Config::default()
    };
    let state = AppState::new(pool, config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let app = govcap_web::app(state.clone());
    let task = tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    Server {
        base: format!("http://{addr}"),
        state,
        tmp,
        task,
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Logs in through the API; returns the cookie-holding client and the CSRF token.
pub async fn login(s: &Server, user: &str) -> (reqwest::Client, String) {
    let c = client();
    let r = c
        .post(format!("{}/api/v1/session", s.base))
        .json(&serde_json::json!({"username": user, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "login of {user}");
    let v: serde_json::Value = r.json().await.unwrap();
    (c, v["csrf_token"].as_str().unwrap().to_string())
}

/// A bearer token for `user`.
pub async fn token(s: &Server, user: &str) -> String {
    let (c, csrf) = login(s, user).await;
    let r = c
        .post(format!("{}/api/v1/tokens", s.base))
        .header("x-csrf-token", csrf)
        .json(&serde_json::json!({"label": "test"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let v: serde_json::Value = r.json().await.unwrap();
    v["token"].as_str().unwrap().to_string()
}

pub fn arc<T>(t: T) -> Arc<T> {
    Arc::new(t)
}
