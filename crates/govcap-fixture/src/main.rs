//! `govcap-fixture`: serve simulated government portals on loopback until Ctrl-C.
//!
//! ```text
//! govcap-fixture [--sites N] [--seed S] [--as-of YYYY-MM-DD] [--hostile] [--hosts H]
//!                [--port P] [--ipv6] [--slow-ms MS] [--bomb-mib N] [--huge-mib N]
//!                [--write-sites FILE] [--truth FILE]
//! ```

use govcap_fixture::{try_spawn, FixtureConfig};
use std::path::PathBuf;
use std::time::Duration;

const USAGE: &str = "usage: govcap-fixture [--sites N] [--seed S] [--as-of YYYY-MM-DD] [--hostile] [--hosts H] \
[--port P] [--ipv6] [--slow-ms MS] [--bomb-mib N] [--huge-mib N] [--write-sites FILE] [--truth FILE]";

struct Args {
    cfg: FixtureConfig,
    sites_file: Option<PathBuf>,
    truth_file: Option<PathBuf>,
}

fn parse(mut it: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut a = Args {
        cfg: FixtureConfig::default(),
        sites_file: None,
        truth_file: None,
    };
    while let Some(flag) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        let num = |v: String, name: &str| {
            v.parse::<u64>()
                .map_err(|_| format!("{name}: {v:?} is not a whole number"))
        };
        match flag.as_str() {
            "--sites" => a.cfg.sites = num(value("--sites")?, "--sites")? as usize,
            "--seed" => a.cfg.seed = num(value("--seed")?, "--seed")?,
            "--as-of" => a.cfg.as_of = value("--as-of")?,
            "--hostile" => a.cfg.hostile = true,
            "--hosts" => a.cfg.hosts = num(value("--hosts")?, "--hosts")? as usize,
            "--port" => a.cfg.port = num(value("--port")?, "--port")? as u16,
            "--ipv6" => a.cfg.ipv6 = true,
            "--slow-ms" => {
                a.cfg.slow_delay = Duration::from_millis(num(value("--slow-ms")?, "--slow-ms")?)
            }
            "--bomb-mib" => a.cfg.bomb_bytes = num(value("--bomb-mib")?, "--bomb-mib")? << 20,
            "--huge-mib" => a.cfg.huge_bytes = num(value("--huge-mib")?, "--huge-mib")? << 20,
            "--write-sites" => a.sites_file = Some(value("--write-sites")?.into()),
            "--truth" => a.truth_file = Some(value("--truth")?.into()),
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    Ok(a)
}

#[tokio::main]
async fn main() {
    let args = match parse(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let fx = match try_spawn(args.cfg.clone()).await {
        Ok(f) => f,
        Err(e) => {
            eprintln!("govcap-fixture: {e}");
            std::process::exit(1);
        }
    };
    if let Some(p) = &args.sites_file {
        if let Err(e) = fx.write_sites_csv(p) {
            eprintln!("govcap-fixture: cannot write {}: {e}", p.display());
            std::process::exit(1);
        }
    }
    if let Some(p) = &args.truth_file {
        let json = serde_json::to_string_pretty(&fx.truth()).expect("truth serialises");
        if let Err(e) = std::fs::write(p, json) {
            eprintln!("govcap-fixture: cannot write {}: {e}", p.display());
            std::process::exit(1);
        }
    }
    let addrs: Vec<String> = fx.addrs().iter().map(|a| a.to_string()).collect();
    println!(
        "govcap-fixture: {} sites on {}{} (Ctrl-C stops)",
        fx.sites().len(),
        addrs.join(", "),
        fx.v6_addr().map(|a| format!(", {a}")).unwrap_or_default()
    );
    // The fixture's pages are dated relative to its own "today"; a monitor run measured
    // against the clock would call every site stale. Say the matching command.
    println!(
        "monitor them with: govcap monitor run --sites {} --as-of {} --out monitor-out",
        args.sites_file
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "SITES.csv (write it with --write-sites SITES.csv)".into()),
        args.cfg.as_of
    );
    let _ = tokio::signal::ctrl_c().await;
    fx.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Result<Args, String> {
        parse(s.split_whitespace().map(str::to_string))
    }

    #[test]
    fn flags() {
        let a = args("--sites 5 --seed 9 --hostile --hosts 3 --slow-ms 1500 --bomb-mib 8 --write-sites s.csv").unwrap();
        assert_eq!(a.cfg.sites, 5);
        assert_eq!(a.cfg.seed, 9);
        assert!(a.cfg.hostile);
        assert_eq!(a.cfg.hosts, 3);
        assert_eq!(a.cfg.slow_delay, Duration::from_millis(1500));
        assert_eq!(a.cfg.bomb_bytes, 8 << 20);
        assert_eq!(a.sites_file, Some(PathBuf::from("s.csv")));
        assert!(args("--sites x").is_err());
        assert!(args("--bogus").is_err());
    }
}
