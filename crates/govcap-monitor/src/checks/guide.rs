//! `service_guide`: completeness of the 办事指南 pages found.

use super::doc::{FieldState, PageDoc, GUIDE_FIELDS};
use super::{Analysis, CheckConfig};
use crate::model::Finding;
use serde_json::json;
use std::collections::BTreeMap;

/// A page is a guide when it prints at least two of the six field labels, or one label and
/// says 办事指南 / 服务指南 in its title or heading (a guide missing most fields is still one).
pub fn is_guide(d: &PageDoc) -> bool {
    let named = ["办事指南", "服务指南"]
        .iter()
        .any(|w| d.title.contains(w) || d.h1.contains(w));
    let labels = d.guide_labels();
    labels >= 2 || (named && labels >= 1)
}

/// Mean share (0–1) of the six required fields (办理依据, 申请材料, 办理流程, 办理时限,
/// 收费标准, 咨询电话, with their usual label variants) present with a value, over the guide
/// pages found. A label printed with an empty value counts as missing.
pub fn service_guide(a: &Analysis, _cfg: &CheckConfig) -> Finding {
    const CHECK: &str = "service_guide";
    if let Some(r) = a.no_content_reason() {
        return a.cannot(CHECK, &r);
    }
    let guides: Vec<&PageDoc> = a
        .content_docs()
        .filter(|d| Some(d.page) != a.home && is_guide(d))
        .collect();
    if guides.is_empty() {
        return a.cannot(CHECK, "no 办事指南 page found among the fetched pages");
    }
    let mut missing_counts: BTreeMap<&str, usize> = BTreeMap::new();
    let mut per_guide = Vec::new();
    let mut sum = 0.0;
    for g in &guides {
        let missing: Vec<&str> = GUIDE_FIELDS
            .iter()
            .zip(g.guide_fields.iter())
            .filter(|(_, s)| **s != FieldState::Present)
            .map(|((name, _), _)| *name)
            .collect();
        for m in &missing {
            *missing_counts.entry(m).or_default() += 1;
        }
        let share = (GUIDE_FIELDS.len() - missing.len()) as f64 / GUIDE_FIELDS.len() as f64;
        sum += share;
        per_guide
            .push(json!({ "url": g.url, "title": g.title, "share": share, "missing": missing }));
    }
    a.finding(
        CHECK,
        guides[0].url.clone(),
        json!(sum / guides.len() as f64),
        json!({
            "guides": guides.len(),
            "fields": GUIDE_FIELDS.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
            "missing_fields": missing_counts,
            "per_guide": per_guide,
        }),
        a.evidence(guides.iter().map(|d| d.page)),
    )
}
