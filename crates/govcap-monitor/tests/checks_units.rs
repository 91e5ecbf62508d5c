//! Each check on small hand-built visits, with hand-computed values.

mod checks_support;

use checks_support::page;
use govcap_monitor::checks::{self, run_all, search_probe, Analysis, CheckConfig};
use govcap_monitor::model::{FetchState, Finding, Page, SiteVisit};
use serde_json::{json, Map, Value};

fn html(url: &str, body: &str, depth: u32, rec: &str) -> Page {
    page(
        url.into(),
        200,
        "text/html",
        body.into(),
        depth,
        format!("<urn:uuid:{rec}>"),
    )
}

fn visit(pages: Vec<Page>) -> SiteVisit {
    SiteVisit {
        code: "T".into(),
        home_url: pages[0].url.clone(),
        as_of: "2026-11-27".into(),
        pages,
        attempts: vec![],
        facts: Map::new(),
    }
}

fn check(v: &SiteVisit, name: &str) -> Finding {
    run_all(v, &CheckConfig::default())
        .into_iter()
        .find(|f| f.check == name)
        .unwrap()
}

#[test]
fn availability_counts_challenges_apart() {
    let mut v = visit(vec![html("http://a/", "<p>x</p>", 0, "h")]);
    // No sampled attempts: the home fetch is the one attempt.
    let f = check(&v, "availability");
    assert_eq!(f.value, json!(1.0));
    assert_eq!(f.details["basis"], "home_fetch");
    assert_eq!(f.evidence, vec!["<urn:uuid:h>"]);

    let t = |s| ("2026-11-27T00:00:00Z".to_string(), s);
    v.attempts = vec![
        t(FetchState::Ok),
        t(FetchState::Ok),
        t(FetchState::Timeout),
        t(FetchState::WafChallenge),
        t(FetchState::Ok),
    ];
    let f = check(&v, "availability");
    assert_eq!(f.value, json!(0.75), "3 of the 4 attempts not challenged");
    assert_eq!(f.details["failures"], json!({"timeout": 1}));
    assert_eq!(f.details["challenged"], 1);

    v.attempts = vec![t(FetchState::WafChallenge), t(FetchState::WafChallenge)];
    let f = check(&v, "availability");
    assert!(f.value.is_null());
    assert!(f.details["reason"].as_str().unwrap().contains("challenge"));
}

#[test]
fn https_from_the_home_page_and_facts() {
    let mut home = html("http://a.gov.cn/", "<p>x</p>", 0, "h");
    home.final_url = "https://a.gov.cn/".into();
    home.headers.push((
        "strict-transport-security".into(),
        "max-age=31536000".into(),
    ));
    let mut v = visit(vec![home]);
    v.facts.insert(
        checks::facts::TLS_CERT_NOT_AFTER.into(),
        json!("2026-12-07T00:00:00Z"),
    );
    let f = check(&v, "https");
    assert_eq!(f.value, json!(true));
    assert_eq!(f.details["http_to_https_redirect"], json!(true));
    assert_eq!(f.details["hsts"], json!(true));
    assert_eq!(f.details["days_to_expiry"], json!(10));

    v.facts
        .insert(checks::facts::TLS_CERT_VALID.into(), json!(false));
    assert_eq!(
        check(&v, "https").value,
        json!(false),
        "accepted only without verification"
    );

    let plain = visit(vec![html("http://a/", "<p>x</p>", 0, "h")]);
    assert_eq!(check(&plain, "https").value, json!(false));

    let mut down = visit(vec![html("https://a/", "", 0, "h")]);
    down.pages[0].state = FetchState::Timeout;
    let f = check(&down, "https");
    assert!(f.value.is_null() && f.details["reason"].as_str().unwrap().contains("timeout"));
    down.pages[0].state = FetchState::CertInvalid;
    assert_eq!(check(&down, "https").value, json!(false));
}

#[test]
fn ipv6_only_from_the_fetchers_probe() {
    let mut v = visit(vec![html("http://a/", "<p>x</p>", 0, "h")]);
    let f = check(&v, "ipv6");
    assert!(f.value.is_null() && f.details["reason"].is_string());
    v.facts
        .insert(checks::facts::IPV6_SAME_SITE.into(), json!(true));
    v.facts
        .insert(checks::facts::IPV6_ADDRESSES.into(), json!(["2001:db8::1"]));
    let f = check(&v, "ipv6");
    assert_eq!(f.value, json!(true));
    assert_eq!(f.details["addresses"], json!(["2001:db8::1"]));
}

#[test]
fn links_split_home_and_inner_and_count_soft_404s() {
    // Home links: a (ok), b (404), c (soft 404), inner (ok), weibo (not fetched).
    // Inner links: b (404 again), e (timeout), a (ok).
    let home = html(
        "http://s/",
        r#"<a href="/a">A</a><a href="/b">B</a><a href="/c">C</a><a href="/inner">I</a><a href="https://weibo.com/x">微博</a>"#,
        0,
        "h",
    );
    let inner = html(
        "http://s/inner",
        r#"<a href="/b">B</a><a href="e">E</a><a href="/a#top">A</a>"#,
        1,
        "i",
    );
    let a = html("http://s/a", "<title>A</title><p>正文内容</p>", 1, "a");
    let b = page(
        "http://s/b".into(),
        404,
        "text/html",
        "<h1>404</h1>".into(),
        1,
        "<urn:uuid:b>".into(),
    );
    let c = html(
        "http://s/c",
        "<title>提示</title><p>对不起，您访问的页面不存在！</p>",
        1,
        "c",
    );
    let mut e = html("http://s/e", "", 2, "e");
    e.state = FetchState::Timeout;
    e.status = None;
    let v = visit(vec![home, inner, a, b, c, e]);
    let f = check(&v, "links");
    // Checked targets: a, b, c, inner, e → broken b, c, e.
    assert_eq!(f.value, json!(3.0 / 5.0));
    assert_eq!(f.details["checked"], 5);
    assert_eq!(f.details["unchecked"], 1);
    assert_eq!(f.details["home"], json!({"checked": 4, "broken": 2}));
    assert_eq!(f.details["inner"], json!({"checked": 3, "broken": 2}));
    for r in [
        "<urn:uuid:b>",
        "<urn:uuid:c>",
        "<urn:uuid:e>",
        "<urn:uuid:h>",
    ] {
        assert!(f.evidence.contains(&r.to_string()), "{r}");
    }
}

#[test]
fn features_by_markers_not_by_headlines() {
    let home = html(
        "http://s/",
        r#"<html><head><script src="/wza/wza.min.js"></script>
        <meta name="viewport" content="width=device-width,initial-scale=1"></head><body>
        <a href="javascript:;">关怀版</a><a href="/zx">小京助手</a>
        <ul><li><a href="/n/1">关爱长者送温暖无障碍微博政务微信活动</a><span>2026-11-20</span></li></ul>
        <div class="qr"><img src="/q.png"><p>政务微信</p></div>
        <a href="https://weibo.com/u/1">官方微博</a><a href="https://apps.apple.com/cn/app/id1">下载</a>
        <footer>网站标识码：1100000088 京ICP备05060933号-5 京公网安备 11010502030143号</footer></body></html>"#,
        0,
        "h",
    );
    let v = visit(vec![home, html("http://s/n/1", "<p>正文</p>", 1, "n")]);
    let fs = run_all(&v, &CheckConfig::default());
    let get = |n: &str| fs.iter().find(|f| f.check == n).unwrap();
    assert_eq!(get("accessibility").value, json!(true));
    assert_eq!(get("accessibility").details["markers"][0]["kind"], "script");
    assert_eq!(get("elderly_mode").value, json!(true));
    assert_eq!(get("qa_assistant").value, json!(true));
    assert_eq!(get("new_media").value, json!(["weibo", "wechat", "app"]));
    assert_eq!(get("mobile").value, json!(true), "1 of 2 pages = 0.5");
    assert_eq!(get("mobile").details["share"], json!(0.5));
    let id = get("identity");
    assert_eq!(id.value, json!(true));
    assert_eq!(id.details["icp"], "京ICP备05060933号-5");
    assert_eq!(id.details["site_code"], "1100000088");
    assert_eq!(id.details["gov_cn_domain"], json!(false));
    // The headline's words (长者, 无障碍, 微博) are content, not entries.
    let plain = visit(vec![html(
        "http://x.gov.cn/",
        r#"<ul><li><a href="/n/1">关爱长者送温暖无障碍微博</a><span>2026-11-20</span></li></ul>"#,
        0,
        "p",
    )]);
    let fs = run_all(&plain, &CheckConfig::default());
    for n in ["accessibility", "elderly_mode", "qa_assistant", "identity"] {
        assert_eq!(
            fs.iter().find(|f| f.check == n).unwrap().value,
            json!(false),
            "{n}"
        );
    }
    assert_eq!(
        fs.iter().find(|f| f.check == "new_media").unwrap().value,
        json!([])
    );
    assert_eq!(
        fs.iter().find(|f| f.check == "identity").unwrap().details["gov_cn_domain"],
        json!(true)
    );
}

#[test]
fn search_probe_and_its_verdict() {
    let home = html(
        "http://s/site/",
        r#"<form action="/was5/web/search" method="get"><input type="hidden" name="channelid" value="2">
        <input name="searchword"><input type="submit" value="搜索"></form>
        <ul><li><a href="art/2.html">市政府召开第十二次常务会议研究部署</a><span>2026-11-25</span></li>
            <li><a href="art/1.html">较早的一条新闻标题文字</a><span>2026-11-01</span></li></ul>"#,
        0,
        "h",
    );
    let p = search_probe(&home).unwrap();
    assert_eq!(p.query, "市政府召开第十二次常");
    assert_eq!(p.expect_url, "http://s/site/art/2.html");
    let u = url::Url::parse(&p.url).unwrap();
    assert_eq!(u.path(), "/was5/web/search");
    let q: Vec<(String, String)> = u.query_pairs().map(|(k, v)| (k.into(), v.into())).collect();
    assert_eq!(
        q,
        vec![
            ("channelid".into(), "2".into()),
            ("searchword".into(), p.query.clone())
        ]
    );

    // Not probed: present, test null.
    let v = visit(vec![home.clone()]);
    let f = check(&v, "search");
    assert_eq!(f.value, json!(true));
    assert!(f.details["test_query"].is_null());
    assert_eq!(
        f.details["test_query_reason"],
        "the crawler did not run the search probe"
    );
    // Probed, results list the article (crawler normalised the query order).
    let sorted = format!(
        "http://s/was5/web/search?channelid=2&searchword={}",
        urlencode(&p.query)
    );
    let results = html(
        &sorted,
        r#"<ul><li><a href="/site/art/2.html">市政府召开第十二次常务会议研究部署</a></li></ul>"#,
        1,
        "r",
    );
    let f = check(&visit(vec![home.clone(), results]), "search");
    assert_eq!(f.details["test_query"]["ok"], json!(true));
    assert!(f.evidence.contains(&"<urn:uuid:r>".to_string()));
    let empty = html(&p.url, "<p>暂无相关结果</p>", 1, "r");
    assert_eq!(
        check(&visit(vec![home, empty]), "search").details["test_query"]["ok"],
        json!(false)
    );
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[test]
fn freshness_ignores_future_dates_and_says_when_there_are_none() {
    let home = html(
        "http://s/",
        r#"<ul><li><a href="/1">未来日期的条目标题</a><span>2027-01-01</span></li>
            <li><a href="/2">正常条目标题文字</a><span>2026-11-13</span></li></ul>"#,
        0,
        "h",
    );
    let f = check(&visit(vec![home]), "freshness");
    assert_eq!(f.value, json!(14));
    assert_eq!(f.details["future_items"], 1);
    let bare = check(
        &visit(vec![html("http://s/", "<a href='/x'>栏目</a>", 0, "h")]),
        "freshness",
    );
    assert!(bare.value.is_null() && bare.details["reason"].is_string());
}

#[test]
fn veto_rules_and_thresholds() {
    // Home 20 days old; a board with one message unanswered for 120 days and one unanswered
    // for 400 days (outside the one-year window).
    let home = html(
        "http://s/",
        r#"<ul><li><a href="/1">较早条目标题文字内容</a><span>2026-11-07</span></li></ul><a href="/b">领导信箱</a>"#,
        0,
        "h",
    );
    let board = html(
        "http://s/b",
        r#"<ul><li><a href="/m1">问题一的标题</a> 提交时间：2026-07-30 状态：办理中</li>
            <li><a href="/m2">问题二的标题</a> 提交时间：2025-10-23 状态：办理中</li>
            <li><a href="/m3">问题三的标题</a> 提交时间：2026-11-01 回复时间：2026-11-06</li></ul>"#,
        1,
        "b",
    );
    let v = visit(vec![home, board]);
    let fs = run_all(&v, &CheckConfig::default());
    let mb = fs.iter().find(|f| f.check == "message_board").unwrap();
    assert_eq!(mb.value, json!(1.0 / 3.0));
    assert_eq!(mb.details["oldest_unanswered_days"], 400);
    assert_eq!(
        mb.details["unanswered_over_limit"], 1,
        "the 400-day one is outside the window"
    );
    assert_eq!(mb.details["median_reply_days"], json!(5.0));
    let veto = fs.iter().find(|f| f.check == "veto").unwrap();
    assert_eq!(veto.value, json!(["home_not_updated", "poor_interaction"]));
    assert!(veto.evidence.contains(&"<urn:uuid:b>".to_string()));

    let lenient = CheckConfig {
        home_stale_days: 30,
        unanswered_days: 150,
        ..CheckConfig::default()
    };
    let a = Analysis::new(&v);
    let others: Vec<Finding> = fs.iter().filter(|f| f.check != "veto").cloned().collect();
    let mut relaxed = others.clone();
    for f in relaxed.iter_mut().filter(|f| f.check == "message_board") {
        *f = checks::message_board(&a, &lenient);
    }
    assert_eq!(
        checks::veto(&a, &lenient, &relaxed).value,
        Value::Array(vec![])
    );
}

#[test]
fn pages_that_failed_give_reasons_not_guesses() {
    let mut home = html("http://s/", "", 0, "h");
    home.state = FetchState::Dns;
    home.status = None;
    let fs = run_all(&visit(vec![home]), &CheckConfig::default());
    assert_eq!(fs.len(), checks::CHECKS.len());
    for f in &fs {
        match f.check.as_str() {
            "availability" => assert_eq!(f.value, json!(0.0)),
            "veto" => assert_eq!(f.value, json!(["site_unreachable"])),
            _ => {
                assert!(f.value.is_null(), "{}: {}", f.check, f.value);
                assert!(f.details["reason"].is_string(), "{}", f.check);
            }
        }
    }
}

/// `accessibility_basics` on two hand-built pages, every count worked out by hand.
#[test]
fn accessibility_basics_counts_and_thresholds() {
    // Home: lang, title, an instant redirect (allowed); 10 images, one without alt
    // (decorative alt="" counts); 5 controls, 4 named (aria-label, wrapping label, a
    // <label for> written after the control, title), the textarea not (placeholder only);
    // 4 links, one an image link without alt; an <a> without href is no link.
    let mut imgs = String::new();
    for i in 0..8 {
        imgs.push_str(&format!(r#"<img src="/i{i}.png" alt="图{i}">"#));
    }
    let home = html(
        "http://s/",
        &format!(
            r#"<html lang="zh-CN"><head><title>某市人民政府</title>
            <meta http-equiv="refresh" content="0; url=/index.html"></head><body>
            {imgs}<img src="/deco.png" alt=""><img src="/nolabel.png">
            <form><input type="hidden" name="h"><input name="q" aria-label="关键字">
            <label>姓名 <input name="xm"></label><input id="tel" name="tel">
            <select name="s" title="类别"><option>1</option></select>
            <textarea name="body" placeholder="请输入"></textarea><input type="submit" value="提交">
            <label for="tel">电话</label></form>
            <a href="/a">政务公开</a><a href="/b"><img src="/logo.png" alt="首页"></a>
            <a href="/c" aria-label="关闭"></a><a href="/d"><img src="/x.png" alt=""></a><a name="top"></a>
            </body></html>"#
        ),
        0,
        "h",
    );
    // Inner page: no lang, auto-refresh every 60 s, two named links.
    let inner = html(
        "http://s/n/1",
        r#"<html><head><title>通知</title><meta http-equiv="refresh" content="60"></head>
        <body><a href="/">首页</a><a href="/e">更多</a></body></html>"#,
        1,
        "n",
    );
    let v = visit(vec![home, inner]);
    let f = check(&v, "accessibility_basics");
    let d = &f.details;
    assert_eq!(d["pages"], 2);
    let sub = |n: &str| {
        (
            d[n]["items"].clone(),
            d[n]["passed"].clone(),
            d[n]["pass"].clone(),
        )
    };
    assert_eq!(sub("lang"), (json!(2), json!(1), json!(false)));
    assert_eq!(sub("title"), (json!(2), json!(2), json!(true)));
    assert_eq!(sub("no_auto_refresh"), (json!(2), json!(1), json!(false)));
    // 8 + decorative + one without alt in the body, two inside links (alt "首页" and a
    // decorative alt="", which names no link): 11 of 12 ≥ 0.9.
    assert_eq!(sub("img_alt"), (json!(12), json!(11), json!(true)));
    assert_eq!(d["img_alt"]["examples"], json!(["/nolabel.png"]));
    assert_eq!(sub("form_labels"), (json!(5), json!(4), json!(false)));
    assert_eq!(d["form_labels"]["examples"], json!(["body"]));
    assert_eq!(sub("link_text"), (json!(6), json!(5), json!(false)));
    assert_eq!(d["link_text"]["examples"], json!(["/d"]));
    assert_eq!(
        d["failed"],
        json!(["lang", "no_auto_refresh", "form_labels", "link_text"])
    );
    assert_eq!(f.value, json!(false));
    assert_eq!(f.url, "http://s/", "the home page already shows a failure");
    assert_eq!(f.evidence, vec!["<urn:uuid:h>", "<urn:uuid:n>"]);

    // Thresholds are configuration: at 0.5 for pages and 0.8 for elements all pass.
    let lenient = CheckConfig {
        a11y_min_page_share: 0.5,
        a11y_min_labelled_share: 0.8,
        a11y_min_link_text_share: 0.8,
        ..CheckConfig::default()
    };
    let a = Analysis::new(&v);
    let f = checks::accessibility_basics(&a, &lenient);
    assert_eq!(f.value, json!(true), "{}", f.details);
    assert_eq!(f.details["failed"], json!([]));
    assert_eq!(f.url, "http://s/");

    // A clean page passes; a page with nothing to count passes its element checks.
    let clean = visit(vec![html(
        "http://c/",
        r#"<html lang="zh"><head><title>首页</title></head><body><p>政务公开</p></body></html>"#,
        0,
        "c",
    )]);
    let f = check(&clean, "accessibility_basics");
    assert_eq!(f.value, json!(true));
    assert_eq!(f.details["img_alt"]["share"], Value::Null);
    assert_eq!(f.details["img_alt"]["pass"], json!(true));
    // A missing title fails on the only page.
    let untitled = visit(vec![html(
        "http://u/",
        r#"<html lang="zh"><head><title> </title></head><body>x</body></html>"#,
        0,
        "u",
    )]);
    assert_eq!(
        check(&untitled, "accessibility_basics").details["failed"],
        json!(["title"])
    );
}

/// Dated posts per platform: by a 政务微博 / 政务微信 block heading or by the post's host;
/// headless blocks, tabbed blocks naming both and future dates say nothing.
#[test]
fn new_media_activity_from_dated_posts() {
    let home = html(
        "http://s/",
        r#"<html lang="zh"><head><title>首页</title></head><body>
        <a href="https://weibo.com/u/1">官方微博</a><a href="https://mp.weixin.qq.com/mp/profile_ext?__biz=1">微信公众号</a>
        <div class="main">
          <div class="wb"><div class="title"><span>政务微博</span><a href="https://weibo.com/u/1">更多</a></div>
            <ul><li><a href="http://t.cn/A1">【天气】明天多云转晴，气温回升</a><span>2026-11-20</span></li>
                <li><a href="http://t.cn/A2">【出行】地铁三号线调整运营时间</a><span>2026-10-01</span></li>
                <li><a href="http://t.cn/A3">【预告】下月将举行新闻发布会</a><span>2026-12-01</span></li></ul></div>
          <div class="news"><ul><li><a href="/n/1">市政府召开常务会议研究部署工作</a><span>2026-11-26</span></li></ul></div>
          <div class="wx"><h3>政务微信</h3><table><tr><td><a href="/wx/1.html">全市秋冬季森林防火工作会议召开</a></td><td>2026-09-01</td></tr></table></div>
          <div class="tabs"><div class="hd"><span>政务微博</span><span>政务微信</span></div>
            <ul><li><a href="http://t.cn/B1">【提示】这条属于哪个平台说不清</a><span>2026-11-25</span></li></ul></div>
        </div></body></html>"#,
        0,
        "h",
    );
    let v = visit(vec![home]);
    let f = check(&v, "new_media");
    assert_eq!(f.value, json!(["weibo", "wechat"]));
    let act = &f.details["activity"];
    assert_eq!(act["weibo"]["posts"], 2, "{act}");
    assert_eq!(act["weibo"]["future_posts"], 1);
    assert_eq!(act["weibo"]["latest_post"], "2026-11-20");
    assert_eq!(act["weibo"]["latest_post_days"], 7);
    assert_eq!(act["weibo"]["active"], json!(true));
    assert_eq!(act["weibo"]["url"], "http://s/");
    // 2026-09-01 → 2026-11-27: 87 days, past the 30-day default.
    assert_eq!(act["wechat"]["posts"], 1);
    assert_eq!(act["wechat"]["latest_post_days"], 87);
    assert_eq!(act["wechat"]["active"], json!(false));
    assert_eq!(f.details["active_days"], 30);
    let a = Analysis::new(&v);
    let long = CheckConfig {
        new_media_active_days: 90,
        ..CheckConfig::default()
    };
    let f = checks::new_media(&a, &long);
    assert_eq!(f.details["activity"]["wechat"]["active"], json!(true));

    // A linked account without dated posts (dates without the year) is not judged.
    let undated = visit(vec![html(
        "http://s/",
        r#"<a href="https://weibo.com/u/1">官方微博</a>
        <div><h3>政务微博</h3><ul><li><a href="http://t.cn/A1">【天气】明天多云转晴，气温回升</a><span>11-20</span></li></ul></div>"#,
        0,
        "h",
    )]);
    let f = check(&undated, "new_media");
    assert_eq!(
        f.details["activity"]["weibo"],
        json!({"posts": 0, "future_posts": 0, "latest_post": null, "latest_post_days": null, "active": null, "url": null})
    );
}
