//! What an evaluated unit sees of a campaign once the lead opens the provisional results: its
//! own values, evidence and provisional scores, and its appeals. Nothing here reveals another
//! unit's unpublished data: every function filters to the caller's units before returning.

use super::*;

/// The caller's view of a campaign's first codings: a unit's representative sees its own
/// units' only, and nothing before appeals open (404, as if the campaign did not exist); the
/// team sees all.
pub async fn visible_values(
    state: &AppState,
    caller: &Caller,
    id: i64,
) -> Result<(Setup, Vec<TaskView>), Problem> {
    caller.require(Action::ReadTasks)?;
    let s = load(state, id).await?;
    let mut all = tasks(state, id, &TaskFilter::default()).await?;
    all.retain(|t| t.coder == 1);
    if caller.role == Some(Role::Unit) {
        if s.campaign.phase == "entry" {
            return Err(Problem::not_found(format!("campaign {id}")));
        }
        let mine = own_units(caller);
        all.retain(|t| mine.contains(&t.unit));
    }
    Ok((s, all))
}

/// The unit codes a representative speaks for (empty for the team).
pub fn own_units(caller: &Caller) -> Vec<String> {
    caller
        .user
        .as_ref()
        .map(|u| u.units.clone())
        .unwrap_or_default()
}

/// One unit's provisional result: its scores on the framework's upper levels.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ProvisionalUnit {
    pub code: String,
    pub name: String,
    /// Total points (0–100 on the built-in framework).
    pub total: Option<f64>,
    pub rank: Option<usize>,
    /// Units ranked.
    pub of: usize,
    pub tier: Option<String>,
    pub sublevel: Option<String>,
    /// Scores of the dimensions and their sub-dimensions (depth 1 and 2), in tree order.
    pub nodes: Vec<ProvisionalNode>,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ProvisionalNode {
    pub id: String,
    pub name_zh: String,
    pub depth: usize,
    pub points: Option<f64>,
    pub max_points: f64,
}

/// The provisional results the caller may see: the run computed when appeals opened (`None`
/// when the campaign has none: appeals not opened yet, or nothing was confirmed then).
pub async fn provisional(
    state: &AppState,
    caller: &Caller,
    id: i64,
) -> Result<Option<(i64, Vec<ProvisionalUnit>)>, Problem> {
    let (s, _) = visible_values(state, caller, id).await?;
    let Some(run_id) = s.campaign.provisional_run_id else {
        return Ok(None);
    };
    let run = crate::runs::load(state, run_id).await?;
    let ev = &run.evaluation;
    let mine = own_units(caller);
    let team = caller.role != Some(Role::Unit);
    let of = ev.units.iter().filter(|u| u.rank.is_some()).count();
    let out = ev
        .units
        .iter()
        .filter(|u| team || mine.contains(&u.code))
        .map(|u| ProvisionalUnit {
            code: u.code.clone(),
            name: u.name.clone(),
            total: u.total,
            rank: u.rank,
            of,
            tier: u.tier.clone(),
            sublevel: u.sublevel.clone(),
            nodes: ev
                .nodes
                .iter()
                .zip(&u.scores)
                .filter(|(n, _)| (1..=2).contains(&n.depth))
                .map(|(n, sc)| ProvisionalNode {
                    id: n.id.clone(),
                    name_zh: n.name_zh.clone(),
                    depth: n.depth,
                    points: sc.points,
                    max_points: n.points,
                })
                .collect(),
        })
        .collect();
    Ok(Some((run_id, out)))
}

/// Appeals of the caller's visible values, newest first.
pub fn appeals_of(values: &[TaskView]) -> Vec<(&TaskView, &AppealView)> {
    let mut out: Vec<(&TaskView, &AppealView)> = values
        .iter()
        .filter_map(|t| t.appeal.as_ref().map(|a| (t, a)))
        .collect();
    out.sort_by_key(|x| std::cmp::Reverse(x.1.id));
    out
}

/// Whether the unit may still appeal in this campaign (phase and deadline).
pub fn appeals_open(c: &Campaign) -> bool {
    c.phase == "appeals"
        && c.appeal_deadline
            .as_deref()
            .is_none_or(|d| crate::clock::now().as_str() <= d)
}
