//! Crawling one loopback site: robots.txt, crawl-delay, scope, bounds, the calendar guard,
//! and a WARC record with correct digests behind every page.

mod fetch_support;

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use fetch_support::*;
use govcap_monitor::crawl::{crawl_site, Cancel, CrawlConfig, Site};
use govcap_monitor::fetch::{FetchConfig, Fetcher};
use govcap_monitor::model::FetchState;
use govcap_monitor::warc::{sha256_label, RecordIds, WarcReader, WarcWriter};

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("govcap-crawl-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn crawl_cfg() -> CrawlConfig {
    CrawlConfig {
        max_depth: 2,
        max_pages: 50,
        site_budget: Duration::from_secs(20),
        max_per_pattern: 20,
        search_probe: false,
        http_probe: false,
    }
}

/// The test portal: pages by path (None = 404).
fn portal(path: &str, other: &str) -> Option<String> {
    let page = |links: &[&str]| {
        let a: String = links
            .iter()
            .map(|l| format!("<a href=\"{l}\">链接</a>"))
            .collect();
        format!("<html><head><title>{path}</title></head><body>{a}</body></html>")
    };
    Some(match path {
        "/" => page(&[
            "/a.html",
            "b.html#top",
            "/a.html#again",
            "/private/secret.html",
            "/files/guide.pdf",
            "/missing.html",
            other,
        ]),
        "/a.html" => page(&["/c.html", "/a.html"]),
        "/b.html" => page(&["/c.html"]),
        "/c.html" => page(&["/d.html"]),
        "/d.html" | "/private/secret.html" => page(&[]),
        _ => return None,
    })
}

#[tokio::test]
async fn robots_scope_depth_and_evidence() {
    let other = serve(|_, _| html("<html>other site</html>")).await;
    let other_url = other.url("/");
    let o2 = other_url.clone();
    let site = serve(move |p, _| match p {
        "/robots.txt" => status(
            200,
            &[("Content-Type", "text/plain")],
            b"User-agent: *\nDisallow: /private/\n",
        ),
        _ => match portal(p, &o2) {
            Some(b) => html(&b),
            None => not_found(),
        },
    })
    .await;
    let dir = tmp("robots");
    let path = dir.join("s.warc.gz");
    let mut warc = WarcWriter::create(&path, RecordIds::from_seed(3), "t").unwrap();
    let fetcher = Fetcher::new(quick_config()).unwrap();
    let s = Site {
        code: "s1".into(),
        url: site.url("/"),
    };
    let (visit, stats) = crawl_site(
        &fetcher,
        &s,
        "2024-06-01",
        &crawl_cfg(),
        &mut warc,
        &Cancel::new(),
    )
    .await
    .unwrap();
    warc.flush().unwrap();

    let paths = site.paths();
    assert_eq!(paths[0], "/robots.txt");
    assert_eq!(paths[1], "/");
    assert!(
        !paths.iter().any(|p| p.starts_with("/private/")),
        "{paths:?}"
    );
    assert!(!paths.iter().any(|p| p.ends_with(".pdf")));
    assert!(
        !paths.contains(&"/d.html".to_string()),
        "depth 3 is beyond the bound"
    );
    assert_eq!(other.paths().len(), 0, "another site is out of scope");
    assert_eq!(
        site.hits("/a.html"),
        1,
        "duplicates and fragments are one page"
    );
    assert_eq!(stats.skipped_robots, 1);
    assert_eq!(stats.skipped_non_html, 1);

    let by_url: HashMap<String, &govcap_monitor::model::Page> =
        visit.pages.iter().map(|p| (p.url.clone(), p)).collect();
    let mut urls: Vec<&str> = by_url
        .keys()
        .map(|u| u.trim_start_matches(&site.url("")))
        .collect();
    urls.sort();
    assert_eq!(
        urls,
        vec!["/", "/a.html", "/b.html", "/c.html", "/missing.html"]
    );
    assert_eq!(visit.pages[0].depth, 0);
    assert_eq!(by_url[&site.url("/c.html")].depth, 2);
    assert_eq!(
        by_url[&site.url("/missing.html")].state,
        FetchState::Http4xx
    );
    assert_eq!(visit.attempts.len(), 1);
    assert_eq!(visit.attempts[0].1, FetchState::Ok);
    assert_eq!(visit.facts["robots"][0]["verdict"], "parsed");

    // Every page cites a response record whose payload is what the server sent.
    let records: HashMap<String, _> = WarcReader::open(&path)
        .unwrap()
        .map(Result::unwrap)
        .map(|r| (r.id().unwrap().to_string(), r))
        .collect();
    for p in &visit.pages {
        let id = p.warc_record.as_ref().expect("page archived");
        let rec = &records[id];
        assert_eq!(rec.header("WARC-Type"), Some("response"));
        assert_eq!(rec.header("WARC-Target-URI"), Some(p.final_url.as_str()));
        assert_eq!(rec.header("WARC-IP-Address"), Some("127.0.0.1"));
        let (_, payload) = rec.http_parts().unwrap();
        let path_part = p.url.trim_start_matches(&site.url(""));
        let expected =
            portal(path_part, &other_url).unwrap_or_else(|| "<html>404 Not Found</html>".into());
        assert_eq!(payload, expected.as_bytes(), "{}", p.url);
        assert_eq!(
            rec.header("WARC-Payload-Digest"),
            Some(sha256_label(payload).as_str())
        );
        assert_eq!(
            rec.header("WARC-Block-Digest"),
            Some(sha256_label(&rec.block).as_str())
        );
    }
    // robots.txt is archived too; request + response per fetch, plus warcinfo. The timing
    // probe asked for / once more, and is not archived.
    assert_eq!(paths.iter().filter(|p| *p == "/").count(), 2);
    assert_eq!(records.len(), 1 + 2 * (paths.len() - 1));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn crawl_delay_spaces_requests() {
    let site = serve(|p, _| match p {
        "/robots.txt" => status(200, &[], b"User-agent: govcap-monitor\nCrawl-delay: 0.25\n"),
        "/" => html("<a href=/1>1</a><a href=/2>2</a><a href=/3>3</a>"),
        _ => html("<p>leaf</p>"),
    })
    .await;
    let dir = tmp("delay");
    let mut warc =
        WarcWriter::create(&dir.join("d.warc.gz"), RecordIds::from_seed(4), "t").unwrap();
    let fetcher = Fetcher::new(FetchConfig {
        min_interval: Duration::ZERO,
        per_host_inflight: 4,
        ..quick_config()
    })
    .unwrap();
    let s = Site {
        code: "d".into(),
        url: site.url("/"),
    };
    let (visit, _) = crawl_site(
        &fetcher,
        &s,
        "2024-06-01",
        &crawl_cfg(),
        &mut warc,
        &Cancel::new(),
    )
    .await
    .unwrap();
    assert_eq!(visit.pages.len(), 4);
    let log = site.log.lock().unwrap().clone();
    assert_eq!(
        log.len(),
        6,
        "robots.txt, /, the timing probe's /, three pages"
    );
    // robots.txt comes first; after it every request (the probe too) waits for the delay.
    let times: Vec<Instant> = log.iter().map(|(t, _, _)| *t).collect();
    for w in times[1..].windows(2) {
        assert!(
            w[1] - w[0] >= Duration::from_millis(230),
            "{:?}",
            w[1] - w[0]
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn an_endless_calendar_and_the_page_cap_are_bounded() {
    let site = serve(|p, _| {
        if p == "/robots.txt" {
            return not_found();
        }
        if let Some(m) = p.strip_prefix("/cal?month=") {
            let m: u32 = m.parse().unwrap();
            return html(&format!("<a href=\"/cal?month={}\">下月</a>", m + 1));
        }
        let links: String = (0..30)
            .map(|i| format!("<a href=/n/{i}.html>n</a>"))
            .collect();
        html(&format!("<a href=\"/cal?month=0\">日历</a>{links}"))
    })
    .await;
    let dir = tmp("cal");
    let fetcher = Fetcher::new(quick_config()).unwrap();
    let s = Site {
        code: "c".into(),
        url: site.url("/"),
    };

    let cfg = CrawlConfig {
        max_depth: 100,
        max_pages: 1000,
        max_per_pattern: 5,
        ..crawl_cfg()
    };
    let mut warc =
        WarcWriter::create(&dir.join("c.warc.gz"), RecordIds::from_seed(5), "t").unwrap();
    let (visit, stats) = crawl_site(&fetcher, &s, "2024-06-01", &cfg, &mut warc, &Cancel::new())
        .await
        .unwrap();
    let cal = site
        .paths()
        .iter()
        .filter(|p| p.starts_with("/cal"))
        .count();
    assert_eq!(cal, 5);
    // /n/0.html … are one pattern too: five of thirty.
    assert_eq!(
        site.paths().iter().filter(|p| p.starts_with("/n/")).count(),
        5
    );
    assert_eq!(visit.pages.len(), 11);
    // 25 of the /n/ links, and the sixth calendar month.
    assert_eq!(stats.skipped_pattern, 26);

    let cfg = CrawlConfig {
        max_pages: 4,
        max_per_pattern: 100,
        ..crawl_cfg()
    };
    let mut warc =
        WarcWriter::create(&dir.join("c2.warc.gz"), RecordIds::from_seed(6), "t").unwrap();
    let (visit, _) = crawl_site(&fetcher, &s, "2024-06-01", &cfg, &mut warc, &Cancel::new())
        .await
        .unwrap();
    assert_eq!(visit.pages.len(), 4);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn the_site_budget_and_cancel_stop_a_slow_site() {
    let site = serve(|p, _| match p {
        "/robots.txt" => not_found(),
        "/" => html(
            &(0..20)
                .map(|i| format!("<a href=/s{i}>s</a>"))
                .collect::<String>(),
        ),
        _ => Reply::Full {
            status: 200,
            headers: vec![],
            body: b"<p>slow</p>".to_vec(),
            delay: Duration::from_millis(400),
        },
    })
    .await;
    let dir = tmp("budget");
    let fetcher = Fetcher::new(FetchConfig {
        per_host_inflight: 2,
        ..quick_config()
    })
    .unwrap();
    let s = Site {
        code: "b".into(),
        url: site.url("/"),
    };
    let cfg = CrawlConfig {
        site_budget: Duration::from_millis(1000),
        ..crawl_cfg()
    };
    let mut warc =
        WarcWriter::create(&dir.join("b.warc.gz"), RecordIds::from_seed(7), "t").unwrap();
    let t = Instant::now();
    let (visit, stats) = crawl_site(&fetcher, &s, "2024-06-01", &cfg, &mut warc, &Cancel::new())
        .await
        .unwrap();
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    assert!(stats.budget_exhausted || visit.pages.len() < 21);
    assert!(visit.pages.len() < 21);

    let cancel = Cancel::new();
    let c2 = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        c2.cancel();
    });
    let cfg = CrawlConfig {
        site_budget: Duration::from_secs(60),
        ..crawl_cfg()
    };
    let mut warc =
        WarcWriter::create(&dir.join("b2.warc.gz"), RecordIds::from_seed(8), "t").unwrap();
    let t = Instant::now();
    let (visit, stats) = crawl_site(&fetcher, &s, "2024-06-01", &cfg, &mut warc, &cancel)
        .await
        .unwrap();
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    assert!(stats.interrupted);
    assert_eq!(visit.facts["interrupted"], true);
    assert!(
        !visit.pages.is_empty(),
        "the home page fetched before the stop is kept"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
