//! The workspace server end to end over HTTP on loopback: the authorisation matrix (every API
//! operation × every role × anonymous), sessions and CSRF, login throttling, publication, the
//! audit chain, security headers and the OpenAPI document. SQLite always; PostgreSQL too when
//! GOVCAP_TEST_POSTGRES_URL is set.

mod common;

use common::{client, login, start, token, Db, Server};
use govcap_core::access::{allowed, Role};
use govcap_web::api::OPERATIONS;
use reqwest::Method;
use serde_json::json;

/// A request for an operation with path parameters filled and a body that passes parsing.
fn request_for(
    s: &Server,
    method: &str,
    path: &str,
) -> (Method, String, Option<serde_json::Value>) {
    let url = format!(
        "{}{}",
        s.base,
        path.replace("/tokens/{id}", "/tokens/9999")
            .replace("{id}", "2")
            .replace("{code}", "110000")
            .replace("{name}", "nobody")
    );
    let m: Method = method.to_uppercase().parse().unwrap();
    let body = match (method, path) {
        ("post", "/api/v1/session") => {
            Some(json!({"username": "nobody", "password": "wrong-password-x"}))
        }
        ("post", "/api/v1/tokens") => Some(json!({"label": "matrix"})),
        ("post", "/api/v1/users") => Some(json!({"name": "", "role": "lead", "password": "x"})),
        ("post", "/api/v1/campaigns") => Some(json!({"name": "matrix", "year": 2021})),
        ("post", "/api/v1/campaigns/{id}/appeals:open") => {
            Some(json!({"deadline": "2099-01-01T00:00:00Z"}))
        }
        ("post", "/api/v1/tasks/{id}/assign") => Some(json!({"evaluator": "evaluator"})),
        ("put", "/api/v1/tasks/{id}/value") => Some(json!({"value": "1", "version": 0})),
        ("post", "/api/v1/tasks/{id}/review") => Some(json!({"decision": "confirm"})),
        ("post", "/api/v1/tasks/{id}/adjudicate") => Some(json!({"value": "1", "version": 0})),
        ("post", "/api/v1/appeals") => Some(json!({"task": 2, "reason": "r"})),
        ("post", "/api/v1/appeals/{id}/decision") => {
            Some(json!({"decision": "reject", "note": "n"}))
        }
        ("post", "/api/v1/tasks/{id}/capture") => Some(json!({"url": "http://127.0.0.1:9/"})),
        _ => None,
    };
    (m, url, body)
}

async fn matrix(s: &Server) {
    let mut tokens = Vec::new();
    for r in Role::ALL {
        tokens.push((Some(r), Some(token(s, r.as_str()).await)));
    }
    tokens.push((None, None));
    let c = client();
    let mut checked = 0;
    for op in OPERATIONS {
        for (role, tok) in &tokens {
            let (m, url, body) = request_for(s, op.method, op.path);
            let mut req = c.request(m, &url);
            if let Some(t) = tok {
                req = req.bearer_auth(t);
            }
            if let Some(b) = body {
                req = req.json(&b);
            }
            let status = req.send().await.unwrap().status().as_u16();
            let who = role.map_or("anonymous", |r| r.as_str());
            if allowed(*role, op.action) {
                assert!(
                    status != 403
                        && (status != 401 || op.path == "/api/v1/session")
                        && status < 500,
                    "{} {} as {who}: allowed by the policy but got {status}",
                    op.method,
                    op.path
                );
            } else {
                let want = if role.is_none() { 401 } else { 403 };
                assert_eq!(status, want, "{} {} as {who}", op.method, op.path);
            }
            checked += 1;
        }
    }
    assert_eq!(checked, OPERATIONS.len() * 6);

    // The staff pages: anonymous → login page, unit representative → 403, team → 200.
    for path in ["/staff/monitor", "/staff/audit-log", "/staff/runs/1/diff/2"] {
        let r = c.get(format!("{}{path}", s.base)).send().await.unwrap();
        assert!(
            r.status().is_redirection(),
            "{path} anonymous: {}",
            r.status()
        );
        assert!(r.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/login?next="));
    }
    let (unit, _) = login(s, "unit").await;
    for path in [
        "/staff/monitor",
        "/staff/audit-log",
        "/staff/runs/1/diff/2",
        "/staff/audit-log.csv",
    ] {
        let r = unit.get(format!("{}{path}", s.base)).send().await.unwrap();
        assert_eq!(r.status(), 403, "{path} as unit");
    }
    let (lead, _) = login(s, "lead").await;
    for path in [
        "/staff/",
        "/staff/monitor",
        "/staff/audit-log",
        "/staff/runs/1/diff/2",
        "/staff/tokens",
    ] {
        let r = lead.get(format!("{}{path}", s.base)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path} as lead");
    }
    let (reviewer, _) = login(s, "reviewer").await;
    let r = reviewer
        .get(format!("{}/staff/audit-log", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "the audit trail is for leads and admins");
}

async fn publication_and_pages(s: &Server) {
    let anon = client();
    let runs: serde_json::Value = anon
        .get(format!("{}/api/v1/runs", s.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(runs["total"], 0, "nothing is public before publication");
    let r = anon
        .get(format!("{}/runs/2/", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        404,
        "an unpublished run is not shown to the public"
    );
    let r = anon
        .get(format!("{}/api/v1/runs/2/units/110000", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(r.headers()["content-type"], "application/problem+json");

    // A cookie session must send the CSRF token on unsafe methods.
    let (lead, csrf) = login(s, "lead").await;
    let r = lead
        .post(format!("{}/api/v1/runs/2/publish", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "cookie without X-CSRF-Token");
    let r = lead
        .post(format!("{}/api/v1/runs/2/publish", s.base))
        .header("x-csrf-token", "not-the-token")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "wrong X-CSRF-Token");
    let r = lead
        .post(format!("{}/api/v1/runs/2/publish", s.base))
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    let runs: serde_json::Value = anon
        .get(format!("{}/api/v1/runs?per_page=1", s.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(runs["total"], 1);
    assert_eq!(runs["items"][0]["id"], 2);
    assert_eq!(runs["items"][0]["synthetic"], true);
    let u: serde_json::Value = anon
        .get(format!("{}/api/v1/runs/2/units/110000", s.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(u["code"], "110000");
    assert!(u["total"].as_f64().unwrap() > 0.0);
    assert!(u["rank"].as_u64().unwrap() >= 1);
    assert!(u["tier"].is_string() && u["sublevel"].is_string() || u["sublevel"].is_null());
    assert_eq!(u["nodes"].as_array().unwrap().len(), 3 + 9 + 31);
    // The same number in the JSON as in the recorded results.
    let run = govcap_web::runs::load(&s.state, 2).await.unwrap();
    let rec = run
        .evaluation
        .units
        .iter()
        .find(|x| x.code == "110000")
        .unwrap();
    assert_eq!(u["total"].as_f64(), rec.total);

    // Pages: the report's renderer behind a strict policy, labelled synthetic.
    for path in [
        "/",
        "/runs/2/",
        "/runs/2/ranking.html",
        "/runs/2/units/110000.html",
        "/en/runs/2/",
        "/units/110000",
        "/compare?a=110000&b=310000",
        "/login",
    ] {
        let r = anon.get(format!("{}{path}", s.base)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        let csp = r.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        assert!(csp.contains("default-src 'none'"));
        assert_eq!(r.headers()["x-content-type-options"], "nosniff");
        assert!(r.headers().contains_key("x-request-id"));
        let body = r.text().await.unwrap();
        if path != "/login" {
            assert!(
                body.contains("synthetic-banner"),
                "{path} must say the data are synthetic"
            );
        }
        assert!(
            !body.contains("http-equiv=\"Content-Security-Policy\""),
            "{path}"
        );
    }
    // The recorded audit: the uncertainty chapter and each unit page's rank interval.
    let r = anon
        .get(format!("{}/runs/2/uncertainty.html", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let unit_page = anon
        .get(format!("{}/runs/2/units/110000.html", s.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        unit_page.contains("排名区间（90 %）"),
        "the unit page shows its rank interval"
    );
    // The run of the year before is not published: the report does not compare with it, and
    // its pages stay hidden.
    assert_eq!(
        anon.get(format!("{}/runs/1/ranking.html", s.base))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    // Downloads.
    let r = anon
        .get(format!("{}/runs/2/download/rankings.csv", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().lines().count() > 300);
    let r = anon
        .get(format!("{}/runs/2/download/results.xlsx", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.bytes().await.unwrap().starts_with(b"PK"));

    // Unpublish through the staff page form: the hidden CSRF field is required.
    let r = lead
        .post(format!("{}/staff/runs/2/unpublish", s.base))
        .form(&[("csrf_token", "stale")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = lead
        .post(format!("{}/staff/runs/2/unpublish", s.base))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_redirection());
    let runs: serde_json::Value = anon
        .get(format!("{}/api/v1/runs", s.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(runs["total"], 0);
}

async fn sessions_tokens(s: &Server) {
    // Logout ends the session on the server: the old cookie no longer works.
    let (c, csrf) = login(s, "evaluator").await;
    assert_eq!(
        c.get(format!("{}/api/v1/session", s.base))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let r = c
        .delete(format!("{}/api/v1/session", s.base))
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert!(r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    assert_eq!(
        c.get(format!("{}/api/v1/session", s.base))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );

    // The cookie's attributes.
    let r = client()
        .post(format!("{}/api/v1/session", s.base))
        .json(&json!({"username": "reviewer", "password": common::PASSWORD}))
        .send()
        .await
        .unwrap();
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.starts_with("govcap_session="));
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );

    // A revoked token stops working.
    let (c, csrf) = login(s, "reviewer").await;
    let r: serde_json::Value = c
        .post(format!("{}/api/v1/tokens", s.base))
        .header("x-csrf-token", &csrf)
        .json(&json!({"label": "<img src=x onerror=alert(1)>"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let tok = r["token"].as_str().unwrap().to_string();
    let id = r["id"].as_i64().unwrap();
    let anon = client();
    assert_eq!(
        anon.get(format!("{}/api/v1/session", s.base))
            .bearer_auth(&tok)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    // What a user typed is escaped on the page.
    let page = c
        .get(format!("{}/staff/tokens", s.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("&lt;img src=x onerror=alert(1)&gt;") && !page.contains("<img src=x"));
    let r = c
        .delete(format!("{}/api/v1/tokens/{id}", s.base))
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(
        anon.get(format!("{}/api/v1/session", s.base))
            .bearer_auth(&tok)
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
}

async fn throttle(s: &Server) {
    let anon = client();
    // Throttling per account: the sixth wrong password in a row is refused with Retry-After,
    // and then even the right one is, until the window passes.
    for i in 0..5 {
        let r = anon
            .post(format!("{}/api/v1/session", s.base))
            .json(&json!({"username": "unit", "password": format!("wrong-{i}-password")}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
    }
    let r = anon
        .post(format!("{}/api/v1/session", s.base))
        .json(&json!({"username": "unit", "password": common::PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    let wait: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=900).contains(&wait));
    // Bad bodies are problem+json with a status that names the fault.
    let r = anon
        .post(format!("{}/api/v1/session", s.base))
        .body("{")
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let r = anon
        .post(format!("{}/api/v1/session", s.base))
        .json(&json!({"user": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let big = "x".repeat(2 << 20);
    let r = anon
        .post(format!("{}/api/v1/session", s.base))
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
}

async fn audit_trail(s: &Server) {
    let tok = token(s, "admin").await;
    let c = client();
    let log: serde_json::Value = c
        .get(format!("{}/api/v1/audit-log?limit=1000", s.base))
        .bearer_auth(&tok)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let items = log["items"].as_array().unwrap();
    let actions: Vec<&str> = items
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for a in [
        "user.add",
        "session.login",
        "session.logout",
        "session.login_failed",
        "token.create",
        "token.revoke",
        "run.publish",
        "run.unpublish",
    ] {
        assert!(
            actions.contains(&a),
            "{a} is in the audit trail: {actions:?}"
        );
    }
    let publish = items.iter().find(|e| e["action"] == "run.publish").unwrap();
    assert_eq!(publish["actor"], "lead");
    assert_eq!(publish["role"], "lead");
    assert_eq!(publish["object"], "run/2");
    assert_eq!(publish["before"], "{\"published\":false}");
    assert_eq!(publish["after"], "{\"published\":true}");
    assert!(publish["request_id"].as_str().unwrap().len() > 3);
    // No secret is ever logged.
    let text = serde_json::to_string(&log).unwrap();
    assert!(!text.contains(common::PASSWORD) && !text.contains("$argon2"));
    let v: serde_json::Value = c
        .get(format!("{}/api/v1/audit-log/verify", s.base))
        .bearer_auth(&tok)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["intact"], true, "{v}");
    // CSV export, oldest first, with a BOM for Excel.
    let (lead, _) = login(s, "lead").await;
    let csv = lead
        .get(format!("{}/staff/audit-log.csv", s.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(csv.starts_with("\u{feff}seq,at,actor"));
    assert!(csv.lines().nth(1).unwrap().starts_with("1,"));
}

async fn misc(s: &Server) {
    let c = client();
    assert_eq!(
        c.get(format!("{}/healthz", s.base))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let r = c.get(format!("{}/readyz", s.base)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let m = c
        .get(format!("{}/metrics", s.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        m.contains("govcap_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"}"),
        "{m}"
    );
    assert!(m.contains("govcap_http_request_duration_seconds_bucket"));
    // The OpenAPI document: every operation, with its roles.
    let doc: serde_json::Value = c
        .get(format!("{}/api/openapi.json", s.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    for op in OPERATIONS {
        let o = &doc["paths"][op.path][op.method];
        assert!(o.is_object(), "{} {} is documented", op.method, op.path);
        let roles = o["x-required-roles"].as_array().unwrap();
        assert_eq!(
            roles.len(),
            op.action.roles().0.len() + usize::from(op.action.roles().1)
        );
    }
    let documented: usize = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|p| {
            p.as_object()
                .unwrap()
                .keys()
                .filter(|k| ["get", "post", "put", "delete", "patch"].contains(&k.as_str()))
                .count()
        })
        .sum();
    assert_eq!(
        documented,
        OPERATIONS.len(),
        "every documented operation is in the policy table"
    );
    // Unknown paths.
    let r = c
        .get(format!("{}/api/v1/nope", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let r = c
        .get(format!("{}/prefs/text/large?back=//evil.example/", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["location"], "/", "no open redirect");
}

/// The evidence viewer: an archived page is shown, its script never runs in our origin.
async fn evidence_viewer(s: &Server) {
    use govcap_monitor::warc::{RecordIds, WarcWriter};
    let dir = s.tmp.path().join("monitor");
    std::fs::create_dir_all(dir.join("warc")).unwrap();
    let mut w = WarcWriter::create(
        &dir.join("warc").join("t.warc.gz"),
        RecordIds::from_seed(9),
        "govcap test",
    )
    .unwrap();
    let block = b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body><script>parent.document.title='pwned'</script><p>\xe6\xa1\xa3\xe6\xa1\x88\xe9\xa1\xb5\xe9\x9d\xa2</p></body></html>";
    let id = w
        .write_record(
            "response",
            Some("http://127.0.0.1/x"),
            "2026-12-04T00:00:00Z",
            vec![],
            "application/http; msgtype=response",
            block,
            None,
        )
        .unwrap();
    w.flush().unwrap();
    drop(w);
    let out_dir = dir.display().to_string();
    let rec = id.clone();
    let mid = s
        .state
        .pool
        .with(move |st| {
            st.save_monitor_run(&govcap_store::NewMonitorRun {
                started_at: "2026-12-04T00:00:00Z".into(),
                as_of: "2026-12-04".into(),
                out_dir,
                summary_json: "{}".into(),
                findings: vec![govcap_store::MonitorFinding {
                    code: "110000".into(),
                    check: "availability".into(),
                    url: "http://127.0.0.1/x".into(),
                    value_json: "1".into(),
                    details_json: "{}".into(),
                    evidence: vec![rec],
                }],
                alerts: vec![],
            })
        })
        .await
        .unwrap();
    let (lead, _) = login(s, "lead").await;
    let page = lead
        .get(format!("{}/staff/monitor/{mid}", s.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("/evidence?record="),
        "findings link their evidence"
    );
    let q = govcap_web::pages::layout::url_escape(&id);
    let r = lead
        .get(format!(
            "{}/staff/monitor/{mid}/evidence?record={q}",
            s.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body = r.text().await.unwrap();
    assert!(
        body.contains("<iframe class=\"evidence\" sandbox"),
        "{body}"
    );
    let r = lead
        .get(format!(
            "{}/staff/monitor/{mid}/evidence/raw?record={q}",
            s.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.starts_with("sandbox;")
            && csp.contains("default-src 'none'")
            && !csp.contains("allow-scripts"),
        "{csp}"
    );
    assert!(r.text().await.unwrap().contains("档案页面"));
    let r = client()
        .get(format!(
            "{}/staff/monitor/{mid}/evidence/raw?record={q}",
            s.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "evidence is for the team");
}

async fn suite(db: Db) {
    let s = start(db).await;
    misc(&s).await;
    matrix(&s).await;
    publication_and_pages(&s).await;
    evidence_viewer(&s).await;
    sessions_tokens(&s).await;
    audit_trail(&s).await;
    throttle(&s).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workspace_on_sqlite() {
    suite(Db::Sqlite).await;
}

#[cfg_attr(
    not(govcap_pg),
    ignore = "needs PostgreSQL: set GOVCAP_TEST_POSTGRES_URL"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workspace_on_postgres() {
    let Some(url) = common::postgres_url() else {
        eprintln!("SKIPPED workspace_on_postgres: set GOVCAP_TEST_POSTGRES_URL to run it");
        return;
    };
    suite(Db::Postgres(url, "govcap_web_test".into())).await;
}
