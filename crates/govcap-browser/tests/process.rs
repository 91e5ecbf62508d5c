//! The process handling, with stand-in "browsers" (shell scripts) so it is tested whether or
//! not Chromium is installed, and `dump_dom` against the real Chromium when it is.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use govcap_browser::{dump_dom, find_chromium, run, BrowserError, DomOptions, Limits};

fn work(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("govcap-browser-t-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn script(dir: &Path, body: &str) -> PathBuf {
    let p = dir.join("fake-chromium");
    std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p
}

fn alive(pid: u32) -> bool {
    // A zombie is dead for our purpose: its state letter is Z.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            let after = s.rsplit_once(')').map(|x| x.1).unwrap_or("");
            !after.trim_start().starts_with('Z')
        })
        .unwrap_or(false)
}

#[test]
fn a_browser_past_its_deadline_is_killed_with_its_helpers() {
    let d = work("timeout");
    let pidfile = d.join("helper.pid");
    // The "browser" forks a helper (as Chromium does), then hangs.
    let bin = script(
        &d,
        &format!("sleep 60 &\necho $! > {}\nsleep 60", pidfile.display()),
    );
    let t = Instant::now();
    let r = run(
        &bin,
        &[],
        Limits {
            timeout: Duration::from_millis(400),
            max_stdout: 1024,
        },
    );
    let took = t.elapsed();
    assert!(matches!(r, Err(BrowserError::Timeout(_))), "{r:?}");
    assert!(took < Duration::from_secs(5), "took {took:?}");
    let helper: u32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let t = Instant::now();
    while alive(helper) && t.elapsed() < Duration::from_secs(3) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!alive(helper), "the helper {helper} outlived the kill");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn output_past_the_cap_stops_the_browser() {
    let d = work("cap");
    let bin = script(&d, "head -c 5000000 /dev/zero\nsleep 60");
    let t = Instant::now();
    let r = run(
        &bin,
        &[],
        Limits {
            timeout: Duration::from_secs(30),
            max_stdout: 100_000,
        },
    );
    assert!(matches!(r, Err(BrowserError::TooLarge(100_000))), "{r:?}");
    assert!(t.elapsed() < Duration::from_secs(10));
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn a_finished_run_returns_stdout_status_and_stderr() {
    let d = work("ok");
    let bin = script(&d, "echo \"args: $*\"\necho 'last words' >&2\nexit 3");
    let out = run(
        &bin,
        &["--a".to_string(), "b c".to_string()],
        Limits {
            timeout: Duration::from_secs(10),
            max_stdout: 1024,
        },
    )
    .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "args: --a b c\n");
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(out.stderr_lines(2), "last words");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn dump_dom_returns_the_dom_and_removes_its_profile() {
    let d = work("dom");
    // Prints the DOM and the profile directory it was given (to check it is removed).
    let bin = script(
        &d,
        "for a in \"$@\"; do case \"$a\" in --user-data-dir=*) echo \"${a#--user-data-dir=}\" > \"$(dirname \"$0\")/profile\";; esac; done\n\
         echo '<html><body>rendered</body></html>'",
    );
    let dom = dump_dom(&bin, "http://127.0.0.1:1/", &DomOptions::default()).unwrap();
    assert_eq!(dom.trim(), "<html><body>rendered</body></html>");
    let profile = std::fs::read_to_string(d.join("profile")).unwrap();
    assert!(profile.contains("gcr-dom"), "{profile}");
    assert!(!Path::new(profile.trim()).exists(), "profile left behind");

    let empty = script(&d, "echo 'cannot open display' >&2\nexit 1");
    match dump_dom(&empty, "http://127.0.0.1:1/", &DomOptions::default()) {
        Err(BrowserError::Failed { detail, .. }) => {
            assert!(detail.contains("cannot open display"), "{detail}")
        }
        other => panic!("{other:?}"),
    }
    let _ = std::fs::remove_dir_all(&d);
}

/// The real browser: a page whose content only exists after its script ran.
#[test]
fn chromium_dump_dom_runs_the_pages_scripts() {
    let Some(bin) = find_chromium() else {
        if std::env::var("GOVCAP_REQUIRE_BROWSER").as_deref() == Ok("1") {
            panic!(
                "GOVCAP_REQUIRE_BROWSER=1 but Chromium is not installed (apt-get install chromium)"
            );
        }
        eprintln!("skipped: chromium not installed");
        return;
    };
    let d = work("real");
    let page = d.join("spa.html");
    std::fs::write(
        &page,
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>t</title></head><body><div id=\"app\"></div>\
         <script>setTimeout(function(){document.getElementById('app').innerHTML='<p id=\"made\">由脚本生成</p>';},200);</script></body></html>",
    )
    .unwrap();
    let t = Instant::now();
    let dom = dump_dom(
        &bin,
        &govcap_browser::file_url(&page),
        &DomOptions::default(),
    )
    .unwrap();
    eprintln!(
        "chromium dump-dom of a local page: {} ms",
        t.elapsed().as_millis()
    );
    assert!(dom.contains("<p id=\"made\">由脚本生成</p>"), "{dom}");
    let _ = std::fs::remove_dir_all(&d);
}

/// A challenge that reloads itself for ever must not hammer the site until the timeout:
/// the browser is stopped after a few navigations.
#[test]
fn chromium_reload_loops_are_cut_short() {
    use std::io::{BufRead, BufReader, Write};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    let Some(bin) = find_chromium() else {
        if std::env::var("GOVCAP_REQUIRE_BROWSER").as_deref() == Ok("1") {
            panic!(
                "GOVCAP_REQUIRE_BROWSER=1 but Chromium is not installed (apt-get install chromium)"
            );
        }
        eprintln!("skipped: chromium not installed");
        return;
    };
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let hits = Arc::new(AtomicUsize::new(0));
    {
        let hits = hits.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut s) = conn else { continue };
                let hits = hits.clone();
                std::thread::spawn(move || {
                    let mut r = BufReader::new(s.try_clone().unwrap());
                    loop {
                        let mut first = String::new();
                        if r.read_line(&mut first).unwrap_or(0) == 0 {
                            return;
                        }
                        loop {
                            let mut l = String::new();
                            if r.read_line(&mut l).unwrap_or(0) == 0 || l == "\r\n" {
                                break;
                            }
                        }
                        let body: &[u8] = if first.starts_with("GET /loop ") {
                            hits.fetch_add(1, Ordering::SeqCst);
                            b"<html><body><script>setTimeout(function(){location.reload();},100);</script></body></html>"
                        } else {
                            b""
                        };
                        let status = if body.is_empty() {
                            "404 Not Found"
                        } else {
                            "412 Precondition Failed"
                        };
                        let head = format!(
                            "HTTP/1.1 {status}\r\nContent-Type: text/html\r\nContent-Length: {}\r\n\r\n",
                            body.len()
                        );
                        if s.write_all(head.as_bytes())
                            .and_then(|_| s.write_all(body))
                            .is_err()
                        {
                            return;
                        }
                    }
                });
            }
        });
    }
    let t = Instant::now();
    let r = dump_dom(
        &bin,
        &format!("http://{addr}/loop"),
        &DomOptions {
            max_navigations: Some(3),
            ..DomOptions::default()
        },
    );
    let took = t.elapsed();
    let n = hits.load(Ordering::SeqCst);
    eprintln!(
        "reload loop stopped after {n} page requests in {} ms",
        took.as_millis()
    );
    assert!(
        matches!(r, Err(BrowserError::TooManyNavigations(_))),
        "{r:?}"
    );
    assert!((3..=8).contains(&n), "{n} page requests");
    assert!(took < Duration::from_secs(20), "{took:?}");
}
