//! End-to-end tests of the `govcap` binary: the README's main command, exit codes, recorded
//! runs (SQLite and PostgreSQL) and byte-identical re-runs.

mod common;

use common::{govcap, json, text, tmp};

#[test]
fn demo_writes_every_output_and_labels_it_synthetic() {
    let dir = tmp("demo");
    let o = govcap(&["demo", "--out", "out"], &dir);
    assert!(o.status.success(), "{}", text(&o));
    let out = dir.join("out");
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("合成数据"),
        "console says synthetic: {stdout}"
    );
    for year in ["2020", "2021"] {
        let y = out.join(year);
        for f in [
            "results.json",
            "analyses.json",
            "rankings.csv",
            "scores_level1.csv",
            "scores_level2.csv",
            "scores_level3.csv",
            "results.xlsx",
            "run.json",
        ] {
            assert!(y.join(f).is_file(), "{year}/{f} missing");
        }
        let r = json(&y.join("results.json"));
        assert_eq!(r["synthetic"], true);
        assert_eq!(r["units"].as_array().unwrap().len(), 337);
        let tiers = r["tiers"]["tiers"].as_array().unwrap();
        assert_eq!(tiers.len(), 4);
        let counted: u64 = tiers.iter().map(|t| t["count"].as_u64().unwrap()).sum();
        assert_eq!(counted, 337);
        assert_eq!(tiers[0]["name_zh"], "领先发展");
        let rankings = std::fs::read_to_string(y.join("rankings.csv")).unwrap();
        let mut lines = rankings.lines();
        let header = lines.next().unwrap();
        let header = header
            .strip_prefix('\u{feff}')
            .expect("CSV starts with a UTF-8 BOM for Excel");
        for col in [
            "unit_code",
            "unit_name",
            "province",
            "total",
            "rank",
            "tier",
            "sublevel",
        ] {
            assert!(
                header.split(',').any(|h| h == col),
                "rankings.csv lacks {col}: {header}"
            );
        }
        assert_eq!(lines.clone().count(), 337);
        assert!(
            lines.all(|l| l.ends_with(",synthetic")),
            "every ranking row is labelled synthetic"
        );
        let xlsx = std::fs::read(y.join("results.xlsx")).unwrap();
        assert_eq!(&xlsx[..2], b"PK", "results.xlsx is a zip container");
    }
    let a = json(&out.join("2021/analyses.json"));
    assert_eq!(a["previous_year"], 2020);
    assert_eq!(a["synthetic"], true);
    assert!(a["regions"]["headline"]["ratio"].as_f64().unwrap() > 0.5);
    assert!(a["provinces"]["sd_of_means"].as_f64().unwrap() > 0.0);

    // The runs were recorded and re-run byte-identically.
    let db = out.join("govcap.db");
    let db = db.to_str().unwrap();
    let list = govcap(&["runs", "list", "--db", db], &dir);
    assert!(list.status.success(), "{}", text(&list));
    assert!(text(&list).contains("SYNTHETIC"));
    let rerun = govcap(&["runs", "rerun", "2", "--db", db, "--out", "rerun"], &dir);
    assert!(rerun.status.success(), "{}", text(&rerun));
    assert_eq!(
        std::fs::read(dir.join("rerun/results.json")).unwrap(),
        std::fs::read(out.join("2021/results.json")).unwrap()
    );
    let diff = govcap(&["runs", "diff", "1", "2", "--db", db], &dir);
    assert!(diff.status.success(), "{}", text(&diff));
    assert!(text(&diff).contains("tier moves"));
    let show = govcap(&["runs", "show", "2", "--db", db], &dir);
    assert!(
        text(&show).contains("observations-2021-synthetic.csv"),
        "{}",
        text(&show)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_observations_exit_2_list_every_problem_and_write_nothing() {
    let dir = tmp("bad");
    std::fs::write(
        dir.join("obs.csv"),
        "unit,indicator,year,value\n510100,S1.1,2021,0.5\n999999,S1.1,2021,0.5\n510100,XX,2021,1\n510100,S2.2,2021,maybe\n510100,S1.1,2021,0.7\n",
    )
    .unwrap();
    let o = govcap(
        &[
            "evaluate",
            "--observations",
            "obs.csv",
            "--year",
            "2021",
            "--out",
            "out",
            "--db",
            "runs.db",
        ],
        &dir,
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let t = text(&o);
    for needle in ["row 3", "999999", "row 4", "XX", "row 5", "maybe", "row 6"] {
        assert!(t.contains(needle), "message lacks {needle:?}: {t}");
    }
    assert!(!dir.join("out/results.json").exists());
    assert!(
        !dir.join("runs.db").exists() || {
            let l = govcap(&["runs", "list", "--db", "runs.db"], &dir);
            text(&l).contains("no runs")
        }
    );
    let dry = govcap(&["import", "obs.csv", "--dry-run", "--db", "runs.db"], &dir);
    assert_eq!(dry.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn framework_check_and_show() {
    let dir = tmp("fw");
    let show = govcap(&["framework", "show"], &dir);
    assert!(show.status.success());
    let t = String::from_utf8_lossy(&show.stdout).to_string();
    assert!(
        t.contains("服务供给能力") && t.contains("诉求回复响应"),
        "{t}"
    );
    // A graded leaf lists what an evaluator may write: key, labels, and what each earns.
    assert!(
        t.contains("1 = documents / 仅有文件 / documents only  (50%)"),
        "{t}"
    );
    std::fs::write(
        dir.join("bad.toml"),
        "[framework]\nid=\"x\"\nversion=\"1\"\nname_zh=\"x\"\nname_en=\"x\"\nscale=\"points\"\n\n[[node]]\nid=\"A\"\npoints=2\n\n[[node]]\nid=\"A1\"\nparent=\"A\"\npoints=1\nrule=\"binary\"\n",
    )
    .unwrap();
    let check = govcap(&["framework", "check", "bad.toml"], &dir);
    assert_eq!(check.status.code(), Some(2));
    assert!(
        text(&check).contains("line 9: node A: has 2 points but its children add up to 1"),
        "{}",
        text(&check)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn classify_prints_jenkspy_style_json() {
    let dir = tmp("classify");
    std::fs::write(
        dir.join("v.csv"),
        "name,score\na,1\nb,2\nc,3\nd,10\ne,11\nf,12\ng,30\nh,31\n",
    )
    .unwrap();
    let o = govcap(
        &[
            "classify",
            "--method",
            "natural-breaks",
            "--classes",
            "3",
            "v.csv:score",
            "--json",
        ],
        &dir,
    );
    assert!(o.status.success(), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["breaks"], serde_json::json!([1.0, 3.0, 12.0, 31.0]));
    assert_eq!(v["counts"], serde_json::json!([3, 3, 2]));
    let missing = govcap(&["classify", "--method", "quantile", "v.csv:nope"], &dir);
    assert_eq!(missing.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg_attr(
    not(govcap_pg),
    ignore = "needs PostgreSQL: set GOVCAP_TEST_POSTGRES_URL"
)]
#[test]
fn runs_are_recorded_in_postgresql_when_given_a_url() {
    let Ok(url) = std::env::var("GOVCAP_TEST_POSTGRES_URL") else {
        eprintln!("skipping PostgreSQL CLI test: GOVCAP_TEST_POSTGRES_URL not set");
        return;
    };
    let schema = format!("govcap_cli_{}", std::process::id());
    let mut admin = postgres::Client::connect(&url, postgres::NoTls).expect("PostgreSQL reachable");
    admin
        .batch_execute(&format!(
            "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
        ))
        .unwrap();
    let sep = if url.contains('?') { '&' } else { '?' };
    let db = format!("{url}{sep}options=-csearch_path%3D{schema}");
    let dir = tmp("pg");
    let demo = govcap(&["demo", "--out", "out", "--db", &db], &dir);
    assert!(demo.status.success(), "{}", text(&demo));
    let rerun = govcap(&["runs", "rerun", "2", "--db", &db], &dir);
    let t = text(&rerun);
    admin
        .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
        .unwrap();
    assert!(rerun.status.success(), "{t}");
    assert!(t.contains("byte-identical"), "{t}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn import_stores_a_valid_wide_file_and_nothing_of_an_invalid_one() {
    let dir = tmp("import");
    std::fs::write(
        dir.join("wide.csv"),
        "code,name,S1.1,S2.2,S1.4\n510100,成都市,0.9,是,interpreted\n110000,北京市,85%,1,documents\n",
    )
    .unwrap();
    let ok = govcap(
        &["import", "wide.csv", "--year", "2021", "--db", "obs.db"],
        &dir,
    );
    assert!(ok.status.success(), "{}", text(&ok));
    assert!(
        text(&ok).contains("6 observations, 2 units"),
        "{}",
        text(&ok)
    );
    assert!(text(&ok).contains("stored as batch 1"), "{}", text(&ok));
    std::fs::write(
        dir.join("bad.csv"),
        "code,S1.1,S2.2\n510100,0.9,是\n110000,1.7,1\n",
    )
    .unwrap();
    let bad = govcap(
        &["import", "bad.csv", "--year", "2021", "--db", "obs.db"],
        &dir,
    );
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));
    assert!(
        text(&bad).contains("row 3") && text(&bad).contains("S1.1"),
        "{}",
        text(&bad)
    );
    // A second valid import gets batch 2: the refused file left no batch behind.
    let again = govcap(
        &["import", "wide.csv", "--year", "2021", "--db", "obs.db"],
        &dir,
    );
    assert!(
        text(&again).contains("stored as batch 2"),
        "{}",
        text(&again)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
