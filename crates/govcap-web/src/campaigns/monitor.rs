//! A campaign's monitor run: automated values and hybrid proposals.

use super::*;

/// What the monitor found for one unit and leaf: the value of an automated leaf, or the
/// starting point an evaluator confirms or overrides for a hybrid one (never a final value).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Proposal {
    pub value: String,
    /// `auto` or `proposed`.
    pub source: &'static str,
    pub evidence_url: Option<String>,
    pub observed_at: Option<String>,
    /// The checks and WARC records the value rests on.
    pub note: Option<String>,
}

pub type Proposals = HashMap<(String, String), Proposal>;

/// The campaign's monitor run as observations (cached per monitor run).
pub async fn proposals(state: &AppState, s: &Setup) -> Result<Arc<Proposals>, Problem> {
    let Some(mid) = s.campaign.monitor_run_id else {
        return Ok(Arc::new(HashMap::new()));
    };
    if let Some(p) = state
        .caches
        .proposals
        .lock()
        .ok()
        .and_then(|c| c.get(&mid).cloned())
    {
        return Ok(p);
    }
    let year = s.campaign.year;
    let map = state
        .pool
        .with(move |st| {
            let run = st
                .list_monitor_runs()?
                .into_iter()
                .find(|r| r.id == mid)
                .ok_or_else(|| StoreError::NotFound(format!("monitor run {mid}")))?;
            let findings: Vec<govcap_monitor::model::Finding> = st
                .monitor_findings_since(&run.started_at)?
                .into_iter()
                .filter(|f| f.run_id == mid)
                .map(|f| govcap_monitor::model::Finding {
                    code: f.finding.code,
                    url: f.finding.url,
                    check: f.finding.check,
                    value: serde_json::from_str(&f.finding.value_json)
                        .unwrap_or(serde_json::Value::Null),
                    details: serde_json::from_str(&f.finding.details_json)
                        .unwrap_or(serde_json::Value::Null),
                    evidence: f.finding.evidence,
                })
                .collect();
            let obs = govcap_monitor::observations::to_observations(&findings, year, &run.as_of);
            let mut map = Proposals::new();
            for o in obs {
                let source = match o.source {
                    govcap_core::observation::Source::Auto => "auto",
                    govcap_core::observation::Source::Proposed => "proposed",
                    _ => continue,
                };
                let value = match &o.value {
                    Value::Number(n) => n.to_string(),
                    Value::Text(t) => t.to_string(),
                };
                map.insert(
                    (o.unit.clone(), o.indicator.clone()),
                    Proposal {
                        value,
                        source,
                        evidence_url: o.evidence_url.as_deref().map(str::to_string),
                        observed_at: o.observed_at.clone(),
                        note: o.note.clone(),
                    },
                );
            }
            Ok(map)
        })
        .await?;
    let map = Arc::new(map);
    if let Ok(mut c) = state.caches.proposals.lock() {
        if c.len() > 16 {
            c.clear();
        }
        c.insert(mid, Arc::clone(&map));
    }
    Ok(map)
}
