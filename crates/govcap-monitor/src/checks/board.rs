//! Interaction checks: `message_board` (reply rate and latency of listed messages) and
//! `intake_channels` (which kinds of request channels the site offers).

use super::dates::{percentile, Date};
use super::doc::{Message, PageDoc};
use super::{Analysis, CheckConfig};
use crate::model::Finding;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// Intake channel kinds (R1.1) and the link texts that reveal them.
pub const CHANNELS: [(&str, &[&str]); 4] = [
    (
        "mailbox",
        &[
            "领导信箱",
            "书记信箱",
            "市长信箱",
            "县长信箱",
            "区长信箱",
            "州长信箱",
            "旗长信箱",
            "省长信箱",
            "局长信箱",
            "主任信箱",
        ],
    ),
    (
        "message",
        &[
            "在线留言",
            "网上留言",
            "留言板",
            "我要留言",
            "留言咨询",
            "在线咨询",
            "网上咨询",
            "我要咨询",
            "政务咨询",
        ],
    ),
    ("hotline", &["12345"]),
    ("complaint", &["投诉", "举报"]),
];

/// Title key for matching one message on its list page and on its detail page: list titles
/// are often cut with an ellipsis, so the first 12 characters decide.
fn title_key(t: &str) -> String {
    t.trim()
        .trim_end_matches(['.', '…'])
        .chars()
        .filter(|c| !c.is_whitespace())
        .take(12)
        .collect()
}

/// One message after merging its list row and detail page.
#[derive(Debug, Clone, PartialEq)]
struct Merged {
    msg: Message,
    page: usize,
}

fn merge_messages(docs: &[&PageDoc]) -> Vec<Merged> {
    let mut by_key: BTreeMap<(Date, String), usize> = BTreeMap::new();
    let mut out: Vec<Merged> = Vec::new();
    for d in docs {
        for m in &d.messages {
            let key = (m.submitted, title_key(&m.title));
            match by_key.get(&key) {
                Some(&i) => {
                    let e = &mut out[i].msg;
                    e.answered |= m.answered;
                    if e.replied_on.is_none() {
                        e.replied_on = m.replied_on;
                    }
                }
                None => {
                    by_key.insert(key, out.len());
                    out.push(Merged {
                        msg: m.clone(),
                        page: d.page,
                    });
                }
            }
        }
    }
    out
}

/// Reply rate (0–1) of the messages listed on the site's 领导信箱 / 留言板 pages: answered
/// messages (a reply date or an answered status) over all listed messages; a listed message
/// with neither counts as unanswered. One message seen on its list and detail pages counts
/// once. Details: messages, median / p90 / max reply days (numpy-linear percentiles), the
/// oldest unanswered message's age at `as_of`, and the counts behind the 3-month veto rule.
pub fn message_board(a: &Analysis, cfg: &CheckConfig) -> Finding {
    const CHECK: &str = "message_board";
    if let Some(r) = a.no_content_reason() {
        return a.cannot(CHECK, &r);
    }
    let boards: Vec<&PageDoc> = a
        .content_docs()
        .filter(|d| !d.messages.is_empty())
        .collect();
    let msgs = merge_messages(&boards);
    if msgs.is_empty() {
        let linked = a.content_docs().any(|d| {
            d.controls.iter().any(|t| {
                CHANNELS[..2]
                    .iter()
                    .any(|(_, ws)| ws.iter().any(|w| t.contains(w)))
            })
        });
        return a.cannot(
            CHECK,
            if linked {
                "a message board is linked but no dated messages were found on the fetched pages"
            } else {
                "no message board found"
            },
        );
    }
    let answered = msgs.iter().filter(|m| m.msg.answered).count();
    let mut reply_days: Vec<f64> = msgs
        .iter()
        .filter_map(|m| m.msg.replied_on.map(|r| m.msg.submitted.days_until(r)))
        .filter(|d| *d >= 0)
        .map(|d| d as f64)
        .collect();
    reply_days.sort_by(f64::total_cmp);
    let inconsistent = msgs
        .iter()
        .filter(|m| m.msg.replied_on.is_some_and(|r| r < m.msg.submitted))
        .count();
    let age = |m: &Merged| a.as_of.map(|t| m.msg.submitted.days_until(t));
    let in_window =
        |m: &Merged| age(m).is_some_and(|x| (0..=cfg.unanswered_window_days).contains(&x));
    let oldest_unanswered = msgs
        .iter()
        .filter(|m| !m.msg.answered)
        .filter_map(age)
        .max();
    let unanswered_over: Vec<&Merged> = msgs
        .iter()
        .filter(|m| {
            !m.msg.answered && in_window(m) && age(m).is_some_and(|x| x > cfg.unanswered_days)
        })
        .collect();
    let late: Vec<&Merged> = msgs
        .iter()
        .filter(|m| {
            in_window(m)
                && m.msg
                    .replied_on
                    .is_some_and(|r| m.msg.submitted.days_until(r) > cfg.unanswered_days)
        })
        .collect();
    let brief = |m: &&Merged| json!({ "title": m.msg.title, "submitted": m.msg.submitted.to_string(), "page": a.page(m.page).final_url });
    let details = json!({
        "boards": boards.iter().map(|d| d.url.clone()).collect::<Vec<_>>(),
        "messages": msgs.len(),
        "answered": answered,
        "unanswered": msgs.len() - answered,
        "with_reply_date": reply_days.len(),
        "median_reply_days": percentile(&reply_days, 50.0),
        "p90_reply_days": percentile(&reply_days, 90.0),
        "max_reply_days": reply_days.last(),
        "oldest_unanswered_days": oldest_unanswered,
        "unanswered_over_limit": unanswered_over.len(),
        "late_replies": late.len(),
        "limit_days": cfg.unanswered_days,
        "overdue": unanswered_over.iter().chain(late.iter()).take(20).map(brief).collect::<Vec<_>>(),
        "reply_before_submit": inconsistent,
        "as_of": a.as_of.map(|d| d.to_string()),
    });
    a.finding(
        CHECK,
        boards[0].url.clone(),
        json!(answered as f64 / msgs.len() as f64),
        details,
        a.evidence(boards.iter().map(|d| d.page)),
    )
}

/// Number of intake channel kinds found (0–4): a leader's mailbox (领导信箱, 市长信箱 …), an
/// online message board (在线留言, 在线咨询 …), the 12345 hotline, a complaint / report
/// channel (投诉, 举报). Read from link and button texts on every fetched page.
pub fn intake_channels(a: &Analysis, _cfg: &CheckConfig) -> Finding {
    const CHECK: &str = "intake_channels";
    if let Some(r) = a.no_content_reason() {
        return a.cannot(CHECK, &r);
    }
    let mut found: BTreeMap<&str, Vec<Value>> = BTreeMap::new();
    let mut pages = Vec::new();
    for d in a.content_docs() {
        for t in &d.controls {
            for (kind, words) in CHANNELS.iter() {
                if words.iter().any(|w| t.contains(w)) {
                    let list = found.entry(kind).or_default();
                    let v = json!({ "text": t, "page": d.url });
                    if !list.iter().any(|x| x["text"] == v["text"]) {
                        list.push(v);
                        pages.push(d.page);
                    }
                }
            }
        }
    }
    let kinds: Vec<&str> = CHANNELS
        .iter()
        .map(|(k, _)| *k)
        .filter(|k| found.contains_key(k))
        .collect();
    if pages.is_empty() {
        pages = a.content_docs().map(|d| d.page).collect();
    }
    pages.sort_unstable();
    a.finding(
        CHECK,
        a.home_url(),
        json!(kinds.len()),
        json!({ "kinds": kinds, "found": found }),
        a.evidence(pages),
    )
}
