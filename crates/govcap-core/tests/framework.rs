//! The framework file format: the default framework, and every kind of problem reported with
//! its line in one pass.

use govcap_core::framework::{Collection, Framework, FrameworkError, Rule, Scale};

#[test]
fn default_framework_is_3_9_31_and_adds_up_to_100() {
    let fw = Framework::default_framework();
    assert_eq!(fw.scale, Scale::Points);
    assert_eq!(fw.total, 100.0);
    assert_eq!(fw.at_depth(1).len(), 3);
    assert_eq!(fw.at_depth(2).len(), 9);
    assert_eq!(fw.at_depth(3).len(), 31);
    assert_eq!(fw.leaves().len(), 31);
    let pts: Vec<f64> = fw.at_depth(1).iter().map(|&i| fw.node(i).weight).collect();
    assert_eq!(pts, vec![40.0, 40.0, 20.0]);
    let second: Vec<(String, f64)> = fw
        .at_depth(2)
        .iter()
        .map(|&i| (fw.node(i).id.clone(), fw.node(i).weight))
        .collect();
    let expected = [
        ("S1", 14.0),
        ("S2", 14.0),
        ("S3", 12.0),
        ("R1", 13.0),
        ("R2", 14.0),
        ("R3", 13.0),
        ("I1", 7.0),
        ("I2", 7.0),
        ("I3", 6.0),
    ];
    assert_eq!(
        second,
        expected
            .iter()
            .map(|(a, b)| (a.to_string(), *b))
            .collect::<Vec<_>>()
    );
    // Effective weights of the leaves add to 1; points of leaves add to 100.
    let sum_w: f64 = fw.leaves().iter().map(|&i| fw.effective_weight(i)).sum();
    assert!((sum_w - 1.0).abs() < 1e-12);
    let sum_p: f64 = fw.leaves().iter().map(|&i| fw.node(i).weight).sum();
    assert!((sum_p - 100.0).abs() < 1e-12);
    // The three public third-level names sit under 互动诉求反馈.
    for (id, name) in [
        ("R3.1", "诉求回复响应"),
        ("R3.2", "诉求回复应用"),
        ("R3.3", "主动感知回应"),
    ] {
        let n = fw.node(fw.position(id).unwrap());
        assert_eq!(n.name_zh, name);
        assert_eq!(n.parent.as_deref(), Some("R3"));
    }
    let collections: Vec<Collection> = fw
        .leaves()
        .iter()
        .map(|&i| fw.node(i).leaf.as_ref().unwrap().collection)
        .collect();
    assert_eq!(
        collections
            .iter()
            .filter(|c| **c == Collection::Auto)
            .count(),
        15
    );
    assert_eq!(
        collections
            .iter()
            .filter(|c| **c == Collection::Manual)
            .count(),
        7
    );
    assert_eq!(
        collections
            .iter()
            .filter(|c| **c == Collection::Hybrid)
            .count(),
        9
    );
    let graded = fw
        .leaves()
        .iter()
        .filter(|&&i| matches!(fw.node(i).leaf.as_ref().unwrap().rule, Rule::Graded { .. }))
        .count();
    assert!(graded >= 10);
}

const BROKEN: &str = r#"
[framework]
id = "broken"
version = "1"
name_zh = "坏"
name_en = "broken"
scale = "points"
total = 10

[[node]]
id = "A"
points = 6

[[node]]
id = "A1"
parent = "A"
points = 3
rule = "binary"

[[node]]
id = "A1"
parent = "A"
points = 2
rule = "binary"

[[node]]
id = "A2"
parent = "Nope"
points = 1
rule = "ratio"

[[node]]
id = "B"
points = 4

[[node]]
id = "B1"
parent = "B"
points = 4
rule = "fancy"

[[node]]
id = "C"
parent = "B"
points = 0
rule = "graded"
levels = [
  { key = "hi", zh = "高", en = "high", fraction = 1.0 },
  { key = "lo", zh = "低", en = "low", fraction = 0.5 },
]
"#;

#[test]
fn every_problem_is_reported_with_its_line() {
    let err = Framework::from_toml(BROKEN).unwrap_err();
    let ps = err.problems();
    let text: Vec<String> = ps.iter().map(|p| p.to_string()).collect();
    let has = |needle: &str, line: usize| {
        assert!(
            ps.iter()
                .any(|p| p.message.contains(needle) && p.line == Some(line)),
            "no problem {needle:?} on line {line} in:\n{}",
            text.join("\n")
        )
    };
    has("duplicate id (first defined on line 15)", 21);
    has("unknown parent \"Nope\"", 27);
    has("unknown scoring rule \"fancy\"", 37);
    has("graded levels out of order", 43);
    assert!(matches!(err, FrameworkError::Invalid(_)));
}

#[test]
fn points_that_do_not_add_up_are_reported() {
    let text = r#"
[framework]
id = "p"
version = "1"
name_zh = "p"
name_en = "p"
scale = "points"
total = 10

[[node]]
id = "A"
points = 7

[[node]]
id = "A1"
parent = "A"
points = 4
rule = "binary"

[[node]]
id = "A2"
parent = "A"
points = 2
rule = "ratio"

[[node]]
id = "B"
points = 4

[[node]]
id = "B1"
parent = "B"
points = 4
rule = "binary"
"#;
    let err = Framework::from_toml(text).unwrap_err();
    let msgs: Vec<String> = err.problems().iter().map(|p| p.to_string()).collect();
    assert!(
        msgs.iter()
            .any(|m| m == "line 11: node A: has 7 points but its children add up to 6"),
        "{msgs:?}"
    );
    assert!(
        msgs.iter()
            .any(|m| m.contains("total is 10 but the top-level points add up to 11")),
        "{msgs:?}"
    );
    assert!(
        !msgs.iter().any(|m| m.contains("node B:")),
        "B adds up: {msgs:?}"
    );
    let fixed = text.replace("points = 7", "points = 6");
    let fw = Framework::from_toml(&fixed).expect("adds up now");
    assert_eq!(fw.total, 10.0);
}

#[test]
fn cycles_are_found() {
    let text = r#"
[framework]
id = "c"
version = "1"
name_zh = "c"
name_en = "c"
scale = "weights"

[[node]]
id = "X"
parent = "Y"

[[node]]
id = "Y"
parent = "Z"

[[node]]
id = "Z"
parent = "X"

[[node]]
id = "ok"
rule = "continuous"
"#;
    let err = Framework::from_toml(text).unwrap_err();
    let msgs: Vec<String> = err.problems().iter().map(|p| p.to_string()).collect();
    assert_eq!(
        msgs.iter().filter(|m| m.contains("cycle")).count(),
        1,
        "{msgs:?}"
    );
    assert!(msgs.iter().any(|m| m.contains("X → Y → Z → X")), "{msgs:?}");
}

#[test]
fn syntax_errors_have_a_line() {
    let err = Framework::from_toml("[framework]\nid = \"x\"\nversion = 1\n").unwrap_err();
    let p = &err.problems()[0];
    assert_eq!(p.line, Some(3));
}

#[test]
fn geometric_aggregation_refuses_zero_capable_inputs_at_configuration_time() {
    let text = r#"
[framework]
id = "g"
version = "1"
name_zh = "g"
name_en = "g"
scale = "weights"

[method]
normalisation = { method = "min-max", low = 0.0, high = 100.0 }
aggregation = { default = { method = "geometric" } }

[[node]]
id = "P"

[[node]]
id = "x"
parent = "P"
rule = "continuous"

[[node]]
id = "y"
parent = "P"
rule = "continuous"
"#;
    let err = Framework::from_toml(text).unwrap_err();
    let msgs: Vec<String> = err.problems().iter().map(|p| p.to_string()).collect();
    assert!(
        msgs.iter().any(|m| m.contains("strictly positive")),
        "{msgs:?}"
    );
    // Shifting the normalisation range to 1..100 makes it valid.
    let fixed = text.replace("low = 0.0", "low = 1.0");
    Framework::from_toml(&fixed).expect("positive range is accepted");
}
