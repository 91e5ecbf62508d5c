//! The report in a real browser: headless Chromium opens the summary page, the ranking and one
//! unit page from `file://`, runs their scripts, and must log nothing to the console (no script
//! error, no blocked request — the pages' Content-Security-Policy turns any attempt to fetch
//! something into a console message) and paint a non-blank screenshot.
//!
//! How console errors are caught: Chromium started with `--enable-logging=stderr --v=0` writes
//! every console message of the page, including uncaught exceptions and CSP violations, to
//! stderr as a line containing `:CONSOLE`. The report's pages log nothing on purpose, so any
//! such line is a failure. A control page with a deliberate error proves the capture works.
//!
//! Without Chromium the test is skipped with a message, unless `GOVCAP_REQUIRE_BROWSER=1`
//! (as in CI), where a missing browser fails.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn chromium() -> Option<PathBuf> {
    for p in ["/usr/bin/chromium", "/usr/bin/chromium-browser"] {
        if Path::new(p).is_file() {
            return Some(PathBuf::from(p));
        }
    }
    None
}

/// Chromium, or `None` after saying the test is skipped; a failure instead when
/// `GOVCAP_REQUIRE_BROWSER=1` (as in CI).
fn chromium_or_skip() -> Option<PathBuf> {
    let bin = chromium();
    if bin.is_none() {
        if std::env::var("GOVCAP_REQUIRE_BROWSER").as_deref() == Ok("1") {
            panic!(
                "GOVCAP_REQUIRE_BROWSER=1 but Chromium is not installed (apt-get install chromium)"
            );
        }
        eprintln!("SKIPPED report_browser: Chromium is not installed (apt-get install chromium); set GOVCAP_REQUIRE_BROWSER=1 to make this a failure");
    }
    bin
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("govcap-browser-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// What one headless run saw.
struct Shot {
    console: Vec<String>,
    png: Vec<u8>,
    dom: String,
}

fn file_url(p: &Path) -> String {
    format!("file://{}", p.canonicalize().unwrap().display())
}

/// Runs Chromium with a fresh profile; kills it after two minutes.
fn run_chromium(bin: &Path, profile: &Path, args: &[String]) -> (String, String) {
    let mut cmd = Command::new(bin);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--disable-dev-shm-usage",
        "--hide-scrollbars",
        "--enable-logging=stderr",
        "--v=0",
    ])
    .arg(format!("--user-data-dir={}", profile.display()))
    .args(args)
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("start chromium");
    // Read both pipes while the browser runs, so a large DOM cannot fill a pipe and stall it.
    let drain = |r: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut s = Vec::new();
            if let Some(mut r) = r {
                let _ = r.read_to_end(&mut s);
            }
            String::from_utf8_lossy(&s).into_owned()
        })
    };
    let out = drain(child.stdout.take().map(|x| Box::new(x) as _));
    let err = drain(child.stderr.take().map(|x| Box::new(x) as _));
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish in 120 s: {args:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    (out.join().unwrap(), err.join().unwrap())
}

fn shoot(bin: &Path, page: &Path, work: &Path, tag: &str, size: (u32, u32)) -> Shot {
    let png = work.join(format!("{tag}.png"));
    let profile = work.join(format!("profile-{tag}"));
    let (_, err) = run_chromium(
        bin,
        &profile,
        &[
            format!("--screenshot={}", png.display()),
            format!("--window-size={},{}", size.0, size.1),
            file_url(page),
        ],
    );
    let console = err
        .lines()
        .filter(|l| l.contains(":CONSOLE"))
        .map(str::to_string)
        .collect();
    let (dom, _) = run_chromium(
        bin,
        &work.join(format!("profile-{tag}-dom")),
        &["--dump-dom".to_string(), file_url(page)],
    );
    Shot {
        console,
        png: std::fs::read(&png).unwrap_or_default(),
        dom,
    }
}

/// Width and height from a PNG's IHDR, after checking the signature and the chunk layout
/// (IHDR first, IEND last).
fn png_size(b: &[u8]) -> (u32, u32) {
    assert!(b.len() > 33, "PNG too short: {} bytes", b.len());
    assert_eq!(&b[..8], b"\x89PNG\r\n\x1a\n", "PNG signature");
    assert_eq!(&b[12..16], b"IHDR");
    assert_eq!(&b[b.len() - 8..b.len() - 4], b"IEND");
    let be = |i: usize| u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    (be(16), be(20))
}

#[test]
fn summary_ranking_and_unit_pages_render_without_console_errors() {
    let Some(bin) = chromium_or_skip() else {
        return;
    };
    let work = tmp("run");
    let o = Command::new(env!("CARGO_BIN_EXE_govcap"))
        .args(["demo", "--out", "out"])
        .current_dir(&work)
        .env_remove("GOVCAP_DB")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let report = work.join("out/report");

    // Control: the capture sees a script error and a blocked request; a blank page is small.
    let control = work.join("control.html");
    std::fs::write(
        &control,
        "<!DOCTYPE html><html><head><meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; script-src 'unsafe-inline'\"></head><body><img src=\"data-missing.png\"><script>nosuchfunction();</script></body></html>",
    )
    .unwrap();
    let c = shoot(&bin, &control, &work, "control", (1000, 1400));
    assert!(
        c.console.iter().any(|l| l.contains("nosuchfunction")),
        "console capture works: {:?}",
        c.console
    );
    assert!(
        c.console
            .iter()
            .any(|l| l.contains("Content Security Policy")),
        "blocked requests are reported: {:?}",
        c.console
    );
    let blank = work.join("blank.html");
    std::fs::write(&blank, "<!DOCTYPE html><html><body></body></html>").unwrap();
    let b = shoot(&bin, &blank, &work, "blank", (1000, 1400));
    assert_eq!(png_size(&b.png), (1000, 1400));

    let code = "510100";
    for (page, tag) in [
        (report.join("index.html"), "index"),
        (report.join("ranking.html"), "ranking"),
        (report.join(format!("units/{code}.html")), "unit"),
    ] {
        let s = shoot(&bin, &page, &work, tag, (1000, 1400));
        assert!(
            s.console.is_empty(),
            "{tag}: console messages: {:#?}",
            s.console
        );
        assert_eq!(png_size(&s.png), (1000, 1400), "{tag}: screenshot size");
        assert!(
            s.png.len() > 5 * b.png.len(),
            "{tag}: screenshot {} bytes is not much more than a blank page's {}",
            s.png.len(),
            b.png.len()
        );
        // The inline script ran: it replaces the root's `nojs` class.
        assert!(
            s.dom.contains("<html lang=\"zh-CN\" class=\"js\">"),
            "{tag}: scripts did not run: {}",
            &s.dom[..s.dom.len().min(300)]
        );
    }
    let _ = std::fs::remove_dir_all(&work);
}

/// Viewport width, the table box's scroll and client widths, and per header: visible?, left,
/// right, text.
type Measure = (u32, u32, u32, Vec<(bool, i64, i64, String)>);

/// The ranking page measured in the browser: the page's policy is dropped from a copy so a
/// measuring script can run after the page's own; it writes what it saw into the DOM, which
/// `--dump-dom` returns. Each entry: visible?, left, right, header text.
fn measure_ranking(bin: &Path, report: &Path, work: &Path, width: u32) -> Measure {
    let html = std::fs::read_to_string(report.join("ranking.html")).unwrap();
    let start = html
        .find("<meta http-equiv=\"Content-Security-Policy\"")
        .expect("the page has a policy");
    let end = start + html[start..].find('>').unwrap() + 1;
    let probe = "<script>(function(){var t=document.getElementById('ranking-table');var w=t.parentElement;var vw=document.documentElement.clientWidth;var hs=t.tHead.rows[0].cells;var out=[];for(var i=0;i<hs.length;i++){var r=hs[i].getBoundingClientRect();var vis=getComputedStyle(hs[i]).display!=='none';out.push((vis?'v':'h')+'~'+Math.round(r.left)+'~'+Math.round(r.right)+'~'+hs[i].textContent.replace(/[~|]/g,''));}document.body.setAttribute('data-measure',vw+'|'+w.scrollWidth+'|'+w.clientWidth+'|'+out.join('|'));})();</script></body>";
    let page = format!("{}{}", &html[..start], &html[end..]).replacen("</body>", probe, 1);
    let copy = report.join(format!("ranking-measure-{width}.html"));
    std::fs::write(&copy, page).unwrap();
    let (dom, _) = run_chromium(
        bin,
        &work.join(format!("profile-measure-{width}")),
        &[
            format!("--window-size={width},900"),
            "--dump-dom".to_string(),
            file_url(&copy),
        ],
    );
    let at = dom.find("data-measure=\"").expect("the probe ran") + 14;
    let raw = &dom[at..at + dom[at..].find('"').unwrap()];
    let mut parts = raw.split('|');
    let mut num = || parts.next().unwrap().parse::<u32>().unwrap();
    let (vw, scroll, client) = (num(), num(), num());
    let cols = raw
        .split('|')
        .skip(3)
        .map(|c| {
            let f: Vec<&str> = c.splitn(4, '~').collect();
            (
                f[0] == "v",
                f[1].parse().unwrap(),
                f[2].parse().unwrap(),
                f[3].to_string(),
            )
        })
        .collect();
    (vw, scroll, client, cols)
}

/// At 1,366 px every column of the ranking (13 with a previous year) is on screen without
/// scrolling sideways; on a 390 px phone the table keeps rank, unit, total and tier and still
/// fits. A screenshot at 1,366 px is kept in the work folder for a look.
#[test]
fn the_ranking_uses_the_width_and_fits_a_phone() {
    let Some(bin) = chromium_or_skip() else {
        return;
    };
    let work = tmp("ranking");
    let o = Command::new(env!("CARGO_BIN_EXE_govcap"))
        .args(["demo", "--out", "out", "--no-audit"])
        .current_dir(&work)
        .env_remove("GOVCAP_DB")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let report = work.join("out/report");

    for width in [1366, 1920] {
        let (vw, scroll, client, cols) = measure_ranking(&bin, &report, &work, width);
        assert_eq!(vw, width, "viewport");
        assert_eq!(
            cols.len(),
            13,
            "a ranking with a previous year has 13 columns: {cols:?}"
        );
        assert!(
            scroll <= client,
            "{width} px: the table scrolls sideways ({scroll} > {client}): {cols:?}"
        );
        for (visible, left, right, name) in &cols {
            assert!(
                *visible && *left >= 0 && *right <= vw as i64,
                "{width} px: column {name} is not on screen ({left}–{right}): {cols:?}"
            );
        }
    }
    let shot = shoot(
        &bin,
        &report.join("ranking.html"),
        &work,
        "ranking-1366",
        (1366, 900),
    );
    assert_eq!(png_size(&shot.png), (1366, 900));
    assert!(shot.console.is_empty(), "{:?}", shot.console);

    let (vw, scroll, client, cols) = measure_ranking(&bin, &report, &work, 390);
    let shown: Vec<&str> = cols.iter().filter(|c| c.0).map(|c| c.3.as_str()).collect();
    assert_eq!(shown, ["名次", "单位", "总分", "类型"], "{cols:?}");
    assert!(
        scroll <= client,
        "390 px: the table scrolls sideways ({scroll} > {client})"
    );
    for (_, left, right, name) in cols.iter().filter(|c| c.0) {
        assert!(
            *left >= 0 && *right <= vw as i64,
            "390 px: {name} off screen ({left}–{right})"
        );
    }
    let _ = std::fs::remove_dir_all(&work);
}
