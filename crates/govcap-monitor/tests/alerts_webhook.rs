//! Webhook delivery against a loopback server that records every POST.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use govcap_monitor::alerts::webhook::{post_all, WebhookError};
use govcap_monitor::alerts::{Alert, Message, Rule, Severity};
use serde_json::Value;

struct Recorded {
    path: String,
    content_type: String,
    body: Value,
}

/// Answers each request with the next status of `statuses`, recording it.
fn server(statuses: Vec<u16>) -> (String, Arc<Mutex<Vec<Recorded>>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook/govcap", l.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let out = seen.clone();
    std::thread::spawn(move || {
        for status in statuses {
            let (mut s, _) = l.accept().unwrap();
            let mut r = BufReader::new(s.try_clone().unwrap());
            let mut line = String::new();
            r.read_line(&mut line).unwrap();
            let path = line.split_whitespace().nth(1).unwrap().to_string();
            assert!(line.starts_with("POST "), "{line}");
            let (mut len, mut ct) = (0usize, String::new());
            loop {
                let mut h = String::new();
                r.read_line(&mut h).unwrap();
                if h.trim().is_empty() {
                    break;
                }
                let (k, v) = h.split_once(':').unwrap();
                match k.trim().to_ascii_lowercase().as_str() {
                    "content-length" => len = v.trim().parse().unwrap(),
                    "content-type" => ct = v.trim().to_string(),
                    _ => {}
                }
            }
            let mut body = vec![0; len];
            r.read_exact(&mut body).unwrap();
            out.lock().unwrap().push(Recorded {
                path,
                content_type: ct,
                body: serde_json::from_slice(&body).unwrap(),
            });
            write!(
                s,
                "HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            )
            .unwrap();
        }
    });
    (url, seen)
}

fn alert(code: &str, rule: Rule, value: f64) -> Alert {
    Alert {
        code: code.into(),
        rule,
        severity: Severity::Critical,
        message: Message {
            zh: "首页已22天未更新".into(),
            en: "not updated for 22 days".into(),
        },
        first_seen: "2026-11-20T00:00:00.000Z".into(),
        last_seen: "2026-11-27T00:00:00.000Z".into(),
        evidence: vec!["<urn:uuid:1>".into()],
        findings: vec!["freshness@2026-11-27T00:00:00.000Z".into()],
        value,
    }
}

#[test]
fn each_alert_is_posted_as_json_and_failures_stay_per_alert() {
    let (url, seen) = server(vec![200, 500, 204]);
    let alerts = [
        alert("fx001", Rule::HomeStale, 22.0),
        alert("fx002", Rule::Unreachable, 0.25),
        alert("fx003", Rule::CertExpiring, 3.0),
    ];
    let results = post_all(&url, &alerts, "govcap-test", Duration::from_secs(10)).unwrap();
    assert_eq!(results.len(), 3);
    assert_eq!(results[0].as_ref().unwrap(), &200);
    match &results[1] {
        Err(WebhookError::Post { code, rule, reason }) => {
            assert_eq!((code.as_str(), *rule), ("fx002", "unreachable"));
            assert!(reason.contains("500"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(results[2].as_ref().unwrap(), &204);
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 3);
    for (r, a) in seen.iter().zip(&alerts) {
        assert_eq!(r.path, "/hook/govcap");
        assert!(r.content_type.starts_with("application/json"));
        let mut body = r.body.clone();
        let text = body.as_object_mut().unwrap().remove("text").unwrap();
        assert_eq!(
            text.as_str().unwrap(),
            format!(
                "[govcap critical] {} {}: 首页已22天未更新 / not updated for 22 days",
                a.code,
                a.rule.as_str()
            )
        );
        let back: Alert = serde_json::from_value(body).unwrap();
        assert_eq!(&back, a);
    }
}

#[test]
fn an_unreachable_webhook_is_an_error_per_alert() {
    // Bind then drop: the port is closed, so the connection is refused.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/");
    let r = post_all(
        &url,
        &[alert("fx001", Rule::HomeStale, 22.0)],
        "govcap-test",
        Duration::from_secs(5),
    )
    .unwrap();
    assert!(matches!(r[0], Err(WebhookError::Post { .. })), "{r:?}");
}
