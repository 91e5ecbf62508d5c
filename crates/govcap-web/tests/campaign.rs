//! The evaluators' campaign workflow end to end over HTTP on loopback, on SQLite always and on
//! PostgreSQL when GOVCAP_TEST_POSTGRES_URL is set.

mod common;

use common::{client, login, start, token, Db, Server};
use serde_json::json;

/// The evaluators' workflow through the API: generation and balanced assignment with a
/// double-coding sample, entry with versions and rule validation, the two-person rule,
/// adjudication of a disagreeing pair, an appeal, freezing and the recorded run.
async fn campaign_workflow(s: &Server) {
    // A second evaluator, for double coding.
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
    let lead = token(s, "lead").await;
    let ev1 = token(s, "evaluator").await;
    let ev2 = token(s, "evaluator2").await;
    let rev = token(s, "reviewer").await;
    let unit = token(s, "unit").await;
    let c = client();
    let url = |p: &str| format!("{}{p}", s.base);
    let r = c
        .post(url("/api/v1/campaigns"))
        .bearer_auth(&lead)
        .json(&json!({"name": "2021 人工核验", "year": 2021, "due": "2020-01-01T00:00:00Z"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let cid = r.json::<serde_json::Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    let r = c
        .post(url(&format!("/api/v1/campaigns/{cid}/tasks:generate")))
        .bearer_auth(&lead)
        .json(&json!({"evaluators": ["evaluator", "evaluator2"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let g: serde_json::Value = r.json().await.unwrap();
    assert_eq!(g["tasks"], 337 * 16 + 539, "{g}");
    assert_eq!(g["double_coded"], 539);
    let r = c
        .post(url(&format!("/api/v1/campaigns/{cid}/tasks:generate")))
        .bearer_auth(&lead)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409, "tasks are generated once");

    // The binary leaves of the default framework that evaluators code.
    let fw = govcap_core::framework::Framework::default_framework();
    let is_binary = |id: &str| {
        fw.nodes.iter().any(|n| {
            n.id == id
                && n.leaf
                    .as_ref()
                    .is_some_and(|l| matches!(l.rule, govcap_core::framework::Rule::Binary))
        })
    };
    let tasks_of = |unit: &str| {
        let c = c.clone();
        let (u, lead) = (
            url(&format!(
                "/api/v1/campaigns/{cid}/tasks?unit={unit}&per_page=500"
            )),
            lead.clone(),
        );
        async move {
            let v: serde_json::Value = c
                .get(u)
                .bearer_auth(&lead)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            v["items"].as_array().unwrap().clone()
        }
    };
    let bj = tasks_of("110000").await;
    let t = bj
        .iter()
        .find(|t| t["coder"] == 1 && is_binary(t["indicator"].as_str().unwrap()))
        .unwrap()
        .clone();
    let tid = t["id"].as_i64().unwrap();
    let owner = t["assignee"].as_str().unwrap().to_string();
    let (mine, other) = if owner == "evaluator" {
        (&ev1, &ev2)
    } else {
        (&ev2, &ev1)
    };
    let put = |tok: &str, tid: i64, body: serde_json::Value| {
        c.put(url(&format!("/api/v1/tasks/{tid}/value")))
            .bearer_auth(tok.to_string())
            .json(&body)
            .send()
    };
    let v = t["version"].as_u64().unwrap();
    assert_eq!(
        put(other, tid, json!({"value": "是", "version": v}))
            .await
            .unwrap()
            .status(),
        403,
        "not the assignee"
    );
    let r = put(mine, tid, json!({"value": "maybe", "version": v}))
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let p: serde_json::Value = r.json().await.unwrap();
    assert!(p["detail"].as_str().unwrap().contains("binary rule"), "{p}");
    let r = put(mine, tid, json!({"value": "是", "evidence_url": "http://127.0.0.1/portal", "note": "首页有入口", "confidence": "sure", "version": v})).await.unwrap();
    assert_eq!(r.status(), 422, "confidence is high, medium or low");
    let r = put(mine, tid, json!({"value": "是", "evidence_url": "http://127.0.0.1/portal", "note": "首页有入口", "confidence": "高", "version": v})).await.unwrap();
    assert_eq!(r.status(), 200);
    let v2 = r.json::<serde_json::Value>().await.unwrap()["version"]
        .as_u64()
        .unwrap();
    assert_eq!(v2, v + 1);
    let now: serde_json::Value = c
        .get(url(&format!(
            "/api/v1/campaigns/{cid}/tasks?unit=110000&indicator={}",
            t["indicator"].as_str().unwrap()
        )))
        .bearer_auth(&lead)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let now = now["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == tid)
        .unwrap()
        .clone();
    assert_eq!(now["confidence"], "high", "高 is read as high");
    // A second browser still on the old version is refused and told who changed the task.
    let r = put(mine, tid, json!({"value": "否", "version": v}))
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    let p: serde_json::Value = r.json().await.unwrap();
    assert!(p["detail"].as_str().unwrap().contains(&owner), "{p}");
    // Two-person rule.
    let review = |tok: &str, tid: i64, body: serde_json::Value| {
        c.post(url(&format!("/api/v1/tasks/{tid}/review")))
            .bearer_auth(tok.to_string())
            .json(&body)
            .send()
    };
    assert_eq!(
        review(mine, tid, json!({"decision": "confirm"}))
            .await
            .unwrap()
            .status(),
        403,
        "the evaluator cannot confirm their own value"
    );
    assert_eq!(
        review(&rev, tid, json!({"decision": "reject"}))
            .await
            .unwrap()
            .status(),
        422,
        "a rejection needs a reason"
    );
    assert_eq!(
        review(&rev, tid, json!({"decision": "confirm"}))
            .await
            .unwrap()
            .status(),
        200
    );

    // A double-coded pair that disagrees goes to the lead.
    let mut pair = None;
    for code in [
        "110000", "120000", "130100", "130200", "130300", "130400", "130500", "130600", "130700",
        "130800", "130900", "131000", "131100", "140100", "140200", "140300",
    ] {
        let ts = tasks_of(code).await;
        if let Some(second) = ts
            .iter()
            .find(|t| t["coder"] == 2 && is_binary(t["indicator"].as_str().unwrap()))
        {
            let first = ts
                .iter()
                .find(|t| t["coder"] == 1 && t["indicator"] == second["indicator"])
                .unwrap();
            pair = Some((first.clone(), second.clone()));
            break;
        }
    }
    let (first, second) = pair.expect("a double-coded binary task among the first units");
    assert_ne!(first["assignee"], second["assignee"], "independent coders");
    let tok_of = |name: &serde_json::Value| {
        if name == "evaluator" {
            ev1.clone()
        } else {
            ev2.clone()
        }
    };
    let (f, sc) = (
        first["id"].as_i64().unwrap(),
        second["id"].as_i64().unwrap(),
    );
    assert_eq!(
        put(
            &tok_of(&first["assignee"]),
            f,
            json!({"value": "1", "version": first["version"]})
        )
        .await
        .unwrap()
        .status(),
        200
    );
    assert_eq!(
        put(
            &tok_of(&second["assignee"]),
            sc,
            json!({"value": "0", "version": second["version"]})
        )
        .await
        .unwrap()
        .status(),
        200
    );
    assert_eq!(
        review(&rev, f, json!({"decision": "confirm"}))
            .await
            .unwrap()
            .status(),
        409,
        "disputed: the lead adjudicates first"
    );
    let cur: serde_json::Value = c
        .get(url(&format!(
            "/api/v1/campaigns/{cid}/tasks?unit={}&indicator={}",
            first["unit"].as_str().unwrap(),
            first["indicator"].as_str().unwrap()
        )))
        .bearer_auth(&lead)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let cur1 = cur["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["coder"] == 1)
        .unwrap()
        .clone();
    assert_eq!(cur1["disputed"], true);
    let r = c
        .post(url(&format!("/api/v1/tasks/{f}/adjudicate")))
        .bearer_auth(&lead)
        .json(&json!({"value": "0", "note": "two screenshots checked", "version": cur1["version"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        review(&rev, f, json!({"decision": "confirm"}))
            .await
            .unwrap()
            .status(),
        200,
        "the adjudicated value is reviewed by someone else"
    );

    // Appeals: only when opened, only one's own unit.
    let appeal = |body: serde_json::Value| {
        c.post(url("/api/v1/appeals"))
            .bearer_auth(unit.clone())
            .json(&body)
            .send()
    };
    assert_eq!(
        appeal(json!({"task": tid, "reason": "已开通"}))
            .await
            .unwrap()
            .status(),
        409,
        "appeals are not open yet"
    );
    let r = c
        .get(url(&format!("/api/v1/campaigns/{cid}/tasks")))
        .bearer_auth(&unit)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        404,
        "provisional values are not shown before appeals open"
    );
    let r = c
        .post(url(&format!("/api/v1/campaigns/{cid}/appeals:open")))
        .bearer_auth(&lead)
        .json(&json!({"deadline": "2099-01-01T00:00:00Z"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let seen: serde_json::Value = c
        .get(url(&format!("/api/v1/campaigns/{cid}/tasks?per_page=500")))
        .bearer_auth(&unit)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        seen["total"], 16,
        "the representative sees its own unit's 16 tasks only"
    );
    assert!(seen["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["unit"] == "110000"));
    let other_unit = tasks_of("120000").await[0]["id"].as_i64().unwrap();
    assert_eq!(
        appeal(json!({"task": other_unit, "reason": "x"}))
            .await
            .unwrap()
            .status(),
        404,
        "another unit's task does not exist for this account"
    );
    let r = appeal(
        json!({"task": tid, "reason": "已开通，见截图", "evidence_url": "http://127.0.0.1/proof"}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 201);
    let aid = r.json::<serde_json::Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    let r = c
        .post(url(&format!("/api/v1/appeals/{aid}/decision")))
        .bearer_auth(&rev)
        .json(&json!({"decision": "uphold", "note": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "only the lead decides");
    let r = c
        .post(url(&format!("/api/v1/appeals/{aid}/decision")))
        .bearer_auth(&lead)
        .json(&json!({"decision": "uphold", "note": "证据成立"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let cur: serde_json::Value = c
        .get(url(&format!(
            "/api/v1/campaigns/{cid}/tasks?unit=110000&indicator={}",
            t["indicator"].as_str().unwrap()
        )))
        .bearer_auth(&lead)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let cur = cur["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == tid)
        .unwrap()
        .clone();
    assert_eq!(cur["status"], "reopened");
    assert_eq!(
        put(mine, tid, json!({"value": "否", "version": cur["version"]}))
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        review(&rev, tid, json!({"decision": "confirm"}))
            .await
            .unwrap()
            .status(),
        200
    );

    // Freeze, then the recorded run from the confirmed values.
    assert_eq!(
        c.post(url(&format!("/api/v1/campaigns/{cid}/runs")))
            .bearer_auth(&lead)
            .send()
            .await
            .unwrap()
            .status(),
        409,
        "freeze first"
    );
    assert_eq!(
        c.post(url(&format!("/api/v1/campaigns/{cid}/freeze")))
            .bearer_auth(&lead)
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert_eq!(
        put(mine, tid, json!({"value": "是", "version": 99}))
            .await
            .unwrap()
            .status(),
        409,
        "frozen"
    );
    let csv = c
        .get(url(&format!("/api/v1/campaigns/{cid}/observations.csv")))
        .bearer_auth(&lead)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        csv.lines().count(),
        3,
        "header + the two confirmed values: {csv}"
    );
    let r = c
        .post(url(&format!("/api/v1/campaigns/{cid}/runs")))
        .bearer_auth(&lead)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let run_id = r.json::<serde_json::Value>().await.unwrap()["run_id"]
        .as_i64()
        .unwrap();
    let detail: serde_json::Value = c
        .get(url(&format!("/api/v1/campaigns/{cid}")))
        .bearer_auth(&lead)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(detail["phase"], "closed");
    assert_eq!(detail["run_id"], run_id);
    assert_eq!(detail["progress"]["confirmed"], 2);
    let agreement_csv = c
        .get(url(&format!("/api/v1/campaigns/{cid}/agreement.csv")))
        .bearer_auth(&lead)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        agreement_csv.starts_with("\u{feff}indicator,name_zh,rule,pairs"),
        "{agreement_csv}"
    );
    assert_eq!(
        agreement_csv.lines().count(),
        1 + detail["agreement"].as_array().unwrap().len()
    );
    // The forecast: two confirmations this week, the rest open, past its due date.
    assert_eq!(detail["forecast"]["confirmed"], 2);
    assert_eq!(detail["forecast"]["open"], 337 * 16 - 2);
    assert_eq!(detail["forecast"]["overdue"], true);
    assert!((detail["forecast"]["per_day"].as_f64().unwrap() - 2.0 / 7.0).abs() < 1e-9);
    assert!(detail["forecast"]["estimated_done"].as_str().unwrap() > "2026");
    // The run's observations file is stored with it, byte for byte.
    let stored = s
        .state
        .pool
        .with(move |st| Ok(st.get_run(run_id)?.unwrap()))
        .await
        .unwrap();
    let obs = stored
        .inputs
        .iter()
        .find(|i| i.role == "observations")
        .unwrap();
    assert_eq!(obs.name, format!("campaign-{cid}-observations.csv"));
    assert_eq!(obs.bytes, csv.as_bytes());
    assert!(!stored.synthetic);
    // The pages: the dashboard shows progress and agreement; the entry page saves with
    // versions like the API and names the task a stale write was refused for.
    let (lead_c, lead_csrf) = login(s, "lead").await;
    let dash = lead_c
        .get(url(&format!("/staff/campaigns/{cid}")))
        .send()
        .await
        .unwrap();
    assert_eq!(dash.status(), 200);
    let dash = dash.text().await.unwrap();
    assert!(
        dash.contains("按评估员") && dash.contains("评估员一致性") && dash.contains("已出结果"),
        "dashboard"
    );
    let r = lead_c
        .post(url("/staff/campaigns"))
        .form(&[
            ("csrf_token", lead_csrf.as_str()),
            ("name", "页面新建"),
            ("year", "2022"),
            ("double_share", "0.2"),
        ])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_redirection(), "{}", r.status());
    let cid2: i64 = r.headers()["location"]
        .to_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let r = lead_c
        .post(url(&format!("/staff/campaigns/{cid2}/generate")))
        .form(&[
            ("csrf_token", lead_csrf.as_str()),
            ("evaluators", "evaluator, evaluator2"),
            ("by", "indicator"),
        ])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_redirection(), "{}", r.status());
    let (ev_c, ev_csrf) = login(s, "evaluator").await;
    let list = ev_c
        .get(url(&format!("/staff/campaigns/{cid2}/entry")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(list.contains("我的录入任务"));
    let r = c
        .post(url("/api/v1/campaigns"))
        .bearer_auth(&lead)
        .json(&json!({"name": "x", "year": 2021, "due": "tomorrow"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422, "due must be an RFC 3339 instant");
    let mine: serde_json::Value = c
        .get(url(&format!(
            "/api/v1/campaigns/{cid2}/tasks?assignee=evaluator&per_page=1"
        )))
        .bearer_auth(&lead)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let t0 = &mine["items"][0];
    let (tid0, unit0) = (
        t0["id"].as_i64().unwrap(),
        t0["unit"].as_str().unwrap().to_string(),
    );
    let page = ev_c
        .get(url(&format!("/staff/campaigns/{cid2}/entry?unit={unit0}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(&format!("name=\"v{tid0}\"")) && page.contains("门户网站"),
        "entry page"
    );
    let value = if is_binary(t0["indicator"].as_str().unwrap()) {
        "1"
    } else {
        "0.5"
    };
    let other_value = if value == "1" { "0" } else { "0.7" };
    let form = |v: &str, ver: &str| {
        vec![
            ("csrf_token".to_string(), ev_csrf.clone()),
            (format!("v{tid0}"), v.to_string()),
            (format!("ver{tid0}"), ver.to_string()),
        ]
    };
    let r = ev_c
        .post(url(&format!("/staff/campaigns/{cid2}/entry?unit={unit0}")))
        .form(&form(value, "1"))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_redirection(), "saved: {}", r.status());
    let r = ev_c
        .post(url(&format!("/staff/campaigns/{cid2}/entry?unit={unit0}")))
        .form(&form(other_value, "1"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409, "the second browser on the old version");
    let text = r.text().await.unwrap();
    assert!(
        text.contains(&format!("任务 {tid0}")) && text.contains("last changed by evaluator"),
        "names the task and who changed it"
    );

    // The spreadsheet round trip: download, fill as Excel would, upload; a bad cell refuses
    // the whole file with its row and column, and nothing is saved.
    let xlsx = ev_c
        .get(url(&format!("/api/v1/campaigns/{cid2}/sheet.xlsx")))
        .send()
        .await
        .unwrap();
    assert_eq!(xlsx.status(), 200);
    let xlsx = xlsx.bytes().await.unwrap().to_vec();
    let filled = |src: &[u8], bad: bool| -> (Vec<u8>, usize) {
        use calamine::{Reader, Xlsx};
        let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(src.to_vec())).unwrap();
        let range = book.worksheet_range("任务").unwrap();
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet().set_name("任务").unwrap();
        let mut n = 0;
        for (r, row) in range.rows().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                let (r, c) = (r as u32, c as u16);
                match cell {
                    calamine::Data::Float(f) => {
                        ws.write_number(r, c, *f).unwrap();
                    }
                    calamine::Data::Int(i) => {
                        ws.write_number(r, c, *i as f64).unwrap();
                    }
                    calamine::Data::String(t) => {
                        ws.write_string(r, c, t).unwrap();
                    }
                    _ => {}
                }
            }
            // Fill rows 2..=6 whose value is empty, by rule.
            if bad && r == 1 {
                ws.write_string(1, 8, "maybe").unwrap();
                n += 1;
            } else if (1..=5).contains(&r)
                && matches!(row.get(8), None | Some(calamine::Data::Empty))
            {
                let rule = row.get(6).map(|d| d.to_string()).unwrap_or_default();
                let v = match rule.as_str() {
                    "binary" => "是",
                    "ratio" => "85%",
                    "count" => "1",
                    "graded" => "none",
                    _ => "3",
                };
                ws.write_string(r as u32, 8, v).unwrap();
                n += 1;
            }
        }
        (wb.save_to_buffer().unwrap(), n)
    };
    let (good, n) = filled(&xlsx, false);
    let r = ev_c
        .put(url(&format!("/api/v1/campaigns/{cid2}/sheet")))
        .header("x-csrf-token", &ev_csrf)
        .header(
            "content-type",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        .body(good)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["saved"]
            .as_u64()
            .unwrap() as usize,
        n
    );
    // The same upload again changes nothing; a fresh download has the values and new versions.
    let xlsx2 = ev_c
        .get(url(&format!("/api/v1/campaigns/{cid2}/sheet.xlsx")))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap()
        .to_vec();
    assert_ne!(xlsx2, xlsx);
    let before: serde_json::Value = c
        .get(url(&format!(
            "/api/v1/campaigns/{cid2}/tasks?assignee=evaluator&per_page=500"
        )))
        .bearer_auth(&lead)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (bad, _) = filled(&xlsx2, true);
    let r = ev_c
        .put(url(&format!("/api/v1/campaigns/{cid2}/sheet")))
        .header("x-csrf-token", &ev_csrf)
        .body(bad)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let p: serde_json::Value = r.json().await.unwrap();
    let errors: Vec<String> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap().to_string())
        .collect();
    assert!(
        errors.iter().any(|e| e.contains("column \"数值 value\"")
            && e.contains("rule)")
            && e.contains("row 2")),
        "{errors:?}"
    );
    assert!(p["detail"].as_str().unwrap().contains("nothing was saved"));
    let after: serde_json::Value = c
        .get(url(&format!(
            "/api/v1/campaigns/{cid2}/tasks?assignee=evaluator&per_page=500"
        )))
        .bearer_auth(&lead)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(before, after, "a refused file writes nothing");

    // Evidence files: the type comes from the content; stored once by hash; served sandboxed.
    let png =
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89".to_vec();
    let r = c
        .post(url("/api/v1/evidence?name=首页截图.png"))
        .bearer_auth(&ev1)
        .body(png.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let up: serde_json::Value = r.json().await.unwrap();
    assert_eq!(up["content_type"], "image/png");
    let again: serde_json::Value = c
        .post(url("/api/v1/evidence"))
        .bearer_auth(&ev2)
        .body(png.clone())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(again["sha256"], up["sha256"], "content-addressed");
    let r = c
        .post(url("/api/v1/evidence"))
        .bearer_auth(&ev1)
        .header("content-type", "image/png")
        .body("<svg onload=alert(1)></svg>")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415, "the claimed type does not count");
    let r = c
        .post(url("/api/v1/evidence"))
        .bearer_auth(&ev1)
        .body(vec![0x25u8; 10 * 1024 * 1024 + 10])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    let mut big = png.clone();
    big.resize(3 * 1024 * 1024, 0);
    let r = c
        .post(url("/api/v1/evidence"))
        .bearer_auth(&ev1)
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        201,
        "a 3 MiB screenshot passes the evidence route's own limit"
    );
    let file = ev_c
        .get(url(up["url"].as_str().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(file.status(), 200);
    assert_eq!(file.headers()["content-type"], "image/png");
    assert!(file.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .starts_with("sandbox"));
    assert_eq!(file.bytes().await.unwrap().to_vec(), png);
    assert_eq!(
        client()
            .get(url(up["url"].as_str().unwrap()))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );

    // "Capture now": the page archived as WARC and, with Chromium, a screenshot.
    let r = c
        .post(url(&format!("/api/v1/tasks/{tid0}/capture")))
        .bearer_auth(&ev2)
        .json(&json!({"url": url("/login")}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "only the task's evaluator captures");
    let r = c
        .post(url(&format!("/api/v1/tasks/{tid0}/capture")))
        .bearer_auth(&ev1)
        .json(&json!({"url": url("/login")}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let cap: serde_json::Value = r.json().await.unwrap();
    let view = lead_c
        .get(url(cap["url"].as_str().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(view.status(), 200);
    assert!(view
        .text()
        .await
        .unwrap()
        .contains("<iframe class=\"evidence\" sandbox"));
    let raw_url = cap["url"]
        .as_str()
        .unwrap()
        .replace("/evidence?", "/evidence/raw?");
    let raw = lead_c.get(url(&raw_url)).send().await.unwrap();
    assert!(raw.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .starts_with("sandbox"));
    assert!(
        raw.text().await.unwrap().contains("id=\"username\""),
        "the archived login page"
    );
    if std::env::var("GOVCAP_REQUIRE_BROWSER").is_ok_and(|v| v == "1") {
        let shot = cap["screenshot_url"]
            .as_str()
            .expect("a screenshot with Chromium installed");
        let png = ev_c
            .get(url(shot))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert!(png.starts_with(b"\x89PNG"));
    } else if cap["screenshot_url"].is_null() {
        eprintln!("capture: no Chromium here, so no screenshot was checked (GOVCAP_REQUIRE_BROWSER=1 requires it)");
    }

    // The entry page's capture button: the typed values are saved, the page comes back with
    // the capture in the task's evidence field.
    let form = vec![
        ("csrf_token".to_string(), ev_csrf.clone()),
        (format!("e{tid0}"), url("/login")),
    ];
    let r = ev_c
        .post(url(&format!(
            "/staff/campaigns/{cid2}/capture/{tid0}?unit={unit0}"
        )))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_redirection(), "{}", r.status());
    let back = r.headers()["location"].to_str().unwrap().to_string();
    assert!(
        back.contains(&format!("captured={tid0}"))
            && back.contains("capture_url=/staff/captures/evidence"),
        "{back}"
    );
    let page = ev_c
        .get(url(&back))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("已存证，保存后生效")
            && page.contains("value=\"/staff/captures/evidence?record="),
        "the capture is in the evidence field"
    );
    // Saving the page then keeps the capture as the task's evidence.
    let capture_url = back
        .split("capture_url=")
        .nth(1)
        .unwrap()
        .split('#')
        .next()
        .unwrap();
    let capture_url = capture_url
        .replace("%3F", "?")
        .replace("%3D", "=")
        .replace("%3A", ":")
        .replace("%3C", "<")
        .replace("%3E", ">");
    let cur: serde_json::Value = c
        .get(url(&format!(
            "/api/v1/campaigns/{cid2}/tasks?unit={unit0}&assignee=evaluator"
        )))
        .bearer_auth(&lead)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let cur = cur["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == tid0)
        .unwrap()
        .clone();
    let r = put(
        &ev1,
        tid0,
        json!({"value": cur["value"], "evidence_url": capture_url, "version": cur["version"]}),
    )
    .await
    .unwrap();
    assert_eq!(
        r.status(),
        200,
        "a capture is valid evidence: {}",
        r.text().await.unwrap()
    );

    // Every step is in the audit trail.
    let admin = token(s, "admin").await;
    let log: serde_json::Value = c
        .get(url("/api/v1/audit-log?limit=1000"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let actions: Vec<&str> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for a in [
        "campaign.create",
        "campaign.generate",
        "task.value",
        "task.confirm",
        "task.adjudicate",
        "campaign.appeals",
        "appeal.create",
        "appeal.uphold",
        "campaign.frozen",
        "campaign.run",
    ] {
        assert!(actions.contains(&a), "{a} missing from {actions:?}");
    }
}

/// A campaign over a recorded monitor run: automated leaves come from its findings, hybrid
/// leaves show its proposal to the evaluator (never as a final value).
async fn monitor_proposals(s: &Server) {
    let finding = |check: &str, value: serde_json::Value, details: serde_json::Value| {
        govcap_store::MonitorFinding {
            code: "110000".into(),
            check: check.into(),
            url: "http://127.0.0.1/bj/".into(),
            value_json: value.to_string(),
            details_json: details.to_string(),
            evidence: vec!["<urn:uuid:00000000-0000-4000-8000-000000000001>".into()],
        }
    };
    let findings = vec![
        finding("new_media", json!(["app", "weibo"]), json!({})),
        finding("mobile", json!(true), json!({"share": 0.9})),
    ];
    let mid = s
        .state
        .pool
        .with(move |st| {
            st.save_monitor_run(&govcap_store::NewMonitorRun {
                started_at: "2021-11-01T00:00:00Z".into(),
                as_of: "2021-11-01".into(),
                out_dir: "/nonexistent".into(),
                summary_json: "{}".into(),
                findings,
                alerts: vec![],
            })
        })
        .await
        .unwrap();
    let lead = token(s, "lead").await;
    let c = client();
    let url = |p: &str| format!("{}{p}", s.base);
    let r = c
        .post(url("/api/v1/campaigns"))
        .bearer_auth(&lead)
        .json(&json!({"name": "x", "year": 2021, "monitor_run": 9999}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422, "an unknown monitor run is refused");
    let r = c
        .post(url("/api/v1/campaigns"))
        .bearer_auth(&lead)
        .json(&json!({"name": "监测", "year": 2021, "monitor_run": mid}))
        .send()
        .await
        .unwrap();
    let cid = r.json::<serde_json::Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    let r = c
        .post(url(&format!("/api/v1/campaigns/{cid}/tasks:generate")))
        .bearer_auth(&lead)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let t: serde_json::Value = c
        .get(url(&format!(
            "/api/v1/campaigns/{cid}/tasks?unit=110000&indicator=S3.2"
        )))
        .bearer_auth(&lead)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let t = &t["items"][0];
    assert_eq!(t["proposed_value"], "1", "the monitor found an app: {t}");
    assert_eq!(t["proposed_evidence"], "http://127.0.0.1/bj/");
    assert!(t["value"].is_null(), "a proposal is never the value");
    let csv = c
        .get(url(&format!("/api/v1/campaigns/{cid}/observations.csv")))
        .bearer_auth(&lead)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        csv.contains("110000,I1.1,2021,0.9,auto,,http://127.0.0.1/bj/,2021-11-01,"),
        "automated leaves come from the monitor run: {csv}"
    );
    assert!(!csv.contains(",S3.2,"), "hybrid leaves only once confirmed");
}

/// A campaign over a unit list and a framework of the team's own.
async fn own_inputs(s: &Server) {
    let lead = token(s, "lead").await;
    let c = client();
    let url = |p: &str| format!("{}{p}", s.base);
    let r = c
        .post(url("/api/v1/campaigns"))
        .bearer_auth(&lead)
        .json(&json!({"name": "x", "year": 2021, "framework_toml": "id = 1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.json::<serde_json::Value>().await.unwrap()["detail"]
        .as_str()
        .unwrap()
        .starts_with("framework_toml:"));
    let r = c.post(url("/api/v1/campaigns")).bearer_auth(&lead).json(&json!({"name": "x", "year": 2021, "units_csv": "code,name\n510100,成都市\n510100,重复\n"})).send().await.unwrap();
    assert_eq!(r.status(), 422, "a duplicate code is refused");
    assert!(r.json::<serde_json::Value>().await.unwrap()["detail"]
        .as_str()
        .unwrap()
        .starts_with("units_csv:"));
    let units =
        "code,name,province\n510100,成都市,四川省\n510300,自贡市,四川省\n530100,昆明市,云南省\n";
    let r = c
        .post(url("/api/v1/campaigns"))
        .bearer_auth(&lead)
        .json(&json!({"name": "西南三市", "year": 2021, "units_csv": units, "double_share": 0.0}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let cid = r.json::<serde_json::Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    let g: serde_json::Value = c
        .post(url(&format!("/api/v1/campaigns/{cid}/tasks:generate")))
        .bearer_auth(&lead)
        .json(&json!({"evaluators": ["evaluator"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(g["tasks"], 3 * 16, "{g}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn campaign_on_sqlite() {
    let s = start(Db::Sqlite).await;
    campaign_workflow(&s).await;
    monitor_proposals(&s).await;
    own_inputs(&s).await;
}

#[cfg_attr(
    not(govcap_pg),
    ignore = "needs PostgreSQL: set GOVCAP_TEST_POSTGRES_URL"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn campaign_on_postgres() {
    let Some(url) = common::postgres_url() else {
        eprintln!("SKIPPED campaign_on_postgres: set GOVCAP_TEST_POSTGRES_URL to run it");
        return;
    };
    let s = start(Db::Postgres(url, "govcap_web_campaign_test".into())).await;
    campaign_workflow(&s).await;
    monitor_proposals(&s).await;
    own_inputs(&s).await;
}
