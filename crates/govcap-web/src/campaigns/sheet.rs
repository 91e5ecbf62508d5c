//! The evaluator's spreadsheet: download one's tasks, upload the filled sheet (all or nothing).

use super::*;

/// The caller's tasks of a campaign as the evaluator's spreadsheet (a lead may name another
/// evaluator).
pub async fn sheet(
    state: &AppState,
    caller: &Caller,
    id: i64,
    assignee: Option<String>,
) -> Result<Vec<u8>, Problem> {
    caller.require(Action::TaskSheet)?;
    let who = match assignee {
        Some(a) if a != caller.name() => {
            caller.require(Action::ManageCampaigns)?;
            a
        }
        _ => caller.name().to_string(),
    };
    let s = load(state, id).await?;
    let mine = tasks(
        state,
        id,
        &TaskFilter {
            assignee: Some(who.clone()),
            ..Default::default()
        },
    )
    .await?;
    let rows: Vec<govcap_io::task_sheet::SheetTask> = mine
        .iter()
        .filter_map(|t| {
            let n = s.fw.nodes.iter().find(|n| n.id == t.indicator)?;
            let leaf = n.leaf.as_ref()?;
            Some(govcap_io::task_sheet::SheetTask {
                id: t.id,
                version: t.state.version,
                unit: t.unit.clone(),
                unit_name: s
                    .units
                    .get(&t.unit)
                    .map(|u| u.name.clone())
                    .unwrap_or_default(),
                indicator: t.indicator.clone(),
                indicator_name: n.name_zh.clone(),
                rule: leaf.rule.clone(),
                scoring: leaf.scoring.clone(),
                status: t.state.status.as_str().into(),
                value: t.state.value.clone().unwrap_or_default(),
                evidence_url: t.evidence_url.clone().unwrap_or_default(),
                note: t.note.clone().unwrap_or_default(),
            })
        })
        .collect();
    let note = format!(
        "{}（{} 年）· 评估员 {} · {} 项任务",
        s.campaign.name,
        s.campaign.year,
        who,
        rows.len()
    );
    tokio::task::spawn_blocking(move || govcap_io::task_sheet::write_task_sheet(&rows, &note))
        .await
        .map_err(|_| Problem::internal())?
        .map_err(|_| Problem::internal())
}

/// Imports a filled sheet: every row is checked (the task is the caller's, its version is
/// current, the rule reads the value, the evidence is a URL) before anything is written; any
/// problem refuses the whole file with every problem located. Returns how many values changed.
pub async fn import_sheet(
    state: &AppState,
    caller: &Caller,
    id: i64,
    bytes: Vec<u8>,
    file: &str,
) -> Result<usize, Problem> {
    caller.require(Action::EnterValues)?;
    let s = load(state, id).await?;
    if !matches!(s.campaign.phase.as_str(), "entry" | "appeals") {
        return Err(Problem::conflict(format!(
            "the campaign is {}: values can no longer change",
            s.campaign.phase
        )));
    }
    let name = file.to_string();
    let rows =
        tokio::task::spawn_blocking(move || govcap_io::task_sheet::read_task_sheet(&bytes, &name))
            .await
            .map_err(|_| Problem::internal())?;
    let refuse = |errors: Vec<String>| {
        let mut p = Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("{file}: {} problem(s); nothing was saved", errors.len()),
        );
        p.errors = Some(errors);
        p
    };
    let rows = rows.map_err(|e| match e {
        govcap_io::ImportError::Invalid { problems, .. } => {
            refuse(problems.iter().map(|p| p.to_string()).collect())
        }
        other => Problem::new(StatusCode::UNPROCESSABLE_ENTITY, other.to_string()),
    })?;
    let me = caller.name().to_string();
    let mine = tasks(
        state,
        id,
        &TaskFilter {
            assignee: Some(me.clone()),
            ..Default::default()
        },
    )
    .await?;
    let by_id: HashMap<i64, &TaskView> = mine.iter().map(|t| (t.id, t)).collect();
    let value_col = govcap_io::task_sheet::HEADER[8];
    let mut errors = Vec::new();
    let mut writes: Vec<(TaskView, String, Option<String>, Option<String>)> = Vec::new();
    for r in &rows {
        let at = |col: &str, msg: String| format!("row {}, column {col:?}: {msg}", r.row);
        let Some(t) = by_id.get(&r.task) else {
            errors.push(at(
                govcap_io::task_sheet::HEADER[0],
                format!("task {} is not one of your tasks in this campaign", r.task),
            ));
            continue;
        };
        let unchanged = t.state.value.as_deref() == Some(r.value.as_str())
            && t.evidence_url == r.evidence_url
            && t.note == r.note;
        if unchanged {
            continue;
        }
        if let Err(e) = state::may_enter(&t.state, &me, r.version) {
            errors.push(at(value_col, e.to_string()));
            continue;
        }
        let rule =
            s.fw.nodes
                .iter()
                .find(|n| n.id == t.indicator)
                .and_then(|n| n.leaf.as_ref())
                .map(|l| l.rule.clone());
        if let Some(rule) = rule {
            if let Err(e) = read_value(&rule, &Value::from_cell(&r.value)) {
                errors.push(at(
                    value_col,
                    format!("indicator {} ({} rule): {e}", t.indicator, rule.name()),
                ));
                continue;
            }
        }
        if let Some(u) = &r.evidence_url {
            if check_url(u).is_err() {
                errors.push(at(
                    govcap_io::task_sheet::HEADER[9],
                    "an http(s) URL of at most 2000 characters".into(),
                ));
                continue;
            }
        }
        writes.push((
            (*t).clone(),
            r.value.clone(),
            r.evidence_url.clone(),
            r.note.clone(),
        ));
    }
    if !errors.is_empty() {
        return Err(refuse(errors));
    }
    let n = writes.len();
    let actor = Actor::of(caller);
    state
        .pool
        .tx(true, move |tx| {
            let now = crate::clock::now();
            for (t, value, ev, note) in &writes {
                let e = Event::Entered {
                    by: actor.name.clone(),
                    value: value.clone(),
                    confidence: None,
                };
                append(tx, t.id, t.state.version, &now, &actor.name, &e, ev.as_deref(), note.as_deref())?;
                audit::record(
                    tx,
                    &actor,
                    "task.value",
                    &format!("task/{}", t.id),
                    Some(task_json(t)),
                    Some(json!({"event": e, "value": value, "version": t.state.version + 1, "evidence_url": ev, "note": note, "via": "spreadsheet"})),
                )?;
            }
            Ok(())
        })
        .await?;
    Ok(n)
}
