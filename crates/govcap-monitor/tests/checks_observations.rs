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
