//! The campaign's forms as a browser submits them (urlencoded and multipart, with the CSRF
//! field): creation from files, reassignment by hand, evidence files on the entry page, the
//! provisional results a unit sees when appeals open (its own only), an appeal with a file,
//! the lead's decision and adjudication. SQLite always; PostgreSQL when
//! GOVCAP_TEST_POSTGRES_URL is set.

mod common;

use common::{client, login, start, token, Db, Server};
use serde_json::{json, Value};

/// A `multipart/form-data` body by hand: `(name, Some(file name), bytes)` for files.
fn multipart(parts: &[(&str, Option<&str>, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "----govcap-test-boundary-7f3a";
    let mut body = Vec::new();
    for (name, file, bytes) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match file {
            Some(f) => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
            ),
            None => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
            ),
        }
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn post_multipart(
    c: &reqwest::Client,
    url: String,
    parts: &[(&str, Option<&str>, &[u8])],
) -> reqwest::Response {
    let (ctype, body) = multipart(parts);
    c.post(url)
        .header("content-type", ctype)
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn json_get(c: &reqwest::Client, tok: &str, url: String) -> (u16, Value) {
    let r = c.get(url).bearer_auth(tok).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

const PNG: &[u8] =
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";
const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";

async fn pages_workflow(s: &Server) {
    let url = |p: &str| format!("{}{p}", s.base);
    // A second evaluator for reassignment and double coding.
    s.state
        .pool
        .with(|st| {
            let actor = govcap_web::audit::Actor {
                name: "test".into(),
                role: "admin".into(),
                request_id: "seed".into(),
            };
            let new = govcap_web::users::NewAccount::check(
                "evaluator2",
                "evaluator",
                &[],
                common::PASSWORD,
            )
            .unwrap();
            govcap_web::users::add_blocking(st, &actor, &new)?;
            Ok(())
        })
        .await
        .unwrap();
    let (lead_c, lead_csrf) = login(s, "lead").await;
    let lead = token(s, "lead").await;
    let ev1 = token(s, "evaluator").await;
    let ev2 = token(s, "evaluator2").await;
    let rev = token(s, "reviewer").await;
    let unit = token(s, "unit").await;
    let api = client();

    // Creation from files: a unit list that does not parse is refused with its problem, and
    // nothing is created.
    let bad_units = "code,name\n110000,北京市\n110000,北京市\n";
    let r = post_multipart(
        &lead_c,
        url("/staff/campaigns"),
        &[
            ("csrf_token", None, lead_csrf.as_bytes()),
            ("name", None, "表格创建".as_bytes()),
            ("year", None, b"2021"),
            ("double_share", None, b"0.5"),
            ("units_file", Some("units.csv"), bad_units.as_bytes()),
        ],
    )
    .await;
    assert_eq!(r.status(), 422, "a duplicate unit code is refused");
    let page = r.text().await.unwrap();
    assert!(page.contains("110000"), "the refusal names the row: {page}");
    let (_, list) = json_get(&api, &lead, url("/api/v1/campaigns")).await;
    assert_eq!(list, json!([]), "nothing was created");

    let units =
        "code,name,province\n110000,北京市,北京市\n120000,天津市,天津市\n130100,石家庄市,河北省\n";
    let r = post_multipart(
        &lead_c,
        url("/staff/campaigns"),
        &[
            ("csrf_token", None, lead_csrf.as_bytes()),
            ("name", None, "表格创建".as_bytes()),
            ("year", None, b"2021"),
            ("double_share", None, b"0.5"),
            // The file wins over the (empty) text field; a BOM from Excel is dropped.
            ("units_csv", None, b""),
            (
                "units_file",
                Some("units.csv"),
                format!("\u{feff}{units}").as_bytes(),
            ),
        ],
    )
    .await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let cid: i64 = r.headers()["location"]
        .to_str()
        .unwrap()
        .trim_start_matches("/staff/campaigns/")
        .parse()
        .unwrap();
    let r = lead_c
        .post(url(&format!("/staff/campaigns/{cid}/generate")))
        .form(&[
            ("csrf_token", lead_csrf.as_str()),
            ("evaluators", "evaluator, evaluator2"),
            ("by", "indicator"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let (_, tasks) = json_get(
        &api,
        &lead,
        url(&format!("/api/v1/campaigns/{cid}/tasks?per_page=500")),
    )
    .await;
    let all = tasks["items"].as_array().unwrap().clone();
    let firsts: Vec<&Value> = all.iter().filter(|t| t["coder"] == 1).collect();
    assert_eq!(firsts.len(), 3 * 16, "three units from the file");

    // The unit's representative sees nothing of the campaign before appeals open.
    let (unit_c, unit_csrf) = login(s, "unit").await;
    let r = unit_c
        .get(url(&format!("/staff/campaigns/{cid}/provisional")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let (st, _) = json_get(
        &api,
        &unit,
        url(&format!("/api/v1/campaigns/{cid}/provisional")),
    )
    .await;
    assert_eq!(st, 404);
    let listed = unit_c
        .get(url("/staff/campaigns"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!listed.contains("表格创建"), "not listed to the unit yet");

    // Reassignment by hand on the task list page: a first coding of 110000 moves to whoever
    // does not hold it (never onto its own second coder).
    let fw = govcap_core::framework::Framework::default_framework();
    let binary = |id: &str| {
        fw.nodes.iter().any(|n| {
            n.id == id
                && n.leaf
                    .as_ref()
                    .is_some_and(|l| matches!(l.rule, govcap_core::framework::Rule::Binary))
        })
    };
    let single = firsts
        .iter()
        .find(|t| {
            t["unit"] == "110000"
                && !all.iter().any(|o| {
                    o["coder"] == 2 && o["unit"] == t["unit"] && o["indicator"] == t["indicator"]
                })
        })
        .unwrap();
    let tid = single["id"].as_i64().unwrap();
    let to = if single["assignee"] == "evaluator" {
        "evaluator2"
    } else {
        "evaluator"
    };
    let list_page = lead_c
        .get(url(&format!("/staff/campaigns/{cid}/tasks?unit=110000")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(list_page.contains(&format!("/staff/campaigns/{cid}/assignment/{tid}")));
    let r = lead_c
        .post(url(&format!("/staff/campaigns/{cid}/assignment/{tid}")))
        .form(&[
            ("csrf_token", lead_csrf.as_str()),
            ("evaluator", to),
            ("back", &format!("/staff/campaigns/{cid}/tasks?unit=110000")),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(
        r.headers()["location"],
        format!("/staff/campaigns/{cid}/tasks?unit=110000").as_str()
    );
    let r = lead_c
        .post(url(&format!("/staff/campaigns/{cid}/assignment/{tid}")))
        .form(&[("csrf_token", "forged"), ("evaluator", "evaluator")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "a form without the session's CSRF token");
    let (_, tasks) = json_get(
        &api,
        &lead,
        url(&format!(
            "/api/v1/campaigns/{cid}/tasks?unit=110000&per_page=500"
        )),
    )
    .await;
    let moved = tasks["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == tid)
        .unwrap();
    assert_eq!(moved["assignee"], to);

    // Every task of 110000 and 120000 entered (disagreeing on one double-coded binary pair);
    // the entry page takes an evidence file for one of them.
    let tok = |who: &str| if who == "evaluator" { &ev1 } else { &ev2 };
    let (_, tasks) = json_get(
        &api,
        &lead,
        url(&format!("/api/v1/campaigns/{cid}/tasks?per_page=500")),
    )
    .await;
    let all = tasks["items"].as_array().unwrap().clone();
    let value_for = |ind: &str| {
        let leaf = fw.nodes.iter().find(|n| n.id == ind).unwrap();
        match &leaf.leaf.as_ref().unwrap().rule {
            govcap_core::framework::Rule::Graded { levels } => levels[levels.len() / 2].key.clone(),
            govcap_core::framework::Rule::Ratio => "0.8".into(),
            govcap_core::framework::Rule::Count { .. } => "3".into(),
            _ => "1".into(),
        }
    };
    let disputed = all
        .iter()
        .find(|t| {
            t["coder"] == 2 && t["unit"] == "120000" && binary(t["indicator"].as_str().unwrap())
        })
        .map(|t| {
            (
                t["indicator"].as_str().unwrap().to_string(),
                t["id"].as_i64().unwrap(),
            )
        });
    assert!(disputed.is_some(), "half the tasks are double coded");
    let with_file = all
        .iter()
        .find(|t| t["unit"] == "110000" && t["coder"] == 1 && t["id"] != tid)
        .unwrap();
    let file_tid = with_file["id"].as_i64().unwrap();
    let file_owner = with_file["assignee"].as_str().unwrap().to_string();
    for t in all
        .iter()
        .filter(|t| t["unit"] != "130100" && t["id"] != file_tid)
    {
        let ind = t["indicator"].as_str().unwrap();
        let mut v = value_for(ind);
        if disputed.as_ref().is_some_and(|(_, id)| t["id"] == *id) {
            v = "0".into();
        }
        let r = api
            .put(url(&format!("/api/v1/tasks/{}/value", t["id"])))
            .bearer_auth(tok(t["assignee"].as_str().unwrap()))
            .json(&json!({"value": v, "version": t["version"], "evidence_url": "https://www.beijing.gov.cn/"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    }
    let (ev_c, ev_csrf) = login(s, &file_owner).await;
    let entry = ev_c
        .get(url(&format!("/staff/campaigns/{cid}/entry?unit=110000")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(entry.contains("enctype=\"multipart/form-data\""));
    assert!(entry.contains(&format!("name=\"f{file_tid}\"")));
    let v = value_for(with_file["indicator"].as_str().unwrap());
    let (vkey, fkey, verkey) = (
        format!("v{file_tid}"),
        format!("f{file_tid}"),
        format!("ver{file_tid}"),
    );
    let ver = with_file["version"].to_string();
    let r = post_multipart(
        &ev_c,
        url(&format!("/staff/campaigns/{cid}/entry?unit=110000")),
        &[
            ("csrf_token", None, ev_csrf.as_bytes()),
            (verkey.as_str(), None, ver.as_bytes()),
            (vkey.as_str(), None, v.as_bytes()),
            (fkey.as_str(), Some("截图.png"), PNG),
        ],
    )
    .await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let (_, tasks) = json_get(
        &api,
        &lead,
        url(&format!(
            "/api/v1/campaigns/{cid}/tasks?unit=110000&per_page=500"
        )),
    )
    .await;
    let saved = tasks["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == file_tid)
        .unwrap()
        .clone();
    let evidence = saved["evidence_url"].as_str().unwrap().to_string();
    assert!(evidence.starts_with("/evidence/files/"), "{saved}");
    let r = ev_c.get(url(&evidence)).send().await.unwrap();
    assert_eq!(r.headers()["content-type"], "image/png");
    // A file that is not an image or PDF is refused for its task, and nothing of it saved.
    let r = post_multipart(
        &ev_c,
        url(&format!("/staff/campaigns/{cid}/entry?unit=110000")),
        &[
            ("csrf_token", None, ev_csrf.as_bytes()),
            (
                verkey.as_str(),
                None,
                saved["version"].to_string().as_bytes(),
            ),
            (vkey.as_str(), None, v.as_bytes()),
            (
                fkey.as_str(),
                Some("x.html"),
                b"<html><script>alert(1)</script>",
            ),
        ],
    )
    .await;
    assert_eq!(r.status(), 409);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains(&format!("任务 {file_tid}")));

    // Review: everything entered is confirmed, except the disputed pair (to the lead).
    let (_, tasks) = json_get(
        &api,
        &lead,
        url(&format!("/api/v1/campaigns/{cid}/tasks?per_page=500")),
    )
    .await;
    for t in tasks["items"].as_array().unwrap() {
        if t["status"] == "entered" && t["coder"] == 1 && t["disputed"] == false {
            let r = api
                .post(url(&format!("/api/v1/tasks/{}/review", t["id"])))
                .bearer_auth(&rev)
                .json(&json!({"decision": "confirm"}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
        }
    }
    // The lead adjudicates the disputed pair on the page.
    if let Some((ind, _)) = &disputed {
        let first = tasks["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["coder"] == 1 && t["unit"] == "120000" && t["indicator"] == ind.as_str())
            .unwrap();
        assert_eq!(first["disputed"], true, "{first}");
        let desk = lead_c
            .get(url(&format!("/staff/campaigns/{cid}/provisional")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let target = format!("/staff/campaigns/{cid}/adjudication/{}", first["id"]);
        assert!(desk.contains(&target), "the desk offers the adjudication");
        let r = lead_c
            .post(url(&target))
            .form(&[
                ("csrf_token", lead_csrf.as_str()),
                ("value", "1"),
                ("note", "两份证据核对后取是"),
                ("version", &first["version"].to_string()),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
        let r = api
            .post(url(&format!("/api/v1/tasks/{}/review", first["id"])))
            .bearer_auth(&rev)
            .json(&json!({"decision": "confirm"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }

    // The lead opens appeals on the dashboard: a provisional run is recorded.
    let r = lead_c
        .post(url(&format!("/staff/campaigns/{cid}/appeals")))
        .form(&[
            ("csrf_token", lead_csrf.as_str()),
            ("deadline", "2099-01-01T00:00:00Z"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let (st, team) = json_get(
        &api,
        &lead,
        url(&format!("/api/v1/campaigns/{cid}/provisional")),
    )
    .await;
    assert_eq!(st, 200);
    let codes: Vec<&str> = team["units"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["110000", "120000"], "units with confirmed values");
    let run_id = team["run_id"].as_i64().unwrap();
    let (st, mine) = json_get(
        &api,
        &unit,
        url(&format!("/api/v1/campaigns/{cid}/provisional")),
    )
    .await;
    assert_eq!(st, 200);
    let mine = mine["units"].as_array().unwrap();
    assert_eq!(mine.len(), 1, "the unit sees its own unit only");
    assert_eq!(mine[0]["code"], "110000");
    assert_eq!(mine[0]["of"], 2);
    assert!(mine[0]["total"].as_f64().unwrap() > 0.0);
    let dims = mine[0]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["depth"] == 1)
        .count();
    assert_eq!(dims, 3, "the three dimensions: {}", mine[0]);
    // The provisional run is a draft: the unit cannot open it as a run.
    let (st, _) = json_get(&api, &unit, url(&format!("/api/v1/runs/{run_id}"))).await;
    assert_eq!(st, 404);

    // The unit's page: its scores and values, nothing of 天津市, an appeal form per value.
    let listed = unit_c
        .get(url("/staff/campaigns"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(listed.contains(&format!("/staff/campaigns/{cid}/provisional")));
    let desk = unit_c
        .get(url(&format!("/staff/campaigns/{cid}/provisional")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(desk.contains("初步得分") && desk.contains("北京市"));
    assert!(
        !desk.contains("天津市") && !desk.contains("120000"),
        "no other unit"
    );
    let appeal_target = format!("/staff/campaigns/{cid}/provisional/{file_tid}");
    assert!(desk.contains(&appeal_target));
    // Another unit's task is not revealed, even by form.
    let foreign = all
        .iter()
        .find(|t| t["unit"] == "120000" && t["coder"] == 1)
        .unwrap();
    let r = post_multipart(
        &unit_c,
        url(&format!(
            "/staff/campaigns/{cid}/provisional/{}",
            foreign["id"]
        )),
        &[
            ("csrf_token", None, unit_csrf.as_bytes()),
            ("reason", None, "x".as_bytes()),
        ],
    )
    .await;
    assert_eq!(r.status(), 404);
    let r = post_multipart(
        &unit_c,
        url(&appeal_target),
        &[
            ("csrf_token", None, unit_csrf.as_bytes()),
            ("reason", None, "我市已上线该服务，见附件截图".as_bytes()),
            ("evidence_url", None, b""),
            ("file", Some("反证.pdf"), PDF),
        ],
    )
    .await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let (_, appeals) = json_get(
        &api,
        &unit,
        url(&format!("/api/v1/campaigns/{cid}/appeals")),
    )
    .await;
    let a = &appeals[0];
    assert_eq!(a["task"], file_tid);
    assert_eq!(a["status"], "open");
    let counter = a["evidence_url"].as_str().unwrap();
    assert!(counter.starts_with("/evidence/files/"), "{a}");
    let r = lead_c.get(url(counter)).send().await.unwrap();
    assert_eq!(r.headers()["content-type"], "application/pdf");

    // The lead upholds it on the desk; the value reopens for its evaluator.
    let aid = a["id"].as_i64().unwrap();
    let desk = lead_c
        .get(url(&format!("/staff/campaigns/{cid}/provisional")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(desk.contains("我市已上线该服务"));
    let r = lead_c
        .post(url(&format!("/staff/campaigns/{cid}/decision/{aid}")))
        .form(&[
            ("csrf_token", lead_csrf.as_str()),
            ("decision", "uphold"),
            ("note", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422, "a decision needs its reason");
    let r = lead_c
        .post(url(&format!("/staff/campaigns/{cid}/decision/{aid}")))
        .form(&[
            ("csrf_token", lead_csrf.as_str()),
            ("decision", "uphold"),
            ("note", "截图可信"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let (_, appeals) = json_get(
        &api,
        &lead,
        url(&format!("/api/v1/campaigns/{cid}/appeals")),
    )
    .await;
    assert_eq!(appeals[0]["status"], "upheld");
    assert_eq!(appeals[0]["decision_note"], "截图可信");
    let (_, tasks) = json_get(
        &api,
        &lead,
        url(&format!(
            "/api/v1/campaigns/{cid}/tasks?unit=110000&per_page=500"
        )),
    )
    .await;
    let t = tasks["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == file_tid)
        .unwrap()
        .clone();
    assert_eq!(t["status"], "reopened");
    // The unit may not decide, and the evaluator may not read the unit's appeal page as a unit.
    let r = unit_c
        .post(url(&format!("/staff/campaigns/{cid}/decision/{aid}")))
        .form(&[
            ("csrf_token", unit_csrf.as_str()),
            ("decision", "reject"),
            ("note", "n"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // Every write above is in the audit trail.
    let (_, log) = json_get(&api, &lead, url("/api/v1/audit-log?per_page=500")).await;
    let actions: Vec<&str> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for a in [
        "campaign.create",
        "task.assign",
        "evidence.upload",
        "campaign.appeals",
        "appeal.create",
        "appeal.uphold",
    ] {
        assert!(actions.contains(&a), "{a} missing from {actions:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn campaign_pages_on_sqlite() {
    let s = start(Db::Sqlite).await;
    pages_workflow(&s).await;
}

#[cfg_attr(
    not(govcap_pg),
    ignore = "needs PostgreSQL: set GOVCAP_TEST_POSTGRES_URL"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn campaign_pages_on_postgres() {
    let Some(url) = common::postgres_url() else {
        eprintln!("SKIPPED: GOVCAP_TEST_POSTGRES_URL is not set");
        return;
    };
    let s = start(Db::Postgres(url, "govcap_test_campaign_pages".into())).await;
    pages_workflow(&s).await;
}
