//! Findings → observations: every observation fits its leaf's rule (`read_value`), auto leaves
//! are `auto`, hybrid ones `proposed`, and the values follow the documented formulas.

mod checks_support;

use checks_support::*;
use govcap_core::engine::score::read_value;
use govcap_core::framework::{Collection, Framework};
use govcap_core::observation::{Source, Value};
use govcap_monitor::checks::{run_all, CheckConfig};
use govcap_monitor::model::Finding;
use govcap_monitor::observations::{reply_score, to_observations};

#[test]
fn observations_from_40_fixture_sites_fit_their_leaves() {
    let (p, cfg) = portals(40, 7);
    let fw = Framework::default_framework();
    let mut findings: Vec<Finding> = Vec::new();
    for s in &p.sites {
        let (v, _) = offline_visit(&p, &s.code, &cfg.as_of);
        findings.extend(run_all(&v, &CheckConfig::default()));
    }
    let obs = to_observations(&findings, 2026, "2026-11-27T08:00:00Z");
    assert!(!obs.is_empty());
    let mut leaves = std::collections::BTreeSet::new();
    for o in &obs {
        let leaf = fw
            .node(fw.position(&o.indicator).unwrap())
            .leaf
            .as_ref()
            .unwrap();
        read_value(&leaf.rule, &o.value).unwrap_or_else(|e| {
            panic!(
                "{} {}: {:?} does not fit: {e}",
                o.unit, o.indicator, o.value
            )
        });
        let want = match leaf.collection {
            Collection::Auto => Source::Auto,
            Collection::Hybrid => Source::Proposed,
            Collection::Manual => panic!("{} is manual", o.indicator),
        };
        assert_eq!(o.source, want, "{}", o.indicator);
        assert_eq!(o.year, 2026);
        assert!(
            o.note.as_deref().unwrap().contains("<urn:uuid:"),
            "{}: evidence in the note",
            o.indicator
        );
        assert!(o.evidence_url.as_deref().unwrap().starts_with("http://"));
        leaves.insert(o.indicator.clone());
    }
    let expected = [
        "I1.1", "I1.2", "I1.3", "I2.1", "R1.1", "R3.1", "S1.2", "S3.2", "S3.4",
    ];
    assert_eq!(leaves.into_iter().collect::<Vec<_>>(), expected);
}

fn value(obs: &[govcap_core::observation::Observation], unit: &str, ind: &str) -> Option<Value> {
    obs.iter()
        .find(|o| o.unit == unit && o.indicator == ind)
        .map(|o| o.value.clone())
}

#[test]
fn one_site_by_hand() {
    let (p, cfg) = portals(40, 7);
    let s = p
        .sites
        .iter()
        .find(|s| {
            s.board.is_some()
                && !s.guides.is_empty()
                && s.media.iter().any(|m| m.0.key() == "weibo")
        })
        .unwrap();
    let (v, _) = offline_visit(&p, &s.code, &cfg.as_of);
    let f = run_all(&v, &CheckConfig::default());
    let obs = to_observations(&f, 2026, "2026-11-27");
    let get = |n: &str| f.iter().find(|x| x.check == n).unwrap();

    // R3.1 = reply rate × latency score of the median reply time.
    let mb = get("message_board");
    let want = reply_score(
        mb.value.as_f64().unwrap(),
        mb.details["median_reply_days"].as_f64(),
    );
    assert_eq!(value(&obs, &s.code, "R3.1"), want.map(Value::Number));
    // I1.3: availability 1 (weight 0.5), HTTPS no (0.25), IPv6 untested → (0.5) / 0.75.
    assert_eq!(
        value(&obs, &s.code, "I1.3"),
        Some(Value::Number(0.5 / 0.75))
    );
    // R1.1 counts channel kinds.
    let n = s.channels.iter().filter(|c| **c).count() as f64;
    assert_eq!(value(&obs, &s.code, "R1.1"), Some(Value::Number(n)));
    // S3.4: Weibo and WeChat.
    let has = |k: &str| s.media.iter().any(|m| m.0.key() == k);
    let level = match (has("weibo"), has("wechat")) {
        (true, true) => "both",
        (false, false) => "none",
        _ => "one",
    };
    assert_eq!(
        value(&obs, &s.code, "S3.4"),
        Some(Value::Text(level.into()))
    );
    assert_eq!(
        value(&obs, &s.code, "S3.2"),
        Some(Value::Number(f64::from(u8::from(has("app")))))
    );
    assert_eq!(
        value(&obs, &s.code, "S1.2"),
        get("service_guide").value.as_f64().map(Value::Number)
    );
}

fn finding(check: &str, value: serde_json::Value, details: serde_json::Value) -> Finding {
    Finding {
        code: "U".into(),
        url: "http://u/".into(),
        check: check.into(),
        value,
        details,
        evidence: vec![format!("<urn:uuid:{check}>")],
    }
}

/// The two graded levels the monitor can now reach, and what keeps a site below them.
#[test]
fn checked_and_active_levels() {
    use serde_json::json;
    let level = |fs: &[Finding], ind: &str| value(&to_observations(fs, 2026, "t"), "U", ind);
    let modes = |basics: serde_json::Value| {
        vec![
            finding("accessibility", json!(true), json!({})),
            finding("elderly_mode", json!(true), json!({})),
            finding("accessibility_basics", basics, json!({})),
        ]
    };
    let fs = modes(json!(true));
    assert_eq!(level(&fs, "I1.2"), Some(Value::Text("checked".into())));
    let obs = to_observations(&fs, 2026, "t");
    let note = obs[0].note.as_deref().unwrap();
    assert!(note.contains("<urn:uuid:accessibility_basics>"), "{note}");
    assert_eq!(
        level(&modes(json!(false)), "I1.2"),
        Some(Value::Text("both".into()))
    );
    assert_eq!(
        level(&modes(json!(null)), "I1.2"),
        Some(Value::Text("both".into()))
    );
    assert_eq!(
        level(&modes(json!(true))[..2], "I1.2"),
        Some(Value::Text("both".into()))
    );
    // One mode: passing the basic checks does not lift it.
    let mut one = modes(json!(true));
    one[1].value = json!(false);
    assert_eq!(level(&one, "I1.2"), Some(Value::Text("one".into())));

    let media = |wb: serde_json::Value, wx: serde_json::Value| {
        vec![finding(
            "new_media",
            json!(["weibo", "wechat"]),
            json!({ "activity": { "weibo": { "active": wb }, "wechat": { "active": wx } } }),
        )]
    };
    assert_eq!(
        level(&media(json!(true), json!(true)), "S3.4"),
        Some(Value::Text("active".into()))
    );
    for (wb, wx) in [(true, false), (false, true)] {
        assert_eq!(
            level(&media(json!(wb), json!(wx)), "S3.4"),
            Some(Value::Text("both".into()))
        );
    }
    assert_eq!(
        level(&media(json!(true), json!(null)), "S3.4"),
        Some(Value::Text("both".into())),
        "no dated WeChat post: never guessed active"
    );
    let mut only_weibo = media(json!(true), json!(true));
    only_weibo[0].value = json!(["weibo"]);
    assert_eq!(level(&only_weibo, "S3.4"), Some(Value::Text("one".into())));
}
