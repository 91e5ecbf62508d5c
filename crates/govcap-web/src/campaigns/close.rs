//! Closing a campaign: progress counts, the observations file of its run, the recorded run
//! itself, and the agreement of the double-coded sample.

use super::*;

/// Counts by status, for progress.
pub fn progress(tasks: &[TaskView]) -> HashMap<&'static str, usize> {
    let mut m = HashMap::new();
    for t in tasks.iter().filter(|t| t.coder == 1) {
        let k = if t.disputed {
            "disputed"
        } else {
            t.state.status.as_str()
        };
        *m.entry(k).or_insert(0) += 1;
    }
    m
}

/// The observations file of the campaign's run: the attached monitor run's values of the
/// automated leaves (unit-list and tree order), then the confirmed value of every first coding
/// (task order); long format, UTF-8, so the same values always give the same bytes.
pub fn observations_csv(s: &Setup, tasks: &[TaskView], monitor: &Proposals) -> String {
    let mut out = String::from(govcap_io::export::csv_bom());
    out.push_str("unit,indicator,year,value,source,evaluator,evidence_url,observed_at,note\n");
    let auto_leaves: Vec<&str> =
        s.fw.leaves()
            .into_iter()
            .filter_map(|i| {
                let n = &s.fw.nodes[i];
                matches!(
                    n.leaf.as_ref()?.collection,
                    govcap_core::framework::Collection::Auto
                )
                .then_some(n.id.as_str())
            })
            .collect();
    for u in s.units.units() {
        for l in &auto_leaves {
            let key = (u.code.clone(), l.to_string());
            let Some(p) = monitor.get(&key).filter(|p| p.source == "auto") else {
                continue;
            };
            let cells = [
                u.code.clone(),
                l.to_string(),
                s.campaign.year.to_string(),
                p.value.clone(),
                "auto".to_string(),
                String::new(),
                p.evidence_url.clone().unwrap_or_default(),
                p.observed_at.clone().unwrap_or_default(),
                p.note.clone().unwrap_or_default(),
            ];
            let line: Vec<String> = cells.iter().map(|c| csv_quote(c)).collect();
            out.push_str(&line.join(","));
            out.push('\n');
        }
    }
    for t in tasks
        .iter()
        .filter(|t| t.coder == 1 && t.state.status == Status::Confirmed)
    {
        let cells = [
            t.unit.clone(),
            t.indicator.clone(),
            s.campaign.year.to_string(),
            t.state.value.clone().unwrap_or_default(),
            "manual".to_string(),
            t.state.entered_by.clone().unwrap_or_default(),
            t.evidence_url.clone().unwrap_or_default(),
            String::new(),
            String::new(),
        ];
        let line: Vec<String> = cells.iter().map(|c| csv_quote(c)).collect();
        out.push_str(&line.join(","));
        out.push('\n');
    }
    out
}

pub(crate) fn csv_quote(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

pub(crate) fn sha256_hex(b: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(b)
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

/// Closes a frozen campaign: its confirmed values become the observations file of a recorded
/// run, evaluated by the same engine and recorded the same way as `govcap evaluate
/// --observations FILE --year Y` on that file (the file is stored with the run, so
/// `govcap runs rerun` reproduces it byte for byte).
pub async fn compute_run(state: &AppState, caller: &Caller, id: i64) -> Result<i64, Problem> {
    caller.require(Action::ManageCampaigns)?;
    let s = load(state, id).await?;
    if s.campaign.phase != "frozen" {
        return Err(Problem::conflict(format!(
            "the campaign is {}: freeze it first (POST /api/v1/campaigns/{id}/freeze)",
            s.campaign.phase
        )));
    }
    let all = tasks(state, id, &TaskFilter::default()).await?;
    let monitor = proposals(state, &s).await?;
    let csv = observations_csv(&s, &all, &monitor);
    if csv.lines().count() < 2 {
        return Err(Problem::conflict(
            "no value is confirmed yet: there is nothing to evaluate",
        ));
    }
    let name = observations_file_name(id);
    let actor = Actor::of(caller);
    let label = s.campaign.name.clone();
    let run = tokio::task::spawn_blocking(move || recorded_run(&s, csv, name, label))
        .await
        .map_err(|_| Problem::internal())??;
    let run_id = state
        .pool
        .with(move |st| {
            let rid = st.save_run(&run)?;
            govcap_store::transact(st, true, |tx| {
                campaigns::set_phase(tx, id, "closed", None, Some(rid))?;
                audit::record(
                    tx,
                    &actor,
                    "campaign.run",
                    &format!("campaign/{id}"),
                    Some(json!({"phase": "frozen"})),
                    Some(json!({"phase": "closed", "run_id": rid, "results_sha256": run.results_sha256})),
                )?;
                Ok(())
            })?;
            Ok(rid)
        })
        .await?;
    Ok(run_id)
}

/// The run an observations file gives for this campaign, built exactly as `govcap evaluate
/// --observations FILE --year Y` records that file (the same reader, engine and inputs).
fn recorded_run(
    s: &Setup,
    csv: String,
    name: String,
    label: String,
) -> Result<govcap_store::NewRun, Problem> {
    let dir = tempfile_dir()?;
    let path = dir.join(&name);
    let written = std::fs::write(&path, csv.as_bytes());
    let mut params = govcap_core::evaluate::Params::new(s.campaign.year);
    params.tiers = govcap_core::tiers::TierParams::default();
    let opts = govcap_io::ImportOptions {
        year: Some(params.year),
        ..Default::default()
    };
    let read = written.map_err(|_| Problem::internal()).and_then(|()| {
        govcap_io::read_observations(&path, &s.fw, &s.units, &opts)
            .map_err(|e| Problem::new(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))
    });
    // The folder goes whatever happened: a refused file leaves nothing behind.
    let _ = std::fs::remove_dir_all(&dir);
    let obs = read?;
    let evaluation = govcap_core::evaluate::evaluate(&s.fw, &s.units, &obs, &params)
        .map_err(|e| Problem::new(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))?;
    let results_json =
        govcap_io::export::json_text(&evaluation).map_err(|_| Problem::internal())?;
    Ok(govcap_store::NewRun {
        label,
        year: s.campaign.year,
        created_at: crate::clock::now(),
        software_version: env!("CARGO_PKG_VERSION").into(),
        framework_id: evaluation.framework.id.clone(),
        framework_version: evaluation.framework.version.clone(),
        framework_sha256: sha256_hex(s.campaign.framework_toml.as_bytes()),
        framework_toml: s.campaign.framework_toml.clone(),
        params_json: serde_json::to_string(&params).map_err(|_| Problem::internal())?,
        synthetic: evaluation.synthetic,
        previous_run: None,
        results_sha256: sha256_hex(results_json.as_bytes()),
        results_json,
        inputs: vec![
            govcap_store::RunInput {
                role: "units".into(),
                name: if s.campaign.units_csv == govcap_io::units::DEFAULT_UNITS_CSV {
                    govcap_io::BUILTIN_UNITS.into()
                } else {
                    format!("campaign-{}-units.csv", s.campaign.id)
                },
                sha256: sha256_hex(s.campaign.units_csv.as_bytes()),
                bytes: s.campaign.units_csv.as_bytes().to_vec(),
            },
            govcap_store::RunInput {
                role: "observations".into(),
                name,
                sha256: sha256_hex(csv.as_bytes()),
                bytes: csv.into_bytes(),
            },
        ],
    })
}

/// The provisional run of a campaign opening its appeals: the values confirmed so far (and
/// the monitor's automated ones), or `None` when no value is confirmed yet.
pub(crate) async fn provisional_run(
    state: &AppState,
    s: Setup,
) -> Result<Option<govcap_store::NewRun>, Problem> {
    let id = s.campaign.id;
    let all = tasks(state, id, &TaskFilter::default()).await?;
    let monitor = proposals(state, &s).await?;
    let csv = observations_csv(&s, &all, &monitor);
    if csv.lines().count() < 2 {
        return Ok(None);
    }
    let name = format!("campaign-{id}-provisional-observations.csv");
    let label = format!("{}（初步结果）", s.campaign.name);
    tokio::task::spawn_blocking(move || recorded_run(&s, csv, name, label).map(Some))
        .await
        .map_err(|_| Problem::internal())?
}

pub fn observations_file_name(id: i64) -> String {
    format!("campaign-{id}-observations.csv")
}

pub(crate) fn tempfile_dir() -> Result<std::path::PathBuf, Problem> {
    let d = std::env::temp_dir().join(format!("govcap-campaign-{}", crate::auth::random_secret()));
    std::fs::create_dir_all(&d).map_err(|_| Problem::internal())?;
    Ok(d)
}

/// Agreement per indicator on the double-coded sample: Cohen's kappa for binary and graded
/// leaves, Krippendorff's alpha (interval) for the others, over pairs where both codings have
/// a value that the rule reads.
pub fn agreement(s: &Setup, all: &[TaskView]) -> Vec<serde_json::Value> {
    use govcap_core::campaign::agreement::{cohen_kappa, krippendorff_alpha_interval};
    use govcap_core::framework::Rule;
    let mut pairs: HashMap<(String, String), [Option<String>; 2]> = HashMap::new();
    for t in all {
        let e = pairs
            .entry((t.unit.clone(), t.indicator.clone()))
            .or_default();
        e[(t.coder as usize).clamp(1, 2) - 1] = t.state.value.clone();
    }
    let mut out = Vec::new();
    for i in s.fw.leaves() {
        let n = &s.fw.nodes[i];
        let Some(leaf) = &n.leaf else { continue };
        let mut vals: Vec<(f64, f64)> = Vec::new();
        for ((_, ind), [a, b]) in &pairs {
            if ind != &n.id {
                continue;
            }
            if let (Some(a), Some(b)) = (a, b) {
                let ra = read_value(&leaf.rule, &Value::from_cell(a));
                let rb = read_value(&leaf.rule, &Value::from_cell(b));
                if let (Ok(x), Ok(y)) = (ra, rb) {
                    vals.push((x, y));
                }
            }
        }
        if vals.is_empty() {
            continue;
        }
        vals.sort_by(|p, q| p.partial_cmp(q).unwrap_or(std::cmp::Ordering::Equal));
        let (stat, value) = match leaf.rule {
            Rule::Binary | Rule::Graded { .. } => {
                // Categories as exact integers of the read fraction (levels are k/(m−1)).
                let cats: Vec<(i64, i64)> = vals
                    .iter()
                    .map(|(x, y)| ((x * 1e6).round() as i64, (y * 1e6).round() as i64))
                    .collect();
                ("cohen_kappa", cohen_kappa(&cats).map(|k| k.kappa))
            }
            _ => {
                let units: Vec<Vec<Option<f64>>> =
                    vals.iter().map(|(x, y)| vec![Some(*x), Some(*y)]).collect();
                (
                    "krippendorff_alpha_interval",
                    krippendorff_alpha_interval(&units).map(|a| a.alpha),
                )
            }
        };
        let agree = vals.iter().filter(|(x, y)| (x - y).abs() < 1e-12).count();
        out.push(json!({
            "indicator": n.id,
            "name_zh": n.name_zh,
            "rule": leaf.rule.name(),
            "pairs": vals.len(),
            "percent_agreement": agree as f64 / vals.len() as f64,
            "statistic": stat,
            "value": value.filter(|v| v.is_finite()),
        }));
    }
    out
}
