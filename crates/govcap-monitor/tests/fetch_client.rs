//! The fetcher against a real HTTP server on 127.0.0.1: bounds, retries, redirects,
//! failure states and charset decoding.

mod fetch_support;

use std::io::Write;
use std::time::{Duration, Instant};

use fetch_support::*;
use govcap_monitor::fetch::{FetchConfig, FetchOptions, Fetcher, Truncation};
use govcap_monitor::model::FetchState;

fn fetcher(cfg: FetchConfig) -> Fetcher {
    Fetcher::new(cfg).expect("client builds")
}

#[tokio::test]
async fn a_stalled_server_times_out_within_the_bound_and_is_retried() {
    let server = serve(|_, _| Reply::Full {
        status: 200,
        headers: vec![],
        body: b"late".to_vec(),
        delay: Duration::from_secs(30),
    })
    .await;
    let cfg = FetchConfig {
        timeout: Duration::from_millis(300),
        retries: 1,
        ..quick_config()
    };
    let t = Instant::now();
    let f = fetcher(cfg)
        .fetch(&server.url("/slow"), &FetchOptions::default())
        .await;
    let took = t.elapsed();
    assert_eq!(f.page.state, FetchState::Timeout);
    // Two attempts of 300 ms plus a 20 ms backoff; far below the server's 30 s stall.
    assert!(took < Duration::from_secs(3), "took {took:?}");
    assert!(took >= Duration::from_millis(600), "took {took:?}");
    assert_eq!(server.hits("/slow"), 2);
    assert_eq!(f.exchanges.len(), 2);
    assert!(f.exchanges.iter().all(|e| e.response.is_none()));
}

#[tokio::test]
async fn a_dripping_body_is_cut_at_the_deadline_and_kept_as_truncated() {
    let server = serve(|_, _| Reply::Drip {
        body: vec![b'x'; 200],
        every: Duration::from_millis(20),
    })
    .await;
    let cfg = FetchConfig {
        timeout: Duration::from_millis(400),
        retries: 0,
        ..quick_config()
    };
    let t = Instant::now();
    let f = fetcher(cfg)
        .fetch(&server.url("/drip"), &FetchOptions::default())
        .await;
    assert!(t.elapsed() < Duration::from_secs(2));
    assert_eq!(f.page.state, FetchState::Timeout);
    let resp = f.exchanges[0].response.as_ref().expect("headers arrived");
    assert_eq!(resp.truncated, Some(Truncation::Time));
    assert!(
        !resp.body.is_empty() && resp.body.len() < 200,
        "{}",
        resp.body.len()
    );
}

#[tokio::test]
async fn a_huge_page_stops_at_the_byte_cap() {
    let server = serve(|_, _| html(&"<p>政府网站</p>".repeat(200_000))).await;
    let cfg = FetchConfig {
        max_body_bytes: 1 << 20,
        ..quick_config()
    };
    let f = fetcher(cfg)
        .fetch(&server.url("/huge"), &FetchOptions::default())
        .await;
    assert_eq!(f.page.state, FetchState::TooLarge);
    let resp = f.exchanges[0].response.as_ref().unwrap();
    assert_eq!(resp.body.len(), 1 << 20);
    assert_eq!(resp.truncated, Some(Truncation::Length));
    assert!(f.page.text.is_empty());
}

#[tokio::test]
async fn a_gzip_bomb_inflates_only_to_the_cap() {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..64 {
        gz.write_all(&zeros).unwrap(); // 64 MiB of zeros
    }
    let bomb = gz.finish().unwrap();
    let wire = bomb.len();
    assert!(wire < 200 * 1024, "bomb is {wire} bytes on the wire");
    let server = serve(move |_, _| Reply::Full {
        status: 200,
        headers: vec![
            ("Content-Type".into(), "text/html".into()),
            ("Content-Encoding".into(), "gzip".into()),
        ],
        body: bomb.clone(),
        delay: Duration::ZERO,
    })
    .await;
    let cfg = FetchConfig {
        max_decoded_bytes: 2 << 20,
        ..quick_config()
    };
    let f = fetcher(cfg)
        .fetch(&server.url("/bomb"), &FetchOptions::default())
        .await;
    assert_eq!(f.page.state, FetchState::TooLarge);
    assert_eq!(f.decoded_bytes, 2 << 20);
    assert_eq!(f.body.len(), 2 << 20);
    // The archive keeps the wire bytes, not the inflated ones.
    assert_eq!(f.exchanges[0].response.as_ref().unwrap().body.len(), wire);
}

#[tokio::test]
async fn gzip_pages_are_inflated_and_archived_compressed() {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all("<html><title>人民政府</title></html>".as_bytes())
        .unwrap();
    let body = gz.finish().unwrap();
    let wire = body.clone();
    let server = serve(move |_, _| Reply::Full {
        status: 200,
        headers: vec![
            ("Content-Type".into(), "text/html; charset=utf-8".into()),
            ("Content-Encoding".into(), "gzip".into()),
        ],
        body: body.clone(),
        delay: Duration::ZERO,
    })
    .await;
    let f = fetcher(quick_config())
        .fetch(&server.url("/"), &FetchOptions::default())
        .await;
    assert_eq!(f.page.state, FetchState::Ok);
    assert!(f.page.text.contains("人民政府"));
    assert_eq!(f.exchanges[0].response.as_ref().unwrap().body, wire);
}

#[tokio::test]
async fn a_redirect_loop_is_too_many_redirects() {
    let server = serve(|p, _| match p {
        "/a" => redirect("/b"),
        "/b" => redirect("/a"),
        _ => not_found(),
    })
    .await;
    let f = fetcher(quick_config())
        .fetch(&server.url("/a"), &FetchOptions::default())
        .await;
    assert_eq!(f.page.state, FetchState::TooManyRedirects);
    assert_eq!(f.page.redirects, vec![server.url("/b")]);
    assert_eq!(server.paths(), vec!["/a", "/b"]);
    assert_eq!(f.exchanges.len(), 2);
}

#[tokio::test]
async fn a_long_redirect_chain_stops_at_the_cap_and_a_short_one_is_followed() {
    let server = serve(|p, _| {
        if let Some(n) = p.strip_prefix("/r/") {
            let n: u32 = n.parse().unwrap();
            redirect(&format!("/r/{}", n + 1))
        } else if p == "/old" {
            status(301, &[("Location", "/new#frag")], b"")
        } else if p == "/new" {
            html("<html><p>moved here</p></html>")
        } else {
            not_found()
        }
    })
    .await;
    let client = fetcher(FetchConfig {
        max_redirects: 3,
        ..quick_config()
    });
    let f = client
        .fetch(&server.url("/r/0"), &FetchOptions::default())
        .await;
    assert_eq!(f.page.state, FetchState::TooManyRedirects);
    assert_eq!(f.page.redirects.len(), 3);
    assert_eq!(server.paths().len(), 4); // /r/0 and three hops

    let f = client
        .fetch(&server.url("/old"), &FetchOptions::default())
        .await;
    assert_eq!(f.page.state, FetchState::Ok);
    assert_eq!(f.page.final_url, server.url("/new"));
    assert_eq!(f.page.redirects, vec![server.url("/new")]);
    assert_eq!(f.page.url, server.url("/old"));
    assert_eq!(f.exchanges.len(), 2);
}

#[tokio::test]
async fn a_503_is_retried_then_succeeds_but_a_404_is_not_retried() {
    let server = serve(|p, n| match (p, n) {
        ("/flaky", 1) => status(503, &[("Retry-After", "0")], b"busy"),
        ("/flaky", _) => html("<html>ok now</html>"),
        _ => not_found(),
    })
    .await;
    let client = fetcher(quick_config());
    let f = client
        .fetch(&server.url("/flaky"), &FetchOptions::default())
        .await;
    assert_eq!(f.page.state, FetchState::Ok);
    assert_eq!(f.page.status, Some(200));
    assert_eq!(server.hits("/flaky"), 2);
    assert_eq!(f.exchanges.len(), 2);
    assert_eq!(f.exchanges[0].response.as_ref().unwrap().status, 503);

    let f = client
        .fetch(&server.url("/gone"), &FetchOptions::default())
        .await;
    assert_eq!(f.page.state, FetchState::Http4xx);
    assert_eq!(server.hits("/gone"), 1);
}

#[tokio::test]
async fn a_persistent_500_ends_as_http_5xx_after_the_retries() {
    let server = serve(|_, _| status(500, &[], b"oops")).await;
    let f = fetcher(quick_config())
        .fetch(&server.url("/x"), &FetchOptions::default())
        .await;
    assert_eq!(f.page.state, FetchState::Http5xx);
    assert_eq!(server.hits("/x"), 3); // 1 + 2 retries
}

#[tokio::test]
async fn a_waf_412_challenge_is_reported_as_such_and_not_retried() {
    let body =
        b"<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\">\
        <script type=\"text/javascript\" r='m'>$_ts=window['$_ts'];if(!$_ts)$_ts={};</script>\
        <script src=\"/abc/def.js\" r='m'></script></head><body></body></html>";
    let server = serve(move |_, _| status(412, &[("Content-Type", "text/html")], body)).await;
    let f = fetcher(quick_config())
        .fetch(&server.url("/"), &FetchOptions::default())
        .await;
    assert_eq!(f.page.state, FetchState::WafChallenge);
    assert_eq!(f.waf_marker, Some("ruishu"));
    assert_eq!(server.hits("/"), 1);
}

#[tokio::test]
async fn refused_and_empty_responses_have_their_own_states() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let client = fetcher(FetchConfig {
        retries: 0,
        ..quick_config()
    });
    let f = client
        .fetch(
            &format!("http://127.0.0.1:{port}/"),
            &FetchOptions::default(),
        )
        .await;
    assert_eq!(f.page.state, FetchState::Refused, "{:?}", f.error);

    let server = serve(|_, _| Reply::Close).await;
    let f = client
        .fetch(&server.url("/"), &FetchOptions::default())
        .await;
    assert_eq!(f.page.state, FetchState::Empty, "{:?}", f.error);

    let server = serve(|_, _| status(200, &[("Content-Type", "text/html")], b"")).await;
    let f = client
        .fetch(&server.url("/"), &FetchOptions::default())
        .await;
    assert_eq!(f.page.state, FetchState::Empty);
}

#[tokio::test]
async fn a_gbk_page_without_a_charset_header_decodes() {
    let page = "<html><head><title>某某市人民政府门户网站</title></head><body><div class=\"nav\">\
        <a href=\"/zwgk/\">政务公开</a><a href=\"/zwfw/\">政务服务</a><a href=\"/hdjl/\">互动交流</a></div>\
        <ul><li><a href=\"/art/1.html\">关于做好2024年防汛抗旱工作的通知</a><span>2024-05-12</span></li>\
        <li><a href=\"/art/2.html\">市长信箱来信选登</a><span>2024-05-10</span></li></ul>\
        <div class=\"footer\">主办单位：某某市人民政府办公室 网站标识码：1234000001 京ICP备05060933号</div>\
        </body></html>";
    let bytes = gbk(page);
    let server = serve(move |_, _| Reply::Full {
        status: 200,
        headers: vec![("Content-Type".into(), "text/html".into())],
        body: bytes.clone(),
        delay: Duration::ZERO,
    })
    .await;
    let f = fetcher(quick_config())
        .fetch(&server.url("/"), &FetchOptions::default())
        .await;
    assert_eq!(f.page.state, FetchState::Ok);
    assert_eq!(f.page.charset.as_deref(), Some("GBK"));
    assert_eq!(f.page.charset_source.as_deref(), Some("detected"));
    assert!(f.page.text.contains("某某市人民政府门户网站"));
    assert!(f.page.text.contains("网站标识码：1234000001"));
}

#[tokio::test]
async fn the_user_agent_is_sent_and_politeness_spaces_requests() {
    let server = serve(|_, _| html("<html>ok</html>")).await;
    let client = fetcher(FetchConfig {
        user_agent: "govcap-monitor/test (+mailto:ops@example.org)".into(),
        min_interval: Duration::from_millis(150),
        per_host_inflight: 4,
        ..quick_config()
    });
    let urls: Vec<String> = (0..4).map(|i| server.url(&format!("/p{i}"))).collect();
    let mut tasks = Vec::new();
    for u in urls {
        let c = client.clone();
        tasks.push(tokio::spawn(async move {
            c.fetch(&u, &FetchOptions::default()).await
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap().page.state, FetchState::Ok);
    }
    let log = server.log.lock().unwrap().clone();
    assert_eq!(log.len(), 4);
    assert!(log
        .iter()
        .all(|(_, _, ua)| ua == "govcap-monitor/test (+mailto:ops@example.org)"));
    let mut times: Vec<Instant> = log.iter().map(|(t, _, _)| *t).collect();
    times.sort();
    for w in times.windows(2) {
        // Starts are spaced by the interval (a little slack for socket scheduling).
        assert!(
            w[1] - w[0] >= Duration::from_millis(130),
            "{:?}",
            w[1] - w[0]
        );
    }
}
