//! Marks the PostgreSQL tests `ignored` (with the reason in the test summary) when
//! `GOVCAP_TEST_POSTGRES_URL` is not set, so a laptop run shows them as skipped rather than
//! passed. Rebuilt when the variable changes. Shared by the packages with PostgreSQL tests
//! (`build = "../../build.rs"` in govcap-store and govcap-web).

fn main() {
    println!("cargo::rustc-check-cfg=cfg(govcap_pg)");
    println!("cargo::rerun-if-env-changed=GOVCAP_TEST_POSTGRES_URL");
    if std::env::var("GOVCAP_TEST_POSTGRES_URL").is_ok_and(|u| !u.is_empty()) {
        println!("cargo::rustc-cfg=govcap_pg");
    }
}
